"""The demo county's tourism part of the village domain (遂昌): three scenic spots counted by the sensing
demo's gate counters, fifteen 民宿/农家乐 with sixty days of occupancy reports, events, 非遗 items and
their inheritors (the inheritors' names are made up), 传统村落, and the 2026 国庆 week's daily totals
computed from the same signal the counters follow (``sensing.signals.values``) so its holiday report is
full. Capacities are set from the counters' own busiest hours: 神龙谷 reaches about 85 % of its capacity
at a weekend peak, the other two stay comfortable.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_zone, utcnow
from countyos.sensing import signals
from countyos.sensing.service import streams
from countyos.sensing.service.times import from_us, to_us
from countyos.village.models.tourism import (
    ALevel,
    EventKind,
    HeritageLevel,
    HomestayReport,
    Spot,
    SpotDaily,
    StayKind,
)
from countyos.village.schemas.tourism import (
    CounterIn,
    EventIn,
    HeritageItemIn,
    HomestayIn,
    InheritorIn,
    SpotIn,
    TraditionalVillageIn,
)
from countyos.village.service import tourism, tourism_crowding, tourism_culture, tourism_flow, tourism_stays

ACTOR = Actor(id=None, name="demo")
STEP_S = 600
HISTORY_DAYS = 21  # as the sensing demo's observations
REPORT_DAYS = 60
NATIONAL_DAY = (date(2026, 10, 1), date(2026, 10, 7))

# name, grade, lon, lat, gate, ticket price (元), share of the busiest peak its capacity is set for, description
SPOTS = [
    ("神龙谷", ALevel.A4, 119.108, 28.671, 1, 80.0, 0.85,
     "国家AAAA级旅游景区，峡谷瀑布群与千米悬崖玻璃桥，夏季漂流。"),
    ("南尖岩", ALevel.A4, 118.985, 28.472, 2, 70.0, 0.55,
     "国家AAAA级旅游景区，云海梯田与竹海，摄影胜地。"),
    ("汤显祖纪念馆", ALevel.A3, 119.276, 28.593, 3, 0.0, 0.45,
     "纪念明代戏剧家汤显祖任遂昌知县，展陈《牡丹亭》与遂昌昆曲。"),
]  # fmt: skip
VILLAGES = ["大田村", "独山村", "长濂村", "茶园村", "高坪村", "箍桶丘村", "黄泥岭村", "湖山村"]
STAY_NAMES = [
    "云上茶舍", "竹海人家", "溪畔小筑", "梯田山居", "古村客栈", "柿子树下", "山月民宿", "汤公故里",
    "金矿人家", "竹炭小院", "清溪农家乐", "高坪农家乐", "红军路农家乐", "湖山渔家", "老屋里民宿",
]  # fmt: skip
HERITAGE = [
    ("遂昌昆曲十番", HeritageLevel.NATIONAL, "music", 2008, "以笛、笙、琵琶等丝竹乐器演奏昆曲曲牌的民间器乐合奏。",
     [("周文华", HeritageLevel.NATIONAL), ("吴春莲", HeritageLevel.PROVINCIAL)]),
    ("班春劝农", HeritageLevel.NATIONAL, "folk_custom", 2011, "汤显祖任遂昌知县时春耕前劝农的仪式，今在石练镇传承。",
     [("叶永福", HeritageLevel.PROVINCIAL)]),
    ("石练七月会", HeritageLevel.PROVINCIAL, "folk_custom", 2009, "石练一带农历七月的民间庙会与巡游。",
     [("毛金水", HeritageLevel.MUNICIPAL)]),
    ("遂昌竹编技艺", HeritageLevel.PROVINCIAL, "craftsmanship", 2012, "以本地毛竹编制生活器具与工艺品的技艺。",
     [("蓝水根", HeritageLevel.PROVINCIAL)]),
    ("遂昌长粽制作技艺", HeritageLevel.MUNICIPAL, "craftsmanship", 2015, "以箬叶包制的长条粽子，端午与节庆食用。",
     [("张美英", HeritageLevel.COUNTY)]),
]  # fmt: skip
TRADITIONAL = [
    ("独山村", "焦滩乡", 1, 2012, "明代古村落，叶氏宗祠与古街，依山傍水。"),
    ("长濂村", "湖山乡", 2, 2013, "郑氏聚居古村，明清古建筑群。"),
    ("茶园村", "金竹镇", 3, 2014, "高山茶园环绕的传统村落。"),
]
EVENTS = [
    ("汤显祖戏曲节", EventKind.FESTIVAL, 60, 3, "汤显祖纪念馆", 3, True),
    ("班春劝农仪式", EventKind.PERFORMANCE, -250, 1, "石练镇", None, True),
    ("南尖岩梯田摄影周", EventKind.EXHIBITION, 20, 7, "南尖岩景区", 2, True),
    ("神龙谷峡谷越野赛", EventKind.SPORTS, 35, 1, "神龙谷景区", 1, True),
    ("高山茶采摘体验", EventKind.FARMING, 120, 30, "大柘镇茶园", None, False),
]


def _gate_seed(n: int) -> int:
    """The seed the sensing demo gives gate_counter-0N's metric (its index among the demo devices)."""
    k = 0
    for cls, count in signals.COUNTS.items():
        if cls == "gate_counter":
            return k + n - 1
        k += count
    raise LookupError("gate_counter")


def _day_signal(n: int, day: date) -> tuple[int, int, int, datetime | None]:
    """Entries, exits, peak in park and its time of gate N on a local DAY, from the counters' signal."""
    start = datetime.combine(day, time(0), tzinfo=county_zone()).astimezone(UTC)
    t = np.arange(to_us(start), to_us(start + timedelta(days=1)), STEP_S * 1_000_000, dtype=np.int64)
    k = _gate_seed(n)
    ins = signals.values("gate_counter", "entries", t, seed=k * 31 + len("entries"))
    outs = signals.values("gate_counter", "exits", t, seed=k * 31 + len("exits"))
    in_park = np.clip(np.cumsum(ins) - np.cumsum(outs), 0, None)
    i = int(np.argmax(in_park))
    return int(ins.sum()), int(outs.sum()), int(in_park[i]), from_us(int(t[i])) if in_park[i] > 0 else None


def _busiest(n: int, today: date) -> int:
    """The largest number in park at gate N over the last fortnight (weekends included)."""
    return max(_day_signal(n, today - timedelta(days=d))[2] for d in range(14)) or 1


def _square(lon: float, lat: float, r: float) -> dict[str, Any]:
    ring = [[lon - r, lat - r], [lon + r, lat - r], [lon + r, lat + r], [lon - r, lat + r], [lon - r, lat - r]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _spots(session: Session, ctx: Any, today: date) -> list[tuple[Spot, int, float]]:
    out = []
    for name, grade, lon, lat, gate, price, share, text in SPOTS:
        peak = _busiest(gate, today)
        spot = tourism.create_spot(
            session,
            actor=ACTOR,
            data=SpotIn(
                name=name,
                a_level=grade,
                outline=_square(lon, lat, 0.01 if gate < 3 else 0.002),
                capacity_instant=max(10, math.ceil(peak / share / 10) * 10),
                capacity_daily=max(100, math.ceil(peak * 4 / share / 100) * 100),
                opens="08:00",
                closes="17:30" if gate < 3 else "17:00",
                manager_id=ctx.user_ids.get("scenic") if gate == 1 else None,
                description=text,
            ),
        )
        entries = streams.by_key(session, f"gate_counter-{gate:02d}", "entries")
        exits = streams.by_key(session, f"gate_counter-{gate:02d}", "exits")
        if entries is not None and exits is not None:
            tourism.attach_counter(
                session,
                actor=ACTOR,
                spot_id=spot.id,
                data=CounterIn(entry_datastream_id=entries.id, exit_datastream_id=exits.id),
            )
        out.append((spot, gate, price))
    return out


def _national_day(session: Session, spots: list[tuple[Spot, int, float]]) -> int:
    """The 国庆 week's daily totals from the counters' signal, with the ticket revenue reported."""
    rows = []
    first, last = NATIONAL_DAY
    day = first
    while day <= last:
        for spot, gate, price in spots:
            ins, outs, peak, peak_at = _day_signal(gate, day)
            rows.append(
                {
                    "spot_id": spot.id,
                    "day": day,
                    "entries": ins,
                    "exits": outs,
                    "peak": peak,
                    "peak_at": peak_at,
                    "clipped": False,
                    "revenue": round(ins * price * 0.9, 2) if price else None,
                    "computed_at": utcnow(),
                }
            )
        day += timedelta(days=1)
    have = set(
        (int(a), b)
        for a, b in session.execute(
            select(SpotDaily.spot_id, SpotDaily.day).where(SpotDaily.day >= first, SpotDaily.day <= last)
        )
    )
    rows = [r for r in rows if (r["spot_id"], r["day"]) not in have]
    if rows:
        session.execute(insert(SpotDaily), rows)
    return len(rows)


def _history_revenue(session: Session, spots: list[tuple[Spot, int, float]]) -> None:
    """Ticket revenue on the days the counters have figures (the managers' reports)."""
    price = {s.id: p for s, _, p in spots}
    for row in session.scalars(select(SpotDaily).where(SpotDaily.revenue.is_(None))):
        if price.get(row.spot_id) and row.entries:
            row.revenue = round(row.entries * price[row.spot_id] * 0.9, 2)


def _stays(session: Session, ctx: Any, today: date) -> int:
    rng = np.random.default_rng(18)
    reports: list[dict[str, Any]] = []
    for i, name in enumerate(STAY_NAMES):
        farm = "农家乐" in name
        rooms = int(rng.integers(4, 16))
        h = tourism_stays.create(
            session,
            actor=ACTOR,
            data=HomestayIn(
                name=name,
                kind=StayKind.FARMSTAY if farm else StayKind.HOMESTAY,
                village_name=VILLAGES[i % len(VILLAGES)],
                address=f"遂昌县{VILLAGES[i % len(VILLAGES)]}{i + 1}号",
                rooms=rooms,
                beds=rooms * 2 + int(rng.integers(0, 4)),
                keeper_id=ctx.user_ids.get("minsu") if i == 0 else None,
                license_no=f"浙遂民宿{2021 + i % 4}{i + 1:03d}",
                grade=["白金宿", "金宿", "银宿", None][i % 4],
            ),
        )
        for back in range(REPORT_DAYS, 0, -1):
            day = today - timedelta(days=back)
            weekend = day.weekday() >= 5
            share = min(1.0, max(0.0, (0.75 if weekend else 0.35) + rng.normal(0, 0.12)))
            occupied = round(rooms * share)
            guests = occupied * 2 - int(rng.integers(0, 2)) if occupied else 0
            reports.append(
                {
                    "homestay_id": h.id,
                    "day": day,
                    "rooms_occupied": occupied,
                    "guests": max(0, guests),
                    "revenue": float(occupied * (220 if not farm else 120)) if occupied else 0.0,
                    "reported_by_id": h.keeper_id,
                    "reported_at": utcnow(),
                }
            )
    session.execute(insert(HomestayReport), reports)
    return len(reports)


def _national_day_stays(session: Session) -> None:
    """The houses' reports of the 国庆 week (busy: most rooms taken)."""
    rng = np.random.default_rng(1001)
    rows = []
    for h in tourism_stays.list_stays(session):
        day = NATIONAL_DAY[0]
        while day <= NATIONAL_DAY[1]:
            occupied = max(0, h.rooms - int(rng.integers(0, 3)))
            rows.append(
                {
                    "homestay_id": h.id,
                    "day": day,
                    "rooms_occupied": occupied,
                    "guests": occupied * 2,
                    "revenue": float(occupied * 380),
                    "reported_by_id": h.keeper_id,
                    "reported_at": utcnow(),
                }
            )
            day += timedelta(days=1)
    existing = set(
        (int(a), b)
        for a, b in session.execute(
            select(HomestayReport.homestay_id, HomestayReport.day).where(
                HomestayReport.day >= NATIONAL_DAY[0], HomestayReport.day <= NATIONAL_DAY[1]
            )
        )
    )
    rows = [r for r in rows if (r["homestay_id"], r["day"]) not in existing]
    if rows:
        session.execute(insert(HomestayReport), rows)


def _culture(session: Session, spots: list[tuple[Spot, int, float]], today: date) -> None:
    for name, level, category, year, text, people in HERITAGE:
        item = tourism_culture.create_item(
            session,
            actor=ACTOR,
            data=HeritageItemIn(name=name, level=level, category=category, listed_year=year, description=text),
        )
        for who, who_level in people:
            tourism_culture.create_inheritor(
                session, actor=ACTOR, data=InheritorIn(item_id=item.id, name=who, level=who_level)
            )
    for name, town, batch, year, text in TRADITIONAL:
        tourism_culture.create_village(
            session,
            actor=ACTOR,
            data=TraditionalVillageIn(name=name, town=town, batch=batch, listed_year=year, description=text),
        )
    by_gate = {gate: spot.id for spot, gate, _ in spots}
    for title, kind, in_days, days, place, gate, public in EVENTS:
        start = datetime.combine(today + timedelta(days=in_days), time(9), tzinfo=county_zone())
        tourism_culture.create_event(
            session,
            actor=ACTOR,
            data=EventIn(
                title=title,
                kind=kind,
                starts_at=start,
                ends_at=start + timedelta(days=days - 1, hours=8),
                place=place,
                spot_id=by_gate.get(gate) if gate else None,
                public=public,
            ),
        )


def load(session: Session, ctx: Any) -> None:
    now = utcnow()
    today = tourism_flow.local_day(now)
    spots = _spots(session, ctx, today)
    session.flush()
    tourism_flow.recompute(session, now=now, days=HISTORY_DAYS + 1)
    _history_revenue(session, spots)
    holiday_rows = _national_day(session, spots) if today > NATIONAL_DAY[1] else 0
    reports = _stays(session, ctx, today)
    _national_day_stays(session)
    _culture(session, spots, today)
    changes = tourism_crowding.evaluate(session, now=now)
    session.flush()
    ctx.notes.append(
        f"Tourism: {len(spots)} scenic spots counted by gate_counter-01..03 (/village/tourism, public /portal/scenic), "
        f"{len(STAY_NAMES)} homestays with {reports} reports, the 2026 National Day week ({holiday_rows} daily "
        f"totals: /village/tourism/holidays/2026-national-day), {len(changes)} crowding level change(s) now."
    )
