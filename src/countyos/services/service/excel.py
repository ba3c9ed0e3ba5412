"""The matter catalogue as an Excel workbook with the Chinese column headers of GB/T 39046-2020 表4.

Three sheets: 事项 (one row per matter), 申请材料 and 办理流程 (one row per material or step, keyed by
实施编码, in order). Sheets are found by their headers, not their names, and the header row may sit
below a title. Codes are read as the national code ("01") or the standard's name (行政许可); booleans as
是/否. The import checks every row first and reports each problem with its sheet, row, column and a
message; a bad row rejects the whole file unless ``skip_bad_rows``. A matter whose 实施编码 exists gets
a new version when something changed and is left alone otherwise.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import CountyError, ValidationFailed
from countyos.core.i18n import N_
from countyos.core.tabular import CellError, Problem, Sheet, SheetLimits, append_row, header_sheet, read_sheets
from countyos.org.service import audit, departments
from countyos.services import codes
from countyos.services.codes import (
    ApplicationKind,
    Audience,
    BodyNature,
    HandlingForm,
    Level,
    MatterType,
    Scope,
    TimeLimitUnit,
)
from countyos.services.models import Matter, MatterStatus, MatterVersion
from countyos.services.schemas import MatterIn
from countyos.services.service import catalogue

MAX_FILE_BYTES = 20_000_000
MAX_ROWS = 20_000  # per sheet
HEADER_SCAN_ROWS = 5

MATTER_SHEET = "事项"
MATERIAL_SHEET = "申请材料"
STEP_SHEET = "办理流程"

ENUM = "enum"
ENUMS = "enums"
INT = "int"
BOOL = "bool"
TEXT = "text"
DEPARTMENT = "department"
STATUS = "status"

# (header, field, kind, enum) in the order of the export
MATTER_COLUMNS: list[tuple[str, str, str, type[StrEnum] | None]] = [
    ("事项名称", "name", TEXT, None),
    ("基本编码", "basic_code", TEXT, None),
    ("实施编码", "code", TEXT, None),
    ("事项类型", "matter_type", ENUM, MatterType),
    ("行使层级", "level", ENUM, Level),
    ("实施主体", "body_name", TEXT, None),
    ("实施主体编码", "body_uscc", TEXT, None),
    ("实施主体性质", "body_nature", ENUM, BodyNature),
    ("设定依据", "legal_basis", TEXT, None),
    ("法定办结时限", "legal_limit", INT, None),
    ("法定办结时限单位", "legal_limit_unit", ENUM, TimeLimitUnit),
    ("法定办结时限说明", "legal_limit_note", TEXT, None),
    ("承诺办结时限", "promised_limit", INT, None),
    ("承诺办结时限单位", "promised_limit_unit", ENUM, TimeLimitUnit),
    ("承诺办结时限说明", "promised_limit_note", TEXT, None),
    ("受理条件", "accept_conditions", TEXT, None),
    ("办件类型", "application_kind", ENUM, ApplicationKind),
    ("服务对象", "audiences", ENUMS, Audience),
    ("办理形式", "handling_forms", ENUMS, HandlingForm),
    ("通办范围", "scope", ENUM, Scope),
    ("到办事现场次数", "visits", INT, None),
    ("办理地点", "place", TEXT, None),
    ("办理时间", "hours", TEXT, None),
    ("咨询电话", "consult_phone", TEXT, None),
    ("监督电话", "supervise_phone", TEXT, None),
    ("是否收费", "charged", BOOL, None),
    ("收费依据", "fee_basis", TEXT, None),
    ("结果名称", "result_name", TEXT, None),
    ("服务主题", "theme", TEXT, None),
    ("常见问题", "faq", TEXT, None),
    ("是否网办", "online", BOOL, None),
    ("特别程序", "special_procedure", TEXT, None),
    ("责任部门", "department_id", DEPARTMENT, None),
    ("事项状态", "status", STATUS, None),
]
MATERIAL_COLUMNS: list[tuple[str, str, str]] = [
    ("实施编码", "code", TEXT),
    ("材料名称", "name", TEXT),
    ("出具机构", "issuer", TEXT),
    ("是否必备材料", "required", BOOL),
    ("原件份数", "originals", INT),
    ("复印件份数", "copies", INT),
    ("材料说明", "note", TEXT),
    ("样表地址", "sample_url", TEXT),
]
STEP_COLUMNS: list[tuple[str, str, str]] = [
    ("实施编码", "code", TEXT),
    ("环节名称", "name", TEXT),
    ("办理部门", "department_id", DEPARTMENT),
    ("时限占比", "time_share", INT),
]
# Other headers seen in catalogues → the header above.
HEADER_ALIASES = {
    "事项类型代码": "事项类型",
    "行使层级代码": "行使层级",
    "实施主体代码": "实施主体编码",
    "实施主体统一社会信用代码": "实施主体编码",
    "实施主体性质代码": "实施主体性质",
    "办件类型代码": "办件类型",
    "服务对象代码": "服务对象",
    "办理形式代码": "办理形式",
    "通办范围代码": "通办范围",
    "到现场次数": "到办事现场次数",
    "办事者到办事现场次数": "到办事现场次数",
    "是否支持网上办理": "是否网办",
    "承办机构": "责任部门",
    "办理部门": "办理部门",
    "是否必备": "是否必备材料",
    "必备": "是否必备材料",
    "材料必要性": "是否必备材料",
    "材料办理说明": "材料说明",
    "说明": "材料说明",
    "备注": "材料说明",
    "样表": "样表地址",
    "环节办理部门": "办理部门",
    "处理部门": "办理部门",
    "办理环节": "环节名称",
}
STATUS_NAMES = {MatterStatus.DRAFT: "草稿", MatterStatus.PUBLISHED: "已发布", MatterStatus.WITHDRAWN: "已撤销"}
TRUE_WORDS = {"是", "1", "y", "yes", "true", "必备", "必须", "需要"}
FALSE_WORDS = {"否", "0", "n", "no", "false", "非必备", "容缺", "不需要", "无"}
# The message of a refusal by the shape (``MatterIn``), by Pydantic's error type.
SHAPE_MESSAGES = {
    "missing": N_("Required"),
    "string_too_short": N_("Required"),
    "too_short": N_("Required"),
    "string_too_long": N_("Too long"),
    "too_long": N_("Too many"),
    "greater_than_equal": N_("Out of range"),
    "less_than_equal": N_("Out of range"),
    "string_pattern_mismatch": N_("Not in the expected form"),
    "enum": N_("Not one of the choices"),
}
_SPLIT = re.compile(r"[,，;；、/|\n]+")


@dataclass
class RowResult:
    row: int
    code: str
    name: str
    result: str  # created | new_version | unchanged | skipped


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, result: str) -> int:
        return sum(r.result == result for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "applied": self.applied,
            "created": self.count("created"),
            "new_versions": self.count("new_version"),
            "unchanged": self.count("unchanged"),
            "skipped": self.count("skipped"),
            "rows": [r.__dict__ for r in self.rows],
            "problems": [
                {"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ],
        }


# -- export ---------------------------------------------------------------------------------------


def _export_value(kind: str, value: Any, dep_names: dict[int, str], enum: type[StrEnum] | None = None) -> Any:
    if value is None:
        return None
    if kind in (ENUM, ENUMS):
        assert enum is not None
        items = value if kind == ENUMS else [value]
        return "、".join(codes.standard_name(enum(v)) for v in items)
    if kind == BOOL:
        return "是" if value else "否"
    if kind == DEPARTMENT:
        return dep_names.get(value)
    if kind == STATUS:
        return STATUS_NAMES[value]
    return value


def export_workbook(session: Session, matters: Iterable[Matter] | None = None) -> bytes:
    """The catalogue (every matter's current version, or MATTERS) as an .xlsx workbook."""
    dep_names = {d.id: d.name for d in departments.all_active(session)}
    wb = Workbook()
    ms = header_sheet(wb, MATTER_SHEET, [c[0] for c in MATTER_COLUMNS], first=True)
    mats = header_sheet(wb, MATERIAL_SHEET, [c[0] for c in MATERIAL_COLUMNS])
    steps = header_sheet(wb, STEP_SHEET, [c[0] for c in STEP_COLUMNS])
    for m in matters if matters is not None else catalogue.all_matters(session):
        v: MatterVersion = catalogue.current(m)
        values = {"code": m.code, "basic_code": m.basic_code, "status": m.status}
        append_row(
            ms,
            [
                _export_value(kind, values[f] if f in values else getattr(v, f), dep_names, enum)
                for _, f, kind, enum in MATTER_COLUMNS
            ],
        )
        for mat in v.materials:
            values = {"code": m.code}
            append_row(
                mats,
                [_export_value(k, values.get(f, getattr(mat, f, None)), dep_names) for _, f, k in MATERIAL_COLUMNS],
            )
        for st in v.steps:
            values = {"code": m.code}
            append_row(
                steps, [_export_value(k, values.get(f, getattr(st, f, None)), dep_names) for _, f, k in STEP_COLUMNS]
            )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- reading --------------------------------------------------------------------------------------


def _is_known(found: Mapping[str, int]) -> bool:
    return "实施编码" in found and bool({"事项名称", "材料名称", "环节名称"} & set(found))


def _read_sheets(data: bytes) -> list[Sheet]:
    limits = SheetLimits(file_bytes=MAX_FILE_BYTES, rows=MAX_ROWS, header_scan_rows=HEADER_SCAN_ROWS)
    return read_sheets(data, is_header=_is_known, aliases=HEADER_ALIASES, limits=limits)


def _enum(kind: type[StrEnum], text: str) -> StrEnum:
    try:
        return codes.from_name_or_code(kind, text)
    except ValueError:
        raise CellError(N_("Not one of the choices: %(value)s"), value=text[:40]) from None


def _int(text: str) -> int:
    m = re.fullmatch(r"(\d{1,5})(?:\.0+)?\s*(?:个)?(?:工作日|自然日|天|日|次|份|%)?", text)
    if not m:
        raise CellError(N_("Not a whole number: %(value)s"), value=text[:40])
    return int(m.group(1))


def _bool(text: str) -> bool:
    t = text.lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise CellError(N_("Write 是 or 否"))


def _cell(kind: str, text: str, enum: type[StrEnum] | None, deps: dict[str, int]) -> Any:
    if kind == ENUM:
        assert enum is not None
        return str(_enum(enum, text))
    if kind == ENUMS:
        assert enum is not None
        return [str(_enum(enum, part)) for part in _SPLIT.split(text) if part.strip()]
    if kind == INT:
        return _int(text)
    if kind == BOOL:
        return _bool(text)
    if kind == DEPARTMENT:
        dep = deps.get("".join(text.split()))
        if dep is None:
            raise CellError(N_("No such department: %(value)s"), value=text[:60])
        return dep
    if kind == STATUS:
        for status, name in STATUS_NAMES.items():
            if text in (name, str(status)):
                return status
        raise CellError(N_("Not one of the choices: %(value)s"), value=text[:40])
    return text


def _record(
    sheet: Sheet,
    values: tuple[Any, ...],
    columns: Iterable[tuple[str, str, str, type[StrEnum] | None]],
    deps: dict[str, int],
    problem: Callable[[str, CellError], None],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for header, name, kind, enum in columns:
        text = sheet.get(values, header)
        if not text:
            continue
        try:
            out[name] = _cell(kind, text, enum, deps)
        except CellError as exc:
            problem(header, exc)
    return out


# -- import ---------------------------------------------------------------------------------------

_FIELD_HEADERS = {f: h for h, f, _k, _e in MATTER_COLUMNS}
_MATERIAL_HEADERS = {f: h for h, f, _k in MATERIAL_COLUMNS}
_STEP_HEADERS = {f: h for h, f, _k in STEP_COLUMNS}


@dataclass
class _Pending:
    sheet: str
    row: int
    code: str
    name: str
    values: dict[str, Any]
    status: MatterStatus | None
    step_rows: list[tuple[str, int]] = field(default_factory=list)
    material_rows: list[tuple[str, int]] = field(default_factory=list)
    bad: bool = False
    data: MatterIn | None = None


def _locate(p: _Pending, loc: tuple[Any, ...]) -> tuple[str, int, str | None]:
    """(sheet, row, column) of a refused field of a matter."""
    name = str(loc[0]) if loc else ""
    if name in ("steps", "materials") and len(loc) >= 2 and isinstance(loc[1], int):
        rows = p.step_rows if name == "steps" else p.material_rows
        headers = _STEP_HEADERS if name == "steps" else _MATERIAL_HEADERS
        if loc[1] < len(rows):
            sheet, row = rows[loc[1]]
            return sheet, row, headers.get(str(loc[-1]))
    return p.sheet, p.row, _FIELD_HEADERS.get(name)


def import_workbook(session: Session, *, actor: Actor, data: bytes, skip_bad_rows: bool = False) -> ImportReport:
    """Read, check and (when every row is good, or with SKIP_BAD_ROWS for the good ones) apply a
    catalogue workbook. Nothing is written when a bad row rejects the file."""
    report = ImportReport()
    sheets = _read_sheets(data)
    matter_sheets = [s for s in sheets if "事项名称" in s.columns]
    if not matter_sheets:
        raise ValidationFailed(N_("No sheet has the columns 实施编码 and 事项名称"))
    deps = {"".join(d.name.split()): d.id for d in departments.all_active(session)}
    pending: dict[str, _Pending] = {}
    order: list[_Pending] = []

    for sheet in matter_sheets:
        for row, values in sheet.rows:

            def problem(column: str | None, exc: CellError, *, _s: str = sheet.title, _r: int = row) -> None:
                report.problems.append(Problem(_s, _r, column, exc.message_id, exc.params))

            before = len(report.problems)
            rec = _record(sheet, values, MATTER_COLUMNS, deps, problem)
            code = str(rec.get("code") or "")
            p = _Pending(sheet.title, row, code, str(rec.get("name") or ""), rec, rec.pop("status", None))
            p.bad = len(report.problems) > before
            if not code:
                report.problems.append(Problem(sheet.title, row, "实施编码", N_("Required")))
                p.bad = True
            elif code in pending:
                report.problems.append(
                    Problem(
                        sheet.title, row, "实施编码", N_("The same code is in row %(row)s"), {"row": pending[code].row}
                    )
                )
                p.bad = True
            else:
                pending[code] = p
            order.append(p)

    for kind, columns, key in (
        ("materials", MATERIAL_COLUMNS, "material_rows"),
        ("steps", STEP_COLUMNS, "step_rows"),
    ):
        first = "材料名称" if kind == "materials" else "环节名称"
        for sheet in (s for s in sheets if first in s.columns and "事项名称" not in s.columns):
            for row, values in sheet.rows:
                code = sheet.get(values, "实施编码")
                target = pending.get(code)
                sub_problems: list[Problem] = []

                def problem(column: str | None, exc: CellError, *, _s: str = sheet.title, _r: int = row) -> None:
                    sub_problems.append(Problem(_s, _r, column, exc.message_id, exc.params))  # noqa: B023

                rec = _record(sheet, values, [(h, f, k, None) for h, f, k in columns], deps, problem)
                rec.pop("code", None)
                if target is None:
                    sub_problems.append(
                        Problem(
                            sheet.title,
                            row,
                            "实施编码",
                            N_("No matter in the file has this code: %(value)s"),
                            {"value": code[:64]},
                        )
                    )
                else:
                    target.values.setdefault(kind, []).append(rec)
                    getattr(target, key).append((sheet.title, row))
                    target.bad = target.bad or bool(sub_problems)
                report.problems.extend(sub_problems)

    for p in order:
        if p.bad or pending.get(p.code) is not p:
            continue
        fields = dict(p.values)
        fields.setdefault("steps", [])
        fields.setdefault("materials", [])
        try:
            p.data = MatterIn.model_validate(fields)
            catalogue.validate(session, p.data)
        except PydanticValidationError as exc:
            p.bad = True
            for e in exc.errors():
                sheet_name, row, column = _locate(p, tuple(e["loc"]))
                report.problems.append(Problem(sheet_name, row, column, SHAPE_MESSAGES.get(e["type"], N_("Not valid"))))
        except ValidationFailed as exc:
            p.bad = True
            for err in exc.errors:
                sheet_name, row, column = _locate(p, tuple(_loc(str(err.get("field") or ""))))
                report.problems.append(Problem(sheet_name, row, column, str(err.get("message") or N_("Not valid"))))

    sheet_order = {s.title: i for i, s in enumerate(sheets)}
    report.problems.sort(key=lambda pr: (sheet_order.get(pr.sheet, 0), pr.row))
    if report.problems and not skip_bad_rows:
        report.rows = [RowResult(p.row, p.code, p.name, "skipped") for p in order]
        return report
    for p in order:
        if p.bad or p.data is None:
            report.rows.append(RowResult(p.row, p.code, p.name, "skipped"))
            continue
        report.rows.append(RowResult(p.row, p.code, p.name, _apply(session, actor, p.data, p.status)))
    report.applied = True
    audit.record(
        session,
        actor=actor,
        action="services.matter.import",
        target_type="services_matter",
        detail={k: report.count(k) for k in ("created", "new_version", "unchanged", "skipped")}
        | {"problems": len(report.problems)},
    )
    return report


def _loc(field_name: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in field_name.split(".")]


def _apply(session: Session, actor: Actor, data: MatterIn, status: MatterStatus | None) -> str:
    existing = catalogue.get_by_code(session, code=data.code)
    if existing is None:
        matter = catalogue.create(session, actor=actor, data=data)
        result = "created"
    else:
        matter, changed = catalogue.edit(session, actor=actor, matter_id=existing.id, data=data)
        result = "new_version" if changed else "unchanged"
    if status is not None and status != matter.status:
        try:
            if status == MatterStatus.PUBLISHED:
                catalogue.publish(session, actor=actor, matter_id=matter.id)
            elif status == MatterStatus.WITHDRAWN:
                catalogue.withdraw(session, actor=actor, matter_id=matter.id)
        except CountyError:
            pass  # a draft is not withdrawn and a published matter does not go back to draft
    return result
