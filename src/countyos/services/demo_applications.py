"""A year of demo applications (办件): seasonal, deterministic, written in bulk in seconds.

Each application is simulated action by action through ``lifecycle.apply`` (the one transition table)
with the effects ``service/applications.act`` has — the same states, steps (表7 rows), special
procedures, timeline rows, 办件编号 and 受理文书编号 from the numbering rules and their counters, due
times from ``deadlines.due_at`` on the working-day calendar — and then inserted in bulk. Actions whose
time is after ``now`` are not taken, so the last weeks are still open at every step and some are
overdue. Seasons: fewer applications around 春节; 宅基地 and 乡村建设 in spring, 农业 licences and
农机购置补贴 in spring, 学生资助 and 教师资格 in late summer, 医保 and 养老 enrolment in autumn.
Sources: the county 政务服务中心 and the townships' 便民服务中心 windows, village 代办点 agents, online.
The audit log is not written for this history (it is the record of real acts; the demo's are not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DemoContext
from countyos.core.workcal import WorkCalendar, calendar
from countyos.org.models import Department, DepartmentKind, User
from countyos.org.service import uscc
from countyos.services import deadlines, lifecycle, numbering
from countyos.services.codes import ApplicationKind, Audience, HandlingForm, SpecialProcedure, TimeLimitUnit
from countyos.services.lifecycle import Action, Decision, DeliveryMethod, Position, Role, State, StepStatus
from countyos.services.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApplicationSpecial,
    ApplicationStep,
    ConsentWay,
    IdType,
    MaterialForm,
    Matter,
    MatterStatus,
    MatterVersion,
    NumberCounter,
)
from countyos.services.service import applications as apps
from countyos.services.service import certificates, ratings

SEED = 20261203
PER_YEAR = 3000
DAYS = 365
CENTRE = "县政务服务中心"

# Matters many people apply for (weight 3) and the rare ones (0.3); the rest weigh 1.
COMMON = {
    "个体工商户设立登记", "营业执照变更登记", "基本医疗保险参保登记", "异地就医备案", "不动产转移登记",
    "不动产抵押登记", "居民身份证申领", "机动车驾驶证换证", "生育登记", "出生登记", "城乡居民基本养老保险参保登记",
    "就业创业证申领", "残疾人两项补贴申请", "医疗费用手工（零星）报销",
}  # fmt: skip
RARE = {
    "民办学校办学许可", "社会团体成立登记", "药品零售企业许可", "商品房预售许可", "建设项目用地预审与选址意见书",
    "河道管理范围内建设项目工程建设方案审批", "取水许可", "工伤认定", "医疗机构执业登记", "城镇排水许可",
}  # fmt: skip
# theme or matter name → month (1–12) → factor
SEASONS: dict[str, dict[int, float]] = {
    "农村建房": {2: 1.5, 3: 2.8, 4: 2.6, 5: 1.6, 7: 0.6, 8: 0.6, 12: 0.5},
    "农业生产": {2: 1.4, 3: 2.2, 4: 2.0, 5: 1.4, 11: 0.6, 12: 0.5},
    "农机购置补贴": {3: 2.6, 4: 2.4, 5: 1.6, 10: 1.4},
    "教育培训": {7: 1.6, 8: 2.6, 9: 3.0, 10: 1.4},
    "基本医疗保险参保登记": {9: 2.6, 10: 3.2, 11: 3.0, 12: 2.4},
    "城乡居民基本养老保险参保登记": {9: 1.8, 10: 2.2, 11: 2.0},
    "市场准入": {3: 1.3, 4: 1.2},
}
MONTH = {1: 0.85, 2: 0.55, 3: 1.1, 4: 1.05, 5: 1.0, 6: 1.0, 7: 0.95, 8: 0.95, 9: 1.05, 10: 0.9, 11: 1.05, 12: 1.1}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱胡郭何罗郑叶蓝毛雷潘华钟"
GIVEN = ["建华", "秀英", "志强", "丽萍", "春生", "美兰", "海燕", "国平", "水生", "小红", "伟", "芳", "军", "敏", "桂英",
         "金土", "荣华", "玉梅", "晓东", "丽娟", "文斌", "爱琴", "雪芳", "永明"]  # fmt: skip
FIRMS = ["商贸", "农业开发", "食品", "建材", "餐饮管理", "电子商务", "茶业", "竹木制品", "旅游开发", "物流"]
REJECT_REASONS = [
    "申请事项不属于本机关职权范围，请向有权机关申请",
    "申请人不具备申请资格",
    "申请事项依法不需要取得行政许可",
]
SPECIAL_REASONS = {
    SpecialProcedure.OTHER: ("需组织现场核查和专家评审", "现场核查和专家评审已完成，符合条件"),
    SpecialProcedure.EXTENSION: ("情况复杂，经负责人批准延长审批期限", "延长期内审查完毕"),
}


@dataclass(frozen=True)
class MatterInfo:
    id: int
    version_id: int
    name: str
    theme: str
    department_id: int | None
    immediate: bool
    limit: deadlines.Limit
    online: bool
    audiences: tuple[str, ...]
    steps: tuple[tuple[str, int | None, int | None], ...]  # (name, department, time share %)
    materials: tuple[tuple[int, int, str, bool, bool], ...]  # (id, position, name, required, original)
    result_name: str
    weight: float


@dataclass(frozen=True)
class Person:
    id: int | None
    name: str
    department_id: int | None


@dataclass
class World:
    matters: list[MatterInfo]
    centre_windows: list[Person]
    township_windows: list[Person]
    agents: list[Person]
    handlers: dict[int, Person]  # department → its demo 审批人员 (if any)
    dept_names: dict[int, str]
    division: str
    dept_short: dict[int | None, str]
    parents: dict[int, int | None]


@dataclass
class Sim:
    """One simulated application: its row, and what the service would have written beside it."""

    row: dict[str, Any]
    materials: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    specials: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def world(session: Session) -> World:
    """The published matters, windows, agents and handlers of the demo county."""
    versions = session.execute(
        select(Matter, MatterVersion)
        .join(MatterVersion, MatterVersion.id == Matter.current_version_id)
        .where(Matter.status == MatterStatus.PUBLISHED)
        .order_by(Matter.id)
    ).all()
    matters = []
    for m, v in versions:
        w = 3.0 if v.name in COMMON else 0.3 if v.name in RARE else 1.0
        matters.append(
            MatterInfo(
                m.id, v.id, v.name, v.theme or "", v.department_id, v.application_kind is ApplicationKind.IMMEDIATE,
                apps.limit_of(v), v.online, tuple(v.audiences or ["person"]),
                tuple((s.name, s.department_id, s.time_share) for s in v.steps),
                tuple((x.id, x.position, x.name, x.required, x.originals > 0) for x in v.materials),
                v.result_name or "办理结果通知书", w,
            )
        )  # fmt: skip
    deps = {d.id: d for d in session.scalars(select(Department))}
    users = list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.id)))

    def people(perm: str) -> list[Person]:
        return [Person(u.id, u.display_name, u.department_id) for u in users if _holds(u, perm)]

    windows = people(apps.WINDOW)
    centre = [p for p in windows if p.department_id not in _local(deps)]
    township = [p for p in windows if p.department_id in _local(deps)]
    handlers: dict[int, Person] = {}
    for p in people(apps.HANDLE):
        if p.department_id is not None:
            handlers.setdefault(p.department_id, p)
    dep_ids = {mi.department_id for mi in matters} | {s[1] for mi in matters for s in mi.steps}
    return World(
        matters,
        centre or [Person(None, "窗口人员", None)],
        township,
        [p for p in people(apps.AGENT) if p.department_id in _local(deps)],
        handlers,
        {i: d.name for i, d in deps.items()},
        apps._division(session),
        {i: apps._dept_short(session, i) for i in dep_ids},
        {i: d.parent_id for i, d in deps.items()},
    )


def _local(deps: dict[int, Department]) -> set[int]:
    """Township departments and their villages."""
    towns = {i for i, d in deps.items() if d.kind == DepartmentKind.TOWNSHIP}
    return towns | {i for i, d in deps.items() if d.kind == DepartmentKind.VILLAGE and d.parent_id in towns}


def _holds(user: User, perm: str) -> bool:
    return any(p.code == perm for r in user.roles for p in r.permissions)


# ── simulation ───────────────────────────────────────────────────────────────────────────────────────


class Simulator:
    def __init__(
        self,
        w: World,
        *,
        now: datetime,
        seed: int = SEED,
        cal: WorkCalendar | None = None,
        counters: dict[str, int] | None = None,
    ) -> None:
        self.w, self.now, self.rng = w, now, np.random.default_rng(seed)
        self.cal = cal or calendar()
        self.tz = self.cal.tz
        self.app_rule = numbering.Rule.parse(numbering.APPLICATION_DEFAULT)
        self.receipt_rule = numbering.Rule.parse(numbering.RECEIPT_DEFAULT)
        self.counters: dict[str, int] = dict(counters or {})  # numbers already given go on from there

    # -- time ---------------------------------------------------------------------------------------

    def _local(self, d: date, minutes: float) -> datetime:
        return (datetime.combine(d, time(0), self.tz) + timedelta(minutes=float(minutes))).astimezone(UTC)

    def office_time(self, d: date) -> datetime:
        """A moment in the office hours of working day ``d``."""
        morning = self.rng.random() < 0.55
        start, span = (8 * 60 + 35, 200) if morning else (13 * 60 + 35, 220)
        return self._local(d, start + self.rng.random() * span)

    def later(self, t: datetime, working_days: float) -> datetime:
        """``working_days`` of office time after ``t`` (at least a few minutes)."""
        return self.cal.add_working_time(t, max(self.cal.day_length * working_days, timedelta(minutes=3)))

    def seq(self, scope: str) -> int:
        self.counters[scope] = self.counters.get(scope, 0) + 1
        return self.counters[scope]

    # -- which applications -------------------------------------------------------------------------

    def days(self) -> list[tuple[date, MatterInfo, datetime, HandlingForm]]:
        """(day, matter, submitted at, source) of every application of the year, in time order."""
        today = self.now.astimezone(self.tz).date()
        weights = np.array([m.weight for m in self.w.matters])
        base = PER_YEAR / DAYS / 0.75 * weights / weights.sum()  # 0.75: weekends and holidays
        out = []
        for k in range(DAYS, -1, -1):
            d = today - timedelta(days=k)
            working = self.cal.is_working_day(d)
            season = np.array([MONTH[d.month] * SEASONS.get(m.name, SEASONS.get(m.theme, {})).get(d.month, 1.0)
                               for m in self.w.matters])  # fmt: skip
            lam = base * season * (1.0 if working else 0.08)
            for i, n in enumerate(self.rng.poisson(lam)):
                m = self.w.matters[i]
                for _ in range(int(n)):
                    src = self.source(m, working)
                    if src is None:
                        continue
                    if src == "agent" or src == HandlingForm.WINDOW:
                        at = self.office_time(d)
                    else:
                        at = self._local(d, 7 * 60 + self.rng.random() * 16 * 60)
                    if at > self.now:
                        continue
                    out.append((d, m, at, src))
        out.sort(key=lambda t: t[2])
        return out

    def source(self, m: MatterInfo, working: bool) -> Any:
        if not working:
            return (HandlingForm.ONLINE_PC, HandlingForm.ONLINE_MOBILE)[int(self.rng.integers(2))] if m.online else None
        r = self.rng.random()
        if m.online and r < 0.45:
            return HandlingForm.ONLINE_MOBILE if r < 0.27 else HandlingForm.ONLINE_PC
        if self.w.agents and self.rng.random() < 0.3:
            return "agent"
        return HandlingForm.WINDOW

    # -- one application ----------------------------------------------------------------------------

    def applicant(self, m: MatterInfo) -> tuple[str, Audience, IdType, str]:
        kind = Audience(m.audiences[0]) if m.audiences else Audience.PERSON
        if kind is Audience.PERSON or kind not in (Audience.ENTERPRISE, Audience.OTHER_ORG, Audience.SOCIAL_ORG):
            name = str(self.rng.choice(list(SURNAMES))) + str(self.rng.choice(GIVEN))
            born = date(1950, 1, 1) + timedelta(days=int(self.rng.integers(0, 365 * 50)))
            first17 = f"331123{born:%Y%m%d}{int(self.rng.integers(100, 999))}"
            return name, Audience.PERSON, IdType.RESIDENT_ID, first17 + _id_check(first17)
        a, b = self.rng.choice(list("鑫盛恒达华兴瑞丰")), self.rng.choice(list("源泰祥隆和通"))
        name = f"遂昌县{a}{b}{self.rng.choice(FIRMS)}有限公司"
        first17 = f"91331123MA{int(self.rng.integers(10**6, 10**7 - 1))}X"[:17]
        return name, kind, IdType.USCC, first17 + uscc.check_char(first17)

    def simulate(self, m: MatterInfo, at: datetime, source: Any) -> Sim:
        rng, w = self.rng, self.w
        if source == "agent":
            by = w.agents[int(rng.integers(len(w.agents)))]
            role, form = Role.AGENT, HandlingForm.WINDOW
        elif source == HandlingForm.WINDOW:
            pool = w.township_windows if w.township_windows and rng.random() < 0.4 else w.centre_windows
            by = pool[int(rng.integers(len(pool)))]
            role, form = Role.WINDOW, HandlingForm.WINDOW
        else:
            by, role, form = None, Role.APPLICANT, HandlingForm(source)
        name, kind, id_type, id_number = self.applicant(m)
        phone = f"13{int(rng.integers(5, 10))}{int(rng.integers(10**7, 10**8 - 1)):08d}"
        c = apps._cipher()
        local_day = at.astimezone(self.tz)
        number = self.app_rule.render(
            seq=self.seq(self.app_rule.scope(at=at, tz=str(self.tz), division=w.division)),
            at=at, tz=str(self.tz), division=w.division,
        )  # fmt: skip
        row: dict[str, Any] = {
            "number": number, "matter_id": m.id, "matter_version_id": m.version_id, "department_id": m.department_id,
            "applicant_name": name, "applicant_kind": kind, "id_type": id_type,
            "id_number_enc": c.encrypt(id_number), "id_number_index": c.blind_index(id_number),
            "phone_enc": c.encrypt(phone), "phone_index": c.blind_index(phone),
            "address": f"遂昌县{local_day:%m}号地块" if kind is not Audience.PERSON else None,
            "source": form, "applicant_user_id": None, "submitted_role": str(role),
            "submitted_by_id": by.id if by else None, "submitted_by_department_id": by.department_id if by else None,
            "consent_by": None, "consent_way": None, "consent_at": None, "consent_note": None,
            "state": str(State.DRAFT), "step": None, "version": 1, "corrections": 0, "created_at": at,
            "submitted_at": at, "receipt_number": None, "accepted_at": None, "clock_started_at": None,
            "due_at": None, "rejection_reason": None, "decided_at": None, "decision": None, "decision_note": None,
            "result_name": None, "result_number": None, "result_valid_from": None, "result_valid_until": None,
            "delivery_method": None, "tracking_number": None, "delivered_at": None, "closed_at": None,
        }  # fmt: skip
        if role is Role.AGENT:
            row.update(consent_by=name, consent_way=list(ConsentWay)[int(rng.integers(len(ConsentWay)))],
                       consent_at=at - timedelta(minutes=int(rng.integers(10, 600))),
                       consent_note="村代办点帮办代办")  # fmt: skip
        sim = Sim(row)
        correction = rng.random() < 0.07
        optional_missing = [x for x in m.materials[1:] if x[3]]
        missing = (
            {optional_missing[int(rng.integers(len(optional_missing)))][0]}
            if correction and optional_missing
            else set()
        )
        for mid, pos, mname, required, original in m.materials:
            got = mid not in missing and (required or rng.random() < 0.6)
            sim.materials.append({
                "material_id": mid, "position": pos, "name": mname, "required": required, "received": got,
                "form": _form(role, original) if got else None,
                "count": 1 if got else 0, "received_at": at if got else None, "attachment_id": None,
            })  # fmt: skip
        Run(self, sim, m, by, role).play(at, missing)
        return sim


def _form(role: Role, original: bool) -> MaterialForm:
    if role is Role.APPLICANT:
        return MaterialForm.ELECTRONIC
    return MaterialForm.ORIGINAL if original else MaterialForm.COPY


def _id_check(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(a) * b for a, b in zip(first17, weights, strict=True)) % 11]


class Run:
    """The actions of one application, each through ``lifecycle.apply``, until ``now``."""

    def __init__(self, s: Simulator, sim: Sim, m: MatterInfo, by: Person | None, role: Role) -> None:
        self.s, self.sim, self.m, self.by, self.role = s, sim, m, by, role
        self.pos = Position(State.DRAFT)
        self.nsteps = max(len(m.steps), 1)
        self.open_step: dict[str, Any] | None = None
        self.stopped = False

    # the submitter as an actor (online: the applicant themself)
    def _filer(self) -> tuple[int | None, str]:
        return (self.by.id, self.by.name) if self.by else (None, self.sim.row["applicant_name"])

    def _window(self) -> tuple[int | None, str]:
        w = self.s.w
        if self.by is not None and self.role is Role.WINDOW:
            return self.by.id, self.by.name
        if self.by is not None and self.by.department_id is not None:  # an agent's township window
            same = [p for p in w.township_windows if p.department_id in (self.by.department_id, self._parent())]
            if same:
                return same[0].id, same[0].name
        p = w.centre_windows[0]
        return p.id, p.name

    def _parent(self) -> int | None:
        return self.s.w.parents.get(self.by.department_id) if self.by and self.by.department_id else None

    def _handler(self, department_id: int | None) -> tuple[int | None, str]:
        p = self.s.w.handlers.get(department_id) if department_id is not None else None
        if p is not None:
            return p.id, p.name
        return None, f"{self.s.w.dept_short.get(department_id, '')}审批人员"

    def act(self, action: Action, at: datetime, who: tuple[int | None, str], role: Role, *,
            decision: Decision | None = None, note: str | None = None, detail: dict[str, Any] | None = None,
            effects: Any = None) -> bool:  # fmt: skip
        """Take the action at ``at`` unless that is after now; False when the story stops here."""
        if self.stopped or at > self.s.now:
            self.stopped = True
            return False
        before = self.pos
        after = lifecycle.apply(before, action, role, steps=self.nsteps, decision=decision)
        row = self.sim.row
        detail = dict(detail or {})
        if action is not Action.SUBMIT:
            row["version"] += 1
        if effects is not None:
            effects(before, after, detail)
        row["state"], row["step"] = str(after.state), after.step
        if not lifecycle.is_open(after.state) and row["closed_at"] is None and after.state != State.DELIVERED:
            row["closed_at"] = at
        self.sim.events.append({
            "at": at, "actor_id": who[0], "actor_name": who[1][:100], "role": str(role), "action": str(action),
            "from_state": str(before.state), "to_state": str(after.state), "step": after.step,
            "note": note, "detail": detail,
        })  # fmt: skip
        self.pos = after
        return True

    def _open(self, position: int, at: datetime) -> None:
        name, dep, _share = self.m.steps[position] if position < len(self.m.steps) else (
            "Review and decision", self.m.department_id, None)  # fmt: skip
        self.open_step = {
            "position": position, "name": name, "department_id": dep, "status": str(StepStatus.PENDING),
            "action": None, "handler_id": None, "opinion": None, "started_at": at, "ended_at": None,
        }  # fmt: skip
        self.sim.steps.append(self.open_step)

    def _due(self) -> None:
        row = self.sim.row
        if row["clock_started_at"] is None:
            return
        intervals = [
            deadlines.Interval(x["started_at"], x["ended_at"])
            for x in self.sim.specials
            if x["started_at"] >= row["clock_started_at"]
        ]
        if any(i.end is None for i in intervals):
            return
        row["due_at"] = deadlines.due_at(self.m.limit, accepted_at=row["clock_started_at"], special=intervals)

    def _receipt(self, at: datetime) -> str:
        s, short = self.s, self.s.w.dept_short.get(self.m.department_id, "政务服务")
        scope = s.receipt_rule.scope(at=at, tz=str(s.tz), dept_short=short)
        return s.receipt_rule.render(seq=s.seq(scope), at=at, tz=str(s.tz), dept_short=short)

    def _conclude(self, at: datetime, decision: Decision) -> None:
        row = self.sim.row
        row["decided_at"], row["decision"], row["decision_note"] = at, str(decision), None
        if decision is Decision.GRANTED:
            row["result_name"] = self.m.result_name
            row["result_number"] = f"{at.astimezone(self.s.tz):%Y}{self.sim.row['number'][-8:]}"
            row["result_valid_from"] = at
            row["result_valid_until"] = None

    def play(self, at: datetime, missing: set[int]) -> None:
        s, rng, row, sim = self.s, self.s.rng, self.sim.row, self.sim
        filer = self._filer()
        self.act(Action.SUBMIT, at, filer, self.role)
        t = at
        # 一次性告知 and 补正
        if missing:
            t = s.later(t, rng.uniform(0.05, 0.6))
            names = [x["name"] for x in sim.materials if x["required"] and not x["received"]]

            def corr(_b: Position, _a: Position, d: dict[str, Any]) -> None:
                row["corrections"] += 1
                d["missing"] = names

            if not self.act(Action.REQUEST_CORRECTION, t, self._window(), Role.WINDOW, effects=corr):
                return
            if rng.random() < 0.12:  # never came back: treated as withdrawn
                self.act(Action.LAPSE, s.later(t, 20), self._window(), Role.WINDOW)
                return
            t = s.later(t, rng.uniform(0.5, 6))

            def resub(_b: Position, _a: Position, d: dict[str, Any]) -> None:
                for x in sim.materials:
                    if x["required"] and not x["received"]:
                        x.update(received=True, form=MaterialForm.COPY, count=1, received_at=t)

            if not self.act(Action.RESUBMIT, t, filer, self.role, effects=resub):
                return
        r = rng.random()
        if r < 0.015 and self.role in (Role.APPLICANT, Role.AGENT):
            self.act(Action.WITHDRAW, s.later(t, rng.uniform(0.1, 1)), filer, self.role)
            return
        wait = rng.uniform(0.002, 0.02) if self.role is Role.WINDOW else rng.uniform(0.1, 1.2)
        t = s.later(t, wait)
        if r < 0.04:
            reason = str(rng.choice(REJECT_REASONS))

            def rej(_b: Position, _a: Position, _d: dict[str, Any]) -> None:
                row["rejection_reason"] = reason

            self.act(Action.REJECT, t, self._window(), Role.WINDOW, effects=rej)
            return

        def accepted(_b: Position, after: Position, d: dict[str, Any]) -> None:
            row["accepted_at"] = row["clock_started_at"] = t
            row["receipt_number"] = self._receipt(t)
            d["receipt_number"] = row["receipt_number"]
            self._due()
            if after.state is State.DECIDED:
                self._conclude(t, decision)
            else:
                self._open(0, t)

        if self.m.immediate:
            decision = Decision.GRANTED if rng.random() < 0.98 else Decision.DENIED
            if not self.act(Action.ACCEPT_IMMEDIATE, t, self._window(), Role.WINDOW, decision=decision,
                            effects=accepted):  # fmt: skip
                return
        else:
            decision = Decision.GRANTED if rng.random() < 0.94 else Decision.DENIED
            if not self.act(Action.ACCEPT, t, self._window(), Role.WINDOW, effects=accepted):
                return
            concluded = self.steps(t, decision)
            if concluded is None:
                return
            t = concluded
        self.deliver(t)

    def steps(self, t: datetime, decision: Decision) -> datetime | None:
        """The matter's steps, with now and then a special procedure, a return or a 补正 after acceptance."""
        s, rng = self.s, self.s.rng
        limit_days = max(self.m.limit.amount, 1)
        pace = float(rng.lognormal(math.log(0.45), 0.45))  # share of the limit this application takes
        if rng.random() < 0.05:
            pace = float(rng.uniform(1.1, 2.2))  # the slow ones: concluded late, or overdue now
        special = rng.random() < 0.05 and self.nsteps >= 2
        returned = rng.random() < 0.03 and self.nsteps >= 3
        supplement = rng.random() < 0.02
        shares = [x[2] or round(100 / self.nsteps) for x in self.m.steps] or [100]
        k = 0
        while k < self.nsteps:
            dep = self.m.steps[k][1] if k < len(self.m.steps) else self.m.department_id
            who = self._handler(dep)
            span = limit_days * pace * shares[k] / 100
            if self.m.limit.unit is TimeLimitUnit.NATURAL_DAYS:
                span *= 5 / 7
            if supplement and k == 0:
                supplement = False
                t = s.later(t, span / 2)
                if not self._step(Action.RETURN, t, who, "材料需补充，请补正后再提交"):
                    return None
                t = s.later(t, rng.uniform(1, 4))
                if not self._resubmit_supplement(t):
                    return None
                continue
            if special and k == 1:
                special = False
                t = s.later(t, span / 3)
                kind = SpecialProcedure.OTHER if rng.random() < 0.7 else SpecialProcedure.EXTENSION
                reason, result = SPECIAL_REASONS[kind]
                if not self._special(t, who, kind, reason, start=True):
                    return None
                t = s.later(t, rng.uniform(3, 12))
                if not self._special(t, who, kind, result, start=False):
                    return None
            if returned and k == 2:
                returned = False
                t = s.later(t, span / 2)
                if not self._step(Action.RETURN, t, who, "审查意见需复核，退回上一环节"):
                    return None
                k = 1
                continue
            t = s.later(t, span)
            last = k + 1 >= self.nsteps
            opinion = (
                ("准予" if decision is Decision.GRANTED else "不予许可：不符合法定条件") if last else "同意，转下一环节"
            )
            if not self._step(Action.PASS, t, who, opinion, decision=decision if last else None):
                return None
            k += 1
        return t

    def _resubmit_supplement(self, t: datetime) -> bool:
        """补正 after a first step returned it: the count restarts in full (``CorrectionPolicy.RESTART``)."""
        row = self.sim.row

        def restart(_b: Position, _a: Position, _d: dict[str, Any]) -> None:
            row["clock_started_at"] = t
            self._due()
            self._open(0, t)

        return self.act(Action.RESUBMIT, t, self._filer(), self.role, effects=restart)

    def _special(self, t: datetime, who: tuple[int | None, str], kind: SpecialProcedure, text_: str, *,
                 start: bool) -> bool:  # fmt: skip
        """特别程序 start (``text_`` the reason) or end (``text_`` the result; the due time moves)."""
        row, sim = self.sim.row, self.sim

        def begin(_b: Position, _a: Position, d: dict[str, Any]) -> None:
            sim.specials.append({"kind": kind, "reason": text_, "started_at": t,
                                 "started_by_id": who[0], "ended_at": None, "result": None})  # fmt: skip
            d["kind"] = str(kind)

        def end(_b: Position, _a: Position, d: dict[str, Any]) -> None:
            for x in sim.specials:
                if x["ended_at"] is None:
                    x["ended_at"], x["result"] = t, text_
            old = row["due_at"]
            self._due()
            d["due_before"] = old.isoformat() if old else None
            d["due_after"] = row["due_at"].isoformat() if row["due_at"] else None

        if start:
            return self.act(Action.START_SPECIAL, t, who, Role.STEP_HANDLER, effects=begin)
        return self.act(Action.END_SPECIAL, t, who, Role.STEP_HANDLER, effects=end)

    def _step(self, action: Action, t: datetime, who: tuple[int | None, str], opinion: str, *,
              decision: Decision | None = None) -> bool:  # fmt: skip
        step = self.open_step

        def eff(_b: Position, after: Position, d: dict[str, Any]) -> None:
            assert step is not None
            step.update(action=str(action), opinion=opinion, handler_id=who[0], status=str(StepStatus.DONE), ended_at=t)
            d["step"] = step["name"]
            if after.state is State.IN_PROGRESS:
                assert after.step is not None
                self._open(after.step, t)
            if after.state is State.DECIDED:
                assert decision is not None
                self._conclude(t, decision)

        return self.act(action, t, who, Role.STEP_HANDLER, decision=decision, effects=eff)

    def deliver(self, t: datetime) -> None:
        s, rng, row = self.s, self.s.rng, self.sim.row
        if self.role is Role.APPLICANT:
            method, tracking = DeliveryMethod.ELECTRONIC, None
        elif self.role is Role.AGENT and rng.random() < 0.5:
            method, tracking = DeliveryMethod.EXPRESS, f"SF{int(rng.integers(10**11, 10**12 - 1))}"
        else:
            method, tracking = DeliveryMethod.WINDOW, None
        t = s.later(t, 0.01 if self.m.immediate else rng.uniform(0.1, 2.5))

        def eff(_b: Position, _a: Position, d: dict[str, Any]) -> None:
            row["delivery_method"], row["tracking_number"], row["delivered_at"] = str(method), tracking, t
            d["method"] = str(method)

        self.act(Action.DELIVER, t, self._window(), Role.WINDOW, effects=eff)


def _close_pending(sim: Sim) -> None:
    """撤回 / 视为撤回 end the pending step's time (the service does the same)."""
    if sim.row["state"] == State.WITHDRAWN:
        closed = sim.row["closed_at"]
        for st in sim.steps:
            if st["status"] == StepStatus.PENDING:
                st["ended_at"] = closed


def simulate(
    w: World, *, now: datetime, seed: int = SEED, counters: dict[str, int] | None = None
) -> tuple[list[Sim], dict[str, int]]:
    """Every application of the year before ``now`` and the numbering counters they used (going on from
    COUNTERS, the ones the county's numbering has already reached)."""
    sim = Simulator(w, now=now, seed=seed, counters=counters)
    out = []
    for _d, m, at, src in sim.days():
        one = sim.simulate(m, at, src)
        _close_pending(one)
        out.append(one)
    return out, sim.counters


# ── writing ──────────────────────────────────────────────────────────────────────────────────────────


def _next_id(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.max(model.id))) or 0) + 1


def write(session: Session, sims: list[Sim], counters: dict[str, int]) -> list[int]:
    """Insert the simulated applications and everything beside them in bulk; the ids, oldest first."""
    session.flush()
    ids = {m: _next_id(session, m) for m in (Application, ApplicationMaterial, ApplicationStep,
                                              ApplicationSpecial, ApplicationEvent)}  # fmt: skip
    batches: dict[Any, list[dict[str, Any]]] = {m: [] for m in ids}
    out = []
    for sim in sims:
        aid = ids[Application]
        ids[Application] += 1
        out.append(aid)
        batches[Application].append({"id": aid, **sim.row})
        for model, rows in ((ApplicationMaterial, sim.materials), (ApplicationStep, sim.steps),
                            (ApplicationSpecial, sim.specials), (ApplicationEvent, sim.events)):  # fmt: skip
            for r in rows:
                batches[model].append({"id": ids[model], "application_id": aid, **r})
                ids[model] += 1
    conn = session.connection()
    for model, rows in batches.items():
        for k in range(0, len(rows), 2000):
            conn.execute(insert(model), rows[k : k + 2000])
    if session.get_bind().dialect.name == "postgresql":
        for model in batches:
            table = model.__tablename__
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            )
    for scope, value in counters.items():
        row = session.get(NumberCounter, scope)
        if row is None:
            session.add(NumberCounter(scope=scope, value=value))
        else:
            row.value = max(row.value, value)
    session.flush()
    return out


def place_townships(session: Session) -> None:
    """Give each township department the code of its division (妙高街道办事处 → 妙高街道) when it has only the
    county's, so that the operations view's township filter finds the applications of its windows."""
    from countyos.geo.service import divisions
    from countyos.org.service import departments

    county = divisions.the_county(session)
    if county is None:
        return
    kids = divisions.children(session, parent_code=county.code)
    for dep in session.scalars(select(Department).where(Department.kind == DepartmentKind.TOWNSHIP)):
        if dep.division_code not in (None, county.code):
            continue
        match = next((d for d in kids if d.name and dep.name.startswith(d.name)), None)
        if match is not None:
            departments.update(session, actor=Actor(id=None, name="demo"), department_id=dep.id,
                               changes={"division_code": match.code})  # fmt: skip


def load(session: Session, ctx: DemoContext, *, now: datetime | None = None) -> list[int]:
    """Add the year of applications to the demo county; the ids of the new applications."""
    now = now or utcnow()
    place_townships(session)
    w = world(session)
    reached = {c.scope: c.value for c in session.scalars(select(NumberCounter))}
    sims, counters = simulate(w, now=now, counters=reached)
    ids = write(session, sims, counters)
    # 好差评: a share of the concluded ones rated (a few 差评 with their 核实, 整改 and 回访)
    concluded = session.scalars(select(Application).where(Application.id.in_(ids)).order_by(Application.id)).all()
    rated = ratings.demo_ratings(session, applications=concluded, rng=Random(SEED), now=now)
    # the granted ones' certificates (with their verification tokens), as the deciding action makes them
    issuers = dict(session.execute(select(MatterVersion.id, MatterVersion.body_name)).all())
    session.add_all(
        certificates.of_granted(app, issuer=issuers[app.matter_version_id])
        for app in concluded
        if app.decision == Decision.GRANTED
    )
    session.flush()
    states: dict[str, int] = {}
    for s in sims:
        states[s.row["state"]] = states.get(s.row["state"], 0) + 1
    ctx.notes.append(
        f"Services: {len(ids)} applications over the past year ({states.get('in_progress', 0)} being processed, "
        f"{rated} rated); "
        "statistics /services/statistics (user leader or zwfw)."
    )
    return ids
