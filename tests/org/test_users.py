from __future__ import annotations

from sqlalchemy import text

from tests.factories import login, person


def test_phone_is_encrypted_at_rest_masked_in_lists_and_revealed_only_with_permission(client, db):
    subject = person(db, ["intake"], phone="13812345678")
    with db.engine.connect() as c:
        raw = c.execute(text("SELECT phone_enc FROM org_user WHERE id = :i"), {"i": subject.id}).scalar()
    assert raw and "1234" not in raw and raw.startswith("sm4g1:")
    secadmin = person(db, ["secadmin"])  # sees the account list, not unmasked phones
    login(client, secadmin)
    assert client.get(f"/api/v1/users/{subject.id}").json()["phone_masked"] == "138****5678"
    assert client.get(f"/api/v1/users/{subject.id}/phone").status_code == 403
    page = client.get("/admin/users")
    assert "138****5678" in page.text and "13812345678" not in page.text


def test_user_creation_validates_and_forces_password_change(client, db):
    admin = person(db, ["sysadmin"])
    h = {"X-CSRF-Token": login(client, admin)}
    r = client.post(
        "/api/v1/users", json={"username": "Bad Name", "display_name": "x", "password": "Abcdef#123"}, headers=h
    )
    assert r.status_code == 422
    r = client.post("/api/v1/users", json={"username": "zhou", "display_name": "周", "password": "weak"}, headers=h)
    assert r.status_code == 422
    assert "policy" in r.json()["detail"].lower() or "策略" in r.json()["detail"]
    r = client.post(
        "/api/v1/users",
        json={"username": "zhou", "display_name": "周", "password": "Good#pass1", "phone": "12345"},
        headers=h,
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/users", json={"username": "zhou", "display_name": "周", "password": "Good#pass1"}, headers=h
    )
    assert r.status_code == 201
    client.cookies.clear()
    page = client.get("/login")
    from tests.factories import csrf_from

    r = client.post(
        "/login",
        data={"username": "zhou", "password": "Good#pass1", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/account/password"


def test_disabled_user_cannot_log_in_and_loses_sessions(client, db):
    admin = person(db, ["sysadmin"])
    victim = person(db, ["intake"])
    other = client.__class__(client.app)
    login(other, victim)
    assert other.get("/api/v1/me").status_code == 200
    h = {"X-CSRF-Token": login(client, admin)}
    assert client.patch(f"/api/v1/users/{victim.id}", json={"is_active": False}, headers=h).status_code == 200
    assert other.get("/api/v1/me").status_code == 401
