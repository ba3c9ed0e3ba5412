"""The records behind an indicator as uniform rows (for the list page, the JSON API, the exports and
the reports): what it is, where, in which state, since when, and the link that opens it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from countyos.cases.lifecycle import LABELS as CASE_STATES
from countyos.cases.service import ioc_queries as cases_q
from countyos.cases.service import timers
from countyos.core.i18n import N_
from countyos.core.listing import ListedRecord
from countyos.eco.service import ioc_queries as eco_q
from countyos.geo.models import STATUS_ZH
from countyos.ioc.service import usage_active
from countyos.org.service import departments
from countyos.safety.service import ioc_queries as safety_q
from countyos.sensing.service import ioc_queries as sensing_q
from countyos.sensing.service.labels import alarm_title
from countyos.services.lifecycle import LABELS as APPLICATION_STATES
from countyos.services.lifecycle import State as ApplicationState
from countyos.services.service import ioc_queries as services_q
from countyos.village.service import ioc_queries as village_q

PRIORITY_LABELS = {"normal": N_("Normal"), "urgent": N_("Urgent"), "critical": N_("Critical")}
SEVERITY_LABELS = {"critical": N_("Critical"), "major": N_("Major"), "minor": N_("Minor"), "warning": N_("Warning")}
ALARM_STATES = {"active": N_("Active"), "acknowledged": N_("Acknowledged"), "cleared": N_("Cleared")}
HEALTH_LABELS = {"online": N_("Online"), "offline": N_("Offline"), "unknown": N_("Not yet reporting")}


@dataclass
class Record:
    source: str
    id: int
    ref: str  # case number, alarm id, device key, component code
    title: str
    place: str
    kind: str  # category, severity, device class, component class
    status: str  # message id or plain text
    level: str  # red / yellow / green / paused / none, or a severity / health for colours
    at: datetime | None  # reported, raised, last seen
    deadline: datetime | None
    owner: str  # responsible department, device, owner department
    url: str  # the record itself
    related_url: str = ""  # e.g. the case an alarm raised


def case_records(session: Session, rows: list[Any], now: datetime) -> list[Record]:
    cats = cases_q.category_names(session, {c.category_id for c in rows})
    deps = {d.id: d.name for d in departments.all_active(session)} if rows else {}
    out = []
    for c in rows:
        out.append(
            Record(
                "cases",
                c.id,
                c.number or str(c.id),
                c.title,
                " ".join(x for x in (c.township_name, c.village_name) if x) or (c.address or ""),
                cats.get(c.category_id, ""),
                CASE_STATES.get(c.state, c.state),
                str(timers.level(c, now)),
                c.reported_at,
                c.step_deadline if c.is_open else None,
                deps.get(c.department_id, "") if c.department_id else "",
                f"/cases/{c.id}",
            )
        )
    return out


def alarm_records(session: Session, rows: list[Any]) -> list[Record]:
    names = sensing_q.thing_names(session, {a.thing_id for a in rows})
    return [
        Record(
            "alarms",
            a.id,
            f"#{a.id}",
            alarm_title(a.title),
            names.get(a.thing_id, ""),
            SEVERITY_LABELS.get(a.severity, a.severity),
            ALARM_STATES.get(a.state, a.state),
            str(a.severity),
            a.raised_at,
            None,
            names.get(a.thing_id, ""),
            f"/ioc/alarms/{a.id}",
            f"/cases/{a.case_id}" if a.case_id else "",
        )
        for a in rows
    ]


def device_records(rows: list[Any]) -> list[Record]:
    return [
        Record(
            "devices",
            t.id,
            t.device_key or f"#{t.id}",
            t.name,
            f"{t.lon:.5f}, {t.lat:.5f}" if t.lon is not None and t.lat is not None else "",
            t.device_class or "",
            HEALTH_LABELS.get(t.health, t.health),
            str(t.health),
            t.last_seen_at,
            None,
            "",
            f"/ioc/devices/{t.id}",
        )
        for t in rows
    ]


def component_records(rows: list[Any]) -> list[Record]:
    return [
        Record(
            "components",
            c.id,
            c.code,
            c.name,
            " ".join(x for x in (c.township_name, c.village_name) if x),
            c.class_code,
            STATUS_ZH.get(c.status, str(c.status)),
            str(c.status),
            None,
            None,
            c.owner_dept_name or "",
            f"/api/v1/geo/collections/components/items/{c.code}",
        )
        for c in rows
    ]


def application_records(session: Session, rows: list[Any], now: datetime) -> list[Record]:
    """Applications by number and matter (no applicant: the operations view shows no personal data)."""
    names = services_q.matter_names(session, {a.matter_version_id for a in rows})
    deps = {d.id: d.name for d in departments.all_active(session)} if rows else {}
    out = []
    for a in rows:
        overdue = a.state == ApplicationState.IN_PROGRESS and a.due_at is not None and a.due_at <= now
        out.append(
            Record(
                "applications",
                a.id,
                a.number,
                names.get(a.matter_version_id, ""),
                deps.get(a.submitted_by_department_id, "") if a.submitted_by_department_id else "",
                N_("Government service application"),
                APPLICATION_STATES.get(a.state, a.state),
                "red" if overdue else "none",
                a.submitted_at,
                a.due_at if a.state in services_q.WAITING else None,
                deps.get(a.department_id, "") if a.department_id else "",
                f"/services/applications/{a.id}",
            )
        )
    return out


def data_records(session: Session, rows: list[Any]) -> list[Record]:
    """Data resources by code and title, with their provider and last load."""
    deps = {d.id: d.name for d in departments.all_active(session)} if rows else {}
    return [
        Record(
            "data",
            r.id,
            r.code,
            r.title,
            "",
            N_("Data resource"),
            N_("Published"),
            "none",
            r.current_load.finished_at if r.current_load is not None else None,
            None,
            deps.get(r.provider_id, ""),
            f"/data/resources/{r.id}",
        )
        for r in rows
    ]


def listed(source: str, items: list[ListedRecord]) -> list[Record]:
    """The records a domain described (``service/ioc_queries.describe``: eco, village, safety), as list rows."""
    return [Record(source, v.id, v.ref, v.title, v.place, v.kind, v.status, v.level, v.at, None, v.owner, v.url)
            for v in items]  # fmt: skip


def to_records(session: Session, source: str, rows: list[Any], now: datetime) -> list[Record]:
    if source == "cases":
        return case_records(session, rows, now)
    if source == "alarms":
        return alarm_records(session, rows)
    if source == "devices":
        return device_records(rows)
    if source == "applications":
        return application_records(session, rows, now)
    if source == "data":
        return data_records(session, rows)
    if source == "eco":
        return listed(source, [eco_q.describe(session, r) for r in rows])
    if source == "village":
        return listed(source, [village_q.describe(session, r) for r in rows])
    if source == "safety":
        return listed(source, [safety_q.describe(session, r, now=now) for r in rows])
    if source == "usage":
        return listed(source, [usage_active.describe(r) for r in rows])
    return component_records(rows)
