"""Connectors: a department's database (one read-only SELECT), a JSON API and a CountyOS live source, each
run a load recorded with its rows, time and error; addresses kept encrypted and shown masked."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from countyos.core.errors import ValidationFailed
from countyos.data import jobs
from countyos.data.models import Connector, Resource
from countyos.data.schemas import ConnectorIn
from countyos.data.service import catalogue, connectors
from tests.data.conftest import BUREAU, entry
from tests.factories import login

ITEMS = [
    {"name": "name", "label": "企业名称", "type": "text"},
    {"name": "uscc", "label": "统一社会信用代码", "type": "text"},
]


def _resource(db, office, **changes):
    with db.unit_of_work() as s:
        return catalogue.create(
            s, actor=BUREAU, data=entry(office.market, **{"items": ITEMS, "rules": [], **changes})
        ).id


@pytest.fixture
def department_db(tmp_path):
    path = tmp_path / "scjg.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE qy (mc TEXT, xydm TEXT, secret TEXT)")
    con.executemany(
        "INSERT INTO qy VALUES (?, ?, ?)",
        [("甲公司", "91331123MA2000001J", "x"), ("乙公司", "91331123MA2000002M", "y")],
    )
    con.commit()
    con.close()
    return path


def test_select_is_checked() -> None:
    for bad in ("DELETE FROM qy", "SELECT 1; DROP TABLE qy", "INSERT INTO qy SELECT * FROM qy", "not sql at all ((("):
        with pytest.raises(ValidationFailed):
            connectors.check_select(bad)
    connectors.check_select("SELECT mc AS 企业名称 FROM qy WHERE xydm LIKE '9%' ORDER BY 1")


def test_database_connector_runs_and_the_job_runs_what_is_due(client, db, office, department_db) -> None:
    rid = _resource(db, office)
    query = 'SELECT mc AS "企业名称", xydm AS "统一社会信用代码" FROM qy'
    data = ConnectorIn(name="市场监管局登记库", kind="sql", address=f"sqlite:///{department_db}", query=query,
                       every_minutes=60)  # fmt: skip
    with db.unit_of_work() as s:
        cid = connectors.create(s, actor=BUREAU, resource_id=rid, data=data).id
        assert s.get(Connector, cid).address_enc.startswith("sm4g1:")  # kept encrypted
    assert jobs.run_connectors(db) == 1
    with db.reading() as s:
        (run,) = connectors.runs_of(s, cid)
        assert (run.ok, run.rows, run.error) == (True, 2, "")
        assert s.get(Resource, rid).current_load.rows_loaded == 2
        assert connectors.due(s, now=run.started_at) == []  # next in an hour
    assert jobs.run_connectors(db) == 0


def test_http_connector_and_a_failing_one_record_their_runs(db, office) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"data": {"records": [{"企业名称": "丙公司", "统一社会信用代码": "91331123MA2000003Q"}]}})
            self.send_response(200 if self.path == "/ok" else 500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        rid = _resource(db, office)
        with db.unit_of_work() as s:
            api = ConnectorIn(name="接口", kind="http", address=f"{base}/ok", query="data.records")
            good = connectors.create(s, actor=BUREAU, resource_id=rid, data=api).id
            broken = ConnectorIn(name="坏接口", kind="http", address=f"{base}/broken")
            bad = connectors.create(s, actor=BUREAU, resource_id=rid, data=broken).id
        with db.unit_of_work() as s:
            ok = connectors.run(s, actor=BUREAU, connector_id=good)
            failed = connectors.run(s, actor=BUREAU, connector_id=bad)
            assert (ok.ok, ok.rows) == (True, 1)
            assert not failed.ok and "500" in failed.error and failed.load_id is None
    finally:
        server.shutdown()


def test_live_source_and_masked_address_in_the_api(client, db, office) -> None:
    rid = _resource(db, office, items=[], name="anjian-tongji", code="331123-CY-0001", title="案件统计")
    with db.unit_of_work() as s:
        source = ConnectorIn(name="案件统计", kind="countyos", address="cases.monthly")
        cid = connectors.create(s, actor=BUREAU, resource_id=rid, data=source).id
        run = connectors.run(s, actor=BUREAU, connector_id=cid)
        assert (run.ok, run.rows, run.error) == (True, 0, "")  # no cases in this county yet: the columns only
        assert [i.label for i in catalogue.get(s, rid).items] == [
            "月份",
            "案件类别",
            "乡镇街道代码",
            "上报数",
            "结案数",
        ]
    csrf = login(client, office.bureau)
    h = {"X-CSRF-Token": csrf}
    body = {"name": "库", "kind": "sql", "address": "postgresql+psycopg://scjg:s3cret@10.0.0.5/qy", "query": "SELECT 1"}
    r = client.post(f"/api/v1/data/resources/{rid}/connectors", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert "s3cret" not in r.text and "***" in r.json()["address"]
    r = client.post(f"/api/v1/data/resources/{rid}/connectors", json={**body, "query": "DROP TABLE qy"}, headers=h)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/data/resources/{rid}/connectors", json={**body, "kind": "countyos", "address": "nope"}, headers=h
    )
    assert r.status_code == 422


def test_connectors_on_the_resource_page(client, db, office, department_db) -> None:
    rid = _resource(db, office)
    csrf = login(client, office.bureau)
    form = {"csrf_token": csrf, "name": "登记库", "kind": "sql", "address": "not a url", "every_minutes": "60",
            "query": "SELECT mc, xydm FROM qy"}  # fmt: skip
    bad = client.post(f"/data/resources/{rid}/connectors", data=form)
    assert bad.status_code == 422 and 'id="error-address"' in bad.text and 'value="not a url"' in bad.text
    form["address"] = f"sqlite:///{department_db}"
    form["query"] = 'SELECT mc AS "企业名称", xydm AS "统一社会信用代码" FROM qy'
    r = client.post(f"/data/resources/{rid}/connectors", data=form, follow_redirects=True)
    assert r.status_code == 200 and 'id="connectors-table"' in r.text and "登记库" in r.text
    with db.reading() as s:
        (cid,) = [c.id for c in connectors.of_resource(s, rid)]
    r = client.post(f"/data/connectors/{cid}/run", data={"csrf_token": csrf}, follow_redirects=True)
    assert r.status_code == 200
    with db.reading() as s:
        assert connectors.runs_of(s, cid)[0].ok
