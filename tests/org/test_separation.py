"""三权分立: system, security and audit administration stay with different people."""

from __future__ import annotations

from sqlalchemy import select

from countyos.org.models import Role
from tests.factories import login, person


def test_the_three_admins_cannot_reach_each_others_functions(client, db):
    sysadmin, secadmin, auditor = person(db, ["sysadmin"]), person(db, ["secadmin"]), person(db, ["auditadmin"])
    target = person(db, ["intake"])
    csrf = login(client, sysadmin)
    assert client.get("/api/v1/audit").status_code == 403
    assert (
        client.put(
            f"/api/v1/users/{target.id}/roles", json={"roles": ["leader"]}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    client.cookies.clear()
    csrf = login(client, secadmin)
    assert client.get("/api/v1/audit").status_code == 403
    assert (
        client.post(
            "/api/v1/users",
            json={"username": "x1", "display_name": "x", "password": "Abcdef#123"},
            headers={"X-CSRF-Token": csrf},
        ).status_code
        == 403
    )
    client.cookies.clear()
    csrf = login(client, auditor)
    assert client.get("/api/v1/audit").status_code == 200
    assert (
        client.put(
            f"/api/v1/users/{target.id}/roles", json={"roles": ["leader"]}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/departments", json={"name": "x", "kind": "department"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )


def test_no_role_may_combine_admin_families(client, db):
    secadmin = person(db, ["secadmin"])
    csrf = login(client, secadmin)
    h = {"X-CSRF-Token": csrf}
    body = {"code": "super", "name": "超级", "permissions": ["user.write", "audit.read"]}
    r = client.post("/api/v1/roles", json=body, headers=h)
    assert r.status_code == 422
    with db.reading() as s:
        audit_role_id = s.scalar(select(Role.id).where(Role.code == "auditadmin"))
    r = client.put(
        f"/api/v1/roles/{audit_role_id}/permissions", json={"permissions": ["audit.read", "role.write"]}, headers=h
    )
    assert r.status_code == 422


def test_no_person_may_hold_two_admin_roles(client, db):
    secadmin = person(db, ["secadmin"])
    target = person(db, ["sysadmin"])
    csrf = login(client, secadmin)
    r = client.put(
        f"/api/v1/users/{target.id}/roles", json={"roles": ["sysadmin", "auditadmin"]}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 422
    assert "三类管理权限" in r.json()["detail"] or "different people" in r.json()["detail"]


def test_security_admin_cannot_change_own_roles(client, db):
    secadmin = person(db, ["secadmin"])
    csrf = login(client, secadmin)
    r = client.put(
        f"/api/v1/users/{secadmin.id}/roles", json={"roles": ["secadmin", "leader"]}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 422
