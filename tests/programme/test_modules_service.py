"""Switching and planning modules, and the programme's phases, through the services: what a module needs and
what needs it, the platform's own modules, the configuration's lock, the audit records; phases with their
dates, numbers, status and deletion only while nothing is on them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.settings import reset_settings
from countyos.org.models import AuditEvent
from countyos.programme.models.projects import Project, ProjectKind
from countyos.programme.schemas.modules import PhaseIn
from countyos.programme.service import modules
from countyos.programme.service import modules_phases as phases
from tests.programme.modules_helpers import ADMIN, OFFICE, row, switch


def _audits(db, action: str) -> list[AuditEvent]:
    with db.reading() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
        s.expunge_all()
        return rows


def test_a_switch_is_kept_with_when_who_and_why_and_audited(db):
    switch(db, "village", False, note="二期再开")
    saved = row(db, "village")
    assert saved is not None and saved["enabled"] is False and saved["note"] == "二期再开"
    assert saved["switched_at"] is not None
    with db.reading() as s:
        assert "village" in modules.disabled(s) and not modules.is_on(s, "village")
    switch(db, "village", True)
    (off, on) = _audits(db, "programme.modules.switch")[-2:]
    assert off.target_id == "village" and off.detail == {"on": False, "was": True, "note": "二期再开"}
    assert on.detail["on"] is True and on.detail["was"] is False and on.actor_name == ADMIN.name


def test_needs_and_dependants_are_refused_with_their_names(db):
    with db.unit_of_work() as s, pytest.raises(Conflict) as exc:
        modules.switch(s, actor=ADMIN, code="sensing", on=False)
    assert exc.value.params["users"] == modules.BY_CODE["eco"].label  # the first on module that needs it
    for code in ("eco", "village", "safety"):
        switch(db, code, False)
    switch(db, "sensing", False)  # nothing on needs it now
    with db.unit_of_work() as s, pytest.raises(Conflict) as exc:
        modules.switch(s, actor=ADMIN, code="eco", on=True)
    assert exc.value.params == {"needs": modules.BY_CODE["sensing"].label, "module": modules.BY_CODE["eco"].label}
    switch(db, "sensing", True)
    switch(db, "eco", True)
    with db.reading() as s:
        assert modules.disabled(s) == {"village", "safety"}


@pytest.mark.parametrize("code", ["org", "geo", "cases", "ioc", "programme"])
def test_the_platforms_own_modules_cannot_be_switched(db, code):
    with db.unit_of_work() as s, pytest.raises(Conflict):
        modules.switch(s, actor=ADMIN, code=code, on=False)
    with db.reading() as s:
        assert modules.is_on(s, code)


def test_an_unknown_module_is_not_found(db):
    with db.unit_of_work() as s, pytest.raises(NotFound):
        modules.switch(s, actor=ADMIN, code="nosuch", on=False)


def test_the_configuration_keeps_a_module_off(db, monkeypatch):
    monkeypatch.setenv("COUNTYOS_MODULES_OFF", '["eco", "org"]')
    reset_settings()
    try:
        with db.reading() as s:
            assert modules.disabled(s) == {"eco"}  # a platform module named there is ignored
            (view,) = [v for v in modules.views(s) if v.spec.code == "eco"]
            assert view.locked and not view.on
        with db.unit_of_work() as s, pytest.raises(Conflict) as exc:
            modules.switch(s, actor=ADMIN, code="eco", on=True)
        assert "modules_off" in exc.value.message_id
        assert row(db, "eco") is None  # nothing written
    finally:
        monkeypatch.delenv("COUNTYOS_MODULES_OFF")
        reset_settings()
    with db.reading() as s:
        assert modules.is_on(s, "eco")


def _phase(number: int, **changes) -> PhaseIn:
    data = {
        "number": number,
        "name": f"{number}期",
        "goal": "目标",
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2025, 12, 31),
    }
    data.update(changes)
    return PhaseIn.model_validate(data)


def test_a_plan_places_a_module_on_a_phase_and_is_audited(db):
    with db.unit_of_work() as s:
        p = phases.create(s, actor=OFFICE, data=_phase(1))
        modules.plan(s, actor=ADMIN, code="eco", phase_id=p.id, planned_on=date(2025, 6, 1), note="先上空气")
        pid = p.id
    saved = row(db, "eco")
    assert saved is not None and saved["phase_id"] == pid and saved["planned_on"] == date(2025, 6, 1)
    assert saved["enabled"] is True  # placing it does not switch it
    (audit,) = _audits(db, "programme.modules.plan")
    assert audit.target_id == "eco" and audit.detail == {"phase_id": pid, "planned_on": "2025-06-01"}
    with db.unit_of_work() as s, pytest.raises(NotFound):
        modules.plan(s, actor=ADMIN, code="eco", phase_id=pid + 1000, planned_on=None)
    with db.reading() as s:
        road = phases.roadmap(s, today=date(2025, 7, 1))
        (stage,) = road.stages
        assert stage.status == phases.PhaseStatus.RUNNING and [v.spec.code for v in stage.modules] == ["eco"]
        assert "eco" not in {v.spec.code for v in road.unplaced} and "sensing" in {v.spec.code for v in road.unplaced}


def test_phase_dates_number_and_status(db):
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed) as exc:
            phases.create(s, actor=OFFICE, data=_phase(1, starts_on=date(2026, 1, 2), ends_on=date(2026, 1, 1)))
        assert exc.value.errors[0]["field"] == "ends_on"
        one = phases.create(s, actor=OFFICE, data=_phase(1, starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 1)))
        with pytest.raises(ValidationFailed) as exc:
            phases.create(s, actor=OFFICE, data=_phase(1, name="重复"))
        assert exc.value.errors[0]["field"] == "number"
        two = phases.create(s, actor=OFFICE, data=_phase(2, starts_on=None, ends_on=None))
        phases.update(s, actor=OFFICE, phase_id=one.id, data=_phase(1, name="一期 急用先行"))  # its own number
        assert [p.name for p in phases.list_phases(s)] == ["一期 急用先行", "2期"]
        assert phases.status(one, date(2024, 12, 31)) == phases.PhaseStatus.PLANNED
        assert phases.status(one, date(2025, 1, 1)) == phases.PhaseStatus.RUNNING
        assert phases.status(one, date(2025, 12, 31)) == phases.PhaseStatus.RUNNING
        assert phases.status(one, date(2026, 1, 1)) == phases.PhaseStatus.DONE
        assert phases.status(two, date(2030, 1, 1)) == phases.PhaseStatus.PLANNED
    assert [e.action for e in _audits(db, "programme.modules.phase_create")] == ["programme.modules.phase_create"] * 2
    assert len(_audits(db, "programme.modules.phase_update")) == 1


def test_a_phase_is_deleted_only_when_nothing_is_on_it(db):
    with db.unit_of_work() as s:
        p = phases.create(s, actor=OFFICE, data=_phase(1))
        modules.plan(s, actor=ADMIN, code="data", phase_id=p.id, planned_on=None)
        s.add(Project(code="P-MOD-1", name="测试项目", kind=ProjectKind.OPERATION, phase_id=p.id, funding_model="x"))
        s.flush()
        with pytest.raises(Conflict) as exc:
            phases.delete(s, actor=OFFICE, phase_id=p.id)
        assert exc.value.params["modules"] == 1 and exc.value.params["projects"] == 1
        modules.plan(s, actor=ADMIN, code="data", phase_id=None, planned_on=None)
        project = s.scalars(select(Project).where(Project.code == "P-MOD-1")).one()
        project.phase_id = None
        s.flush()
        phases.delete(s, actor=OFFICE, phase_id=p.id)
        assert phases.list_phases(s) == []
        with pytest.raises(NotFound):
            phases.get(s, phase_id=p.id)
    (audit,) = _audits(db, "programme.modules.phase_delete")
    assert audit.detail["number"] == 1
