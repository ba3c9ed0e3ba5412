"""A small services world for the page tests: a matter with two departments' steps, a window clerk, each
department's handler, another department's handler, a supervisor and a village agent; and helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from countyos.core.actor import Actor
from countyos.services.lifecycle import Action
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests import factories
from tests.factories import Person, csrf_from
from tests.services.conftest import ADMIN, Shop, guide

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 county time


@dataclass
class World:
    shop: Shop
    matter_id: int
    window: Person
    centre: Person
    market: Person
    other: Person  # a handler of a department no step belongs to
    supervisor: Person
    agent: Person
    actors: dict[str, Actor]


def _actor(p: Person, perms: set[str], dep: int | None) -> Actor:
    return Actor(id=p.id, name=f"测试{p.username}", permissions=frozenset(perms), department_id=dep)


def make_world(db, shop: Shop) -> World:
    other_dep = factories.department(db, "测试民政局")
    window = factories.person(db, ["services_window"], department_id=shop.centre)
    centre = factories.person(db, ["services_handler"], department_id=shop.centre)
    market = factories.person(db, ["services_handler"], department_id=shop.market)
    other = factories.person(db, ["services_handler"], department_id=other_dep)
    supervisor = factories.person(db, ["services_admin"])
    agent = factories.person(db, ["services_agent"], department_id=shop.centre)
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        mid = m.id
    actors = {
        "window": _actor(window, {apps.WINDOW, apps.PII}, shop.centre),
        "centre": _actor(centre, {apps.HANDLE}, shop.centre),
        "market": _actor(market, {apps.HANDLE}, shop.market),
        "agent": _actor(agent, {apps.AGENT}, shop.centre),
    }
    return World(shop, mid, window, centre, market, other, supervisor, agent, actors)


def submit(db, w: World, *, by: str = "window", complete: bool = True, name: str = "蓝水生", at=T0) -> int:
    with db.unit_of_work() as s:
        mats = [m.id for m in catalogue.current(catalogue.get(s, matter_id=w.matter_id)).materials]
        data = {
            "matter_id": w.matter_id,
            "applicant_name": name,
            "id_number": "33112519600101123X",
            "phone": "13905781234",
            "address": "大柘镇大田村 12 号",
            "materials": [{"material_id": m, "form": "original", "count": 1} for m in (mats if complete else mats[:1])],
        }
        if by == "agent":
            data["consent"] = {"given_by": name, "way": "signed_form", "at": "2026-11-30T08:00:00+08:00"}
        return apps.create(s, actor=w.actors[by], data=ApplicationIn.model_validate(data), now=at).id


def act(db, w: World, app_id: int, who: str, action: Action, at=T0, **body) -> None:
    with db.unit_of_work() as s:
        app = s.get(apps.Application, app_id)
        data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
        apps.act(s, actor=w.actors[who], application_id=app_id, action=action, data=data, now=at)


def accepted(db, w: World, **kw) -> int:
    app_id = submit(db, w, **kw)
    act(db, w, app_id, "window", Action.ACCEPT)
    return app_id


def state_of(db, app_id: int) -> tuple[str, int | None, int, int]:
    """(state, step, version, timeline rows)."""
    with db.reading() as s:
        app = s.get(apps.Application, app_id)
        return app.state, app.step, app.version, len(apps.timeline(s, application_id=app_id))


def post(client: TestClient, app_id: int, action: str, **fields: str):
    page = client.get(f"/services/applications/{app_id}", params={"act": action})
    assert page.status_code == 200, page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version, "no action form on the page"
    data = {"csrf_token": csrf_from(page.text), "action": action, "version": version.group(1), **fields}
    return client.post(f"/services/applications/{app_id}/act", data=data, follow_redirects=False)
