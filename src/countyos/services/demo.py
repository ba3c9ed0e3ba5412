"""The services part of the demonstration county: about 60 matters of the county's 实施清单.

Names, limits and materials are typical of a county's published guides (市场监管, 住建, 民政, 人社,
农业农村, 自然资源, 卫健, 交通, 公安, 教育, 水利, 医保 …); each matter has 2–3 steps across the
county 政务服务中心 and its department. Most are published; a couple stay drafts, one is withdrawn and
one has a second version.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DemoContext
from countyos.org.models import DepartmentKind
from countyos.org.service import departments, uscc
from countyos.services.codes import MatterType, from_national, national_code
from countyos.services.schemas import MatterIn
from countyos.services.service import catalogue

ACTOR = Actor(id=None, name="demo")
CENTRE = "县政务服务中心"
HOURS = "工作日 上午 8:30-12:00，下午 13:30-17:30（法定节假日除外）"
SUPERVISE = "12345"
FORM = ["申请表", "申请人", True, 1, 0]
DATA = Path(__file__).parent / "data" / "demo_matters.toml"
# department → (consult phone, window in the centre)
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "县市场监督管理局": ("0578-8121234", "二楼 A 区市场监管窗口"),
    "县住房和城乡建设局": ("0578-8122345", "二楼 B 区住建窗口"),
    "县民政局": ("0578-8123456", "一楼社会事务窗口"),
    "县人力资源和社会保障局": ("0578-8124567", "一楼人社窗口"),
    "县农业农村局": ("0578-8125678", "三楼农业农村窗口"),
    "县自然资源和规划局": ("0578-8126789", "三楼不动产登记窗口"),
    "县卫生健康局": ("0578-8127890", "二楼 C 区卫健窗口"),
    "县交通运输局": ("0578-8128901", "三楼交通窗口"),
    "县公安局": ("0578-8129012", "一楼公安综合窗口"),
    "县教育局": ("0578-8120123", "二楼 D 区教育窗口"),
    "县水利局": ("0578-8131234", "三楼水利窗口"),
    "县医疗保障局": ("0578-8132345", "一楼医保窗口"),
}

DRAFTS = {"燃气经营许可", "渔业捕捞许可"}
WITHDRAWN = {"母婴保健技术服务执业许可"}


def _uscc(county: str, seq: int) -> str:
    first17 = f"11{county}{'0' * 6}{seq:03d}"[:17]
    return first17 + uscc.check_char(first17)


def _departments(session: Session, ctx: DemoContext) -> dict[str, tuple[int, str]]:
    """The departments of the catalogue (created when the demo lacks them): name → (id, credit code)."""
    out: dict[str, tuple[int, str]] = {}
    for i, name in enumerate([CENTRE, *DEPARTMENTS], start=201):
        dep = departments.get_by_name(session, name=name)
        if dep is None:
            dep = departments.create(
                session,
                actor=ACTOR,
                name=name,
                kind=DepartmentKind.DEPARTMENT,
                uscc_code=_uscc(ctx.county_code, i),
                division_code=ctx.county_code,
            )
            ctx.department_ids[name] = dep.id
        out[name] = (dep.id, dep.uscc or _uscc(ctx.county_code, i))
    return out


def matters() -> list[dict[str, Any]]:
    """The demo's matters as data (``data/demo_matters.toml``)."""
    with DATA.open("rb") as f:
        return list(tomllib.load(f)["matter"])


def load(session: Session, ctx: DemoContext, *, applications: bool = True) -> None:
    deps = _departments(session, ctx)
    centre_id = deps[CENTRE][0]
    rows = matters()
    for seq, row in enumerate(rows, start=1):
        name, dep_name, promised, online = row["name"], row["department"], row["promised"], row["online"]
        mtype, fee = from_national(MatterType, row["type"]), row.get("fee_basis")
        dep_id, dep_uscc = deps[dep_name]
        phone, window = DEPARTMENTS[dep_name]
        immediate = promised == 0
        type_code = national_code(mtype)
        steps = [{"name": "受理", "department_id": centre_id, "time_share": 10}]
        if immediate:
            steps.append({"name": "审核办结", "department_id": dep_id})
        else:
            steps += [
                {"name": "审查", "department_id": dep_id, "time_share": 60},
                {"name": "决定", "department_id": dep_id, "time_share": 30},
            ]
        materials = [FORM, *row["materials"]]
        data = MatterIn.model_validate(
            {
                "code": f"{dep_uscc}-{type_code}-{seq:04d}",
                "basic_code": f"{type_code}{seq:08d}",
                "name": name,
                "matter_type": mtype,
                "level": "county",
                "body_name": dep_name,
                "body_uscc": dep_uscc,
                "legal_basis": f"依据{dep_name}权责清单所列法律、法规和规章",
                "legal_limit": row["legal"],
                "promised_limit": promised,
                "promised_limit_note": "当场办结" if immediate else "自受理之日起计算，特别程序时间不计入",
                "accept_conditions": "申请材料齐全、符合法定形式",
                "application_kind": "immediate" if immediate else "promised",
                "audiences": row["audiences"],
                "handling_forms": ["window", "online_pc", "online_mobile"] if online else ["window"],
                "scope": "cross_county" if online and immediate else "none",
                "visits": 0 if online else 1,
                "place": f"{CENTRE}{window}；各乡镇（街道）便民服务中心可代收",
                "hours": HOURS,
                "consult_phone": phone,
                "supervise_phone": SUPERVISE,
                "charged": fee is not None,
                "fee_basis": fee,
                "result_name": f"准予{name}决定书" if mtype == MatterType.LICENSING else "办理结果通知书",
                "theme": row["theme"],
                "online": online,
                "special_procedure": None if immediate else "需现场核查、检验检测或专家评审的，所需时间不计入办结时限",
                "department_id": dep_id,
                "steps": steps,
                "materials": [
                    {"name": n, "issuer": iss, "required": req, "originals": o, "copies": c}
                    for n, iss, req, o, c in materials
                ],
            }
        )
        matter = catalogue.create(session, actor=ACTOR, data=data)
        if name in DRAFTS:
            continue
        catalogue.publish(session, actor=ACTOR, matter_id=matter.id)
        if name in WITHDRAWN:
            catalogue.withdraw(session, actor=ACTOR, matter_id=matter.id)
        if name == "食品经营许可（新办）":  # a second version: the promised limit was shortened
            catalogue.edit(
                session, actor=ACTOR, matter_id=matter.id, data=data.model_copy(update={"promised_limit": 3})
            )
    ctx.notes.append(
        f"Services: {len(rows)} matters; public catalogue /services (try the pinyin initials spjy), "
        "staff /services/admin/matters (user zwfw)."
    )
    if applications:
        from countyos.services import demo_applications

        demo_applications.load(session, ctx)  # a year of applications (the ratings of them are connected there)
    _certificate_example(session, ctx, centre_id=centre_id, market_id=deps["县市场监督管理局"][0])
    _resident_applications(session, ctx)  # after the year: they take the next numbers
    load_desk_examples(session, ctx)
    supervision_demo(session, ctx)


def _certificate_example(session: Session, ctx: DemoContext, *, centre_id: int, market_id: int) -> None:
    """One 食品经营许可 taken in at the window, through the centre's and the 市场监管局's steps, granted
    and handed over: its certificate (PDF with a QR code) and the public verification page."""
    from datetime import timedelta

    from sqlalchemy import select

    from countyos.core.clock import utcnow
    from countyos.services.lifecycle import Action
    from countyos.services.models import Certificate, Matter, MatterVersion
    from countyos.services.schemas import ACTION_MODELS, ApplicationIn
    from countyos.services.service import applications as apps
    from countyos.services.service import certificates

    matter = session.scalar(
        select(Matter)
        .join(MatterVersion, Matter.current_version_id == MatterVersion.id)
        .where(MatterVersion.name == "食品经营许可（新办）")
    )
    if matter is None or matter.current is None:
        return
    ids = ctx.user_ids
    window = Actor(
        id=ids.get("window"),
        name="窗口人员 黄丽",
        permissions=frozenset({apps.WINDOW, apps.PII, apps.HANDLE}),
        department_id=centre_id,
    )
    handler = Actor(
        id=ids.get("scjg"),
        name="市场监管局审批人员 许文",
        permissions=frozenset({apps.HANDLE}),
        department_id=market_id,
    )
    start = utcnow().replace(microsecond=0) - timedelta(days=9)
    data = ApplicationIn.model_validate(
        {
            "matter_id": matter.id,
            "applicant_name": "演示县大田农家食品店",
            "applicant_kind": "other_org",
            "id_type": "uscc",
            "id_number": "92331125MA2A00001X",
            "phone": "13905780001",
            "address": "大柘镇大田村 18 号",
            "materials": [{"material_id": m.id, "form": "original", "count": 1} for m in matter.current.materials],
        }
    )
    app = apps.create(session, actor=window, data=data, now=start)

    def act(actor: Actor, action: Action, days: float, **body: Any) -> None:
        payload = ACTION_MODELS[action].model_validate({"version": app.version, **body})
        apps.act(
            session, actor=actor, application_id=app.id, action=action, data=payload, now=start + timedelta(days=days)
        )

    act(window, Action.ACCEPT, 0.05)
    act(window, Action.PASS, 0.1, opinion="材料齐全，符合法定形式")
    act(handler, Action.PASS, 1.2, opinion="经审查，经营场所和制度符合要求")
    valid_until = (start + timedelta(days=2 + 5 * 365)).isoformat()
    result = {"decision": "granted", "result_name": "食品经营许可证", "result_number": "JY13311250000001"}
    act(handler, Action.PASS, 2, opinion="准予许可", result={**result, "valid_until": valid_until})
    act(window, Action.DELIVER, 3, method="window")
    token = session.scalar(select(Certificate.token).where(Certificate.application_id == app.id))
    if token:
        ctx.notes.append(
            f"Services: a granted 食品经营许可 ({app.number}); its certificate /services/applications/{app.id}/"
            f"certificate.pdf (user window) and the public check {certificates.verification_url(token)}."
        )


# The demo applicant's own applications (account ``resident``, 张秀英 of 大柘镇大田村): one waiting for
# corrected materials after the window's 一次性告知, one being handled by the department.
RESIDENT_APPLICATIONS = (("残疾人两项补贴申请", 6, True), ("城乡居民养老保险待遇申领", 3, False))


def _resident_applications(session: Session, ctx: DemoContext) -> None:
    from datetime import timedelta

    from countyos.core.clock import utcnow
    from countyos.services.lifecycle import Action
    from countyos.services.models import Matter
    from countyos.services.schemas import ApplicationIn, MaterialReceivedIn, PlainActionIn
    from countyos.services.service import applications

    if "resident" not in ctx.user_ids or "window" not in ctx.user_ids:
        return
    me = Actor(id=ctx.user_ids["resident"], name="张秀英", permissions=frozenset({applications.APPLY}))
    window = Actor(
        id=ctx.user_ids["window"],
        name="窗口人员 黄丽",
        permissions=frozenset({applications.WINDOW, applications.PII}),
        department_id=ctx.department_ids.get(CENTRE),
    )
    for name, days_ago, correction in RESIDENT_APPLICATIONS:
        matter = next((m for m in catalogue.all_matters(session) if catalogue.current(m).name == name), None)
        if not isinstance(matter, Matter) or matter.status != "published":
            continue
        version = catalogue.current(matter)
        given = version.materials[:-1] if correction else version.materials
        at = utcnow() - timedelta(days=days_ago)
        app = applications.create(
            session,
            actor=me,
            data=ApplicationIn(
                matter_id=matter.id,
                applicant_name="张秀英",
                id_number="33112319580315002X",
                phone="13805710099",
                address="遂昌县大柘镇大田村 18 号",
                source="online_mobile",
                materials=[MaterialReceivedIn(material_id=m.id, form="electronic") for m in given],
            ),
            now=at,
        )
        action = Action.REQUEST_CORRECTION if correction else Action.ACCEPT
        note = "请补充上传所缺材料的清晰照片" if correction else None
        applications.act(
            session,
            actor=window,
            application_id=app.id,
            action=action,
            data=PlainActionIn(version=app.version, note=note),
            now=at + timedelta(hours=3),
        )


# ── 电子监察: a few applications the rules warn about, a feedback and a 督办 ────────────────────────────

SUPERVISED_MATTERS = ("食品经营许可（延续）", "药品零售企业许可", "食品小作坊登记")


def supervision_demo(session: Session, ctx: DemoContext, *, now: datetime | None = None) -> None:
    """Three applications of the 市场监管局: one overdue and one past 80 % of its limit, both waiting at its
    审查 step for days, and one sent back for correction twice; the 电子监察 sweep warns about them,
    市场监管局 answers one and the centre issues a 督办 on the overdue one."""
    from sqlalchemy import select

    from countyos.services import deadlines
    from countyos.services.lifecycle import Action
    from countyos.services.models import Matter, MatterVersion
    from countyos.services.schemas import ACTION_MODELS, ApplicationIn, WarningActionIn
    from countyos.services.service import applications, supervision

    now = now or utcnow()
    window = Actor(
        id=ctx.user_ids.get("window"),
        name="窗口人员 黄丽",
        permissions=frozenset({applications.WINDOW, applications.PII}),
        department_id=ctx.department_ids.get(CENTRE),
    )
    matters = {
        v.name: (m, v)
        for m, v in session.execute(
            select(Matter, MatterVersion)
            .join(MatterVersion, MatterVersion.id == Matter.current_version_id)
            .where(MatterVersion.name.in_(SUPERVISED_MATTERS), Matter.status == "published")
        )
    }
    if len(matters) < len(SUPERVISED_MATTERS):
        return

    def act(app: Any, action: Action, at: datetime, actor: Actor = window, **body: Any) -> Any:
        data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
        return applications.act(session, actor=actor, application_id=app.id, action=action, data=data, now=at)

    def submit(name: str, at: datetime, *, complete: bool = True) -> Any:
        m, v = matters[name]
        mats = [x.id for x in v.materials][: None if complete else 1]
        data = ApplicationIn.model_validate(
            {
                "matter_id": m.id,
                "applicant_name": "蓝月华",
                "id_number": "331123198503150027",
                "phone": "13905787788",
                "materials": [{"material_id": x, "form": "original", "count": 1} for x in mats],
            }
        )
        return applications.create(session, actor=window, data=data, now=at)

    def accepted_back(name: str, *, overdue: bool) -> datetime:
        """An acceptance time that leaves the limit overdue now, or 80–99 % used."""
        _m, v = matters[name]
        limit = applications.limit_of(v)
        for hours in range(1, 24 * 120):
            at = now - timedelta(hours=hours)
            d = deadlines.deadline(limit, accepted_at=at, now=now)
            if (d.overdue and d.fraction >= 1.2) if overdue else (0.8 <= d.fraction < 0.95):
                return at
        return now - timedelta(days=60)

    market = Actor(
        id=ctx.user_ids.get("scjg"),
        name="市场监管局审批人员 许文",
        permissions=frozenset({applications.HANDLE}),
        department_id=ctx.department_ids.get("县市场监督管理局"),
    )
    centre = Actor(
        id=None, name="县政务服务中心", permissions=frozenset({applications.HANDLE}), department_id=window.department_id
    )
    made = []
    for name, overdue in ((SUPERVISED_MATTERS[0], True), (SUPERVISED_MATTERS[1], False)):
        at = accepted_back(name, overdue=overdue)
        app = act(submit(name, at), Action.ACCEPT, at)
        made.append(act(app, Action.PASS, at + timedelta(minutes=30), actor=centre, opinion="材料齐全，转审查"))
    app = submit(SUPERVISED_MATTERS[2], now - timedelta(days=3), complete=False)
    app = act(app, Action.REQUEST_CORRECTION, now - timedelta(days=3))
    app = act(app, Action.RESUBMIT, now - timedelta(days=2), materials=[])
    act(app, Action.REQUEST_CORRECTION, now - timedelta(days=2, hours=-1))
    supervision.sweep(session, now=now)
    warned = {
        (w.application_id, w.family): w for w in supervision.application_warnings_of(session, [a.id for a in made])
    }
    red, yellow = warned.get((made[0].id, "deadline")), warned.get((made[1].id, "deadline"))
    supervisor = Actor(
        id=ctx.user_ids.get("zwfw"), name="政务服务管理员 林静", permissions=frozenset({applications.SUPERVISE})
    )
    if yellow is not None and market.department_id is not None:
        supervision.act(
            session,
            actor=market,
            warning_id=yellow.id,
            action=supervision.WarningAction.FEEDBACK,
            data=WarningActionIn(version=yellow.version, note="已现场核查完毕，明日作出决定"),
            now=now,
        )
    if red is not None:
        supervision.act(
            session,
            actor=supervisor,
            warning_id=red.id,
            action=supervision.WarningAction.SUPERVISE,
            data=WarningActionIn(version=red.version, note="已超期，请于两个工作日内办结并说明原因"),
            now=now,
        )
    ctx.notes.append("Services: 电子监察 warnings /services/supervision (zwfw; 市场监管局: scjg).")


def load_desk_examples(session: Session, ctx: DemoContext) -> None:
    """Two applications at the intake desk (受理台): one the village agent submitted for a villager, waiting
    for the materials its 一次性告知 asks for, and one the county window accepted (its 受理通知书 prints)."""
    from sqlalchemy import select

    from countyos.core.clock import utcnow
    from countyos.org.models import User
    from countyos.org.service.auth import actor_for
    from countyos.services import idnumbers
    from countyos.services.lifecycle import Action
    from countyos.services.models import Matter, MatterVersion
    from countyos.services.schemas import ACTION_MODELS, ApplicationIn
    from countyos.services.service import applications

    users = {k: session.get(User, ctx.user_ids[k]) for k in ("agent", "window") if k in ctx.user_ids}
    version = session.scalar(
        select(MatterVersion)
        .join(Matter, Matter.current_version_id == MatterVersion.id)
        .where(MatterVersion.name == "食品经营许可（新办）")
    )
    if version is None or set(users) != {"agent", "window"}:
        return
    agent, window = (actor_for(u, None) for u in (users["agent"], users["window"]) if u is not None)
    now = utcnow()
    mats = [m.id for m in version.materials]

    def person(body: str) -> str:
        return body + idnumbers.resident_check_char(body)

    def new(name: str, body: str, given: list[int], **extra: Any) -> ApplicationIn:
        return ApplicationIn.model_validate(
            {"matter_id": version.matter_id, "applicant_name": name, "applicant_kind": "other_org",
             "id_number": person(body), "phone": "13905786612", "address": "大柘镇大田村",
             "materials": [{"material_id": m, "form": "original", "count": 1} for m in given], **extra}
        )  # fmt: skip

    consent = {"given_by": "雷春花", "way": "signed_form", "at": now.isoformat()}
    waiting = applications.create(
        session, actor=agent, data=new("雷春花", "33112519720815102", mats[:2], consent=consent), now=now
    )
    applications.act(
        session,
        actor=window,
        application_id=waiting.id,
        action=Action.REQUEST_CORRECTION,
        data=ACTION_MODELS[Action.REQUEST_CORRECTION].model_validate(
            {"version": waiting.version, "note": "请补交食品安全管理制度和经营场所平面图（原件各 1 份）"}
        ),
        now=now,
    )
    accepted = applications.create(session, actor=window, data=new("周建国", "33112519880203204", mats), now=now)
    applications.act(
        session,
        actor=window,
        application_id=accepted.id,
        action=Action.ACCEPT,
        data=ACTION_MODELS[Action.ACCEPT].model_validate({"version": accepted.version}),
        now=now,
    )
