"""The payment table's lock: only the finance role locks, only an approved assessment; a locked one changes
only with a recorded reason (service, API and page), which writes an amendment and an audit record."""

from __future__ import annotations

import pytest

from countyos.core.errors import ActionForbidden, TransitionNotAllowed, ValidationFailed
from countyos.programme.models.kpis import Assessment, AssessmentState
from countyos.programme.models.projects import Contract
from countyos.programme.service import payments_lock
from countyos.programme.service.payments import compute, formula_of
from tests.factories import login
from tests.programme.payments_helpers import World, counts, pay_world, payable

__all__ = ["pay_world"]

API = "/api/v1/programme"


def test_lock_needs_finance_and_an_approved_assessment(db, pay_world: World) -> None:
    w = pay_world
    with db.unit_of_work() as s:
        approved = s.get(Assessment, w.approved)
        with pytest.raises(ActionForbidden):
            payments_lock.lock(s, actor=w.office_actor(), assessment=approved)
        computed = s.get(Assessment, w.computed)
        with pytest.raises(TransitionNotAllowed):
            payments_lock.lock(s, actor=w.finance_actor(), assessment=computed)
        done = payments_lock.lock(s, actor=w.finance_actor(), assessment=approved)
        assert done.state == AssessmentState.LOCKED and done.locked_by_id == w.finance.id and done.locked_at


def test_amend_without_reason_is_refused_on_the_reason_field(db, pay_world: World) -> None:
    w = pay_world
    with db.unit_of_work() as s:
        locked = s.get(Assessment, w.locked)
        for reason in ("", "   "):
            with pytest.raises(ValidationFailed) as exc:
                payments_lock.amend(s, actor=w.finance_actor(), assessment=locked, reason=reason, payable_fen=1)
            assert exc.value.errors[0]["field"] == "reason"
        with pytest.raises(ValidationFailed) as exc:
            payments_lock.amend(s, actor=w.finance_actor(), assessment=locked, reason="核减后补记")
        assert exc.value.errors[0]["field"] == "payable_fen"  # neither an amount nor a reassessment
        with pytest.raises(TransitionNotAllowed):  # only a locked one is amended
            payments_lock.amend(
                s, actor=w.finance_actor(), assessment=s.get(Assessment, w.approved), reason="x", payable_fen=1
            )


def test_reassess_assesses_the_period_again_and_stays_locked(db, pay_world: World) -> None:
    w = pay_world
    with db.unit_of_work() as s:
        locked = s.get(Assessment, w.locked)
        locked.payable_fen = 1  # as if changed by hand
        row = payments_lock.amend(
            s, actor=w.finance_actor(), assessment=locked, reason="数据补传后重新测算", recompute=True
        )
        assert row.what == "reassess" and row.reason == "数据补传后重新测算" and row.before["payable_fen"] == 1
        contract = s.get(Contract, w.contract_id)
        expected = compute(formula_of(contract), base_fen=10_000_000, total=locked.total_score)
        assert locked.base_fen == 10_000_000 and locked.payable_fen == expected.payable_fen == row.after["payable_fen"]
        assert locked.state == AssessmentState.LOCKED and locked.locked_by_id == w.office.id  # the lock is kept


def test_api_lock_is_refused_to_the_programme_office_and_for_a_computed_one(client, db, pay_world: World) -> None:
    w = pay_world
    csrf = login(client, w.office)
    r = client.post(f"{API}/assessments/{w.approved}/lock", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    assert payable(db, w.approved)[1] == AssessmentState.APPROVED
    client.cookies.clear()
    csrf = login(client, w.finance)
    r = client.post(f"{API}/assessments/{w.computed}/lock", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409 and r.json()["state"] == "computed"
    r = client.post(f"{API}/assessments/{w.approved}/lock", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["state"] == "locked" and r.json()["locked_by_id"] == w.finance.id


def test_api_locked_table_cannot_change_without_a_reason(client, db, pay_world: World) -> None:
    w = pay_world
    csrf = login(client, w.finance)
    before = payable(db, w.locked)
    amendments, audits = counts(db, w.locked)
    r = client.post(
        f"{API}/assessments/{w.locked}/amend", json={"payable_fen": 5_000_000}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert payable(db, w.locked) == before and counts(db, w.locked) == (amendments, audits)  # nothing changed
    r = client.post(
        f"{API}/assessments/{w.locked}/amend",
        json={"payable_fen": 5_000_000, "reason": "因设备数据接入延迟核减后补记"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (
        body["what"] == "adjust"
        and body["before"]["payable_fen"] == before[0]
        and body["after"]["payable_fen"] == 5_000_000
    )
    assert payable(db, w.locked) == (5_000_000, AssessmentState.LOCKED)
    assert counts(db, w.locked) == (amendments + 1, audits + 1)
    listed = client.get(f"{API}/assessments/{w.locked}/amendments").json()
    assert [a["reason"] for a in listed] == ["因设备数据接入延迟核减后补记"]
    too_much = client.post(
        f"{API}/assessments/{w.locked}/amend",
        json={"payable_fen": 10**12, "reason": "x"},
        headers={"X-CSRF-Token": csrf},
    )
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "payable_fen"


def test_api_amend_needs_finance(client, db, pay_world: World) -> None:
    csrf = login(client, pay_world.office)
    r = client.post(
        f"{API}/assessments/{pay_world.locked}/amend",
        json={"payable_fen": 1, "reason": "x"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 403 and counts(db, pay_world.locked)[0] == 0


def test_api_payment_table_and_bounds(client, db, pay_world: World) -> None:
    login(client, pay_world.office)
    r = client.get(f"{API}/payments", params={"contract": pay_world.contract_id})
    assert r.status_code == 200
    body = r.json()
    assert [row["state"] for row in body["rows"]] == ["locked", "approved", "computed"]
    assert body["sums"]["payable_fen"] == sum(row["payable_fen"] for row in body["rows"])
    assert client.get(f"{API}/payments", params={"year": 2026}).json()["rows"]
    assert client.get(f"{API}/payments").status_code == 422  # a contract or a year
    assert client.get(f"{API}/payments", params={"year": 1900}).status_code == 422


def test_page_lock_and_amend_with_errors_beside_the_field(client, db, pay_world: World) -> None:
    w = pay_world
    csrf = login(client, w.finance)
    page = client.get(f"/programme/payments?contract={w.contract_id}")
    assert page.status_code == 200 and f'id="lock-{w.approved}"' in page.text and f'id="adjust-{w.locked}"' in page.text
    assert "已锁定" in page.text or "Locked" in page.text
    before = payable(db, w.locked)
    bad = client.post(
        f"/programme/assessments/{w.locked}/adjust",
        data={"csrf_token": csrf, "payable_yuan": "98,000.50", "reason": ""},
    )
    assert bad.status_code == 422 and f'id="error-reason-adjust-{w.locked}"' in bad.text
    assert 'value="98,000.50"' in bad.text  # what was typed is kept
    assert payable(db, w.locked) == before and counts(db, w.locked)[0] == 0
    bad = client.post(
        f"/programme/assessments/{w.locked}/adjust",
        data={"csrf_token": csrf, "payable_yuan": "12.345", "reason": "补记"},
    )
    assert bad.status_code == 422 and f'id="error-payable_yuan-{w.locked}"' in bad.text
    r = client.post(
        f"/programme/assessments/{w.locked}/adjust",
        data={"csrf_token": csrf, "payable_yuan": "98,000.50", "reason": "因设备数据接入延迟核减后补记"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert payable(db, w.locked) == (9_800_050, AssessmentState.LOCKED) and counts(db, w.locked)[0] == 1
    bad = client.post(f"/programme/assessments/{w.locked}/reassess", data={"csrf_token": csrf, "reason": ""})
    assert bad.status_code == 422 and f'id="error-reason-reassess-{w.locked}"' in bad.text
    r = client.post(
        "/programme/payments/lock-all",
        data={"csrf_token": csrf, "contract": str(w.contract_id)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and payable(db, w.approved)[1] == AssessmentState.LOCKED
    assert payable(db, w.computed)[1] == AssessmentState.COMPUTED  # only the approved ones
    listed = client.get(f"/programme/assessments/{w.locked}/amendments")
    assert listed.status_code == 200 and "因设备数据接入延迟核减后补记" in listed.text and "98,000.50" in listed.text


def test_page_actions_are_refused_to_the_programme_office(client, db, pay_world: World) -> None:
    w = pay_world
    csrf = login(client, w.office)
    page = client.get(f"/programme/payments?contract={w.contract_id}")
    assert page.status_code == 200 and f'id="lock-{w.approved}"' not in page.text
    r = client.post(f"/programme/assessments/{w.approved}/lock", data={"csrf_token": csrf})
    assert r.status_code == 403 and payable(db, w.approved)[1] == AssessmentState.APPROVED


def test_assessment_page_shows_the_payment_block(client, db, pay_world: World) -> None:
    w = pay_world
    csrf = login(client, w.finance)
    page = client.get(f"/programme/assessments/{w.locked}")
    assert page.status_code == 200 and 'id="payment-block"' in page.text and f'id="adjust-{w.locked}"' in page.text
    r = client.post(
        f"/programme/assessments/{w.locked}/adjust",
        data={
            "csrf_token": csrf,
            "payable_yuan": "99000",
            "reason": "补记",
            "next": f"/programme/assessments/{w.locked}",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/programme/assessments/{w.locked}"
    page = client.get(r.headers["location"])
    assert "补记" in page.text and "99,000.00" in page.text


def test_return_for_recomputing_needs_a_reason_and_clears_the_approval(client, db, pay_world: World) -> None:
    w = pay_world
    csrf = login(client, w.finance)
    bad = client.post(f"/programme/assessments/{w.approved}/return", data={"csrf_token": csrf, "reason": " "})
    assert bad.status_code == 422 and f'id="error-reason-return-{w.approved}"' in bad.text
    assert payable(db, w.approved)[1] == AssessmentState.APPROVED
    r = client.post(
        f"/api/v1/programme/assessments/{w.approved}/return",
        json={"reason": "指标口径有误，退回重算"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["what"] == "return"
    assert r.json()["assessment"]["state"] == "computed" and r.json()["assessment"]["approved_by_id"] is None
    r = client.post(
        f"/api/v1/programme/assessments/{w.locked}/return", json={"reason": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 409  # a locked one is amended, not returned
