"""The services part of the demonstration county: about 60 matters of the county's 实施清单.

Names, limits and materials are typical of a county's published guides (市场监管, 住建, 民政, 人社,
农业农村, 自然资源, 卫健, 交通, 公安, 教育, 水利, 医保 …); each matter has 2–3 steps across the
county 政务服务中心 and its department. Most are published; a couple stay drafts, one is withdrawn and
one has a second version.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from countyos.core.actor import Actor
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


def load(session: Session, ctx: DemoContext) -> None:
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
    load_desk_examples(session, ctx)
    ctx.notes.append(
        f"Services: {len(rows)} matters; public catalogue /services (try the pinyin initials spjy), "
        "staff /services/admin/matters (user zwfw)."
    )


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
