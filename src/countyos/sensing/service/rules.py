"""Rules as data: create/update (validated by the engine), which datastreams a rule watches, the
evaluation of a stored batch, the no-data timer and the preview over past data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.hotcache import HotCache
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.sensing.models import Datastream, Latest, Rule, RuleState, Severity, Thing
from countyos.sensing.service import engine
from countyos.sensing.service.store import Stored
from countyos.sensing.service.times import DAY_US, now_us

RULE_FIELDS = (
    "name",
    "description",
    "enabled",
    "severity",
    "condition",
    "datastream_id",
    "observed_property_id",
    "device_class",
    "case_category_code",
    "dedupe_seconds",
)


def get(session: Session, *, rule_id: int) -> Rule:
    r = session.get(Rule, rule_id)
    if r is None:
        raise NotFound("Rule %(id)s does not exist", id=rule_id)
    return r


def list_rules(session: Session) -> list[Rule]:
    return list(session.scalars(select(Rule).order_by(Rule.id)))


def check(data: dict[str, Any]) -> None:
    errors = [{"field": "condition", "message": e} for e in engine.validate(data.get("condition"))]
    if not (data.get("name") or "").strip():
        errors.append({"field": "name", "message": N_("a name is required")})
    if data.get("severity") not in {str(s) for s in Severity}:
        errors.append({"field": "severity", "message": N_("critical, major, minor or warning")})
    if not (data.get("datastream_id") or data.get("observed_property_id") or data.get("device_class")):
        errors.append({"field": "target", "message": N_("a datastream, an observed property or a device class")})
    if int(data.get("dedupe_seconds") or 0) < 0:
        errors.append({"field": "dedupe_seconds", "message": N_("0 or more seconds")})
    if errors:
        raise ValidationFailed("Please correct the rule", errors=errors)


def save(session: Session, *, actor: Actor, data: dict[str, Any], rule_id: int | None = None) -> Rule:
    rule = get(session, rule_id=rule_id) if rule_id is not None else Rule(enabled=True, dedupe_seconds=3600)
    merged = {f: getattr(rule, f, None) for f in RULE_FIELDS}
    merged.update({k: v for k, v in data.items() if k in RULE_FIELDS})
    merged["dedupe_seconds"] = 3600 if merged.get("dedupe_seconds") is None else merged["dedupe_seconds"]
    check(merged)
    for k, v in merged.items():
        setattr(rule, k, v)
    if rule_id is None:
        session.add(rule)
    session.flush()
    if rule_id is not None:  # a changed condition starts from a clean state
        session.execute(text("DELETE FROM sensing_rule_state WHERE rule_id = :r"), {"r": rule.id})
    audit.record(
        session,
        actor=actor,
        action="sensing.rule.save",
        target_type="rule",
        target_id=rule.id,
        detail={k: merged[k] for k in ("name", "severity", "condition", "case_category_code")},
    )
    return rule


def datastreams_of(session: Session, rule: Rule) -> list[int]:
    stmt = select(Datastream.id).join(Thing, Thing.id == Datastream.thing_id)
    if rule.datastream_id is not None:
        return [rule.datastream_id]
    if rule.observed_property_id is not None:
        stmt = stmt.where(Datastream.observed_property_id == rule.observed_property_id)
    if rule.device_class is not None:
        stmt = stmt.where(Thing.device_class == rule.device_class)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class _Targets:
    datastreams: frozenset[int]  # of the enabled rules attached to one datastream
    broad: bool  # an enabled rule is attached to an observed property or a device class


# What the enabled rules are attached to: a rule saved in this process applies at once, one saved in
# another process within the cache's few seconds (as routing rules in the cases domain).
_TARGETS: HotCache[_Targets] = HotCache("sensing rule targets", tables=(Rule.__tablename__,))


def _targets(session: Session) -> _Targets:
    def load() -> _Targets:
        rows = session.execute(select(Rule.datastream_id).where(Rule.enabled.is_(True))).all()
        return _Targets(frozenset(r[0] for r in rows if r[0] is not None), any(r[0] is None for r in rows))

    return _TARGETS.get(session, "enabled", load)


def rules_for(session: Session, datastream_ids: list[int]) -> dict[int, list[Rule]]:
    """Enabled rules of each of these datastreams (by datastream, observed property or device class).
    Telemetry without any rule (the common case) costs no query."""
    t = _targets(session)
    if not t.broad and t.datastreams.isdisjoint(datastream_ids):
        return {}
    rows = session.execute(
        select(Datastream.id, Datastream.observed_property_id, Thing.device_class)
        .join(Thing, Thing.id == Datastream.thing_id)
        .where(Datastream.id.in_(datastream_ids))
    ).all()
    if not rows:
        return {}
    ops = {r[1] for r in rows}
    classes = {r[2] for r in rows if r[2]}
    rules = list(
        session.scalars(
            select(Rule).where(
                Rule.enabled.is_(True),
                or_(
                    Rule.datastream_id.in_(datastream_ids),
                    Rule.observed_property_id.in_(ops),
                    Rule.device_class.in_(classes) if classes else Rule.id < 0,
                ),
            )
        )
    )
    out: dict[int, list[Rule]] = {}
    for ds, op, cls in rows:
        for r in rules:
            if r.datastream_id is not None:
                ok = r.datastream_id == ds
            else:
                ok = (r.observed_property_id in (None, op)) and (r.device_class in (None, cls))
            if ok:
                out.setdefault(ds, []).append(r)
    return out


def state_of(session: Session, rule_id: int, datastream_id: int) -> RuleState:
    st = session.get(RuleState, (rule_id, datastream_id))
    if st is None:
        st = RuleState(rule_id=rule_id, datastream_id=datastream_id, state={}, firing=False)
        session.add(st)
    return st


@dataclass
class Firing:
    rule: Rule
    datastream_id: int
    kind: str  # raise | clear
    t_us: int
    value: float
    observations: list[tuple[int, int, float]] = field(default_factory=list)


def evaluate(session: Session, stored: Stored) -> list[Firing]:
    """Run the rules of the datastreams in a stored batch; only the rows of datastreams that have
    rules are looked at (most telemetry has none)."""
    if not stored.touched:
        return []
    targets = rules_for(session, stored.touched)
    if not targets:
        return []
    mask = (stored.ids >= 0) & np.isin(stored.datastream_ids, list(targets)) & np.isfinite(stored.values)
    by_ds: dict[int, list[tuple[int, int, float]]] = {}
    for oid, ds, t, v in zip(
        stored.ids[mask].tolist(),
        stored.datastream_ids[mask].tolist(),
        stored.times[mask].tolist(),
        stored.values[mask].tolist(),
        strict=True,
    ):
        by_ds.setdefault(ds, []).append((oid, t, v))
    out: list[Firing] = []
    for ds, rules in targets.items():
        if ds not in by_ds:
            continue
        points = sorted(by_ds[ds], key=lambda p: p[1])
        for rule in rules:
            if engine.has_no_data(rule.condition) is not None:
                st = session.get(RuleState, (rule.id, ds))
                if st is not None and st.firing:  # data is back
                    st.firing = False
                    out.append(Firing(rule, ds, "clear", points[-1][1], points[-1][2]))
                continue
            st = state_of(session, rule.id, ds)
            state = dict(st.state or {})
            firing = st.firing
            for oid, t, v in points:
                holds = engine.step(rule.condition, state, t, v)
                if holds and not firing:
                    out.append(Firing(rule, ds, "raise", t, v, [(oid, t, v)]))
                elif firing and not holds:
                    out.append(Firing(rule, ds, "clear", t, v, [(oid, t, v)]))
                elif (
                    holds
                    and out
                    and out[-1].rule is rule
                    and out[-1].datastream_id == ds
                    and len(out[-1].observations) < 5
                ):
                    out[-1].observations.append((oid, t, v))
                firing = holds
            st.state, st.firing = state, firing
    session.flush()
    return out


def no_data_due(session: Session, *, now: int | None = None) -> list[Firing]:
    """No-data rules whose datastreams have been silent for their number of expected intervals."""
    now = now or now_us()
    out: list[Firing] = []
    for rule in session.scalars(select(Rule).where(Rule.enabled.is_(True))):
        intervals = engine.has_no_data(rule.condition)
        if intervals is None:
            continue
        for ds in datastreams_of(session, rule):
            row = session.execute(
                select(Latest.phenomenon_us, Thing.expected_interval_s)
                .select_from(Datastream)
                .join(Thing, Thing.id == Datastream.thing_id)
                .outerjoin(Latest, Latest.datastream_id == Datastream.id)
                .where(Datastream.id == ds)
            ).first()
            if row is None:
                continue
            st = state_of(session, rule.id, ds)
            if not st.firing and engine.no_data_due(intervals, row[1], row[0], now):
                st.firing = True
                out.append(Firing(rule, ds, "raise", now, float("nan")))
    session.flush()
    return out


@dataclass
class Preview:
    fired: int
    cleared: int
    observations: int
    days: int
    events: list[dict[str, Any]]


def preview(session: Session, *, condition: dict[str, Any], datastream_ids: list[int], days: int = 7) -> Preview:
    """What the condition would have done over the last ``days`` of stored observations."""
    errors = engine.validate(condition)
    if errors:
        raise ValidationFailed("Please correct the rule", errors=[{"field": "condition", "message": e} for e in errors])
    since = now_us() - days * DAY_US
    fired = cleared = seen = 0
    events: list[dict[str, Any]] = []
    for ds in datastream_ids[:200]:
        pts = session.execute(
            text(
                "SELECT phenomenon_us, result FROM sensing_observation WHERE datastream_id = :ds "
                "AND phenomenon_us >= :t AND result IS NOT NULL ORDER BY phenomenon_us"
            ),
            {"ds": ds, "t": since},
        ).all()
        seen += len(pts)
        _, evs = engine.run(condition, {}, False, [(int(t), float(v)) for t, v in pts])
        for e in evs:
            if e.kind == "raise":
                fired += 1
            else:
                cleared += 1
            if len(events) < 100:
                events.append({"datastream_id": ds, "kind": e.kind, "t_us": e.t_us, "value": e.value})
    return Preview(fired, cleared, seen, days, events)
