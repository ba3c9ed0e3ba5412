"""The indicators of the operations view, defined once, as data.

An indicator names a *source* (cases, alarms, devices, components) and a *measure* of that source:
its number is ``count(source, measure, scope)`` and the records behind it are
``records(source, measure, scope)`` — both built from the ONE condition list the source's service
defines for that measure (``cases.service.ioc_queries.where``, ``sensing.service.ioc_queries
.alarm_where`` / ``device_where``, ``geo.service.components.query``). A rate is two measures (a part
and its whole), each of them a list. Nothing is stored or pre-computed, so nothing can go stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.models import KIND_PREFIX, CategoryKind
from countyos.cases.service import ioc_queries as cases_q
from countyos.core.actor import Actor
from countyos.core.clock import county_day
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.data.service import ioc_queries as data_q
from countyos.eco.service import ioc_queries as eco_q
from countyos.geo.models import ComponentStatus
from countyos.geo.service import components as geo_components
from countyos.ioc.service import places, usage_active
from countyos.ioc.service.scope import Narrow, Scope, period_bounds, today
from countyos.programme.service import modules
from countyos.safety.service import ioc_queries as safety_q
from countyos.sensing.models import Severity
from countyos.sensing.service import ioc_queries as sensing_q
from countyos.services.service import ioc_queries as services_q
from countyos.village.service import ioc_queries as village_q

SOURCES = ("cases", "alarms", "devices", "components", "applications", "data", "eco", "village", "safety", "usage")
T = TypeVar("T")

MEASURES: dict[str, tuple[str, ...]] = {
    "cases": tuple(cases_q.MEASURES),
    "alarms": tuple(sensing_q.ALARM_MEASURES),
    "devices": tuple(sensing_q.DEVICE_MEASURES),
    "components": ("components", *(f"status_{s}" for s in ComponentStatus)),
    "applications": tuple(services_q.MEASURES),
    "data": data_q.MEASURES,
    "eco": eco_q.MEASURES,
    "village": village_q.MEASURES,
    "safety": safety_q.MEASURES,
    "usage": ("active_users",),
}

# What each measure's list is called (list page titles, feed, reports).
MEASURE_LABELS: dict[str, str] = {
    "cases.reported": N_("Cases reported"),
    "cases.to_close": N_("Cases to close (registered, not void)"),
    "cases.closed": N_("Closed cases"),
    "cases.not_closed": N_("Registered cases not yet closed"),
    "cases.closed_on_time": N_("Cases closed on time"),
    "cases.not_closed_on_time": N_("Cases not closed on time"),
    "cases.reworked": N_("Reworked cases"),
    "cases.rated": N_("Rated cases"),
    "cases.satisfied": N_("Satisfied ratings"),
    "cases.dissatisfied": N_("Dissatisfied ratings"),
    "cases.open": N_("Open cases"),
    "cases.overdue": N_("Overdue cases"),
    "cases.due_soon": N_("Cases due soon"),
    "cases.urgent": N_("Urgent open cases"),
    "alarms.active": N_("Active alarms"),
    "alarms.raised": N_("Alarms raised"),
    "alarms.active_critical": N_("Active critical alarms"),
    "alarms.active_major": N_("Active major alarms"),
    "alarms.active_minor": N_("Active minor alarms"),
    "alarms.active_warning": N_("Active warnings"),
    "devices.devices": N_("Devices"),
    "devices.online": N_("Devices online"),
    "devices.offline": N_("Devices offline"),
    "devices.unknown": N_("Devices not yet reporting"),
    "components.components": N_("Components"),
    "components.status_intact": N_("Intact components"),
    "components.status_damaged": N_("Damaged components"),
    "components.status_lost": N_("Lost components"),
    "components.status_abandoned": N_("Abandoned components"),
    "components.status_removed": N_("Removed components"),
    **{f"applications.{m}": label for m, label in services_q.LABELS.items()},
    **{f"data.{m}": label for m, label in data_q.LABELS.items()},
    **{f"eco.{m}": label for m, label in eco_q.LABELS.items()},
    **{f"village.{m}": label for m, label in village_q.LABELS.items()},
    **{f"safety.{m}": label for m, label in safety_q.LABELS.items()},
    "usage.active_users": N_("Active users"),
}


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str  # message id
    source: str
    measure: str  # the count, or the part of a rate
    whole: str | None = None  # a rate's whole (denominator) measure
    window: str = "period"  # "period", or a fixed "today" / "week" inside which the filters apply
    negative: bool = False  # smaller is better
    hint: str = ""  # message id: the definition, shown on the tile


INDICATORS: tuple[Indicator, ...] = (
    Indicator("cases_today", N_("Cases today"), "cases", "reported", window="today",
              hint=N_("Reported today, not merged into another case")),
    Indicator("cases_week", N_("Cases this week"), "cases", "reported", window="week",
              hint=N_("Reported since Monday, not merged into another case")),
    Indicator("cases_period", N_("Cases in the period"), "cases", "reported",
              hint=N_("Reported in the chosen period, not merged into another case")),
    Indicator("open", N_("Open"), "cases", "open",
              hint=N_("Open now, reported before the end of the period")),
    Indicator("overdue", N_("Overdue"), "cases", "overdue", negative=True,
              hint=N_("Open, clock running and past the current step's deadline")),
    Indicator("urgent", N_("Urgent open"), "cases", "urgent", negative=True,
              hint=N_("Open cases of priority urgent or critical")),
    Indicator("closure_rate", N_("Closure rate"), "cases", "closed", whole="to_close",
              hint=N_("Closed ÷ registered and not void, of the cases reported in the period")),
    Indicator("on_time_rate", N_("On-time closure rate"), "cases", "closed_on_time", whole="to_close",
              hint=N_("Closed on time ÷ registered and not void, of the cases reported in the period")),
    Indicator("satisfaction", N_("Satisfaction"), "cases", "satisfied", whole="rated",
              hint=N_("Very satisfied, satisfied or fairly satisfied ÷ rated")),
    Indicator("rework_rate", N_("Rework rate"), "cases", "reworked", whole="to_close", negative=True,
              hint=N_("Sent back by a failed check at least once ÷ registered and not void")),
    Indicator("alarms_active", N_("Active alarms"), "alarms", "active", negative=True,
              hint=N_("Raised before the end of the period and not cleared")),
    *(
        Indicator(f"alarms_{sev}", label, "alarms", f"active_{sev}", negative=True)
        for sev, label in (
            (Severity.CRITICAL, N_("Critical")),
            (Severity.MAJOR, N_("Major")),
            (Severity.MINOR, N_("Minor")),
            (Severity.WARNING, N_("Warning")),
        )
    ),
    Indicator("active_users", N_("Active users"), "usage", "active_users",
              hint=N_("Distinct people who used the platform in the period, signed in")),
    Indicator("devices_online", N_("Devices online"), "devices", "online", whole="devices",
              hint=N_("Devices reporting within their expected interval ÷ all devices")),
    # 一网通办 (services.service.ioc_queries)
    Indicator("applications_today", N_("Applications today"), "applications", "submitted", window="today",
              hint=N_("Government service applications submitted today")),
    Indicator("applications_open", N_("Applications in progress"), "applications", "open",
              hint=N_("Submitted and not yet concluded, rejected or withdrawn")),
    Indicator("applications_overdue", N_("Overdue applications"), "applications", "overdue", negative=True,
              hint=N_("Being processed and past the promised time")),
    Indicator("applications_immediate", N_("Concluded on the spot this month"), "applications", "immediate",
              whole="accepted", window="month",
              hint=N_("Applications of this month concluded at the moment of acceptance ÷ accepted")),
    Indicator("applications_on_time_rate", N_("Applications concluded on time"), "applications", "on_time",
              whole="concluded",
              hint=N_("Applications submitted in the period and concluded by the promised time ÷ concluded")),
    Indicator("services_good_rate", N_("Good ratings of services"), "applications", "rated_good", whole="rated",
              hint=N_("Applications submitted in the period whose every 好差评 rating is good ÷ rated")),
    # 数据共享与开放 (data.service.ioc_queries): stock, now
    Indicator("data_published", N_("Published data resources"), "data", "published",
              hint=N_("Resources in the county's data catalogue, published")),
    Indicator("data_stale", N_("Data past its update cycle"), "data", "stale", negative=True,
              hint=N_("Published resources whose last load is older than their update cycle allows")),
    Indicator("data_fresh_rate", N_("Data within its update cycle"), "data", "fresh", whole="published",
              hint=N_("Published resources loaded within their update cycle (or without one) ÷ published")),
    # 智慧生态 (eco.service.ioc_queries)
    Indicator("air_good_rate", N_("Good air days"), "eco", "air_good_days", whole="air_days",
              hint=N_("Station-days with a daily AQI of at most 100 ÷ station-days with a valid daily AQI (HJ 633)")),
    Indicator("water_meeting_rate", N_("Water sections meeting target"), "eco", "water_meeting",
              whole="water_sections",
              hint=N_("Sections whose latest sample meets their target class ÷ sections with a sample (GB 3838)")),
    Indicator("patrols", N_("River and forest patrols"), "eco", "patrols",
              hint=N_("Patrols of river and forest chiefs finished in the period, with a track")),
    Indicator("patrol_problems_open", N_("Patrol problems open"), "eco", "problems_open", negative=True,
              hint=N_("Problems found on patrols whose case is not closed")),
    # 数字乡村 (village.service.ioc_queries)
    Indicator("certificates", N_("Certificates issued"), "village", "certificates",
              hint=N_("Certificates of commitment issued in the period by the county's producers, not revoked")),
    Indicator("uncertified_batches", N_("Batches without a certificate"), "village", "uncertified", negative=True,
              hint=N_("Batches of the six classes that need a certificate, made in the period, with none current")),
    Indicator("orders_checked", N_("Farm orders accepted"), "village", "orders_checked",
              hint=N_("Orders of farm produce the buyer accepted on the arrival check in the period")),
    Indicator("spots_crowded", N_("Crowded scenic spots"), "village", "spots_crowded", negative=True,
              hint=N_("Scenic spots with three quarters of their instantaneous capacity or more in the park now")),
    # 应急、安全和交通 (safety.service.ioc_queries)
    Indicator("emergency_active", N_("Emergency responses"), "safety", "events_active", negative=True,
              hint=N_("Emergency events whose response is running now")),
    Indicator("emergency_tasks_overdue", N_("Emergency tasks overdue"), "safety", "tasks_overdue", negative=True,
              hint=N_("Departments' tasks of running responses past their deadline and not done")),
    Indicator("hazards_found", N_("Hidden dangers found"), "safety", "hazards_found",
              hint=N_("Hidden dangers recorded by inspections of key places in the period")),
    Indicator("hazards_overdue", N_("Hidden dangers overdue"), "safety", "hazards_overdue", negative=True,
              hint=N_("Hidden dangers not closed and past their rectification deadline")),
    Indicator("camera_cases", N_("Camera detections"), "safety", "camera_cases",
              hint=N_("Events detected by cameras' analysis boxes that became cases in the period")),
    Indicator("road_incidents", N_("Road incidents"), "safety", "incidents_live", negative=True,
              hint=N_("Accidents, congestion, works and closures published and in force now")),
    Indicator("parking_full", N_("Parking lots nearly full"), "safety", "parking_full", whole="parking_live",
              negative=True,
              hint=N_("Lots with nine tenths of their spaces or more taken now ÷ lots whose counter reports")),
)  # fmt: skip

BY_CODE = {i.code: i for i in INDICATORS}


def get(code: str) -> Indicator:
    try:
        return BY_CODE[code]
    except KeyError:
        raise ValidationFailed(N_("Unknown indicator %(code)s"), code=code) from None


def windowed(ind: Indicator, scope: Scope, now: datetime | None = None) -> Scope:
    """The scope an indicator counts in: its fixed window (today, this week) or the chosen period."""
    if ind.window == "period":
        return scope
    since, until = period_bounds(ind.window, today(now))
    return replace(scope, period=ind.window, since=since, until=until)


def check(source: str, measure: str) -> None:
    if source not in SOURCES or measure not in MEASURES[source]:
        raise ValidationFailed(N_("Unknown list %(source)s.%(measure)s"), source=source, measure=measure)


# --- slices of each source ------------------------------------------------------------------------


def _once(session: Session, key: tuple[Any, ...], make: Callable[[], T]) -> T:
    """``make()`` once per session (one request or job): the category tree, the things of a township
    or a category are read once, not again for each of the twenty indicators of a page."""
    memo: dict[tuple[Any, ...], Any] = session.info.setdefault("ioc.once", {})
    if key not in memo:
        memo[key] = make()
    return cast(T, memo[key])


def category_ids(session: Session, category_id: int) -> tuple[int, ...]:
    return _once(session, ("categories", category_id),
                 lambda: cases_q.category_with_descendants(session, category_id=category_id))  # fmt: skip


def category_codes(session: Session, category_id: int) -> tuple[str, ...]:
    """The Open311 service codes of a category and its descendants (what alarm rules name)."""
    ids = category_ids(session, category_id)
    return _once(session, ("codes", category_id), lambda: tuple(cases_q.service_codes(session, ids=set(ids))))


def case_slice(session: Session, scope: Scope, narrow: Narrow) -> cases_q.CaseSlice:
    start, end = narrow.window(scope.start, scope.end)
    cats = category_ids(session, scope.category_id) if scope.category_id is not None else None
    return cases_q.CaseSlice(start, end, scope.township_code, cats, narrow.department_id, narrow.grid_code)


def sensing_slice(session: Session, scope: Scope, narrow: Narrow, *, devices: bool = False) -> sensing_q.SensingSlice:
    """Alarms (or, with ``devices``, things) of the scope: the township's things by position; with a
    category, the alarms of rules that raise cases of it — and the things such a rule watches."""
    start, end = narrow.window(scope.start, scope.end)
    town = scope.township_code
    things = _once(session, ("town", town), lambda: places.things_in(session, town)) if town else None
    codes = None
    if scope.category_id is not None:
        codes = category_codes(session, scope.category_id)
        if devices:
            watched = _once(session, ("watched", codes), lambda: places.things_watched_for(session, codes))
            things = watched if things is None else tuple(t for t in things if t in set(watched))
    if narrow.thing_id is not None:
        things = tuple(t for t in (things if things is not None else (narrow.thing_id,)) if t == narrow.thing_id)
    return sensing_q.SensingSlice(start, end, things, codes)


def application_slice(session: Session, scope: Scope, narrow: Narrow) -> services_q.AppSlice | None:
    """Applications of the scope: submitted at the township's windows and its villages' agents; None
    when a case category is chosen (no application belongs to one)."""
    if scope.category_id is not None:
        return None
    start, end = narrow.window(scope.start, scope.end)
    town = scope.township_code
    places = (
        _once(session, ("app_places", town), lambda: services_q.places_of_division(session, town)) if town else None
    )
    if places == ():
        places = (0,)  # no township department is placed in that division: no application (ids start at 1)
    return services_q.AppSlice(start, end, narrow.department_id, places)


def eco_slice(scope: Scope, narrow: Narrow) -> eco_q.EcoSlice:
    """Ecology records of the scope: the period and the township (no case category applies)."""
    start, end = narrow.window(scope.start, scope.end)
    return eco_q.EcoSlice(start, end, scope.township_code)


def village_slice(scope: Scope, narrow: Narrow) -> village_q.VillageSlice:
    """Village records of the scope: the period and the township (no case category applies)."""
    start, end = narrow.window(scope.start, scope.end)
    return village_q.VillageSlice(start, end, scope.township_code)


def safety_slice(scope: Scope, narrow: Narrow, now: datetime) -> safety_q.SafetySlice:
    """Safety records of the scope: the period and the township (no case category applies)."""
    start, end = narrow.window(scope.start, scope.end)
    return safety_q.SafetySlice(start, end, scope.township_code, now)


def _usage_days(scope: Scope, narrow: Narrow) -> tuple[date, date]:
    """The local days of the period (use is counted per day)."""
    start, end = narrow.window(scope.start, scope.end)
    return county_day(start), county_day(end - timedelta(microseconds=1))


def component_filter(session: Session, scope: Scope, measure: str) -> geo_components.ComponentFilter | None:
    """Components of the scope's township; with a category, those of its component class (管理部件
    categories carry the class code: a major class ``01`` or a class ``01001``). None when the chosen
    category is not a component class: no component belongs to it."""
    status = ComponentStatus(measure.removeprefix("status_")) if measure.startswith("status_") else None
    f = geo_components.ComponentFilter(status=status, township_code=scope.township_code)
    if scope.category_id is None:
        return f
    prefix = KIND_PREFIX[CategoryKind.COMPONENT]
    cid = scope.category_id
    code = next(iter(_once(session, ("code", cid), lambda: cases_q.service_codes(session, ids={cid}))), "")
    if not code.startswith(prefix):
        return None
    cls = code.removeprefix(prefix)
    return replace(f, major_code=cls) if len(cls) == 2 else replace(f, class_code=cls)


# --- the number and the list, from the same conditions ---------------------------------------------


def count(
    session: Session,
    *,
    actor: Actor,
    source: str,
    measure: str,
    scope: Scope,
    narrow: Narrow = Narrow(),
    now: datetime,
) -> int:
    check(source, measure)
    if source == "cases":
        return cases_q.count(session, actor=actor, measure=measure, s=case_slice(session, scope, narrow), now=now)
    if source == "alarms":
        return sensing_q.alarm_count(session, measure=measure, s=sensing_slice(session, scope, narrow))
    if source == "devices":
        ds = sensing_slice(session, scope, narrow, devices=True)
        return sensing_q.device_count(session, measure=measure, s=ds)
    if source == "applications":
        aps = application_slice(session, scope, narrow)
        return services_q.count(session, measure=measure, s=aps, now=now) if aps is not None else 0
    if source == "data":
        return data_q.count(session, measure=measure, now=now)
    if source == "eco":
        if scope.category_id is not None:
            return 0  # no ecology record belongs to a case category
        return eco_q.count(session, measure=measure, s=eco_slice(scope, narrow))
    if source == "village":
        if scope.category_id is not None:
            return 0  # no village record belongs to a case category
        return village_q.count(session, measure=measure, s=village_slice(scope, narrow))
    if source == "safety":
        if scope.category_id is not None:
            return 0  # no safety record belongs to a case category
        return safety_q.count(session, measure=measure, s=safety_slice(scope, narrow, now))
    if source == "usage":  # the platform's own use: the whole county, whatever the township or category
        since, until = _usage_days(scope, narrow)
        return usage_active.count(session, since, until)
    f = component_filter(session, scope, measure)
    if f is None:
        return 0
    stmt = geo_components.query(f)
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def records(
    session: Session,
    *,
    actor: Actor,
    source: str,
    measure: str,
    scope: Scope,
    narrow: Narrow = Narrow(),
    now: datetime,
    limit: int,
    offset: int = 0,
) -> list[Any]:
    """The records a count counts, most urgent first (ORM rows of the source's own model)."""
    check(source, measure)
    if source == "cases":
        s = case_slice(session, scope, narrow)
        return cases_q.rows(session, actor=actor, measure=measure, s=s, now=now, limit=limit, offset=offset)
    if source == "alarms":
        ss = sensing_slice(session, scope, narrow)
        return sensing_q.alarm_rows(session, measure=measure, s=ss, limit=limit, offset=offset)
    if source == "devices":
        ds = sensing_slice(session, scope, narrow, devices=True)
        return sensing_q.device_rows(session, measure=measure, s=ds, limit=limit, offset=offset)
    if source == "applications":
        aps = application_slice(session, scope, narrow)
        if aps is None:
            return []
        return services_q.rows(session, measure=measure, s=aps, now=now, limit=limit, offset=offset)
    if source == "data":
        return data_q.rows(session, measure=measure, now=now, limit=limit, offset=offset)
    if source == "eco":
        if scope.category_id is not None:
            return []
        return eco_q.rows(session, measure=measure, s=eco_slice(scope, narrow), limit=limit, offset=offset)
    if source == "village":
        if scope.category_id is not None:
            return []
        vs = village_slice(scope, narrow)
        return village_q.rows(session, measure=measure, s=vs, limit=limit, offset=offset)
    if source == "safety":
        if scope.category_id is not None:
            return []
        ss_ = safety_slice(scope, narrow, now)
        return safety_q.rows(session, measure=measure, s=ss_, limit=limit, offset=offset)
    if source == "usage":
        since, until = _usage_days(scope, narrow)
        return list(usage_active.rows(session, since, until, limit=limit, offset=offset))
    f = component_filter(session, scope, measure)
    if f is None:
        return []
    return list(session.scalars(geo_components.query(f).limit(limit).offset(offset)))


def list_url(source: str, measure: str, scope: Scope, narrow: Narrow = Narrow(), base: str = "/ioc/list") -> str:
    return base + "?" + urlencode({"source": source, "measure": measure, **scope.params(), **narrow.params()})


@dataclass
class Value:
    indicator: Indicator
    count: int
    whole: int | None = None
    rate: float | None = None  # percent, 2 decimals; None when the whole is 0
    previous: float | None = None  # the same indicator in the previous period (reports)
    url: str = ""
    whole_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        return self.rate if self.indicator.whole else float(self.count)


def evaluate(
    session: Session, *, actor: Actor, ind: Indicator, scope: Scope, now: datetime, base: str = "/ioc/list"
) -> Value:
    sc = windowed(ind, scope, now)
    n = count(session, actor=actor, source=ind.source, measure=ind.measure, scope=sc, now=now)
    v = Value(ind, n, url=list_url(ind.source, ind.measure, sc, base=base))
    if ind.whole:
        w = count(session, actor=actor, source=ind.source, measure=ind.whole, scope=sc, now=now)
        v.whole = w
        v.rate = round(100.0 * n / w, 2) if w else None
        v.whole_url = list_url(ind.source, ind.whole, sc, base=base)
    return v


# The module (programme.service.modules) each source's records belong to: its tiles are gone while it is off.
SOURCE_MODULE: dict[str, str] = {
    "cases": "cases",
    "alarms": "sensing",
    "devices": "sensing",
    "components": "geo",
    "applications": "services",
    "data": "data",
    "eco": "eco",
    "village": "village",
    "safety": "safety",
    "usage": "ioc",
}


def shown(session: Session) -> tuple[Indicator, ...]:
    """The indicators of the modules that are on."""
    off = modules.disabled(session)
    return tuple(i for i in INDICATORS if SOURCE_MODULE.get(i.source, i.source) not in off)


def all_values(
    session: Session, *, actor: Actor, scope: Scope, now: datetime, codes: tuple[str, ...] | None = None
) -> list[Value]:
    return [
        evaluate(session, actor=actor, ind=ind, scope=scope, now=now)
        for ind in shown(session)
        if codes is None or ind.code in codes
    ]
