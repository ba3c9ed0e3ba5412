"""Backup while the server is busy, restore into a fresh database; upgrade from the first released
schema with data in it.

* ``countyos backup`` taken while devices ingest and staff move cases: the restore is a consistent
  moment of the county — the audit chain verifies, everything acknowledged before the backup began
  is in it, and nothing in it is absent from the source. A second backup once the traffic stopped
  restores to identical data (the static case is tests/core/test_backup.py).
* A database at migration 0001 with the first release's data (departments, people with second
  factors and encrypted phone numbers, roles, tokens, sessions, audit) upgraded to the latest
  schema: every row is still there, people sign in with their passwords and second factors, tokens
  work, the built-in roles receive the permissions of the new domains, the audit chain verifies and
  continues.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from countyos.app import create_app
from countyos.cases.models import Case, CaseEvent
from countyos.core.clock import utcnow
from countyos.core.db import Database
from countyos.core.settings import get_settings
from countyos.org import flows
from countyos.org import permissions as org_permissions
from countyos.org.models import AuditEvent, DepartmentKind
from countyos.org.service import departments, tokens, users
from countyos.sensing.models import Observation
from tests.core.test_backup import ADMIN, assert_restored_database_works, assert_same_data, countyos, snapshot
from tests.factories import PASSWORD, csrf_from
from tests.faults.server import Server
from tests.faults.test_sigkill import BATCH, CaseWork, HttpIngest, Load

# --- backup under load --------------------------------------------------------------------------


def test_backup_while_the_server_is_busy_restores_a_consistent_county(county, new_database, tmp_path: Path):
    w, db = county.world, county.db
    server = Server(county.url, county.data_dir)
    tokens_ = {
        who: w.bearer(db, getattr(w, who))["Authorization"][7:]
        for who in ("intake", "shift", "dispatcher", "handler_works", "worker_a")
    }
    base = int(utcnow().timestamp()) - 86400
    load = Load()
    try:
        server.start()
        http = HttpIngest(server, w.device_token, w.level, base, load)
        work = [CaseWork(server, tokens_, w, f"backup{k}", load) for k in range(2)]
        for t in (http, *work):
            t.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (len(http.acknowledged) < 10 * BATCH or not work[0].confirmed):
            time.sleep(0.2)
        acked_before = {base + i for i in http.acknowledged}
        confirmed_before = [c for t in work for c in t.confirmed]
        busy = tmp_path / "busy.backup"
        result = countyos(county.url, "backup", str(busy))
        assert result.exit_code == 0, result.output
        after = len(http.acknowledged)
        deadline = time.monotonic() + 60
        while len(http.acknowledged) < after + 5 * BATCH:  # the traffic goes on after the backup
            assert time.monotonic() < deadline, "no traffic after the backup"
            time.sleep(0.05)
        load.stop.set()
        for t in (http, *work):
            t.join(30)
        assert not load.errors, load.errors[:5]
    finally:
        load.stop.set()
        server.stop()

    target = new_database()
    result = countyos(target, "restore", str(busy))
    assert result.exit_code == 0, result.output
    assert countyos(target, "audit", "verify").exit_code == 0
    restored = Database(target)
    try:
        with restored.reading() as s:
            got = {int(us // 1_000_000) for us in s.scalars(select(Observation.phenomenon_us))}
            assert acked_before <= got, f"{len(acked_before - got)} observations acknowledged before the backup"
            for cid, action, version in confirmed_before:
                event = s.scalar(select(CaseEvent).where(CaseEvent.case_id == cid, CaseEvent.seq == version))
                assert event is not None and event.action == action
            # one consistent moment: no case is half-changed in the copy either
            for case in s.scalars(select(Case)):
                seqs = list(
                    s.scalars(select(CaseEvent.seq).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
                )
                assert seqs == list(range(1, case.version + 1)), case.id
            restored_audit = {(a.seq, a.hash) for a in s.scalars(select(AuditEvent))}
        with db.reading() as s:
            source_audit = {(a.seq, a.hash) for a in s.scalars(select(AuditEvent))}
            source_obs = {int(us // 1_000_000) for us in s.scalars(select(Observation.phenomenon_us))}
        assert restored_audit <= source_audit and got <= source_obs  # a moment of the source, nothing else
        assert len(restored_audit) < len(source_audit)  # and the traffic really went on after it
    finally:
        restored.dispose()

    # once the traffic stopped, a backup restores to identical data
    quiet = tmp_path / "quiet.backup"
    assert countyos(county.url, "backup", str(quiet)).exit_code == 0
    again = new_database()
    assert countyos(again, "restore", str(quiet)).exit_code == 0
    assert_same_data(snapshot(county.url), snapshot(again))
    assert_restored_database_works(again)


# --- upgrade from the first release -------------------------------------------------------------


# Columns later migrations add to the org tables. The first release's data is written with today's
# services, which read and write them, so they are there while it is written and dropped after.
LATER_ORG_COLUMNS = {"org_user": ("failed_mfa", "INTEGER NOT NULL DEFAULT 0"), "org_audit_head": ("mac", "VARCHAR(64)")}
# Grants migration 0010 takes back from the built-in operational roles (the account list is the
# administrators'): (role code, permission code).
REVOKED_BY_0010 = "user.read"


def first_release_data(url: str) -> dict[str, str]:
    """What a county had in the first release (org only): returns the second factor's secret."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as c:
        for table, (column, ddl) in LATER_ORG_COLUMNS.items():
            c.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    try:
        return _write_first_release_data(url)
    finally:
        with engine.begin() as c:
            for table, (column, _) in LATER_ORG_COLUMNS.items():
                c.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        engine.dispose()


def _write_first_release_data(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        with db.unit_of_work() as s:
            flows.bootstrap(
                s,
                permissions=org_permissions.PERMISSIONS,
                role_specs=org_permissions.ROLES,
                grants=org_permissions.GRANTS,
            )
        with db.unit_of_work() as s:
            centre = departments.create(s, actor=ADMIN, name="县城市运行管理中心", kind=DepartmentKind.OPS_CENTRE)
            departments.create(
                s, actor=ADMIN, name="妙高街道北街社区", kind=DepartmentKind.VILLAGE, parent_id=centre.id
            )
            flows.create_person(
                s,
                actor=ADMIN,
                username="intake1",
                display_name="受理员 李晓",
                password=PASSWORD,
                role_codes=["intake"],
                department_id=centre.id,
                phone="13812345678",
                must_change_password=False,
            )
            admin = flows.create_person(
                s,
                actor=ADMIN,
                username="sysadmin1",
                display_name="系统管理员",
                password=PASSWORD,
                role_codes=["sysadmin"],
                must_change_password=False,
            )
            machine = flows.create_person(
                s,
                actor=ADMIN,
                username="hotline",
                display_name="12345 热线",
                password=PASSWORD,
                role_codes=["intake"],
                is_machine=True,
            )
            s.flush()
            secret = pyotp.random_base32()
            admin.totp_secret_enc = users.cipher().encrypt(secret)
            admin.totp_enabled = True
            _, plain = tokens.create(s, actor=ADMIN, name="热线对接", user_id=machine.id, scopes=["department.read"])
        return {"totp": secret, "token": plain}
    finally:
        db.dispose()


def org_rows(url: str, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every org table's rows; with ``columns``, only those columns of those tables (what an older
    schema had), so that columns added by the upgrade are left out of the comparison."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        found = inspect(engine)
        names = sorted(n for n in found.get_table_names() if n.startswith("org_"))
        out = {}
        with engine.connect() as c:
            for n in names:
                cols = (columns or {}).get(n) or [col["name"] for col in found.get_columns(n)]
                sql = "SELECT " + ", ".join(f'"{x}"' for x in cols) + f' FROM "{n}"'
                out[n] = sorted((tuple(r) for r in c.execute(text(sql))), key=repr)
        return out
    finally:
        engine.dispose()


def org_columns(url: str) -> dict[str, list[str]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        found = inspect(engine)
        names = [n for n in found.get_table_names() if n.startswith("org_")]
        return {n: [col["name"] for col in found.get_columns(n)] for n in names}
    finally:
        engine.dispose()


def role_grants_revoked(url: str) -> set[tuple]:
    """The (role_id, permission_code) rows of the grants migration 0010 takes back."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as c:
            sql = text(
                "SELECT rp.role_id, rp.permission_code FROM org_role_permission rp"
                " JOIN org_role r ON r.id = rp.role_id"
                " WHERE rp.permission_code = :code AND r.code NOT IN ('sysadmin', 'secadmin', 'auditadmin')"
            )
            return {tuple(r) for r in c.execute(sql, {"code": REVOKED_BY_0010})}
    finally:
        engine.dispose()


def test_upgrade_from_the_first_release_keeps_everything_working(new_database, settings):
    url = new_database()
    result = countyos(url, "db", "upgrade", "0001")
    assert result.exit_code == 0 and "0001" in result.output, result.output
    first = first_release_data(url)
    first_columns = org_columns(url)
    before = org_rows(url)
    revoked = role_grants_revoked(url)

    result = countyos(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    after = org_rows(url, first_columns)
    assert not role_grants_revoked(url)
    for table, rows in before.items():
        if table == "org_audit_head":
            continue  # the chain's head moves on with every record
        if table == "org_role_permission":
            lost = [r for r in rows if r not in after[table]]
            assert {tuple(r[:2]) for r in lost} == revoked, "grants other than 0010's were lost"
        elif table in ("org_permission", "org_role", "org_audit_event"):
            # the catalog grew (a new domain's permissions and built-in roles); nothing old changed
            assert all(r in after[table] for r in rows), f"rows of {table} were lost or changed"
        else:
            assert after[table] == rows, f"{table} changed in the upgrade"
    assert countyos(url, "audit", "verify").exit_code == 0

    db = Database(url)
    try:
        with db.unit_of_work() as s:
            intake = users.get_by_username(s, username="intake1")
            # the built-in roles received the permissions of the domains the upgrade brought
            assert {"case.read", "case.intake", "ioc.view"} <= intake.permission_codes
            assert users.reveal_phone(s, actor=ADMIN, user_id=intake.id) == "13812345678"
        app = create_app(get_settings().model_copy(update={"database_url": url}), db)
        with TestClient(app) as c:
            page = c.get("/login")
            r = c.post(
                "/login",
                data={"username": "sysadmin1", "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": ""},
                follow_redirects=False,
            )
            assert r.status_code == 303 and r.headers["location"] == "/login/mfa"
            page = c.get("/login/mfa")
            r = c.post(
                "/login/mfa",
                data={"code": pyotp.TOTP(first["totp"]).now(), "csrf_token": csrf_from(page.text)},
                follow_redirects=False,
            )
            assert r.status_code == 303 and r.headers["location"] == "/"
        with TestClient(app) as c:
            assert (
                c.get("/api/v1/departments", headers={"Authorization": f"Bearer {first['token']}"}).status_code == 200
            )
            page = c.get("/login")
            c.post(
                "/login",
                data={"username": "intake1", "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": ""},
            )
            assert c.get("/cases").status_code == 200  # a page of a domain the first release did not have
    finally:
        db.dispose()
    assert_restored_database_works(url)
