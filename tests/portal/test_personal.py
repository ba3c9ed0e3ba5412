"""A resident's personal data: all of it on one page and in one file, and deleted on request —
everything not kept by law removed or made anonymous, and the page says what was kept and why."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from countyos.cases.models import Case, Channel, Reporter
from countyos.cases.service import people
from countyos.org.models import AuditEvent, User, UserSession
from countyos.portal.models import Consent, Message, OneTimeCode, Resident, Subscription
from countyos.portal.service import codes, personal
from tests.factories import csrf_from
from tests.portal.test_accounts import PHONE, ask_code, code_in, sign_in


def _resident_with_a_report(db, client, box, harness, baseline) -> tuple[int, str]:
    world = harness.value(baseline, db=db)
    with db.unit_of_work() as s:
        case = Case(channel=Channel.WEB, category_id=world.cat_manhole, title="路灯不亮", state="reported",
                    version=1, number="P20261204777", lon=119.1, lat=28.5, description="路灯不亮")  # fmt: skip
        s.add(case)
        s.flush()
        s.add(Reporter(case_id=case.id, original_case_id=case.id, channel=Channel.WEB, name="李阿姨",
                       phone_enc=people.encrypt(PHONE), phone_index=people.blind_index(PHONE),
                       public_token="tok-del"))  # fmt: skip
    ask_code(client)
    assert sign_in(client, code_in(box)).status_code == 303
    with db.reading() as s:
        uid = s.scalar(select(User.id).where(User.phone_index == codes.phone_index(PHONE)))
    with db.unit_of_work() as s:
        s.add(Subscription(user_id=uid, division_code="331123100", kinds=[]))
    return uid, case.number


def test_the_data_page_and_file_hold_everything(db, client, box, harness, cases_world_baseline):
    _uid, number = _resident_with_a_report(db, client, box, harness, cases_world_baseline)
    page = client.get("/portal/me/data")
    assert page.status_code == 200 and PHONE in page.text and number in page.text and "李阿姨" in page.text
    assert page.headers["cache-control"] == "no-store"
    kept = page.text.split('id="pt-kept"', 1)[1].split("</ul>", 1)[0]
    assert kept.count("<li>") == len(personal.KEPT)  # what deletion keeps is said before it is asked for
    r = client.get("/portal/me/data.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    data = json.loads(r.text)
    assert data["account"]["phone"] == PHONE
    assert [x["case"] for x in data["reports"]] == [number]
    assert data["subscriptions"] == [{"area": "331123100", "kinds": []}]
    assert [c["purpose"] for c in data["consents"]] == ["privacy"]
    assert len(data["kept_by_law"]) == len(personal.KEPT)
    with db.reading() as s:
        assert (
            s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "portal.data_export")) == 1
        )


def test_deletion_removes_what_is_not_kept_and_says_what_is(db, client, box, harness, cases_world_baseline):
    uid, number = _resident_with_a_report(db, client, box, harness, cases_world_baseline)
    token = csrf_from(client.get("/portal/me/data").text)
    unconfirmed = client.post("/portal/me/delete", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and 'id="e-confirm"' in unconfirmed.text
    r = client.post("/portal/me/delete", data={"csrf_token": token, "confirm": "1"})
    assert r.status_code == 200 and 'id="pt-deleted"' in r.text and 'id="pt-kept"' in r.text
    with db.reading() as s:
        user = s.get(User, uid)
        assert user.is_active is False and user.phone_enc is None and user.phone_index is None
        assert user.password_hash is None and user.display_name == personal.DELETED_NAME
        assert s.scalar(select(func.count()).select_from(UserSession).where(
            UserSession.user_id == uid, UserSession.ended_at.is_(None))) == 0  # fmt: skip
        rep = s.scalar(select(Reporter).where(Reporter.public_token == "tok-del"))
        assert rep.user_id is None and rep.name is None and rep.phone_enc is None and rep.phone_index is None
        assert s.scalar(select(Case.number).where(Case.id == rep.case_id)) == number  # the case stays
        for model in (Subscription, Message):
            assert s.scalar(select(func.count()).select_from(model).where(model.user_id == uid)) == 0
        assert s.scalar(select(func.count()).select_from(OneTimeCode)) == 0
        consent = s.scalar(select(Consent).where(Consent.user_id == uid))
        assert consent is not None and consent.withdrawn_at is not None  # kept, as proof
        assert s.scalar(select(Resident.deleted_at).where(Resident.user_id == uid)) is not None
        assert (
            s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "portal.account_deleted"))
            == 1
        )
    # signed out; the same phone later opens a new, empty account
    assert client.get("/portal/me", follow_redirects=False).status_code in (302, 303, 401)
    with db.unit_of_work() as s:
        s.execute(OneTimeCode.__table__.delete())
    ask_code(client)
    assert sign_in(client, code_in(box)).status_code == 303
    with db.reading() as s:
        again = s.scalar(select(User.id).where(User.phone_index == codes.phone_index(PHONE)))
    assert again is not None and again != uid
    assert number not in client.get("/portal/me").text
