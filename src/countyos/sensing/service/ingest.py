"""Validation of what devices send, before :func:`store.store` writes it.

A batch (HTTP body, or the messages of one MQTT round) is decoded with msgspec and checked item by
item; each refused item gets a reason (``code`` + English message) while the valid ones are stored.
Two shapes are accepted in one body:

* ``observations``: ``[{"datastream": 12, "time": "2026-05-01T08:00:00Z", "value": 1.23, "unit": "m"},
  {"device": "wl-0001", "metric": "water_level", "time": 1777622400, "value": 1.25}]``
* ``series`` (what gateways send; far less to parse): ``[{"datastream": 12, "unit": "m",
  "data": [[time, value], …]}]``

Times are ISO 8601 with a zone or epoch seconds/milliseconds. Refused: unknown datastream or one the
caller may not write, a time before 2000 or more than five minutes ahead of the server's clock, a
value that is not a finite number or outside the datastream's plausible range, and a ``unit`` that is
not the datastream's unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from countyos.core.i18n import N_
from countyos.sensing.service import streams
from countyos.sensing.service.streams import StreamInfo
from countyos.sensing.service.times import EARLIEST_US, FUTURE_SKEW_US, US, any_to_us, now_us


class Item(msgspec.Struct, forbid_unknown_fields=False):
    datastream: int | None = None
    device: str | None = None
    metric: str | None = None
    time: Any = None
    value: Any = None
    unit: str | None = None


class Series(msgspec.Struct, forbid_unknown_fields=False):
    datastream: int | None = None
    device: str | None = None
    metric: str | None = None
    unit: str | None = None
    data: list[Any] = []


class Batch(msgspec.Struct, forbid_unknown_fields=False):
    observations: list[Item] = []
    series: list[Series] = []


class _TypedItem(msgspec.Struct, forbid_unknown_fields=False):
    datastream: int | None = None
    device: str | None = None
    metric: str | None = None
    time: int | float | str | None = None
    value: float | None = None
    unit: str | None = None


class _TypedSeries(msgspec.Struct, forbid_unknown_fields=False):
    datastream: int | None = None
    device: str | None = None
    metric: str | None = None
    unit: str | None = None
    data: list[tuple[float, float]] = []


class _TypedBatch(msgspec.Struct, forbid_unknown_fields=False):
    observations: list[_TypedItem] = []
    series: list[_TypedSeries] = []


_typed = msgspec.json.Decoder(_TypedBatch)
_loose = msgspec.json.Decoder(Batch)


class BadBody(ValueError):
    pass


def decode(body: bytes) -> Batch:
    """The common, well-typed body decodes ~10x faster into typed structs; anything else (ISO text
    times in series, strings where numbers belong) is decoded loosely and checked item by item."""
    try:
        return _typed.decode(body)  # type: ignore[return-value]  # same fields, narrower types
    except msgspec.ValidationError:
        pass
    except (msgspec.DecodeError, RecursionError) as exc:  # nested beyond the decoder's depth: a 400
        raise BadBody(str(exc)) from exc
    try:
        return _loose.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise BadBody(str(exc)) from exc


MESSAGES = {
    "unknown_datastream": N_("There is no such datastream"),
    "not_yours": N_("This device may not write to that datastream"),
    "bad_time": N_("The time is not ISO 8601 with a time zone, nor an epoch number"),
    "future_time": N_("The time is in the future"),
    "ancient_time": N_("The time is before 2000-01-01"),
    "bad_value": N_("The value is not a finite number"),
    "out_of_range": N_("The value is outside the plausible range of this datastream"),
    "wrong_unit": N_("The unit is not the unit of this datastream"),
    "bad_item": N_("The item is not [time, value]"),
}


@dataclass
class ItemError:
    path: str
    code: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        from countyos.core.i18n import gettext

        message = gettext(MESSAGES[self.code])
        return {"item": self.path, "code": self.code, "message": message + (f" ({self.detail})" if self.detail else "")}


@dataclass
class Prepared:
    """Valid observations: item by item in the three lists, whole series as numpy arrays in
    ``series`` (datastream id, times µs, values), never turned into Python numbers and back."""

    datastream_ids: list[int] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    things: set[int] = field(default_factory=set)
    series: list[tuple[int, NDArray[np.int64], NDArray[np.float64]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.times) + sum(len(t) for _, t, _ in self.series)

    def columns(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """(datastream ids, times µs, values) of every valid observation, the items first."""
        ds = [np.asarray(self.datastream_ids, dtype=np.int64)]
        ts = [np.asarray(self.times, dtype=np.int64)]
        vs = [np.asarray(self.values, dtype=np.float64)]
        for d, t, v in self.series:
            ds.append(np.full(len(t), d, dtype=np.int64))
            ts.append(t)
            vs.append(v)
        return np.concatenate(ds), np.concatenate(ts), np.concatenate(vs)


# Who may write to a datastream: None = anyone the caller already allowed (an operator with
# sensing.write), else a predicate on the datastream (a device token: its thing and its children).
Allowed = Callable[[StreamInfo], bool] | None


def _resolve(
    session: Session, datastream: int | None, device: str | None, metric: str | None, allowed: Allowed
) -> StreamInfo | str:
    if datastream is not None:
        info = streams.by_id(session, datastream)
    elif device and metric:
        info = streams.by_key(session, device, metric)
    else:
        return "unknown_datastream"
    if info is None:
        return "unknown_datastream"
    if allowed is not None and not allowed(info):
        return "not_yours"
    return info


def _unit_ok(info: StreamInfo, unit: str | None) -> bool:
    return unit is None or info.unit_symbol is None or unit == info.unit_symbol


def check_value(info: StreamInfo, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "bad_value"
    if (info.valid_min is not None and value < info.valid_min) or (
        info.valid_max is not None and value > info.valid_max
    ):
        return "out_of_range"
    return None


def check_time(value: Any, now: int) -> int | str:
    try:
        t = any_to_us(value)
    except (ValueError, TypeError, OverflowError):
        return "bad_time"
    if t > now + FUTURE_SKEW_US:
        return "future_time"
    if t < EARLIEST_US:
        return "ancient_time"
    return t


def prepare(session: Session, batch: Batch, *, allowed: Allowed = None, now: int | None = None) -> Prepared:
    now = now or now_us()
    out = Prepared()
    for i, item in enumerate(batch.observations):
        path = f"observations[{i}]"
        info = _resolve(session, item.datastream, item.device, item.metric, allowed)
        if isinstance(info, str):
            out.errors.append(ItemError(path, info))
            continue
        if not _unit_ok(info, item.unit):
            out.errors.append(ItemError(path, "wrong_unit", f"{item.unit} ≠ {info.unit_symbol}"))
            continue
        t = check_time(item.time, now)
        if isinstance(t, str):
            out.errors.append(ItemError(path, t))
            continue
        bad = check_value(info, item.value)
        if bad:
            out.errors.append(ItemError(path, bad))
            continue
        out.datastream_ids.append(info.id)
        out.times.append(t)
        out.values.append(float(item.value))
        out.things.add(info.thing_id)
    for j, s in enumerate(batch.series):
        _prepare_series(session, s, f"series[{j}]", out, allowed, now)
    return out


def _prepare_series(session: Session, s: Series, path: str, out: Prepared, allowed: Allowed, now: int) -> None:
    info = _resolve(session, s.datastream, s.device, s.metric, allowed)
    if isinstance(info, str):
        out.errors.append(ItemError(path, info))
        return
    if not _unit_ok(info, s.unit):
        out.errors.append(ItemError(path, "wrong_unit", f"{s.unit} ≠ {info.unit_symbol}"))
        return
    data = s.data
    if not data:
        return
    fast = _fast_series(info, data, now)
    if fast is not None:
        times, values = fast
        out.series.append((info.id, times, values))
        out.things.add(info.thing_id)
        return
    for k, pair in enumerate(data):
        p = f"{path}.data[{k}]"
        if len(pair) != 2:
            out.errors.append(ItemError(p, "bad_item"))
            continue
        t = check_time(pair[0], now)
        if isinstance(t, str):
            out.errors.append(ItemError(p, t))
            continue
        bad = check_value(info, pair[1])
        if bad:
            out.errors.append(ItemError(p, bad))
            continue
        out.datastream_ids.append(info.id)
        out.times.append(t)
        out.values.append(float(pair[1]))
        out.things.add(info.thing_id)


def _fast_series(info: StreamInfo, data: list[Any], now: int) -> tuple[NDArray[np.int64], NDArray[np.float64]] | None:
    """Whole-array checks for the common case (epoch numbers, finite numbers, all in range); None
    when anything needs a closer look item by item."""
    if type(data[0]) is tuple:  # the typed decoder made pairs of floats (no bools, no text)
        arr = np.fromiter(chain.from_iterable(data), dtype=np.float64, count=2 * len(data)).reshape(-1, 2)
    else:
        try:
            arr = np.array(data, dtype=np.float64)
        except (ValueError, TypeError):
            return None  # ISO text times, ragged items, non-numbers
        if arr.ndim != 2 or arr.shape[1] != 2 or any(type(p[0]) is bool or type(p[1]) is bool for p in data):
            return None
    if not np.isfinite(arr).all():
        return None
    raw_t, v = arr[:, 0], arr[:, 1]
    as_ms = raw_t > 100_000_000_000  # the rule of times.epoch_to_us
    if as_ms.all():
        t = np.rint(raw_t * 1000).astype(np.int64)
    elif not as_ms.any():
        t = np.rint(raw_t * US).astype(np.int64)
    else:
        return None
    if t.max() > now + FUTURE_SKEW_US or t.min() < EARLIEST_US:
        return None
    if (info.valid_min is not None and v.min() < info.valid_min) or (
        info.valid_max is not None and v.max() > info.valid_max
    ):
        return None
    return t, np.ascontiguousarray(v)
