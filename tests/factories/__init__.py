"""Factories for tests: people with roles, logged-in clients, tokens."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pyotp
from fastapi.testclient import TestClient

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.org import flows
from countyos.org.models import DepartmentKind, Permission, Role
from countyos.org.service import departments, tokens, users
from countyos.org.service.users import cipher

PASSWORD = "Test@pass2026"
FACTORY = Actor(id=None, name="factory")
_seq = itertools.count(1)


@dataclass
class Person:
    id: int
    username: str
    password: str
    totp_secret: str | None = None


def department(db: Database, name: str | None = None, kind: DepartmentKind = DepartmentKind.DEPARTMENT) -> int:
    with db.unit_of_work() as s:
        return departments.create(s, actor=FACTORY, name=name or f"测试部门{next(_seq)}", kind=kind).id


def person(
    db: Database,
    roles: list[str] | None = None,
    *,
    username: str | None = None,
    must_change_password: bool = False,
    department_id: int | None = None,
    phone: str | None = None,
    totp: bool | None = None,
    is_machine: bool = False,
) -> Person:
    username = username or f"user{next(_seq)}"
    roles = roles or []
    admin = bool(set(roles) & {"sysadmin", "secadmin", "auditadmin"})
    with db.unit_of_work() as s:
        u = flows.create_person(
            s,
            actor=FACTORY,
            username=username,
            display_name=f"测试{username}",
            password=PASSWORD,
            role_codes=roles,
            must_change_password=must_change_password,
            department_id=department_id,
            phone=phone,
            is_machine=is_machine,
        )
        secret = None
        if totp if totp is not None else admin:
            secret = pyotp.random_base32()
            u.totp_secret_enc = cipher().encrypt(secret)
            u.totp_enabled = True
        return Person(u.id, u.username, PASSWORD, secret)


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]*)"', html) or re.search(r'data-csrf="([^"]*)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client: TestClient, p: Person, *, expect_full: bool = True) -> str:
    """Log in through the real pages (password, then TOTP if enrolled); returns the session CSRF token."""
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": p.username, "password": p.password, "csrf_token": csrf_from(page.text), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    if r.headers["location"] == "/login/mfa":
        assert p.totp_secret
        page = client.get("/login/mfa")
        r = client.post(
            "/login/mfa",
            data={"code": pyotp.TOTP(p.totp_secret).now(), "csrf_token": csrf_from(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    if expect_full:
        assert r.headers["location"] == "/", r.headers["location"]
    home = client.get(r.headers["location"])
    return csrf_from(home.text)


def token_for(db: Database, p: Person, scopes: list[str]) -> str:
    with db.unit_of_work() as s:
        _, plain = tokens.create(s, actor=FACTORY, name=f"tok{next(_seq)}", user_id=p.id, scopes=scopes)
        return plain


def open311_app(db: Database, roles: list[str]) -> tuple[Person, str]:
    """A posting app: a machine account with ROLES and a role of its own holding only ``case.open311``,
    and its api_key."""
    app_user = person(db, roles, is_machine=True)
    with db.unit_of_work() as s:
        role = Role(code="open311_app", name="上报应用", is_builtin=False)
        role.permissions = [s.get_one(Permission, "case.open311")]
        s.add(role)
        u = users.get(s, user_id=app_user.id)
        u.roles = [*u.roles, role]
    return app_user, token_for(db, app_user, ["case.open311"])
