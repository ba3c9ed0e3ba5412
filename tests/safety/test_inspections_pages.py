"""隐患排查 pages: the phone inspection form (kept as typed when refused, then saved with a photo), the place,
hazard, list, statistics and checklist pages, the place form and the import, rectify and re-inspect forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from countyos.core.db import Database
from tests.factories import login
from tests.safety.inspections_helpers import LAT, LON, PHONE, PNG, World, fake_geo, iw, small_codes

__all__ = ["fake_geo", "iw"]


def _answers(failed: dict[str, str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for code in small_codes():
        data[f"item_{code}"] = "fail" if code in failed else "pass"
        data[f"note_{code}"] = failed.get(code, "")
    return data


def test_inspect_on_the_phone_keeps_what_was_typed_then_saves(db: Database, client: TestClient, iw: World) -> None:
    csrf = login(client, iw.inspector)
    start = client.get("/safety/inspect?q=阿芳")
    assert start.status_code == 200 and f"/safety/inspect/{iw.place_id}" in start.text
    near = client.get(f"/safety/inspect?lon={LON}&lat={LAT}")
    assert "阿芳小吃店" in near.text
    page = client.get(f"/safety/inspect/{iw.place_id}")
    assert page.status_code == 200 and 'name="item_S01"' in page.text and 'capture="environment"' in page.text
    form = {"csrf_token": csrf, **_answers({"S01": "灭火器压力为零", "S04": ""})}
    refused = client.post(
        f"/safety/inspect/{iw.place_id}", data=form, files=[("photos_S01", ("a.png", PNG, "image/png"))]
    )
    assert refused.status_code == 422
    assert 'id="error-note_S04"' in refused.text and "灭火器压力为零" in refused.text
    assert re.search(r'name="item_S04" value="fail"\s+checked', refused.text)
    form["note_S04"] = "插线板串接"
    saved = client.post(
        f"/safety/inspect/{iw.place_id}",
        data=form,
        files=[("photos_S01", ("a.png", PNG, "image/png"))],
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    inspection = client.get(saved.headers["location"])
    assert inspection.status_code == 200 and "插线板串接" in inspection.text
    hazard_url = re.search(r'href="(/safety/hazards/\d+)"', inspection.text)
    assert hazard_url
    hazard = client.get(hazard_url.group(1))
    assert hazard.status_code == 200 and 'id="hazard-rectify"' in hazard.text
    hid = hazard_url.group(1).rsplit("/", 1)[1]
    empty = client.post(f"/safety/hazards/{hid}/rectify", data={"csrf_token": csrf, "note": ""})
    assert empty.status_code == 422 and 'id="error-rectify-note"' in empty.text
    ok = client.post(
        f"/safety/hazards/{hid}/rectify", data={"csrf_token": csrf, "note": "已更换"}, follow_redirects=False
    )
    assert ok.status_code == 303
    no_choice = client.post(f"/safety/hazards/{hid}/reinspect", data={"csrf_token": csrf, "note": "x"})
    assert no_choice.status_code == 422 and 'id="error-reinspect-passed"' in no_choice.text
    client.post(f"/safety/hazards/{hid}/reinspect", data={"csrf_token": csrf, "passed": "0", "days": "5"})
    after = client.get(f"/safety/hazards/{hid}")
    assert "复查" in after.text or "Re-inspection failed" in after.text
    assert 'id="hazard-rectify"' in after.text  # open again


def test_lists_place_stats_and_checklists_render(db: Database, client: TestClient, iw: World) -> None:
    csrf = login(client, iw.keeper)
    for url in (
        "/safety/places",
        "/safety/places?kind=small_restaurant&grade=B&due=1&q=阿芳",
        f"/safety/places/{iw.place_id}",
        "/safety/places/new",
        f"/safety/places/{iw.place_id}/edit",
        "/safety/hazards",
        "/safety/hazards?state=open&overdue=1&level=major",
        "/safety/hazards/stats",
        "/safety/checklists",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert PHONE not in r.text, url
    shown = client.post(f"/safety/places/{iw.place_id}/phone", data={"csrf_token": csrf})
    assert PHONE in shown.text
    bad = client.post(
        "/safety/places/new",
        data={"csrf_token": csrf, "name": "新店", "kind": "school", "lon": "abc", "lat": str(LAT), "grade": "A"},
    )
    assert bad.status_code == 422 and 'id="error-lon"' in bad.text and 'value="新店"' in bad.text
    good = client.post(
        "/safety/places/new",
        data={"csrf_token": csrf, "name": "新店", "kind": "school", "lon": str(LON), "lat": str(LAT), "grade": "A"},
        follow_redirects=False,
    )
    assert good.status_code == 303
    edit = {
        "csrf_token": csrf,
        "name": "阿芳小吃店（新）",
        "kind": "small_restaurant",
        "lon": str(LON),
        "lat": str(LAT),
    }
    changed = client.post(f"/safety/places/{iw.place_id}/edit", data={**edit, "grade": "B"}, follow_redirects=False)
    assert changed.status_code == 303
    shown = client.post(f"/safety/places/{iw.place_id}/phone", data={"csrf_token": csrf})
    assert "阿芳小吃店（新）" in shown.text and PHONE in shown.text  # an empty phone field kept the number
    csv = "名称,类型,经度,纬度\n乙店,不存在,119.27,28.59\n".encode()
    refused = client.post(
        "/safety/places/import", data={"csrf_token": csrf}, files={"file": ("p.csv", csv, "text/csv")}
    )
    assert refused.status_code == 422 and 'id="import-problems"' in refused.text
    not_json = client.post(
        "/safety/checklists", data={"csrf_token": csrf}, files={"file": ("c.json", b"[]", "application/json")}
    )
    assert not_json.status_code == 422 and 'id="error-file"' in not_json.text
