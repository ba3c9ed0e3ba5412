"""办件编号 and 受理文书编号 from a configurable rule (a pattern a county stores as data).

A rule is a pattern of literal text and fields in braces::

    {division}{yyyymmdd}{seq:05}           →  341125100000 20261203 00042 (办件编号, no spaces)
    {dept_short}受字〔{yyyy}〕{seq}号      →  市监受字〔2026〕42号 (受理文书编号)

Fields: ``division`` (the 6/9/12-digit 行政区划 code), ``dept_short`` (a department's short name, up
to 10 characters), ``dept_code`` (统一社会信用代码, 18 characters), ``matter_code`` (the matter's
基本编码, up to 10 characters), the county-local date of the number as ``yyyy``, ``yy``, ``mm``, ``dd``,
``yyyymmdd``, and ``seq`` — the sequence number, optionally zero-padded (``{seq:05}``), exactly once.

The sequence comes from the caller, who owns the counter row: ``scope`` gives the counter's key (the
number with the sequence left out, e.g. ``市监受字〔2026〕#号``), so a counter per key yields unique
numbers that restart with every new year, month or day the pattern shows. Every number fits GB/T
39046 表5's an..50: a rule whose longest number could exceed 50 characters is refused when it is
saved, and a number is checked again when it is made.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, gettext

MAX_NUMBER_LENGTH = 50  # 表5 办件编号 an..50
MAX_PATTERN_LENGTH = 120
MAX_SEQ = 999_999_999
UNPADDED_SEQ_WIDTH = 6  # the width assumed for an unpadded {seq} when checking the longest number
SEQ_PLACEHOLDER = "#"

APPLICATION_DEFAULT = "{division}{yyyymmdd}{seq:05}"  # 办件编号
RECEIPT_DEFAULT = "{dept_short}受字〔{yyyy}〕{seq}号"  # 受理文书编号

# field → (longest value, how a value is checked). Date fields are filled from the instant.
_VALUE_FIELDS: dict[str, tuple[int, re.Pattern[str]]] = {
    "division": (12, re.compile(r"\d{6}|\d{9}|\d{12}")),
    "dept_short": (10, re.compile(r"[^\s{}#]{1,10}")),
    "dept_code": (18, re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")),
    "matter_code": (10, re.compile(r"[0-9A-Za-z]{1,10}")),
}
_DATE_FIELDS: dict[str, tuple[int, str]] = {
    "yyyy": (4, "%Y"),
    "yy": (2, "%y"),
    "mm": (2, "%m"),
    "dd": (2, "%d"),
    "yyyymmdd": (8, "%Y%m%d"),
}
FIELDS = frozenset({*_VALUE_FIELDS, *_DATE_FIELDS, "seq"})
FIELD_LABELS: dict[str, str] = {
    "division": N_("Division code"),
    "dept_short": N_("Department short name"),
    "dept_code": N_("Department credit code"),
    "matter_code": N_("Matter basic code"),
    "yyyy": N_("Year (4 digits)"),
    "yy": N_("Year (2 digits)"),
    "mm": N_("Month"),
    "dd": N_("Day of month"),
    "yyyymmdd": N_("Date (8 digits)"),
    "seq": N_("Sequence number"),
}
_SEQ_SPEC = re.compile(r"0?([1-9]\d?)?")


def _refuse(message: str, **params: object) -> ValidationFailed:
    text = gettext(message, **params) if params else message
    return ValidationFailed(message, errors=[{"field": "pattern", "message": text}], **params)


@dataclass(frozen=True)
class Rule:
    """A parsed, validated numbering pattern. Build with ``Rule.parse``."""

    pattern: str
    parts: tuple[tuple[str, str | None, int], ...]  # (literal, field or None, seq width)

    @classmethod
    def parse(cls, pattern: str) -> Rule:
        """Check a pattern; ``ValidationFailed`` (422) with a message a county administrator can act on."""
        if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
            raise _refuse(N_("A numbering rule has 1 to %(max)s characters"), max=MAX_PATTERN_LENGTH)
        try:
            pieces = list(string.Formatter().parse(pattern))
        except ValueError:
            raise _refuse(N_("The braces of the numbering rule do not match")) from None
        parts: list[tuple[str, str | None, int]] = []
        seen_seq = 0
        for literal, field, spec, conversion in pieces:
            if any(not ch.isprintable() or ch.isspace() or ch == SEQ_PLACEHOLDER for ch in literal):
                raise _refuse(N_("A numbering rule may not contain spaces, control characters or #"))
            if field is None:
                parts.append((literal, None, 0))
                continue
            if field not in FIELDS or conversion:
                raise _refuse(N_("Unknown field {%(field)s} in the numbering rule"), field=field[:20])
            width = 0
            if field == "seq":
                seen_seq += 1
                match = _SEQ_SPEC.fullmatch(spec or "")
                if match is None or (spec and not spec.startswith("0")):
                    raise _refuse(N_("The sequence is written {seq} or {seq:05} (zero-padded to 5 digits)"))
                width = int(match.group(1) or 0)
            elif spec:
                raise _refuse(N_("Only the sequence number may carry a format, e.g. {seq:05}"))
            parts.append((literal, field, width))
        if seen_seq != 1:
            raise _refuse(N_("A numbering rule contains the sequence {seq} exactly once"))
        rule = cls(pattern, tuple(parts))
        if rule.longest > MAX_NUMBER_LENGTH:
            raise _refuse(
                N_("The longest number this rule can make has %(length)s characters; at most %(max)s are allowed"),
                length=rule.longest,
                max=MAX_NUMBER_LENGTH,
            )
        return rule

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(f for _, f, _ in self.parts if f is not None)

    @property
    def longest(self) -> int:
        """The length of the longest number the rule can make (an unpadded sequence assumed 6 digits)."""
        total = 0
        for literal, field, width in self.parts:
            total += len(literal)
            if field == "seq":
                total += width or UNPADDED_SEQ_WIDTH
            elif field in _VALUE_FIELDS:
                total += _VALUE_FIELDS[field][0]
            elif field in _DATE_FIELDS:
                total += _DATE_FIELDS[field][0]
        return total

    def _render(self, at: datetime, values: dict[str, str], seq: str, tz: str | None) -> str:
        if at.tzinfo is None:
            raise ValueError("naive datetime given; pass a timezone-aware instant")
        local = at.astimezone(ZoneInfo(tz or county_tz()))
        out: list[str] = []
        for literal, field, width in self.parts:
            out.append(literal)
            if field == "seq":
                out.append(seq.zfill(width) if seq != SEQ_PLACEHOLDER else seq)
            elif field in _DATE_FIELDS:
                out.append(local.strftime(_DATE_FIELDS[field][1]))
            elif field is not None:
                value = values.get(field)
                if value is None:
                    raise ValueError(f"the numbering rule needs the field {field}")
                if not _VALUE_FIELDS[field][1].fullmatch(value):
                    raise ValueError(f"{value!r} is not a valid value for the field {field}")
                out.append(value)
        return "".join(out)

    def scope(self, *, at: datetime, tz: str | None = None, **values: str) -> str:
        """The counter key: the number with its sequence shown as ``#`` (one counter row per key).

        Dates are the county's (``tz``, default the ``timezone`` setting) on the day of ``at``."""
        return self._render(at, values, SEQ_PLACEHOLDER, tz)

    def render(self, *, seq: int, at: datetime, tz: str | None = None, **values: str) -> str:
        """The number for sequence ``seq`` (from the caller's counter for ``scope``) made at ``at``."""
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
            raise ValueError(f"the sequence number must be between 1 and {MAX_SEQ}")
        number = self._render(at, values, str(seq), tz)
        if len(number) > MAX_NUMBER_LENGTH:
            raise ValueError(f"the number {number!r} is longer than {MAX_NUMBER_LENGTH} characters")
        return number


def county_tz() -> str:
    """The county's time zone (settings), for callers that number in the county's days."""
    from countyos.core.settings import get_settings

    return get_settings().timezone
