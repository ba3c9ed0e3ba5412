"""A small world for the 好差评 tests: people of two departments and a township, concluded applications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from countyos.core.actor import Actor
from countyos.org.models import DepartmentKind
from countyos.services.lifecycle import Action
from countyos.services.models import Application
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests import factories
from tests.services.conftest import ADMIN, Shop, guide

APPLY = "services.application.apply"  # the applicant's permission (online applications)


@dataclass
class World:
    shop: Shop
    township: int  # 大柘镇便民服务中心 (a township office with its division code)
    applicant: Actor
    other_applicant: Actor
    window: Actor
    centre: Actor
    market: Actor
    township_window: Actor
    supervisor: Actor
    matter_id: int
    people: dict[str, factories.Person]  # the accounts behind the actors (for logins and tokens), by actor name


def _actor(
    db, people: dict[str, factories.Person], name: str, perms: set[str], dep: int | None, roles: list[str]
) -> Actor:
    p = factories.person(db, roles, department_id=dep)
    people[name] = p
    return Actor(id=p.id, name=name, permissions=frozenset(perms), department_id=dep)


def world(db, shop: Shop, *, code: str = "11331123MB0000001-101") -> World:
    township = factories.department(db, "大柘镇便民服务中心", kind=DepartmentKind.TOWNSHIP)
    with db.unit_of_work() as s:
        from countyos.org.models import Department

        dep = s.get(Department, township)
        assert dep is not None
        dep.division_code = "331125100"
        m = catalogue.create(s, actor=ADMIN, data=guide(shop, code=code))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        mid = m.id
    people: dict[str, factories.Person] = {}
    return World(
        shop=shop,
        township=township,
        applicant=_actor(db, people, "蓝水生", {APPLY}, None, []),
        other_applicant=_actor(db, people, "雷美华", {APPLY}, None, []),
        window=_actor(db, people, "窗口 黄丽", {apps.WINDOW, apps.PII}, shop.centre, ["services_window"]),
        centre=_actor(db, people, "中心审批 李", {apps.HANDLE}, shop.centre, ["services_handler"]),
        market=_actor(db, people, "市监审批 许文", {apps.HANDLE}, shop.market, ["services_handler"]),
        township_window=_actor(db, people, "镇窗口 钟", {apps.WINDOW}, township, ["services_window"]),
        supervisor=_actor(db, people, "好差评办 周", {apps.SUPERVISE}, None, ["services_admin"]),
        matter_id=mid,
        people=people,
    )


def do(s, actor: Actor, app: Application, action: Action, now: datetime, **body) -> Application:
    data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
    return apps.act(s, actor=actor, application_id=app.id, action=action, data=data, now=now)


def concluded(s, w: World, at: datetime, *, by: Actor | None = None, state: str = "decided") -> Application:
    """An application of the world's matter, submitted by BY (default: the applicant online) and taken
    to STATE (decided, delivered, rejected or in_progress), the last step at AT."""
    by = by or w.applicant
    mats = [m.id for m in catalogue.current(catalogue.get(s, matter_id=w.matter_id)).materials]
    data = ApplicationIn.model_validate(
        {
            "matter_id": w.matter_id,
            "applicant_name": by.name if APPLY in by.permissions else "蓝水生",
            "id_number": "33112519600101123X",
            "phone": "13905781234",
            "materials": [{"material_id": m, "form": "original", "count": 1} for m in mats],
        }
    )
    t = at - timedelta(days=3)
    app = apps.create(s, actor=by, data=data, now=t)
    if state == "rejected":
        return do(s, w.window, app, Action.REJECT, at, reason="不属于本机关职权范围")
    app = do(s, w.window, app, Action.ACCEPT, t + timedelta(minutes=10))
    if state == "in_progress":
        return app
    app = do(s, w.centre, app, Action.PASS, t + timedelta(hours=1), opinion="材料齐全")
    result = {"decision": "granted", "result_name": "食品经营许可证", "result_number": "JY1331125000001"}
    app = do(s, w.market, app, Action.PASS, at, opinion="准予许可", result=result)
    if state == "delivered":
        app = do(s, w.window, app, Action.DELIVER, at, method="window")
    return app
