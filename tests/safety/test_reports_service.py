"""信息报送: the schedule (first, follow-ups, final; none after closing), the reminders (once at due-soon,
once overdue, to the right people), drafts naming the level changes and tasks, a sent report frozen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from countyos.cases.models import Notification
from countyos.core.actor import Actor
from countyos.core.errors import TransitionNotAllowed
from countyos.core.i18n import use_locale
from countyos.safety.models.events import EventLog, LogKind
from countyos.safety.models.reports import EventReport, ReportKind, ReportState
from countyos.safety.schemas.plans import ReportSchedule
from countyos.safety.schemas.reports import ReportIn
from countyos.safety.service import reports, reports_draft, reports_schedule
from tests.safety.reports_helpers import T0, build, event

SIX_HOURS = ReportSchedule(first_minutes=30, followup_hours=6, final_hours=48)


def test_schedule_first_followups_and_final() -> None:
    at = reports_schedule.slots(SIX_HOURS, started_at=T0, closed_at=None, until=T0 + timedelta(minutes=1))
    assert [(s.kind, s.due_at) for s in at] == [(ReportKind.FIRST, T0 + timedelta(minutes=30))]
    day = reports_schedule.slots(SIX_HOURS, started_at=T0, closed_at=None, until=T0 + timedelta(hours=13))
    assert [(s.kind, s.number) for s in day] == [
        (ReportKind.FIRST, 0),
        (ReportKind.FOLLOWUP, 1),
        (ReportKind.FOLLOWUP, 2),
    ]
    assert day[2].due_at == T0 + timedelta(minutes=30) + timedelta(hours=12)
    # the next follow-up appears ten minutes before it is due, so it can be reminded
    soon = reports_schedule.slots(SIX_HOURS, started_at=T0, closed_at=None, until=T0 + timedelta(hours=6, minutes=21))
    assert [s.number for s in soon if s.kind == ReportKind.FOLLOWUP] == [1]


def test_no_followups_after_closing_and_a_final() -> None:
    closed = T0 + timedelta(hours=7)
    later = reports_schedule.slots(SIX_HOURS, started_at=T0, closed_at=closed, until=T0 + timedelta(days=5))
    kinds = [(s.kind, s.number) for s in later]
    assert kinds == [(ReportKind.FIRST, 0), (ReportKind.FOLLOWUP, 1), (ReportKind.FINAL, 0)]
    assert later[-1].due_at == closed + timedelta(hours=48)


def test_default_schedule_for_an_event_without_a_plan(db) -> None:
    w = build(db)
    event_id = event(db, w, with_plan=False)
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(minutes=1))
        (first,) = reports.of_event(s, event_id=event_id)
        assert first.due_at == T0 + timedelta(minutes=30) and first.to == "市应急管理局"


def _notes(s, report_id):
    return list(s.scalars(select(Notification).where(Notification.dedupe_key.like(f"safety.report:{report_id}:%"))))


def test_reminders_fire_once_each_at_due_soon_and_overdue(db) -> None:
    w = build(db)
    event_id = event(db, w)
    due = T0 + timedelta(minutes=30)
    with db.unit_of_work() as s:
        made = reports.remind(s, now=T0 + timedelta(minutes=1))
        assert made.created == 1 and made.due_soon == 0 and made.overdue == 0
        (first,) = reports.of_event(s, event_id=event_id)
        assert _notes(s, first.id) == []
        assert reports.remind(s, now=due - timedelta(minutes=11)).due_soon == 0  # just before due-soon
        soon = reports.remind(s, now=due - timedelta(minutes=9))
        assert soon.due_soon == 1 and soon.overdue == 0
        assert reports.remind(s, now=due - timedelta(minutes=5)).due_soon == 0  # once
        notes = _notes(s, first.id)
        assert {n.user_id for n in notes} == {w.commander.id, w.water_commander.id}  # not the town's officer
        assert all(n.kind == "yellow" and "妙高溪洪水" in n.title for n in notes)
        assert reports.remind(s, now=due).overdue == 0  # on the due minute: not yet overdue
        late = reports.remind(s, now=due + timedelta(minutes=1))
        assert late.overdue == 1
        assert reports.remind(s, now=due + timedelta(minutes=2)).overdue == 0
        notes = _notes(s, first.id)
        assert sorted(n.kind for n in notes) == ["red", "red", "yellow", "yellow"]
        log = list(
            s.scalars(select(EventLog).where(EventLog.event_id == event_id, EventLog.kind == LogKind.REPORT_DUE))
        )
        assert len(log) == 2 and log[1].detail == {"report_id": first.id, "overdue": True}


def test_a_sent_report_is_not_reminded(db) -> None:
    w = build(db)
    event(db, w)
    actor = Actor(id=w.commander.id, name="值班员")
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(minutes=1))
        first = s.scalars(select(EventReport)).one()
        reports.send(s, actor=actor, report_id=first.id, data=ReportIn(body="首报正文"))
        made = reports.remind(s, now=T0 + timedelta(hours=1))
        assert made.overdue == 0 and _notes(s, first.id) == []


def test_draft_names_level_changes_tasks_commands_and_figures(db) -> None:
    w = build(db)
    event(db, w)
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(hours=2))
        first = s.scalars(select(EventReport)).one()
        first.evacuated = 326
        text = reports_draft.draft(s, first, now=T0 + timedelta(hours=4), locale="zh_CN")
    assert "响应由Ⅳ级提升为Ⅲ级" in text
    assert "测试水利局：加密监测水位" in text and "测试镇政府：转移低洼地带群众" in text
    assert "立即组织妙高溪沿岸群众转移" in text and "已每15分钟报送一次水位" in text
    assert "326" in text and "妙高街道 妙高溪" in text
    assert "2026-06-20 10:00" in text  # the county's time, not UTC
    town_line = next(line for line in text.splitlines() if "测试镇政府：" in line)
    water_line = next(line for line in text.splitlines() if "测试水利局：" in line)
    with use_locale("zh_CN"):
        overdue = reports_draft.gettext(reports_draft.OVERDUE)
    assert overdue in town_line and overdue in water_line  # past its deadline / done late


def test_send_freezes_the_text(db) -> None:
    w = build(db)
    event_id = event(db, w)
    actor = Actor(id=w.commander.id, name="值班员")
    with db.unit_of_work() as s:
        reports.remind(s, now=T0 + timedelta(minutes=1))
        first = s.scalars(select(EventReport)).one()
        saved = reports.save(s, actor=actor, report_id=first.id, data=ReportIn(body="草稿", evacuated=12))
        assert saved.state == ReportState.DRAFTED and saved.evacuated == 12
        sent = reports.send(s, actor=actor, report_id=first.id)
        assert sent.state == ReportState.SENT and sent.sent_by_id == w.commander.id and sent.body == "草稿"
        with pytest.raises(TransitionNotAllowed) as refused:
            reports.save(s, actor=actor, report_id=first.id, data=ReportIn(body="改过"))
        assert refused.value.status == 409
        with pytest.raises(TransitionNotAllowed):
            reports.send(s, actor=actor, report_id=first.id, data=ReportIn(body="改过"))
        assert s.get(EventReport, first.id).body == "草稿"
        kinds = [e.kind for e in s.scalars(select(EventLog).where(EventLog.event_id == event_id))]
        assert LogKind.REPORT_SENT in kinds


def test_long_closed_events_are_history_not_reminded(db) -> None:
    w = build(db)
    old = event(db, w, started_at=T0 - timedelta(days=60), closed_at=T0 - timedelta(days=59), number="YJ-OLD")
    with db.unit_of_work() as s:
        made = reports.remind(s, now=T0)
        assert made.created == 0 and reports.of_event(s, event_id=old) == []


def test_the_job_is_registered_and_runs(db) -> None:
    from countyos.safety import jobs

    (job,) = [j for j in jobs.JOBS if j.name == "safety.reports.remind"]
    assert job.every_seconds == 60
    w = build(db)
    event(db, w, started_at=T0)
    out = job.run(db)
    assert isinstance(out, reports.Reminded) and out.created >= 1 and out.overdue + out.due_soon == out.created
