"""Fixtures of the services tests: a 市场监管局 and a 政务服务中心, and a matter's guide to build on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from countyos.core.actor import Actor
from countyos.org.service import uscc
from countyos.services.schemas import MatterIn
from tests import factories

ADMIN = Actor(id=None, name="factory", permissions=frozenset({"services.catalogue.manage"}))
BODY_USCC = "11331123" + "000000" + "101"
BODY_USCC = BODY_USCC + uscc.check_char(BODY_USCC)


@dataclass
class Shop:
    market: int  # 县市场监督管理局
    centre: int  # 县政务服务中心


@pytest.fixture
def shop(db) -> Shop:
    return Shop(
        market=factories.department(db, "测试市场监督管理局"),
        centre=factories.department(db, "测试政务服务中心"),
    )


def guide(shop: Shop | None = None, **changes: Any) -> MatterIn:
    """A 食品经营许可 guide with two steps and two materials; CHANGES override fields."""
    data: dict[str, Any] = {
        "code": "11331123MB0000001-001",
        "basic_code": "0000112001",
        "name": "食品经营许可（新办）",
        "matter_type": "licensing",
        "level": "county",
        "body_name": "测试市场监督管理局",
        "body_uscc": BODY_USCC,
        "body_nature": "statutory",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "legal_limit": 20,
        "legal_limit_unit": "working_days",
        "promised_limit": 5,
        "promised_limit_unit": "working_days",
        "accept_conditions": "有与经营的食品品种、数量相适应的经营场所",
        "application_kind": "promised",
        "audiences": ["enterprise", "other_org"],
        "handling_forms": ["window", "online_pc"],
        "visits": 0,
        "place": "县政务服务中心二楼 12 号窗口",
        "hours": "工作日 8:30-12:00，13:30-17:30",
        "consult_phone": "0578-8123456",
        "supervise_phone": "12345",
        "charged": False,
        "result_name": "食品经营许可证",
        "theme": "市场准入",
        "online": True,
        "department_id": shop.market if shop else None,
        "steps": [
            {"name": "受理", "department_id": shop.centre if shop else None, "time_share": 20},
            {"name": "审查决定", "department_id": shop.market if shop else None, "time_share": 80},
        ],
        "materials": [
            {"name": "食品经营许可申请书", "issuer": "申请人", "required": True, "originals": 1, "copies": 0},
            {
                "name": "营业执照",
                "issuer": "市场监督管理部门",
                "required": True,
                "originals": 0,
                "copies": 1,
                "note": "核验原件",
            },
        ],
    }
    data.update(changes)
    return MatterIn.model_validate(data)
