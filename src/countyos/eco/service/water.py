"""Water quality of the county's monitoring sections (GB 3838-2002): sections, samples, 达标, exceedances.

A sample is classified when it is saved (:mod:`countyos.eco.service.gb3838`, against the section's
target class at that moment) and, when it is the section's newest, becomes the section's current class.
A newest sample worse than the target raises an exceedance (``exceed.raise_exceedance``: an ``index``
alarm on the section's automatic station, or a case alone for a section without one), keyed by section
and local day; a newest sample back within the target clears the station's alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import as_utc, county_zone, utcnow
from countyos.core.errors import CountyError, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.water import SampleSource, SectionLevel, WaterbodyType, WaterSample, WaterSection
from countyos.eco.schemas.water import SampleIn, SectionIn
from countyos.eco.service import exceed, gb3838
from countyos.geo import service as geo
from countyos.org.service import audit
from countyos.sensing.models import Severity, Thing

TARGET = "eco_water_section"
DEVICE_CLASS = "water_quality"
MAX_LIST = 500
MAX_SAMPLES = 2000
EARLIEST = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
LEVEL_NAMES = {
    SectionLevel.NATIONAL: N_("National (国控)"),
    SectionLevel.PROVINCIAL: N_("Provincial (省控)"),
    SectionLevel.CITY: N_("City (市控)"),
    SectionLevel.COUNTY: N_("County (县控)"),
    SectionLevel.BOUNDARY: N_("Boundary (交接断面)"),
}
WATERBODY_NAMES = {WaterbodyType.RIVER: N_("River"), WaterbodyType.LAKE: N_("Lake or reservoir")}
SOURCE_NAMES = {
    SampleSource.AUTO: N_("Automatic station"),
    SampleSource.LAB: N_("Lab"),
    SampleSource.IMPORT: N_("Imported file"),
}


def field_error(name: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message, errors=[{"field": name, "message": message % params if params else message}], **params
    )


def local_day(at: datetime) -> date:
    return as_utc(at).astimezone(county_zone()).date()


def day_start(day: date) -> datetime:
    """The local midnight starting DAY, in UTC."""
    return as_utc(datetime.combine(day, time(0), tzinfo=county_zone()))


def aware(at: datetime) -> datetime:
    """A time without a zone is the county's local time."""
    return as_utc(at if at.tzinfo is not None else at.replace(tzinfo=county_zone()))


# --- sections --------------------------------------------------------------------------------------


def get_section(session: Session, *, section_id: int) -> WaterSection:
    s = session.get(WaterSection, section_id)
    if s is None:
        raise NotFound(N_("No such monitoring section"))
    return s


def get_by_code(session: Session, *, code: str) -> WaterSection | None:
    return session.scalars(select(WaterSection).where(WaterSection.code == code)).first()


def list_sections(
    session: Session,
    *,
    q: str = "",
    waterbody: WaterbodyType | None = None,
    level: SectionLevel | None = None,
    meets: bool | None = None,
    active: bool | None = True,
    limit: int = MAX_LIST,
) -> list[WaterSection]:
    stmt = select(WaterSection)
    if q:
        like = f"%{q[:60]}%"
        stmt = stmt.where(
            or_(WaterSection.name.like(like), WaterSection.code.like(like), WaterSection.water_name.like(like))
        )
    if waterbody is not None:
        stmt = stmt.where(WaterSection.waterbody == waterbody)
    if level is not None:
        stmt = stmt.where(WaterSection.level == level)
    if meets is not None:
        stmt = stmt.where(WaterSection.last_meets.is_(meets))
    if active is not None:
        stmt = stmt.where(WaterSection.active.is_(active))
    return list(session.scalars(stmt.order_by(WaterSection.code).limit(min(limit, MAX_LIST))))


def _division(session: Session, lon: float, lat: float) -> str:
    """The village (or township, county) the point lies in; refused outside a county that is set up,
    blank while no county is."""
    if geo.the_county(session) is None:
        return ""
    try:
        place = geo.locate(session, lon=lon, lat=lat)
    except CountyError as exc:
        raise field_error(
            "lon", N_("The position is outside the county; check that longitude and latitude are not swapped")
        ) from exc
    return place.village_code or place.township_code or place.county_code


def _check_thing(session: Session, thing_id: int | None, section_id: int | None) -> None:
    if thing_id is None:
        return
    thing = session.get(Thing, thing_id)
    if thing is None or thing.device_class != DEVICE_CLASS:
        raise field_error("thing_id", N_("Choose an automatic water-quality station"))
    other = session.scalar(select(WaterSection.id).where(WaterSection.thing_id == thing_id))
    if other is not None and other != section_id:
        raise field_error("thing_id", N_("This station is bound to another section"))


def _apply(session: Session, s: WaterSection, data: SectionIn) -> None:
    other = session.scalar(select(WaterSection.id).where(WaterSection.code == data.code))
    if other is not None and other != s.id:
        raise field_error("code", N_("Another section has this code"))
    _check_thing(session, data.thing_id, s.id)
    s.division_code = _division(session, data.lon, data.lat)
    for name in (
        "code",
        "name",
        "water_name",
        "waterbody",
        "lon",
        "lat",
        "level",
        "target_class",
        "thing_id",
        "active",
    ):
        setattr(s, name, getattr(data, name))
    s.updated_at = utcnow()


def create_section(session: Session, *, actor: Actor, data: SectionIn) -> WaterSection:
    s = WaterSection()
    _apply(session, s, data)
    session.add(s)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="eco.water.section.create",
        target_type=TARGET,
        target_id=s.id,
        detail=data.model_dump(mode="json"),
    )
    return s


def update_section(session: Session, *, actor: Actor, section_id: int, data: SectionIn) -> WaterSection:
    s = get_section(session, section_id=section_id)
    target_changed = s.target_class != data.target_class
    _apply(session, s, data)
    session.flush()
    if target_changed:
        _recompute_latest(session, s)
    audit.record(
        session,
        actor=actor,
        action="eco.water.section.update",
        target_type=TARGET,
        target_id=s.id,
        detail=data.model_dump(mode="json"),
    )
    return s


def station_of(session: Session, section: WaterSection) -> Thing | None:
    """The section's automatic station, if it has one."""
    return session.get(Thing, section.thing_id) if section.thing_id is not None else None


def stations(session: Session) -> list[Thing]:
    """The automatic water-quality stations (sensing Things), to bind to a section."""
    return list(session.scalars(select(Thing).where(Thing.device_class == DEVICE_CLASS).order_by(Thing.name)))


# --- samples ---------------------------------------------------------------------------------------


def _classify(s: WaterSection, sample: WaterSample) -> None:
    result = gb3838.classify_sample(dict(sample.values), s.waterbody.value, s.target_class)
    sample.classes = {code: p.cls for code, p in result.parameters.items()}
    sample.cls = result.cls
    sample.target_class = s.target_class
    sample.meets = result.meets
    sample.exceeding = [
        {"code": p.code, "cls": p.cls, "limit": p.limit, "multiple": p.multiple} for p in result.exceeding
    ]


def latest(session: Session, *, section_id: int) -> WaterSample | None:
    return session.scalars(
        select(WaterSample)
        .where(WaterSample.section_id == section_id, WaterSample.cls.is_not(None))
        .order_by(WaterSample.sampled_at.desc(), WaterSample.id.desc())
        .limit(1)
    ).first()


def _recompute_latest(session: Session, s: WaterSection) -> None:
    sample = latest(session, section_id=s.id)
    if sample is not None:
        _classify(s, sample)
    s.last_class = sample.cls if sample else None
    s.last_meets = sample.meets if sample else None
    s.last_sampled_at = sample.sampled_at if sample else None


def save_sample(
    session: Session,
    *,
    actor: Actor,
    section: WaterSection,
    sampled_at: datetime,
    values: dict[str, float],
    source: SampleSource,
    lab_name: str = "",
    report_no: str = "",
    hours: dict[str, int] | None = None,
    audited: bool = True,
) -> WaterSample:
    """Classify and keep one sample; an automatic sample of the same day is replaced (idempotent), a
    lab or imported one at the same time is refused. The newest sample becomes the section's class and
    raises or clears its exceedance."""
    at = aware(sampled_at)
    if at < EARLIEST or at > utcnow() + timedelta(hours=1):
        raise field_error("sampled_at", N_("The sampling time is not plausible"))
    sample = session.scalars(
        select(WaterSample).where(
            WaterSample.section_id == section.id, WaterSample.source == source, WaterSample.sampled_at == at
        )
    ).first()
    if sample is not None and source != SampleSource.AUTO:
        raise field_error("sampled_at", N_("This section already has a result sampled at this time"))
    if sample is None:
        sample = WaterSample(section_id=section.id, source=source, sampled_at=at)
        session.add(sample)
    sample.values = {k: float(v) for k, v in values.items()}
    sample.hours = hours
    sample.lab_name, sample.report_no = lab_name, report_no
    sample.entered_by_id = actor.id
    _classify(section, sample)
    session.flush()
    newest = section.last_sampled_at is None or at >= section.last_sampled_at
    if newest and sample.cls is not None:
        section.last_class, section.last_meets, section.last_sampled_at = sample.cls, sample.meets, at
        _exceedance(session, section, sample)
    if audited:
        audit.record(
            session,
            actor=actor,
            action="eco.water.sample.save",
            target_type=TARGET,
            target_id=section.id,
            detail={
                "sample": sample.id,
                "source": source.value,
                "sampled_at": at.isoformat(),
                "cls": sample.cls,
                "meets": sample.meets,
                "report_no": report_no,
            },
        )
    session.flush()
    return sample


def enter_lab_result(session: Session, *, actor: Actor, section_id: int, data: SampleIn) -> WaterSample:
    section = get_section(session, section_id=section_id)
    return save_sample(
        session,
        actor=actor,
        section=section,
        sampled_at=data.sampled_at,
        values=dict(data.values),
        source=SampleSource.LAB,
        lab_name=data.lab_name,
        report_no=data.report_no,
    )


def samples(
    session: Session,
    *,
    section_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = MAX_SAMPLES,
) -> list[WaterSample]:
    """The section's samples in [start, end), newest first."""
    stmt = select(WaterSample).where(WaterSample.section_id == section_id)
    if start is not None:
        stmt = stmt.where(WaterSample.sampled_at >= aware(start))
    if end is not None:
        stmt = stmt.where(WaterSample.sampled_at < aware(end))
    stmt = stmt.order_by(WaterSample.sampled_at.desc(), WaterSample.id.desc()).limit(min(limit, MAX_SAMPLES))
    return list(session.scalars(stmt))


# --- exceedance ------------------------------------------------------------------------------------


def severity_of(cls: str, target: str) -> Severity:
    """劣V critical; two or more classes past the target major; one minor."""
    if cls == gb3838.WORST:
        return Severity.CRITICAL
    return Severity.MAJOR if gb3838.classes_worse(cls, target) >= 2 else Severity.MINOR


def _exceedance(session: Session, s: WaterSection, sample: WaterSample) -> None:
    if sample.meets is None:
        return
    if sample.meets:
        if s.thing_id is not None:
            exceed.clear_exceedance(
                session, thing_id=s.thing_id, at=sample.sampled_at, note="back within the target class"
            )
        return
    assert sample.cls is not None
    items = gb3838.items()
    past = "，".join(
        f"{items[e['code']].name} {gb3838.LABELS.get(e['cls'] or '', '')}"
        + (f" 超标{e['multiple']}倍" if e.get("multiple") is not None else "")
        for e in sample.exceeding
    )
    label, goal = gb3838.LABELS[sample.cls], gb3838.LABELS[s.target_class]
    day = local_day(sample.sampled_at).isoformat()
    outcome = exceed.raise_exceedance(
        session,
        source="water",
        key=f"water:{s.id}:{day}",
        title=f"{s.name}断面水质{label}，未达{goal}目标",
        description=f"{s.water_name}{s.name}（{s.code}）{day} 水质{label}，目标{goal}。超标项目：{past or '无'}",
        value=float(gb3838.rank(sample.cls)),
        severity=severity_of(sample.cls, s.target_class),
        thing_id=s.thing_id,
        lon=s.lon,
        lat=s.lat,
        at=sample.sampled_at,
        context={"section_id": s.id, "sample_id": sample.id, "cls": sample.cls, "target": s.target_class},
    )
    sample.alarm_id, sample.case_id = outcome.alarm_id, outcome.case_id


# --- what other parts and pages read ---------------------------------------------------------------


def colour(cls: str | None) -> str:
    return gb3838.COLOURS.get(cls or "", "#9e9e9e")


def map_features(session: Session) -> list[dict[str, Any]]:
    """Every active monitoring section as a GeoJSON Feature (Point) for the ecology maps: id, name, code,
    cls ("I"…"V", "劣V" or None when never sampled), cls_label, target, meets, colour, sampled_at, url."""
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {
                "id": s.id,
                "name": s.name,
                "code": s.code,
                "cls": s.last_class,
                "cls_label": gb3838.LABELS.get(s.last_class or ""),
                "target": s.target_class,
                "meets": s.last_meets,
                "colour": colour(s.last_class),
                "sampled_at": s.last_sampled_at.isoformat() if s.last_sampled_at else None,
                "url": f"/eco/water/sections/{s.id}",
            },
        }
        for s in list_sections(session)
    ]


def current(session: Session) -> list[dict[str, Any]]:
    """The latest class of each active section, for the public page (no personal data)."""
    return [
        {
            "name": s.name,
            "water_name": s.water_name,
            "lon": s.lon,
            "lat": s.lat,
            "cls": s.last_class,
            "cls_label": gb3838.LABELS.get(s.last_class or ""),
            "target": s.target_class,
            "target_label": gb3838.LABELS[s.target_class],
            "meets": s.last_meets,
            "colour": colour(s.last_class),
            "sampled_at": s.last_sampled_at.isoformat() if s.last_sampled_at else None,
        }
        for s in list_sections(session)
    ]


@dataclass(frozen=True)
class Compliance:
    """达标率 of a period: samples with a class, those meeting their target, the share in percent."""

    start: datetime
    end: datetime
    total: int
    met: int

    @property
    def rate(self) -> float | None:
        return round(100.0 * self.met / self.total, 1) if self.total else None


def compliance(session: Session, *, start: datetime, end: datetime) -> Compliance:
    base = (
        select(func.count())
        .select_from(WaterSample)
        .where(
            WaterSample.sampled_at >= aware(start), WaterSample.sampled_at < aware(end), WaterSample.meets.is_not(None)
        )
    )
    total = session.scalar(base) or 0
    met = session.scalar(base.where(WaterSample.meets.is_(True))) or 0
    return Compliance(aware(start), aware(end), total, met)


def period_samples(
    session: Session, *, start: datetime, end: datetime, meets: bool | None = None, limit: int = MAX_LIST
) -> list[tuple[WaterSample, WaterSection]]:
    """The records behind :func:`compliance`: samples with a class in [start, end), newest first."""
    stmt = (
        select(WaterSample, WaterSection)
        .join(WaterSection, WaterSection.id == WaterSample.section_id)
        .where(
            WaterSample.sampled_at >= aware(start), WaterSample.sampled_at < aware(end), WaterSample.meets.is_not(None)
        )
    )
    if meets is not None:
        stmt = stmt.where(WaterSample.meets.is_(meets))
    rows = session.execute(
        stmt.order_by(WaterSample.sampled_at.desc(), WaterSample.id.desc()).limit(min(limit, MAX_LIST))
    )
    return [(a, b) for a, b in rows]
