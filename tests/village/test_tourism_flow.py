"""在园人数 = entries − exits since the start of the local day, from observations posted through the
SensorThings API and the ingest API: a late observation counts for its own time, a duplicate once."""

from __future__ import annotations

from datetime import timedelta

from countyos.village.service import tourism_flow
from tests.factories import login, person
from tests.sensing.sta_helpers import machine
from tests.village.tourism_helpers import fake_geo, gate, ingest, slots

__all__ = ["fake_geo", "gate"]

STA = "/sta/v1.1"


def live(db, gate):
    with db.reading() as s:
        return tourism_flow.live(s, spot_ids=[gate.spot_id])[gate.spot_id]


def test_in_park_from_sta_and_ingest_with_late_and_duplicate_observations(client, db, gate):
    t = slots(8)
    writer = machine(db)
    # SensorThings: entries at t1 and t3
    for at, n in ((t[1], 30), (t[3], 12)):
        r = client.post(
            f"{STA}/Datastreams({gate.entries})/Observations",
            json={"phenomenonTime": at.isoformat(), "result": n},
            headers=writer,
        )
        assert r.status_code == 201, r.text
    # ingest: exits at t4, entries at t5
    out = ingest(client, gate, [("exits", t[4], 7), ("entries", t[5], 5)])
    assert out["stored"] == 2
    f = live(db, gate)
    assert (f.entries, f.exits, f.in_park) == (47, 7, 40)
    # a late observation: earlier phenomenon time, posted last — counts for its own time
    assert ingest(client, gate, [("entries", t[0], 10)])["stored"] == 1
    f = live(db, gate)
    assert (f.entries, f.in_park) == (57, 50)
    assert f.curve[0] == (t[0], 10) and f.peak == 52 and f.peak_at == t[3]
    # duplicates: the same (datastream, time) again through both channels is counted once
    again = ingest(client, gate, [("entries", t[5], 5), ("exits", t[4], 7)])
    assert again["stored"] == 0 and again["duplicates"] == 2
    dup = client.post(
        f"{STA}/Datastreams({gate.entries})/Observations",
        json={"phenomenonTime": t[1].isoformat(), "result": 30},
        headers=writer,
    )
    assert dup.status_code == 409
    assert live(db, gate).in_park == 50
    # the manager reads the same figure through the API; yesterday's observations do not count
    start, _ = tourism_flow.day_bounds(tourism_flow.local_day(t[0]))
    ingest(client, gate, [("entries", start - timedelta(minutes=5), 999)])
    login(client, gate.manager)
    body = client.get(f"/api/v1/village/tourism/spots/{gate.spot_id}/live").json()
    assert body["in_park"] == 50 and body["entries_today"] == 57 and body["exits_today"] == 7
    assert body["percent"] == 50.0 and body["clipped"] is False


def test_more_exits_than_entries_is_shown_as_zero_and_said(client, db, gate):
    t = slots(3)
    ingest(client, gate, [("entries", t[0], 5), ("exits", t[1], 9)])
    f = live(db, gate)
    assert f.in_park == 0 and f.raw_in_park == -4 and f.clipped


def test_daily_totals_are_recomputed_for_today_and_kept_with_the_revenue(client, db, gate):
    t = slots(4)
    ingest(client, gate, [("entries", t[0], 20), ("exits", t[2], 5)])
    with db.unit_of_work() as s:
        assert tourism_flow.recompute(s) >= 1
    ingest(client, gate, [("entries", t[1], 4)])  # late data: the next run counts it
    with db.unit_of_work() as s:
        tourism_flow.recompute(s)
        day = tourism_flow.local_day(t[0])
        (row,) = tourism_flow.daily(s, spot_id=gate.spot_id, start=day, end=day)
        assert (row.entries, row.exits, row.peak, row.peak_at) == (24, 5, 24, t[1])


def test_a_stranger_sees_no_spot(client, db, gate):
    login(client, person(db, ["scenic_manager"]))
    assert client.get(f"/api/v1/village/tourism/spots/{gate.spot_id}/live").status_code == 404
    assert client.get("/api/v1/village/tourism/spots").json() == []
