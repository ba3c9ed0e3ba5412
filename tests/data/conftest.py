"""Fixtures of the data tests: a provider department (市场监管局) with its data staff, the data bureau's
catalogue administrator, and a catalogue entry to build on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from countyos.core.actor import Actor
from countyos.data.schemas import ResourceIn
from tests import factories


@dataclass
class Office:
    market: int  # the provider department
    other: int  # another department
    provider: factories.Person
    bureau: factories.Person

    def provider_actor(self) -> Actor:
        return Actor(
            id=self.provider.id,
            name="provider",
            permissions=frozenset({"data.catalogue.manage"}),
            department_id=self.market,
        )


BUREAU = Actor(id=None, name="bureau", permissions=frozenset({"data.catalogue.review", "data.catalogue.manage"}))


@pytest.fixture
def office(db) -> Office:
    market = factories.department(db, "测试市场监督管理局")
    other = factories.department(db, "测试教育局")
    bureau_dept = factories.department(db, "测试大数据发展管理局")
    return Office(
        market=market,
        other=other,
        provider=factories.person(db, ["data_provider"], department_id=market),
        bureau=factories.person(db, ["data_bureau"], department_id=bureau_dept),
    )


def entry(provider_id: int, **changes: Any) -> ResourceIn:
    """企业登记信息: open, four items, quality rules on the credit code and the date."""
    data: dict[str, Any] = {
        "name": "qiye-dengji",
        "code": "331123-SCJG-0001",
        "title": "企业登记信息",
        "summary": "本县登记在册的企业名称、统一社会信用代码、成立日期和住所",
        "class_1": "基础信息",
        "class_2": "法人单位",
        "provider_id": provider_id,
        "format": "电子表格",
        "share_type": "unconditional",
        "open_type": "unconditional",
        "update_cycle": "monthly",
        "keywords": ["企业", "登记"],
        "themes": ["市场监管"],
        "items": [
            {"name": "name", "label": "企业名称", "type": "text", "open": True, "is_key": False},
            {"name": "uscc", "label": "统一社会信用代码", "type": "text", "open": True, "is_key": True},
            {"name": "founded", "label": "成立日期", "type": "date", "open": True},
            {"name": "legal_person", "label": "法定代表人", "type": "text", "open": False, "sensitive": True},
        ],
        "rules": [
            {"kind": "not_null", "column": "name"},
            {"kind": "uscc", "column": "uscc"},
            {"kind": "unique", "column": "uscc"},
        ],
    }
    data.update(changes)
    return ResourceIn.model_validate(data)
