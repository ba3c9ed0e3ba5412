"""The audit log: every write leaves a record in the same transaction; tampering is detected."""

from __future__ import annotations

from sqlalchemy import select, text
from typer.testing import CliRunner

from countyos.cli import app as cli
from countyos.org.models import AuditEvent, AuditResult
from countyos.org.service import audit
from tests.factories import FACTORY, login, person


def actions(db) -> list[str]:
    with db.reading() as s:
        return [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_each_kind_of_write_is_recorded(client, db):
    sysadmin = person(db, ["sysadmin"])
    secadmin = person(db, ["secadmin"])
    csrf = login(client, sysadmin)
    h = {"X-CSRF-Token": csrf}
    dep = client.post("/api/v1/departments", json={"name": "县教育局", "kind": "department"}, headers=h).json()
    client.patch(f"/api/v1/departments/{dep['id']}", json={"phone": "0578-8123456"}, headers=h)
    u = client.post(
        "/api/v1/users",
        json={
            "username": "newbie",
            "display_name": "新人",
            "password": "Start#2026x",
            "department_id": dep["id"],
            "phone": "13800001111",
        },
        headers=h,
    ).json()
    client.patch(f"/api/v1/users/{u['id']}", json={"display_name": "新同事"}, headers=h)
    client.post(f"/api/v1/users/{u['id']}/password", json={"password": "Reset#2026x"}, headers=h)
    client.post(f"/api/v1/users/{u['id']}/unlock", headers=h)
    client.patch(f"/api/v1/users/{u['id']}", json={"is_active": False}, headers=h)
    tok = client.post(
        "/api/v1/tokens", json={"name": "t", "user_id": sysadmin.id, "scopes": ["department.read"]}, headers=h
    ).json()
    client.delete(f"/api/v1/tokens/{tok['id']}", headers=h)
    client.cookies.clear()
    csrf = login(client, secadmin)
    h = {"X-CSRF-Token": csrf}
    role = client.post(
        "/api/v1/roles", json={"code": "gis", "name": "测绘员", "permissions": ["department.read"]}, headers=h
    ).json()
    client.put(f"/api/v1/roles/{role['id']}/permissions", json={"permissions": ["user.read"]}, headers=h)
    client.put(f"/api/v1/users/{u['id']}/roles", json={"roles": ["gis"]}, headers=h)
    got = set(actions(db))
    for expected in [
        "department.create",
        "department.update",
        "user.create",
        "user.update",
        "user.password_reset",
        "user.unlock",
        "user.disable",
        "token.create",
        "token.revoke",
        "role.create",
        "role.permissions",
        "user.roles",
        "auth.login",
        "mfa.verify",
    ]:
        assert expected in got, expected
    with db.reading() as s:
        assert audit.verify(s).ok


def test_security_events_are_recorded_with_ip_and_result(client, db):
    p = person(db, ["intake"])
    page = client.get("/login")
    from tests.factories import csrf_from

    client.post("/login", data={"username": p.username, "password": "nope", "csrf_token": csrf_from(page.text)})
    with db.reading() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login")).one()
        assert ev.result == AuditResult.FAILURE
        assert ev.ip == "testclient"
        assert ev.detail["reason"] == "bad_password"


def test_pii_view_and_export_are_audited(client, db):
    leader = person(db, ["leader"])
    auditor = person(db, ["auditadmin"])
    subject = person(db, ["intake"], phone="13912345678")
    csrf = login(client, leader)
    assert client.get(f"/api/v1/users/{subject.id}").status_code == 403  # the account list is for admins
    assert client.get(f"/api/v1/users/{subject.id}/phone").json() == {"phone": "13912345678"}
    assert csrf
    client.cookies.clear()
    login(client, auditor)
    r = client.get("/api/v1/audit/export?format=xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = client.get("/api/v1/audit/export?format=csv&action=user.pii")
    assert "user.pii_view" in r.content.decode("utf-8-sig")
    got = actions(db)
    assert "user.pii_view" in got and got.count("audit.export") == 2


def _seed(db, n=5):
    with db.unit_of_work() as s:
        for i in range(n):
            audit.record(s, actor=FACTORY, action="test.write", target_type="thing", target_id=i)


def _verify(db):
    with db.reading() as s:
        return audit.verify(s)


def test_verify_passes_on_an_intact_log(db):
    _seed(db)
    r = _verify(db)
    assert r.ok and r.checked >= 5


def test_records_around_a_rolled_back_savepoint_keep_one_chain(db):
    """Several records in one transaction (as the group-commit writer makes them), one of them in a
    savepoint that is rolled back, and records in a later transaction: the chain has no gap or fork."""
    with db.unit_of_work() as s:
        audit.record(s, actor=FACTORY, action="test.kept", target_id=1)
        try:
            with s.begin_nested():
                audit.record(s, actor=FACTORY, action="test.undone", target_id=2)
                raise RuntimeError("the report failed")
        except RuntimeError:
            pass
        audit.record(s, actor=FACTORY, action="test.kept", target_id=3)
    with db.unit_of_work() as s:
        audit.record(s, actor=FACTORY, action="test.kept", target_id=4)
    with db.reading() as s:
        rows = s.execute(select(AuditEvent.seq, AuditEvent.action, AuditEvent.target_id).order_by(AuditEvent.seq)).all()
    mine = [(a, t) for _, a, t in rows if a.startswith("test.")]
    assert mine == [("test.kept", "1"), ("test.kept", "3"), ("test.kept", "4")]
    seqs = [seq for seq, _, _ in rows]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert _verify(db).ok


def test_verify_names_an_updated_row(db):
    _seed(db)
    with db.engine.begin() as c:
        seq = c.execute(text("SELECT seq FROM org_audit_event ORDER BY seq LIMIT 1 OFFSET 2")).scalar()
        c.execute(text("UPDATE org_audit_event SET actor_name = 'mallory' WHERE seq = :s"), {"s": seq})
    r = _verify(db)
    assert not r.ok and r.bad_seq == seq and "altered" in r.reason


def test_verify_names_a_deleted_row(db):
    _seed(db)
    with db.engine.begin() as c:
        seq = c.execute(text("SELECT seq FROM org_audit_event ORDER BY seq LIMIT 1 OFFSET 2")).scalar()
        c.execute(text("DELETE FROM org_audit_event WHERE seq = :s"), {"s": seq})
    r = _verify(db)
    assert not r.ok and r.bad_seq == seq and "missing" in r.reason


def test_verify_detects_removal_of_the_newest_rows(db):
    _seed(db)
    with db.engine.begin() as c:
        last = c.execute(text("SELECT max(seq) FROM org_audit_event")).scalar()
        c.execute(text("DELETE FROM org_audit_event WHERE seq = :s"), {"s": last})
    r = _verify(db)
    assert not r.ok and r.bad_seq == last


def test_verify_detects_two_rows_swapped(db):
    _seed(db)
    cols = "at, actor_id, actor_name, action, target_type, target_id, result, ip, detail, prev_hash, hash"
    with db.engine.begin() as c:
        a, b = c.execute(text("SELECT seq FROM org_audit_event ORDER BY seq LIMIT 2 OFFSET 1")).scalars().all()
        rows = {
            s: c.execute(text(f"SELECT {cols} FROM org_audit_event WHERE seq = :s"), {"s": s}).one() for s in (a, b)
        }
        names = [n.strip() for n in cols.split(",")]
        for target, source in ((a, b), (b, a)):
            params = dict(zip(names, rows[source], strict=True)) | {"s": target}
            if isinstance(params["detail"], dict):
                import json

                params["detail"] = json.dumps(params["detail"])
            c.execute(
                text("UPDATE org_audit_event SET " + ", ".join(f"{n} = :{n}" for n in names) + " WHERE seq = :s"),
                params,
            )
    r = _verify(db)
    assert not r.ok and r.bad_seq == a


def test_cli_audit_verify_exit_codes(db):
    _seed(db)
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    with db.engine.begin() as c:
        c.execute(text("UPDATE org_audit_event SET action = 'x' WHERE seq = (SELECT min(seq) FROM org_audit_event)"))
    bad = runner.invoke(cli, ["audit", "verify"])
    assert bad.exit_code == 1 and "BROKEN" in bad.output


def test_prune_keeps_the_chain_verifiable(db, settings):
    from datetime import timedelta

    import time_machine

    from countyos.core.clock import utcnow

    with time_machine.travel(utcnow() - timedelta(days=200), tick=False):
        _seed(db, 3)
    _seed(db, 2)
    with db.unit_of_work() as s:
        assert audit.prune(s) >= 3
    r = _verify(db)
    assert r.ok, r


def test_failed_write_leaves_no_audit_record(client, db):
    p = person(db, ["sysadmin"])
    csrf = login(client, p)
    before = len(actions(db))
    r = client.post(
        "/api/v1/departments",
        json={"name": "坏部门", "kind": "department", "uscc": "91350100M000100Y44"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "uscc"
    assert len(actions(db)) == before


def test_the_upgrade_seals_an_existing_head_as_the_log_does(settings):
    """Migration 0010 seals the head of a database that had none; its seal is the one verify checks."""
    import importlib.util

    from countyos.core.migrate import migrations_dir

    path = migrations_dir() / "versions" / "0010_org_mfa_count_sealed_head.py"
    spec = importlib.util.spec_from_file_location("m0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = {"seq": 41, "hash": "ab" * 32, "pruned_before_seq": 7, "pruned_anchor_hash": "cd" * 32}
    expected = audit.head_mac(audit._head_key(), **args)
    assert module._seal(41, "ab" * 32, 7, "cd" * 32) == expected
    assert module._seal(41, "ab" * 32, 7, None) == audit.head_mac(
        audit._head_key(), **(args | {"pruned_anchor_hash": None})
    )
