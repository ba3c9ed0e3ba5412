"""Laboratory results from a file (CSV or XLSX), all or nothing, with a report per row.

The header row (it may sit below a title) has 断面编码, 采样时间 and one column per parameter by its
Chinese name in GB 3838-2002 表1 (溶解氧, 高锰酸盐指数, 化学需氧量, 五日生化需氧量, 氨氮, 总磷, 总氮, 铜 …;
the usual variants such as 总磷(以P计) or NH3-N are read as these), optionally 检测单位 and 报告编号. An
empty cell is a parameter not measured; a time without a zone is the county's local time. Every row is
checked (section known, time plausible, numbers, no result twice) before anything is written; one bad
row refuses the file with each problem's row and column. One audit record per file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core import tabular
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.tabular import Problem
from countyos.eco.models.water import SampleSource, WaterSample, WaterSection
from countyos.eco.service import gb3838, water
from countyos.org.service import audit

MAX_FILE_BYTES = 5_000_000
MAX_ROWS = 5_000
SECTION, TIME, LAB, REPORT = "断面编码", "采样时间", "检测单位", "报告编号"
ALIASES = {
    "断面代码": SECTION,
    "点位编码": SECTION,
    "监测断面编码": SECTION,
    "采样日期": TIME,
    "监测时间": TIME,
    "采样日期时间": TIME,
    "检测机构": LAB,
    "实验室": LAB,
    "监测单位": LAB,
    "报告编码": REPORT,
    "检测报告编号": REPORT,
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")


@dataclass
class Row:
    row: int
    section: WaterSection
    sampled_at: datetime
    values: dict[str, float]
    lab_name: str
    report_no: str


@dataclass
class Report:
    added: int = 0
    rows: list[tuple[int, str, datetime, str | None, bool | None]] = field(default_factory=list)


def header(text: str) -> str:
    """A header as read: spaces and a required mark dropped, our aliases and the parameters' names
    (→ the Chinese name of 表1)."""
    word = "".join(str(text or "").split()).strip("*＊")
    word = ALIASES.get(word, word)
    code = gb3838.code_of_name().get(word)
    return gb3838.items()[code].name if code is not None else word


def _is_header(found: Any) -> bool:
    return SECTION in found and TIME in found


def read_file(data: bytes, filename: str = "") -> list[tuple[int, dict[str, str]]]:
    """The rows of an uploaded CSV or XLSX file (row number, header → text), bounded in size and rows."""
    return tabular.read_table_rows(
        data,
        filename,
        header=header,
        is_header=_is_header,
        missing_header=N_("No header row with 断面编码 and 采样时间 was found"),
        max_file_bytes=MAX_FILE_BYTES,
        max_rows=MAX_ROWS,
        max_columns=60,
        max_chars=200,
    )


def parse_time(text: str) -> datetime | None:
    text = text.strip()
    for fmt in TIME_FORMATS:
        try:
            return water.aware(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return water.aware(datetime.fromisoformat(text))
    except ValueError:
        return None


def _number(text: str) -> float | None:
    try:
        v = float(text.replace(",", ""))
    except ValueError:
        return None
    return v if math.isfinite(v) and 0 <= v <= gb3838.MAX_VALUE else None


def check_rows(session: Session, *, rows: list[tuple[int, dict[str, str]]], sheet: str = "") -> list[Row]:
    """Every row checked; refused with every problem at once (``tabular.refusal``, 422) when any has one."""
    problems: list[Problem] = []
    out: list[Row] = []
    codes = {r.get(SECTION, "") for _, r in rows}
    sections = {s.code: s for s in session.scalars(select(WaterSection).where(WaterSection.code.in_(codes)))}
    names = {it.name: code for code, it in gb3838.items().items()}
    seen: dict[tuple[int, datetime], int] = {}
    latest = utcnow()
    for n, cells in rows:
        code = cells.get(SECTION, "")
        section = sections.get(code)
        if section is None:
            message = N_("Unknown section %(value)s") if code else N_("Required")
            problems.append(Problem(sheet, n, SECTION, message, {"value": code[:40]} if code else {}))
        text = cells.get(TIME, "")
        at = parse_time(text) if text else None
        if at is None:
            problems.append(
                Problem(sheet, n, TIME, N_("Not a time such as 2026-11-05 10:30") if text else N_("Required"))
            )
        elif at < water.EARLIEST or at > latest:
            problems.append(Problem(sheet, n, TIME, N_("The sampling time is not plausible")))
            at = None
        values: dict[str, float] = {}
        bad_number = False
        for head, value in cells.items():
            if head in names and value.strip():
                number = _number(value.strip())
                if number is None:
                    problems.append(Problem(sheet, n, head, N_("Not a number")))
                    bad_number = True
                else:
                    values[names[head]] = number
        if not values and not bad_number:
            problems.append(Problem(sheet, n, None, N_("The row has no parameter value")))
        if section is None or at is None or not values:
            continue
        key = (section.id, at)
        if key in seen:
            problems.append(Problem(sheet, n, TIME, N_("The same result is on row %(row)s too"), {"row": seen[key]}))
            continue
        seen[key] = n
        out.append(Row(n, section, at, values, cells.get(LAB, "")[:100], cells.get(REPORT, "")[:60]))
    _known(session, sheet, out, problems)
    if problems:
        problems.sort(key=lambda p: p.row)
        raise tabular.refusal(problems)
    return out


def _known(session: Session, sheet: str, rows: list[Row], problems: list[Problem]) -> None:
    """A result already kept (entered or imported) for the same section and time is a problem of its row."""
    ids = {r.section.id for r in rows}
    if not ids:
        return
    kept = {
        (section_id, at)
        for section_id, at in session.execute(
            select(WaterSample.section_id, WaterSample.sampled_at).where(
                WaterSample.section_id.in_(ids), WaterSample.source.in_([SampleSource.LAB, SampleSource.IMPORT])
            )
        )
    }
    for r in rows:
        if (r.section.id, r.sampled_at) in kept:
            problems.append(Problem(sheet, r.row, TIME, N_("This section already has a result sampled at this time")))


def import_file(session: Session, *, actor: Actor, data: bytes, filename: str = "") -> Report:
    """Lab results from a file, all or nothing (nothing is written when a row is bad); one audit record."""
    rows = read_file(data, filename)
    if not rows:
        raise ValidationFailed(N_("The file has no rows below its header"))
    checked = check_rows(session, rows=rows, sheet=filename[:100])
    report = Report()
    for r in sorted(checked, key=lambda r: r.sampled_at):
        sample = water.save_sample(
            session,
            actor=actor,
            section=r.section,
            sampled_at=r.sampled_at,
            values=r.values,
            source=SampleSource.IMPORT,
            lab_name=r.lab_name,
            report_no=r.report_no,
            audited=False,
        )
        report.added += 1
        report.rows.append((r.row, r.section.code, sample.sampled_at, sample.cls, sample.meets))
    report.rows.sort()
    audit.record(
        session,
        actor=actor,
        action="eco.water.sample.import",
        target_type=water.TARGET,
        detail={"file": filename[:200], "added": report.added},
    )
    return report
