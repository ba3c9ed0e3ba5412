"""Services of the plans (预案 as data) part of the safety domain.

- A plan is a card (code, name, type, lead department, summary) with numbered versions. A plan has at
  most one draft version; its body (``schemas.plans.PlanBody``) is checked against the county's records
  when saved and again when published (``validate_body``): every duty's department exists and is active,
  every reading trigger names a datastream (device key + metric) and carries a valid sensing condition,
  every case trigger names a case category by its Open311 service code. Each refusal names its field
  (``levels.0.duties.1.department``).
- ``publish``: the draft becomes the version in force (the previous one superseded), the plan active; a
  sensing rule is made for each reading trigger (``sensing.service.rules.save``) with a ``PlanRule`` row;
  the previous version's rules are disabled (their rows kept for history). A published version is never
  edited (409): a change is a new draft.
- ``retire``: the plan is retired (废止) and its rules disabled.
- What the events part reads: ``published_body``, ``rule_lookup``, ``case_triggers``.
- ``diff``: what changed between two versions' bodies, in words.

Every write is audited; nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.service import categories
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.org.models import Department
from countyos.org.service import audit
from countyos.safety.models.plans import (
    ExerciseKind,
    Plan,
    PlanRule,
    PlanState,
    PlanType,
    PlanVersion,
    ResponseLevel,
    VersionState,
)
from countyos.safety.schemas.plans import CaseTrigger, PlanBody, PlanIn, ReadingTrigger, body_of
from countyos.sensing.models import Rule, Severity
from countyos.sensing.service import engine, rules, streams

TARGET = "safety_plan"
DEDUPE_SECONDS = 1800
MAX_LIST = 500

TYPE_NAMES = {
    PlanType.FLOOD: N_("Flood and typhoon"),
    PlanType.GEOLOGICAL: N_("Geological hazards"),
    PlanType.FOREST_FIRE: N_("Forest fire"),
    PlanType.HAZCHEM: N_("Hazardous chemicals"),
    PlanType.WORK_SAFETY: N_("Work safety"),
    PlanType.PUBLIC_HEALTH: N_("Public health"),
    PlanType.POWER_OUTAGE: N_("Large power outage"),
    PlanType.EARTHQUAKE: N_("Earthquake"),
    PlanType.TRAFFIC: N_("Road traffic"),
    PlanType.OTHER: N_("Other"),
}
STATE_NAMES = {
    PlanState.DRAFT: N_("Not yet in force"),
    PlanState.ACTIVE: N_("In force"),
    PlanState.RETIRED: N_("Retired"),
}
VERSION_STATE_NAMES = {
    VersionState.DRAFT: N_("Draft"),
    VersionState.PUBLISHED: N_("In force"),
    VersionState.SUPERSEDED: N_("Superseded"),
}
LEVEL_NAMES = {
    ResponseLevel.I: N_("Level I response"),
    ResponseLevel.II: N_("Level II response"),
    ResponseLevel.III: N_("Level III response"),
    ResponseLevel.IV: N_("Level IV response"),
}
# the rule's name is data (kept in the sensing rules' list as typed), in the county's language
LEVEL_WORDS = {
    ResponseLevel.I: "Ⅰ级响应",
    ResponseLevel.II: "Ⅱ级响应",
    ResponseLevel.III: "Ⅲ级响应",
    ResponseLevel.IV: "Ⅳ级响应",
}
REPORT_WORDS = N_(
    "Report schedule: first report within %(first)s minutes, follow-up every %(follow)s hours, "
    "final report within %(final)s hours, to %(to)s"
)
EXERCISE_KIND_NAMES = {
    ExerciseKind.TABLETOP: N_("Tabletop exercise"),
    ExerciseKind.FIELD: N_("Field exercise"),
    ExerciseKind.COMBINED: N_("Combined exercise"),
}


def _field(field: str, message: str, **params: Any) -> dict[str, Any]:
    return {"field": field, "message": gettext(message, **params)}


# --- plans --------------------------------------------------------------------------------------------


def get_plan(session: Session, *, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(N_("There is no such plan"))
    return plan


def get_by_code(session: Session, *, code: str) -> Plan | None:
    return session.scalars(select(Plan).where(Plan.code == code)).first()


def list_plans(session: Session, *, state: PlanState | None = None, type: PlanType | None = None) -> list[Plan]:
    stmt = select(Plan).order_by(Plan.code).limit(MAX_LIST)
    if state is not None:
        stmt = stmt.where(Plan.state == state)
    if type is not None:
        stmt = stmt.where(Plan.type == type)
    return list(session.scalars(stmt))


def _check_card(session: Session, data: PlanIn, plan_id: int | None) -> None:
    errs = []
    other = get_by_code(session, code=data.code)
    if other is not None and other.id != plan_id:
        errs.append(_field("code", N_("Another plan has this code")))
    if data.lead_department_id is not None:
        dept = session.get(Department, data.lead_department_id)
        if dept is None or not dept.is_active:
            errs.append(_field("lead_department_id", N_("There is no such department")))
    if errs:
        raise ValidationFailed(N_("Please correct the marked fields"), errors=errs)


def create_plan(session: Session, *, actor: Actor, data: PlanIn) -> Plan:
    _check_card(session, data, None)
    plan = Plan(**data.model_dump(), state=PlanState.DRAFT)
    session.add(plan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.plans.create",
        target_type=TARGET,
        target_id=plan.id,
        detail={"code": plan.code, "name": plan.name},
    )
    return plan


def update_plan(session: Session, *, actor: Actor, plan_id: int, data: PlanIn) -> Plan:
    plan = get_plan(session, plan_id=plan_id)
    _check_card(session, data, plan.id)
    for k, v in data.model_dump().items():
        setattr(plan, k, v)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.plans.update",
        target_type=TARGET,
        target_id=plan.id,
        detail={"code": plan.code, "name": plan.name},
    )
    return plan


# --- versions -----------------------------------------------------------------------------------------


def versions_of(session: Session, *, plan_id: int) -> list[PlanVersion]:
    return list(session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id).order_by(PlanVersion.number)))


def get_version(session: Session, *, plan_id: int, number: int) -> PlanVersion:
    v = session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id, PlanVersion.number == number)).first()
    if v is None:
        raise NotFound(N_("There is no such version"))
    return v


def draft_of(session: Session, *, plan_id: int) -> PlanVersion | None:
    return session.scalars(
        select(PlanVersion).where(PlanVersion.plan_id == plan_id, PlanVersion.state == VersionState.DRAFT)
    ).first()


def validate_body(session: Session, body: PlanBody) -> None:
    """Refuse a body naming what the county does not have, each problem beside its field."""
    errs: list[dict[str, Any]] = []
    names = set(session.scalars(select(Department.name).where(Department.is_active.is_(True))))
    for i, spec in enumerate(body.levels):
        for j, duty in enumerate(spec.duties):
            if duty.department not in names:
                errs.append(_field(f"levels.{i}.duties.{j}.department", N_("There is no such department")))
        for j, trig in enumerate(spec.triggers):
            where = f"levels.{i}.triggers.{j}"
            if isinstance(trig, ReadingTrigger):
                if streams.by_key(session, trig.device, trig.metric) is None:
                    errs.append(_field(f"{where}.device", N_("No datastream has this device and metric")))
                problems = engine.validate(trig.condition)
                if problems:
                    errs.append({"field": f"{where}.condition", "message": "; ".join(problems)})
            elif categories.get_by_service_code(session, code=trig.category) is None:
                errs.append(_field(f"{where}.category", N_("There is no case category with this code")))
    if errs:
        raise ValidationFailed(N_("Please correct the marked fields"), errors=errs)


def save_draft(session: Session, *, actor: Actor, plan_id: int, body: PlanBody, note: str = "") -> PlanVersion:
    """Save the plan's draft version (a new one numbered after the last, or the draft there is)."""
    plan = get_plan(session, plan_id=plan_id)
    if plan.state == PlanState.RETIRED:
        raise Conflict(N_("The plan is retired"))
    validate_body(session, body)
    draft = draft_of(session, plan_id=plan.id)
    if draft is None:
        last = session.scalar(select(func.max(PlanVersion.number)).where(PlanVersion.plan_id == plan.id)) or 0
        draft = PlanVersion(plan_id=plan.id, number=last + 1, state=VersionState.DRAFT, created_by_id=actor.id)
        session.add(draft)
    draft.body = body.model_dump(mode="json")
    draft.note = note
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.plans.draft",
        target_type=TARGET,
        target_id=plan.id,
        detail={"version": draft.number},
    )
    return draft


def save_version(
    session: Session, *, actor: Actor, plan_id: int, number: int, body: PlanBody, note: str = ""
) -> PlanVersion:
    """Save the body of version NUMBER: only a draft may change (a published version is never edited)."""
    v = get_version(session, plan_id=plan_id, number=number)
    if v.state != VersionState.DRAFT:
        raise Conflict(N_("A published version is never edited; save a new draft instead"))
    return save_draft(session, actor=actor, plan_id=plan_id, body=body, note=note)


def _rule_name(plan: Plan, level: ResponseLevel, trig: ReadingTrigger) -> str:
    words = trig.description or f"{trig.device} {trig.metric}"
    return f"{plan.name} · {LEVEL_WORDS[level]} · {words}"[:200]


def _disable_rules(session: Session, *, actor: Actor, version_id: int) -> int:
    n = 0
    for pr in session.scalars(select(PlanRule).where(PlanRule.version_id == version_id)):
        rule = session.get(Rule, pr.rule_id)
        if rule is not None and rule.enabled:
            rules.save(session, actor=actor, data={"enabled": False}, rule_id=rule.id)
            n += 1
    return n


def publish(session: Session, *, actor: Actor, plan_id: int) -> PlanVersion:
    """The draft becomes the version in force: rules for its reading triggers, the previous version's
    rules disabled, the previous version superseded."""
    plan = get_plan(session, plan_id=plan_id)
    if plan.state == PlanState.RETIRED:
        raise Conflict(N_("The plan is retired"))
    draft = draft_of(session, plan_id=plan.id)
    if draft is None:
        raise Conflict(N_("The plan has no draft version to publish"))
    body = body_of(draft.body)
    validate_body(session, body)
    previous = session.get(PlanVersion, plan.current_version_id) if plan.current_version_id else None
    if previous is not None:
        _disable_rules(session, actor=actor, version_id=previous.id)
        previous.state = VersionState.SUPERSEDED
    made = 0
    for spec in body.levels:
        severe = spec.level in (ResponseLevel.I, ResponseLevel.II)
        for index, trig in enumerate(spec.triggers):
            if not isinstance(trig, ReadingTrigger):
                continue
            info = streams.by_key(session, trig.device, trig.metric)
            assert info is not None  # validated above
            rule = rules.save(
                session,
                actor=actor,
                data={
                    "name": _rule_name(plan, spec.level, trig),
                    "description": trig.description,
                    "enabled": True,
                    "severity": str(Severity.CRITICAL if severe else Severity.MAJOR),
                    "condition": trig.condition,
                    "datastream_id": info.id,
                    "observed_property_id": None,
                    "device_class": None,
                    "case_category_code": None,
                    "dedupe_seconds": DEDUPE_SECONDS,
                },
            )
            session.add(
                PlanRule(plan_id=plan.id, version_id=draft.id, level=spec.level, trigger_index=index, rule_id=rule.id)
            )
            made += 1
    draft.state = VersionState.PUBLISHED
    draft.published_at = utcnow()
    draft.published_by_id = actor.id
    plan.current_version_id = draft.id
    plan.state = PlanState.ACTIVE
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.plans.publish",
        target_type=TARGET,
        target_id=plan.id,
        detail={"version": draft.number, "rules": made},
    )
    return draft


def retire(session: Session, *, actor: Actor, plan_id: int) -> Plan:
    plan = get_plan(session, plan_id=plan_id)
    if plan.state == PlanState.RETIRED:
        raise Conflict(N_("The plan is retired"))
    disabled = 0
    if plan.current_version_id is not None:
        disabled = _disable_rules(session, actor=actor, version_id=plan.current_version_id)
    plan.state = PlanState.RETIRED
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety.plans.retire",
        target_type=TARGET,
        target_id=plan.id,
        detail={"rules_disabled": disabled},
    )
    return plan


def rules_of(session: Session, *, plan_id: int) -> list[tuple[PlanRule, Rule]]:
    rows = session.execute(
        select(PlanRule, Rule)
        .join(Rule, Rule.id == PlanRule.rule_id)
        .where(PlanRule.plan_id == plan_id)
        .order_by(PlanRule.id)
    ).all()
    return [(pr, r) for pr, r in rows]


# --- what the events part reads -----------------------------------------------------------------------


def published_body(session: Session, plan: Plan) -> tuple[PlanVersion, PlanBody] | None:
    """The version in force and its body (a retired plan's last version too), None before a publish."""
    if plan.current_version_id is None:
        return None
    v = session.get(PlanVersion, plan.current_version_id)
    return (v, body_of(v.body)) if v is not None else None


def rule_lookup(session: Session, rule_id: int) -> tuple[Plan, PlanVersion, ResponseLevel] | None:
    """The active plan, its version in force and the level whose reading trigger the rule is."""
    row = session.execute(
        select(Plan, PlanVersion, PlanRule.level)
        .join(PlanRule, PlanRule.plan_id == Plan.id)
        .join(PlanVersion, PlanVersion.id == PlanRule.version_id)
        .where(PlanRule.rule_id == rule_id, Plan.state == PlanState.ACTIVE, Plan.current_version_id == PlanVersion.id)
    ).first()
    return (row[0], row[1], ResponseLevel(row[2])) if row is not None else None


def case_triggers(session: Session) -> list[tuple[Plan, PlanVersion, ResponseLevel, str]]:
    """Every case trigger of the active plans' versions in force: (plan, version, level, category code)."""
    out = []
    rows = session.execute(
        select(Plan, PlanVersion)
        .join(PlanVersion, PlanVersion.id == Plan.current_version_id)
        .where(Plan.state == PlanState.ACTIVE)
    ).all()
    for plan, version in rows:
        for spec in body_of(version.body).levels:
            out += [(plan, version, spec.level, t.category) for t in spec.triggers if isinstance(t, CaseTrigger)]
    return out


# --- differences between two versions -----------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str  # added, removed, changed
    text: str  # in the current locale


def _trigger_words(t: ReadingTrigger | CaseTrigger) -> str:
    if isinstance(t, ReadingTrigger):
        return t.description or f"{t.device} {t.metric}"
    return t.description or t.category


def diff(old: PlanBody, new: PlanBody) -> list[Change]:
    """What changed from OLD to NEW, in words (levels, criteria, triggers, duties, report schedule)."""
    out: list[Change] = []
    for level in ResponseLevel:
        a, b = old.spec(level), new.spec(level)
        name = gettext(LEVEL_NAMES[level])
        if a is None and b is None:
            continue
        if a is None:
            out.append(Change("added", gettext(N_("%(level)s added"), level=name)))
            continue
        if b is None:
            out.append(Change("removed", gettext(N_("%(level)s removed"), level=name)))
            continue
        if a.criteria != b.criteria:
            out.append(
                Change("changed", gettext(N_("%(level)s: criteria changed to “%(text)s”"), level=name, text=b.criteria))
            )
        ta = {_trigger_words(t): t for t in a.triggers}
        tb = {_trigger_words(t): t for t in b.triggers}
        for words in tb.keys() - ta.keys():
            out.append(Change("added", gettext(N_("%(level)s: trigger added: %(what)s"), level=name, what=words)))
        for words in ta.keys() - tb.keys():
            out.append(Change("removed", gettext(N_("%(level)s: trigger removed: %(what)s"), level=name, what=words)))
        for words in ta.keys() & tb.keys():
            if ta[words] != tb[words]:
                out.append(
                    Change("changed", gettext(N_("%(level)s: trigger changed: %(what)s"), level=name, what=words))
                )
        da = {d.department: d for d in a.duties}
        db = {d.department: d for d in b.duties}
        for dept in sorted(db.keys() - da.keys()):
            out.append(
                Change(
                    "added",
                    gettext(
                        N_("%(level)s: duty of %(dept)s added (%(min)s minutes)"),
                        level=name,
                        dept=dept,
                        min=db[dept].deadline_minutes,
                    ),
                )
            )
        for dept in sorted(da.keys() - db.keys()):
            out.append(Change("removed", gettext(N_("%(level)s: duty of %(dept)s removed"), level=name, dept=dept)))
        for dept in sorted(da.keys() & db.keys()):
            x, y = da[dept], db[dept]
            if x.deadline_minutes != y.deadline_minutes:
                out.append(
                    Change(
                        "changed",
                        gettext(
                            N_("%(level)s: %(dept)s's deadline from %(a)s to %(b)s minutes"),
                            level=name,
                            dept=dept,
                            a=x.deadline_minutes,
                            b=y.deadline_minutes,
                        ),
                    )
                )
            if x.duty != y.duty:
                out.append(
                    Change(
                        "changed",
                        gettext(
                            N_("%(level)s: %(dept)s's duty changed to “%(text)s”"), level=name, dept=dept, text=y.duty
                        ),
                    )
                )
    ra, rb = old.reports, new.reports
    if ra != rb:
        out.append(
            Change(
                "changed",
                gettext(
                    REPORT_WORDS,
                    first=rb.first_minutes,
                    follow=rb.followup_hours,
                    final=rb.final_hours,
                    to=rb.to or "—",
                ),
            )
        )
    if old.measures != new.measures:
        out.append(Change("changed", gettext(N_("Response measures changed"))))
    return out
