"""Backup then restore into a fresh database gives identical data, through the ``countyos`` command.

SQLite goes through the online backup API, PostgreSQL through pg_dump / pg_restore (the restore
runs as the test command's ordinary role, the way a county's application role would). After a
restore the audit chain verifies, and the restored database keeps working: a new write gets fresh
ids and extends the chain.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from countyos import cli, domains
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.core.settings import get_settings, reset_settings
from countyos.org.models import DepartmentKind
from countyos.org.service import auth, departments, tokens, users
from tests.smalldemo import smaller_demo

POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}
ADMIN = Actor(id=None, name="backup-test", permissions=frozenset({"user.pii"}))
runner = CliRunner()
sqlite_only = pytest.mark.skipif(
    os.environ["COUNTYOS_TEST_DATABASE_URL"].startswith("postgresql"), reason="SQLite-specific behaviour"
)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    reset_settings()
    yield
    reset_settings()


@dataclass
class County:
    """The demonstration county in a database, its backup (made by `countyos backup`) and its data."""

    url: str
    archive: Path
    data: dict[str, tuple[list[str], list[tuple[Any, ...]]]]


@pytest.fixture(scope="module")
def county(new_module_database, tmp_path_factory: pytest.TempPathFactory) -> County:
    """Built once per module (the demo county takes seconds); tests work on restored copies."""
    url = new_module_database()
    with smaller_demo():  # every table the demo fills, at a smaller size (tests/smalldemo.py)
        populate(url)
    data = snapshot(url)
    assert len(data["org_user"][1]) >= 12 and len(data["org_department"][1]) >= 17
    assert len(data["org_audit_event"][1]) > 20
    archive = tmp_path_factory.mktemp("backups") / "county.backup"
    result = countyos(url, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert archive.is_file() and archive.stat().st_size > 0
    return County(url, archive, data)


def restored_copy(county: County, new_database: Callable[[], str]) -> str:
    url = new_database()
    result = countyos(url, "restore", str(county.archive))
    assert result.exit_code == 0, result.output
    return url


def countyos(url: str, *args: str) -> Result:
    """Run ``countyos ARGS`` against the database at URL (as an operator would at the console)."""
    reset_settings()
    try:
        return runner.invoke(cli.app, list(args), env={"COUNTYOS_DATABASE_URL": url})
    finally:
        reset_settings()


def populate(url: str) -> None:
    """The schema, the permission catalog and the demonstration county, plus sessions and tokens."""
    reset_settings()
    settings = get_settings().model_copy(update={"database_url": url})
    db = cli.setup_database(settings)
    try:
        ctx = DemoContext()
        with db.unit_of_work() as s:
            for mod in domains.modules("demo"):
                mod.load(s, ctx)
        with db.unit_of_work() as s:
            outcome = auth.login(s, username="dispatch", password=ctx.accounts[0][1], ip="10.0.0.8")
            assert outcome.ok, outcome.error
            tokens.create(s, actor=ADMIN, name="热线系统", user_id=ctx.user_ids["data"], scopes=["department.read"])
            users.reveal_phone(s, actor=ADMIN, user_id=ctx.user_ids["grid"])
    finally:
        db.dispose()


def snapshot(url: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table's columns and rows (in a canonical order), PostGIS's own tables left out."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        names = sorted(set(inspect(engine).get_table_names()) - POSTGIS_TABLES)
        out = {}
        with engine.connect() as conn:
            for name in names:
                result = conn.execute(text(f'SELECT * FROM "{name}"'))
                rows = sorted((tuple(r) for r in result), key=repr)
                out[name] = (list(result.keys()), rows)
        return out
    finally:
        engine.dispose()


def assert_same_data(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert sorted(after) == sorted(before), "the restored database has other tables"
    for name, (columns, rows) in before.items():
        assert after[name][0] == columns, f"columns of {name} differ"
        assert after[name][1] == rows, f"rows of {name} differ"


def assert_restored_database_works(url: str) -> None:
    """Audit chain intact; a new write gets a fresh id and extends the chain."""
    result = countyos(url, "audit", "verify")
    assert result.exit_code == 0, result.output
    db = Database(url)
    try:
        with db.unit_of_work() as s:
            existing = {d.id for d in departments.all_active(s)}
            dep = departments.create(s, actor=ADMIN, name="恢复后新建的部门", kind=DepartmentKind.DEPARTMENT)
            assert dep.id not in existing
    finally:
        db.dispose()
    result = countyos(url, "audit", "verify")
    assert result.exit_code == 0, result.output


def test_backup_then_restore_into_a_fresh_database_gives_identical_data(county: County, new_database) -> None:
    tables_with_rows = [name for name, (_, rows) in county.data.items() if rows]
    assert len(tables_with_rows) >= 10, f"too little data to compare: {tables_with_rows}"
    target = restored_copy(county, new_database)
    assert_same_data(county.data, snapshot(target))
    assert_restored_database_works(target)
    # The backup left the source as it was.
    assert_same_data(county.data, snapshot(county.url))


def test_the_comparison_sees_a_changed_row(county: County, new_database) -> None:
    """The identical-data check can fail: one changed value in one table is caught."""
    url = restored_copy(county, new_database)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE org_department SET phone = '0578-0000000' WHERE id = (SELECT min(id) FROM org_department)")
        )
    engine.dispose()
    with pytest.raises(AssertionError, match="rows of org_department differ"):
        assert_same_data(county.data, snapshot(url))


def test_restore_refuses_a_missing_backup_file(new_database, tmp_path: Path) -> None:
    result = countyos(new_database(), "restore", str(tmp_path / "nothing.backup"))
    assert result.exit_code == 2
    assert "nothing.backup" in result.output  # the message names the file


@sqlite_only
def test_sqlite_backup_includes_writes_still_in_the_wal(county: County, new_database, tmp_path: Path) -> None:
    """The online backup sees committed rows that only live in the -wal file (a file copy would not)."""
    url = restored_copy(county, new_database)
    db = Database(url)
    try:
        with db.engine.connect() as keep_open:  # holds the WAL open: no checkpoint on close
            keep_open.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            with db.unit_of_work() as s:
                departments.create(s, actor=ADMIN, name="刚写入的部门", kind=DepartmentKind.VILLAGE)
            assert Path(url.removeprefix("sqlite:///") + "-wal").stat().st_size > 0
            result = countyos(url, "backup", str(tmp_path / "hot.db"))
            assert result.exit_code == 0, result.output
            before = snapshot(url)
    finally:
        db.dispose()
    copy = sqlite3.connect(tmp_path / "hot.db")
    try:
        names = [r[0] for r in copy.execute("SELECT name FROM org_department")]
    finally:
        copy.close()
    assert "刚写入的部门" in names
    target = new_database()
    assert countyos(target, "restore", str(tmp_path / "hot.db")).exit_code == 0
    assert_same_data(before, snapshot(target))


@sqlite_only
def test_sqlite_restore_replaces_an_existing_database_only_with_force(
    county: County, new_database, tmp_path: Path
) -> None:
    old, new = restored_copy(county, new_database), restored_copy(county, new_database)
    db = Database(new)
    with db.unit_of_work() as s:
        departments.create(s, actor=ADMIN, name="只在新库里的部门", kind=DepartmentKind.OPERATOR)
    db.dispose()
    archive = tmp_path / "new.backup"
    assert countyos(new, "backup", str(archive)).exit_code == 0

    refused = countyos(old, "restore", str(archive))
    assert refused.exit_code == 2
    assert "--force" in refused.output
    assert_same_data(county.data, snapshot(old))

    forced = countyos(old, "restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    assert_same_data(snapshot(new), snapshot(old))
    assert_restored_database_works(old)


@sqlite_only
def test_sqlite_restore_refuses_a_damaged_backup(county: County, tmp_path: Path) -> None:
    archive = tmp_path / "damaged.backup"
    archive.write_bytes(county.archive.read_bytes())
    check = sqlite3.connect(archive)
    page_size = check.execute("PRAGMA page_size").fetchone()[0]
    root = check.execute("SELECT rootpage FROM sqlite_master WHERE name = 'org_user'").fetchone()[0]
    check.close()
    data = bytearray(archive.read_bytes())
    start = (root - 1) * page_size + 8  # keep the page header, scribble over the cells
    data[start : start + page_size - 8] = b"\xff" * (page_size - 8)
    archive.write_bytes(bytes(data))
    target = tmp_path / "target.db"
    result = countyos(f"sqlite:///{target}", "restore", str(archive))
    assert result.exit_code == 2, result.output
    assert not target.exists() or target.stat().st_size == 0

    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("这不是数据库备份" * 100)
    result = countyos(f"sqlite:///{target}", "restore", str(not_sqlite))
    assert result.exit_code == 2, result.output
    assert not target.exists() or target.stat().st_size == 0


@pytest.mark.postgres_only
def test_postgres_restore_with_force_replaces_the_data(county: County, new_database) -> None:
    """`restore --force` into a database that holds other data leaves exactly the backup's data."""
    target = restored_copy(county, new_database)
    db = Database(target)
    with db.unit_of_work() as s:
        departments.create(s, actor=ADMIN, name="将被覆盖的部门", kind=DepartmentKind.OPERATOR)
    db.dispose()
    result = countyos(target, "restore", "--force", str(county.archive))
    assert result.exit_code == 0, result.output
    assert_same_data(county.data, snapshot(target))
    assert_restored_database_works(target)
    engine = create_engine(target, poolclass=NullPool)
    with engine.connect() as conn:  # the extension, created by the superuser, is kept
        assert conn.execute(text("SELECT extname FROM pg_extension WHERE extname = 'postgis'")).scalar()
    engine.dispose()
