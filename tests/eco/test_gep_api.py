"""The GEP API: inputs entered and imported, parameter sets, runs, PDF and Excel; its refusals."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader

from countyos.eco.models.gep import GepInput
from tests import factories
from tests.eco.test_gep_support import SMALL

API = "/api/v1/eco/gep"


@pytest.fixture
def accountant(db, client) -> str:
    p = factories.person(db, ["eco_accountant"])
    return factories.login(client, p)


def workbook(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["GEP 核算输入"])  # a title above the header row
    ws.append(["年份", "指标代码", "生态系统类型", "数值", "来源类型", "来源说明", "备注"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def enter_all(client, csrf: str, year: int = 2025) -> None:
    for code, cls, value in SMALL:
        r = client.post(
            f"{API}/inputs",
            json={"year": year, "code": code, "class_code": cls, "value": value, "source_ref": "统计年鉴 2025"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 201, r.text


def test_inputs_runs_and_reports(client, accountant: str) -> None:
    h = {"X-CSRF-Token": accountant}
    enter_all(client, accountant)
    listed = client.get(f"{API}/inputs", params={"year": 2025}).json()
    assert len(listed) == len(SMALL) and all(r["version"] == 1 for r in listed)
    again = client.post(
        f"{API}/inputs",
        json={"year": 2025, "code": "gdp", "value": 100_000.0, "source_ref": "统计年鉴 2025"},
        headers=h,
    ).json()
    assert again["created"] is False and again["version"] == 1
    params = client.get(f"{API}/parameters").json()
    assert params["version"] == "v1" and params["parameters"]["price_reservoir"]["value"] == 7.06
    assert "v1" in params["versions"] and len(params["content_hash"]) == 64

    r = client.post(f"{API}/runs", json={"year": 2025}, headers=h)
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["created"] and run["version"] == 1 and run["complete"]
    assert run["gep_to_gdp"] == pytest.approx(run["totals"]["gep"] / 1e9, abs=1e-4)
    assert {i["item"] for i in run["items"]} >= {"water_conservation", "tourism", "agriculture"}
    r = client.post(f"{API}/runs", json={"year": 2025, "parameter_version": "v1"}, headers=h)
    assert r.status_code == 200 and r.json()["id"] == run["id"] and r.json()["created"] is False
    assert [x["id"] for x in client.get(f"{API}/runs", params={"year": 2025}).json()] == [run["id"]]
    assert client.get(f"{API}/runs/{run['id']}").json()["totals"] == run["totals"]

    pdf = client.get(f"{API}/runs/{run['id']}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"{run['totals']['gep'] / 1e8:,.2f}" in text and f"{run['gep_to_gdp']:.2f}" in text
    xlsx = client.get(f"{API}/runs/{run['id']}.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    first = wb.worksheets[0]
    gep_row = next(r for r in first.iter_rows(values_only=True) if r[0] == "GEP")
    assert gep_row[1] == pytest.approx(run["totals"]["gep"])
    items = {r[7]: r for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)}  # by formula
    assert items["travel_cost"][5] == pytest.approx(800_000_000.0)
    assert items["water_balance"][5] == pytest.approx(
        next(i["value"] for i in run["items"] if i["item"] == "water_conservation")
    )
    assert wb.worksheets[2].max_row == len(SMALL) + 1  # every input read, with its source


def test_import_all_rows_or_none(client, accountant: str, db) -> None:
    h = {"X-CSRF-Token": accountant}
    good = workbook(
        [[2025, "gdp", "", 180000, "统计", "统计公报 2025", ""], [2025, "area", "针叶林", 60000, "土地利用", "", ""]]
    )
    r = client.post(f"{API}/inputs/import", files={"file": ("inputs.xlsx", good)}, headers=h)
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [x["status"] for x in rows] == ["created", "created"] and rows[1]["class_code"] == "conifer"
    listed = {x["code"]: x for x in client.get(f"{API}/inputs", params={"year": 2025}).json()}
    assert listed["area"]["source_ref"].startswith("inputs.xlsx (sha256 ")  # the file named when no reference
    bad = workbook(
        [
            [2025, "gdp", "", 190000, "统计", "统计公报 2025", ""],
            [2025, "nonsense", "", 1, "统计", "x", ""],
            ["二〇二五", "gdp", "", 1, "统计", "x", ""],
            [2025, "area", "", 1, "统计", "x", ""],
            [2025, "tourists", "", "很多", "统计", "x", ""],
        ]
    )
    r = client.post(f"{API}/inputs/import", files={"file": ("bad.xlsx", bad)}, headers=h)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert sorted(e["row"] for e in errors) == [4, 5, 6, 7]
    with db.reading() as s:  # nothing of the bad file was written: gdp still 180000, one version
        assert [g.value for g in s.query(GepInput).filter_by(code="gdp")] == [180000.0]
    r = client.post(f"{API}/inputs/import", files={"file": ("x.xlsx", b"not a workbook")}, headers=h)
    assert r.status_code == 422


def test_refusals(client, db, accountant: str) -> None:
    h = {"X-CSRF-Token": accountant}
    body = {"year": 2025, "code": "gdp", "value": 1.0, "source_ref": "x"}
    assert client.post(f"{API}/inputs", json={**body, "code": "nope"}, headers=h).status_code == 422
    assert client.post(f"{API}/inputs", json={**body, "class_code": "paddy"}, headers=h).status_code == 422
    assert client.post(f"{API}/inputs", json={**body, "value": "NaN"}, headers=h).status_code == 422
    assert client.post(f"{API}/inputs", json={**body, "year": 1800}, headers=h).status_code == 422
    assert client.post(f"{API}/inputs", json={**body, "source_ref": ""}, headers=h).status_code == 422
    assert client.post(f"{API}/runs", json={"year": 2025, "parameter_version": "v99"}, headers=h).status_code == 404
    assert client.post(f"{API}/runs", json={"year": 2025, "parameter_version": "../x"}, headers=h).status_code == 422
    assert client.get(f"{API}/runs/999999").status_code == 404
    assert client.get(f"{API}/inputs", params={"year": 99999}).status_code == 422
    assert client.post(f"{API}/inputs", json=body).status_code == 403  # no CSRF token with the cookie


def test_readers_may_not_write_and_strangers_see_nothing(app, db) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as anonymous:
        assert anonymous.get(f"{API}/runs").status_code == 401
        assert anonymous.get(f"{API}/parameters").status_code == 401
    with TestClient(app, base_url="http://testserver") as c:
        csrf = factories.login(c, factories.person(db, ["leader"]))
        assert c.get(f"{API}/runs").status_code == 200
        r = c.post(f"{API}/runs", json={"year": 2025}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403
        r = c.post(
            f"{API}/inputs",
            json={"year": 2025, "code": "gdp", "value": 1, "source_ref": "x"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 403
    with TestClient(app, base_url="http://testserver") as c:
        factories.login(c, factories.person(db, ["river_chief"]))
        assert c.get(f"{API}/runs").status_code == 403
