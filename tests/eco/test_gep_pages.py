"""GEP pages: the reports list with the run button, a report traced to its inputs, the inputs page with
its entry form (errors beside fields, what was typed kept) and the import."""

from __future__ import annotations

import re

from countyos.eco.service import gep
from tests import factories
from tests.eco.test_gep_api import workbook
from tests.eco.test_gep_support import ACCOUNTANT, enter


def test_pages_render_and_trace_every_figure(client, db) -> None:
    person = factories.person(db, ["eco_accountant"])
    csrf = factories.login(client, person)
    assert 'id="gep-none"' in client.get("/eco/gep").text
    with db.unit_of_work() as s:
        enter(s)
    r = client.post(
        "/eco/gep/runs", data={"year": "2025", "parameter_version": "v1", "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    url = r.headers["location"]
    page = client.get(url)
    assert page.status_code == 200
    with db.reading() as s:
        run = gep.latest(s, year=2025)
        assert run is not None and url == f"/eco/gep/runs/{run.id}"
        tourism_inputs = next(x for x in run.results if x.item == "tourism").input_ids
        assert f"{run.gep / 1e8:,.2f}" in page.text
    assert "<svg" in page.text and ".pdf" in page.text and ".xlsx" in page.text
    row = re.search(r'<tr id="item-tourism">.*?</tr>', page.text, re.S)
    assert row is not None
    for n in tourism_inputs:
        assert f'href="/eco/gep/inputs/{n}"' in row.group(0)
    record = client.get(f"/eco/gep/inputs/{tourism_inputs[0]}")
    assert record.status_code == 200 and "测试 2025" in record.text and url in record.text  # source, report
    listing = client.get("/eco/gep")
    assert url in listing.text and "v1" in listing.text
    assert f"测试{person.username}" in listing.text  # the person by name
    inputs = client.get("/eco/gep/inputs", params={"year": 2025})
    assert inputs.status_code == 200 and 'id="input-form"' in inputs.text and "测试 2025" in inputs.text


def test_the_entry_form_keeps_what_was_typed(client, db) -> None:
    csrf = factories.login(client, factories.person(db, ["eco_accountant"]))
    typed = {
        "year": "2025",
        "code": "area",
        "class_code": "",
        "value": "12.5",
        "source": "statistic",
        "source_ref": "二调数据 表 1",
        "division_code": "",
        "note": "",
        "csrf_token": csrf,
    }
    r = client.post("/eco/gep/inputs", data=typed)
    assert r.status_code == 422
    assert 'id="error-class_code"' in r.text and 'value="二调数据 表 1"' in r.text and 'value="12.5"' in r.text
    r = client.post("/eco/gep/inputs", data={**typed, "value": "lots", "class_code": "paddy"})
    assert r.status_code == 422 and 'id="error-value"' in r.text
    r = client.post("/eco/gep/inputs", data={**typed, "class_code": "paddy"}, follow_redirects=False)
    assert r.status_code == 303
    assert "二调数据 表 1" in client.get("/eco/gep/inputs?year=2025").text


def test_the_import_form_reports_rows(client, db) -> None:
    csrf = factories.login(client, factories.person(db, ["eco_accountant"]))
    good = workbook([[2025, "gdp", "", 180000, "统计", "统计公报 2025", ""]])
    r = client.post(
        "/eco/gep/inputs/import", data={"csrf_token": csrf, "year": "2025"}, files={"file": ("a.xlsx", good)}
    )
    assert r.status_code == 200 and 'id="import-report"' in r.text
    bad = workbook([[2025, "nope", "", 1, "统计", "x", ""]])
    r = client.post(
        "/eco/gep/inputs/import", data={"csrf_token": csrf, "year": "2025"}, files={"file": ("b.xlsx", bad)}
    )
    assert r.status_code == 422 and 'id="import-problems"' in r.text


def test_readers_see_no_forms(client, db) -> None:
    factories.login(client, factories.person(db, ["leader"]))
    with db.unit_of_work() as s:
        enter(s)
        gep.run(s, actor=ACCOUNTANT, year=2025)
    assert 'id="gep-run-form"' not in client.get("/eco/gep").text
    assert 'id="input-form"' not in client.get("/eco/gep/inputs?year=2025").text


def test_areas_are_taken_from_the_land_use_layer(client, db) -> None:
    from types import SimpleNamespace

    from countyos.core.actor import Actor
    from countyos.eco import demo_assets
    from countyos.eco.models.gep import InputSource
    from countyos.eco.service import gep_inputs
    from countyos.geo.service import divisions

    csrf = factories.login(client, factories.person(db, ["eco_accountant"]))
    r = client.post("/eco/gep/inputs/areas", data={"csrf_token": csrf, "year": "2025"}, follow_redirects=False)
    assert r.status_code == 303  # no layer: said, nothing recorded
    with db.reading() as s:
        assert gep_inputs.current(s, year=2025) == []
    with db.unit_of_work() as s:
        divisions.bootstrap(s, actor=Actor(id=None, name="test"), county_code="331123")
        demo_assets.load(s, SimpleNamespace(notes=[], user_ids={}, public_url=""))
    r = client.post("/eco/gep/inputs/areas", data={"csrf_token": csrf, "year": "2025"}, follow_redirects=False)
    assert r.status_code == 303
    with db.reading() as s:
        areas = gep_inputs.current(s, year=2025)
        assert areas and {r.source for r in areas} == {InputSource.LANDUSE}
        assert all(r.code == "area" and r.division_code == "331123" for r in areas)
    page = client.get("/eco/gep/inputs?year=2025")
    assert "土地利用图层 #" in page.text
