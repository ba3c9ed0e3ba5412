"""Indicators: each number equals the length of its list under every filter, and both equal a count
made independently in Python from the generated history; rates agree with the cases evaluation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from countyos.cases.service import evaluation
from countyos.cases.service import ioc_queries as cases_q
from countyos.core.actor import Actor
from countyos.core.errors import ValidationFailed
from countyos.ioc.service import indicators as ind
from countyos.ioc.service.scope import Narrow, Scope, resolve
from countyos.sensing.models import AlarmState
from tests.ioc.conftest import NOW, History

EVERYONE = Actor(id=None, name="test", permissions=frozenset({"case.read_all"}))
SATISFIED = set(evaluation.SATISFIED)


def scopes(h: History) -> list[Scope]:
    t1, t2 = h.townships
    w = h.world
    return [
        resolve(period="30d", now=NOW),
        resolve(period="today", now=NOW),
        resolve(period="week", now=NOW),
        resolve(period="month", township=t1, now=NOW),
        resolve(since=(NOW - timedelta(days=12)).date(), until=(NOW - timedelta(days=2)).date(), township=t2, now=NOW),
        resolve(period="year", category=w.cat_garbage, now=NOW),
        resolve(period="30d", township=t1, category=w.cat_manhole, now=NOW),
    ]


def all_records(session, source, measure, scope, narrow=Narrow()):
    return ind.records(
        session, actor=EVERYONE, source=source, measure=measure, scope=scope, narrow=narrow, now=NOW, limit=100_000
    )


# --- an independent oracle over the generated cases ---------------------------------------------


def in_slice(c, scope: Scope, h: History, narrow: Narrow = Narrow()) -> bool:
    if scope.township_code and c.township_code != scope.township_code:
        return False
    if scope.category_id is not None and c.category_id != scope.category_id:
        return False
    if narrow.department_id is not None and c.department_id != narrow.department_id:
        return False
    return not (narrow.grid_code and c.grid_code != narrow.grid_code)


def oracle(c, measure: str, scope: Scope) -> bool:
    start, end = scope.start, scope.end
    in_period = c.merged_into_id is None and start <= c.reported_at < end
    to_close = in_period and c.registered_at is not None and c.voided_at is None
    backlog = c.is_open and c.reported_at < end
    closed_on_time = c.closed_at is not None and c.closed_in_time is True
    overdue = backlog and c.paused_at is None and c.step_deadline is not None and c.step_deadline <= NOW
    return {
        "reported": in_period,
        "to_close": to_close,
        "closed": to_close and c.closed_at is not None,
        "not_closed": to_close and c.closed_at is None,
        "closed_on_time": to_close and closed_on_time,
        "not_closed_on_time": to_close and not closed_on_time,
        "reworked": to_close and c.rework_count > 0,
        "rated": in_period and c.satisfaction is not None,
        "satisfied": in_period and c.satisfaction in SATISFIED,
        "dissatisfied": in_period and c.satisfaction is not None and c.satisfaction not in SATISFIED,
        "open": backlog,
        "overdue": overdue,
        "due_soon": backlog
        and c.paused_at is None
        and c.step_warn_at is not None
        and c.step_warn_at <= NOW < c.step_deadline,
        "urgent": backlog and c.priority in ("urgent", "critical"),
    }[measure]


def alarm_oracle(a, measure: str, scope: Scope, h: History) -> bool:
    if scope.township_code and h.things[a.thing_id] != scope.township_code:
        return False
    if scope.category_id is not None and (scope.category_id != h.world.cat_manhole or a.rule_id != h.rule_id):
        return False
    active = a.state != AlarmState.CLEARED and a.raised_at < scope.end
    if measure == "active":
        return active
    if measure == "raised":
        return scope.start <= a.raised_at < scope.end
    return active and a.severity == measure.removeprefix("active_")


# --- the tests ---------------------------------------------------------------------------------


def test_every_indicator_and_its_list_agree_under_every_filter(db, history):
    """count == len(list) for every indicator's part and whole, and both equal the oracle."""
    checked = 0
    with db.reading() as s:
        for scope in scopes(history):
            for i in ind.INDICATORS:
                v = ind.evaluate(s, actor=EVERYONE, ind=i, scope=scope, now=NOW)
                sc = ind.windowed(i, scope, NOW)
                for measure, n in ((i.measure, v.count), (i.whole, v.whole)):
                    if measure is None:
                        continue
                    rows = all_records(s, i.source, measure, sc)
                    assert n == len(rows), (i.code, measure, scope)
                    assert len({r.id for r in rows}) == len(rows)
                    if i.source == "cases":
                        expected = {c.id for c in history.cases if in_slice(c, sc, history) and oracle(c, measure, sc)}
                    elif i.source == "alarms":
                        expected = {a.id for a in history.alarms if alarm_oracle(a, measure, sc, history)}
                    elif i.source in ("applications", "data", "eco", "village", "safety", "usage"):  # their own tests
                        expected = set()
                    else:
                        expected = {
                            t
                            for t, town in history.things.items()
                            if (not sc.township_code or town == sc.township_code)
                            and (sc.category_id is None or sc.category_id == history.world.cat_manhole)
                            and (sc.category_id is None or t in history.watched)
                        }
                        if measure == "online":
                            expected = {r.id for r in rows if r.health == "online"} & expected
                    assert {r.id for r in rows} == expected, (i.code, measure, scope)
                    checked += 1
                if v.whole:
                    assert v.rate == round(100.0 * v.count / v.whole, 2)
    assert checked > 100
    # the history is rich enough that the filters matter
    with db.reading() as s:
        everything = ind.count(s, actor=EVERYONE, source="cases", measure="reported", scope=scopes(history)[0], now=NOW)
        one_town = ind.count(s, actor=EVERYONE, source="cases", measure="reported", scope=scopes(history)[3], now=NOW)
        assert 0 < one_town < everything


def test_every_measure_of_every_source_counts_its_list(db, history):
    with db.reading() as s:
        for scope in scopes(history)[:4]:
            for source, measures in ind.MEASURES.items():
                for m in measures:
                    n = ind.count(s, actor=EVERYONE, source=source, measure=m, scope=scope, now=NOW)
                    assert n == len(all_records(s, source, m, scope)), (source, m)
        scope = resolve(period="30d", township=history.townships[0], now=NOW)
        damaged = all_records(s, "components", "status_damaged", resolve(period="30d", now=NOW))
        assert [c.status for c in damaged] == ["damaged"]
        assert {c.township_code for c in all_records(s, "components", "components", scope)} == {history.townships[0]}


def test_drills_narrow_to_a_department_a_grid_a_day_and_an_hour(db, history):
    w = history.world
    scope = resolve(period="30d", now=NOW)
    day = (NOW - timedelta(days=3)).astimezone(scope.start.tzinfo).date()
    with db.reading() as s:
        dept = Narrow(department_id=w.enforcement)
        rows = all_records(s, "cases", "reported", scope, dept)
        assert rows and {c.department_id for c in rows} == {w.enforcement}
        assert len(rows) == ind.count(
            s, actor=EVERYONE, source="cases", measure="reported", scope=scope, narrow=dept, now=NOW
        )
        grid = history.townships[0] + "001001"
        rows = all_records(s, "cases", "open", scope, Narrow(grid_code=grid))
        assert {c.grid_code for c in rows} <= {grid}
        assert len(rows) == sum(1 for c in history.cases if c.grid_code == grid and oracle(c, "open", scope))
        for narrow in (Narrow(day=(NOW - timedelta(days=d)).date()) for d in range(0, 10)):
            lo, hi = narrow.window(scope.start, scope.end)
            expected = {c.id for c in history.cases if c.merged_into_id is None and lo <= c.reported_at < hi}
            assert {c.id for c in all_records(s, "cases", "reported", scope, narrow)} == expected
        hourly = [Narrow(day=day, hour=h) for h in range(24)]
        per_hour = [len(all_records(s, "alarms", "raised", scope, n)) for n in hourly]
        assert sum(per_hour) == len(all_records(s, "alarms", "raised", scope, Narrow(day=day)))


def test_rates_are_the_evaluation_rates(db, history):
    """The closure, on-time, satisfaction and rework rates are the cases evaluation's, not a copy."""
    scope = resolve(period="30d", now=NOW)
    with db.reading() as s:
        rows = evaluation.evaluate(s, subject="township", start=scope.start, end=scope.end)
        rates = evaluation.rates_of(evaluation.totals(rows))
        values = {v.indicator.code: v for v in ind.all_values(s, actor=EVERYONE, scope=scope, now=NOW)}
    assert values["closure_rate"].rate == rates["closure_rate"]
    assert values["on_time_rate"].rate == rates["closed_on_time_rate"]
    assert values["satisfaction"].rate == rates["satisfaction_rate"]
    assert values["rework_rate"].rate == rates["rework_rate"]
    assert rates["closure_rate"] is not None and 0 < rates["closure_rate"] < 100


def test_slice_evaluation_is_the_evaluation_of_the_slice(db, history):
    """Rankings reuse the evaluation's counters, scores and grades; with no filter they are identical."""
    scope = resolve(period="30d", now=NOW)
    with db.reading() as s:
        for subject in ("department", "township"):
            full = evaluation.evaluate(s, subject=subject, start=scope.start, end=scope.end)
            sliced = cases_q.evaluate_slice(
                s, actor=EVERYONE, subject=subject, s=cases_q.CaseSlice(scope.start, scope.end), now=NOW
            )
            assert [(r.key, r.counts, r.score, r.grade) for r in sliced] == [
                (r.key, r.counts, r.score, r.grade) for r in full
            ]


def test_a_handler_counts_only_the_cases_they_may_see(db, history):
    w = history.world
    handler = Actor(id=None, name="h", permissions=frozenset({"case.read", "case.handle"}), department_id=w.works)
    scope = resolve(period="30d", now=NOW)
    with db.reading() as s:
        n = ind.count(s, actor=handler, source="cases", measure="reported", scope=scope, now=NOW)
        rows = ind.records(s, actor=handler, source="cases", measure="reported", scope=scope, now=NOW, limit=10_000)
        assert n == len(rows) > 0
        assert all(c.department_id == w.works or f",{w.works}," in (c.co_tags or "") for c in rows)
        everyone = ind.count(s, actor=EVERYONE, source="cases", measure="reported", scope=scope, now=NOW)
        assert n < everyone


def test_scope_parameters_are_checked():
    with pytest.raises(ValidationFailed):
        resolve(period="decade")
    with pytest.raises(ValidationFailed):
        resolve(since="2026-03-10", until="2026-03-01")
    with pytest.raises(ValidationFailed):
        resolve(period="30d", township="12")
    s = resolve(since="2026-03-01", until="2026-03-10", township="331123001", category="5")
    assert (s.period, s.since.day, s.until.day, s.category_id) == ("custom", 1, 10, 5)
    assert s.previous().until.day == 28 and s.previous().since.day == 19
    with pytest.raises(ValidationFailed):
        ind.get("nonsense")


def test_lists_are_most_urgent_first_page_by_page(db, history, monkeypatch):
    """A list page (ids sorted first, then their rows read, in chunks) is the same slice of the same
    order as the whole statement: overdue first, then critical and urgent, then the nearest deadline."""
    monkeypatch.setattr(cases_q, "_CHUNK", 3)  # a page spans several chunks of ids, as a large export does
    scope = resolve(period="30d", now=NOW)
    with db.reading() as s:
        for measure in ("open", "overdue", "reported"):
            sl = ind.case_slice(s, scope, Narrow())
            whole = [c.id for c in s.scalars(cases_q.statement(s, actor=EVERYONE, measure=measure, s=sl, now=NOW))]
            pages = [
                [c.id for c in cases_q.rows(s, actor=EVERYONE, measure=measure, s=sl, now=NOW, limit=7, offset=o)]
                for o in range(0, len(whole), 7)
            ]
            assert [i for p in pages for i in p] == whole and len(whole) > 7, measure
            points = cases_q.map_points(s, actor=EVERYONE, measure=measure, s=sl, now=NOW, limit=10)
            assert [p.id for p in points] == whole[:10], measure  # every generated case has a position
            # the features the database builds for the map: the same cases, order and clock levels
            n, text = cases_q.map_features_json(s, actor=EVERYONE, measure=measure, s=sl, now=NOW, limit=10)
            features = json.loads(text)
            assert n == len(features) == 10 and [f["id"] for f in features] == whole[:10], measure
            for f, p in zip(features, points, strict=True):
                level = (
                    "paused"
                    if p.paused_at is not None
                    else "red"
                    if p.step_deadline is not None and p.step_deadline <= NOW
                    else "yellow"
                    if p.step_warn_at is not None and p.step_warn_at <= NOW
                    else "green"
                )
                assert f["geometry"] == {"type": "Point", "coordinates": [p.lon, p.lat]}
                assert f["properties"] == {
                    "id": p.id,
                    "number": p.number,
                    "title": p.title,
                    "state": p.state,
                    "step": p.step or "",
                    "priority": str(p.priority),
                    "level": level,
                    "url": f"/cases/{p.id}",
                }
            n_all, _ = cases_q.map_features_json(s, actor=EVERYONE, measure=measure, s=sl, now=NOW, limit=100_000)
            assert n_all == len(whole), measure
        first = all_records(s, "cases", "open", scope)[0]
        assert first.paused_at is None and first.step_deadline <= NOW and first.priority == "critical"
