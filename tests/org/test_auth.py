"""Authentication as 等保 2.0 level 3 asks: lockout, idle expiry, password policy, TOTP, CSRF, tokens."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.org.models import AuditEvent, User
from countyos.org.service import passwords
from countyos.web import sidewrites
from tests.factories import FACTORY, PASSWORD, csrf_from, login, person


def post_login(client, username, password):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text), "next": ""},
        follow_redirects=False,
    )


def test_login_success_lands_home_and_failure_says_why_without_leaking(client, db):
    p = person(db, ["intake"])
    r = post_login(client, p.username, "wrong-Password1")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text or "wrong" in r.text
    assert post_login(client, "nobody", "x").status_code == 401
    r = post_login(client, p.username, PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_five_failures_lock_the_account_for_thirty_minutes(client, db):
    p = person(db, ["intake"])
    start = utcnow()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            assert post_login(client, p.username, "Wrong-pass1").status_code == 401
        # locked: even the right password is refused
        assert post_login(client, p.username, PASSWORD).status_code == 401
    with db.reading() as s:
        user = s.get(User, p.id)
        assert user.locked_until is not None
        assert timedelta(minutes=29) < user.locked_until - start <= timedelta(minutes=30)
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.actor_id == p.id))]
        assert "auth.lockout" in actions
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert post_login(client, p.username, PASSWORD).status_code == 303


def test_session_expires_after_thirty_idle_minutes(client, db):
    p = person(db, ["intake"])
    start = utcnow()
    with time_machine.travel(start, tick=False):
        login(client, p)
        assert client.get("/account").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get("/account").status_code == 200  # activity keeps it alive
    with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
        r = client.get("/account", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    ("pw", "ok"),
    [
        ("Short1!", False),
        ("alllowercase", False),
        ("lowerUPPER", False),
        ("lowerUPPER1", True),
        ("lower1!x", True),
        ("ABCD1234", False),
    ],
)
def test_password_policy(settings, pw, ok):
    assert (passwords.policy_errors(pw) == []) is ok


def test_password_must_not_contain_username(settings):
    assert passwords.policy_errors("Zhangsan@2026", username="zhangsan")


def test_first_login_forces_a_password_change_that_follows_the_policy(client, db):
    p = person(db, ["intake"], must_change_password=True)
    r = post_login(client, p.username, PASSWORD)
    assert r.headers["location"] == "/account/password"
    # nothing else is reachable before the change
    assert client.get("/", follow_redirects=False).status_code in (303, 401)
    assert client.get("/api/v1/me").status_code == 401
    page = client.get("/account/password")
    csrf = csrf_from(page.text)
    weak = client.post(
        "/account/password", data={"current": PASSWORD, "new": "weakpass", "confirm": "weakpass", "csrf_token": csrf}
    )
    assert weak.status_code == 422
    r = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "Better#Pass99", "confirm": "Better#Pass99", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get("/api/v1/me").status_code == 200


def test_password_older_than_ninety_days_must_be_changed(client, db):
    p = person(db, ["intake"])
    with time_machine.travel(utcnow() + timedelta(days=91), tick=False):
        r = post_login(client, p.username, PASSWORD)
        assert r.headers["location"] == "/account/password"


def test_admin_without_second_factor_must_enrol_before_anything_else(client, db):
    p = person(db, ["sysadmin"], totp=False)
    r = post_login(client, p.username, PASSWORD)
    assert r.headers["location"] == "/account/mfa"
    assert client.get("/api/v1/users").status_code == 401
    page = client.get("/account/mfa")
    client.post("/account/mfa/start", data={"csrf_token": csrf_from(page.text)})
    page = client.get("/account/mfa")
    assert "<svg" in page.text  # the QR code
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    wrong = client.post("/account/mfa", data={"code": "000000", "csrf_token": csrf_from(page.text)})
    assert wrong.status_code == 422
    r = client.post("/account/mfa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page.text)})
    assert r.status_code == 200 and 'id="recovery-codes"' in r.text
    codes = r.text.split('id="recovery-codes">')[1].split("</div></div>")[0]
    assert codes.count("<div>") == 10
    assert client.get("/api/v1/users").status_code == 200


def test_totp_login_rejects_wrong_and_replayed_codes_and_accepts_a_recovery_code(client, db):
    p = person(db, ["auditadmin"])
    assert p.totp_secret
    r = post_login(client, p.username, PASSWORD)
    assert r.headers["location"] == "/login/mfa"
    page = client.get("/login/mfa")
    assert client.post("/login/mfa", data={"code": "123456", "csrf_token": csrf_from(page.text)}).status_code == 401
    code = pyotp.TOTP(p.totp_secret).now()
    ok = client.post("/login/mfa", data={"code": code, "csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert ok.status_code == 303
    client.cookies.clear()
    # the same code cannot be used twice
    post_login(client, p.username, PASSWORD)
    page = client.get("/login/mfa")
    assert client.post("/login/mfa", data={"code": code, "csrf_token": csrf_from(page.text)}).status_code == 401


def test_unsafe_requests_without_the_csrf_token_are_refused(client, db):
    p = person(db, ["sysadmin"])
    csrf = login(client, p)
    body = {"name": "县教育局", "kind": "department"}
    assert client.post("/api/v1/departments", json=body).status_code == 403
    assert client.post("/api/v1/departments", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    r = client.post("/api/v1/departments", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    # forms too
    r = client.post("/admin/departments/save", data={"name": "县卫健局", "kind": "department"})
    assert r.status_code == 403
    # and the login form needs its pre-session token
    client.cookies.clear()
    client.get("/login")
    r = client.post("/login", data={"username": p.username, "password": PASSWORD, "csrf_token": "bad"})
    assert r.status_code == 403


def test_api_tokens_are_scoped_and_revocable(client, db):
    admin = person(db, ["sysadmin"])
    machine = person(db, ["dispatcher"], is_machine=True)
    csrf = login(client, admin)
    r = client.post(
        "/api/v1/tokens",
        json={"name": "12345 热线对接", "user_id": machine.id, "scopes": ["department.read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    token, token_id = r.json()["token"], r.json()["id"]
    bearer = {"Authorization": f"Bearer {token}"}
    anon = client.__class__(client.app)
    assert anon.get("/api/v1/departments", headers=bearer).status_code == 200
    # outside its scope although the account has user.read
    assert anon.get("/api/v1/users", headers=bearer).status_code == 403
    # scopes beyond the account's permissions are refused at issue time
    r = client.post(
        "/api/v1/tokens",
        json={"name": "x", "user_id": machine.id, "scopes": ["audit.read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422
    assert client.delete(f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf}).status_code == 200
    r = anon.get("/api/v1/departments", headers=bearer)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_login_rate_limit_per_address(client, db, app):
    app.state.login_limiter.limit = 3
    for _ in range(3):
        assert post_login(client, "nobody", "x").status_code == 401
    r = post_login(client, "nobody", "x")
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_a_flood_of_rate_limited_logins_is_audited_once_a_minute_per_address(client, db, app):
    app.state.login_limiter.limit = 1
    assert post_login(client, "nobody", "x").status_code == 401
    for i in range(30):
        assert post_login(client, f"guess{i}", "x").status_code == 429
    assert sidewrites.for_app(app.state, db).drain(10)
    with db.reading() as s:
        details = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "auth.rate_limited")).all()
    # the first refusal of the minute is recorded at once; the other 29 only counted for one summary
    assert [d.get("username") for d in details] == ["guess0"]


def test_logout_ends_the_session_for_good(client, db):
    p = person(db, ["intake"])
    csrf = login(client, p)
    cookie = client.cookies.get("countyos_session")
    client.post("/logout", data={"csrf_token": csrf})
    client.cookies.set("countyos_session", cookie)  # replaying the old cookie does not work
    assert client.get("/api/v1/me").status_code == 401


def test_session_id_changes_after_the_second_factor(client, db):
    p = person(db, ["secadmin"])
    post_login(client, p.username, PASSWORD)
    before = client.cookies.get("countyos_session")
    page = client.get("/login/mfa")
    client.post(
        "/login/mfa",
        data={"code": pyotp.TOTP(p.totp_secret).now(), "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    after = client.cookies.get("countyos_session")
    assert before and after and before != after
    client.cookies.set("countyos_session", before)
    assert client.get("/api/v1/me").status_code == 401


def test_guessing_the_current_password_on_the_change_form_locks_the_account(client, db, settings):
    """A borrowed session cannot be used to find the password: wrong current passwords count."""
    p = person(db, ["intake"])
    csrf = login(client, p)
    for n in range(settings.lockout_threshold):
        r = client.post(
            "/account/password",
            data={"current": f"Guess#{n}abcd", "new": "Better#Pass99", "confirm": "Better#Pass99", "csrf_token": csrf},
            follow_redirects=False,
        )
        expected = 422 if n < settings.lockout_threshold - 1 else 303
        assert r.status_code == expected, (n, r.status_code)
    # locked: the session is gone and the right password is refused for now
    assert client.get("/api/v1/me").status_code == 401
    assert post_login(client, p.username, PASSWORD).status_code == 401
    with db.reading() as s:
        lock = s.scalars(select(AuditEvent).where(AuditEvent.action == "auth.lockout")).one()
        assert lock.detail["factor"] == "password" and lock.target_id == str(p.id)


def test_recovery_codes_are_stored_keyed(client, db):
    """A copy of the database does not let anyone find the 32-bit recovery codes by brute force:
    they are stored as HMAC-SM3 with a key derived from the secret key, not as plain SHA-256."""
    import hashlib

    from countyos.org.service import mfa

    p = person(db, ["intake"], totp=False)
    with db.unit_of_work() as s:
        user = s.get(User, p.id)
        mfa.begin_enrolment(s, user=user)
        secret = mfa.enrolment_for(user).secret
        codes = mfa.confirm_enrolment(s, actor=FACTORY, user=user, code=pyotp.TOTP(secret).now())
        stored = list(user.recovery_codes)
    plain_sha = {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert len(stored) == 10 and not (set(stored) & plain_sha)
    post_login(client, p.username, PASSWORD)
    page = client.get("/login/mfa")
    r = client.post("/login/mfa", data={"code": codes[3], "csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    with db.reading() as s:
        assert len(s.get(User, p.id).recovery_codes) == 9
