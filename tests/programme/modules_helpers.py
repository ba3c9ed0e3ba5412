"""Fixtures of the modules tests: the system administrator's actor, switching a module through the service in
the test's transaction, and people who could see the ecology and village pages before they were switched off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.programme.models.modules import ModuleState
from countyos.programme.permissions import MANAGE, MODULES, READ
from countyos.programme.service import modules
from tests import factories

ADMIN = Actor(id=None, name="sysadmin-test", permissions=frozenset({MODULES}))
OFFICE = Actor(id=None, name="office-test", permissions=frozenset({READ, MANAGE}))


def switch(db: Database, code: str, on: bool, note: str = "") -> None:
    with db.unit_of_work() as s:
        modules.switch(s, actor=ADMIN, code=code, on=on, note=note)


def row(db: Database, code: str) -> dict[str, Any] | None:
    with db.reading() as s:
        r = s.get(ModuleState, code)
        return (
            None
            if r is None
            else {
                c: getattr(r, c) for c in ("enabled", "phase_id", "planned_on", "note", "switched_at", "switched_by_id")
            }
        )


def bearer(db: Database, roles: list[str], scopes: list[str]) -> dict[str, str]:
    p = factories.person(db, roles)
    return {"Authorization": f"Bearer {factories.token_for(db, p, scopes)}"}


def menu_links(html: str) -> set[str]:
    """The links of the page's menu (the nav element)."""
    nav = re.search(r"<nav\b.*?</nav>", html, re.S)
    assert nav, "no menu on the page"
    return set(re.findall(r'href="([^"]+)"', nav.group(0)))


@pytest.fixture
def leader(db: Database, client: TestClient) -> TestClient:
    """The county leader signed in: sees ecology, the village domain, the operations view and the roadmap."""
    factories.login(client, factories.person(db, ["leader"]))
    return client


@pytest.fixture
def sysadmin(db: Database, client: TestClient) -> tuple[TestClient, str, factories.Person]:
    """The system administrator signed in (with the second factor): the client, the CSRF token, the person."""
    p = factories.person(db, ["sysadmin"])
    token = factories.login(client, p)
    return client, token, p
