"""Modules by phase (急用先行): which of the county's domains are switched on.

Each domain is a module. The platform's own (accounts and roles, spatial data, cases, the operations view
and this programme domain) are always on; the others are switched on and off by the system administrator
in the browser (``/programme/modules``) or by configuration (``COUNTYOS_MODULES_OFF``: off, and the browser
cannot switch them on). A module that is off has no routes (404), no navigation, no jobs, no receivers of
other domains' signals, no home-page queues and no tiles on the operations view; its records stay, so
switching it back on loses nothing, and its jobs run at the next tick to catch up.

A module needs others (the ecology module reads sensing's datastreams): it can be switched on only when
they are on, and they can be switched off only when it is off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import Conflict, NotFound
from countyos.core.hotcache import HotCache
from countyos.core.i18n import N_, MessageId
from countyos.core.settings import get_settings
from countyos.org.service import audit
from countyos.programme.models.modules import ModuleState, Phase

log = logging.getLogger("countyos.programme.modules")


@dataclass(frozen=True)
class ModuleSpec:
    code: str  # the domain's name (countyos.domains.DOMAINS)
    label: str  # message id
    pillar: str  # message id: which part of the programme it serves
    summary: str  # message id
    required: bool = False  # the platform's own: always on
    needs: tuple[str, ...] = ()


SPECS: tuple[ModuleSpec, ...] = (
    ModuleSpec("org", N_("Accounts, roles and audit"), N_("Platform"),
               N_("Accounts, departments, roles with separation of duties, the audit chain"), required=True),
    ModuleSpec("geo", N_("Spatial data"), N_("Platform"),
               N_("Divisions, grids, components, the base map"), required=True),
    ModuleSpec("cases", N_("City operations cases"), N_("Unified city operations"),
               N_("The closed loop of cases: reports, 12345, Open311, dispatch, check, evaluation"), required=True),
    ModuleSpec("ioc", N_("Operations view"), N_("Operations view"),
               N_("The county at a glance, every number opening its records; reports; platform usage"),
               required=True),
    ModuleSpec("programme", N_("Programme operation"), N_("Long-term operation"),
               N_("Phases, projects, contracts, KPIs, pay for performance, the 盆景 index, partners"),
               required=True),
    ModuleSpec("sensing", N_("Sensing"), N_("Unified city operations"),
               N_("Devices, SensorThings, MQTT, rules and alarms")),
    ModuleSpec("services", N_("Government services"), N_("Unified government services"),
               N_("Service catalogue, windows, applications, 好差评")),
    ModuleSpec("data", N_("Data sharing and open data"), N_("Shared public services and data"),
               N_("Data catalogue, sharing requests, open data portal")),
    ModuleSpec("portal", N_("Residents' portal"), N_("Shared public services and data"),
               N_("Residents' front door: reports, notices, facilities, services")),
    ModuleSpec("eco", N_("Ecology"), N_("Digital countryside"),
               N_("Air and water monitoring, river and forest chiefs, GEP"), needs=("sensing",)),
    ModuleSpec("village", N_("Digital village"), N_("Digital countryside"),
               N_("Farming records, certificates, the produce market, tourism"), needs=("sensing",)),
    ModuleSpec("safety", N_("Emergency, safety and traffic"), N_("Unified city operations"),
               N_("Emergency plans and response, safety inspections, cameras, traffic"), needs=("sensing",)),
)  # fmt: skip
BY_CODE = {s.code: s for s in SPECS}
SWITCHABLE = tuple(s.code for s in SPECS if not s.required)

_OFF: HotCache[frozenset[str]] = HotCache("programme.modules", tables=["programme_module"], ttl=5.0)


def off_by_settings() -> frozenset[str]:
    """Modules switched off by configuration (``modules_off``); unknown or required codes are ignored."""
    codes = frozenset(get_settings().modules_off)
    for code in codes - set(SWITCHABLE):
        log.warning("modules_off names %r, which is not a module that can be switched off", code)
    return codes & frozenset(SWITCHABLE)


def disabled(session: Session) -> frozenset[str]:
    """The modules that are off now (read on every request: kept in memory, a switch is seen at once in this
    process and within seconds in the others)."""

    def load() -> frozenset[str]:
        rows = session.scalars(select(ModuleState.code).where(ModuleState.enabled.is_(False)))
        return frozenset(rows) & frozenset(SWITCHABLE)

    return _OFF.get(session, "off", load) | off_by_settings()


def is_on(session: Session, code: str) -> bool:
    return code not in disabled(session)


@dataclass(frozen=True)
class ModuleView:
    spec: ModuleSpec
    on: bool
    locked: bool  # off by configuration: the browser cannot switch it on
    state: ModuleState | None
    phase: Phase | None


def views(session: Session) -> list[ModuleView]:
    off = disabled(session)
    locked = off_by_settings()
    rows = {m.code: m for m in session.scalars(select(ModuleState))}
    phases = {p.id: p for p in session.scalars(select(Phase))}
    out = []
    for spec in SPECS:
        row = rows.get(spec.code)
        phase = phases.get(row.phase_id) if row is not None and row.phase_id is not None else None
        out.append(ModuleView(spec, spec.code not in off, spec.code in locked, row, phase))
    return out


def spec(code: str) -> ModuleSpec:
    try:
        return BY_CODE[code]
    except KeyError:
        raise NotFound(N_("No module %(code)s"), code=code) from None


def _row(session: Session, code: str) -> ModuleState:
    row = session.get(ModuleState, code)
    if row is None:
        row = ModuleState(code=code, enabled=True)
        session.add(row)
    return row


def switch(session: Session, *, actor: Actor, code: str, on: bool, note: str = "") -> ModuleState:
    """Switch a module on or off (its records are kept either way)."""
    s = spec(code)
    if s.required:
        raise Conflict(N_("%(module)s is part of the platform and is always on"), module=MessageId(s.label))
    off = disabled(session)
    if on:
        if code in off_by_settings():
            raise Conflict(
                N_("%(module)s is switched off in the configuration (modules_off)"), module=MessageId(s.label)
            )
        missing = [BY_CODE[n].label for n in s.needs if n in off]
        if missing:
            raise Conflict(
                N_("Switch on %(needs)s first: %(module)s needs it"),
                needs=MessageId(missing[0]),
                module=MessageId(s.label),
            )
    else:
        users = [o.label for o in SPECS if code in o.needs and o.code not in off]
        if users:
            raise Conflict(
                N_("Switch off %(users)s first: it needs %(module)s"),
                users=MessageId(users[0]),
                module=MessageId(s.label),
            )
    row = _row(session, code)
    was = row.enabled and code not in off
    row.enabled = on
    row.switched_at = utcnow()
    row.switched_by_id = actor.id
    if note:
        row.note = note[:500]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.modules.switch",
        target_type="module",
        target_id=code,
        detail={"on": on, "was": was, "note": note[:200]},
    )
    return row


def plan(
    session: Session, *, actor: Actor, code: str, phase_id: int | None, planned_on: date | None, note: str = ""
) -> ModuleState:
    """Place a module on the roadmap: its phase and the date it is planned to go live."""
    spec(code)
    if phase_id is not None and session.get(Phase, phase_id) is None:
        raise NotFound(N_("No phase %(id)s"), id=phase_id)
    row = _row(session, code)
    row.phase_id = phase_id
    row.planned_on = planned_on
    row.note = note[:500]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.modules.plan",
        target_type="module",
        target_id=code,
        detail={"phase_id": phase_id, "planned_on": planned_on.isoformat() if planned_on else None},
    )
    return row
