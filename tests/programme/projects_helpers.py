"""Fixtures of the projects tests: the programme office, a valid credit code, an operating company, a
project and a contract to build on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.org.service import uscc
from countyos.programme.models.projects import OrgKind, ProjectKind
from countyos.programme.schemas.projects import ContractIn, OrgIn, ProjectIn
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts
from tests import factories

API = "/api/v1/programme"
OFFICE = Actor(id=None, name="office", permissions=frozenset({"programme.read", "programme.manage"}))


def credit_code(n: int) -> str:
    first = f"91331123MA2{n:06d}"[:17]
    return first + uscc.check_char(first)


@dataclass
class World:
    org_id: int
    vendor_id: int
    project_id: int
    contract_id: int


def org_in(n: int = 1, **changes: Any) -> OrgIn:
    data: dict[str, Any] = {
        "name": f"测试城市运营有限公司{n}",
        "kind": OrgKind.OPERATOR,
        "uscc": credit_code(n),
        "contact_name": "王经理",
        "contact_phone": "13812345678",
        "address": "城关镇人民路1号",
    }
    data.update(changes)
    return OrgIn.model_validate(data)


def project_in(**changes: Any) -> ProjectIn:
    data: dict[str, Any] = {
        "code": "XM-2026-001",
        "name": "城市运行管理服务平台",
        "kind": ProjectKind.CONSTRUCTION,
        "modules": ["cases", "ioc"],
        "budget_fen": 500_000_000,
        "funding_model": "gov_one_off",
        "starts_on": date(2025, 6, 1),
        "ends_on": date(2027, 12, 31),
    }
    data.update(changes)
    return ProjectIn.model_validate(data)


def contract_in(project_id: int, party_id: int, **changes: Any) -> ContractIn:
    data: dict[str, Any] = {
        "code": "HT-2026-001",
        "title": "城市运行管理服务平台运营服务",
        "project_id": project_id,
        "party_id": party_id,
        "starts_on": date(2025, 12, 1),
        "ends_on": date(2027, 11, 30),
        "amount_fen": 120_000_000,
    }
    data.update(changes)
    return ContractIn.model_validate(data)


def world(db: Database) -> World:
    with db.unit_of_work() as s:
        org = svc.create_org(s, actor=OFFICE, data=org_in(1))
        vendor = svc.create_org(s, actor=OFFICE, data=org_in(2, name="测试科技有限公司", kind=OrgKind.VENDOR))
        p = svc.create_project(s, actor=OFFICE, data=project_in(operator_id=org.id))
        c = contracts.create(s, actor=OFFICE, data=contract_in(p.id, org.id))
        return World(org.id, vendor.id, p.id, c.id)


def office_login(client: TestClient, db: Database) -> str:
    return factories.login(client, factories.person(db, ["programme_office"]))
