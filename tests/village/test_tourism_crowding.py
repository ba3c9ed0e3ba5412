"""Crowding: one alarm at each threshold (75, 90, 100 %) as the count rises, none while it stays, the
manager notified, a 限流 case at 90 % and 100 %, and everything cleared below the hysteresis."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from countyos.cases.models import Case, Notification
from countyos.core.clock import utcnow
from countyos.sensing.models import Alarm, AlarmKind, AlarmState
from countyos.village.models.tourism import Crowding, Spot
from countyos.village.service import tourism_crowding
from tests.village.tourism_helpers import fake_geo, gate, ingest, slots

__all__ = ["fake_geo", "gate"]


def evaluate(db):
    with db.unit_of_work() as s:
        return tourism_crowding.evaluate(s)


@dataclass(frozen=True)
class Seen:
    level: str
    state: AlarmState
    case_id: int | None
    title: str


def alarms_of(db, gate):
    with db.reading() as s:
        rows = s.scalars(
            select(Alarm).where(Alarm.kind == AlarmKind.CROWDING, Alarm.thing_id == gate.thing_id).order_by(Alarm.id)
        ).all()
        return [Seen(a.context["level"], a.state, a.case_id, a.title) for a in rows]


def level(db, gate):
    with db.reading() as s:
        return s.get(Spot, gate.spot_id).crowding


def test_thresholds_fire_once_each_escalate_and_clear(client, db, gate, fake_geo):
    t = iter(slots(12))
    ingest(client, gate, [("entries", next(t), 60)])
    assert evaluate(db) == [] and alarms_of(db, gate) == []
    ingest(client, gate, [("entries", next(t), 16)])  # 76 %
    (c,) = evaluate(db)
    assert (c.before, c.after, c.in_park) == (Crowding.NORMAL, Crowding.WARN, 76) and c.case_id is None
    assert evaluate(db) == []  # staying in the level does nothing
    ingest(client, gate, [("entries", next(t), 2)])  # 78 %: still the same level
    assert evaluate(db) == [] and len(alarms_of(db, gate)) == 1
    ingest(client, gate, [("entries", next(t), 13)])  # 91 %
    (c,) = evaluate(db)
    assert c.after == Crowding.HIGH and c.case_id is not None
    ingest(client, gate, [("entries", next(t), 9)])  # 100 %
    (c,) = evaluate(db)
    assert c.after == Crowding.FULL and c.case_id is not None
    assert evaluate(db) == []
    found = alarms_of(db, gate)
    assert [a.level for a in found] == ["l75", "l90", "l100"]
    assert [a.state for a in found] == [AlarmState.CLEARED, AlarmState.CLEARED, AlarmState.ACTIVE]
    assert [a.case_id is not None for a in found] == [False, True, True]
    assert all("测试峡谷" in a.title for a in found)
    with db.reading() as s:
        cases = s.scalars(select(Case).where(Case.id.in_([a.case_id for a in found if a.case_id]))).all()
        assert len(cases) == 2
        notes = s.scalars(select(Notification).where(Notification.user_id == gate.manager.id)).all()
        assert len(notes) == 3 and all("测试峡谷" in n.title for n in notes)
    # falling back to 72 % (above 75 − 5) keeps the level; below 70 % clears
    ingest(client, gate, [("exits", next(t), 28)])
    assert evaluate(db) == [] and level(db, gate) == Crowding.FULL
    ingest(client, gate, [("exits", next(t), 3)])  # 69 %
    (c,) = evaluate(db)
    assert c.after == Crowding.NORMAL
    assert all(a.state == AlarmState.CLEARED for a in alarms_of(db, gate))
    # a new crossing is a new alarm
    ingest(client, gate, [("entries", next(t), 10)])  # 79 %
    (c,) = evaluate(db)
    assert c.after == Crowding.WARN and len(alarms_of(db, gate)) == 4


def test_jumping_straight_to_full_raises_one_alarm_with_a_case(client, db, gate, fake_geo):
    ingest(client, gate, [("entries", slots(1)[0], 130)])
    (c,) = evaluate(db)
    assert c.after == Crowding.FULL and c.case_id is not None
    assert len(alarms_of(db, gate)) == 1


def test_levels_come_from_the_data():
    assert tourism_crowding.level_for(74.9) == Crowding.NORMAL
    assert tourism_crowding.level_for(75) == Crowding.WARN
    assert tourism_crowding.level_for(99.9) == Crowding.HIGH
    assert tourism_crowding.level_for(120) == Crowding.FULL
    assert tourism_crowding.next_level(Crowding.HIGH, 71) == Crowding.HIGH
    assert tourism_crowding.next_level(Crowding.HIGH, 69.9) == Crowding.NORMAL


def test_the_operations_view_counts_the_crowded_spot(client, db, gate, fake_geo):
    from countyos.core.actor import Actor
    from countyos.ioc.service import indicators as ind
    from countyos.ioc.service.scope import resolve

    everyone = Actor(id=None, name="test", permissions=frozenset({"case.read_all"}))
    scope = resolve(period="30d")
    with db.reading() as s:
        before = ind.count(s, actor=everyone, source="village", measure="spots_crowded", scope=scope, now=utcnow())
    ingest(client, gate, [("entries", slots(1)[0], 95)])
    evaluate(db)
    with db.reading() as s:
        now = utcnow()
        n = ind.count(s, actor=everyone, source="village", measure="spots_crowded", scope=scope, now=now)
        listed = ind.records(s, actor=everyone, source="village", measure="spots_crowded", scope=scope, now=now,
                             limit=50)  # fmt: skip
        assert n == len(listed) == before + 1
