"""``datastore_search_sql``: one read-only SELECT over the open resources, as CKAN answers it — the happy
paths, every refusal (writes, two statements, system tables, resources that are not open, columns not
marked open, functions off the allow-list), the row cap, the time budget, and ``ckanapi`` against the
running server."""

from __future__ import annotations

import ckanapi
import pytest
from sqlalchemy import select, text

from countyos.data.models import Load, Resource
from countyos.data.schemas import ActionIn
from countyos.data.service import catalogue, opendata, sqlsearch
from countyos.org.models import AuditEvent
from tests.data.conftest import BUREAU, entry
from tests.live import serve

API = "/api/3/action/datastore_search_sql"

COMPANIES = (
    "企业名称,统一社会信用代码,成立日期,所在乡镇,法定代表人\n"
    "甲公司,91331123MA2000001J,2020-05-01,城关镇,张三\n"
    "乙公司,91331123MA2000002M,2021-06-02,城关镇,李四\n"
    "丙公司,91331123MA2000003Q,2022-07-03,白沙乡,王五\n"
    "丁公司,91331123MA2000004R,2023-01-15,白沙乡,赵六\n"
    "戊公司,91331123MA2000005T,2023-09-30,城关镇,孙七\n"
)
COMPANY_ITEMS = [
    {"name": "name", "label": "企业名称", "type": "text", "open": True},
    {"name": "uscc", "label": "统一社会信用代码", "type": "text", "open": True, "is_key": True},
    {"name": "founded", "label": "成立日期", "type": "date", "open": True},
    {"name": "town", "label": "所在乡镇", "type": "text", "open": True},
    {"name": "legal_person", "label": "法定代表人", "type": "text", "open": False, "sensitive": True},
]
REPORTS = (
    "统一社会信用代码,年度,从业人数,营业收入,内部备注\n"
    "91331123MA2000001J,2023,12,350.5,待核查\n"
    "91331123MA2000002M,2023,40,1200.0,\n"
    "91331123MA2000003Q,2023,7,88.25,重点关注\n"
    "91331123MA2000001J,2022,10,300.0,\n"
)
REPORT_ITEMS = [
    {"name": "uscc", "label": "统一社会信用代码", "type": "text", "open": True},
    {"name": "year", "label": "年度", "type": "integer", "open": True},
    {"name": "employees", "label": "从业人数", "type": "integer", "open": True},
    {"name": "revenue", "label": "营业收入", "type": "number", "open": True},
    {"name": "note", "label": "内部备注", "type": "text", "open": False},
]


def _publish(db, tmp_path, provider_id, csv, **changes) -> int:
    from countyos.data import flows

    with db.unit_of_work() as s:
        rid = catalogue.create(s, actor=BUREAU, data=entry(provider_id, **{"rules": [], **changes})).id
    path = tmp_path / f"{changes.get('name', 'data')}.csv"
    path.write_text(csv, encoding="utf-8")
    load = flows.load_path(db, actor=BUREAU, resource_id=rid, path=path, filename=path.name, skip_bad_rows=False)
    assert load.state == "loaded", load.error
    with db.unit_of_work() as s:
        for action in ("submit", "approve"):
            version = catalogue.get(s, rid).version
            catalogue.act(s, actor=BUREAU, resource_id=rid, data=ActionIn(action=action, version=version))
    return rid


@pytest.fixture
def ids(db, office, tmp_path) -> dict[str, str]:
    """CKAN resource ids: two open resources (companies, annual reports), a closed one and a conditionally
    open one, both with rows; and the load table of the companies."""
    made = {
        "companies": _publish(db, tmp_path, office.market, COMPANIES, items=COMPANY_ITEMS),
        "reports": _publish(
            db, tmp_path, office.market, REPORTS, name="qiye-nianbao", code="331123-SCJG-0002", title="企业年报",
            items=REPORT_ITEMS,
        ),
        "closed": _publish(
            db, tmp_path, office.other, COMPANIES, name="dibao", code="331123-MZ-0001", title="低保对象",
            items=COMPANY_ITEMS, open_type="closed", share_type="conditional", share_condition="仅用于救助核查",
        ),
        "conditional": _publish(
            db, tmp_path, office.other, COMPANIES, name="tiaojian", code="331123-JYJ-0002", title="有条件开放",
            items=COMPANY_ITEMS, open_type="conditional", open_condition="申请后开放",
        ),
    }  # fmt: skip
    with db.reading() as s:
        out = {key: s.get(Resource, pk).uid for key, pk in made.items()}
        res = s.get(Resource, made["companies"])
        out["table"] = s.get(Load, res.current_load_id).table_name
    return out


def _sql(client, sql: str, *, post: bool = False, lang: str = "en"):
    """The messages below are read in English (``lang=en``); Chinese is the default."""
    language = {"lang": lang} if lang else {}
    if post:
        return client.post(API, json={"sql": sql}, params=language)
    return client.get(API, params={"sql": sql, **language})


def _ok(client, sql: str, *, post: bool = False) -> dict:
    r = _sql(client, sql, post=post)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    return body["result"]


def _refused(client, sql: str, status: int) -> dict:
    r = _sql(client, sql, post=True)
    assert r.status_code == status, (sql, r.text)
    body = r.json()
    assert body["success"] is False
    assert body["error"]["__type"] == {409: "Validation Error", 403: "Authorization Error"}[status]
    return body["error"]


# -- what it answers ----------------------------------------------------------------------------------------


def test_where_and_order_by_get_and_post(client, ids, db) -> None:
    sql = f"SELECT name, founded FROM \"{ids['companies']}\" WHERE founded >= '2022-01-01' ORDER BY founded DESC"
    for post in (False, True):
        result = _ok(client, sql, post=post)
        assert result["sql"] == sql
        assert [r["name"] for r in result["records"]] == ["戊公司", "丁公司", "丙公司"]
        assert result["records"][0]["founded"] == "2023-09-30"
        assert result["fields"] == [{"id": "name", "type": "text"}, {"id": "founded", "type": "date"}]
        assert "records_truncated" not in result
    like = _ok(
        client, f"SELECT name FROM \"{ids['companies']}\" WHERE name LIKE '%公司' AND town = '白沙乡' ORDER BY 1"
    )
    assert [r["name"] for r in like["records"]] == ["丁公司", "丙公司"] or [r["name"] for r in like["records"]] == [
        "丙公司",
        "丁公司",
    ]  # the collation's order
    # the other resource ids of the same data (its XLSX and JSON resources) name the same table
    with db.reading() as s:
        other = opendata.resource_id(s.scalars(select(Resource).where(Resource.uid == ids["companies"])).one(), "JSON")
    assert len(_ok(client, f'SELECT "_id" FROM "{other}"')["records"]) == 5


def test_aggregate_group_by_and_a_join_of_two_resources(client, ids) -> None:
    c, r = ids["companies"], ids["reports"]
    result = _ok(client, f'SELECT town, count(*) AS n FROM "{c}" GROUP BY town ORDER BY n DESC, town')
    assert result["records"] == [{"town": "城关镇", "n": 3}, {"town": "白沙乡", "n": 2}]
    assert result["fields"] == [{"id": "town", "type": "text"}, {"id": "n", "type": "int"}]
    joined = _ok(
        client,
        f'SELECT a.name, b.employees, b.revenue FROM "{c}" AS a JOIN "{r}" AS b ON a.uscc = b.uscc '
        "WHERE b.year = 2023 ORDER BY b.employees DESC",
    )
    assert joined["records"] == [
        {"name": "乙公司", "employees": 40, "revenue": 1200.0},
        {"name": "甲公司", "employees": 12, "revenue": 350.5},
        {"name": "丙公司", "employees": 7, "revenue": 88.25},
    ]
    assert [f["type"] for f in joined["fields"]] == ["text", "int", "numeric"]
    ctes = _ok(
        client,
        f'WITH big AS (SELECT uscc, sum(employees) AS staff FROM "{r}" GROUP BY uscc) '
        f'SELECT c.name, big.staff FROM big JOIN "{c}" c USING (uscc) WHERE big.staff > 25 '
        f"UNION ALL SELECT 'none', 0 ORDER BY 2 DESC",
    )
    assert ctes["records"] == [{"name": "乙公司", "staff": 40}, {"name": "none", "staff": 0}]


def test_select_star_shows_only_the_open_columns(client, ids) -> None:
    for sql in (
        f'SELECT * FROM "{ids["companies"]}"',
        f'SELECT t.* FROM "{ids["companies"]}" t',
        f'SELECT * FROM (SELECT * FROM "{ids["companies"]}") x',
        f'WITH all_rows AS (SELECT * FROM "{ids["companies"]}") SELECT * FROM all_rows',
    ):
        r = _sql(client, sql)
        assert r.status_code == 200, r.text
        assert [f["id"] for f in r.json()["result"]["fields"]] == ["_id", "name", "uscc", "founded", "town"]
        assert "张三" not in r.text and "legal_person" not in r.text
    joined = _sql(client, f'SELECT * FROM "{ids["reports"]}" r')
    assert "待核查" not in joined.text and "重点关注" not in joined.text


# -- what it refuses ----------------------------------------------------------------------------------------


def test_a_column_not_marked_open_cannot_be_named(client, ids) -> None:
    c = ids["companies"]
    for sql in (
        f'SELECT legal_person FROM "{c}"',
        f"SELECT name FROM \"{c}\" WHERE legal_person = '张三'",
        f'SELECT (SELECT max(legal_person) FROM "{c}") AS x',
        f'SELECT count(*) FROM "{c}" t GROUP BY t.legal_person',
        f'SELECT note FROM "{ids["reports"]}"',
    ):
        error = _refused(client, sql, 409)
        assert "query" in error
        assert "张三" not in str(error)


def test_writes_and_more_than_one_statement_are_refused(client, ids, db) -> None:
    c = ids["companies"]
    for sql in (
        f'DELETE FROM "{c}"',
        f"UPDATE \"{c}\" SET name = 'x'",
        f"INSERT INTO \"{c}\" (name) VALUES ('x')",
        f'DROP TABLE "{c}"',
        f"DROP TABLE {ids['table']}",
        "CREATE TABLE x (a int)",
        f'SELECT name FROM "{c}"; DELETE FROM "{c}"',
        f'SELECT 1; SELECT name FROM "{c}"',
        f'SELECT * INTO copied FROM "{c}"',
        f'SELECT * FROM "{c}" FOR UPDATE',
        "PRAGMA table_info(data_resource)",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        f"COPY {ids['table']} TO '/tmp/x.csv'",
        "SET statement_timeout = 0",
        "EXPLAIN SELECT 1",
        f'SELECT name FROM "{c}" WHERE name = :name',
        f'SELECT name FROM "{c}" WHERE name = $1',
        "SELECT 'unterminated",
        "",
    ):
        error = _refused(client, sql, 409)
        assert "query" in error or "sql" in error, sql
    too_long = f'SELECT name FROM "{c}" WHERE ' + " OR ".join(["name = 'x'"] * 1000)
    assert _refused(client, too_long, 409)["sql"]
    with db.reading() as s:
        assert s.execute(text(f"SELECT count(*) FROM {ids['table']}")).scalar() == 5


def test_system_tables_load_tables_and_resources_not_open_are_refused(client, ids) -> None:
    for sql in (
        "SELECT * FROM sqlite_master",
        "SELECT name FROM sqlite_schema",
        "SELECT * FROM pg_catalog.pg_class",
        "SELECT * FROM pg_user",
        "SELECT * FROM pg_shadow",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM main.data_resource",
    ):
        assert _refused(client, sql, 403)["message"] == "Not authorized to access system tables", sql
    chinese = _sql(client, "SELECT * FROM sqlite_master", lang="").json()["error"]
    assert chinese["message"] == "无权访问系统表"  # the interface's language, as everywhere
    for sql in (
        f'SELECT * FROM "{ids["closed"]}"',
        f'SELECT * FROM "{ids["conditional"]}"',
        f'SELECT a.name FROM "{ids["companies"]}" a JOIN "{ids["closed"]}" b USING (uscc)',
        f"SELECT * FROM {ids['table']}",
        "SELECT * FROM org_user",
        "SELECT * FROM data_resource",
        'SELECT * FROM "00000000-0000-0000-0000-000000000000"',
        # a CTE's name means the CTE only inside its own scope
        "SELECT * FROM (WITH org_user AS (SELECT 1 AS x) SELECT x FROM org_user) q, org_user",
        f'SELECT * FROM ONLY "{ids["companies"]}"',
        f'SELECT * FROM "{ids["companies"]}" TABLESAMPLE SYSTEM (50)',
    ):
        assert _refused(client, sql, 403)["message"] == "Not authorized to read resource.", sql
    # the package id of the closed resource is no way in either, nor its name
    assert _refused(client, 'SELECT * FROM "dibao"', 403)


def test_functions_off_the_allow_list_and_system_types_are_refused(client, ids) -> None:
    c = ids["companies"]
    for call in (
        "pg_read_file('/etc/passwd')",
        "pg_sleep(10)",
        "lo_import('/etc/passwd')",
        "lo_get(1)",
        "dblink('host=x', 'select 1')",
        "load_extension('/tmp/x.so')",
        "readfile('/etc/passwd')",
        "current_setting('data_directory')",
        "version()",
        "current_user",
        "sqlite_version()",
        "pg_ls_dir('.')",
        "set_config('statement_timeout', '0', false)",
        "txid_current()",
        "repeat('x', 1000000000)",
        "user",
        "current_role",
        "pg_catalog.lower(name)",
        "public.age(founded)",
        "query_to_xml('select * from org_user', true, true, '')",
    ):
        error = _refused(client, f'SELECT {call} FROM "{c}"', 403)
        assert error["message"].startswith("Not authorized to call function"), (call, error)
    assert _refused(client, "SELECT * FROM generate_series(1, 1000000000)", 403)
    assert _refused(client, "SELECT 'pg_class'::regclass", 403)["message"].startswith("Not authorized to use the type")


def test_refusals_are_audited(client, ids, db) -> None:
    _refused(client, "SELECT * FROM pg_catalog.pg_authid", 403)
    client.app.state.side_writer.drain()
    with db.reading() as s:
        details = [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied"))]
    assert any(d.get("action") == "datastore_search_sql" and d.get("path") == API for d in details)


# -- bounds -------------------------------------------------------------------------------------------------


def test_the_row_cap_truncates_like_ckan(client, ids, monkeypatch) -> None:
    monkeypatch.setattr(sqlsearch, "ROWS_MAX", 2)
    result = _ok(client, f'SELECT name FROM "{ids["companies"]}" ORDER BY "_id"')
    assert [r["name"] for r in result["records"]] == ["甲公司", "乙公司"]
    assert result["records_truncated"] is True
    small = _ok(client, f'SELECT name FROM "{ids["companies"]}" ORDER BY "_id" LIMIT 2')
    assert len(small["records"]) == 2 and "records_truncated" not in small
    assert sqlsearch.ROWS_MAX != opendata.MAX_LIMIT and opendata.MAX_LIMIT == 32_000


def test_a_query_past_its_time_is_stopped_and_the_session_goes_on(db, ids) -> None:
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
        "SELECT count(*) AS c FROM n"
    )
    with db.unit_of_work() as s:
        found = opendata.open_set(s)
        with pytest.raises(opendata.ValidationError) as err:
            sqlsearch.search_sql(s, found, sql=endless, seconds=0.3)
        assert err.value.fields == {"query": ["Query took too long"]}
        # the savepoint is gone with its read-only mode and time limit: the session reads and writes on
        result = sqlsearch.search_sql(s, found, sql=f'SELECT count(*) AS c FROM "{ids["companies"]}"')
        assert result["records"] == [{"c": 5}]
        catalogue.get(s, _pk(s, ids["companies"])).summary = "still writable"
        s.flush()


def _pk(s, uid: str) -> int:
    return s.scalars(select(Resource.id).where(Resource.uid == uid)).one()


def test_the_database_itself_refuses_writes_inside_the_read_only_savepoint(db, ids) -> None:
    with db.unit_of_work() as s:
        with sqlsearch._read_only(s, 5.0) as conn, pytest.raises(Exception) as err:
            conn.exec_driver_sql(f"DELETE FROM {ids['table']}")
        assert "read-only" in str(err.value).lower() or "readonly" in str(err.value).lower()
        assert s.execute(text(f"SELECT count(*) FROM {ids['table']}")).scalar() == 5


# -- ckanapi ------------------------------------------------------------------------------------------------


@pytest.fixture
def live(app):
    with serve(app) as url:
        yield url


def test_ckanapi_calls_datastore_search_sql(ids, live) -> None:
    ckan = ckanapi.RemoteCKAN(live, user_agent="ckanapi-test/1.0")
    result = ckan.action.datastore_search_sql(
        sql=f'SELECT town, count(*) AS n FROM "{ids["companies"]}" GROUP BY town ORDER BY town'
    )
    assert {r["town"]: r["n"] for r in result["records"]} == {"城关镇": 3, "白沙乡": 2}
    assert [f["id"] for f in result["fields"]] == ["town", "n"]
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.datastore_search_sql(sql="SELECT * FROM sqlite_master")
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.datastore_search_sql(sql=f'SELECT * FROM "{ids["closed"]}"')
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search_sql(sql=f'DELETE FROM "{ids["companies"]}"')
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.datastore_search_sql(sql=f'SELECT legal_person FROM "{ids["companies"]}"')
