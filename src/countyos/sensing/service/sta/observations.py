"""Observations of a Datastream as the SensorThings write path takes them: checked one by one,
stored together.

:func:`parse` checks one observation (the properties of the ``Observation`` body model, the time
bounds and the datastream's plausible range) against the datastream as the ingest cache knows it
(:mod:`..streams`), so neither a single create nor a ``CreateObservations`` row reads the datastream,
its thing or its location from the database. :func:`store_rows` writes any number of checked
observations with one statement per table (:func:`..store.store` with the rollups and latest values
deferred to the end of the transaction, one ``executemany`` of the rare extra columns), and
:func:`as_json` is the 201 body of a created observation, built from what was written.

Features of interest named by id are checked against the table once per request (a cached answer
per id for single creates, emptied by any write to the features table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from countyos.core.hotcache import HotCache
from countyos.sensing import models as m
from countyos.sensing.service import store
from countyos.sensing.service.sta import bodies as B
from countyos.sensing.service.sta.errors import StaInvalid
from countyos.sensing.service.streams import StreamInfo
from countyos.sensing.service.times import EARLIEST_US, FUTURE_SKEW_US, interval, iso, parse_interval, parse_iso

_MAX_INSTANT, _MAX_INTERVAL = 64, 130  # the body model's bounds of a time text
_FOI_COMPONENTS = ("FeatureOfInterest/id", "FeatureOfInterest/@iot.id")


@dataclass(slots=True)
class Parsed:
    """One checked observation of a Datastream."""

    datastream_id: int
    start: int
    end: int | None
    result: Any
    numeric: bool
    result_time: int | None = None
    valid: tuple[int | None, int | None] = (None, None)
    quality: Any = None
    parameters: dict[str, Any] | None = None
    foi_id: int | None = None  # named in the body (None: the datastream's default feature)

    def value(self) -> float:
        return float(self.result) if self.numeric else float("nan")

    def extra(self) -> dict[str, Any] | None:
        """The columns of ``sensing_observation_extra``, or None when the observation has none."""
        if (
            self.end is None
            and self.result_time is None
            and self.numeric
            and self.quality is None
            and self.valid == (None, None)
            and self.parameters is None
        ):
            return None
        return {
            "phenomenon_end_us": self.end,
            "result_time_us": self.result_time,
            "result_json": None if self.numeric else self.result,
            "result_quality": self.quality,
            "valid_start_us": self.valid[0],
            "valid_end_us": self.valid[1],
            "parameters": self.parameters,
        }


def _text(body: dict[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise StaInvalid(f"{key} must be ISO 8601 text with a time zone")
    return value


def parse(body: dict[str, Any], info: StreamInfo, now: int) -> Parsed:
    """Check one observation of the datastream ``info``; a :class:`StaInvalid` says what is wrong."""
    if body.get("result") is None:
        raise StaInvalid("an Observation needs result")
    phenomenon = _text(body, "phenomenonTime", _MAX_INTERVAL)
    result_time = _text(body, "resultTime", _MAX_INSTANT)
    valid_time = _text(body, "validTime", _MAX_INTERVAL)
    try:
        start, end = parse_interval(phenomenon) if phenomenon else (now, None)
        rt = parse_iso(result_time) if result_time else None
        valid = parse_interval(valid_time) if valid_time else (None, None)
    except (ValueError, TypeError, OverflowError) as exc:
        raise StaInvalid(f"a time is not ISO 8601 with a time zone: {exc}") from exc
    if start > now + FUTURE_SKEW_US:
        raise StaInvalid("phenomenonTime is in the future")
    if start < EARLIEST_US:
        raise StaInvalid("phenomenonTime is before 2000-01-01")
    parameters = body.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise StaInvalid("parameters must be an object")
    result = body["result"]
    numeric = isinstance(result, int | float) and not isinstance(result, bool)
    if numeric and not np.isfinite(result):
        raise StaInvalid("the result is not a finite number")
    if numeric and (
        (info.valid_min is not None and result < info.valid_min)
        or (info.valid_max is not None and result > info.valid_max)
    ):
        raise StaInvalid("the result is outside the plausible range of this Datastream")
    return Parsed(
        info.id,
        start,
        end,
        result,
        numeric,
        rt,
        valid,
        body.get("resultQuality"),
        parameters,
    )


def plain_row(row: list[Any], at_time: int, at_result: int, info: StreamInfo, now: int) -> Parsed | None:
    """The common ``dataArray`` row — an instant with its zone and a number in range — checked
    without building a body (None: anything else, which :func:`parse` checks)."""
    t, v = row[at_time], row[at_result]
    if type(t) is not str or len(t) > _MAX_INSTANT or "/" in t or type(v) not in (float, int):
        return None
    try:
        start = parse_iso(t)
    except (ValueError, OverflowError):
        return None
    if (
        start > now + FUTURE_SKEW_US
        or start < EARLIEST_US
        or (info.valid_min is not None and v < info.valid_min)
        or (info.valid_max is not None and v > info.valid_max)
    ):
        return None
    return Parsed(info.id, start, None, v, True)


def row_body(components: list[str], row: list[Any]) -> tuple[dict[str, Any], int | None]:
    """A ``dataArray`` row as an observation body, and the feature of interest it names by id
    (a :class:`StaInvalid` when that is not an id)."""
    body: dict[str, Any] = {}
    foi: Any = None
    for name, value in zip(components, row, strict=True):
        if name in _FOI_COMPONENTS:
            foi = value
        else:
            body[name] = value
    if foi is not None and (not isinstance(foi, int) or isinstance(foi, bool) or not 0 < foi <= B.MAX_ID):
        raise StaInvalid("FeatureOfInterest/id must be an id")
    return body, foi


_FEATURES: HotCache[bool] = HotCache("features of interest", tables=(m.FeatureOfInterest.__tablename__,), ttl=30.0)


def feature_exists(session: Session, foi_id: int) -> bool:
    def load() -> bool:
        return session.scalar(select(m.FeatureOfInterest.id).where(m.FeatureOfInterest.id == foi_id)) is not None

    return _FEATURES.get(session, foi_id, load)


def existing_features(session: Session, ids: set[int]) -> set[int]:
    """Which of these features of interest exist (one query for a whole batch)."""
    if not ids:
        return set()
    if len(ids) == 1:
        (only,) = ids
        return ids if feature_exists(session, only) else set()
    found = session.scalars(select(m.FeatureOfInterest.id).where(m.FeatureOfInterest.id.in_(sorted(ids))))
    return set(found)


def store_rows(
    session: Session, rows: list[Parsed], *, default_foi: dict[int, int | None], reported_us: int
) -> store.Stored:
    """Store checked observations: ``ids[i]`` of the answer is row i's new id, or -1 when the
    datastream has an observation at that time already (stored before, or earlier in ``rows``).
    A feature named that is the datastream's default is stored as the default (NULL)."""
    fois = [r.foi_id if r.foi_id is not None and r.foi_id != default_foi.get(r.datastream_id) else None for r in rows]
    with store.paused_gc():
        stored = store.store(
            session,
            np.fromiter((r.datastream_id for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r.start for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r.value() for r in rows), dtype=np.float64, count=len(rows)),
            reported_us=reported_us,
            foi_ids=fois,
            defer_shared=True,
        )
    extras = []
    for oid, r in zip(stored.ids.tolist(), rows, strict=True):
        if oid >= 0 and (x := r.extra()) is not None:
            extras.append({"observation_id": oid, **x})
    if extras:
        session.execute(insert(m.ObservationExtra.__table__), extras)  # type: ignore[arg-type]
    return stored


def as_json(base: str, oid: int, p: Parsed) -> dict[str, Any]:
    """The created observation as a read of it answers, from what was written (no read-back)."""
    link = f"{base}/Observations({oid})"
    return {
        "@iot.id": oid,
        "@iot.selfLink": link,
        "resultQuality": p.quality,
        "parameters": p.parameters,
        "phenomenonTime": interval(p.start, p.end),
        "resultTime": iso(p.result_time),
        "result": float(p.result) if p.numeric else p.result,
        "validTime": interval(*p.valid),
        "Datastream@iot.navigationLink": f"{link}/Datastream",
        "MultiDatastream@iot.navigationLink": f"{link}/MultiDatastream",
        "FeatureOfInterest@iot.navigationLink": f"{link}/FeatureOfInterest",
    }
