"""The demo's year of applications: its size, seasons, sources and outcomes; deterministic; and every
sampled application is what the service would have written (replayed through ``lifecycle.apply``, due
times from ``deadlines``, numbers from the numbering rules and their counters), so the service takes
over from there."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.demo import DemoContext
from countyos.org import demo as org_demo
from countyos.services import deadlines, demo, demo_applications, lifecycle, numbering
from countyos.services.lifecycle import Action, Decision, Position, Role, State
from countyos.services.models import (
    Application,
    ApplicationEvent,
    ApplicationSpecial,
    ApplicationStep,
    MatterVersion,
    NumberCounter,
)
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import ioc_queries as q
from tests.harness import Baseline, Harness

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 10:00 county time


def _build(db: Database, _built: dict) -> tuple[DemoContext, list[int]]:
    ctx = DemoContext()
    with db.unit_of_work() as s:
        org_demo.load(s, ctx)
        demo.load(s, ctx, applications=False)
        ids = demo_applications.load(s, ctx, now=NOW)
    return ctx, ids


# the year is built once and committed; each test reads it inside its own rolled-back transaction
YEAR = Baseline("services demo year", _build)


@pytest.fixture(scope="session")
def services_year_baseline() -> Baseline:
    return YEAR


@pytest.fixture
def county(db: Database, harness: Harness, services_year_baseline: Baseline) -> tuple[DemoContext, list[int]]:
    return harness.value(services_year_baseline, db=db)


def _local_month(t: datetime) -> int:
    return t.astimezone(ZoneInfo("Asia/Shanghai")).month


def test_a_year_of_applications_with_seasons_sources_and_outcomes(db, county) -> None:
    ctx, ids = county
    assert 2000 <= len(ids) <= 4000
    with db.reading() as s:
        rows = list(s.scalars(select(Application).where(Application.id.in_(ids))))
        names = {i: n for i, n in s.execute(select(MatterVersion.id, MatterVersion.name))}
        states = Counter(a.state for a in rows)
        # most concluded 准予, some 不予受理, some withdrawn, the last weeks still open at every step
        done = states[State.DECIDED] + states[State.DELIVERED]
        assert done > 0.8 * len(rows)
        granted = sum(a.decision == Decision.GRANTED for a in rows)
        # a share of the concluded ones rated, mostly well; the few 差评 each with its rectification
        from countyos.services.models import Rating, Rectification

        rated = list(s.scalars(select(Rating).where(Rating.application_id.in_(ids))))
        assert 0.3 * done < len({r.application_id for r in rated}) < 0.9 * done
        bad = [r for r in rated if r.level in ("dissatisfied", "very_dissatisfied")]
        assert 0 < len(bad) < 0.1 * len(rated)
        rectified = set(s.scalars(select(Rectification.rating_id)))
        assert {r.id for r in bad} <= rectified
        # every granted one has its certificate, with a verification token
        from countyos.services.models import Certificate

        certified = dict(s.execute(select(Certificate.application_id, Certificate.token)).all())
        assert {a.id for a in rows if a.decision == Decision.GRANTED} <= set(certified)
        assert all(len(t) >= 32 for t in certified.values())
        assert granted > 0.9 * done and granted < done
        assert 0.02 * len(rows) < states[State.REJECTED] < 0.06 * len(rows)
        assert states[State.WITHDRAWN] > 0
        assert states[State.IN_PROGRESS] > 10 and states[State.SUBMITTED] >= 1
        assert sum(a.corrections > 0 for a in rows) > 0.04 * len(rows)
        assert s.scalar(select(func.count(ApplicationSpecial.id))) > 20
        overdue = q.count(s, measure="overdue", s=q.AppSlice(), now=NOW)
        late = q.count(s, measure="late", s=q.AppSlice(), now=NOW)
        assert overdue >= 1 and late > 0.01 * len(rows)
        # sources: the county centre, the townships' windows, the villages' agents and online
        sources = Counter(a.submitted_role for a in rows)
        assert sources[Role.WINDOW] > 0.3 * len(rows) and sources[Role.AGENT] > 0.1 * len(rows)
        assert sources[Role.APPLICANT] > 0.2 * len(rows)
        towns = q.townships(s)
        local = {i for _n, members in towns.values() for i in members}
        by_town = Counter(a.submitted_by_department_id for a in rows if a.submitted_by_department_id in local)
        assert len(by_town) >= 8  # four township windows and four villages' agents
        assert all(a.consent_way and a.consent_by for a in rows if a.submitted_role == Role.AGENT)
        # seasons (county months): 春节 in February, 宅基地 in spring, 医保 enrolment in autumn
        months = Counter(_local_month(a.submitted_at) for a in rows)
        assert months[2] < 0.75 * months[3]

        def of(name: str, month: int) -> int:
            return sum(names[a.matter_version_id] == name and _local_month(a.submitted_at) == month for a in rows)

        assert of("农村宅基地审批", 3) + of("农村宅基地审批", 4) > 2 * (
            of("农村宅基地审批", 7) + of("农村宅基地审批", 8)
        )
        assert of("基本医疗保险参保登记", 10) > 2 * of("基本医疗保险参保登记", 5)
    assert any("applications" in n for n in ctx.notes)


def test_the_demo_is_deterministic(db) -> None:
    ctx = DemoContext()
    with db.unit_of_work() as s:
        org_demo.load(s, ctx)
        demo.load(s, ctx, applications=False)
        w = demo_applications.world(s)
    a, ca = demo_applications.simulate(w, now=NOW)
    b, cb = demo_applications.simulate(w, now=NOW)
    assert ca == cb and len(a) == len(b) > 2000

    def strip(sim: demo_applications.Sim) -> tuple:  # ciphertexts carry a random nonce; their indexes do not
        row = {k: v for k, v in sim.row.items() if not k.endswith("_enc")}
        return (row, sim.materials, sim.steps, sim.specials, sim.events)

    assert [strip(x) for x in a] == [strip(x) for x in b]


def _replay(s, app: Application) -> None:
    """The application's timeline replayed through the one transition table reaches its state, and its
    rows are what ``act`` would have written."""
    version = apps.version_of(s, app)
    steps = max(len(version.steps), 1)
    events = apps.timeline(s, application_id=app.id)
    pos = Position(State.DRAFT)
    for e in events:
        decision = None
        nxt = lifecycle.next_position(pos, e.action, Role(e.role), steps=steps)
        assert nxt is not None, (app.number, e.action, pos)
        if nxt.state is State.DECIDED:
            decision = Decision(app.decision)
        after = lifecycle.apply(pos, e.action, Role(e.role), steps=steps, decision=decision)
        assert (e.from_state, e.to_state, e.step) == (pos.state, after.state, after.step), app.number
        pos = after
    assert (pos.state, pos.step) == (app.state, app.step)
    assert app.version == len(events)  # create makes version 1 with the submission; each act adds one
    assert events[0].action == Action.SUBMIT and events[0].at == app.submitted_at
    assert [e.at for e in events] == sorted(e.at for e in events)
    # the due time: the version's limit from the count's start, pushed by every ended 特别程序
    if app.clock_started_at is not None and not any(x.ended_at is None for x in apps.specials_of(s, app)):
        assert app.due_at == deadlines.due_at(
            apps.limit_of(version), accepted_at=app.clock_started_at, special=apps._intervals(s, app)
        )
    # one pending step, at the current position, exactly while the application sits at a step
    pending = [x for x in apps.steps_of(s, app) if x.status == "pending" and x.ended_at is None]
    if app.state in (State.IN_PROGRESS, State.SPECIAL_PROCEDURE):
        assert [x.position for x in pending] == [app.step]
    else:
        assert pending == []
    # numbers from the rules
    assert re.fullmatch(re.escape(apps._division(s)) + r"\d{8}\d{5}", app.number)
    if app.accepted_at is not None:
        assert re.fullmatch(r".+受字〔\d{4}〕\d+号", app.receipt_number or "")
        assert app.accepted_at == app.clock_started_at or any(e.action == Action.RESUBMIT for e in events)
    if app.state in (State.DECIDED, State.DELIVERED, State.REJECTED, State.WITHDRAWN):
        assert app.closed_at is not None
    if app.decision == Decision.GRANTED:
        assert app.result_name and app.result_number
    missing = apps.missing_materials(app)
    if app.state == State.CORRECTION_REQUESTED:
        assert missing
    if app.accepted_at is not None:
        assert missing == []


def test_a_sample_replays_through_the_transition_table_and_the_service_goes_on(db, county) -> None:
    _ctx, ids = county
    with db.reading() as s:
        for aid in ids[::15]:
            _replay(s, s.get(Application, aid))
        # counters hold the last sequence of every scope: a new application continues the day's numbers
        today = max(ids)
        last = s.get(Application, today)
        rule = numbering.Rule.parse(numbering.APPLICATION_DEFAULT)
        scope = rule.scope(at=last.created_at, division=apps._division(s))
        assert s.get(NumberCounter, scope).value == int(last.number[-5:])
        assert s.scalar(
            select(func.count()).select_from(Application).where(Application.number.like(scope.replace("#", "%")))
        ) == int(last.number[-5:])
        receipts = [r for r in s.scalars(select(Application.receipt_number)) if r]
        assert len(receipts) == len(set(receipts))
        waiting = s.scalar(
            select(Application.id)
            .where(Application.id.in_(ids), Application.state == State.IN_PROGRESS, Application.step == 0)
            .limit(1)
        )
        centre = demo_applications.world(s).handlers
    assert waiting is not None
    # the service takes over a demo application: the handler of its current step passes it
    with db.unit_of_work() as s:
        app = s.get(Application, waiting)
        dep = apps.current_step_department(s, app)
        person = centre[dep]
        actor = Actor(id=person.id, name=person.name, permissions=frozenset({apps.HANDLE}), department_id=dep)
        data = ACTION_MODELS[Action.PASS].model_validate({"version": app.version, "opinion": "同意"})
        apps.act(s, actor=actor, application_id=app.id, action=Action.PASS, data=data, now=NOW + timedelta(hours=1))
        assert (app.state, app.step) == (State.IN_PROGRESS, 1)
        n_steps = s.scalar(
            select(func.count()).select_from(ApplicationStep).where(ApplicationStep.application_id == app.id)
        )
        assert n_steps == len([x for x in apps.steps_of(s, app)])
        _replay(s, app)
        # and a new application takes the next number of the day
        v = apps.version_of(s, app)
        window = Actor(id=None, name="窗口", permissions=frozenset({apps.WINDOW}))
        new = apps.create(
            s,
            actor=window,
            data=ApplicationIn.model_validate(
                {
                    "matter_id": app.matter_id,
                    "applicant_name": "测试",
                    "id_number": "33112519600101123X",
                    "materials": [{"material_id": m.id, "form": "original", "count": 1} for m in v.materials],
                }
            ),
            now=NOW,
        )
        assert new.number.startswith(apps._division(s) + "20261203")
        assert s.scalar(select(func.count()).select_from(Application).where(Application.number == new.number)) == 1
        assert (
            s.scalar(
                select(func.count()).select_from(ApplicationEvent).where(ApplicationEvent.application_id == new.id)
            )
            == 1
        )
