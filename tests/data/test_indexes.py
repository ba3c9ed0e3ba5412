"""A big file's rows are committed (and served) before its table's search indexes are made: by the
command right after, by an upload before it answers, or by the ``data.index_loads`` job for any left."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from countyos.core.db import Database
from countyos.core.settings import reset_settings
from countyos.data import commands, flows, jobs
from countyos.data.models import Load, LoadState
from countyos.data.service import catalogue, loads
from countyos.org.models import AuditEvent
from tests import factories
from tests.conftest import DATABASE_URL
from tests.data.conftest import BUREAU, entry

runner = CliRunner()
root = typer.Typer()
root.add_typer(commands.app, name=commands.NAME)  # as cli.main() mounts it
FILE = (
    "企业名称,统一社会信用代码,成立日期,法定代表人\n"
    "甲公司,91331123MA2000001J,2020-05-01,张三\n"
    "乙公司,91331123MA2000002M,2021-06-02,李四\n"
)


def _indexes(db: Database, table: str) -> list[list[str]]:
    with db.reading() as s:
        return sorted(ix["column_names"] for ix in inspect(s.connection()).get_indexes(table))  # type: ignore[misc]


def test_a_load_is_served_first_and_indexed_by_the_job(db, office, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        rid = catalogue.create(s, actor=BUREAU, data=entry(office.market)).id
    path = tmp_path / "qy.csv"
    path.write_text(FILE, encoding="utf-8")
    made: list[Load] = []
    for _ in range(4):
        load = flows.load_path(db, actor=BUREAU, resource_id=rid, path=path, filename="qy.csv", skip_bad_rows=False)
        assert load.state is LoadState.LOADED and load.table_name and load.indexed_at is None
        assert load.indexes == [["uscc"], ["founded"]]  # the key, then the date
        assert _indexes(db, load.table_name) == []  # served already, without its indexes
        made.append(load)
    with db.reading() as s:
        assert loads.unindexed(s) == [m.id for m in made]
    assert jobs.index_loads(db) == 4
    with db.reading() as s:
        assert loads.unindexed(s) == []
        kept = {m.id: (load.table_name, load.indexed_at) for m in made if (load := s.get(Load, m.id))}
        audited = s.scalars(select(AuditEvent.action).where(AuditEvent.action == "data.load.indexed")).all()
    assert kept[made[0].id][0] is None  # beyond the last three: dropped once the newest is indexed
    for m in made[1:]:
        assert kept[m.id][1] is not None and _indexes(db, m.table_name) == [["founded"], ["uscc"]]
    assert len(audited) == 4  # oldest first: the first was indexed before the newest dropped its table
    assert jobs.index_loads(db) == 0


def test_an_upload_answers_with_its_indexes_made(client, db, office) -> None:
    h = {"X-CSRF-Token": factories.login(client, office.provider)}
    with db.unit_of_work() as s:
        rid = catalogue.create(s, actor=BUREAU, data=entry(office.market)).id
    files = {"file": ("qy.csv", FILE.encode(), "text/csv")}
    r = client.post(f"/api/v1/data/resources/{rid}/loads", files=files, data={"skip_bad_rows": "false"}, headers=h)
    assert r.status_code == 201, r.text
    with db.reading() as s:
        load = s.get(Load, r.json()["id"])
        assert load is not None and load.indexed_at is not None and load.table_name
        table = load.table_name
    assert _indexes(db, table) == [["founded"], ["uscc"]]


def test_the_load_command_makes_the_indexes_after_the_rows(db, office, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        catalogue.create(s, actor=BUREAU, data=entry(office.market))
    path = tmp_path / "qy.csv"
    path.write_text(FILE, encoding="utf-8")
    reset_settings()
    try:
        done = runner.invoke(root, ["data", "load", "--resource", "331123-SCJG-0001", str(path)],
                             env={"COUNTYOS_DATABASE_URL": DATABASE_URL})  # fmt: skip
    finally:
        reset_settings()
    assert done.exit_code == 0, done.output
    assert "load 1: loaded, read 2, loaded 2" in done.output and "search indexes: 2" in done.output
    with db.reading() as s:
        load = s.scalars(select(Load)).one()
        assert load.indexed_at is not None and load.table_name
        table = load.table_name
    assert _indexes(db, table) == [["founded"], ["uscc"]]


def test_a_load_leaves_the_connection_s_page_cache_as_it_was(db, office, tmp_path: Path) -> None:
    """SQLite: a load writes with a big page cache (``loads.LOAD_CACHE_KIB``), then gives it back."""
    path = tmp_path / "qy.csv"
    path.write_text(FILE, encoding="utf-8")
    with db.unit_of_work() as s:
        conn = s.connection()
        if conn.dialect.name != "sqlite":
            pytest.skip("PostgreSQL: the load changes no cache of its connection")
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        rid = catalogue.create(s, actor=BUREAU, data=entry(office.market)).id
        load = loads.load_file(s, actor=BUREAU, resource_id=rid, path=path, filename="qy.csv")
        assert load.state is LoadState.LOADED and load.indexed_at is not None
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before != -loads.LOAD_CACHE_KIB
