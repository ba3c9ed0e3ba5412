"""A cell, or a column, as its column's type."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, cast

from countyos.core.i18n import N_
from countyos.data.codes import FieldType
from countyos.data.service.readers.base import CHINA
from countyos.data.service.readers.types import _BOOLEANS, parse_moment

# --- conversion --------------------------------------------------------------------------------------

NOT_INTEGER = N_("Not a whole number")
NOT_NUMBER = N_("Not a number")
NOT_DATE = N_("Not a date")
NOT_DATETIME = N_("Not a date and time")
NOT_BOOLEAN = N_("Not true or false")
NOT_GEOMETRY = N_("Not a GeoJSON geometry")
_TRUTH = {**_BOOLEANS, "yes": True, "no": False, "y": True, "n": False, "t": True, "f": False, "1": True, "0": False}
_BIGINT = 2**63


def _to_integer(value: str) -> int:
    if value.isascii() and "_" not in value:
        try:
            number = int(value)
        except ValueError:
            pass
        else:
            if -_BIGINT <= number < _BIGINT:
                return number
    raise ValueError(NOT_INTEGER)


def _to_number(value: str) -> float:
    if value.isascii() and "_" not in value:
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise ValueError(NOT_NUMBER)


def _to_date(value: str) -> date:
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    moment = parse_moment(value)
    if moment is None or moment[1]:
        raise ValueError(NOT_DATE)
    return moment[0].date()


def _to_datetime(value: str) -> datetime:
    if len(value) >= 16 and value[4] == "-" and value[7] == "-" and value[10] in " T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment.astimezone(CHINA).replace(tzinfo=None) if moment.tzinfo else moment
    found = parse_moment(value)
    if found is None:
        raise ValueError(NOT_DATETIME)
    return found[0]


def _to_boolean(value: str) -> bool:
    try:
        return _TRUTH[value.lower()]
    except KeyError:
        raise ValueError(NOT_BOOLEAN) from None


def _to_geometry(value: str) -> str:
    if not value.startswith("{"):
        raise ValueError(NOT_GEOMETRY)
    return value


def _to_text(value: str) -> str:
    return value


_CONVERTERS: dict[FieldType, Callable[[str], object]] = {
    FieldType.INTEGER: _to_integer,
    FieldType.NUMBER: _to_number,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
    FieldType.BOOLEAN: _to_boolean,
    FieldType.TEXT: _to_text,
    FieldType.GEOMETRY: _to_geometry,
}


def converter(type: FieldType) -> Callable[[str], object]:
    """The function :func:`convert` applies to a non-empty value of TYPE (for a loop over many rows)."""
    return _CONVERTERS[type]


_ISO_DATES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}\x1f)*")


def convert_column(values: Sequence[str | None], type: FieldType) -> list[Any]:
    """``[convert(v, TYPE) for v in VALUES]``, faster for a column of many values (a TEXT column: VALUES
    itself when it is a list); raises ValueError as :func:`convert` does."""
    if None in values or "" in values:
        conv = _CONVERTERS[type]
        return [conv(v) if v else None for v in values]
    texts = cast(Sequence[str], values)
    if type is FieldType.TEXT:
        return values if isinstance(values, list) else list(values)
    try:
        fast = _fast_column(texts, type)
    except ValueError:
        fast = None  # the value-by-value conversion below raises with the message of the first bad one
    if fast is not None:
        return fast
    conv = _CONVERTERS[type]
    return [conv(v) for v in texts]


def _fast_column(texts: Sequence[str], type: FieldType) -> list[Any] | None:
    """The converted column when every value is in the form most files write, else None."""
    if type in (FieldType.NUMBER, FieldType.INTEGER):
        joined = "".join(texts)
        if not joined.isascii() or "_" in joined:  # what _to_number and _to_integer ask of each value
            return None
        if type is FieldType.NUMBER:
            floats = list(map(float, texts))
            return floats if math.isfinite(sum(floats)) else None  # no inf, no nan (nor a sum past 1.8e308)
        ints = list(map(int, texts))
        return ints if not ints or (min(ints) >= -_BIGINT and max(ints) < _BIGINT) else None
    if type is FieldType.DATE and iso_dates(texts):
        return list(map(date.fromisoformat, texts))  # ValueError for 2024-02-30
    return None


def iso_dates(values: Sequence[str | None]) -> bool:
    """Whether every value is written as 2024-05-01 (a date's form in :func:`convert`; not whether it is
    a real date). ``date.fromisoformat`` alone would take other forms too (20240501, 2024-W18-3)."""
    if None in values:
        return False
    return _ISO_DATES.fullmatch("\x1f".join(cast(Sequence[str], values)) + "\x1f") is not None


def convert(value: str | None, type: FieldType) -> object:
    """VALUE as TYPE: int, float, date, datetime (naive, the county's local time), bool or str; None
    when empty. A value that is not of the type raises ValueError whose message is an English message id
    (``Not a whole number`` …). NUMBER takes whole numbers too, DATETIME takes dates (at midnight)."""
    if not value:
        return None
    return _CONVERTERS[type](value)
