"""Small SVG charts and a light map for the air pages, drawn on the server (no script): an AQI bar per
hour or day coloured by its level, a line per pollutant broken where a value is invalid, and points on
the county's outline (``geo.service.outline``) or, without one, on the box around the points."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.errors import NotFound
from countyos.eco.service import aqi
from countyos.geo.service import outline

WIDTH, HEIGHT, PAD = 720.0, 180.0, 28.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    colour: str
    label: str  # shown on hover


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    top: float  # the value at the top of the plot
    ticks: list[tuple[float, str]]  # (y, label)
    bars: list[Bar] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # SVG polyline points, one per unbroken run
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (x, w) of invalid slots
    xlabels: list[tuple[float, str]] = field(default_factory=list)


def _top(values: Sequence[float]) -> float:
    peak = max(values, default=0.0)
    if peak <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(peak))
    for step in (1, 2, 2.5, 5, 10):
        if peak <= step * mag:
            return float(step * mag)
    return float(10 * mag)  # pragma: no cover


def _frame(top: float) -> list[tuple[float, str]]:
    plot = HEIGHT - 2 * PAD
    return [(PAD + plot * (1 - k / 4), f"{top * k / 4:g}") for k in range(5)]


def _x(i: int, n: int) -> tuple[float, float]:
    w = (WIDTH - 2 * PAD) / max(n, 1)
    return PAD + i * w, w


def _xlabels(times: Sequence[datetime], fmt: str, every: int) -> list[tuple[float, str]]:
    n = len(times)
    out = []
    for i, t in enumerate(times):
        if i % every == 0:
            x, w = _x(i, n)
            out.append((x + w / 2, t.strftime(fmt)))
    return out


def aqi_bars(times: Sequence[datetime], values: Sequence[int | None], fmt: str, every: int) -> Chart:
    """One bar per slot coloured by its AQI level; an invalid slot is marked as a gap."""
    top = max(_top([float(v) for v in values if v is not None]), 100.0)
    plot = HEIGHT - 2 * PAD
    bars, gaps = [], []
    for i, (t, v) in enumerate(zip(times, values, strict=True)):
        x, w = _x(i, len(values))
        if v is None:
            gaps.append((x, w))
            continue
        h = plot * min(v, top) / top
        bars.append(Bar(x + w * 0.1, PAD + plot - h, w * 0.8, h, aqi.level_of(v).colour, f"{t:%m-%d %H:%M} AQI {v}"))
    return Chart(WIDTH, HEIGHT, top, _frame(top), bars=bars, gaps=gaps, xlabels=_xlabels(times, fmt, every))


def line(times: Sequence[datetime], values: Sequence[float | None], fmt: str, every: int) -> Chart:
    """A line through the valid values, broken at each invalid one (which is marked as a gap)."""
    top = _top([v for v in values if v is not None])
    plot = HEIGHT - 2 * PAD
    runs: list[list[str]] = [[]]
    gaps = []
    for i, v in enumerate(values):
        x, w = _x(i, len(values))
        if v is None:
            gaps.append((x, w))
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x + w / 2:.1f},{PAD + plot * (1 - min(v, top) / top):.1f}")
    return Chart(
        WIDTH, HEIGHT, top, _frame(top), lines=[" ".join(r) for r in runs if r], gaps=gaps,
        xlabels=_xlabels(times, fmt, every),
    )  # fmt: skip


@dataclass(frozen=True)
class MapFrame:
    width: float
    height: float
    areas: list[Any]  # outline areas (d, name, label_x, label_y)
    dots: list[dict[str, Any]]  # x, y, colour, label, url, kind ("air" | "water")
    lines: list[dict[str, Any]]  # points, colour, label, url


def _coords(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    kind, c = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point" and c:
        return [(float(c[0]), float(c[1]))]
    if kind == "LineString" and c:
        return [(float(p[0]), float(p[1])) for p in c]
    if kind == "MultiLineString" and c:
        return [(float(p[0]), float(p[1])) for part in c for p in part]
    return []


def map_frame(session: Session, features: list[tuple[str, dict[str, Any]]]) -> MapFrame | None:
    """Air stations and water sections (``(kind, GeoJSON Feature)``) on the county's outline, or on the
    box around them when the county has no boundary yet."""
    pts = [p for _, f in features for p in _coords(f.get("geometry") or {})]
    try:
        frame: Any = outline.outline(session)
        project, width, height, areas = frame.project, frame.width, frame.height, list(frame.areas)
    except NotFound:
        if not pts:
            return None
        x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
        y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
        pad = max(x1 - x0, y1 - y0, 0.01) * 0.15
        x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
        if (y1 - y0) > (x1 - x0) * 0.6:  # keep the box wider than tall, like a screen
            grow = ((y1 - y0) / 0.6 - (x1 - x0)) / 2
            x0, x1 = x0 - grow, x1 + grow
        width = 1000.0
        kx = width / (x1 - x0)
        ky = kx / max(math.cos(math.radians((y0 + y1) / 2)), 0.2)
        height = round((y1 - y0) * ky, 1)
        areas = []

        def project(lon: float, lat: float) -> tuple[float, float] | None:
            return round((lon - x0) * kx, 1), round((y1 - lat) * ky, 1)

    dots, lines = [], []
    for kind, f in features:
        props = f.get("properties") or {}
        geometry = f.get("geometry") or {}
        xy = [q for q in (project(x, y) for x, y in _coords(geometry)) if q is not None]
        if not xy:
            continue
        label = str(props.get("name") or "")
        extra = props.get("aqi") if kind == "air" else props.get("cls_label") or props.get("cls")
        item = {"colour": props.get("colour") or "#9e9e9e", "label": f"{label} {extra if extra is not None else '—'}",
                "url": props.get("url") or "", "kind": kind}  # fmt: skip
        if geometry.get("type") == "Point":
            dots.append({**item, "x": xy[0][0], "y": xy[0][1]})
        else:
            lines.append({**item, "points": " ".join(f"{x},{y}" for x, y in xy)})
    return MapFrame(width, height, areas, dots, lines)
