"""A switched-off module does no work: the scheduler skips its jobs (and runs them at the first tick after it is
back on), ``countyos jobs run`` refuses them, its receivers ignore other domains' signals (with safety off a
sensing alarm raises no emergency event), and its home-page queues are gone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import func, select
from typer.testing import CliRunner

from countyos import cli, domains
from countyos.core.scheduler import Scheduler
from countyos.core.settings import reset_settings
from countyos.safety.models.events import EmergencyEvent
from countyos.safety.models.plans import ResponseLevel
from countyos.sensing.models import Alarm
from tests.conftest import DATABASE_URL
from tests.programme.modules_helpers import switch
from tests.safety.events_helpers import Drill, drill, readings  # noqa: F401

runner = CliRunner()


def _recording_jobs() -> tuple[list[str], list]:
    """Every domain's jobs (marked with their module by ``domains.jobs``), each noting its run instead of working."""
    ran: list[str] = []

    def recorder(name: str):
        return lambda db: ran.append(name)

    return ran, [replace(j, run=recorder(j.name)) for j in domains.jobs()]


def test_the_scheduler_skips_an_off_modules_jobs_and_runs_them_at_the_first_tick_it_is_on(db):
    ran, jobs = _recording_jobs()
    by_module = {j.name: j.module for j in jobs}
    assert by_module["eco.air.indices"] == "eco" and by_module["village.tourism.crowding"] == "village"
    scheduler = Scheduler(db, jobs, off=lambda: domains.modules_off_now(db))
    switch(db, "village", False)
    switch(db, "eco", False)
    scheduler.run_due(now=1000.0)
    assert not [n for n in ran if by_module[n] in ("eco", "village")]
    assert "cases.sweep_deadlines" in ran and "sensing.health" in ran
    ran.clear()
    scheduler.run_due(now=1001.0)  # nothing else is due yet
    assert ran == []

    switch(db, "eco", True)
    scheduler.run_due(now=1002.0)  # the first tick after: every eco job at once, not a period later
    assert sorted(ran) == sorted(n for n, m in by_module.items() if m == "eco")
    ran.clear()
    switch(db, "village", True)
    scheduler.run_due(now=1003.0)
    assert sorted(ran) == sorted(n for n, m in by_module.items() if m == "village")


def _countyos(*args: str):
    reset_settings()
    try:
        return runner.invoke(cli.app, list(args), env={"COUNTYOS_DATABASE_URL": DATABASE_URL})
    finally:
        reset_settings()


def test_jobs_run_refuses_a_job_of_an_off_module(db):
    switch(db, "eco", False)
    r = _countyos("jobs", "run", "eco.air.indices")
    assert r.exit_code == 2 and "eco" in r.output and "switched off" in r.output, r.output
    listed = _countyos("jobs", "list")
    assert listed.exit_code == 0
    line = next(x for x in listed.output.splitlines() if x.startswith("eco.air.indices"))
    assert "(module eco is off)" in line
    assert "is off" not in next(x for x in listed.output.splitlines() if x.startswith("cases.sweep_deadlines"))


def _events(db) -> list[EmergencyEvent]:
    with db.reading() as s:
        rows = list(s.scalars(select(EmergencyEvent)))
        s.expunge_all()
        return rows


def _queue_codes(db, d: Drill) -> set[str]:
    with db.reading() as s:
        return {q.key for q in domains.home_queues(s, d.water_actor(), datetime.now(UTC))}


def test_with_safety_off_an_alarm_raises_no_event_and_its_queues_go(client, db, drill):  # noqa: F811
    switch(db, "safety", False)
    r = client.post(
        "/sta/v1.1/CreateObservations",
        json=readings(drill.level_ds, [2.5, 2.8, 3.2], start_minutes_ago=30),
        headers=drill.machine,
    )
    assert r.status_code == 201 and "error" not in r.text, r.text
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Alarm)) == 1  # sensing is on: the alarm is there
    assert _events(db) == []  # but safety did not act on it

    switch(db, "safety", True)
    r = client.post(
        "/sta/v1.1/CreateObservations",
        json=readings(drill.level_ds, [4.2, 4.4], start_minutes_ago=25),
        headers=drill.machine,
    )
    assert r.status_code == 201, r.text
    (event,) = _events(db)  # a new alarm after the switch starts the plan's response
    assert event.level == ResponseLevel.III
    assert "safety_tasks" in _queue_codes(db, drill)
    switch(db, "safety", False)
    assert "safety_tasks" not in _queue_codes(db, drill)
    switch(db, "safety", True)
    assert "safety_tasks" in _queue_codes(db, drill)
