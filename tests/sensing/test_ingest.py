"""HTTP batch ingest: device tokens, idempotency, per-item refusals, rollups and latest values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.sensing.models import Health, Latest, Observation, RollupDay, RollupHour, RollupMinute, Thing
from countyos.sensing.service import devices, rollups, rules
from countyos.sensing.service.times import MINUTE_US, to_us
from tests.factories import person, token_for

URL = "/api/v1/sensing/ingest"


def post(client, token, body):
    return client.post(URL, json=body, headers={"X-Device-Token": token})


def obs_count(db, ds=None):
    with db.reading() as s:
        stmt = select(func.count()).select_from(Observation)
        if ds is not None:
            stmt = stmt.where(Observation.datastream_id == ds)
        return s.scalar(stmt)


def test_device_posts_items_and_series_and_retries_make_no_duplicates(client, db, sensors):
    now = utcnow().replace(microsecond=0)
    t0 = int((now - timedelta(hours=1)).timestamp())
    body = {
        "observations": [
            {"datastream": sensors.level, "time": (now - timedelta(minutes=2)).isoformat(), "value": 2.5, "unit": "m"},
            {"device": "wl-0001", "metric": "battery", "time": t0, "value": 87},
        ],
        "series": [
            {"device": "wl-0001", "metric": "water_level", "data": [[t0 + 60 * i, 1.0 + i / 100] for i in range(50)]}
        ],
    }
    r = post(client, sensors.gauge_token, body)
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 52 and r.json()["duplicates"] == 0 and r.json()["errors"] == []
    again = post(client, sensors.gauge_token, body)
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 52
    assert obs_count(db, sensors.level) == 51
    with db.reading() as s:
        latest = s.get(Latest, sensors.level)
        assert latest.result == 2.5 and latest.raw_count == 51
        assert latest.phenomenon_us == to_us(now - timedelta(minutes=2))
        thing = s.get(Thing, sensors.gauge)
        assert thing.last_seen_at is not None


def test_refused_items_carry_reasons_while_valid_items_are_stored(client, db, sensors):
    now = utcnow()
    good = now.isoformat()
    body = {
        "observations": [
            {"datastream": sensors.level, "time": good, "value": 1.2},
            {"datastream": sensors.level, "time": (now + timedelta(hours=2)).isoformat(), "value": 1.2},
            {"datastream": sensors.level, "time": "1970-01-02T00:00:00Z", "value": 1.2},
            {"datastream": sensors.level, "time": (now - timedelta(seconds=5)).isoformat(), "value": 1.2, "unit": "cm"},
            {"datastream": sensors.level, "time": (now - timedelta(seconds=6)).isoformat(), "value": 900},
            {"datastream": sensors.level, "time": (now - timedelta(seconds=7)).isoformat(), "value": "high"},
            {"datastream": sensors.level, "time": "2026-01-01T08:00:00", "value": 1.0},
            {"datastream": sensors.rainfall, "time": good, "value": 3},
            {"datastream": 999999, "time": good, "value": 3},
        ]
    }
    r = post(client, sensors.gauge_token, body)
    assert r.status_code == 200
    out = r.json()
    assert out["stored"] == 1
    codes = {e["item"]: e["code"] for e in out["errors"]}
    assert codes == {
        "observations[1]": "future_time",
        "observations[2]": "ancient_time",
        "observations[3]": "wrong_unit",
        "observations[4]": "out_of_range",
        "observations[5]": "bad_value",
        "observations[6]": "bad_time",
        "observations[7]": "not_yours",
        "observations[8]": "unknown_datastream",
    }
    assert all(e["message"] for e in out["errors"])
    assert obs_count(db) == 1


def test_series_with_one_bad_point_is_checked_item_by_item(client, db, sensors):
    t0 = int(utcnow().timestamp()) - 600
    data = [[t0 + i, 1.0] for i in range(10)]
    data[4] = [t0 + 4, -999.0]
    r = post(client, sensors.gauge_token, {"series": [{"datastream": sensors.level, "data": data}]})
    assert r.json()["stored"] == 9
    assert [e["item"] for e in r.json()["errors"]] == ["series[0].data[4]"]


def test_all_refused_is_422_and_tokens_are_required(client, db, sensors):
    body = {"observations": [{"datastream": sensors.level, "time": "nonsense", "value": 1}]}
    assert post(client, sensors.gauge_token, body).status_code == 422
    assert client.post(URL, json=body).status_code == 401
    assert post(client, "dev_nope_nope", body).status_code == 401
    assert client.post(URL, content=b"{not json", headers={"X-Device-Token": sensors.gauge_token}).status_code == 422


def test_operator_token_with_sensing_write_may_ingest_anything(client, db, sensors):
    admin = person(db, ["data_admin"])
    viewer = person(db, ["dispatcher"])
    body = {"observations": [{"datastream": sensors.rainfall, "time": utcnow().isoformat(), "value": 0.5}]}
    ok = client.post(URL, json=body, headers={"Authorization": f"Bearer {token_for(db, admin, ['sensing.write'])}"})
    assert ok.status_code == 200 and ok.json()["stored"] == 1
    no = client.post(URL, json=body, headers={"Authorization": f"Bearer {token_for(db, viewer, ['sensing.read'])}"})
    assert no.status_code == 403


def test_rollups_are_exact_whatever_the_arrival_order(client, db, sensors):
    base = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    points = [(base + timedelta(seconds=20 * i), float((i * 7) % 11)) for i in range(400)]  # 2 h 13 min
    late, early = points[:200], points[200:]
    for chunk in (early, late, points[100:300]):  # out of order, with overlap (retries)
        post(
            client,
            sensors.gauge_token,
            {"series": [{"datastream": sensors.level, "data": [[int(t.timestamp()), v] for t, v in chunk]}]},
        )
    with db.reading() as s:
        s.expire_on_commit = False
        minutes = {
            r.bucket_us: r for r in s.scalars(select(RollupMinute).where(RollupMinute.datastream_id == sensors.level))
        }
        hours = list(s.scalars(select(RollupHour).where(RollupHour.datastream_id == sensors.level)))
        days = list(s.scalars(select(RollupDay).where(RollupDay.datastream_id == sensors.level)))
        s.expunge_all()
    assert sum(r.n for r in minutes.values()) == 400
    first = minutes[to_us(base)]
    vals = [v for _, v in points[:3]]
    assert (first.n, first.vmin, first.vmax, first.vsum, first.vlast) == (3, min(vals), max(vals), sum(vals), vals[-1])
    assert sorted(h.n for h in hours) == [40, 180, 180]
    assert sum(h.vsum for h in hours) == sum(v for _, v in points)
    assert [d.n for d in days] == [400]
    assert days[0].bucket_us == rollups.bucket_start(to_us(base), "day")
    assert days[0].vlast == points[-1][1]
    with db.reading() as s:
        level, series = rollups.series(
            s, datastream_id=sensors.level, start_us=to_us(base), end_us=to_us(base + timedelta(hours=3))
        )
    assert level == "minute" and len(series) == 134 and series[0].bucket_us == to_us(base)
    assert series[1].avg == sum(v for _, v in points[3:6]) / 3
    assert series[1].bucket_us - series[0].bucket_us == MINUTE_US


def test_day_buckets_start_at_local_midnight():
    t = to_us(datetime(2026, 3, 1, 17, 0, tzinfo=UTC))  # 01:00 on 2 March in Shanghai
    assert rollups.bucket_start(t, "day") == to_us(datetime(2026, 3, 1, 16, 0, tzinfo=UTC))


def test_a_revoked_device_token_is_refused_at_once_though_it_was_just_used(client, db, sensors):
    body = {"observations": [{"datastream": sensors.rainfall, "time": utcnow().isoformat(), "value": 0.5}]}
    assert post(client, sensors.rain_token, body).status_code == 200  # the token is now in the cache
    with db.unit_of_work() as s:
        (tok,) = devices.tokens_of(s, thing_id=sensors.rain)
        devices.revoke_token(s, actor=Actor(id=None, name="test"), token_id=tok.id)
    later = {"observations": [{"datastream": sensors.rainfall, "time": utcnow().isoformat(), "value": 0.7}]}
    assert post(client, sensors.rain_token, later).status_code == 401


def test_a_rule_saved_after_a_batch_without_rules_watches_the_next_batch(client, db, sensors):
    t0 = utcnow() - timedelta(minutes=10)
    first = {"series": [{"datastream": sensors.level, "data": [[t0.timestamp(), 1.0]]}]}
    assert post(client, sensors.gauge_token, first).json()["alarms"] == []  # no rule yet (cached as such)
    with db.unit_of_work() as s:
        rules.save(
            s,
            actor=Actor(id=None, name="test"),
            data={
                "name": "high water",
                "severity": "major",
                "condition": {"type": "threshold", "op": ">", "value": 3.0},
                "datastream_id": sensors.level,
            },
        )
    later = (t0 + timedelta(minutes=1)).timestamp()
    out = post(client, sensors.gauge_token, {"series": [{"datastream": sensors.level, "data": [[later, 3.5]]}]})
    assert out.status_code == 200 and len(out.json()["alarms"]) == 1


def test_a_batch_moves_last_seen_brings_devices_online_and_copies_battery(client, db, sensors):
    with db.unit_of_work() as s:
        s.get(Thing, sensors.gauge).health = Health.OFFLINE
    now = utcnow()
    body = {
        "series": [
            {"datastream": sensors.level, "data": [[now.timestamp() - 60, 1.2]]},
            {"datastream": sensors.battery, "data": [[now.timestamp() - 60, 64]]},
            {"datastream": sensors.rainfall, "data": [[now.timestamp() - 60, 0.0]]},
        ]
    }
    assert post(client, sensors.gauge_token, body).json()["refused"] == 1  # the rain gauge is not the gauge's
    with db.reading() as s:
        gauge, rain = s.get(Thing, sensors.gauge), s.get(Thing, sensors.rain)
        assert gauge.health == Health.ONLINE and gauge.health_changed_at is not None
        assert gauge.last_seen_at is not None and abs((gauge.last_seen_at - now).total_seconds()) < 60
        assert gauge.battery == 64
        assert rain.last_seen_at is None and rain.battery is None
