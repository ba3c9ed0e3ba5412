"""Organisations, projects, spend and contracts: validation, the lifecycles with their refusals, the payment
schedule's bounds, activation only with KPIs weighing 100, and the audit of every write."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from countyos.core.errors import Conflict, TransitionNotAllowed, ValidationFailed
from countyos.org.models import AuditEvent
from countyos.programme.models.kpis import ContractKpi
from countyos.programme.models.projects import ContractState, ProjectState
from countyos.programme.schemas.projects import InstalmentIn, SpendIn
from countyos.programme.service import projects as svc
from countyos.programme.service import projects_contracts as contracts
from countyos.programme.service import projects_models
from tests.programme.projects_helpers import OFFICE, contract_in, credit_code, org_in, project_in, world


def _actions(s, target_type: str, target_id: int) -> list[str]:
    rows = s.scalars(
        select(AuditEvent.action).where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id))
    )
    return list(rows)


def test_the_credit_code_and_phone_are_checked() -> None:
    assert org_in(3).uscc == credit_code(3)
    bad = credit_code(3)[:17] + ("0" if credit_code(3)[17] != "0" else "1")
    with pytest.raises(ValidationError) as e:
        org_in(3, uscc=bad)
    assert e.value.errors()[0]["loc"] == ("uscc",)
    with pytest.raises(ValidationError) as e:
        org_in(3, contact_phone="12345")
    assert e.value.errors()[0]["loc"] == ("contact_phone",)
    assert org_in(3, uscc="", contact_phone="").uscc is None


def test_duplicate_names_and_codes_are_refused_on_their_field(db) -> None:
    w = world(db)
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed) as e:
            svc.create_org(s, actor=OFFICE, data=org_in(1, uscc=credit_code(9)))
        assert e.value.errors[0]["field"] == "name"
        with pytest.raises(ValidationFailed) as e:
            svc.create_org(s, actor=OFFICE, data=org_in(9, uscc=credit_code(1)))
        assert e.value.errors[0]["field"] == "uscc"
        with pytest.raises(ValidationFailed) as e:
            svc.create_project(s, actor=OFFICE, data=project_in())
        assert e.value.errors[0]["field"] == "code"
        assert "programme.projects.org.create" in _actions(s, "programme_org", w.org_id)


def test_the_funding_model_scope_and_dates_are_checked(db) -> None:
    assert [m.code for m in projects_models.all_models()][:3] == ["gov_one_off", "gov_instalment", "gov_buy_back"]
    assert projects_models.get("state_incubation") is not None
    cases = [
        ({"funding_model": "gift"}, "funding_model"),
        ({"modules": ["cases", "nope"]}, "modules"),
        ({"device_classes": ["teleporter"]}, "device_classes"),
        ({"data_resources": ["NO-SUCH-RESOURCE"]}, "data_resources"),
        ({"starts_on": date(2026, 1, 1), "ends_on": date(2025, 1, 1)}, "ends_on"),
    ]
    with db.unit_of_work() as s:
        for changes, field in cases:
            with pytest.raises(ValidationFailed) as e:
                svc.create_project(s, actor=OFFICE, data=project_in(code="XM-X", **changes))
            assert e.value.errors[0]["field"] == field, changes
        p = svc.create_project(s, actor=OFFICE, data=project_in(code="XM-Y", device_classes=["manhole"]))
        assert p.device_classes == ["manhole"] and p.state == ProjectState.PLANNED


def test_the_project_lifecycle_lists_what_is_allowed(db) -> None:
    w = world(db)
    with db.unit_of_work() as s:
        with pytest.raises(TransitionNotAllowed) as e:
            svc.act(s, actor=OFFICE, project_id=w.project_id, action="fly")
        assert e.value.allowed == ["build", "operate", "close"] and e.value.state == "planned"
        svc.act(s, actor=OFFICE, project_id=w.project_id, action="build")
        svc.act(s, actor=OFFICE, project_id=w.project_id, action="operate")
        with pytest.raises(TransitionNotAllowed) as e:
            svc.act(s, actor=OFFICE, project_id=w.project_id, action="build")
        assert e.value.allowed == ["close"]
        svc.act(s, actor=OFFICE, project_id=w.project_id, action="close")
        with pytest.raises(TransitionNotAllowed) as e:
            svc.act(s, actor=OFFICE, project_id=w.project_id, action="operate")
        assert e.value.allowed == []
        with pytest.raises(Conflict):
            svc.update_project(s, actor=OFFICE, project_id=w.project_id, data=project_in())
        assert _actions(s, "programme_project", w.project_id).count("programme.projects.project.transition") == 3


def test_spend_is_added_and_deleted_with_audit(db) -> None:
    w = world(db)
    with db.unit_of_work() as s:
        a = svc.add_spend(
            s,
            actor=OFFICE,
            project_id=w.project_id,
            data=SpendIn(spent_on=date(2026, 1, 5), amount_fen=1_000_00, contract_id=w.contract_id),
        )
        svc.add_spend(s, actor=OFFICE, project_id=w.project_id, data=SpendIn(spent_on=date(2026, 2, 5), amount_fen=50))
        assert svc.spend_totals(s, [w.project_id]) == {w.project_id: 100_050}
        other = svc.create_project(s, actor=OFFICE, data=project_in(code="XM-Z"))
        with pytest.raises(ValidationFailed) as e:
            svc.add_spend(
                s,
                actor=OFFICE,
                project_id=other.id,
                data=SpendIn(spent_on=date(2026, 1, 5), amount_fen=1, contract_id=w.contract_id),
            )
        assert e.value.errors[0]["field"] == "contract_id"
        svc.delete_spend(s, actor=OFFICE, project_id=w.project_id, spend_id=a.id)
        assert svc.spend_totals(s, [w.project_id]) == {w.project_id: 50}
        acts = _actions(s, "programme_project", w.project_id)
        assert acts.count("programme.projects.spend.add") == 2 and "programme.projects.spend.delete" in acts
    with pytest.raises(ValidationError):
        SpendIn(spent_on=date(2026, 1, 5), amount_fen=0)


def test_contract_dates_formula_and_schedule_are_checked(db) -> None:
    w = world(db)
    with pytest.raises(ValidationError) as e:
        contract_in(w.project_id, w.org_id, formula={"full_at": 90, "zero_below": 95})
    assert e.value.errors()[0]["loc"][0] == "formula"
    with pytest.raises(ValidationError):
        contract_in(w.project_id, w.org_id, formula={"base": "whatever"})
    with db.unit_of_work() as s:
        with pytest.raises(ValidationFailed) as ve:
            contracts.create(
                s, actor=OFFICE, data=contract_in(w.project_id, w.org_id, code="HT-2", ends_on=date(2025, 1, 1))
            )
        assert ve.value.errors[0]["field"] == "ends_on"
        c = contracts.get(s, contract_id=w.contract_id)
        assert c.formula == contracts.default_formula()
        contracts.add_instalment(
            s,
            actor=OFFICE,
            contract_id=c.id,
            data=InstalmentIn(due_on=date(2026, 3, 1), amount_fen=100_000_000, label="首期"),
        )
        with pytest.raises(ValidationFailed) as ve:
            contracts.add_instalment(
                s, actor=OFFICE, contract_id=c.id, data=InstalmentIn(due_on=date(2026, 6, 1), amount_fen=20_000_001)
            )
        assert ve.value.errors[0]["field"] == "amount_fen"
        with pytest.raises(ValidationFailed) as ve:
            contracts.add_instalment(
                s, actor=OFFICE, contract_id=c.id, data=InstalmentIn(due_on=date(2028, 6, 1), amount_fen=1)
            )
        assert ve.value.errors[0]["field"] == "due_on"
        contracts.add_instalment(
            s, actor=OFFICE, contract_id=c.id, data=InstalmentIn(due_on=date(2026, 6, 1), amount_fen=20_000_000)
        )
        with pytest.raises(ValidationFailed) as ve:  # the amount may not drop below the schedule
            contracts.update(
                s, actor=OFFICE, contract_id=c.id, data=contract_in(w.project_id, w.org_id, amount_fen=100_000_000)
            )
        assert ve.value.errors[0]["field"] == "amount_fen"
        acts = _actions(s, "programme_contract", c.id)
        assert acts.count("programme.projects.instalment.add") == 2


def test_activation_needs_kpis_weighing_100(db) -> None:
    w = world(db)
    with db.unit_of_work() as s:
        with pytest.raises(Conflict) as e:
            contracts.act(s, actor=OFFICE, contract_id=w.contract_id, action="activate")
        assert "KPI" in e.value.message_id
        s.add(ContractKpi(contract_id=w.contract_id, kpi="case_closure", target=95, weight=60, scoring={}))
        s.flush()
        with pytest.raises(Conflict) as e:
            contracts.act(s, actor=OFFICE, contract_id=w.contract_id, action="activate")
        assert e.value.params["total"] == "60"
        s.add(ContractKpi(contract_id=w.contract_id, kpi="device_online", target=98, weight=40, scoring={}))
        s.flush()
        with pytest.raises(TransitionNotAllowed) as t:
            contracts.act(s, actor=OFFICE, contract_id=w.contract_id, action="end")
        assert t.value.allowed == ["activate"]
        c = contracts.act(s, actor=OFFICE, contract_id=w.contract_id, action="activate")
        assert c.state == ContractState.ACTIVE
        with pytest.raises(Conflict):
            contracts.delete(s, actor=OFFICE, contract_id=c.id)
        assert contracts.act(s, actor=OFFICE, contract_id=c.id, action="end").state == ContractState.ENDED
        assert "programme.projects.contract.transition" in _actions(s, "programme_contract", c.id)


def test_revealing_a_phone_is_audited(db) -> None:
    w = world(db)
    with db.unit_of_work() as s:
        org = svc.get_org(s, org_id=w.org_id)
        assert svc.masked_phone(org) == "138****5678"
        assert svc.reveal_phone(s, actor=OFFICE, org_id=w.org_id) == "13812345678"
        assert "programme.projects.org.phone_view" in _actions(s, "programme_org", w.org_id)
        with pytest.raises(Conflict):
            svc.delete_org(s, actor=OFFICE, org_id=w.org_id)
        svc.delete_org(s, actor=OFFICE, org_id=w.vendor_id)
