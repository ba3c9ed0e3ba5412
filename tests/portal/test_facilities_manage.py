"""Departments keeping their facilities: forms refused beside their fields, a position outside the
county refused, file imports all or nothing with a report per row, syncs from a data resource (add,
update, close), and another department's facilities out of reach."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from countyos.core.db import Database
from countyos.core.tabular import to_xlsx
from countyos.data import flows as data_flows
from countyos.data.schemas import ActionIn
from countyos.data.service import catalogue
from countyos.org.models import AuditEvent
from countyos.portal.models import Facility, FacilityKind
from countyos.portal.schemas.facilities import FacilitySyncIn
from countyos.portal.service import facility_import
from tests.data.conftest import BUREAU, entry
from tests.factories import csrf_from, login, token_for
from tests.portal.notices_world import NoticesWorld, actor_of
from tests.portal.test_facilities import API, add, point_in

HEADER = "名称,类型,地址,经度,纬度,电话,开放时间,服务内容,所属乡镇\n"


@pytest.fixture
def api(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def facilities(db: Database, **where: object) -> list[Facility]:
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(Facility).filter_by(**where).order_by(Facility.name)))
        for f in rows:
            s.expunge(f)
        return rows


def csv_rows(db: Database, w: NoticesWorld) -> str:
    (x1, y1), (x2, y2) = point_in(db, w.village), point_in(db, w.village2)
    town = w.names[w.town]
    return (
        HEADER
        + f"大田村卫生室,村卫生室,大田村1号,{x1},{y1},0578-8101234,8:00-17:00,常见病诊治;慢病随访,{town}\n"
        + f"大田村农家书屋,农家书屋,大田村文化礼堂二楼,{x1},{y1},,周二至周日 9:00-16:00,借阅图书,\n"
        + f"集镇公厕,公厕,,{x2},{y2},,全天,,{town}\n"
    )


def post_file(client: TestClient, csrf: str, name: str, data: bytes):
    return client.post(
        "/portal/facilities/manage/import", data={"csrf_token": csrf}, files={"file": (name, data, "text/csv")}
    )


def test_a_good_file_imports_and_a_second_import_updates_in_place(db, notices_world: NoticesWorld, client) -> None:
    w = notices_world
    csrf = login(client, w.town_publisher)
    r = post_file(client, csrf, "设施.csv", csv_rows(db, w).encode("utf-8"))
    assert r.status_code == 200, r.text
    assert 'id="fac-report"' in r.text
    rows = facilities(db, department_id=w.town_dep)
    assert [(f.name, f.kind, f.source, f.active) for f in rows] == [
        ("大田村农家书屋", FacilityKind.LIBRARY, "file", True),
        ("大田村卫生室", FacilityKind.CLINIC, "file", True),
        ("集镇公厕", FacilityKind.TOILET, "file", True),
    ]
    assert rows[1].division_code == w.village and rows[1].hours == "8:00-17:00"
    # the same file with a new opening time, as XLSX: updated in place, nothing added twice
    lines = csv_rows(db, w).replace("8:00-17:00", "7:30-17:30").strip().split("\n")
    xlsx = to_xlsx(lines[0].split(","), [line.split(",") for line in lines[1:]])
    r = client.post(
        "/portal/facilities/manage/import",
        data={"csrf_token": csrf},
        files={"file": ("设施.xlsx", xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )
    assert r.status_code == 200, r.text
    rows = facilities(db, department_id=w.town_dep)
    assert len(rows) == 3 and rows[1].hours == "7:30-17:30"
    with db.unit_of_work() as s:
        imports = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "portal.facility.import")))
    assert [(e.detail["added"], e.detail["updated"]) for e in imports] == [(3, 0), (0, 3)]


def test_a_bad_row_imports_nothing_and_is_reported(db, notices_world: NoticesWorld, api) -> None:
    w = notices_world
    client = api
    csrf = login(client, w.town_publisher)
    good = csv_rows(db, w)
    bad = good + "无名设施,邮局,,119.1,abc,,,,\n"  # row 5: an unknown kind and a latitude that is no number
    r = post_file(client, csrf, "设施.csv", bad.encode("utf-8"))
    assert r.status_code == 422
    assert 'id="fac-import-problems"' in r.text
    problems = r.text.split('id="fac-import-problems"')[1]
    assert '<td class="num">5</td><td>类型</td>' in problems and '<td class="num">5</td><td>纬度</td>' in problems
    assert facilities(db, department_id=w.town_dep) == []
    # the API says the same as problem+json, each problem with its row and column
    token = token_for(db, w.town_publisher, ["portal.facility.manage"])
    client.cookies.clear()
    r = client.post(
        f"{API}/import",
        files={"file": ("设施.csv", bad.encode("gb18030"), "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 422 and {(e["row"], e["field"]) for e in r.json()["errors"]} >= {(5, "类型"), (5, "纬度")}
    assert facilities(db, department_id=w.town_dep) == []


def test_a_position_outside_the_county_is_refused(db, notices_world: NoticesWorld, client) -> None:
    w = notices_world
    csrf = login(client, w.town_publisher)
    outside = csv_rows(db, w) + "北京某公厕,公厕,,116.397,39.909,,,,\n"
    r = post_file(client, csrf, "设施.csv", outside.encode("utf-8"))
    assert r.status_code == 422 and '<td class="num">5</td><td>经度</td>' in r.text
    assert facilities(db, department_id=w.town_dep) == []
    # the form: refused beside the longitude and the latitude, what was typed kept
    page = client.get("/portal/facilities/manage/new")
    r = client.post(
        "/portal/facilities/manage/new",
        data={
            "csrf_token": csrf_from(page.text),
            "kind": "toilet",
            "name": "北京某公厕",
            "lon": "116.397",
            "lat": "39.909",
        },
    )
    assert r.status_code == 422
    assert 'id="error-lon"' in r.text and 'id="error-lat"' in r.text and 'value="北京某公厕"' in r.text
    # a township named in the file that is not where the position lies
    x, y = point_in(db, w.other_village)
    wrong = HEADER + f"某卫生室,卫生室,,{x},{y},,,,{w.names[w.town]}\n"
    r = post_file(client, csrf, "设施.csv", wrong.encode("utf-8"))
    assert r.status_code == 422 and '<td class="num">2</td><td>所属乡镇</td>' in r.text


def test_the_form_adds_edits_closes_and_reopens(db, notices_world: NoticesWorld, client) -> None:
    w = notices_world
    login(client, w.town_publisher)
    x, y = point_in(db, w.village)
    page = client.get("/portal/facilities/manage/new")
    data = {"csrf_token": csrf_from(page.text), "kind": "pharmacy", "name": "大田药店", "lon": str(x), "lat": str(y)}
    r = client.post("/portal/facilities/manage/new", data={**data, "phone": "not a phone!"})
    assert r.status_code == 422 and 'id="error-phone"' in r.text
    r = client.post("/portal/facilities/manage/new", data=data, follow_redirects=False)
    assert r.status_code == 303
    (f,) = facilities(db, department_id=w.town_dep)
    assert f.division_code == w.village and f.updated_by_id == w.town_publisher.id
    r = client.post(f"/portal/facilities/manage/{f.id}", data={**data, "hours": "8:00-20:00"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(
        f"/portal/facilities/manage/{f.id}/close", data={"csrf_token": data["csrf_token"]}, follow_redirects=False
    )
    assert r.status_code == 303
    assert facilities(db, id=f.id)[0].active is False
    r = client.post(f"/portal/facilities/manage/{f.id}/close", data={"csrf_token": data["csrf_token"]})
    assert r.status_code == 409  # closed already: the transition table says no
    client.post(f"/portal/facilities/manage/{f.id}/reopen", data={"csrf_token": data["csrf_token"]})
    assert facilities(db, id=f.id)[0].active is True
    with db.unit_of_work() as s:
        actions = list(
            s.scalars(
                select(AuditEvent.action).where(AuditEvent.target_type == "portal_facility").order_by(AuditEvent.seq)
            )
        )
    assert actions == [
        "portal.facility.create",
        "portal.facility.update",
        "portal.facility.close",
        "portal.facility.reopen",
    ]


def test_another_department_cannot_edit_this_departments_facility(db, notices_world: NoticesWorld, api) -> None:
    w = notices_world
    f = add(db, actor_of(db, w.town_publisher), "大田村卫生室", FacilityKind.CLINIC, point_in(db, w.village))
    csrf = login(api, w.other_village_publisher)
    assert api.get(f"/portal/facilities/manage/{f.id}").status_code == 404
    form = {"csrf_token": csrf, "kind": "clinic", "name": "改名", "lon": str(f.lon), "lat": str(f.lat)}
    assert api.post(f"/portal/facilities/manage/{f.id}", data=form).status_code == 404
    assert api.post(f"/portal/facilities/manage/{f.id}/close", data={"csrf_token": csrf}).status_code == 404
    assert "大田村卫生室" not in api.get("/portal/facilities/manage").text
    token = token_for(db, w.other_village_publisher, ["portal.facility.manage"])
    auth = {"Authorization": f"Bearer {token}"}
    body = {"kind": "clinic", "name": "改名", "lon": f.lon, "lat": f.lat}
    assert api.put(f"{API}/{f.token}", json=body, headers=auth).status_code == 404
    assert api.post(f"{API}/{f.token}/close", headers=auth).status_code == 404
    assert api.get(f"{API}/mine", headers=auth).json()["total"] == 0
    (kept,) = facilities(db, id=f.id)
    assert (kept.name, kept.active) == ("大田村卫生室", True)
    # the keeping department can, through the API too
    own = {"Authorization": f"Bearer {token_for(db, w.town_publisher, ['portal.facility.manage'])}"}
    assert api.put(f"{API}/{f.token}", json={**body, "name": "大田村卫生室（新址）"}, headers=own).status_code == 200
    assert api.get(f"{API}/mine", headers=own).json()["items"][0]["name"] == "大田村卫生室（新址）"
    # without an account: refused
    api.cookies.clear()
    assert api.get(f"{API}/mine").status_code == 401


def _resource(db: Database, w: NoticesWorld, tmp_path, text: str) -> int:
    items = [
        {"name": "code", "label": "编号", "type": "text", "open": True, "is_key": True},
        {"name": "name", "label": "名称", "type": "text", "open": True},
        {"name": "address", "label": "地址", "type": "text", "open": True},
        {"name": "geometry", "label": "位置", "type": "geometry", "open": True},
    ]
    with db.unit_of_work() as s:
        res = catalogue.create(
            s, actor=BUREAU,
            data=entry(w.town_dep, name="gongce", code="331123-ZF-0001", title="公共厕所位置", items=items, rules=[]),
        )  # fmt: skip
        rid = res.id
    _load(db, rid, tmp_path, text)
    with db.unit_of_work() as s:
        for action in ("submit", "approve"):
            version = catalogue.get(s, rid).version
            catalogue.act(s, actor=BUREAU, resource_id=rid, data=ActionIn(action=action, version=version))
    return rid


def _load(db: Database, rid: int, tmp_path, text: str) -> None:
    path = tmp_path / "gc.csv"
    path.write_text(text, encoding="utf-8")
    load = data_flows.load_path(db, actor=BUREAU, resource_id=rid, path=path, filename="gc.csv", skip_bad_rows=False)
    assert load.state == "loaded"


def _point(x: float, y: float) -> str:
    return '"{""type"": ""Point"", ""coordinates"": [' + f"{x}, {y}" + ']}"'


def test_sync_from_a_data_resource_adds_updates_and_closes(db, notices_world: NoticesWorld, client, tmp_path) -> None:
    w = notices_world
    (x1, y1), (x2, y2) = point_in(db, w.village), point_in(db, w.village2)
    rid = _resource(
        db, w, tmp_path,
        "编号,名称,地址,位置\n"
        f"GC-1,集镇公厕,集镇主街,{_point(x1, y1)}\n"
        f"GC-2,大田村公厕,大田村,{_point(x2, y2)}\n",
    )  # fmt: skip
    csrf = login(client, w.town_publisher)
    page = client.get("/portal/facilities/manage/import")
    assert "公共厕所位置" in page.text
    form = {
        "csrf_token": csrf, "resource_id": str(rid), "kind": "toilet", "name_column": "name", "key_column": "code",
        "address_column": "address", "geometry_column": "geometry",
    }  # fmt: skip
    r = client.post("/portal/facilities/manage/sync", data={**form, "name_column": "nosuch"})
    assert r.status_code == 422 and 'id="error-name_column"' in r.text
    r = client.post("/portal/facilities/manage/sync", data=form)
    assert r.status_code == 200, r.text
    with db.unit_of_work() as s:
        res_uid = catalogue.get(s, rid).uid
    rows = facilities(db, source=f"resource:{res_uid}")
    assert sorted((f.source_key, f.name, f.active) for f in rows) == [
        ("GC-1", "集镇公厕", True),
        ("GC-2", "大田村公厕", True),
    ]
    first_ids = {f.source_key: f.id for f in rows}
    # the next load: GC-1 renamed, GC-2 gone, GC-3 new
    _load(
        db, rid, tmp_path,
        "编号,名称,地址,位置\n"
        f"GC-1,集镇中心公厕,集镇主街8号,{_point(x1, y1)}\n"
        f"GC-3,大田村文化礼堂公厕,大田村,{_point(x2, y2)}\n",
    )  # fmt: skip
    with db.unit_of_work() as s:
        report = facility_import.sync_resource(
            s,
            actor=actor_of(db, w.town_publisher),
            data=FacilitySyncIn(
                resource_id=rid, kind=FacilityKind.TOILET, name_column="name", key_column="code",
                address_column="address", geometry_column="geometry",
            ),
        )  # fmt: skip
    assert (report.added, report.updated, report.closed) == (1, 1, 1)
    rows = {f.source_key: f for f in facilities(db, source=f"resource:{res_uid}")}
    assert rows["GC-1"].id == first_ids["GC-1"] and rows["GC-1"].name == "集镇中心公厕" and rows["GC-1"].active
    assert rows["GC-2"].active is False and rows["GC-3"].active is True
    assert rows["GC-3"].division_code == w.village2
    # another department may not sync this department's resource
    with db.unit_of_work() as s:
        try:
            body = FacilitySyncIn(
                resource_id=rid, kind=FacilityKind.TOILET, name_column="name", geometry_column="geometry"
            )
            facility_import.sync_resource(s, actor=actor_of(db, w.other_village_publisher), data=body)
        except Exception as exc:
            assert getattr(exc, "status", None) == 422
        else:
            raise AssertionError("another department synced the resource")
    with db.unit_of_work() as s:
        syncs = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "portal.facility.sync")))
    assert [(e.detail["added"], e.detail["updated"], e.detail["closed"]) for e in syncs] == [(2, 0, 0), (1, 1, 1)]
