"""Exceedances (超标) of the ecology indices: an alarm in the sensing domain's console and a case.

Air (AQI past its limit) and water (a section worse than its target class) both come here. When the
station or section is a sensing device, an alarm of kind ``index`` is raised on it (repeated while it
lasts, re-opened inside the dedupe window, cleared when the index is back) and the first raise opens a
case on the device's place; a section known only from lab results has no device, so its exceedance
opens the case directly. Cases come from the categories of ``data/exceedance.json`` (channel 物联感知),
each one once per source and period (the idempotency key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from countyos.cases.models import CategoryKind, Channel, Priority
from countyos.cases.service import cases, categories
from countyos.core.actor import SYSTEM, Actor
from countyos.core.errors import CountyError
from countyos.core.i18n import N_
from countyos.sensing.models import AlarmKind, AlarmState, Severity, Thing
from countyos.sensing.service import alarms

Source = Literal["air", "water"]
ACTOR = Actor(id=None, name="eco")
DATA = Path(__file__).resolve().parent.parent / "data" / "exceedance.json"
PRIORITY = {Severity.CRITICAL: Priority.CRITICAL, Severity.MAJOR: Priority.URGENT}


@dataclass(frozen=True)
class Outcome:
    alarm_id: int | None
    case_id: int | None
    case_number: str | None
    created: bool  # a new alarm (or, without a device, a new case)
    error: str | None = None  # why no case could be opened


@cache
def _config() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


def category_code(session: Session, source: Source) -> str:
    """The service code of the source's case category, made (audited, as the system) when missing."""
    spec = _config()[source]
    kind = CategoryKind(spec["kind"])
    cat = categories.get_by_code(session, kind=kind, code=spec["code"])
    if cat is None:
        cat = categories.create(session, actor=SYSTEM, kind=kind, code=spec["code"], name=spec["name"])
    return cat.service_code


def _open_case(
    session: Session,
    *,
    source: Source,
    title: str,
    description: str,
    lon: float | None,
    lat: float | None,
    severity: Severity,
    key: str,
    context: dict[str, Any],
) -> tuple[int | None, str | None, bool, str | None]:
    if lon is None or lat is None:
        return None, None, False, "the station or section has no position"
    try:
        with session.begin_nested():
            cat = categories.get_by_service_code(session, code=category_code(session, source))
            assert cat is not None
            case, _, created = cases.create(
                session,
                actor=ACTOR,
                new=cases.NewCase(
                    channel=Channel.IOT,
                    category_id=cat.id,
                    title=title[:200],
                    description=description,
                    lon=lon,
                    lat=lat,
                    priority=PRIORITY.get(severity, Priority.NORMAL),
                    external_id=key[:60],
                    idempotency_key=f"eco-{key}"[:100],
                    context={"cause": f"eco.{source}", **context},
                ),
            )
        return case.id, case.number, created, None
    except CountyError as exc:
        return None, None, False, str(exc.message)[:300]


def raise_exceedance(
    session: Session,
    *,
    source: Source,
    key: str,
    title: str,
    description: str,
    value: float | None,
    severity: Severity,
    thing_id: int | None,
    lon: float | None,
    lat: float | None,
    at: datetime,
    context: dict[str, Any] | None = None,
    dedupe_seconds: int = 6 * 3600,
) -> Outcome:
    """Raise (or repeat) the exceedance of one station or section. KEY names the source and period
    (e.g. ``air:12:2026-12-01T08``); it makes the case idempotent."""
    context = {"key": key, **(context or {})}
    if thing_id is None:
        case_id, number, created, error = _open_case(
            session, source=source, title=title, description=description, lon=lon, lat=lat,
            severity=severity, key=key, context=context,
        )  # fmt: skip
        return Outcome(alarm_id=None, case_id=case_id, case_number=number, created=created, error=error)
    alarm, created = alarms.raise_alarm(
        session,
        kind=AlarmKind.INDEX,
        thing_id=thing_id,
        datastream_id=None,
        rule_id=None,
        severity=severity,
        title=title,
        value=value,
        dedupe_seconds=dedupe_seconds,
        context=context,
        at=at,
    )
    if alarm.case_id is None:
        thing = session.get(Thing, thing_id)
        case_id, number, _, error = _open_case(
            session, source=source, title=title, description=f"{description}\n告警 Alarm #{alarm.id}",
            lon=lon if lon is not None else (thing.lon if thing else None),
            lat=lat if lat is not None else (thing.lat if thing else None),
            severity=severity, key=f"alarm:{alarm.id}", context={**context, "alarm_id": alarm.id},
        )  # fmt: skip
        alarm.case_id, alarm.case_number, alarm.case_error = case_id, number, error
        if case_id is not None:
            alarm.context = {**(alarm.context or {}), "case_id": case_id, "case_number": number}
        session.flush()
    return Outcome(alarm_id=alarm.id, case_id=alarm.case_id, case_number=alarm.case_number, created=created)


def clear_exceedance(session: Session, *, thing_id: int, at: datetime, note: str = "") -> int | None:
    """Clear the open index alarm of a device when its index is back within the limit; its id, or None."""
    alarm = alarms.open_alarm_for(session, kind=AlarmKind.INDEX, rule_id=None, thing_id=thing_id, datastream_id=None)
    if alarm is None or alarm.state == AlarmState.CLEARED:
        return None
    alarms.apply(session, alarm=alarm, action="clear", actor=SYSTEM, at=at, note=note or N_("Back within the limit"))
    return alarm.id
