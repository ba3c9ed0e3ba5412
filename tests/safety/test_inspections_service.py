"""隐患排查 services: checklists loaded and versioned, inspections whose failed items become hazards running as
cases on the place's grid, deadlines from data, rectify → re-inspect closing hazard and case, a failed
re-inspection's new deadline, the overdue sweep, places' next due day and masked phones."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from countyos.cases.lifecycle import State
from countyos.cases.models import Case, Channel
from countyos.core.clock import county_today, county_zone
from countyos.core.db import Database
from countyos.core.errors import Conflict, TransitionNotAllowed, ValidationFailed
from countyos.org.models import AuditEvent
from countyos.safety import jobs_inspections
from countyos.safety.models.inspections import (
    Checklist,
    Hazard,
    HazardAction,
    HazardLevel,
    HazardState,
    InspectionResult,
    RiskGrade,
)
from countyos.safety.schemas.inspections import ChecklistFileIn, RectifyIn, ReinspectIn
from countyos.safety.service import inspections as places
from countyos.safety.service import inspections_checklists as checklists
from countyos.safety.service import inspections_hazards as hazards
from countyos.safety.service import inspections_run as runs
from countyos.safety.service import inspections_stats as figures
from tests.factories import FACTORY
from tests.safety.inspections_helpers import KEEPER, PHONE, PNG, World, fake_geo, inspection, iw, small_shop

__all__ = ["fake_geo", "iw"]


def test_packaged_checklists_load_once_and_versions_must_grow(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        assert checklists.load_packaged(s, actor=FACTORY) == []  # already there: the same items are skipped
        small = s.scalars(select(Checklist).where(Checklist.code == "SMALL")).one()
        assert small.version == 1 and small.current and len(small.items) == 7
        v2 = {
            "code": "SMALL",
            "version": 2,
            "name": "九小场所消防安全检查表（2027）",
            "items": [
                *small.items,
                {"code": "S08", "text": "门头招牌牢固", "category": "structure", "level": "general"},
            ],
        }
        added = checklists.load(s, actor=KEEPER, file=ChecklistFileIn.model_validate({"checklists": [v2]}))
        assert [(c.code, c.version) for c in added] == [("SMALL", 2)]
        s.refresh(small)
        assert not small.current
        assert checklists.current_for_kind(s, kind="small_shop").version == 2
        changed = {**v2, "name": "另一个名称"}
        with pytest.raises(Conflict):
            checklists.load(s, actor=KEEPER, file=ChecklistFileIn.model_validate({"checklists": [changed]}))
        older = {**v2, "version": 1, "name": "x"}
        with pytest.raises(Conflict):
            checklists.load(s, actor=KEEPER, file=ChecklistFileIn.model_validate({"checklists": [older]}))
        bad = {**v2, "version": 3, "items": [{"code": "Z", "text": "?", "category": "nonsense"}]}
        with pytest.raises(ValidationFailed):
            checklists.load(s, actor=KEEPER, file=ChecklistFileIn.model_validate({"checklists": [bad]}))
        with pytest.raises(ValidationFailed):
            checklists.parse_file(b'{"checklists": []}')


def test_an_old_inspection_keeps_the_version_it_used(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        first = runs.record(s, actor=iw.actor(), data=inspection(iw.place_id, {}))
        small = checklists.current_for_kind(s, kind="small_restaurant")
        v2 = {"code": "SMALL", "version": 2, "name": small.name, "items": small.items[:3]}
        checklists.load(s, actor=KEEPER, file=ChecklistFileIn.model_validate({"checklists": [v2]}))
        assert checklists.get(s, checklist_id=first.checklist_id).version == 1
        with pytest.raises(ValidationFailed):  # answers for the 7 items of v1 are not those of v2
            runs.record(s, actor=iw.actor(), data=inspection(iw.place_id, {}))


def test_two_failed_items_make_two_hazards_with_cases_on_the_place_grid(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        insp = runs.record(
            s,
            actor=iw.actor(),
            data=inspection(iw.place_id, {"S01": "灭火器压力不足", "S03": "二楼住人未分隔"}),
            photos={"S01": [(PNG, "a.png"), (PNG, "b.png")]},
        )
        place = places.get(s, place_id=iw.place_id)
        assert insp.result is InspectionResult.HAZARDS and insp.hazards == 2
        found = {h.item_code: h for h in s.scalars(select(Hazard).where(Hazard.inspection_id == insp.id))}
        assert set(found) == {"S01", "S03"}
        day = county_today()
        general, major = found["S01"], found["S03"]
        assert general.level is HazardLevel.GENERAL and general.deadline_on == day + timedelta(days=7)
        assert major.level is HazardLevel.MAJOR and major.deadline_on == day + timedelta(days=30)
        assert len(general.attachment_ids) == 2 and major.attachment_ids == []
        for h in found.values():
            case = s.get(Case, h.case_id)
            assert case is not None and case.number == h.case_number
            assert case.grid_code == place.grid_code and case.township_code == place.township_code
            assert case.attributes["hazard_id"] == h.id
            assert case.channel is Channel.STAFF  # the inspector is not a grid worker
            assert h.state is HazardState.OPEN and h.grid_code == place.grid_code
        assert s.get(Case, general.case_id).priority != s.get(Case, major.case_id).priority
        assert place.last_inspected_on == day and place.next_due_on == places.add_months(day, 3)  # grade B


def test_level_edited_takes_the_level_default_days(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        data = inspection(iw.place_id, {"S02": "消防通道堆放货物"})
        data.answers[1].level = HazardLevel.MAJOR
        insp = runs.record(s, actor=iw.actor(), data=data)
        h = s.scalars(select(Hazard).where(Hazard.inspection_id == insp.id)).one()
        assert h.level is HazardLevel.MAJOR
        assert h.deadline_on == county_today() + timedelta(days=checklists.default_days(HazardLevel.MAJOR))


def test_a_failed_item_needs_a_note_and_every_item_an_answer(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed) as e:
            runs.record(s, actor=iw.actor(), data=inspection(iw.place_id, {"S01": ""}))
        assert e.value.errors[0]["field"] == "note_S01"
        data = inspection(iw.place_id, {})
        data.answers.pop()
        with pytest.raises(ValidationFailed):
            runs.record(s, actor=iw.actor(), data=data)


def test_rectify_then_reinspection_passing_closes_hazard_and_case(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        insp = runs.record(s, actor=iw.actor(), data=inspection(iw.place_id, {"S04": "私拉电线"}))
        h = s.scalars(select(Hazard).where(Hazard.inspection_id == insp.id)).one()
        with pytest.raises(TransitionNotAllowed):
            hazards.next_state(HazardState.CLOSED, HazardAction.RECTIFY)
        hazards.rectify(s, actor=iw.actor(), hazard_id=h.id, data=RectifyIn(note="已穿管"), photos=[(PNG, "c.png")])
        assert h.state is HazardState.RECTIFIED
        hazards.reinspect(s, actor=iw.actor(), hazard_id=h.id, data=ReinspectIn(passed=True, note="复查合格"))
        assert str(h.state) == "closed" and h.closed_at is not None
        case = s.get(Case, h.case_id)
        assert case is not None and case.state == State.CLOSED and not case.is_open
        actions = [x.action for x in hazards.log(s, hazard_id=h.id)]
        assert actions == [HazardAction.FOUND, HazardAction.RECTIFY, HazardAction.PASS]
        with pytest.raises(TransitionNotAllowed):
            hazards.rectify(s, actor=iw.actor(), hazard_id=h.id, data=RectifyIn(note="again"))


def test_reinspection_failing_reopens_with_a_new_deadline(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        insp = runs.record(s, actor=iw.actor(), data=inspection(iw.place_id, {"S05": "软管老化"}))
        h = s.scalars(select(Hazard).where(Hazard.inspection_id == insp.id)).one()
        first_deadline = h.deadline_on
        hazards.rectify(s, actor=iw.actor(), hazard_id=h.id, data=RectifyIn(note="换了"))
        later = h.found_at + timedelta(days=20)
        hazards.reinspect(s, actor=iw.actor(), hazard_id=h.id, data=ReinspectIn(passed=False, note="未换"), now=later)
        assert h.state is HazardState.OPEN and h.reinspections == 1
        assert h.deadline_on == later.astimezone(county_zone()).date() + timedelta(days=15)
        assert h.deadline_on != first_deadline
        hazards.reinspect(s, actor=iw.actor(), hazard_id=h.id, data=ReinspectIn(passed=False, days=3), now=later)
        assert h.deadline_on == later.astimezone(county_zone()).date() + timedelta(days=3)
        case = s.get(Case, h.case_id)
        assert case is not None and case.is_open


def test_overdue_sweep_notes_each_overdue_hazard_once(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        insp = runs.record(
            s, actor=iw.actor(), data=inspection(iw.place_id, {"S06": "应急灯不亮", "S07": "无巡查记录"})
        )
        late, fine = sorted(s.scalars(select(Hazard).where(Hazard.inspection_id == insp.id)), key=lambda h: h.id)
        today = county_today()
        late.deadline_on = today - timedelta(days=1)
        assert hazards.is_overdue(late) and not hazards.is_overdue(fine)
        assert hazards.sweep_overdue(s, today=today) == [late.id]
        assert hazards.sweep_overdue(s, today=today) == []  # noted once per deadline
        assert [x.action for x in hazards.log(s, hazard_id=late.id)][-1] is HazardAction.OVERDUE
        assert figures.counts_by_state(s, today=today)["overdue"] == 1
        got = figures.stats(s, since=insp.at - timedelta(days=1), until=insp.at + timedelta(days=1), today=today)
        assert got["found"] == 2 and got["overdue"] == 1 and got["rectification_rate"] == 0.0


def test_phone_is_kept_encrypted_shown_masked_and_revealed_with_an_audit(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        p = places.get(s, place_id=iw.place_id)
        assert p.responsible_phone_masked == "139****1234"
        assert p.responsible_phone_enc and PHONE not in p.responsible_phone_enc
        assert places.reveal_phone(s, actor=KEEPER, place_id=p.id) == PHONE
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(5)).all()
        assert any(e.action == "safety.inspections.phone_reveal" for e in last)
        assert all(PHONE not in str(e.detail) for e in s.scalars(select(AuditEvent)))


def test_next_due_follows_the_grade_frequency(db: Database, iw: World) -> None:
    assert places.next_due(RiskGrade.A, date(2026, 1, 31)) == date(2026, 2, 28)
    assert places.next_due(RiskGrade.B, date(2026, 11, 30)) == date(2027, 2, 28)
    assert places.next_due(RiskGrade.C, date(2026, 3, 1)) == date(2026, 9, 1)
    assert places.next_due(RiskGrade.D, date(2024, 2, 29)) == date(2025, 2, 28)
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed):
            places.create(s, actor=KEEPER, data=small_shop(kind="nonsense"))
        new = places.create(s, actor=KEEPER, data=small_shop(grade="A", name="新店"))
        assert new.next_due_on == county_today()  # never inspected: due at once


def test_import_is_all_or_nothing(db: Database, iw: World) -> None:
    good = (
        "名称,类型,地址,经度,纬度,责任人,责任人电话,安全管理员,风险等级\n"
        "甲小学,学校,北街,119.27,28.59,张三,13800001111,李四,A\n"
    )
    bad = good + "乙店,不存在的类型,南街,119.28,28.59,王五,,,C\n"
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed) as e:
            places.import_places(s, actor=KEEPER, data=bad.encode(), filename="p.csv")
        assert e.value.errors[0]["row"] == 3
        assert places.count(s, f=places.PlaceFilter(q="甲小学")) == 0
        made = places.import_places(s, actor=KEEPER, data=good.encode(), filename="p.csv")
        assert [(p.name, p.kind, p.grade) for p in made] == [("甲小学", "school", RiskGrade.A)]


def test_the_overdue_job_runs_the_sweep(db: Database, iw: World) -> None:
    with db.unit_of_work() as s:
        insp = runs.record(s, actor=iw.actor(), data=inspection(iw.place_id, {"S01": "过期"}))
        h = s.scalars(select(Hazard).where(Hazard.inspection_id == insp.id)).one()
        h.deadline_on = county_today() - timedelta(days=3)
        hid = h.id
    assert jobs_inspections.overdue(db) == 1
    assert jobs_inspections.overdue(db) == 0
    assert [j.name for j in jobs_inspections.JOBS] == ["safety.inspections.overdue"]
    with db.reading() as s:
        assert hazards.log(s, hazard_id=hid)[-1].action is HazardAction.OVERDUE


def test_import_reads_an_excel_workbook(db: Database, iw: World) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["重点场所名单"])  # a title above the header row
    ws.append(["名称", "类型", "地址", "经度", "纬度", "责任人", "责任人电话", "风险等级"])
    ws.append(["丙加油站", "加油站", "南街", 119.28, 28.6, "赵六", "13600002222", "A"])
    ws.append(["丁网吧", "small_netbar", "西街", 119.2, 28.6, "钱七", "", "c"])
    out = io.BytesIO()
    wb.save(out)
    with db.unit_of_work() as s:
        made = places.import_places(s, actor=KEEPER, data=out.getvalue(), filename="places.xlsx")
        assert [(p.kind, p.grade, p.township_name) for p in made] == [
            ("gas_station", RiskGrade.A, "北界镇"),
            ("small_netbar", RiskGrade.C, "妙高街道"),
        ]
        assert made[0].responsible_phone_masked == "136****2222" and made[1].responsible_phone_enc is None
