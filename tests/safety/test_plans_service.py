"""Plans as data: publishing makes sensing rules and PlanRule rows, a re-publish disables the old ones,
validation names the field, a published version is never edited, retiring disables the rules, the diff."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from countyos.core.errors import Conflict, ValidationFailed
from countyos.safety.models.plans import PlanRule, PlanState, PlanType, ResponseLevel, VersionState
from countyos.safety.schemas.plans import PlanIn
from countyos.safety.service import plans
from countyos.sensing.models import Rule, Severity
from tests.safety.plans_helpers import KEEPER, World, body, world

__all__ = ["world"]


def _plan(s, code: str = "T-FX") -> int:
    return plans.create_plan(s, actor=KEEPER, data=PlanIn(code=code, name="测试防汛预案", type=PlanType.FLOOD)).id


def test_publish_makes_rules_and_republish_disables_the_old(db, world: World):
    with db.unit_of_work() as s:
        pid = _plan(s)
        plans.save_draft(s, actor=KEEPER, plan_id=pid, body=body())
        v1 = plans.publish(s, actor=KEEPER, plan_id=pid)
        made = s.scalars(select(PlanRule).where(PlanRule.version_id == v1.id)).all()
        assert {(r.level, r.trigger_index) for r in made} == {(ResponseLevel.IV, 0), (ResponseLevel.III, 0)}
        rules = {r.level: s.get(Rule, r.rule_id) for r in made}
        iv = rules[ResponseLevel.IV]
        assert iv.enabled and iv.datastream_id == world.datastream_id and iv.dedupe_seconds == 1800
        assert iv.severity == Severity.MAJOR and iv.case_category_code is None
        assert iv.name == "测试防汛预案 · Ⅳ级响应 · 测试水位超过 4.0 米"
        plan = plans.get_plan(s, plan_id=pid)
        assert plan.state == PlanState.ACTIVE and plan.current_version_id == v1.id
        assert plans.rule_lookup(s, iv.id) == (plan, v1, ResponseLevel.IV)

        changed = body()
        changed.levels[0].duties[0].deadline_minutes = 45
        plans.save_draft(s, actor=KEEPER, plan_id=pid, body=changed, note="缩短时限")
        v2 = plans.publish(s, actor=KEEPER, plan_id=pid)
        assert v2.number == 2 and v1.state == VersionState.SUPERSEDED and v2.state == VersionState.PUBLISHED
        assert not iv.enabled and not rules[ResponseLevel.III].enabled
        assert s.scalars(select(PlanRule).where(PlanRule.version_id == v1.id)).all()  # kept for history
        new = s.scalars(select(PlanRule).where(PlanRule.version_id == v2.id)).all()
        assert len(new) == 2 and all(s.get(Rule, r.rule_id).enabled for r in new)
        assert plans.rule_lookup(s, iv.id) is None
        found = plans.published_body(s, plan)
        assert found is not None and found[0].id == v2.id and found[1].levels[0].duties[0].deadline_minutes == 45
        words = [c.text for c in plans.diff(body(), changed)]
        assert any("45" in w and "测试水利局" in w for w in words)


def test_severe_levels_make_critical_rules_and_retire_disables(db, world: World):
    data = body()
    data.levels[1].level = ResponseLevel.II
    with db.unit_of_work() as s:
        pid = _plan(s)
        plans.save_draft(s, actor=KEEPER, plan_id=pid, body=data)
        v = plans.publish(s, actor=KEEPER, plan_id=pid)
        rows = {r.level: s.get(Rule, r.rule_id) for r in s.scalars(select(PlanRule).where(PlanRule.version_id == v.id))}
        assert rows[ResponseLevel.II].severity == Severity.CRITICAL
        plans.retire(s, actor=KEEPER, plan_id=pid)
        assert all(not r.enabled for r in rows.values())
        assert plans.rule_lookup(s, rows[ResponseLevel.II].id) is None
        with pytest.raises(Conflict):
            plans.publish(s, actor=KEEPER, plan_id=pid)


def test_case_triggers_of_active_plans(db, world: World):
    data = body()
    data.levels[0].triggers.append({"kind": "case", "category": world.category_code})  # type: ignore[arg-type]
    data = type(data).model_validate(data.model_dump())
    with db.unit_of_work() as s:
        pid = _plan(s)
        plans.save_draft(s, actor=KEEPER, plan_id=pid, body=data)
        plans.publish(s, actor=KEEPER, plan_id=pid)
        found = [(p.id, lv, code) for p, _, lv, code in plans.case_triggers(s)]
        assert (pid, ResponseLevel.IV, world.category_code) in found


def _fields(exc: ValidationFailed) -> set[str]:
    return {e["field"] for e in exc.errors}


def test_validation_names_the_field(db, world: World):
    bad = body()
    bad.levels[0].duties[1].department = "不存在的局"
    bad.levels[1].triggers[0].device = "no-such-gauge"  # type: ignore[union-attr]
    bad.levels[0].triggers[0].condition = {"type": "threshold", "op": "≈", "value": 1}  # type: ignore[union-attr]
    with db.unit_of_work() as s:
        pid = _plan(s)
        with pytest.raises(ValidationFailed) as caught:
            plans.save_draft(s, actor=KEEPER, plan_id=pid, body=bad)
    assert _fields(caught.value) == {
        "levels.0.duties.1.department",
        "levels.1.triggers.0.device",
        "levels.0.triggers.0.condition",
    }


def test_a_level_appears_once():
    data = body().model_dump(mode="json")
    data["levels"][1]["level"] = "IV"
    with pytest.raises(ValidationError) as caught:
        type(body()).model_validate(data)
    assert caught.value.errors()[0]["loc"] == ("levels",)


def test_a_published_version_is_never_edited(db, world: World):
    with db.unit_of_work() as s:
        pid = _plan(s)
        plans.save_draft(s, actor=KEEPER, plan_id=pid, body=body())
        plans.publish(s, actor=KEEPER, plan_id=pid)
        with pytest.raises(Conflict):
            plans.save_version(s, actor=KEEPER, plan_id=pid, number=1, body=body())


def test_unknown_category_and_duplicate_code(db, world: World):
    data = body()
    data.levels[0].triggers.append({"kind": "case", "category": "nope-999"})  # type: ignore[arg-type]
    data = type(data).model_validate(data.model_dump())
    with db.unit_of_work() as s:
        pid = _plan(s)
        with pytest.raises(ValidationFailed) as caught:
            plans.save_draft(s, actor=KEEPER, plan_id=pid, body=data)
        assert _fields(caught.value) == {"levels.0.triggers.1.category"}
        with pytest.raises(ValidationFailed) as dup:
            _plan(s)
        assert _fields(dup.value) == {"code"}
