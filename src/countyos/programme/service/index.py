"""The 盆景 index: each module's and project's spend against its real use, month by month.

For a period of whole months (at most 24) and optionally one project:

- spend: the projects' ``programme_spend`` rows of the month; a project's spend (and its budget) is shared
  evenly among its modules (the remainder of the division in fen goes to its first module, so the modules'
  spend adds up to the projects'); a project without modules books it to ``platform``;
- active users per week: the distinct people who used the module in an ISO week (``ioc_usage_user_daily``),
  by role too; a week belongs to the month of its Thursday; a month's (or the period's) figure is the
  average over its weeks;
- actions, pages viewed, API calls: ``ioc_usage_daily`` counts of kinds action / view / api;
- records created: ``org_audit_event`` rows of the month whose action belongs to the module
  (``index_modules.module_of_action``; sign-ins, refusals and reads are not records);
- data produced: for sensing, the observations stored (the daily rollups' counts); for the others, the
  records created;
- data shared: for the data module, served sharing calls and open-data downloads; none for the others;
- the flag (``data/index_rules.json``): over the last months of the period, spend at or above the rule's
  amount with too few weekly active users or too few actions per active user per week. The flag keeps the
  numbers and which of them tripped it.

A project's use is the use of its modules (a module shared by two projects counts for both); its active users
are the distinct people across its modules.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, literal, literal_column, select
from sqlalchemy.orm import Session

from countyos.core.clock import county_today, county_zone
from countyos.core.errors import NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.data.models import CallResult, Download, ShareCall
from countyos.ioc.models import UsageDaily, UsageUserDaily
from countyos.ioc.service import usage_active
from countyos.org.models import AuditEvent
from countyos.programme.models.projects import Project, Spend
from countyos.programme.service import index_modules
from countyos.programme.service.index_modules import PLATFORM
from countyos.programme.service.modules import SPECS
from countyos.sensing.models import RollupDay

MAX_MONTHS = 24
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the months and weeks one may ask for
RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "index_rules.json"
EPOCH_MONDAY = date(2000, 1, 3)
MODULE_CODES: tuple[str, ...] = (*(s.code for s in SPECS), PLATFORM)
MODULE_LABELS: dict[str, str] = {**{s.code: s.label for s in SPECS}, PLATFORM: N_("Platform (shared pages)")}


@dataclass(frozen=True)
class Rules:
    window_months: int
    min_spend_fen: int
    min_weekly_active_users: float
    min_actions_per_user_week: float


@cache
def rules() -> Rules:
    raw = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return Rules(
        int(raw["window_months"]),
        int(raw["min_spend_fen"]),
        float(raw["min_weekly_active_users"]),
        float(raw["min_actions_per_user_week"]),
    )


# --- months and weeks ---------------------------------------------------------------------------------


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def parse_month(value: str, field_name: str) -> date:
    try:
        y, m = value.split("-")
        first = date(int(y), int(m), 1)
    except ValueError:
        raise ValidationFailed.on_field(field_name, N_("Give a month as YYYY-MM")) from None
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise ValidationFailed.on_field(field_name, N_("Give a month as YYYY-MM"))
    return first


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    out, d = [], first.replace(day=1)
    while d <= last:
        out.append(d)
        d = next_month(d)
    return out


def period(since: str | None, until: str | None, *, today: date | None = None) -> list[date]:
    """The first days of the months of the period (default: the 12 whole months before this one)."""
    today = today or county_today()
    last = parse_month(until, "until") if until else (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if since:
        first = parse_month(since, "since")
    else:
        first = last
        for _ in range(11):
            first = (first - timedelta(days=1)).replace(day=1)
    if first > last:
        raise ValidationFailed.on_field("since", N_("The first month comes after the last"))
    months = months_between(first, last)
    if len(months) > MAX_MONTHS:
        raise ValidationFailed.on_field("since", N_("At most %(n)s months at a time"), n=MAX_MONTHS)
    return months


def weeks_of(months: Sequence[date]) -> dict[date, str]:
    """The ISO weeks (their Mondays) whose Thursday falls in one of the months → that month's key."""
    if not months:
        return {}
    first, end = months[0], next_month(months[-1])
    monday = first - timedelta(days=first.weekday())
    out: dict[date, str] = {}
    while monday < end:
        thursday = monday + timedelta(days=3)
        if first <= thursday < end:
            out[monday] = month_key(thursday)
        monday += timedelta(days=7)
    return out


def week_index(monday: date) -> int:
    return (monday - EPOCH_MONDAY).days // 7


def _week_expr(session: Session) -> ColumnElement[Any]:
    col = "ioc_usage_user_daily.day"
    if session.get_bind().dialect.name == "postgresql":
        return literal_column(f"(({col} - DATE '2000-01-03') / 7)")
    return literal_column(f"(CAST(julianday({col}) - julianday('2000-01-03') AS INTEGER) / 7)")


def _month_expr(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(UsageDaily.day, "YYYY-MM")
    return func.strftime("%Y-%m", UsageDaily.day)


def _local_bounds(first: date, end: date) -> tuple[datetime, datetime]:
    zone = county_zone()
    return (
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(end, time(), zone).astimezone(UTC),
    )


# --- figures -------------------------------------------------------------------------------------------


@dataclass
class Figures:
    spend_fen: int = 0
    budget_fen: int = 0
    active_weekly: float = 0.0  # average distinct people a week
    active_by_role: dict[str, float] = field(default_factory=dict)
    actions: int = 0
    views: int = 0
    api_calls: int = 0
    records: int = 0
    data_produced: int = 0
    data_shared: int = 0


@dataclass(frozen=True)
class Tripped:
    measure: str  # "weekly_active_users" | "actions_per_user_week"
    label: str  # message id
    value: float
    limit: float


@dataclass(frozen=True)
class Flag:
    window: list[str]  # months of the rule's window
    spend_fen: int
    weekly_active_users: float
    actions_per_user_week: float
    tripped: list[Tripped]


@dataclass
class Row:
    key: str  # module code, or the project's id
    label: str  # message id of a module; a project's name
    total: Figures
    months: list[Figures]
    flag: Flag | None = None
    project_id: int | None = None
    modules: list[str] = field(default_factory=list)  # a project's modules


@dataclass
class IndexReport:
    months: list[str]
    since: date  # first day
    until: date  # last day (inclusive)
    weeks: int
    project_id: int | None
    modules: list[Row]
    projects: list[Row]
    rules: Rules


def _shares(total: int, n: int) -> list[int]:
    base, rest = divmod(total, n)
    return [base + (rest if i == 0 else 0) for i in range(n)]


def _project_modules(p: Project) -> list[str]:
    mods = [m for m in (p.modules or []) if m in MODULE_CODES]
    return mods or [PLATFORM]


class _Active:
    """Distinct people per week for a set of modules (and by role)."""

    def __init__(self, session: Session, mapping: Mapping[str, str], weeks: dict[date, str]) -> None:
        self.session = session
        self.mapping = mapping
        self.weeks = weeks
        self.by_index = {week_index(m): m for m in weeks}
        mondays = sorted(weeks)
        self.first = mondays[0] if mondays else date.today()
        self.last = mondays[-1] + timedelta(days=6) if mondays else date.today()

    def _domain(self) -> ColumnElement[Any]:
        if not self.mapping:
            return literal(PLATFORM)
        return case(dict(self.mapping), value=UsageUserDaily.module, else_=literal(PLATFORM))

    def per_module(self, by_role: bool) -> dict[tuple[str, str, date], int]:
        """(module, role or "", week's Monday) → distinct people."""
        if not self.weeks:
            return {}
        week = _week_expr(self.session)
        dom = self._domain()
        cols: list[Any] = [dom, week]
        if by_role:
            cols.append(UsageUserDaily.role)
        stmt = (
            select(*cols, func.count(distinct(UsageUserDaily.user_id)))
            .where(UsageUserDaily.day >= self.first, UsageUserDaily.day <= self.last)
            .group_by(*cols)
        )
        out: dict[tuple[str, str, date], int] = {}
        for row in self.session.execute(stmt):
            monday = self.by_index.get(int(row[1]))
            if monday is not None:
                out[(row[0], row[2] if by_role else "", monday)] = int(row[-1])
        return out

    def of_segments(self, segs: Sequence[str]) -> dict[date, int]:
        """Week's Monday → distinct people across these path segments."""
        if not self.weeks or not segs:
            return {}
        week = _week_expr(self.session)
        stmt = (
            select(week, func.count(distinct(UsageUserDaily.user_id)))
            .where(UsageUserDaily.day >= self.first, UsageUserDaily.day <= self.last)
            .where(UsageUserDaily.module.in_(list(segs)))
            .group_by(week)
        )
        out: dict[date, int] = {}
        for w, n in self.session.execute(stmt):
            monday = self.by_index.get(int(w))
            if monday is not None:
                out[monday] = int(n)
        return out


def _average(per_week: Mapping[date, int], weeks: Sequence[date]) -> float:
    return round(sum(per_week.get(w, 0) for w in weeks) / len(weeks), 2) if weeks else 0.0


def _counts(session: Session, mapping: Mapping[str, str], months: Sequence[date]) -> dict[tuple[str, str, str], int]:
    """(module, month key, kind) → requests counted."""
    mon = _month_expr(session)
    stmt = (
        select(UsageDaily.module, mon, UsageDaily.kind, func.sum(UsageDaily.count))
        .where(UsageDaily.day >= months[0], UsageDaily.day < next_month(months[-1]))
        .group_by(UsageDaily.module, mon, UsageDaily.kind)
    )
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    for seg, mk, kind, n in session.execute(stmt):
        out[(index_modules.module_of_segment(mapping, seg), str(mk), kind)] += int(n or 0)
    return out


def record_counts(session: Session, months: Sequence[date]) -> dict[str, dict[str, int]]:
    """Month key → audit action code → rows (only actions that create records)."""
    out: dict[str, dict[str, int]] = {}
    for m in months:
        lo, hi = _local_bounds(m, next_month(m))
        stmt = (
            select(AuditEvent.action, func.count())
            .where(AuditEvent.at >= lo, AuditEvent.at < hi)
            .group_by(AuditEvent.action)
        )
        out[month_key(m)] = {a: int(n) for a, n in session.execute(stmt) if index_modules.creates_record(a)}
    return out


def _observations(session: Session, months: Sequence[date]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in months:
        lo, hi = _local_bounds(m, next_month(m))
        lo_us, hi_us = int(lo.timestamp() * 1_000_000), int(hi.timestamp() * 1_000_000)
        n = session.scalar(
            select(func.sum(RollupDay.n)).where(RollupDay.bucket_us >= lo_us, RollupDay.bucket_us < hi_us)
        )
        out[month_key(m)] = int(n or 0)
    return out


def _shared(session: Session, months: Sequence[date]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in months:
        lo, hi = _local_bounds(m, next_month(m))
        calls = session.scalar(
            select(func.count()).where(ShareCall.at >= lo, ShareCall.at < hi, ShareCall.result == CallResult.SERVED)
        )
        downloads = session.scalar(select(func.count()).where(Download.at >= lo, Download.at < hi))
        out[month_key(m)] = int(calls or 0) + int(downloads or 0)
    return out


def flag_of(months: Sequence[str], monthly: Sequence[Figures], per_week: Mapping[date, int],
            weeks: Mapping[date, str], r: Rules | None = None) -> Flag | None:  # fmt: skip
    """The rule over the last months of the period: None when spend is below the rule's amount or use is
    enough."""
    r = r or rules()
    window = list(months[-r.window_months :])
    figures = [f for mk, f in zip(months, monthly, strict=True) if mk in window]
    spend = sum(f.spend_fen for f in figures)
    if spend < r.min_spend_fen:
        return None
    wk = [w for w, mk in weeks.items() if mk in window]
    active = _average(per_week, wk)
    actions = sum(f.actions for f in figures)
    per_user = round(actions / (len(wk) * active), 2) if wk and active > 0 else 0.0
    tripped = []
    if active < r.min_weekly_active_users:
        tripped.append(Tripped("weekly_active_users", N_("Active users a week"), active, r.min_weekly_active_users))
    if per_user < r.min_actions_per_user_week:
        tripped.append(
            Tripped(
                "actions_per_user_week", N_("Actions per active user a week"), per_user, r.min_actions_per_user_week
            )
        )
    if not tripped:
        return None
    return Flag(window, spend, active, per_user, tripped)


def report(
    session: Session,
    *,
    segments: Mapping[str, str],
    since: str | None = None,
    until: str | None = None,
    project_id: int | None = None,
    today: date | None = None,
) -> IndexReport:
    """The index for the months ``since``..``until`` (YYYY-MM), all projects or one."""
    months = period(since, until, today=today)
    keys = [month_key(m) for m in months]
    weeks = weeks_of(months)
    stmt = select(Project).order_by(Project.code)
    if project_id is not None:
        if session.get(Project, project_id) is None:
            raise NotFound(N_("No project %(id)s"), id=project_id)
        stmt = stmt.where(Project.id == project_id)
    projects = list(session.scalars(stmt))
    pids = [p.id for p in projects]
    shown = list(MODULE_CODES)
    if project_id is not None:
        shown = [m for m in MODULE_CODES if m in set(_project_modules(projects[0]))]

    # spend per project and month
    spend: dict[tuple[int, str], int] = defaultdict(int)
    if pids:
        for pid, on, amount in session.execute(
            select(Spend.project_id, Spend.spent_on, Spend.amount_fen).where(
                Spend.project_id.in_(pids), Spend.spent_on >= months[0], Spend.spent_on < next_month(months[-1])
            )
        ):
            spend[(pid, month_key(on))] += int(amount)

    counts = _counts(session, segments, months)
    recs = record_counts(session, months)
    rec_by_module: dict[tuple[str, str], int] = defaultdict(int)
    for mk, actions in recs.items():
        for a, n in actions.items():
            rec_by_module[(index_modules.module_of_action(a), mk)] += n
    obs = _observations(session, months) if "sensing" in shown else {}
    shared = _shared(session, months) if "data" in shown else {}

    active = _Active(session, segments, weeks)
    per_module = active.per_module(by_role=False)
    per_role = active.per_module(by_role=True)
    week_list = sorted(weeks)

    def module_figures(code: str) -> tuple[Figures, list[Figures], dict[date, int]]:
        per_week = {w: n for (m, _r, w), n in per_module.items() if m == code}
        monthly = []
        for mk in keys:
            f = Figures(
                actions=counts.get((code, mk, "action"), 0),
                views=counts.get((code, mk, "view"), 0),
                api_calls=counts.get((code, mk, "api"), 0),
                records=rec_by_module.get((code, mk), 0),
            )
            wk = [w for w in week_list if weeks[w] == mk]
            f.active_weekly = _average(per_week, wk)
            roles_here = {r for (m, r, w), _n in per_role.items() if m == code and w in wk}
            f.active_by_role = {
                r: _average({w: n for (m, rr, w), n in per_role.items() if m == code and rr == r}, wk)
                for r in sorted(roles_here)
            }
            f.data_produced = obs.get(mk, 0) if code == "sensing" else f.records
            f.data_shared = shared.get(mk, 0) if code == "data" else 0
            monthly.append(f)
        return _sum(monthly, per_week, week_list, per_role, code), monthly, per_week

    module_rows: dict[str, Row] = {}
    weekly: dict[str, dict[date, int]] = {}
    for code in shown:
        total, monthly, per_week = module_figures(code)
        module_rows[code] = Row(code, MODULE_LABELS[code], total, monthly)
        weekly[code] = per_week

    project_rows = []
    for p in projects:
        mods = _project_modules(p)
        months_p = [Figures() for _ in keys]
        for i, mk in enumerate(keys):
            amount = spend.get((p.id, mk), 0)
            months_p[i].spend_fen = amount
            for code, share in zip(mods, _shares(amount, len(mods)), strict=True):
                if code in module_rows:
                    module_rows[code].months[i].spend_fen += share
            for code in mods:
                if code in module_rows:
                    src = module_rows[code].months[i]
                    t = months_p[i]
                    t.actions += src.actions
                    t.views += src.views
                    t.api_calls += src.api_calls
                    t.records += src.records
                    t.data_produced += src.data_produced
                    t.data_shared += src.data_shared
        for code, share in zip(mods, _shares(p.budget_fen or 0, len(mods)), strict=True):
            if code in module_rows:
                module_rows[code].total.budget_fen += share
        segs = [s for code in mods for s in index_modules.segments_of(segments, code)]
        per_week = active.of_segments(segs)
        for i, mk in enumerate(keys):
            months_p[i].active_weekly = _average(per_week, [w for w in week_list if weeks[w] == mk])
        total = _sum(months_p, per_week, week_list, {}, "")
        total.budget_fen = p.budget_fen or 0
        row = Row(str(p.id), p.name, total, months_p, project_id=p.id, modules=mods)
        row.flag = flag_of(keys, months_p, per_week, weeks)
        project_rows.append(row)

    for code, row in module_rows.items():
        row.total.spend_fen = sum(f.spend_fen for f in row.months)
        row.flag = flag_of(keys, row.months, weekly[code], weeks)

    return IndexReport(
        months=keys,
        since=months[0],
        until=next_month(months[-1]) - timedelta(days=1),
        weeks=len(week_list),
        project_id=project_id,
        modules=list(module_rows.values()),
        projects=project_rows,
        rules=rules(),
    )


def _sum(
    monthly: Sequence[Figures],
    per_week: Mapping[date, int],
    weeks: Sequence[date],
    per_role: Mapping[tuple[str, str, date], int],
    code: str,
) -> Figures:
    t = Figures(
        spend_fen=sum(f.spend_fen for f in monthly),
        actions=sum(f.actions for f in monthly),
        views=sum(f.views for f in monthly),
        api_calls=sum(f.api_calls for f in monthly),
        records=sum(f.records for f in monthly),
        data_produced=sum(f.data_produced for f in monthly),
        data_shared=sum(f.data_shared for f in monthly),
    )
    t.active_weekly = _average(per_week, weeks)
    roles_here = sorted({r for (m, r, _w) in per_role if m == code})
    t.active_by_role = {
        r: _average({w: n for (m, rr, w), n in per_role.items() if m == code and rr == r}, weeks) for r in roles_here
    }
    return t


# --- one module's breakdown ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    module: str
    months: list[str]
    rows: list[tuple[str, str, int, int, int]]  # month, role, views, api calls, actions
    records: list[tuple[str, str, int]]  # month, audit action code, rows


def breakdown(
    session: Session,
    *,
    segments: Mapping[str, str],
    module: str,
    since: str | None = None,
    until: str | None = None,
    today: date | None = None,
) -> Breakdown:
    """One module's use per month × role × kind, and its records per month × action."""
    if module not in MODULE_CODES:
        raise NotFound(N_("No module %(code)s"), code=module)
    months = period(since, until, today=today)
    segs = index_modules.segments_of(segments, module)
    mon = _month_expr(session)
    slots: dict[tuple[str, str], list[int]] = {}
    cond: list[ColumnElement[bool]] = [UsageDaily.day >= months[0], UsageDaily.day < next_month(months[-1])]
    if module == PLATFORM:
        cond.append(UsageDaily.module.not_in([seg for seg, dom in segments.items() if dom != PLATFORM]))
    else:
        cond.append(UsageDaily.module.in_(segs))
    stmt = (
        select(mon, UsageDaily.role, UsageDaily.kind, func.sum(UsageDaily.count))
        .where(*cond)
        .group_by(mon, UsageDaily.role, UsageDaily.kind)
    )
    for mk, role, kind, n in session.execute(stmt):
        slot = slots.setdefault((str(mk), role), [0, 0, 0])
        slot[{"view": 0, "api": 1, "action": 2}.get(kind, 1)] += int(n or 0)
    rows = [(mk, r, v[0], v[1], v[2]) for (mk, r), v in sorted(slots.items())]
    recs = record_counts(session, months)
    records = [
        (mk, a, n)
        for mk, actions in recs.items()
        for a, n in sorted(actions.items())
        if index_modules.module_of_action(a) == module
    ]
    return Breakdown(module, [month_key(m) for m in months], rows, records)


def week_bounds(week: str) -> tuple[date, date]:
    """A week given as its Monday (YYYY-MM-DD) or ISO (YYYY-Www) → Monday..Sunday."""
    try:
        if "W" in week:
            y, w = week.split("-W")
            monday = date.fromisocalendar(int(y), int(w), 1)
        else:
            d = date.fromisoformat(week)
            monday = d - timedelta(days=d.weekday())
    except ValueError:
        raise ValidationFailed.on_field("week", N_("Give a week as YYYY-Www or its Monday as YYYY-MM-DD")) from None
    if not FIRST_YEAR <= monday.year <= LAST_YEAR:
        raise ValidationFailed.on_field("week", N_("Give a week as YYYY-Www or its Monday as YYYY-MM-DD"))
    return monday, monday + timedelta(days=6)


# --- who was active ------------------------------------------------------------------------------------


def users_period(*, week: str | None, month: str | None, today: date | None = None) -> tuple[date, date]:
    """The days of the active users list: a week, else a month, else the last 28 days."""
    if week:
        return week_bounds(week)
    if month:
        first = parse_month(month, "month")
        return first, next_month(first) - timedelta(days=1)
    today = today or county_today()
    return today - timedelta(days=27), today


def active_users(
    session: Session,
    *,
    segments: Mapping[str, str],
    module: str,
    since: date,
    until: date,
    role: str | None = None,
    limit: int = 500,
) -> tuple[int, list[usage_active.ActiveUser]]:
    """The distinct people who used a module between two days (inclusive), and who they are."""
    if module not in MODULE_CODES:
        raise NotFound(N_("No module %(code)s"), code=module)
    segs = index_modules.segments_of(segments, module)
    n = usage_active.count(session, since, until, segs, role)
    return n, usage_active.rows(session, since, until, segs, role, limit=limit)
