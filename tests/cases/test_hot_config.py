"""Open311 intake reads the api_key, categories, routing rules and time limits from memory; a change
made in this process applies to the very next report."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from countyos.cases.models import Case, RoutingRule, Step
from countyos.cases.service import categories, routing
from countyos.core.workcal import TimeUnit
from countyos.org.models import ApiToken, Role
from countyos.org.service import tokens
from tests.cases.conftest import FACTORY, open311_app
from tests.factories import person, token_for

URL = "/open311/v2/requests.json"


@pytest.fixture
def api_key(db, world):
    return open311_app(db)


def report(client, api_key, code="M09006"):
    r = client.post(URL, data={"api_key": api_key, "service_code": code, "lat": "28.59", "long": "119.27"})
    return r


def case_of(db, r) -> tuple[int | None, datetime | None]:
    """(suggested department, deadline of the first step) of the case a report made."""
    assert r.status_code == 200, r.text
    number = r.json()[0]["service_request_id"]
    with db.reading() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return case.suggested_department_id, case.step_deadline


def test_a_revoked_api_key_is_refused_at_once(client, db, world, api_key):
    assert report(client, api_key).status_code == 200
    with db.unit_of_work() as s:
        tok = s.scalar(select(ApiToken).order_by(ApiToken.id.desc()).limit(1))
        assert tok is not None
        tokens.revoke(s, actor=FACTORY, token_id=tok.id)
    r = report(client, api_key)
    assert r.status_code == 403 and r.json()[0]["code"] == 403


def test_a_role_losing_open311_refuses_its_key_at_once(client, db, world, api_key):
    assert report(client, api_key).status_code == 200
    with db.unit_of_work() as s:
        role = s.scalar(select(Role).where(Role.code == "open311_app"))
        assert role is not None
        role.permissions = []
    assert report(client, api_key).status_code == 403


def test_routing_and_limit_edits_apply_to_the_next_report(client, db, world, api_key):
    department, before = case_of(db, report(client, api_key))
    assert department == world.enforcement
    with db.unit_of_work() as s:
        rule = s.scalar(select(RoutingRule).where(RoutingRule.category_id == world.cat_stall))
        assert rule is not None
        routing.save_rule(s, actor=FACTORY, rule_id=rule.id, category_id=world.cat_stall, department_id=world.water)
        categories.set_limit(
            s,
            actor=FACTORY,
            category_id=world.cat_stall,
            area_class="*",
            step=Step.ACCEPT,
            amount=30,
            unit=TimeUnit.WORKING_DAYS,
        )
    department, after = case_of(db, report(client, api_key))
    assert department == world.water
    assert before is not None and after is not None
    assert (after - before).days >= 28  # 30 working days instead of one working hour


def test_a_category_withdrawn_from_open311_is_unknown_at_once(client, db, world, api_key):
    assert report(client, api_key).status_code == 200
    with db.unit_of_work() as s:
        categories.update(s, actor=FACTORY, category_id=world.cat_stall, changes={"public": False})
    r = report(client, api_key)
    assert r.status_code == 404 and "M09006" in r.json()[0]["description"]


def test_a_failed_write_leaves_no_stale_configuration(client, db, world, api_key):
    """A routing change rolled back is never seen, though it was read inside its own transaction."""
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        rule = s.scalar(select(RoutingRule).where(RoutingRule.category_id == world.cat_stall))
        assert rule is not None
        routing.save_rule(s, actor=FACTORY, rule_id=rule.id, category_id=world.cat_stall, department_id=world.water)
        cat = categories.info(s, category_id=world.cat_stall)
        sug = routing.suggest(s, category=cat, township_code=None, grid_code=None)
        assert sug is not None and sug.department_id == world.water  # its own change, inside the transaction
        raise RuntimeError("abandon the edit")
    assert case_of(db, report(client, api_key))[0] == world.enforcement


def test_reports_are_counted_in_the_group_commit_metrics(client, db, api_key):
    for _ in range(3):
        assert report(client, api_key).status_code == 200
    assert report(client, api_key, code="NO-SUCH").status_code == 404  # refused in its savepoint, still counted
    tok = token_for(db, person(db, ["sysadmin"]), ["system.manage"])
    text = client.get("/metrics", headers={"Authorization": f"Bearer {tok}"}).text
    values = {k: float(v) for k, v in (line.split() for line in text.splitlines() if line.startswith("countyos_group"))}
    assert values["countyos_group_commit_writes_total"] == 4
    assert 1 <= values["countyos_group_commit_transactions_total"] <= 4
