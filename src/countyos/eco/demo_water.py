"""The demo county's water part of the ecology domain: monitoring sections on 遂昌's rivers.

The three automatic water-quality stations the sensing demo made become sections (their three weeks
of history computed into daily samples; one takes farm run-off every twelve days, class IV–V), and
four lab-only sections get a monthly lab result for the past year (one with a summer of phosphorus
from farmland, one past its target in the latest result). Exceedances open their alarms and cases.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_zone, utcnow
from countyos.eco.models.water import SampleSource, SectionLevel, WaterSection
from countyos.eco.schemas.water import SectionIn
from countyos.eco.service import water, water_auto
from countyos.sensing.models import Thing
from countyos.sensing.service import devices

ACTOR = Actor(id=None, name="demo")
HISTORY_DAYS = 21
LAB = "遂昌县环境监测站"
# code, name, river, level, target, the automatic station's device key (None: lab results only)
SECTIONS: list[tuple[str, str, str, SectionLevel, str, str | None]] = [
    ("331123-A01", "乌溪江大桥", "乌溪江", SectionLevel.PROVINCIAL, "II", "water_quality-01"),
    ("331123-A02", "松阴溪石练", "松阴溪", SectionLevel.CITY, "III", "water_quality-02"),
    ("331123-A03", "周公源口", "周公源", SectionLevel.COUNTY, "II", "water_quality-03"),
    ("331123-L01", "乌溪江湖山", "乌溪江", SectionLevel.BOUNDARY, "II", None),
    ("331123-L02", "松阴溪出境", "松阴溪", SectionLevel.NATIONAL, "III", None),
    ("331123-L03", "周公源上游", "周公源", SectionLevel.COUNTY, "II", None),
    ("331123-L04", "马头溪大柘", "马头溪", SectionLevel.COUNTY, "III", None),
]


def _position(session: Session, k: int, key: str | None) -> tuple[float, float]:
    """The station's own position; a lab-only section sits beside one of the demo's river gauges."""
    thing = devices.get_by_key(session, device_key=key) if key else None
    if thing is None:
        thing = devices.get_by_key(session, device_key=f"river_gauge-{k % 6 + 1:02d}")
    if thing is not None and thing.lon is not None and thing.lat is not None:
        return round(thing.lon, 6), round(thing.lat, 6)
    return 119.27 + 0.01 * k, 28.59


def _lab_values(rng: np.random.Generator, month: int, k: int, last: bool) -> dict[str, float]:
    """A monthly lab result of a hill river: mostly class I–II; L04 takes farm phosphorus in summer,
    L02 is past its target in the latest result."""
    summer = 1.0 if month in (6, 7, 8) else 0.0
    tp = 0.03 + 0.02 * rng.random() + (0.17 * summer if k == 6 else 0.0) + (0.2 if k == 4 and last else 0.0)
    return {
        "wt": round(max(4.0, 16 + 10 * np.sin((month - 4) / 12 * 2 * np.pi) + rng.normal(0, 1)), 1),
        "ph": round(7.2 + rng.normal(0, 0.2), 2),
        "do": round(8.4 - 1.2 * summer + rng.normal(0, 0.3), 2),
        "codmn": round(1.6 + rng.random() * 1.2 + summer, 2),
        "cod": round(8 + rng.random() * 5, 1),
        "bod5": round(1.2 + rng.random(), 2),
        "nh3n": round(0.08 + rng.random() * 0.15 + (0.3 if k == 4 and last else 0.0), 3),
        "tp": round(tp, 3),
        "cu": 0.002,
        "zn": 0.01,
        "f": round(0.2 + rng.random() * 0.1, 2),
        "as": 0.001,
        "hg": 0.00002,
        "cd": 0.0002,
        "cr6": 0.004,
        "pb": 0.002,
        "phenol": 0.0008,
        "oil": 0.02,
        "fcoli": float(int(300 + rng.random() * 900)),
    }


def _months(today: date, n: int) -> list[date]:
    out = []
    y, m = today.year, today.month
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(date(y, m, 10))
    return sorted(out)


def load(session: Session, ctx: Any) -> None:
    if water.get_by_code(session, code=SECTIONS[0][0]) is not None:
        return  # loaded already
    rng = np.random.default_rng(3838)
    sections: list[tuple[int, WaterSection]] = []
    for k, (code, name, river, level, target, key) in enumerate(SECTIONS):
        lon, lat = _position(session, k, key)
        thing = devices.get_by_key(session, device_key=key) if key else None
        data = SectionIn.model_validate(
            {
                "code": code,
                "name": name,
                "water_name": river,
                "lon": lon,
                "lat": lat,
                "level": level,
                "target_class": target,
                "thing_id": thing.id if isinstance(thing, Thing) else None,
            }
        )
        sections.append((k, water.create_section(session, actor=ACTOR, data=data)))
    today = water.local_day(utcnow())
    months = _months(today, 12)
    lab = 0
    for k, s in sections:
        if s.thing_id is not None:
            continue
        for i, day in enumerate(months):
            at = datetime.combine(day, time(9, 30 + k), tzinfo=county_zone())
            water.save_sample(
                session,
                actor=ACTOR,
                section=s,
                sampled_at=at,
                values=_lab_values(rng, day.month, k, i == len(months) - 1),
                source=SampleSource.LAB,
                lab_name=LAB,
                report_no=f"SCJC-{day:%Y%m}-{k:02d}",
                audited=False,
            )
            lab += 1
    days = [today - timedelta(days=d) for d in range(HISTORY_DAYS, 0, -1)]
    auto = water_auto.run_days(session, days=days, actor=ACTOR)
    past = sum(1 for _, s in sections if s.last_meets is False)
    ctx.notes.append(
        f"Water: {len(sections)} monitoring sections, {lab} lab results over a year and {auto.saved} automatic "
        f"daily samples; {past} sections past their target now (/eco/water)."
    )
