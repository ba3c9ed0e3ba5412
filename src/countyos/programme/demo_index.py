"""The index part of the demonstration county: a year of use of the platform by the demo's people, so that the
盆景 index has trends — who worked in which module each day (``ioc_usage_user_daily``) and the page views, API
calls and actions that makes (``ioc_usage_daily``), with weekday patterns by role: office staff on working
days, the duty room, grid staff and producers on weekends too, the leader a few times a week.

The ecology module is used by two people only (the monitoring officer now and then and the GEP accountant at
month ends): with the 生态与GEP project's spend, the index flags it as a 盆景 risk. Every other module with
spend has enough people and actions.

Written in bulk (a few thousand rows a table); the rows are the same on every run of the same day (seeded).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.clock import county_today
from countyos.core.usage import ActiveKey, UsageKey
from countyos.ioc.service import usage
from countyos.org.models import User

DAYS = 365

# username → (weekday chance, weekend chance, [(path segment, share of the days, views, actions, api calls)])
# The counts are per day active in that segment (varied by ±50％).
PROFILES: dict[str, tuple[float, float, list[tuple[str, float, int, int, int]]]] = {
    "intake": (0.9, 0.2, [("cases", 1.0, 30, 12, 0), ("home", 1.0, 3, 0, 0)]),
    "shift": (0.85, 0.5, [("cases", 1.0, 25, 6, 0), ("ioc", 0.9, 12, 3, 0), ("sensing", 0.5, 6, 4, 0)]),
    "dispatch": (0.9, 0.4, [("cases", 1.0, 40, 15, 0), ("ioc", 0.7, 8, 2, 0), ("sensing", 0.4, 5, 4, 0)]),
    "zjj": (0.85, 0.1, [("cases", 1.0, 15, 6, 0)]),
    "slj": (0.85, 0.1, [("cases", 1.0, 12, 5, 0), ("sensing", 0.5, 8, 4, 0)]),
    "zfj": (0.85, 0.1, [("cases", 1.0, 14, 6, 0)]),
    "zrzy": (0.6, 0.05, [("cases", 1.0, 8, 3, 0), ("safety", 0.5, 6, 2, 0)]),
    "yj_dz": (0.7, 0.2, [("cases", 1.0, 8, 3, 0), ("safety", 0.6, 6, 2, 0)]),
    "grid": (0.9, 0.5, [("m", 1.0, 20, 8, 0), ("cases", 0.3, 5, 1, 0)]),
    "leader": (0.6, 0.1, [("ioc", 1.0, 15, 2, 0), ("programme", 0.3, 6, 0, 0), ("home", 1.0, 2, 0, 0)]),
    "data": (0.8, 0.0, [("data", 1.0, 18, 5, 10)]),
    "dsj": (0.85, 0.0, [("data", 1.0, 22, 6, 4), ("programme", 0.1, 4, 0, 0), ("ioc", 0.3, 5, 1, 0)]),
    "scjg_data": (0.6, 0.0, [("data", 1.0, 10, 3, 0)]),
    "sysadmin": (0.7, 0.05, [("admin", 1.0, 12, 3, 0), ("programme", 0.1, 3, 0, 0)]),
    "secadmin": (0.5, 0.0, [("admin", 1.0, 8, 1, 0)]),
    "auditor": (0.4, 0.0, [("audit", 1.0, 10, 1, 0)]),
    "zwfw": (0.9, 0.0, [("services", 1.0, 25, 8, 0), ("portal", 0.4, 8, 3, 0), ("ioc", 0.3, 5, 1, 0)]),
    "window": (0.95, 0.05, [("services", 1.0, 45, 20, 0), ("portal", 0.3, 6, 2, 0)]),
    "window_mg": (0.95, 0.05, [("services", 1.0, 35, 15, 0), ("portal", 0.3, 6, 2, 0)]),
    "window_yf": (0.95, 0.05, [("services", 1.0, 30, 14, 0)]),
    "window_bj": (0.9, 0.05, [("services", 1.0, 20, 9, 0)]),
    "window_dz": (0.9, 0.05, [("services", 1.0, 22, 10, 0)]),
    "agent": (0.8, 0.1, [("services", 1.0, 15, 6, 0), ("portal", 0.3, 5, 2, 0)]),
    "agent_bj": (0.7, 0.1, [("services", 1.0, 12, 5, 0)]),
    "agent_yf": (0.7, 0.1, [("services", 1.0, 12, 5, 0)]),
    "agent_mg": (0.7, 0.1, [("services", 1.0, 12, 5, 0)]),
    "scjg": (0.9, 0.0, [("services", 1.0, 20, 10, 0)]),
    "zxsp": (0.9, 0.0, [("services", 1.0, 22, 11, 0)]),
    "zwzx": (0.9, 0.0, [("services", 1.0, 20, 9, 0)]),
    "notice_county": (0.7, 0.05, [("portal", 1.0, 10, 4, 0)]),
    "notice_dz": (0.6, 0.05, [("portal", 1.0, 8, 3, 0)]),
    "notice_dt": (0.5, 0.1, [("portal", 1.0, 6, 3, 0)]),
    "venue_dz": (0.7, 0.3, [("portal", 1.0, 10, 5, 0)]),
    "sthj": (0.25, 0.0, [("eco", 1.0, 4, 1, 0)]),  # the ecology module: hardly used
    "hzb": (0.8, 0.0, [("sensing", 1.0, 10, 4, 0)]),
    "yjj": (0.9, 0.4, [("safety", 1.0, 25, 8, 0), ("sensing", 0.6, 8, 4, 0), ("ioc", 0.5, 6, 2, 0)]),
    "aqjc": (0.85, 0.1, [("safety", 1.0, 18, 7, 0), ("sensing", 0.3, 4, 4, 0)]),
    "jtj": (0.85, 0.2, [("safety", 1.0, 15, 5, 0), ("sensing", 0.7, 8, 4, 0)]),
    "nync": (0.85, 0.05, [("village", 1.0, 20, 7, 0)]),
    "farmer": (0.6, 0.6, [("village", 1.0, 8, 4, 0)]),
    "coop": (0.7, 0.5, [("village", 1.0, 10, 5, 0)]),
    "buyer": (0.6, 0.1, [("village", 1.0, 8, 4, 0)]),
    "wlj": (0.8, 0.2, [("village", 1.0, 12, 4, 0)]),
    "scenic": (0.8, 0.8, [("village", 1.0, 10, 5, 0)]),
    "minsu": (0.5, 0.7, [("village", 1.0, 6, 4, 0)]),
    "xmb": (0.9, 0.0, [("programme", 1.0, 20, 6, 0), ("ioc", 0.3, 5, 1, 0)]),
    "czj": (0.5, 0.0, [("programme", 1.0, 10, 3, 0)]),
    "yygs": (0.9, 0.1, [("programme", 0.6, 10, 2, 0), ("ioc", 0.8, 10, 2, 0), ("cases", 0.5, 10, 4, 0)]),
    "kfz": (0.4, 0.2, [("programme", 1.0, 8, 3, 20)]),
}
GEP_USER = "gep"  # the GEP accountant: the last two working days of a month, in the ecology module


def _vary(rng: random.Random, n: int) -> int:
    return max(0, round(n * (0.5 + rng.random()))) if n else 0


def _month_end(d: date) -> bool:
    """One of the last two working days of its month."""
    later = d
    for _ in range(2):
        later += timedelta(days=1)
        while later.weekday() >= 5:
            later += timedelta(days=1)
    return later.month != d.month


def load(session: Session, ctx: Any) -> None:
    ids: dict[str, int] = dict(getattr(ctx, "user_ids", {}) or {})
    wanted = [u for u in [*PROFILES, GEP_USER] if u in ids]
    if not wanted:
        return
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_([ids[n] for n in wanted])))}
    rng = random.Random(20261205)
    today = county_today()
    counts: dict[UsageKey, int] = {}
    seen: set[ActiveKey] = set()

    def use(day: date, uid: int, roles: list[str], seg: str, views: int, actions: int, api: int) -> None:
        for role in roles:
            seen.add((day, seg, uid, role))
            for kind, n in (("view", views), ("action", actions), ("api", api)):
                n = _vary(rng, n)
                if n:
                    counts[(day, seg, role, kind)] = counts.get((day, seg, role, kind), 0) + n

    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        weekend = day.weekday() >= 5
        for name in wanted:
            user = people.get(ids[name])
            if user is None:
                continue
            roles = sorted(user.role_codes) or ["-"]
            if name == GEP_USER:
                if _month_end(day) and not weekend:
                    use(day, user.id, roles, "eco", 12, 4, 0)
                continue
            weekday_p, weekend_p, segments = PROFILES[name]
            if rng.random() >= (weekend_p if weekend else weekday_p):
                continue
            for seg, share, views, actions, api in segments:
                if share >= 1.0 or rng.random() < share:
                    use(day, user.id, roles, seg, views, actions, api)
    items = list(counts.items())
    for start in range(0, len(items), 4000):
        usage.store(session, counts=dict(items[start : start + 4000]))
    usage.store_active(session, seen=seen)
    session.flush()
    if hasattr(ctx, "notes"):
        ctx.notes.append(
            "盆景 index: a year of platform use; the ecology module has spend and little use and is flagged "
            "— /programme/index"
        )
