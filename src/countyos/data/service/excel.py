"""The data resource catalogue (政务信息资源目录) as an Excel workbook with the Chinese column headers of
《政务信息资源目录编制指南（试行）》.

Three sheets: 信息资源 (one row per resource), 信息项 and 质量规则 (one row per information item or quality
rule, keyed by 信息资源代码). Sheets are found by their headers, not their names, and the header row may
sit below a title. Codes are read as the standard's code (共享类型 ``1``) or its Chinese name (无条件共享),
booleans as 是/否, the provider by its 统一社会信用代码 or its exact name; the export writes the names.

Every resource is parsed by ``ResourceIn`` (the one model of every input) and each problem reported with
its sheet, row, column and a message; a bad row rejects the whole file unless ``skip_bad_rows``. An
existing 信息资源代码 updates its entry when something changed and the entry is being drafted; a new one
is created as a draft. All of it runs in the caller's transaction, and when the service refuses a row
(the actor may not edit that provider's entries, say) without ``skip_bad_rows``, a savepoint undoes
whatever the import had written.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.i18n import N_
from countyos.core.tabular import CellError, Problem, Sheet, SheetLimits, append_row, header_sheet, read_sheets
from countyos.data.codes import FieldType, Grade, OpenType, RuleKind, ShareMethod, ShareType, UpdateCycle
from countyos.data.lifecycle import State
from countyos.data.models import Resource
from countyos.data.schemas import InfoItemIn, ResourceIn
from countyos.data.service import catalogue, quality
from countyos.org.models import Department
from countyos.org.service import audit, departments

E = TypeVar("E", bound=StrEnum)


class CodeTable(Generic[E]):
    """A code set as the workbook writes it: each value's Chinese name (written by the export) and the
    other spellings an import accepts (the standard's numeric code, common variants, the stored value)."""

    def __init__(self, names: Mapping[E, tuple[str, ...]]) -> None:
        self.names = dict(names)
        self._read = {s.lower(): v for v, spellings in names.items() for s in (*spellings, str(v))}

    def name(self, value: E | str) -> str:
        return next(n for v, (n, *_rest) in self.names.items() if v == value)

    def read(self, text: str) -> E:
        value = self._read.get(text.lower())
        if value is None:
            raise CellError(N_("Not one of the choices: %(value)s"), value=text[:40])
        return value


# -- the code tables (the first spelling is the name the export writes) ---------------------------------

SHARE_TYPES = CodeTable(
    {
        ShareType.UNCONDITIONAL: ("无条件共享", "1"),
        ShareType.CONDITIONAL: ("有条件共享", "2"),
        ShareType.NONE: ("不予共享", "3"),
    }
)
SHARE_METHODS = CodeTable(
    {
        ShareMethod.PLATFORM: ("共享平台方式", "1", "共享平台"),
        ShareMethod.EMAIL: ("邮件方式", "2", "邮件"),
        ShareMethod.MEDIA: ("介质方式", "3", "介质"),
    }
)
OPEN_TYPES = CodeTable(
    {
        OpenType.UNCONDITIONAL: ("无条件开放",),
        OpenType.CONDITIONAL: ("有条件开放",),
        OpenType.CLOSED: ("不开放", "不予开放"),
    }
)
UPDATE_CYCLES = CodeTable(
    {
        UpdateCycle.IRREGULAR: ("不定时", "1", "不定期"),
        UpdateCycle.REALTIME: ("实时", "2"),
        UpdateCycle.DAILY: ("每日", "3", "每天"),
        UpdateCycle.WEEKLY: ("每周", "4"),
        UpdateCycle.MONTHLY: ("每月", "5"),
        UpdateCycle.QUARTERLY: ("每季度", "6"),
        UpdateCycle.HALF_YEARLY: ("每半年", "7"),
        UpdateCycle.YEARLY: ("每年", "8"),
        UpdateCycle.OTHER: ("其他", "9"),
    }
)
GRADES = CodeTable(
    {
        Grade.GENERAL: ("一般", "一般数据"),
        Grade.IMPORTANT: ("重要", "重要数据"),
        Grade.CORE: ("核心", "核心数据"),
    }
)
# 字段类型 codes as cn_standards.md §4 lists them: 0 数字 1 字符 2 日期 3 日期时间 5 布尔.
FIELD_TYPES = CodeTable(
    {
        FieldType.INTEGER: ("整数", "整型"),
        FieldType.NUMBER: ("小数", "数字", "数值", "0"),
        FieldType.TEXT: ("字符", "文本", "字符串", "字符型", "1"),
        FieldType.DATE: ("日期", "日期型", "2"),
        FieldType.DATETIME: ("日期时间", "3"),
        FieldType.BOOLEAN: ("布尔", "布尔型", "5"),
        FieldType.GEOMETRY: ("空间", "空间数据"),
    }
)
RULE_KINDS = CodeTable(
    {
        RuleKind.NOT_NULL: ("非空",),
        RuleKind.UNIQUE: ("唯一",),
        RuleKind.CODE_LIST: ("代码值域", "值域"),
        RuleKind.RANGE: ("数值范围", "范围"),
        RuleKind.DATE: ("日期格式与范围", "日期"),
        RuleKind.RESIDENT_ID: ("公民身份号码",),
        RuleKind.USCC: ("统一社会信用代码",),
        RuleKind.PHONE: ("电话号码格式", "电话号码"),
        RuleKind.IN_COUNTY: ("点位在本县域内", "本县域内"),
    }
)
STATE_NAMES = {  # 目录状态 (export only)
    State.DRAFT: "编制中",
    State.IN_REVIEW: "发布待审核",
    State.PUBLISHED: "已发布",
    State.REVOKE_REVIEW: "撤销待审核",
    State.REVOKED: "已撤销",
}
TRUE_WORDS = {"是", "1", "y", "yes", "true", "√"}
FALSE_WORDS = {"否", "0", "n", "no", "false", "×"}

MAX_FILE_BYTES = 20_000_000
MAX_UNPACKED_BYTES = 400_000_000  # the sheets' XML, unzipped
MAX_ROWS = 20_000  # per sheet
HEADER_SCAN_ROWS = 5

RESOURCE_SHEET = "信息资源"
ITEM_SHEET = "信息项"
RULE_SHEET = "质量规则"
CODE = "信息资源代码"

TEXT, INT, BOOL, WORDS, CODED, JSON_OBJECT, EXPORT_ONLY = "text", "int", "bool", "words", "coded", "json", "export"


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # ResourceIn / InfoItemIn / RuleIn field, or a name the import resolves itself
    kind: str = TEXT
    codes: CodeTable[Any] | None = None


RESOURCE_COLUMNS = [
    Column("信息资源分类1", "class_1"),
    Column("信息资源分类2", "class_2"),
    Column("信息资源分类3", "class_3"),
    Column("信息资源分类4", "class_4"),
    Column("信息资源名称", "title"),
    Column(CODE, "code"),
    Column("英文标识", "name"),
    Column("信息资源提供方", "provider_name"),
    Column("信息资源提供方代码", "provider_uscc"),
    Column("信息资源摘要", "summary"),
    Column("信息资源格式", "format"),
    Column("共享类型", "share_type", CODED, SHARE_TYPES),
    Column("共享条件", "share_condition"),
    Column("共享方式", "share_method", CODED, SHARE_METHODS),
    Column("是否向社会开放", "is_open", BOOL),
    Column("开放类型", "open_type", CODED, OPEN_TYPES),
    Column("开放条件", "open_condition"),
    Column("更新周期", "update_cycle", CODED, UPDATE_CYCLES),
    Column("发布日期", "published_on", EXPORT_ONLY),
    Column("所属系统名称", "source_system"),
    Column("数据分级", "grade", CODED, GRADES),
    Column("敏感级别", "sensitivity", INT),
    Column("关键字", "keywords", WORDS),
    Column("主题", "themes", WORDS),
    Column("许可", "licence"),
    Column("目录状态", "state", EXPORT_ONLY),
]
ITEM_COLUMNS = [
    Column(CODE, "code"),
    Column("序号", "position", INT),
    Column("中文名称", "label"),
    Column("英文名称", "name"),
    Column("数据类型", "type", CODED, FIELD_TYPES),
    Column("数据长度", "length", INT),
    Column("是否主键", "is_key", BOOL),
    Column("是否可空", "nullable", BOOL),
    Column("是否敏感", "sensitive", BOOL),
    Column("共享属性", "shared", BOOL),
    Column("开放属性", "open", BOOL),
]
RULE_COLUMNS = [
    Column(CODE, "code"),
    Column("英文名称", "column"),
    Column("规则", "kind", CODED, RULE_KINDS),
    Column("参数", "params", JSON_OBJECT),
]
# Other headers seen in catalogues → the header above.
HEADER_ALIASES = {
    "信息资源标识符": CODE,
    "资源代码": CODE,
    "信息资源提供方名称": "信息资源提供方",
    "信息资源提供方统一社会信用代码": "信息资源提供方代码",
    "提供方代码": "信息资源提供方代码",
    "关键词": "关键字",
    "敏感等级": "敏感级别",
    "信息项名称": "中文名称",
    "字段类型": "数据类型",
    "字段长度": "数据长度",
    "规则类型": "规则",
    "质量规则": "规则",
    "规则参数": "参数",
}
# The message of a refusal by ``ResourceIn``, by Pydantic's error type (value errors carry their own).
SHAPE_MESSAGES = {
    "missing": N_("Required"),
    "string_too_short": N_("Required"),
    "too_short": N_("Required"),
    "string_too_long": N_("Too long"),
    "too_long": N_("Too many"),
    "greater_than_equal": N_("Out of range"),
    "less_than_equal": N_("Out of range"),
    "enum": N_("Not one of the choices"),
}
# The column of a refusal by ``ResourceIn``'s checks across fields, by its message id.
CROSS_FIELD_COLUMNS = {
    "共享条件 is required unless the resource is shared unconditionally.": "共享条件",
    "开放条件 is required when the resource is opened on conditions.": "开放条件",
    "Important and core data are not opened to the public.": "开放类型",
}
_SPLIT = re.compile(r"[、,，;；\n]+")
_INT = re.compile(r"(\d{1,6})(?:\.0+)?\s*(?:级|位|个字符)?")

CREATED, UPDATED, UNCHANGED, SKIPPED = "created", "updated", "unchanged", "skipped"


@dataclass
class RowResult:
    row: int
    code: str
    title: str
    result: str  # created | updated | unchanged | skipped


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False

    def count(self, result: str) -> int:
        return sum(r.result == result for r in self.rows)

    @property
    def created(self) -> int:
        return self.count(CREATED)

    @property
    def updated(self) -> int:
        return self.count(UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def skipped(self) -> int:
        return self.count(SKIPPED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rows": [r.__dict__ for r in self.rows],
            "problems": [
                {"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ],
        }


# -- export ---------------------------------------------------------------------------------------


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _resource_values(res: Resource) -> dict[str, Any]:
    values: dict[str, Any] = {f: getattr(res, f) for f in catalogue.COPIED}
    values.update(
        provider_name=res.provider.name,
        provider_uscc=res.provider.uscc,
        is_open=res.open_type != OpenType.CLOSED,
        published_on=res.published_on,
        state=STATE_NAMES[res.state],
        keywords="、".join(res.keywords),
        themes="、".join(res.themes),
    )
    return values


def _row(columns: Sequence[Column], values: Mapping[str, Any]) -> list[Any]:
    out = []
    for col in columns:
        value = values.get(col.field)
        if col.codes is not None and value is not None:
            value = col.codes.name(value)
        elif isinstance(value, bool):
            value = _yes(value)
        out.append(None if value == "" else value)
    return out


def _sheet(wb: Workbook, title: str, columns: Sequence[Column], first: bool = False) -> Worksheet:
    return header_sheet(wb, title, [c.header for c in columns], first=first)


def all_resources(session: Session) -> Sequence[Resource]:
    return session.scalars(select(Resource).order_by(Resource.code).options(selectinload(Resource.items))).all()


def export_workbook(session: Session, resources: Iterable[Resource] | None = None) -> bytes:
    """The catalogue (every entry, or RESOURCES) as an .xlsx workbook that :func:`import_workbook` reads."""
    wb = Workbook()
    rs = _sheet(wb, RESOURCE_SHEET, RESOURCE_COLUMNS, first=True)
    its = _sheet(wb, ITEM_SHEET, ITEM_COLUMNS)
    rus = _sheet(wb, RULE_SHEET, RULE_COLUMNS)
    for res in resources if resources is not None else all_resources(session):
        append_row(rs, _row(RESOURCE_COLUMNS, _resource_values(res)))
        for item in res.items:
            values = {c.field: getattr(item, c.field, None) for c in ITEM_COLUMNS}
            append_row(its, _row(ITEM_COLUMNS, values | {"code": res.code, "length": item.length or None}))
        for rule in res.rules:
            params = rule.get("params") or {}
            values = {"code": res.code, "column": rule["column"], "kind": rule["kind"]}
            values["params"] = json.dumps(params, ensure_ascii=False) if params else None
            append_row(rus, _row(RULE_COLUMNS, values))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- reading --------------------------------------------------------------------------------------


def _is_known(found: Mapping[str, int]) -> bool:
    return CODE in found and bool({"信息资源名称", "中文名称", "规则"} & set(found))


def _read_sheets(data: bytes) -> list[Sheet]:
    limits = SheetLimits(MAX_FILE_BYTES, MAX_UNPACKED_BYTES, MAX_ROWS, HEADER_SCAN_ROWS)
    return read_sheets(data, is_header=_is_known, aliases=HEADER_ALIASES, limits=limits)


def _bool(text: str) -> bool:
    t = text.lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise CellError(N_("Write 是 or 否"))


def _cell(col: Column, text: str) -> Any:
    if col.kind == CODED:
        assert col.codes is not None
        return str(col.codes.read(text))
    if col.kind == INT:
        m = _INT.fullmatch(text)
        if not m:
            raise CellError(N_("Not a whole number: %(value)s"), value=text[:40])
        return int(m.group(1))
    if col.kind == BOOL:
        return _bool(text)
    if col.kind == WORDS:
        return [w.strip() for w in _SPLIT.split(text) if w.strip()]
    if col.kind == JSON_OBJECT:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise CellError(N_('Write the parameters as a JSON object, e.g. {"min": 0, "max": 150}'))
        return value
    return text


def _record(
    sheet: Sheet, values: tuple[Any, ...], columns: Iterable[Column], problem: Callable[[str, CellError], None]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in columns:
        text = sheet.get(values, col.header)
        if not text or col.kind == EXPORT_ONLY:
            continue
        try:
            out[col.field] = _cell(col, text)
        except CellError as exc:
            problem(col.header, exc)
    return out


# -- import ---------------------------------------------------------------------------------------

_RESOURCE_HEADERS = {c.field: c.header for c in RESOURCE_COLUMNS} | {"provider_id": "信息资源提供方"}
_PART_HEADERS = {
    "items": {c.field: c.header for c in ITEM_COLUMNS},
    "rules": {c.field: c.header for c in RULE_COLUMNS},
}
ITEMS_CLASH = "Two information items have the same name."  # ResourceIn's message ids, placed on rows
RULE_COLUMN = "A quality rule names a column that is not an information item."
NAME_TAKEN = "Another resource already has this name or code."  # catalogue's


@dataclass
class _Part:
    """A row of the 信息项 or 质量规则 sheet, attached to its resource."""

    sheet: str
    row: int
    order: tuple[bool, int, int]  # no 序号, 序号, place in the file
    values: dict[str, Any]


@dataclass
class _Pending:
    sheet: str
    row: int
    code: str
    title: str
    values: dict[str, Any]
    items: list[_Part] = field(default_factory=list)
    rules: list[_Part] = field(default_factory=list)
    bad: bool = False
    data: ResourceIn | None = None


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _provider(rec: dict[str, Any], deps: Sequence[Department]) -> tuple[str, CellError] | None:
    """Put the provider department's id in REC (found by 统一社会信用代码, else by exact name)."""
    name, uscc = str(rec.pop("provider_name", "")), str(rec.pop("provider_uscc", "")).upper()
    if not name and not uscc:
        return None  # ResourceIn says it is required
    found = next((d.id for d in deps if uscc and d.uscc == uscc), None)
    if found is None and name:
        found = next((d.id for d in deps if _squeeze(d.name) == _squeeze(name)), None)
    if found is None:
        column = "信息资源提供方代码" if uscc and not name else "信息资源提供方"
        return column, CellError(N_("No such department: %(value)s"), value=(name or uscc)[:60])
    rec["provider_id"] = found
    return None


def _open_flag(rec: dict[str, Any]) -> tuple[str, CellError] | None:
    """是否向社会开放 and 开放类型 agree (否 alone means 不开放)."""
    is_open = rec.pop("is_open", None)
    open_type = rec.get("open_type")
    if is_open is None:
        return None
    if not is_open:
        if open_type not in (None, OpenType.CLOSED):
            return "开放类型", CellError(N_("是否向社会开放 is 否 but 开放类型 opens the resource"))
        rec["open_type"] = OpenType.CLOSED.value
    elif open_type is None:
        return "开放类型", CellError(N_("Required when 是否向社会开放 is 是"))
    elif open_type == OpenType.CLOSED:
        return "开放类型", CellError(N_("是否向社会开放 is 是 but 开放类型 is 不开放"))
    return None


def _read_resources(
    sheets: Sequence[Sheet], deps: Sequence[Department], report: ImportReport
) -> tuple[dict[str, _Pending], list[_Pending]]:
    pending: dict[str, _Pending] = {}
    order: list[_Pending] = []
    for sheet in sheets:
        for row, values in sheet.rows:
            found: list[Problem] = []

            def problem(column: str | None, exc: CellError, *, _s: str = sheet.title, _r: int = row) -> None:
                found.append(Problem(_s, _r, column, exc.message_id, exc.params))  # noqa: B023

            rec = _record(sheet, values, RESOURCE_COLUMNS, problem)
            for check in (_provider(rec, deps), _open_flag(rec)):
                if check is not None:
                    problem(*check)
            code = str(rec.get("code") or "")
            p = _Pending(sheet.title, row, code, str(rec.get("title") or ""), rec)
            if not code:
                found.append(Problem(sheet.title, row, CODE, N_("Required")))
            elif code in pending:
                found.append(
                    Problem(sheet.title, row, CODE, N_("The same code is in row %(row)s"), {"row": pending[code].row})
                )
            else:
                pending[code] = p
            p.bad = bool(found)
            report.problems.extend(found)
            order.append(p)
    return pending, order


def _read_parts(
    sheets: Sequence[Sheet], columns: Sequence[Column], kind: str, pending: dict[str, _Pending], report: ImportReport
) -> None:
    place = 0
    for sheet in sheets:
        for row, values in sheet.rows:
            found: list[Problem] = []

            def problem(column: str | None, exc: CellError, *, _s: str = sheet.title, _r: int = row) -> None:
                found.append(Problem(_s, _r, column, exc.message_id, exc.params))  # noqa: B023

            rec = _record(sheet, values, columns, problem)
            code = str(rec.pop("code", ""))
            position = rec.pop("position", None)
            target = pending.get(code)
            if target is None:
                message = N_("No resource in the file has this code: %(value)s") if code else N_("Required")
                found.append(Problem(sheet.title, row, CODE, message, {"value": code[:64]} if code else {}))
            else:
                place += 1
                part = _Part(sheet.title, row, (position is None, position or 0, place), rec)
                (target.items if kind == "items" else target.rules).append(part)
                target.bad = target.bad or bool(found)
            report.problems.extend(found)
    for p in pending.values():
        p.items.sort(key=lambda part: part.order)


def _existing(session: Session, codes: Sequence[str]) -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    for i in range(0, len(codes), 500):
        stmt = select(Resource).where(Resource.code.in_(codes[i : i + 500])).options(selectinload(Resource.items))
        found.update((r.code, r) for r in session.scalars(stmt))
    return found


def _current(res: Resource) -> dict[str, Any]:
    """RES as ``ResourceIn.model_dump()`` would give it (to tell an unchanged row)."""
    out: dict[str, Any] = {f: getattr(res, f) for f in catalogue.COPIED}
    out["keywords"], out["themes"] = list(res.keywords), list(res.themes)
    out["items"] = [{f: getattr(i, f) for f in InfoItemIn.model_fields} for i in res.items]
    out["rules"] = [dict(r) for r in res.rules]
    return out


def _wanted(data: ResourceIn) -> dict[str, Any]:
    out: dict[str, Any] = data.model_dump(mode="json")
    out["keywords"], out["themes"] = list(dict.fromkeys(data.keywords)), list(dict.fromkeys(data.themes))
    return out


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "value_error":
        exc = (error.get("ctx") or {}).get("error")
        if isinstance(exc, Exception) and exc.args:
            return str(exc.args[0])
    return SHAPE_MESSAGES.get(error["type"], N_("Not valid"))


def _placed(p: _Pending, loc: tuple[Any, ...], message: str) -> list[Problem]:
    """Where in the file a refusal by ``ResourceIn`` points: (sheet, row, column) and its message."""
    name = str(loc[0]) if loc else ""
    if name in _PART_HEADERS and len(loc) >= 2 and isinstance(loc[1], int):
        parts = p.items if name == "items" else p.rules
        if loc[1] < len(parts):
            part = parts[loc[1]]
            column = _PART_HEADERS[name].get(str(loc[2])) if len(loc) > 2 else None
            return [Problem(part.sheet, part.row, column, message)]
    if not loc and message in (ITEMS_CLASH, RULE_COLUMN):
        names = [str(i.values.get("name", "")) for i in p.items]
        if message == ITEMS_CLASH:
            rows = [i for n, i in enumerate(p.items) if names[n] in names[:n]]
        else:
            rows = [r for r in p.rules if any(c.strip() not in names for c in str(r.values["column"]).split(","))]
        if rows:
            return [Problem(r.sheet, r.row, "英文名称", message) for r in rows]
    column = CROSS_FIELD_COLUMNS.get(message) if not loc else _RESOURCE_HEADERS.get(name)
    return [Problem(p.sheet, p.row, column, message)]


def _validate(p: _Pending, res: Resource | None, *, keep_items: bool, keep_rules: bool) -> list[Problem]:
    """Parse P with ``ResourceIn`` (and its rules with the quality engine); the problems, placed.
    KEEP_ITEMS/KEEP_RULES: the file has no such sheet, and an existing entry keeps what it has."""
    fields = dict(p.values)
    fields["items"] = [part.values for part in p.items]
    fields["rules"] = [part.values for part in p.rules]
    if res is not None and (keep_items or keep_rules):
        current = _current(res)
        fields.update({k: current[k] for k, keep in (("items", keep_items), ("rules", keep_rules)) if keep})
    try:
        data = ResourceIn.model_validate(fields)
        quality.parse_rules([r.model_dump(mode="json") for r in data.rules])
    except PydanticValidationError as exc:
        return [problem for e in exc.errors() for problem in _placed(p, tuple(e["loc"]), _message(e))]
    except quality.RuleError as exc:
        n = int(exc.params.get("n", 0))
        if 0 < n <= len(p.rules):
            part = p.rules[n - 1]
            column = "英文名称" if "column" in exc.message_id else "参数"
            return [Problem(part.sheet, part.row, column, exc.message_id, exc.params)]
        return [Problem(p.sheet, p.row, None, exc.message_id, exc.params)]
    p.data = data
    return []


def _apply(session: Session, actor: Actor, data: ResourceIn, res: Resource | None) -> str:
    if res is None:
        catalogue.create(session, actor=actor, data=data)
        return CREATED
    if _current(res) == _wanted(data):
        return UNCHANGED
    if res.state != State.DRAFT:
        raise errors.Conflict(
            N_("The entry is %(state)s: an import changes only entries being drafted (编制中)."),
            state=STATE_NAMES[res.state],
        )
    catalogue.update(session, actor=actor, resource_id=res.id, data=data, version=res.version)
    return UPDATED


def _refused_column(exc: errors.CountyError) -> str | None:
    if isinstance(exc, errors.PermissionDenied):
        return "信息资源提供方"
    return "英文标识" if exc.message_id == NAME_TAKEN else None


def import_workbook(session: Session, *, actor: Actor, data: bytes, skip_bad_rows: bool = False) -> ImportReport:
    """Read, check and (when every row is good, or with SKIP_BAD_ROWS for the good ones) apply a
    catalogue workbook in SESSION's transaction. Nothing is written when a bad row rejects the file."""
    report = ImportReport()
    sheets = _read_sheets(data)
    resource_sheets = [s for s in sheets if "信息资源名称" in s.columns]
    if not resource_sheets:
        raise errors.ValidationFailed(N_("No sheet has the columns 信息资源代码 and 信息资源名称"))
    item_sheets = [s for s in sheets if "中文名称" in s.columns and "信息资源名称" not in s.columns]
    rule_sheets = [s for s in sheets if "规则" in s.columns and not {"信息资源名称", "中文名称"} & set(s.columns)]
    pending, order = _read_resources(resource_sheets, departments.all_active(session), report)
    _read_parts(item_sheets, ITEM_COLUMNS, "items", pending, report)
    _read_parts(rule_sheets, RULE_COLUMNS, "rules", pending, report)
    existing = _existing(session, list(pending))
    for p in order:
        if not p.bad and pending.get(p.code) is p:
            found = _validate(p, existing.get(p.code), keep_items=not item_sheets, keep_rules=not rule_sheets)
            p.bad = bool(found)
            report.problems.extend(found)
    _sort(report, sheets)
    if report.problems and not skip_bad_rows:
        report.rows = [RowResult(p.row, p.code, p.title, SKIPPED) for p in order]
        return report

    undo = session.begin_nested()
    refused = False
    for p in order:
        result = SKIPPED
        if not p.bad and p.data is not None:
            try:
                with session.begin_nested():
                    result = _apply(session, actor, p.data, existing.get(p.code))
            except errors.CountyError as exc:
                refused = True
                report.problems.append(Problem(p.sheet, p.row, _refused_column(exc), exc.message_id, exc.params))
        report.rows.append(RowResult(p.row, p.code, p.title, result))
    _sort(report, sheets)
    if refused and not skip_bad_rows:
        undo.rollback()
        report.rows = [RowResult(p.row, p.code, p.title, SKIPPED) for p in order]
        return report
    audit.record(
        session,
        actor=actor,
        action="data.resource.import",
        target_type="data_resource",
        detail={k: report.count(k) for k in (CREATED, UPDATED, UNCHANGED, SKIPPED)}
        | {"problems": len(report.problems)},
    )
    undo.commit()
    report.applied = True
    return report


def _sort(report: ImportReport, sheets: Sequence[Sheet]) -> None:
    sheet_order = {s.title: i for i, s in enumerate(sheets)}
    report.problems.sort(key=lambda pr: (sheet_order.get(pr.sheet, 0), pr.row))
