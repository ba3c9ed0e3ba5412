"""The demo county's notices and 村务公开: about ten notices over its townships and villages — 停水,
道路施工, 防汛预警, a 财务公开 with a small table, a 惠农补贴名单 with masked names and ID numbers, a
决策事项 — most published, one draft, one withdrawn; three notice publishers (county, 大柘镇, 大田村);
the demo resident follows 大田村 and finds the village's notices among her messages.

``load(session, ctx)`` runs after the org, geo and services demos (it needs their departments,
divisions and the ``resident`` account).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.demo import DemoContext
from countyos.geo.models import Division, DivisionLevel
from countyos.org.service import users
from countyos.portal.models import NoticeKind
from countyos.portal.schemas import ColumnMask
from countyos.portal.service import notices, subscriptions

DEMO = Actor(id=None, name="demo")

# (username, name, department) — added only when the demo has no notice publisher yet
PUBLISHERS = [
    ("notice_county", "县应急管理局 公告发布员 吴红梅", "县应急管理局"),
    ("notice_dz", "大柘镇 公告发布员 周建国", "大柘镇人民政府"),
    ("notice_dt", "大田村 村务公开监督员 叶水根", "大柘镇大田村村民委员会"),
]

SUBSIDY = (
    ["户主姓名", "身份证号", "联系电话", "补贴项目", "面积（亩）", "金额（元）"],
    [
        ["叶根发", "332527195803120017", "13857801234", "耕地地力保护补贴", "3.2", "387.20"],
        ["周秀莲", "33252719620415002X", "13957805678", "耕地地力保护补贴", "2.5", "302.50"],
        ["叶建华", "332527197009300035", "15857809012", "稻谷目标价格补贴", "4.0", "480.00"],
        ["欧阳春花", "332527196711080048", "13605783456", "耕地地力保护补贴", "1.8", "217.80"],
    ],
)
FINANCE = (
    ["项目", "收入（元）", "支出（元）", "备注"],
    [
        ["上级转移支付", "120000.00", "", "村级组织运转经费"],
        ["集体林地租金", "36500.00", "", "2026年度"],
        ["村道路灯维修", "", "8600.00", "经村民代表会议同意"],
        ["文化礼堂水电", "", "3420.50", "1—9月"],
        ["保洁员工资", "", "24000.00", "两人，12个月"],
    ],
)


def _division(session: Session, name: str, level: DivisionLevel, parent: str | None = None) -> Division | None:
    stmt = select(Division).where(Division.level == level).order_by(Division.code)
    if parent:
        stmt = stmt.where(Division.parent_code == parent)
    # the packaged names are the committees' (大田村委会, 北街社区居委会): match the place's own name first
    found = (
        session.scalars(stmt.where(Division.name == name)).first()
        or session.scalars(stmt.where(Division.name.startswith(name.removesuffix("村").removesuffix("社区")))).first()
    )
    if found is None:  # another county: the first one of its level (under PARENT)
        found = session.scalars(stmt).first()
    return found


def _publishers(session: Session, ctx: DemoContext) -> dict[str, Actor]:
    """The org demo's publishers (``org.demo.PEOPLE``) as actors, by user name."""
    out = {}
    for username, _name, dep_name in PUBLISHERS:
        user = users.get_by_username(session, username=username)
        if user is None or ctx.department_ids.get(dep_name) != user.department_id:
            continue
        out[username] = Actor(
            id=user.id,
            name=user.display_name,
            permissions=frozenset({notices.PUBLISH}),
            department_id=user.department_id,
        )
    return out


def load(session: Session, ctx: DemoContext) -> None:
    county = session.scalars(select(Division).where(Division.level == DivisionLevel.COUNTY)).first()
    town = _division(session, "大柘镇", DivisionLevel.TOWNSHIP)
    if county is None or town is None:
        return
    village = _division(session, "大田村", DivisionLevel.VILLAGE, town.code) or town
    miaogao = _division(session, "妙高街道", DivisionLevel.TOWNSHIP) or town
    people = _publishers(session, ctx)
    if len(people) < len(PUBLISHERS):
        return
    if "resident" in ctx.user_ids:
        me = Actor(id=ctx.user_ids["resident"], name="张秀英", permissions=frozenset({subscriptions.SELF}))
        subscriptions.follow(session, actor=me, division_code=village.code)
    now = utcnow()
    county_p, town_p, village_p = people["notice_county"], people["notice_dz"], people["notice_dt"]
    # (publisher, kind, area, title, body, days ago (None: a draft), hours of the cut/works, table)
    rows = [
        (county_p, NoticeKind.FLOOD, county.code, "防汛防台风Ⅳ级应急响应启动的通知",
         "受强降雨影响，县防汛防台抗旱指挥部决定启动防汛Ⅳ级应急响应。\n请沿溪、地质灾害隐患点周边群众注意安全，"
         "服从村干部转移安排。\n值班电话：0578-8123110", 1, None, None),
        (county_p, NoticeKind.WEATHER, county.code, "寒潮蓝色预警（已解除）",
         "预计未来48小时我县气温下降8℃以上。", 9, None, None),
        (town_p, NoticeKind.ROADWORK, town.code, "大柘镇集镇主街道路施工绕行公告",
         "集镇主街进行雨污管网改造，施工期间请过往车辆绕行环镇路。\n给您带来不便，敬请谅解。", 3, (24, 24 * 20), None),
        (town_p, NoticeKind.WATER_POWER, village.code, "大田村计划停水通知",
         "因供水管道接驳施工，大田村全村将暂停供水。\n请提前做好储水准备。", 2, (30, 40), None),
        (town_p, NoticeKind.WATER_POWER, town.code, "大柘镇部分区域计划停电通知",
         "因线路检修，大柘镇部分区域停电。", 5, (-96, -88), None),
        (county_p, NoticeKind.HEALTH, miaogao.code, "妙高街道流感疫苗接种安排",
         "60岁以上老年人可携带身份证到社区卫生服务中心免费接种。", 4, None, None),
        (village_p, NoticeKind.FINANCE, village.code, "大田村2026年1—9月财务收支公开",
         "以下为本村1—9月主要收支情况，如有疑问请向村务监督委员会反映。", 6, None, FINANCE),
        (village_p, NoticeKind.SUBSIDY, village.code, "大田村2026年耕地地力保护补贴发放名单公示",
         "公示期为七天。对名单有异议的，请在公示期内向村务监督委员会或镇农业农村办反映。", 2, None, SUBSIDY),
        (village_p, NoticeKind.DECISION, village.code, "关于文化礼堂改造提升项目的决议",
         "经村民代表会议讨论，同意实施文化礼堂改造提升项目，所需资金由上级补助和村集体经济收入解决。", 7, None, None),
        (village_p, NoticeKind.DECISION, village.code, "关于村集体林地承包方案的决议（草稿）",
         "方案待村民代表会议表决后公布。", None, None, None),
    ]  # fmt: skip
    for actor, kind, code, title, body, days_ago, hours, table in rows:
        starts = ends = None
        if hours is not None:
            starts, ends = now + timedelta(hours=hours[0]), now + timedelta(hours=hours[1])
        n = notices.create(
            session, actor=actor, kind=kind, division_code=code, title=title, body=body, starts_at=starts, ends_at=ends
        )
        if table is not None:  # masked before it is kept: the guessed marks win over "shown"
            labels, raw = table
            columns = [(label, ColumnMask.SHOWN) for label in labels]
            notices.set_table(session, actor=actor, notice_id=n.id, columns=columns, rows=[list(r) for r in raw])
        if days_ago is None:
            continue
        notices.publish(session, actor=actor, notice_id=n.id)
        n.published_at = now - timedelta(days=days_ago, hours=2)
        if kind is NoticeKind.WEATHER:
            notices.withdraw(session, actor=actor, notice_id=n.id, reason="预警已于次日解除，通知不再有效")
    session.flush()
    ctx.notes.append(
        "Portal: notices at /portal/notices, 村务公开 of 大田村 at /portal/notices?affairs=1&area="
        f"{village.code}; publish as notice_county / notice_dz / notice_dt at /portal/publish."
    )
