"""The operations view over HTTP: pages, JSON data, drill-down lists and exports, the live stream."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from openpyxl import load_workbook

from countyos.cases.models import CaseEvent, CategoryKind
from countyos.cases.service import categories
from countyos.core.clock import utcnow
from countyos.geo.models import Component, ComponentStatus
from countyos.ioc.service import live
from countyos.sensing.models import Alarm, AlarmEvent, AlarmKind, AlarmState, Severity
from tests.factories import login, person
from tests.ioc.conftest import NOW, settle


def frames(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.split("\n\n"):
        f: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            f[k] = v
        if f:
            out.append(f)
    return out


@time_machine.travel(NOW, tick=False)
def test_tiles_open_lists_that_hold_exactly_what_they_count(client, db, history):
    login(client, person(db, ["leader"]))
    page = client.get("/ioc?period=30d")
    assert page.status_code == 200 and 'id="ioc-map"' in page.text and "<script>" not in page.text
    data = client.get("/api/v1/ioc/indicators", params={"period": "30d"}).json()
    tiles = {t["code"]: t for t in data["tiles"]}
    assert {"cases_today", "cases_week", "open", "overdue", "closure_rate", "on_time_rate", "satisfaction",
            "alarms_active", "alarms_critical", "devices_online"} <= set(tiles)  # fmt: skip
    for code in ("open", "overdue", "cases_period", "alarms_active", "closure_rate", "devices_online"):
        t = tiles[code]
        listing = client.get(t["api_url"] + "&limit=500").json()
        assert listing["total"] == t["count"] == len(listing["items"]), code
        html = client.get(t["url"])
        assert html.status_code == 200
        assert html.text.count("<tr data-id=") == min(t["count"], 50), code
    # a case row opens the case; its number is shown
    overdue = client.get(tiles["overdue"]["api_url"]).json()["items"]
    assert overdue and all(i["url"].startswith("/cases/") and i["level"] == "red" for i in overdue)
    # the rate's whole lists its denominator
    whole = client.get(tiles["closure_rate"]["whole_url"].replace("/ioc/list", "/api/v1/ioc/records")).json()
    assert whole["total"] == tiles["closure_rate"]["whole"]


@time_machine.travel(NOW, tick=False)
def test_filters_apply_to_tiles_trends_rankings_and_map(client, db, history):
    login(client, person(db, ["shift_leader"]))
    town = history.townships[0]
    all_ = client.get("/api/v1/ioc/indicators", params={"period": "30d"}).json()
    one = client.get("/api/v1/ioc/indicators", params={"period": "30d", "township": town}).json()
    n_all = {t["code"]: t["count"] for t in all_["tiles"]}
    n_one = {t["code"]: t["count"] for t in one["tiles"]}
    assert n_one["cases_period"] < n_all["cases_period"] and n_one["open"] < n_all["open"]
    assert n_one["devices_online"] < n_all["devices_online"]
    trend = client.get("/api/v1/ioc/trends", params={"period": "30d", "township": town}).json()
    assert trend["cases"]["total"] == n_one["cases_period"] == sum(sum(s["data"]) for s in trend["cases"]["series"])
    # a chart point lists exactly the cases it counts
    series = trend["cases"]["series"][0]
    i = max(range(len(series["data"])), key=lambda k: series["data"][k])
    point = client.get(series["urls"][i].replace("/ioc/list", "/api/v1/ioc/records")).json()
    assert point["total"] == series["data"][i] > 0
    q = parse_qs(urlparse(series["urls"][i]).query)
    assert q["township"] == [town] and q["category"] == [series["key"]] and "day" in q
    alarms = trend["alarms"]
    assert alarms["total"] == sum(alarms["data"])
    j = next(k for k, n in enumerate(alarms["data"]) if n)
    assert (
        client.get(alarms["urls"][j].replace("/ioc/list", "/api/v1/ioc/records")).json()["total"] == alarms["data"][j]
    )
    ranks = client.get("/api/v1/ioc/rankings", params={"period": "30d"}).json()
    assert ranks["department"] and all(r["grade"] in "ABCDE" for r in ranks["department"] if r["grade"])
    for r in ranks["department"] + ranks["township"]:
        listed = client.get(r["url"].replace("/ioc/list", "/api/v1/ioc/records")).json()
        assert listed["total"] == r["reported"]
    grids = client.get("/api/v1/ioc/map/grids", params={"period": "30d"}).json()["grids"]
    assert sum(g["open"] for g in grids.values()) == n_all["open"]
    g = next(iter(grids.values()))
    assert client.get(g["url"].replace("/ioc/list", "/api/v1/ioc/records")).json()["total"] == g["open"]
    cases = client.get("/api/v1/ioc/map/cases", params={"period": "30d"}).json()
    assert cases["total"] == n_all["open"] == len(cases["features"]) == cases["shown"]
    # the map's visible box: only the points inside it, the total still the tile's number
    lon, lat = cases["features"][0]["geometry"]["coordinates"]  # the generated cases share one place
    for box, shown in (
        ((lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01), n_all["open"]),
        ((lon + 0.01, lat, lon + 1, lat + 1), 0),
    ):
        boxed = client.get("/api/v1/ioc/map/cases", params={"period": "30d", "bbox": ",".join(map(str, box))}).json()
        assert boxed["shown"] == len(boxed["features"]) == shown and boxed["total"] == n_all["open"]
    assert client.get("/api/v1/ioc/map/cases", params={"period": "30d", "bbox": "1,2,x,4"}).status_code == 422
    devices = client.get("/api/v1/ioc/map/devices", params={"period": "30d", "township": town}).json()["features"]
    assert len(devices) == sum(1 for t in history.things.values() if t == town)
    alarmed = [d for d in devices if d["properties"]["alarm"]]
    for d in alarmed:
        listed = client.get(d["properties"]["url"].replace("/ioc/list", "/api/v1/ioc/records")).json()
        assert listed["total"] >= 1 and all(i["source"] == "alarms" for i in listed["items"])
    comps = client.get("/api/v1/ioc/map/components", params={"period": "30d"}).json()["status"]
    assert comps["damaged"]["count"] == 1 and comps["intact"]["count"] == 2
    assert client.get("/api/v1/ioc/indicators", params={"period": "nonsense"}).status_code == 422


@time_machine.travel(NOW, tick=False)
def test_device_and_component_layers_follow_the_category(client, db, history):
    """A category keeps the devices its alarm rules watch and the components of its class; the tiles
    and lists agree with the layers, and a category that is no component class has no components."""
    login(client, person(db, ["leader"]))
    w, town = history.world, history.townships[0]

    def get(path: str, **params: str | int) -> dict:
        return client.get(f"/api/v1/ioc/{path}", params={"period": "30d", **params}).json()

    manhole = get("map/devices", category=w.cat_manhole)["features"]
    assert {d["id"] for d in manhole} == history.watched != set(history.things)
    assert get("map/devices", category=w.cat_garbage)["features"] == []
    both = {d["id"] for d in get("map/devices", category=w.cat_manhole, township=town)["features"]}
    assert both == {t for t in history.watched if history.things[t] == town} and both
    tiles = {t["code"]: t for t in get("indicators", category=w.cat_manhole, township=town)["tiles"]}
    assert tiles["devices_online"]["whole"] == len(both)
    listed = client.get(tiles["devices_online"]["whole_url"].replace("/ioc/list", "/api/v1/ioc/records")).json()
    assert {i["id"] for i in listed["items"]} == both
    # an alarm halo belongs to an alarm of the category's rule
    for d in manhole:
        if d["properties"]["alarm"]:
            alarms = client.get(d["properties"]["url"].replace("/ioc/list", "/api/v1/ioc/records")).json()
            assert alarms["total"] >= 1

    def components(**params: str | int) -> dict:
        return get("map/components", **params)

    every = components()
    assert every["total"] == len(every["features"]) == len(history.components) == 4
    assert components(category=w.cat_manhole)["total"] == 4  # 供水井盖 (C01001), the fixture's class
    with db.reading() as s:
        group = categories.get_by_code(s, kind=CategoryKind.COMPONENT, code="01")  # 市政公用设施
        assert group is not None
        group_id = group.id
    assert components(category=group_id)["total"] == 4
    one = components(category=w.cat_manhole, township=town)
    assert {f["properties"]["code"] for f in one["features"]} == {
        c.code for c in history.components if c.township_code == town
    }
    assert sum(s["count"] for s in one["status"].values()) == one["total"] == 2
    none = components(category=w.cat_garbage)  # 暴露垃圾 is a matter, not a component class
    assert none["features"] == [] and none["total"] == 0 and all(s["count"] == 0 for s in none["status"].values())
    lost = client.get(none["status"]["lost"]["url"].replace("/ioc/list", "/api/v1/ioc/records")).json()
    assert lost["total"] == 0 and lost["items"] == []
    # the layer's features are kept between requests, and follow a change of status at once
    intact = next(c for c in history.components if c.status == "intact")
    with db.unit_of_work() as s:
        s.get(Component, intact.id).status = ComponentStatus.LOST
    again = {f["id"]: f["properties"]["status"] for f in components()["features"]}
    assert again[intact.id] == "lost" and len(again) == 4


@time_machine.travel(NOW, tick=False)
def test_lists_export_and_open_alarm_and_device_pages(client, db, history):
    login(client, person(db, ["leader"]))
    r = client.get("/ioc/list.xlsx", params={"source": "cases", "measure": "overdue", "period": "30d"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    n = client.get("/api/v1/ioc/records", params={"source": "cases", "measure": "overdue", "period": "30d"}).json()
    assert ws.max_row - 1 == n["total"]
    csv = client.get("/ioc/list.csv", params={"source": "alarms", "measure": "active", "period": "30d"})
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    alarm = history.alarms[0]
    page = client.get(f"/ioc/alarms/{alarm.id}")
    assert page.status_code == 200 and alarm.title in page.text
    assert client.get(f"/ioc/devices/{alarm.thing_id}").status_code == 200
    assert client.get("/ioc/alarms/999999").status_code == 404
    phone = client.get("/ioc/m")
    assert phone.status_code == 200 and "ioc-urgent" in phone.text
    assert client.get("/ioc/wall").status_code == 200


def test_people_without_the_permission_are_refused(client, db):
    login(client, person(db, ["handler"]))
    assert client.get("/api/v1/ioc/indicators").status_code == 403
    assert client.get("/api/v1/ioc/stream").status_code == 403


def _event(db, case_id: int, action: str, seq: int) -> None:
    with db.unit_of_work() as s:
        s.add(CaseEvent(case_id=case_id, seq=seq, at=utcnow(), action=action, to_state="reported"))


@pytest.mark.committed  # the feed reads only committed rows below the PostgreSQL horizon
def test_the_stream_pushes_new_events_and_resumes_from_last_event_id(client, db, history):
    login(client, person(db, ["dispatcher"]))
    case = history.cases[0]
    settle(db)
    # a plain GET: the current cursor, then the end
    first = frames(client.get("/api/v1/ioc/stream").text)
    assert first[0] == {"retry": "2000"} and first[-1]["event"] == "hello"
    cursor = first[-1]["id"]
    _event(db, case.id, "report", 101)
    _event(db, case.id, "dispatch", 102)
    _event(db, case.id, "comment", 103)  # not in the feed
    with db.unit_of_work() as s:
        a = Alarm(kind=AlarmKind.RULE, thing_id=history.alarms[0].thing_id, severity=Severity.CRITICAL,
                  state=AlarmState.ACTIVE, title="水位超警戒", raised_at=utcnow(), last_raised_at=utcnow())  # fmt: skip
        s.add(a)
        s.flush()
        s.add(AlarmEvent(alarm_id=a.id, at=utcnow(), action="raise", to_state="active"))
    settle(db)
    # reconnecting with the last id it saw, a browser receives what it missed
    missed = frames(client.get("/api/v1/ioc/stream", headers={"Last-Event-ID": cursor}).text)
    kinds = [f["event"] for f in missed if f.get("event") not in (None, "hello")]
    assert kinds == ["case_reported", "case_dispatched", "alarm_raised"]
    assert live.Cursor.parse(missed[-1]["id"]) == live.Cursor.parse(missed[-2]["id"])
    # and live: an event committed while the stream is open (after its hello) arrives
    got: list[dict[str, str]] = []
    written = False
    with client.stream("GET", "/api/v1/ioc/stream", params={"linger": 6}, headers={"Accept": "text/event-stream"}) as r:
        buf = ""
        for chunk in r.iter_text():
            buf += chunk
            got = frames(buf)
            if not written and any(f.get("event") == "hello" for f in got):
                _event(db, case.id, "close", 104)
                written = True
            if any(f.get("event") == "case_closed" for f in got):
                break
    closed = next(f for f in got if f.get("event") == "case_closed")  # before the stream ended
    assert case.number in closed["data"]


def test_cursor_parsing():
    assert live.Cursor.parse("c12.a3") == live.Cursor(12, 3)
    assert live.Cursor.parse("nonsense") is None and live.Cursor.parse(None) is None
    assert str(live.Cursor(1, 2)) == "c1.a2"
    assert live.Cursor(5, 1).after(live.Cursor(2, 9)) == live.Cursor(5, 9)
