"""The partners part of the demonstration county: the partner organisations (the projects demo's, or two
made here), kfz a developer of the first, two sandbox keys with a month of use, four partner services in
different states (two approved and listed on the public catalogue)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_today
from countyos.programme.models.partners import PartnerKeyUsage
from countyos.programme.models.projects import Organisation, OrgKind
from countyos.programme.permissions import DEVELOPER, PARTNERS
from countyos.programme.schemas.partners import KeyIn, MemberIn, ReviewIn, ServiceIn
from countyos.programme.service import partners, partners_services

PARTNERS_MADE_HERE = (
    ("县域智行科技有限公司", "城市出行和文旅导览应用的开发商"),
    ("青山生态数据服务有限公司", "生态环境数据的分析和展示服务商"),
)
SERVICES = (
    # (partner index, name, summary, url, category, uses, final state, note)
    (0, "畅游导览", "景区语音导览、在园人数和排队提示", "https://guide.example.cn/", "travel",
     ["village.tourism.read", "sta"], "approved", ""),
    (1, "空气早知道", "全县空气质量实时查看和次日提醒", "https://air.example.cn/app", "environment",
     ["eco.monitor.read", "sta"], "approved", ""),
    (0, "随手拍助手", "帮助居民通过 Open311 上报身边的问题", "https://report.example.cn/", "public_service",
     ["open311"], "submitted", ""),
    (1, "农场直播间", "基地直播和农产品展示", "http://farm.example.cn/live", "agriculture",
     ["geo.read"], "rejected", "请说明直播内容的审核办法，并改用 https 地址后重新提交。"),
)  # fmt: skip


def _partners(session: Session) -> list[Organisation]:
    orgs = partners.partner_orgs(session)
    if orgs:
        return orgs
    made = []
    for name, description in PARTNERS_MADE_HERE:
        org = session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            org = Organisation(name=name, kind=OrgKind.PARTNER, description=description, contact_name="业务联系人")
            session.add(org)
        made.append(org)
    session.flush()
    return made


def load(session: Session, ctx: Any) -> None:
    office_id = ctx.user_ids.get("xmb")
    office = Actor(id=office_id, name="xmb", permissions=frozenset({PARTNERS}))
    orgs = _partners(session)
    first, second = orgs[0], orgs[1] if len(orgs) > 1 else orgs[0]
    dev_id = ctx.user_ids.get("kfz")
    developer = office
    if dev_id is not None:
        if partners.org_of_user(session, user_id=dev_id) is None:
            partners.add_member(session, actor=office, org_id=first.id, data=MemberIn(user_id=dev_id))
        developer = Actor(id=dev_id, name="kfz", permissions=frozenset({DEVELOPER}))

    rng = random.Random(20261205)
    today = county_today()
    key_specs = (
        (first, "畅游导览小程序", ["village.tourism.read", "geo.read"], 1000),
        (second, "空气早知道后台", ["eco.monitor.read", "sensing.read"], 500),
    )
    rows = []
    for n, (org, name, scopes, quota) in enumerate(key_specs):
        actor = developer if org.id == first.id and dev_id is not None else office
        key, plain = partners.issue_key(
            session, actor=actor, org_id=org.id, data=KeyIn(name=name, scopes=scopes, daily_quota=quota)
        )
        if n == 0:
            ctx.notes.append(f"Partner sandbox key ({org.name}, {quota} calls a day): {plain}")
        for back in range(1, 31):
            calls = int(quota * rng.uniform(0.2, 0.9))
            refused = 0
            if rng.random() < 0.1:  # a busy day: the quota spent, some calls refused
                calls, refused = quota, rng.randint(5, 60)
            rows.append(PartnerKeyUsage(key_id=key.id, day=today - timedelta(days=back), calls=calls, refused=refused))
    session.add_all(rows)
    session.flush()

    for idx, name, summary, url, category, uses, final, note in SERVICES:
        org = (first, second)[idx]
        submitter = developer if org.id == first.id else office
        data = ServiceIn(
            name=name, summary=summary, url=url, category=category, uses=uses, contact="服务热线 0578-0000000",
            description=summary,
        )  # fmt: skip
        svc = partners_services.submit(session, actor=submitter, org_id=org.id, data=data)
        if final == "approved":
            partners_services.review(session, actor=office, service_id=svc.id, data=ReviewIn(action="approve"))
        elif final == "rejected":
            partners_services.review(
                session, actor=office, service_id=svc.id, data=ReviewIn(action="reject", note=note)
            )
