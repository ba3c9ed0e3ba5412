"""Applications (办件): the whole path, 即办件, 不予受理, 409 with the allowed actions, departments' steps,
PII masking, the timeline and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, PermissionDenied, ValidationFailed
from countyos.org.models import AuditEvent
from countyos.services import deadlines
from countyos.services.lifecycle import Action, TransitionNotAllowed
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests import factories
from tests.services.conftest import ADMIN, guide

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 county time


_PEOPLE = {
    "agent": ("代办员 蓝建华", {apps.AGENT}, None),
    "window": ("窗口 黄丽", {apps.WINDOW, apps.PII}, "centre"),
    "centre": ("中心审批 李", {apps.HANDLE}, "centre"),
    "market": ("市监审批 许文", {apps.HANDLE}, "market"),
}


def actors(db, shop) -> dict[str, Actor]:
    out = {}
    for key, (name, perms, dep) in _PEOPLE.items():
        dep_id = getattr(shop, dep) if dep else None
        p = factories.person(db, department_id=dep_id)
        out[key] = Actor(id=p.id, name=name, permissions=frozenset(perms), department_id=dep_id)
    return out


def published(s, shop, **changes) -> int:
    m = catalogue.create(s, actor=ADMIN, data=guide(shop, **changes))
    catalogue.publish(s, actor=ADMIN, matter_id=m.id)
    return m.id


def materials_of(s, matter_id: int) -> list[int]:
    return [m.id for m in catalogue.current(catalogue.get(s, matter_id=matter_id)).materials]


def new(matter_id: int, mats: list[int], **extra) -> ApplicationIn:
    data = {
        "matter_id": matter_id,
        "applicant_name": "蓝水生",
        "id_number": "33112519600101123X",
        "phone": "13905781234",
        "address": "大柘镇大田村 12 号",
        "materials": [{"material_id": m, "form": "original", "count": 1} for m in mats],
        **extra,
    }
    return ApplicationIn.model_validate(data)


def do(s, actor, app, action: Action, now: datetime, **body):
    data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
    return apps.act(s, actor=actor, application_id=app.id, action=action, data=data, now=now)


CONSENT = {"given_by": "蓝水生", "way": "signed_form", "at": "2026-11-30T08:00:00+08:00"}


def test_the_whole_path_from_an_agent_to_delivery(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop)
        mats = materials_of(s, mid)
        app = apps.create(s, actor=a["agent"], data=new(mid, mats[:1], consent=CONSENT), now=T0)
        assert app.state == "submitted" and app.submitted_role == "agent" and app.consent_way == "signed_form"
        assert len(app.number) == 19 and app.number.startswith("00000020261201")
        # 一次性告知: the missing required material, all at once
        app = do(s, a["window"], app, Action.REQUEST_CORRECTION, T0 + timedelta(minutes=5))
        assert app.state == "correction_requested" and app.corrections == 1
        assert [m.name for m in apps.missing_materials(app)] == ["营业执照"]
        # accepting with a missing material is refused; resubmitting completes it
        app = do(
            s,
            a["agent"],
            app,
            Action.RESUBMIT,
            T0 + timedelta(minutes=30),
            materials=[{"material_id": mats[1], "form": "copy", "count": 1}],
        )
        assert app.state == "submitted" and apps.missing_materials(app) == []
        accepted = T0 + timedelta(hours=1)
        app = do(s, a["window"], app, Action.ACCEPT, accepted)
        assert app.state == "in_progress" and app.step == 0
        assert app.receipt_number == "测试市场监督管理局受字〔2026〕1号"
        # 5 working days after Tue 1 Dec (the day not counted): Tue 8 Dec at office close
        limit = deadlines.Limit(5, "working_days")
        assert app.due_at == deadlines.base_due(accepted, limit)
        first_due = app.due_at
        # the market's handler cannot act on the centre's step (nor see it before it reaches the market)
        with pytest.raises(NotFound):
            do(s, a["market"], app, Action.PASS, accepted + timedelta(hours=1), opinion="同意")
        app = do(s, a["centre"], app, Action.PASS, accepted + timedelta(hours=1), opinion="材料齐全，同意")
        assert app.step == 1
        # and the centre's handler, who sees it, cannot act on the market's step: 403 with nothing allowed
        with pytest.raises(PermissionDenied) as denied:
            do(s, a["centre"], app, Action.PASS, accepted + timedelta(hours=2), opinion="同意")
        assert denied.value.extra() == {"state": "in_progress", "allowed_actions": []}
        # special procedure (现场核查) stops the clock; the due time moves by its length
        sp_start = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # Wed 09:00
        sp_end = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # Fri 09:00: two working days later
        app = do(s, a["market"], app, Action.START_SPECIAL, sp_start, kind="other", reason="现场核查")
        assert app.state == "special_procedure"
        with pytest.raises(TransitionNotAllowed) as exc:
            do(s, a["market"], app, Action.PASS, sp_start + timedelta(hours=1), opinion="同意")
        assert exc.value.extra()["allowed_actions"] == ["end_special", "comment"]
        app = do(s, a["market"], app, Action.END_SPECIAL, sp_end, result="核查合格")
        assert app.state == "in_progress" and app.step == 1
        moved = deadlines.due_at(limit, accepted_at=accepted, special=[deadlines.Interval(sp_start, sp_end)])
        assert app.due_at == moved and app.due_at > first_due
        # the last step's approval concludes with the decision
        with pytest.raises(ValidationFailed):
            do(s, a["market"], app, Action.PASS, sp_end + timedelta(hours=1), opinion="准予")
        app = do(
            s,
            a["market"],
            app,
            Action.PASS,
            sp_end + timedelta(hours=1),
            opinion="准予许可",
            result={"decision": "granted", "result_name": "食品经营许可证", "result_number": "JY13311250001234"},
        )
        assert app.state == "decided" and app.decision == "granted" and app.result_number == "JY13311250001234"
        app = do(
            s,
            a["window"],
            app,
            Action.DELIVER,
            sp_end + timedelta(hours=3),
            method="express",
            tracking_number="SF1234567890",
        )
        assert app.state == "delivered" and app.tracking_number == "SF1234567890"
        app_id, number = app.id, app.number
    with db.reading() as s:
        app = apps.get(s, actor=a["window"], application_id=app_id)
        events = apps.timeline(s, application_id=app_id)
        assert [e.action for e in events] == [
            "submit",
            "request_correction",
            "resubmit",
            "accept",
            "pass",
            "start_special",
            "end_special",
            "pass",
            "deliver",
        ]
        assert [e.actor_name for e in events][:2] == ["代办员 蓝建华", "窗口 黄丽"]
        steps = apps.steps_of(s, app)
        assert [(st.name, st.status, st.action, st.opinion) for st in steps] == [
            ("受理", "done", "pass", "材料齐全，同意"),
            ("审查决定", "done", "pass", "准予许可"),
        ]
        specials = apps.specials_of(s, app)
        assert [(sp.kind, sp.started_at, sp.ended_at) for sp in specials] == [("other", sp_start, sp_end)]
        audit = list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target_type == "services_application", AuditEvent.target_id == number)
                .order_by(AuditEvent.seq)
            )
        )
        assert audit == ["services.application.create"] + [f"services.application.{e.action}" for e in events[1:]]


def test_an_immediate_matter_is_concluded_at_acceptance(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop, code="11331123MB0000001-002", application_kind="immediate", promised_limit=0)
        app = apps.create(s, actor=a["window"], data=new(mid, materials_of(s, mid)), now=T0)
        app = do(
            s, a["window"], app, Action.ACCEPT_IMMEDIATE, T0, result={"decision": "granted", "result_name": "证明"}
        )
        assert app.state == "decided" and app.decision == "granted" and app.decided_at == T0
        assert app.receipt_number is not None and apps.steps_of(s, app) == []


def test_reject_records_the_reason_and_ends_the_application(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop)
        app = apps.create(s, actor=a["window"], data=new(mid, materials_of(s, mid)), now=T0)
        app = do(s, a["window"], app, Action.REJECT, T0, reason="不属于本机关职权范围")
        assert app.state == "rejected" and app.rejection_reason == "不属于本机关职权范围" and app.closed_at == T0
        with pytest.raises(TransitionNotAllowed) as exc:
            do(s, a["window"], app, Action.ACCEPT, T0)
        assert exc.value.status == 409 and exc.value.extra() == {"state": "rejected", "allowed_actions": []}


def test_an_agent_needs_consent_and_accepting_needs_every_material(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop)
        mats = materials_of(s, mid)
        with pytest.raises(ValidationFailed) as exc:
            apps.create(s, actor=a["agent"], data=new(mid, mats), now=T0)
        assert exc.value.errors[0]["field"] == "consent"
        app = apps.create(s, actor=a["window"], data=new(mid, mats[:1]), now=T0)
        with pytest.raises(ValidationFailed) as exc:
            do(s, a["window"], app, Action.ACCEPT, T0)
        assert exc.value.params == {"names": "营业执照"}


def test_a_stale_version_is_refused(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop)
        app = apps.create(s, actor=a["window"], data=new(mid, materials_of(s, mid)), now=T0)
        old = app.version
        do(s, a["window"], app, Action.ACCEPT, T0)
        data = ACTION_MODELS[Action.REJECT].model_validate({"version": old, "reason": "x"})
        with pytest.raises(apps.StaleApplication):
            apps.act(s, actor=a["window"], application_id=app.id, action=Action.REJECT, data=data, now=T0)


def test_personal_fields_are_encrypted_and_masked(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop)
        app = apps.create(s, actor=a["agent"], data=new(mid, materials_of(s, mid), consent=CONSENT), now=T0)
        assert "33112519600101123X" not in app.id_number_enc and app.phone_enc and "13905781234" not in app.phone_enc
        assert apps.shown_id_number(a["window"], app) == "33112519600101123X"
        assert apps.shown_id_number(a["agent"], app) == "331***********123X"
        assert apps.shown_phone(a["agent"], app) == "139****1234"
        # a department's handler without a step in the matter does not see it at all
        stranger = Actor(
            id=a["agent"].id + 1000, name="他人", permissions=frozenset({apps.HANDLE}), department_id=999999
        )
        with pytest.raises(NotFound):
            apps.get(s, actor=stranger, application_id=app.id)


def test_returns_go_back_a_step_and_from_the_first_to_the_applicant(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop)
        app = apps.create(s, actor=a["agent"], data=new(mid, materials_of(s, mid), consent=CONSENT), now=T0)
        # the market's handler sees nothing before the application reaches its step
        with pytest.raises(NotFound):
            apps.get(s, actor=a["market"], application_id=app.id)
        app = do(s, a["window"], app, Action.ACCEPT, T0)
        app = do(s, a["centre"], app, Action.PASS, T0 + timedelta(hours=1), opinion="同意")
        assert apps.get(s, actor=a["market"], application_id=app.id) is app
        app = do(s, a["market"], app, Action.RETURN, T0 + timedelta(hours=2), opinion="请核对经营场所")
        assert app.state == "in_progress" and app.step == 0
        app = do(s, a["centre"], app, Action.RETURN, T0 + timedelta(hours=3), opinion="请补充平面图")
        assert app.state == "supplement_requested" and app.step == 0
        with pytest.raises(TransitionNotAllowed):
            do(s, a["centre"], app, Action.PASS, T0 + timedelta(hours=4), opinion="同意")
        back = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # Monday: the count restarts in full
        app = do(s, a["agent"], app, Action.RESUBMIT, back)
        assert app.state == "in_progress" and app.step == 0 and app.clock_started_at == back
        assert app.due_at == deadlines.base_due(back, deadlines.Limit(5, "working_days"))
        steps = apps.steps_of(s, app)
        assert [(st.name, st.status, st.action) for st in steps] == [
            ("受理", "done", "pass"),
            ("审查决定", "done", "return"),
            ("受理", "done", "return"),
            ("受理", "pending", None),
        ]
        app = do(s, a["agent"], app, Action.WITHDRAW, back + timedelta(hours=1), note="申请人不再办理")
        assert app.state == "withdrawn" and app.closed_at == back + timedelta(hours=1)
        assert apps.steps_of(s, app)[-1].ended_at == back + timedelta(hours=1)


def test_an_applicant_applies_online_for_online_matters_only(db, shop) -> None:
    p = factories.person(db)
    me = Actor(id=p.id, name="申请人", permissions=frozenset({apps.APPLY}))
    with db.unit_of_work() as s:
        online = published(s, shop)
        with pytest.raises(PermissionDenied):  # an account without the resident's permission
            apps.create(s, actor=Actor(id=p.id, name="申请人", permissions=frozenset()), data=new(online, []), now=T0)
        offline = published(s, shop, code="11331123MB0000001-003", online=False)
        app = apps.create(s, actor=me, data=new(online, materials_of(s, online)), now=T0)
        assert app.applicant_user_id == p.id and app.source == "online_pc" and app.submitted_role == "applicant"
        assert apps.shown_id_number(me, app) == "33112519600101123X"  # their own record
        assert apps.allowed_actions(s, me, app) == ["withdraw"]
        rows, total = apps.listing(s, actor=me)
        assert total == 1 and rows == [app]
        with pytest.raises(ValidationFailed):
            apps.create(s, actor=me, data=new(offline, materials_of(s, offline)), now=T0)


def test_a_matter_without_steps_is_decided_by_its_department(db, shop) -> None:
    a = actors(db, shop)
    with db.unit_of_work() as s:
        mid = published(s, shop, code="11331123MB0000001-004", steps=[])
        app = apps.create(s, actor=a["window"], data=new(mid, materials_of(s, mid)), now=T0)
        app = do(s, a["window"], app, Action.ACCEPT, T0)
        (step,) = apps.steps_of(s, app)
        assert (step.name, step.department_id) == ("Review and decision", shop.market)
        with pytest.raises(NotFound):
            do(s, a["centre"], app, Action.PASS, T0, opinion="同意")
        app = do(s, a["market"], app, Action.PASS, T0, opinion="不符合条件", result={"decision": "denied"})
        assert app.state == "decided" and app.decision == "denied" and app.result_name is None
