"""隐患排查 through the API: places (masked phone, audited reveal, bounded lists, nearest first), an
inspection as the phone's multipart form with photos, hazards rectified and re-inspected, who may do what,
photo bounds, problem+json."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from countyos.cases.models import Case
from countyos.core.db import Database
from countyos.safety.models.inspections import Hazard
from countyos.safety.service import inspections_hazards as hazards
from tests.factories import department, login, person
from tests.safety.inspections_helpers import LAT, LON, PHONE, PNG, World, fake_geo, iw, small_codes

__all__ = ["fake_geo", "iw"]
API = "/api/v1/safety"


def _h(client: TestClient, p: Any) -> dict[str, str]:
    return {"X-CSRF-Token": login(client, p)}


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body: dict[str, Any] = r.json()
    return body


def _form(failed: dict[str, str]) -> dict[str, str]:
    data = {}
    for code in small_codes():
        data[f"item_{code}"] = "fail" if code in failed else "pass"
        if code in failed:
            data[f"note_{code}"] = failed[code]
    return data


def test_places_masked_phone_reveal_and_bounds(db: Database, client: TestClient, iw: World) -> None:
    h = _h(client, iw.keeper)
    rows = client.get(f"{API}/places", headers=h).json()
    assert [r["name"] for r in rows] == ["阿芳小吃店"]
    assert rows[0]["responsible_phone_masked"] == "139****1234" and PHONE not in str(rows)
    assert client.post(f"{API}/places/{iw.place_id}/phone", headers=h).json() == {"phone": PHONE}
    _problem(client.get(f"{API}/places?limit=501", headers=h), 422)
    _problem(client.get(f"{API}/hazards?limit=0", headers=h), 422)
    made = client.post(
        f"{API}/places",
        headers=h,
        json={"name": "远处小学", "kind": "school", "lon": LON + 0.05, "lat": LAT, "grade": "A"},
    )
    assert made.status_code == 201, made.text
    near = client.get(f"{API}/places?lon={LON + 0.049}&lat={LAT}", headers=h).json()
    assert [r["name"] for r in near] == ["远处小学", "阿芳小吃店"] and near[0]["distance_m"] < near[1]["distance_m"]
    _problem(client.post(f"{API}/places", headers=h, json={"name": "x", "kind": "nope", "lon": LON, "lat": LAT}), 422)
    geo = client.get(f"{API}/places.geojson", headers=h).json()
    assert len(geo["features"]) == 2


def test_inspection_by_form_with_photos_then_rectify_and_reinspect(db: Database, client: TestClient, iw: World) -> None:
    h = _h(client, iw.inspector)
    r = client.post(
        f"{API}/inspections",
        headers=h,
        data={"place_id": str(iw.place_id), **_form({"S01": "灭火器过期", "S02": "通道堆物"})},
        files=[("photos_S01", ("a.png", PNG, "image/png")), ("photos_S02", ("b.png", PNG, "image/png"))],
    )
    assert r.status_code == 201, r.text
    insp = r.json()
    assert insp["result"] == "hazards" and len(insp["hazard_ids"]) == 2
    hid = insp["hazard_ids"][0]
    one = client.get(f"{API}/hazards/{hid}", headers=h).json()
    assert one["state"] == "open" and one["case_number"] and len(one["attachment_ids"]) == 1
    photo = client.get(f"{API}/hazards/{hid}/photos/{one['attachment_ids'][0]}", headers=h)
    assert photo.status_code == 200 and photo.content == PNG
    _problem(client.get(f"{API}/hazards/{hid}/photos/999999", headers=h), 404)
    assert (
        client.post(f"{API}/hazards/{hid}/rectify", headers=h, json={"note": "已更换"}).json()["state"] == "rectified"
    )
    _problem(client.post(f"{API}/hazards/{hid}/rectify", headers=h, json={"note": "again"}), 409)
    done = client.post(f"{API}/hazards/{hid}/reinspect", headers=h, json={"passed": True, "note": "合格"}).json()
    assert done["state"] == "closed"
    listed = client.get(f"{API}/hazards?state=open", headers=h).json()
    assert [x["id"] for x in listed] == [insp["hazard_ids"][1]]
    figures = client.get(f"{API}/hazards/stats", headers=h).json()
    assert figures["found"] == 2 and figures["closed"] == 1 and figures["rectification_rate"] == 50.0


def test_photo_bounds_and_answers_required(db: Database, client: TestClient, iw: World) -> None:
    h = _h(client, iw.inspector)
    six = [("photos_S01", (f"{i}.png", PNG, "image/png")) for i in range(hazards.MAX_PHOTOS + 1)]
    r = client.post(
        f"{API}/inspections", headers=h, data={"place_id": str(iw.place_id), **_form({"S01": "x"})}, files=six
    )
    assert _problem(r, 422)["errors"][0]["field"] == "photos"
    big = [("photos_S01", ("big.png", PNG + b"\0" * (hazards.MAX_PHOTO_BYTES + 1), "image/png"))]
    r = client.post(
        f"{API}/inspections", headers=h, data={"place_id": str(iw.place_id), **_form({"S01": "x"})}, files=big
    )
    _problem(r, 413)
    not_image = [("photos_S01", ("a.png", b"not an image at all", "image/png"))]
    r = client.post(
        f"{API}/inspections", headers=h, data={"place_id": str(iw.place_id), **_form({"S01": "x"})}, files=not_image
    )
    _problem(r, 422)
    _problem(client.post(f"{API}/inspections", headers=h, json={"place_id": iw.place_id, "answers": []}), 422)
    too_many = [{"code": f"X{i}", "outcome": "pass"} for i in range(81)]
    _problem(client.post(f"{API}/inspections", headers=h, json={"place_id": iw.place_id, "answers": too_many}), 422)


def test_who_may_do_what(db: Database, client: TestClient, iw: World) -> None:
    h = _h(client, iw.inspector)
    r = client.post(
        f"{API}/inspections",
        headers=h,
        json={
            "place_id": iw.place_id,
            "answers": [{"code": c, "outcome": "fail" if c == "S03" else "na", "note": "住人"} for c in small_codes()],
        },
    )
    hid = r.json()["hazard_ids"][0]
    _problem(client.post(f"{API}/places", headers=h, json={"name": "x", "kind": "school", "lon": LON, "lat": LAT}), 403)
    client.post("/logout", headers=h)
    works = department(db, "测试住建局")
    stranger = person(db, ["handler"], department_id=works)
    hs = _h(client, stranger)
    _problem(client.get(f"{API}/hazards/{hid}", headers=hs), 404)
    _problem(client.post(f"{API}/hazards/{hid}/rectify", headers=hs, json={"note": "x"}), 403)
    _problem(client.get(f"{API}/places", headers=hs), 403)
    with db.unit_of_work() as s:  # the case is dispatched to the stranger's department: now it is theirs
        case = s.get(Case, s.get(Hazard, hid).case_id)
        assert case is not None
        case.department_id = works
    assert client.get(f"{API}/hazards/{hid}", headers=hs).json()["state"] == "open"
    r = client.post(
        f"{API}/hazards/{hid}/rectify",
        headers=hs,
        data={"note": "已搬离住人"},
        files=[("photos", ("r.png", PNG, "image/png"))],
    )
    assert r.json()["state"] == "rectified", r.text
    _problem(client.post(f"{API}/hazards/{hid}/reinspect", headers=hs, json={"passed": True}), 403)
