"""Exchange with a provincial platform: records in GB/T 39046-2020 field names and national codes.

``KINDS`` is a registry: a kind's name → the function that returns its records for a period
(``rows(session, *, start, end) -> list[dict]``, keys the standard's Chinese field names). This module
registers ``applications`` (表5 办事申请, 表6 事项受理, 表7 事项办理, 表8 事项办结); ``ratings`` (表9) and
``warnings`` (表11) are looked up by name in ``service/ratings.py`` and ``service/supervision.py``
(their ``exchange_rows``), so those modules connect themselves by existing; until they do, asking
for the kind is refused with a message that says so.

A record's value that is a list of dicts (an application's 申请材料, 事项办理 steps, 特别程序) becomes a
sheet of its own in Excel, each row led by the record's 办件编号; JSON keeps it nested. Times are county
time in ISO 8601 with the offset. Personal fields (证件号码, 手机号码, 通讯地址) are in full: a provincial
connector needs them, so the command is for the IT administrator and the file is written 0600.

An application belongs to a period when something happened to it then (a timeline entry: submitted,
accepted, a step, a decision, a delivery …); it is exported as it is at export time.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_, gettext
from countyos.core.settings import get_settings
from countyos.core.tabular import append_row
from countyos.services.codes import national_code, standard_name
from countyos.services.lifecycle import Action, Decision, DeliveryMethod, State, StepStatus
from countyos.services.models import (
    ID_TYPE_CODES,
    Application,
    ApplicationEvent,
    ApplicationSpecial,
    ApplicationStep,
    MaterialForm,
    Matter,
    MatterVersion,
)

MAX_DAYS = 366  # one export covers at most a year
API_MAX_DAYS = 93  # the API's period: a quarter
Rows = Callable[..., list[dict[str, Any]]]

# ── exchange vocabularies (the standard's words; codes where a national or provincial set exists) ─────

# 办件状态 in the provincial exchange interfaces' three values (proStatus: 1 待办理, 2 办理中, 3 已完结)
# beside CountyOS's own finer state name.
STATE_CODES: dict[State, str] = {
    State.DRAFT: "1",
    State.SUBMITTED: "1",
    State.CORRECTION_REQUESTED: "1",
    State.IN_PROGRESS: "2",
    State.SUPPLEMENT_REQUESTED: "2",
    State.SPECIAL_PROCEDURE: "2",
    State.DECIDED: "3",
    State.DELIVERED: "3",
    State.REJECTED: "3",
    State.WITHDRAWN: "3",
}
STATE_NAMES: dict[State, str] = {
    State.DRAFT: "草稿",
    State.SUBMITTED: "待受理",
    State.CORRECTION_REQUESTED: "补正中",
    State.REJECTED: "不予受理",
    State.IN_PROGRESS: "办理中",
    State.SUPPLEMENT_REQUESTED: "办理中补正",
    State.SPECIAL_PROCEDURE: "特别程序",
    State.DECIDED: "已办结",
    State.DELIVERED: "已送达",
    State.WITHDRAWN: "已撤回",
}
ACTION_NAMES: dict[Action, str] = {
    Action.SUBMIT: "提交",
    Action.REQUEST_CORRECTION: "补正告知",
    Action.RESUBMIT: "补正提交",
    Action.ACCEPT: "受理",
    Action.ACCEPT_IMMEDIATE: "受理并即办",
    Action.REJECT: "不予受理",
    Action.PASS: "通过",
    Action.RETURN: "退回",
    Action.STEP_OTHER: "其他",
    Action.START_SPECIAL: "特别程序开始",
    Action.END_SPECIAL: "特别程序结束",
    Action.DELIVER: "送达",
    Action.WITHDRAW: "撤回",
    Action.LAPSE: "视为撤回",
    Action.SUPERVISE: "督办",
    Action.COMMENT: "备注",
}
STEP_STATUS_CODES = {StepStatus.PENDING: "1", StepStatus.DONE: "2"}  # 表7 环节办理状态代码 1-待办 2-已办
DECISION_NAMES = {Decision.GRANTED: "准予", Decision.DENIED: "不予"}
DECISION_CODES = {Decision.GRANTED: "1", Decision.DENIED: "0"}  # 办结结果 1-准予 0-不予
FORM_NAMES = {MaterialForm.ORIGINAL: "原件", MaterialForm.COPY: "复印件", MaterialForm.ELECTRONIC: "电子材料"}


def county_time(value: datetime | None) -> str | None:
    """ISO 8601 in county time with its offset (2026-03-05T09:30:00+08:00)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(get_settings().timezone)).isoformat(timespec="seconds")


def yes_no(value: bool) -> str:
    return "1" if value else "0"  # 1-是, 0-否


# ── the period ───────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive: 00:00 county time of the first day
    end: datetime  # UTC, exclusive: 00:00 county time of the day after the last


def period(first: date, last: date, *, max_days: int = MAX_DAYS) -> Period:
    """The county days FIRST … LAST (both included) as a UTC interval; refused when reversed or too long."""
    if last < first:
        msg = N_("The period ends before it starts")
        raise ValidationFailed(msg, errors=[{"field": "to", "message": gettext(msg)}])
    if (last - first).days + 1 > max_days:
        msg = N_("The period may cover at most %(n)s days")
        raise ValidationFailed(msg, n=max_days, errors=[{"field": "to", "message": gettext(msg, n=max_days)}])
    tz = ZoneInfo(get_settings().timezone)
    start = datetime.combine(first, time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    return Period(start, end)


# ── applications (表5–表8) ─────────────────────────────────────────────────────────────────────────────


def application_ids(session: Session, *, start: datetime, end: datetime) -> list[int]:
    """Applications with a timeline entry in [start, end), oldest first."""
    stmt = (
        select(ApplicationEvent.application_id)
        .where(ApplicationEvent.at >= start, ApplicationEvent.at < end)
        .group_by(ApplicationEvent.application_id)
        .order_by(ApplicationEvent.application_id)
    )
    return list(session.scalars(stmt))


def application_rows(
    session: Session, *, start: datetime, end: datetime, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """表5–表8 of every application touched in the period (see the module docstring)."""
    ids = application_ids(session, start=start, end=end)
    if limit is not None:
        ids = ids[offset : offset + limit]
    return records(session, ids)


def records(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """The exchange records of these applications, in this order (bounded queries, no N+1)."""
    from countyos.geo.service import divisions
    from countyos.org.models import Department, User
    from countyos.services.service import applications as apps

    if not ids:
        return []
    rows = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))}
    versions = {
        v.id: v
        for v in session.scalars(
            select(MatterVersion).where(MatterVersion.id.in_({a.matter_version_id for a in rows.values()}))
        )
    }
    matters = {
        m.id: m for m in session.scalars(select(Matter).where(Matter.id.in_({a.matter_id for a in rows.values()})))
    }
    steps: dict[int, list[ApplicationStep]] = {}
    for s in session.scalars(
        select(ApplicationStep).where(ApplicationStep.application_id.in_(ids)).order_by(ApplicationStep.id)
    ):
        steps.setdefault(s.application_id, []).append(s)
    specials: dict[int, list[ApplicationSpecial]] = {}
    for sp in session.scalars(
        select(ApplicationSpecial).where(ApplicationSpecial.application_id.in_(ids)).order_by(ApplicationSpecial.id)
    ):
        specials.setdefault(sp.application_id, []).append(sp)
    accepted_by: dict[int, int | None] = {}
    concluded_by: dict[int, int | None] = {}
    for ev in session.scalars(
        select(ApplicationEvent)
        .where(
            ApplicationEvent.application_id.in_(ids),
            ApplicationEvent.action.in_([str(Action.ACCEPT), str(Action.ACCEPT_IMMEDIATE), str(Action.PASS)]),
        )
        .order_by(ApplicationEvent.id)
    ):
        if ev.action in (Action.ACCEPT, Action.ACCEPT_IMMEDIATE):
            accepted_by[ev.application_id] = ev.actor_id
        if ev.to_state == State.DECIDED:
            concluded_by[ev.application_id] = ev.actor_id
    user_ids = {u for u in (*accepted_by.values(), *concluded_by.values()) if u is not None}
    user_ids |= {s.handler_id for ss in steps.values() for s in ss if s.handler_id is not None}
    user_ids |= {sp.started_by_id for ss in specials.values() for sp in ss if sp.started_by_id is not None}
    people = (
        {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    )
    dep_ids = {a.department_id for a in rows.values()} | {s.department_id for ss in steps.values() for s in ss}
    dep_ids |= {v.department_id for v in versions.values()}
    dep_ids.discard(None)
    deps = {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(dep_ids)))} if dep_ids else {}
    county = divisions.the_county(session)
    division = county.code if county is not None else ""

    out = []
    for app_id in ids:
        a = rows.get(app_id)
        if a is None:
            continue
        v, m = versions[a.matter_version_id], matters[a.matter_id]
        state = State(a.state)
        decision = Decision(a.decision) if a.decision else None
        dep = deps.get(a.department_id) if a.department_id else None
        granted = decision is Decision.GRANTED
        rec: dict[str, Any] = {
            # 表5 办事申请
            "办件编号": a.number,
            "实施编码": m.code,
            "基本编码": m.basic_code,
            "事项名称": v.name,
            "办件类型": standard_name(v.application_kind),
            "办件类型代码": national_code(v.application_kind),
            "申请者名称": a.applicant_name,
            "申请者类型": standard_name(a.applicant_kind),
            "申请者类型代码": national_code(a.applicant_kind),
            "申请者证件类型代码": ID_TYPE_CODES[a.id_type],
            "申请者证件号码": apps.id_number(a),
            "联系人/代理人姓名": a.consent_by,
            "联系人手机号码": apps.phone(a),
            "通讯地址": a.address,
            "申报来源": standard_name(a.source),
            "申报来源代码": national_code(a.source),
            "申请时间": county_time(a.submitted_at),
            "行政区划": division,
            "办件状态": STATE_NAMES[state],
            "办件状态代码": STATE_CODES[state],
            # 表6 事项受理
            "受理单位名称": (dep.name if dep else v.body_name) if a.accepted_at else None,
            "受理单位统一社会信用代码": v.body_uscc if a.accepted_at else None,
            "受理人员": people.get(accepted_by.get(a.id) or 0),
            "受理时间": county_time(a.accepted_at),
            "受理文书编号": a.receipt_number,
            "承诺办结时间": county_time(a.due_at),
            "不予受理理由": a.rejection_reason,
            # 表8 事项办结
            "办理人姓名": people.get(concluded_by.get(a.id) or 0),
            "办结时间": county_time(a.decided_at),
            "办结结果": DECISION_NAMES[decision] if decision else None,
            "办结结果代码": DECISION_CODES[decision] if decision else None,
            "结果证照名称": a.result_name if granted else None,
            "结果证照编号": a.result_number if granted else None,
            "办件结果描述": a.decision_note,
            "证照有效期限": _validity(a) if granted else None,
            "发证/盖章单位": v.body_name if granted else None,
            "是否快递寄送结果": yes_no(a.delivery_method == DeliveryMethod.EXPRESS) if a.delivered_at else None,
            "快递单号": a.tracking_number,
            "是否收费": yes_no(v.charged),
            # 申请材料 (表5 per material)
            "申请材料": [
                {
                    "材料名称": mat.name,
                    "是否必备材料": yes_no(mat.required),
                    "是否收取": yes_no(mat.received),
                    "收取方式": FORM_NAMES[mat.form] if mat.form else None,
                    "收取数量": mat.count,
                    "收取时间": county_time(mat.received_at),
                }
                for mat in a.materials
            ],
            # 表7 事项办理 (one row per visit of a step)
            "事项办理": [
                {
                    "业务动作": ACTION_NAMES[Action(s.action)] if s.action else None,
                    "环节名称": gettext(s.name),
                    "环节处理人": people.get(s.handler_id or 0),
                    "环节处理意见": s.opinion,
                    "环节开始时间": county_time(s.started_at),
                    "环节结束时间": county_time(s.ended_at or s.started_at),
                    "处理单位名称": deps[s.department_id].name if s.department_id in deps else None,
                    "环节办理状态代码": STEP_STATUS_CODES[StepStatus(s.status)],
                }
                for s in steps.get(a.id, [])
            ],
            # 表7 特别程序
            "特别程序": [
                {
                    "特别程序种类名称": standard_name(sp.kind),
                    "特别程序种类代码": national_code(sp.kind),
                    "特别程序开始时间": county_time(sp.started_at),
                    "特别程序启动理由或依据": sp.reason,
                    "申请人": people.get(sp.started_by_id or 0),
                    "特别程序结束时间": county_time(sp.ended_at),
                    "特别程序结果": sp.result,
                }
                for sp in specials.get(a.id, [])
            ],
        }
        out.append(rec)
    return out


def _validity(a: Application) -> str:
    """证照有效期限: 2026-03-05至2031-03-04, or 至长期 without an end."""
    start = (county_time(a.result_valid_from) or "")[:10]
    end = (county_time(a.result_valid_until) or "")[:10] or "长期"
    return f"{start}至{end}"


# ── the registry ─────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # the standard's data set name, the first sheet's title
    module: str | None = None  # looked up lazily: ``countyos.services.service.<module>.exchange_rows``
    rows: Rows | None = None

    def function(self) -> Rows | None:
        if self.rows is not None:
            return self.rows
        assert self.module is not None
        try:
            mod = importlib.import_module(f"countyos.services.service.{self.module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"countyos.services.service.{self.module}":
                return None
            raise
        fn = getattr(mod, "exchange_rows", None)
        return fn if callable(fn) else None


KINDS: dict[str, Kind] = {
    "applications": Kind("applications", "办事申请", rows=application_rows),
    "ratings": Kind("ratings", "政务服务绩效评价", module="ratings"),
    "warnings": Kind("warnings", "电子监察", module="supervision"),
}


class KindUnavailable(ValidationFailed):
    code = "export_kind_unavailable"


def register(name: str, title: str, rows: Rows) -> None:
    """Add or replace a kind (a module that wants another name than the lazy lookup's)."""
    KINDS[name] = Kind(name, title, rows=rows)


def collect(session: Session, *, kind: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    k = KINDS.get(kind)
    if k is None:
        msg = N_("Unknown export kind %(kind)s; known: %(known)s")
        raise KindUnavailable(msg, kind=kind, known=", ".join(KINDS))
    fn = k.function()
    if fn is None:
        raise KindUnavailable(N_("The export of %(kind)s is not available in this installation yet"), kind=kind)
    return list(fn(session, start=start, end=end))


# ── files ────────────────────────────────────────────────────────────────────────────────────────────


def to_json(kind: str, p: Period, records: list[dict[str, Any]]) -> bytes:
    doc = {
        "数据集": KINDS[kind].title,
        "标准": "GB/T 39046-2020",
        "开始时间": county_time(p.start),
        "结束时间": county_time(p.end),
        "记录数": len(records),
        "记录": records,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1, default=str).encode()


def to_xlsx(kind: str, records: list[dict[str, Any]]) -> bytes:
    """One sheet of the records' plain fields; one more per list field (its rows led by the record's
    first field, e.g. 办件编号). Every cell through ``core.tabular`` (formula neutralising)."""
    import io

    key = next(iter(records[0])) if records else "办件编号"
    plain = [k for k, v in records[0].items() if not _is_table(v)] if records else [key]
    nested = [k for k, v in records[0].items() if _is_table(v)] if records else []
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = KINDS[kind].title[:31]
    append_row(ws, plain)
    for r in records:
        append_row(ws, [r.get(k) for k in plain])
    for name in nested:
        sub = wb.create_sheet(name[:31])
        columns: list[str] = []
        for r in records:
            for item in r.get(name) or []:
                columns += [c for c in item if c not in columns]
        append_row(sub, [key, *columns])
        for r in records:
            for item in r.get(name) or []:
                append_row(sub, [r.get(key), *(item.get(c) for c in columns)])
    for sheet in wb.worksheets:
        for c in sheet[1]:
            c.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, dict) for x in value)
