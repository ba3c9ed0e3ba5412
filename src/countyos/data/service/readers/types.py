"""A column's type inferred from its sampled values; dates and times as Chinese files write them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

from countyos.data.codes import FieldType
from countyos.data.service.readers.base import CHINA, Cells, InferredColumn
from countyos.data.service.readers.names import safe_names

# --- types -------------------------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]{0,14})", re.ASCII)  # no leading zero, at most 15 digits
_NUMBER = re.compile(r"[+-]?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)
_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_BOOLEANS = {"true": True, "false": False, "是": True, "否": False}
_CODE_HEADER = re.compile(
    r"代码|编码|编号|号码|电话|手机|邮编|身份证|证件|账号|帐号|卡号|区划|工号|学号|"
    r"(?:^|[^a-z])(?:code|tel|phone|mobile|zip|zipcode|postcode)(?:$|[^a-z])",
    re.IGNORECASE,
)
_DATE_HEADER = re.compile(r"日期|date", re.IGNORECASE)
_MOMENT = re.compile(
    r"([0-9]{4})(?:([-/.])([0-9]{1,2})\2([0-9]{1,2})|年([0-9]{1,2})月([0-9]{1,2})日)"
    r"(?:(?:\s+|T)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?)?",
)


def parse_moment(text: str, *, eight_digits: bool = True) -> tuple[datetime, bool] | None:
    """A date or date-time as written in Chinese files, as a naive local datetime and whether a time of
    day was written; None when TEXT is not one (or not a real calendar date).

    Accepted: ``2024-05-01``, ``2024/5/1``, ``2024.5.1``, ``2024年5月1日``, each optionally followed by
    ``08:30[:00[.000000]]`` and a zone (``Z``, ``+08:00``: converted to UTC+8); ``20240501`` when
    EIGHT_DIGITS."""
    m = _MOMENT.fullmatch(text)
    if m is None:
        if eight_digits and len(text) == 8 and text.isascii() and text.isdigit():
            try:
                return datetime(int(text[:4]), int(text[4:6]), int(text[6:])), False
            except ValueError:
                return None
        return None
    try:
        day = datetime(int(m[1]), int(m[3] or m[5]), int(m[4] or m[6]))
        if m[7] is None:
            return day, False
        moment = day.replace(
            hour=int(m[7]), minute=int(m[8]), second=int(m[9] or 0), microsecond=int((m[10] or "0").ljust(6, "0"))
        )
    except ValueError:
        return None
    if m[11]:
        zone = m[11]
        if zone == "Z":
            offset = timedelta(0)
        else:
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            offset = -offset if zone[0] == "-" else offset
        moment = moment.replace(tzinfo=timezone(offset)).astimezone(CHINA).replace(tzinfo=None)
    return moment, True


class _Guess:
    """What the sampled values of one column could all be."""

    __slots__ = ("boolean", "code", "date", "datetime", "eight", "integer", "longest", "mobile", "number", "seen")

    def __init__(self, label: str) -> None:
        self.code = bool(_CODE_HEADER.search(label))
        self.eight = bool(_DATE_HEADER.search(label))
        self.boolean = self.integer = self.number = self.date = self.datetime = self.mobile = True
        self.seen = False
        self.longest = 0

    def add(self, value: str) -> None:
        self.seen = True
        self.longest = max(self.longest, len(value))
        if self.boolean and value.lower() not in _BOOLEANS:
            self.boolean = False
        if self.integer and _INTEGER.fullmatch(value) is None:
            self.integer = False
        if self.number and _NUMBER.fullmatch(value) is None:
            self.number = False
        if self.mobile and _MOBILE.fullmatch(value) is None:
            self.mobile = False
        if self.datetime:
            moment = parse_moment(value, eight_digits=self.eight)
            if moment is None:
                self.date = self.datetime = False
            elif moment[1]:
                self.date = False

    def type(self) -> FieldType:
        if not self.seen:
            return FieldType.TEXT
        if self.boolean:
            return FieldType.BOOLEAN
        if self.date and self.eight:
            return FieldType.DATE  # 20240501 under a date header is a date, not a number
        if self.number and not (self.code or self.mobile):
            return FieldType.INTEGER if self.integer else FieldType.NUMBER
        if self.date:
            return FieldType.DATE
        if self.datetime:
            return FieldType.DATETIME
        return FieldType.TEXT


def _infer(labels: Sequence[str], rows: Sequence[Cells], *, reserved: Iterable[str] = ()) -> list[InferredColumn]:
    """Name each column and choose the narrowest type all its sampled non-empty values fit."""
    guesses = [_Guess(label) for label in labels]
    for row in rows:
        for guess, value in zip(guesses, row, strict=False):
            if value is not None:
                guess.add(value)
    names = safe_names(labels, reserved=reserved)
    return [
        InferredColumn(name=name, label=label, type=guess.type(), max_length=guess.longest)
        for name, label, guess in zip(names, labels, guesses, strict=True)
    ]
