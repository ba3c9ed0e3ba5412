"""Attacks on accounts, roles, tokens, the second factor and the audit chain (issue #12, items 3–6, 11).

Each test replays what an attacker did against the demo and asserts the refusal a person would see.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from countyos.cli import app as cli
from countyos.core.clock import utcnow
from countyos.org.models import ApiToken, AuditEvent, Role, User
from countyos.org.service import audit, tokens
from countyos.web import sidewrites
from tests.factories import FACTORY, PASSWORD, csrf_from, login, person, token_for


def _role_id(db, code: str) -> int:
    with db.reading() as s:
        return s.scalar(select(Role.id).where(Role.code == code))


def _perms_of_role(db, code: str) -> list[str]:
    with db.reading() as s:
        role = s.scalar(select(Role).where(Role.code == code))
        return sorted(p.code for p in role.permissions)


def _tokens_of(db, user_id: int) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user_id))


def _actions(db, **where) -> list[AuditEvent]:
    with db.reading() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.seq)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditEvent, k) == v)
        rows = list(s.scalars(stmt))
        s.expunge_all()
        return rows


# --- 3. tokens act as machines, or as the person who made them ---------------------------------


def test_a_system_administrator_cannot_mint_a_token_for_a_person(client, db):
    sysadmin = person(db, ["sysadmin"])
    shift = person(db, ["shift_leader"])
    csrf = login(client, sysadmin)
    r = client.post(
        "/api/v1/tokens",
        json={"name": "夜班", "user_id": shift.id, "scopes": ["case.pii", "case.read_all"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    # nor through the page form
    r = client.post(
        "/admin/tokens",
        data={"name": "夜班", "user_id": str(shift.id), "scopes": "case.pii", "days": "30", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 403 and 'id="token-form-error"' in r.text  # the form again, what was typed kept
    assert 'value="夜班"' in r.text and 'value="case.pii"' in r.text
    assert _tokens_of(db, shift.id) == 0
    # the page offers machine accounts only
    machine = person(db, ["intake"], is_machine=True)
    page = client.get("/admin/tokens").text
    assert f'<option value="{machine.id}">' in page
    assert f'<option value="{shift.id}">' not in page
    assert f'<option value="{sysadmin.id}">' not in page
    # a machine account is still fine
    r = client.post(
        "/api/v1/tokens",
        json={"name": "热线", "user_id": machine.id, "scopes": ["case.intake"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text


def test_a_token_cannot_mint_another_token(client, db):
    machine = person(db, ["sysadmin"], is_machine=True, totp=False)
    bearer = {"Authorization": f"Bearer {token_for(db, machine, ['token.manage'])}"}
    r = client.post(
        "/api/v1/tokens",
        json={"name": "wider", "user_id": machine.id, "scopes": ["token.manage", "user.write"]},
        headers=bearer,
    )
    assert r.status_code == 403
    assert _tokens_of(db, machine.id) == 1


def test_a_person_mints_their_own_token_and_is_told_of_tokens_others_made(client, db):
    shift = person(db, ["shift_leader"])
    csrf = login(client, shift)
    page = client.get("/account/tokens")
    assert page.status_code == 200
    r = client.post(
        "/account/tokens", data={"name": "我的脚本", "scopes": "case.read", "days": "30", "csrf_token": csrf}
    )
    assert r.status_code == 200
    plain = r.text.split('<code id="new-token">')[1].split("</code>")[0]
    with db.reading() as s:
        tok = tokens.resolve(s, plain=plain)
        assert tok is not None and tok.user_id == shift.id and tok.created_by_id == shift.id
        assert tok.scopes == ["case.read"]
    # scopes beyond the person's own permissions are refused
    r = client.post("/account/tokens", data={"name": "越权", "scopes": "audit.read", "days": "30", "csrf_token": csrf})
    assert r.status_code == 422
    assert _tokens_of(db, shift.id) == 1
    # a token made for the person by someone else (the server console) is shown on their account page,
    # and at their next login
    with db.unit_of_work() as s:
        tokens.create(s, actor=FACTORY, name="控制台发放", user_id=shift.id, scopes=["case.read"])
    client.cookies.clear()
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": shift.username, "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": ""},
    )
    assert r.status_code == 200
    assert '<div class="flash flash-warn" role="status">' in r.text
    account = client.get("/account").text
    assert "控制台发放" in account and 'id="tokens-notice"' in account
    assert "我的脚本" in account


def test_a_person_revokes_a_token_acting_as_them_but_not_someone_elses(client, db):
    a, b = person(db, ["intake"]), person(db, ["intake"])
    with db.unit_of_work() as s:
        mine, _ = tokens.create(s, actor=FACTORY, name="a", user_id=a.id, scopes=["case.read"])
        theirs, _ = tokens.create(s, actor=FACTORY, name="b", user_id=b.id, scopes=["case.read"])
        mine_id, theirs_id = mine.id, theirs.id
    csrf = login(client, a)
    r = client.post(f"/account/tokens/{theirs_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 404
    r = client.post(f"/account/tokens/{mine_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        assert s.get(ApiToken, mine_id).revoked_at is not None
        assert s.get(ApiToken, theirs_id).revoked_at is None


# --- 4. nobody raises their own role; administrators keep to administration -------------------


def test_the_security_administrator_cannot_give_its_own_role_business_permissions(client, db):
    secadmin = person(db, ["secadmin"])
    csrf = login(client, secadmin)
    h = {"X-CSRF-Token": csrf}
    before = _perms_of_role(db, "secadmin")
    r = client.put(
        f"/api/v1/roles/{_role_id(db, 'secadmin')}/permissions",
        json={"permissions": [*before, "case.read_all", "case.pii"]},
        headers=h,
    )
    assert r.status_code == 403
    # the page form takes the same path
    r = client.post(
        f"/admin/roles/{_role_id(db, 'secadmin')}/permissions",
        data={"permission": [*before, "case.pii"], "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _perms_of_role(db, "secadmin") == before


def test_administrator_roles_never_gain_business_permissions(client, db):
    secadmin = person(db, ["secadmin"])
    csrf = login(client, secadmin)
    h = {"X-CSRF-Token": csrf}
    for code in ("sysadmin", "auditadmin"):
        before = _perms_of_role(db, code)
        r = client.put(
            f"/api/v1/roles/{_role_id(db, code)}/permissions",
            json={"permissions": [*before, "case.pii"]},
            headers=h,
        )
        assert r.status_code == 422, (code, r.text)
        assert _perms_of_role(db, code) == before
    # a new role mixing administration and business is refused too
    r = client.post(
        "/api/v1/roles",
        json={"code": "audit_plus", "name": "审计+", "permissions": ["audit.read", "case.pii"]},
        headers=h,
    )
    assert r.status_code == 422
    # the security administrator still configures business roles
    leader = _perms_of_role(db, "leader")
    r = client.put(
        f"/api/v1/roles/{_role_id(db, 'leader')}/permissions", json={"permissions": [*leader, "case.pii"]}, headers=h
    )
    assert r.status_code == 200, r.text
    assert "case.pii" in r.json()["permissions"]


def test_a_business_role_cannot_be_handed_to_an_administrator(client, db):
    secadmin = person(db, ["secadmin"])
    auditor = person(db, ["auditadmin"])
    csrf = login(client, secadmin)
    h = {"X-CSRF-Token": csrf}
    r = client.post(
        "/api/v1/roles",
        json={"code": "reader", "name": "全县查看", "permissions": ["case.read_all", "case.pii"]},
        headers=h,
    )
    assert r.status_code == 201
    for target in (secadmin.id, auditor.id):
        with db.reading() as s:
            held = sorted(s.get(User, target).role_codes)
        r = client.put(f"/api/v1/users/{target}/roles", json={"roles": [*held, "reader"]}, headers=h)
        assert r.status_code in (403, 422), (target, r.status_code)
        with db.reading() as s:
            assert sorted(s.get(User, target).role_codes) == held
    # and the page form
    r = client.post(f"/admin/users/{auditor.id}/roles", data={"role": ["auditadmin", "reader"], "csrf_token": csrf})
    assert r.status_code in (403, 422)
    with db.reading() as s:
        assert sorted(s.get(User, auditor.id).role_codes) == ["auditadmin"]


def test_nobody_edits_a_role_they_hold(client, db):
    """A business role's holder with role.write (a custom role) cannot widen that role."""
    with db.unit_of_work() as s:
        from countyos.org.service import roles

        roles.create(
            s,
            actor=FACTORY,
            code="sec_ops",
            name="安全专员",
            name_en=None,
            description=None,
            permission_codes=["role.read", "role.write", "user.read"],
        )
    me = person(db, ["sec_ops"], totp=False)
    csrf = login(client, me)
    r = client.put(
        f"/api/v1/roles/{_role_id(db, 'sec_ops')}/permissions",
        json={"permissions": ["role.read", "role.write", "user.read", "user.assign_role"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 403
    assert _perms_of_role(db, "sec_ops") == ["role.read", "role.write", "user.read"]


# --- 5. second-factor guessing locks the account -----------------------------------------------


def _password_step(client, p) -> None:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": p.username, "password": p.password, "csrf_token": csrf_from(page.text), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/login/mfa", r.status_code


def _code_step(client, code: str):
    page = client.get("/login/mfa")
    return client.post("/login/mfa", data={"code": code, "csrf_token": csrf_from(page.text)}, follow_redirects=False)


def _wrong_code(secret: str) -> str:
    good = {pyotp.TOTP(secret).at(utcnow().timestamp() + k * 30) for k in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in good)


def test_second_factor_guesses_lock_the_account_even_with_the_right_password(client, db, settings):
    p = person(db, ["intake"], totp=True)
    bad = _wrong_code(p.totp_secret)
    start = utcnow()
    with time_machine.travel(start, tick=False):
        # the attacker knows the password: 4 guesses, then sign in again to reset the count, then more
        _password_step(client, p)
        for _ in range(4):
            assert _code_step(client, bad).status_code == 401
        client.cookies.clear()
        _password_step(client, p)
        r = _code_step(client, bad)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        client.cookies.clear()
        # locked: the right password and the right code no longer get in
        page = client.get("/login")
        r = client.post(
            "/login",
            data={"username": p.username, "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": ""},
            follow_redirects=False,
        )
        assert r.status_code == 401
    with db.reading() as s:
        u = s.get(User, p.id)
        assert u.locked_until is not None
        assert timedelta(minutes=29) < u.locked_until - start <= timedelta(minutes=30)
    lock = _actions(db, action="auth.lockout", target_id=str(p.id))
    assert [e.detail["factor"] for e in lock] == ["totp"]
    # after the lock, one more wrong code locks again at once (the count is not reset by the password)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        _password_step(client, p)
        r = _code_step(client, bad)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    assert len(_actions(db, action="auth.lockout", target_id=str(p.id))) == 2
    # a right code after the next lock ends resets the count
    with time_machine.travel(start + timedelta(minutes=62), tick=False):
        client.cookies.clear()
        _password_step(client, p)
        r = _code_step(client, pyotp.TOTP(p.totp_secret).now())
        assert r.status_code == 303 and r.headers["location"] == "/"
        with db.reading() as s:
            assert s.get(User, p.id).failed_mfa == 0


def test_a_totp_code_is_good_once(client, db):
    p = person(db, ["intake"], totp=True)
    start = utcnow()
    with time_machine.travel(start, tick=False):
        code = pyotp.TOTP(p.totp_secret).now()
        _password_step(client, p)
        assert _code_step(client, code).status_code == 303
        other = TestClient(client.app)
        _password_step(other, p)
        assert _code_step(other, code).status_code == 401


# --- 6. the audit chain's two ends are keyed ---------------------------------------------------


def _seed(db, n: int = 6) -> None:
    with db.unit_of_work() as s:
        for i in range(n):
            audit.record(s, actor=FACTORY, action="test.write", target_type="thing", target_id=i)


def _verify(db) -> audit.VerifyResult:
    with db.reading() as s:
        return audit.verify(s)


def test_removing_the_newest_rows_and_moving_the_head_is_detected(db):
    _seed(db)
    assert _verify(db).ok
    with db.engine.begin() as c:
        last = c.execute(text("SELECT max(seq) FROM org_audit_event")).scalar()
        keep = last - 2
        keep_hash = c.execute(text("SELECT hash FROM org_audit_event WHERE seq = :s"), {"s": keep}).scalar()
        c.execute(text("DELETE FROM org_audit_event WHERE seq > :s"), {"s": keep})
        c.execute(text("UPDATE org_audit_head SET seq = :s, hash = :h"), {"s": keep, "h": keep_hash})
    r = _verify(db)
    assert r.ok is False
    assert r.reason == "the chain head is not the one the log wrote; rows were removed or the head was replaced"
    bad = CliRunner().invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1 and "BROKEN" in bad.output


def test_removing_the_oldest_rows_and_moving_the_pruning_marker_is_detected(db):
    _seed(db)
    with db.engine.begin() as c:
        first = c.execute(text("SELECT min(seq) FROM org_audit_event")).scalar()
        cut = first + 2
        cut_hash = c.execute(text("SELECT hash FROM org_audit_event WHERE seq = :s"), {"s": cut}).scalar()
        c.execute(text("DELETE FROM org_audit_event WHERE seq <= :s"), {"s": cut})
        c.execute(
            text("UPDATE org_audit_head SET pruned_before_seq = :s, pruned_anchor_hash = :h"), {"s": cut, "h": cut_hash}
        )
    r = _verify(db)
    assert r.ok is False
    assert r.reason == "the chain head is not the one the log wrote; rows were removed or the head was replaced"


def test_an_unsealed_head_fails(db):
    _seed(db)
    with db.engine.begin() as c:
        c.execute(text("UPDATE org_audit_head SET mac = NULL"))
    r = _verify(db)
    assert r.ok is False and r.reason == "the chain head carries no seal"


def test_pruning_leaves_a_signed_record_of_what_it_removed(db, settings):
    with time_machine.travel(utcnow() - timedelta(days=200), tick=False):
        _seed(db, 3)
    with db.reading() as s:
        old = list(s.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq)))
    _seed(db, 2)
    with db.unit_of_work() as s:
        removed = audit.prune(s)
    assert removed == len(old)
    (rec,) = _actions(db, action="audit.prune")
    assert rec.detail == {
        "removed": len(old),
        "first_seq": old[0].seq,
        "last_seq": old[-1].seq,
        "last_hash": old[-1].hash,
        "retention_days": settings.audit_retention_days,
    }
    assert _verify(db).ok
    # rewriting the prune record to cover more rows breaks its own link
    with db.engine.begin() as c:
        c.execute(text("UPDATE org_audit_event SET detail = :d WHERE seq = :s"), {"d": '{"removed": 1}', "s": rec.seq})
    assert _verify(db).ok is False


# --- 11. account pages are for the person, the directory for those who manage people ----------


def test_a_token_never_reaches_account_management(client, db):
    app_user = person(db, ["intake"], is_machine=True)
    bearer = {"Authorization": f"Bearer {token_for(db, app_user, ['case.read'])}"}
    for method, url, data in [
        ("GET", "/account", None),
        ("GET", "/account/mfa", None),
        ("POST", "/account/mfa/start", None),
        ("POST", "/account/mfa", {"code": "123456"}),
        ("GET", "/account/password", None),
        ("POST", "/account/password", {"current": PASSWORD, "new": "Other#2026x", "confirm": "Other#2026x"}),
        ("GET", "/account/tokens", None),
        ("POST", "/account/tokens", {"name": "x", "scopes": "case.read", "days": "1"}),
    ]:
        r = client.request(method, url, data=data, headers=bearer, follow_redirects=False)
        assert r.status_code == 403, (method, url, r.status_code)
    with db.reading() as s:
        u = s.get(User, app_user.id)
        assert u.totp_secret_enc is None and u.totp_enabled is False
    assert sidewrites.for_app(client.app.state, db).drain(10)
    denied = _actions(db, action="access.denied", actor_id=app_user.id)
    # the first refusal of the minute is recorded at once, the other 7 are counted for its summary
    assert [(d.detail["reason"], d.detail["path"]) for d in denied] == [("token", "/account")]


def test_only_the_security_administrator_unlocks_another_administrator(client, db):
    sysadmin, secadmin, auditor = person(db, ["sysadmin"]), person(db, ["secadmin"]), person(db, ["auditadmin"])
    intake = person(db, ["intake"])
    with db.unit_of_work() as s:
        for uid in (auditor.id, secadmin.id, intake.id):
            s.get(User, uid).locked_until = utcnow() + timedelta(minutes=30)
    csrf = login(client, sysadmin)
    h = {"X-CSRF-Token": csrf}
    assert client.post(f"/api/v1/users/{auditor.id}/unlock", headers=h).status_code == 403
    assert client.post(f"/api/v1/users/{secadmin.id}/unlock", headers=h).status_code == 403
    r = client.post(f"/admin/users/{auditor.id}/unlock", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 403
    assert client.post(f"/api/v1/users/{intake.id}/unlock", headers=h).status_code == 200
    with db.reading() as s:
        assert s.get(User, auditor.id).locked_until is not None
    client.cookies.clear()
    browser = TestClient(client.app)
    with db.unit_of_work() as s:
        s.get(User, secadmin.id).locked_until = None
    csrf = login(browser, secadmin)
    r = browser.post(f"/admin/users/{auditor.id}/unlock", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        assert s.get(User, auditor.id).locked_until is None
    # the audit administrator unlocks nobody
    with db.unit_of_work() as s:
        s.get(User, intake.id).locked_until = utcnow() + timedelta(minutes=30)
    other = TestClient(client.app)
    csrf = login(other, auditor)
    assert other.post(f"/api/v1/users/{intake.id}/unlock", headers={"X-CSRF-Token": csrf}).status_code == 403


def test_operational_roles_do_not_list_accounts(client, db):
    intake = person(db, ["intake"])
    handler = person(db, ["handler"])
    csrf = login(client, intake)
    assert csrf
    assert client.get("/api/v1/users").status_code == 403
    assert client.get(f"/api/v1/users/{handler.id}").status_code == 403
    assert client.get("/admin/users").status_code == 403
    # pickers get names of the relevant people only
    r = client.get("/api/v1/people", params={"permission": "case.handle"})
    assert r.status_code == 200
    assert r.json() == [{"id": handler.id, "display_name": f"测试{handler.username}"}]
    assert client.get("/api/v1/people", params={"permission": "user.write"}).status_code == 422
    for admin in ("sysadmin", "secadmin", "auditadmin"):
        browser = TestClient(client.app)
        login(browser, person(db, [admin]))
        assert browser.get("/api/v1/users").status_code == 200, admin
