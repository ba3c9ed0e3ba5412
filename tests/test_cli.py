"""The ``countyos`` command as an operator uses it: install, schema, first admin, users, demo, MFA codes.

(`config check` is covered in test_settings_cli.py, `audit verify` in org/test_audit.py, `backup` and
`restore` in core/test_backup.py.)
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from click.testing import Result
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from countyos import __version__, cli, domains
from countyos.core import migrate
from countyos.core.db import Database
from countyos.core.settings import reset_settings
from countyos.org.models import AuditEvent, DepartmentKind, Permission, Role, User
from countyos.org.service import departments, users
from tests.factories import FACTORY, person
from tests.smalldemo import smaller_demo

STRONG = "Str0ng@pass2026"
runner = CliRunner()
# For what does not depend on the database backend (the demo always runs on SQLite).
sqlite_run_only = pytest.mark.skipif(
    os.environ["COUNTYOS_TEST_DATABASE_URL"].startswith("postgresql"), reason="runs in the SQLite run"
)


@pytest.fixture(autouse=True)
def _fresh_settings():
    reset_settings()
    yield
    reset_settings()


def countyos(url: str, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    reset_settings()
    try:
        return runner.invoke(cli.app, list(args), env={"COUNTYOS_DATABASE_URL": url, **(env or {})}, input=input)
    finally:
        reset_settings()


def _count(url: str, stmt: Any) -> int:
    db = Database(url)
    try:
        with db.reading() as s:
            return int(s.scalar(stmt) or 0)
    finally:
        db.dispose()


@dataclass
class UserView:
    display_name: str
    roles: list[str]
    department: str | None
    must_change_password: bool
    phone_enc: str | None


def _user(url: str, username: str) -> UserView | None:
    db = Database(url)
    try:
        with db.reading() as s:
            u = users.get_by_username(s, username=username)
            if u is None:
                return None
            department = u.department.name if u.department else None
            roles = sorted(r.code for r in u.roles)
            return UserView(u.display_name, roles, department, u.must_change_password, u.phone_enc)
    finally:
        db.dispose()


@sqlite_run_only
def test_console_script_lists_every_command() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "countyos"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for command in ("init", "serve", "demo", "db", "user", "config", "audit", "backup", "restore", "mfa", "jobs"):
        assert f" {command} " in done.stdout, f"`countyos {command}` is missing from --help"
    for mod in domains.modules("commands"):
        assert f" {mod.NAME} " in done.stdout, f"the {mod.NAME} domain's commands are missing"


def test_jobs_are_listed_and_one_runs_now(new_database) -> None:
    url = new_database()
    assert countyos(url, "db", "upgrade").exit_code == 0
    listed = countyos(url, "jobs", "list")
    assert (
        listed.exit_code == 0 and "portal.tell_followers" in listed.stdout and "cases.sweep_deadlines" in listed.stdout
    )
    ran = countyos(url, "jobs", "run", "portal.purge_codes")
    assert ran.exit_code == 0 and ran.stdout.strip() == "portal.purge_codes: 0"
    unknown = countyos(url, "jobs", "run", "no.such.job")
    assert unknown.exit_code == 2 and "countyos jobs list" in unknown.output


def test_version(new_database) -> None:
    r = countyos(new_database(), "version")
    assert r.exit_code == 0 and r.output.strip() == __version__


def test_db_upgrade_creates_the_schema_and_the_catalog_and_can_run_again(new_database) -> None:
    url = new_database()
    first = countyos(url, "db", "upgrade")
    assert first.exit_code == 0, first.output
    head = migrate.current(url)
    assert head is not None and head in first.output
    permissions = _count(url, select(func.count()).select_from(Permission))
    roles = _count(url, select(func.count()).select_from(Role))
    assert permissions == len(domains.all_permissions())
    assert roles == len(domains.all_roles())

    again = countyos(url, "db", "upgrade")
    assert again.exit_code == 0, again.output
    assert migrate.current(url) == head
    assert _count(url, select(func.count()).select_from(Permission)) == permissions
    assert _count(url, select(func.count()).select_from(Role)) == roles


def test_db_downgrade_to_base_and_upgrade_again(new_database) -> None:
    url = new_database()
    assert countyos(url, "db", "upgrade").exit_code == 0
    down = countyos(url, "db", "downgrade", "base")
    assert down.exit_code == 0, down.output
    assert migrate.current(url) is None
    from sqlalchemy import create_engine

    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) - {"spatial_ref_sys"} == {"alembic_version"}
    engine.dispose()
    assert countyos(url, "db", "upgrade").exit_code == 0
    assert migrate.current(url) is not None


def test_init_creates_the_first_system_administrator_once(new_database) -> None:
    url = new_database()
    r = countyos(url, "init", "--admin-username", "root", "--admin-password", STRONG, "--admin-name", "钱进")
    assert r.exit_code == 0, r.output
    admin = _user(url, "root")
    assert admin is not None
    assert admin.roles == ["sysadmin"]
    assert admin.display_name == "钱进"
    assert admin.must_change_password, "the first password is temporary"
    assert _count(url, select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "user.create")) == 1

    again = countyos(url, "init", "--admin-username", "root", "--admin-password", "Other@pass2026")
    assert again.exit_code == 0, again.output
    assert "root" in again.output
    assert _count(url, select(func.count()).select_from(User)) == 1
    assert countyos(url, "audit", "verify").exit_code == 0


def test_init_asks_for_the_password_twice(new_database) -> None:
    url = new_database()
    r = countyos(url, "init", input=f"{STRONG}\n{STRONG}\n")
    assert r.exit_code == 0, r.output
    assert _user(url, "admin") is not None


def test_init_refuses_a_weak_password(new_database) -> None:
    url = new_database()
    r = countyos(url, "init", "--admin-password", "password")
    assert r.exit_code == 2, r.output
    assert _user(url, "admin") is None


def test_user_create_with_roles_department_and_phone(new_database) -> None:
    url = new_database()
    assert countyos(url, "db", "upgrade").exit_code == 0
    db = Database(url)
    with db.unit_of_work() as s:
        departments.create(s, actor=FACTORY, name="县水利局", kind=DepartmentKind.DEPARTMENT)
    db.dispose()
    r = countyos(url, "user", "create", "--username", "lisi", "--name", "李四", "--role", "dispatcher", "--role",
                 "intake", "--department", "县水利局", "--phone", "13800001234", "--password", STRONG)  # fmt: skip
    assert r.exit_code == 0, r.output
    u = _user(url, "lisi")
    assert u is not None
    assert u.roles == ["dispatcher", "intake"]
    assert u.department == "县水利局"
    assert u.phone_enc and "13800001234" not in str(u.phone_enc), "the phone is stored encrypted"
    assert countyos(url, "audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--role", "no_such_role"], "unknown role"),
        (["--role", "dispatcher", "--department", "不存在的部门"], "unknown department"),
        (["--role", "sysadmin", "--role", "auditadmin"], "separated administrator roles combined"),
        (["--role", "dispatcher", "--password", "short"], "weak password"),
    ],
)
def test_user_create_refuses_and_creates_nothing(new_database, extra: list[str], reason: str) -> None:
    url = new_database()
    assert countyos(url, "db", "upgrade").exit_code == 0
    args = ["user", "create", "--username", "wangwu", "--name", "王五", *extra]
    if "--password" not in extra:
        args += ["--password", STRONG]
    r = countyos(url, *args)
    assert r.exit_code == 2, f"{reason}: {r.output}"
    assert r.exception is None or isinstance(r.exception, SystemExit), f"{reason}: crashed with {r.exception!r}"
    assert _user(url, "wangwu") is None, reason


def test_user_create_refuses_a_taken_user_name(new_database) -> None:
    url = new_database()
    assert countyos(url, "db", "upgrade").exit_code == 0
    first = ["user", "create", "--username", "zhao", "--name", "赵六", "--role", "intake", "--password", STRONG]
    assert countyos(url, *first).exit_code == 0
    r = countyos(url, "user", "create", "--username", "zhao", "--name", "另一个赵六", "--role", "leader",
                 "--password", STRONG)  # fmt: skip
    assert r.exit_code == 2, r.output
    u = _user(url, "zhao")
    assert u is not None and u.display_name == "赵六"


def test_mfa_code_is_a_development_aid_only(new_database) -> None:
    url = new_database()
    assert countyos(url, "db", "upgrade").exit_code == 0
    db = Database(url)
    admin = person(db, ["secadmin"], username="sec1")
    db.dispose()
    assert admin.totp_secret

    refused = countyos(url, "mfa", "code", "sec1", env={"COUNTYOS_ENV": "test"})
    assert refused.exit_code == 2
    assert not any(line.strip().isdigit() for line in refused.output.splitlines())

    shown = countyos(url, "mfa", "code", "sec1", env={"COUNTYOS_ENV": "dev"})
    assert shown.exit_code == 0, shown.output
    assert pyotp.TOTP(admin.totp_secret).verify(shown.output.strip(), valid_window=1)

    nobody = countyos(url, "mfa", "code", "nobody", env={"COUNTYOS_ENV": "dev"})
    assert nobody.exit_code == 1


def _demo_env(tmp_path: Path, db_path: Path | None, mode: str) -> dict[str, str | None]:
    # Every variable the demo may set is named here, so the runner puts the environment back afterwards.
    return {
        "COUNTYOS_ENV": mode,
        "COUNTYOS_DATABASE_URL": f"sqlite:///{db_path}" if db_path else None,
        "COUNTYOS_DATA_DIR": str(tmp_path / "data"),
        "COUNTYOS_COUNTY_NAME": "遂昌县",
        "COUNTYOS_PUBLIC_URL": None,
    }


@sqlite_run_only
def test_demo_builds_a_fresh_demo_county(tmp_path: Path) -> None:
    db_path = tmp_path / "demo" / "countyos.db"
    db_path.parent.mkdir()
    db_path.write_bytes(b"an earlier demo database")  # replaced, not added to
    url = f"sqlite:///{db_path}"
    # No database configured, another port: the demo's own database, its links and hints follow.
    with smaller_demo():  # the command and all it prints; the browser tests build the full-size demo
        r = runner.invoke(
            cli.app,
            ["demo", "--no-serve", "--path", str(db_path), "--port", "8123"],
            env=_demo_env(tmp_path, None, "dev"),
        )
    assert r.exit_code == 0, r.output
    for username in ("intake", "dispatch", "leader", "sysadmin", "secadmin", "auditor"):
        assert f"  {username} " in r.output, f"demo account {username} is not printed"
    assert "Demo@2026county" in r.output
    assert "Open http://127.0.0.1:8123 and log in." in r.output
    assert "-d description=test http://127.0.0.1:8123/open311/v2/requests.json" in r.output
    assert "simulate --via http --url http://127.0.0.1:8123" in r.output
    assert ":8000" not in r.output
    # the printed hint works exactly as printed, with nothing configured
    line = next(ln for ln in r.output.splitlines() if ln.startswith("  sysadmin "))
    secret = re.search(r"TOTP secret (\w+) \((countyos [^)]*)\)", line)
    assert secret is not None, line
    printed = shlex.split(secret.group(2))
    assert printed[:2] == ["countyos", "--database"] and printed[-3:] == ["mfa", "code", "sysadmin"]
    shown = runner.invoke(cli.app, printed[1:], env=_demo_env(tmp_path, None, "dev"))
    assert shown.exit_code == 0, shown.output
    assert pyotp.TOTP(secret.group(1)).verify(shown.output.strip(), valid_window=1)
    assert _count(url, select(func.count()).select_from(User)) >= 12
    assert _count(url, select(func.count()).select_from(Role)) >= len(domains.all_roles())
    _the_demo_residents_portal(url, r.output)
    reset_settings()
    assert countyos(url, "audit", "verify").exit_code == 0


def _the_demo_residents_portal(url: str, output: str) -> None:
    """张秀英 verified at a window and following reports (one closed, so told), notices, facilities of every
    kind, what can be booked, 噪声扰民 shown by grid only; how to sign in is printed."""
    from countyos.cases.models import Category
    from countyos.portal.models import (
        Bookable,
        CaseFollow,
        Facility,
        FacilityKind,
        Message,
        Notice,
        NoticeState,
        RealNameLevel,
        Resident,
    )

    assert "/portal/signin with the phone 1380571" in output
    assert _count(url, select(func.count()).select_from(Resident).where(Resident.level == RealNameLevel.VERIFIED)) == 1
    assert _count(url, select(func.count()).select_from(CaseFollow)) == 2
    assert _count(url, select(func.count()).select_from(Message).where(Message.kind == "case")) == 1
    assert _count(url, select(func.count()).select_from(Notice).where(Notice.state == NoticeState.PUBLISHED)) >= 8
    kinds = _count(url, select(func.count(func.distinct(Facility.kind))))
    assert kinds == len(FacilityKind) - 1  # every kind but "other"
    assert _count(url, select(func.count()).select_from(Bookable)) >= 5
    assert _count(url, select(func.count()).select_from(Category).where(Category.sensitive.is_(True))) == 1


@sqlite_run_only
@pytest.mark.parametrize("mode", ["test", "prod"])
def test_demo_refuses_outside_development_mode_and_touches_nothing(tmp_path: Path, mode: str) -> None:
    db_path = tmp_path / "county.db"
    db_path.write_bytes(b"a county's real database")
    env = _demo_env(tmp_path, db_path, mode)
    env["COUNTYOS_SECRET_KEY"] = "a-real-secret-key-of-enough-length-0123456789"
    r = runner.invoke(cli.app, ["demo", "--no-serve", "--path", str(db_path)], env=env)
    assert r.exit_code == 2, r.output
    assert db_path.read_bytes() == b"a county's real database"


def test_the_served_address_is_the_public_url_unless_one_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from countyos.core.settings import get_settings

    monkeypatch.setenv("COUNTYOS_PUBLIC_URL", "")
    monkeypatch.delenv("COUNTYOS_PUBLIC_URL")  # put back (removed) after the test
    reset_settings()
    assert cli._follow_address(get_settings(), "0.0.0.0", 9000).public_url == "http://127.0.0.1:9000"
    assert get_settings().public_url == "http://127.0.0.1:9000"  # what Open311 service_notice links use
    monkeypatch.delenv("COUNTYOS_PUBLIC_URL")
    reset_settings()
    assert cli._follow_address(get_settings(), "10.1.2.3", 8080).public_url == "http://10.1.2.3:8080"
    monkeypatch.delenv("COUNTYOS_PUBLIC_URL")
    reset_settings()
    assert cli._follow_address(get_settings(), "::1", 8080).public_url == "http://[::1]:8080"
    monkeypatch.setenv("COUNTYOS_PUBLIC_URL", "https://city.example.cn")
    reset_settings()
    assert cli._follow_address(get_settings(), "0.0.0.0", 9000).public_url == "https://city.example.cn"


@pytest.mark.parametrize(
    "args",
    [["mfa", "code", "sysadmin"], ["audit", "verify"], ["user", "create", "--username", "u1", "--name", "n",
                                                          "--role", "handler", "--password", STRONG]],
)  # fmt: skip
def test_commands_without_a_database_say_what_to_do(tmp_path: Path, monkeypatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(cli.app, args, env={"COUNTYOS_DATABASE_URL": None, "COUNTYOS_ENV": "dev"})
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit)  # not a traceback
    assert "No CountyOS database at sqlite:///./countyos.db" in r.output and "countyos init" in r.output
    assert list(tmp_path.iterdir()) == []  # and no empty database file left behind
    missing = tmp_path / "nowhere" / "county.db"
    r = runner.invoke(
        cli.app,
        ["--database", f"sqlite:///{missing}", *args],
        env={"COUNTYOS_DATABASE_URL": None, "COUNTYOS_ENV": "dev"},
    )
    assert r.exit_code == 2 and f"No CountyOS database at sqlite:///{missing}" in r.output
    nowhere = "postgresql+psycopg://nobody:x@127.0.0.1:1/none"
    r = runner.invoke(cli.app, args, env={"COUNTYOS_DATABASE_URL": nowhere, "COUNTYOS_ENV": "dev"})
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert "Cannot use the database at postgresql+psycopg://nobody:***@127.0.0.1:1/none" in r.output
    assert ":x@" not in r.output  # not the password


@sqlite_run_only
def test_the_console_script_ends_without_a_traceback_on_a_missing_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTYOS_")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "countyos"), "simulate", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Cannot use the database at sqlite:///./countyos.db" in done.stderr
