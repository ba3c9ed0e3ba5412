"""The water pages render (list with 达标率 opening its records, one section with its trend and form,
the section form, the import page) and their forms come back with what was typed and errors beside
the fields; map_features and current give the documented shapes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.eco.models.water import SampleSource, WaterSample, WaterSection
from countyos.eco.schemas.water import SectionIn
from countyos.eco.service import water
from tests.cases.conftest import _fake_geo  # noqa: F401  (fixture: a stand-in locator for the cases)
from tests.factories import login, person
from tests.portal.notices_world import notices_world, notices_world_baseline  # noqa: F401  (fixtures: 遂昌县)

FACTORY = Actor(id=None, name="factory")


def _section(db, code="P-1", target="II", **extra) -> int:
    with db.unit_of_work() as s:
        data = SectionIn(code=code, name="云峰", water_name="乌溪江", lon=119.3, lat=28.6, target_class=target, **extra)
        section = water.create_section(s, actor=FACTORY, data=data)
        for days, values in ((40, {"do": 8.0, "tp": 0.05, "nh3n": 0.2}), (10, {"do": 6.5, "tp": 0.15, "nh3n": 0.3})):
            water.save_sample(
                s,
                actor=FACTORY,
                section=section,
                sampled_at=utcnow() - timedelta(days=days),
                values=values,
                source=SampleSource.LAB,
                report_no=f"R{days}",
            )
        return section.id


def test_list_section_and_records_pages_render_for_a_reader(client, db):
    sid = _section(db)
    _section(db, code="P-2", target="III")
    login(client, person(db, ["river_office"]))  # eco.monitor.read
    page = client.get("/eco/water")
    assert page.status_code == 200 and 'id="water-sections"' in page.text
    assert "云峰" in page.text and "Ⅲ类" in page.text and 'id="water-new"' not in page.text  # no manage link
    start = (water.local_day(utcnow()) - timedelta(days=60)).isoformat()
    ranged = client.get(f"/eco/water?start={start}")
    assert "75.0 %" in ranged.text  # 3 of 4 samples meet: only P-1's class III sample is past its target II
    records = client.get(f"/eco/water/samples?start={start}&meets=no")
    assert records.status_code == 200 and records.text.count(f'href="/eco/water/sections/{sid}"') == 1
    assert "总磷 (0.5)" in records.text  # (0.15 - 0.1) / 0.1
    one = client.get(f"/eco/water/sections/{sid}")
    assert one.status_code == 200 and 'id="water-trend"' in one.text and "<polyline" in one.text
    assert 'id="water-sample-form"' not in one.text  # a reader gets no entry form
    assert client.get("/eco/water/sections/999999").status_code == 404
    assert client.get("/eco/water/import").status_code == 403
    filtered = client.get("/eco/water?meets=yes&waterbody=sea&level=nonsense")
    assert filtered.status_code == 200


def test_a_lab_result_form_keeps_what_was_typed_and_shows_errors_beside_fields(client, db):
    sid = _section(db)
    csrf = login(client, person(db, ["eco_monitor"]))
    page = client.get(f"/eco/water/sections/{sid}")
    assert 'id="water-sample-form"' in page.text
    form = {"csrf_token": csrf, "sampled_at": "", "lab_name": "县监测站", "v_do": "lots", "v_tp": "0.1", "v_cu": "-1"}
    r = client.post(f"/eco/water/sections/{sid}/samples", data=form)
    assert r.status_code == 422
    assert 'id="error-sampled_at"' in r.text and 'id="error-v_do"' in r.text and 'id="error-v_cu"' in r.text
    assert 'value="lots"' in r.text and 'value="县监测站"' in r.text and "<details open>" in r.text
    when = (utcnow() + timedelta(hours=8) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(
        f"/eco/water/sections/{sid}/samples",
        data={**form, "sampled_at": when, "v_do": "7.8", "v_cu": ""},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    with db.reading() as s:
        got = s.scalars(
            select(WaterSample).where(WaterSample.section_id == sid).order_by(WaterSample.sampled_at.desc())
        ).first()
        assert got.values == {"do": 7.8, "tp": 0.1} and got.cls == "II" and got.entered_by_id is not None
    shown = client.get(f"/eco/water/sections/{sid}")
    assert "测试" in shown.text  # who entered it, by name


def test_the_section_form_adds_edits_and_refuses(client, db):
    csrf = login(client, person(db, ["eco_monitor"]))
    assert client.get("/eco/water/sections/new").status_code == 200
    form = {
        "csrf_token": csrf,
        "code": "N-1",
        "name": "新路湾",
        "water_name": "周公源",
        "waterbody": "river",
        "level": "boundary",
        "target_class": "II",
        "lon": "119.1",
        "lat": "28.5",
        "thing_id": "",
        "active": "on",
    }
    r = client.post("/eco/water/sections/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    with db.reading() as s:
        sid = s.scalars(select(WaterSection.id).where(WaterSection.code == "N-1")).one()
    bad = client.post(f"/eco/water/sections/{sid}/edit", data={**form, "lon": "east", "name": "改名"})
    assert bad.status_code == 422 and 'id="error-lon"' in bad.text and 'value="改名"' in bad.text
    again = client.post("/eco/water/sections/new", data=form)
    assert again.status_code == 422 and 'id="error-code"' in again.text
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(WaterSection)) == 1


def test_the_import_page_reports_bad_rows_and_a_good_file(client, db):
    _section(db, code="IMP-1")
    csrf = login(client, person(db, ["eco_monitor"]))
    assert client.get("/eco/water/import").status_code == 200
    bad = "断面编码,采样时间,溶解氧\nIMP-1,2026-09-01,x\n".encode()
    r = client.post("/eco/water/import", data={"csrf_token": csrf}, files={"file": ("a.csv", bad, "text/csv")})
    assert r.status_code == 422 and 'id="water-import-problems"' in r.text and "溶解氧" in r.text
    good = "断面编码,采样时间,溶解氧,总磷\nIMP-1,2026-09-01,7.9,0.03\n".encode()
    r = client.post("/eco/water/import", data={"csrf_token": csrf}, files={"file": ("a.csv", good, "text/csv")})
    assert r.status_code == 200 and 'id="water-import-report"' in r.text and "Ⅱ类" in r.text
    empty = client.post("/eco/water/import", data={"csrf_token": csrf})
    assert empty.status_code == 422 and 'id="error-file"' in empty.text


def test_map_features_and_current_have_the_documented_shape(db):
    sid = _section(db)
    with db.unit_of_work() as s:
        water.create_section(s, actor=FACTORY, data=SectionIn(code="NEVER", name="未采样", lon=119.2, lat=28.5))
    with db.reading() as s:
        features = {f["properties"]["code"]: f for f in water.map_features(s)}
        current = water.current(s)
    f = features["P-1"]
    assert f["type"] == "Feature" and f["geometry"] == {"type": "Point", "coordinates": [119.3, 28.6]}
    p = f["properties"]
    assert (p["id"], p["name"], p["cls"], p["cls_label"], p["target"], p["meets"], p["colour"]) == (
        sid,
        "云峰",
        "III",
        "Ⅲ类",
        "II",
        False,
        "#00b050",
    )
    assert p["url"] == f"/eco/water/sections/{sid}" and p["sampled_at"].endswith("+00:00")
    never = features["NEVER"]["properties"]
    assert never["cls"] is None and never["meets"] is None and never["sampled_at"] is None
    assert {c["name"] for c in current} == {"云峰", "未采样"}
    assert all(
        set(c)
        == {
            "name",
            "water_name",
            "lon",
            "lat",
            "cls",
            "cls_label",
            "target",
            "target_label",
            "meets",
            "colour",
            "sampled_at",
        }
        for c in current
    )


def test_on_the_county_map_a_section_gets_its_division_and_outside_is_refused(client, db, notices_world):  # noqa: F811
    world = notices_world  # 遂昌县's divisions (tests/portal/notices_world.py)
    with db.unit_of_work() as s:
        section = water.create_section(s, actor=FACTORY, data=SectionIn(code="G-1", name="妙高", lon=119.27, lat=28.59))
        assert section.division_code.startswith(world.county) and len(section.division_code) >= 9
    csrf = login(client, person(db, ["eco_monitor"]))
    page = client.get("/eco/water")
    assert (
        'id="water-map"' in page.text
        and "<circle" in page.text
        and f'href="/eco/water/sections/{section.id}"' in page.text
    )
    form = {"csrf_token": csrf, "code": "G-2", "name": "海上", "waterbody": "river", "level": "county",
            "target_class": "II", "lon": "122.5", "lat": "30.0", "active": "on"}  # fmt: skip
    r = client.post("/eco/water/sections/new", data=form)
    assert r.status_code == 422 and 'id="error-lon"' in r.text and 'value="海上"' in r.text
