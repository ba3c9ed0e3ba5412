"""Residents' sign-in by a code sent to the phone: the code's expiry, one use, wrong tries and rate
limits; sign-up with the privacy rules; earlier reports linked by the proven phone; the optional
password; the real-name check at a window; consents."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from countyos.cases.models import Channel, Reporter
from countyos.core.clock import utcnow
from countyos.org.models import AuditEvent, User
from countyos.portal.models import Consent, ConsentPurpose, OneTimeCode, RealNameLevel, Resident
from countyos.portal.service import accounts, codes, sms
from countyos.portal.service.codes import CodeFailure, CodeRules
from tests.factories import csrf_from, login, person

PHONE = "13905781234"


def code_in(box: sms.MemorySms, phone: str = PHONE) -> str:
    text = box.last_to(phone)
    assert text, "no text message was sent"
    m = re.search(r"\b(\d{6})\b", text)
    assert m, text
    return m.group(1)


def ask_code(client, phone: str = PHONE):
    page = client.get("/portal/signin")
    return client.post("/portal/signin/code", data={"phone": phone, "csrf_token": csrf_from(page.text)})


def sign_in(client, code: str, *, phone: str = PHONE, agree: bool = True, follow: bool = False):
    page = client.get("/portal/signin")
    data = {"phone": phone, "code": code, "csrf_token": csrf_from(page.text), "next": ""}
    if agree:
        data["agree"] = "1"
    return client.post("/portal/signin", data=data, follow_redirects=follow)


# -- the codes themselves ----------------------------------------------------------------------------


def test_a_code_expires(db):
    now = utcnow()
    with db.unit_of_work() as s:
        code, _ = codes.issue(s, phone=PHONE, ip="10.0.0.1", now=now)
    with db.unit_of_work() as s:
        late = codes.use(s, phone=PHONE, code=code, now=now + codes.RULES.valid_for + timedelta(seconds=1))
        assert not late.ok and late.failure is CodeFailure.EXPIRED
        assert codes.use(s, phone=PHONE, code=code, now=now + codes.RULES.valid_for - timedelta(seconds=1)).ok


def test_a_code_is_used_once_and_a_newer_one_kills_the_older(db):
    now = utcnow()
    with db.unit_of_work() as s:
        first, _ = codes.issue(s, phone=PHONE, ip=None, now=now)
        second, _ = codes.issue(s, phone=PHONE, ip=None, now=now + timedelta(seconds=61))
    with db.unit_of_work() as s:
        later = now + timedelta(seconds=62)
        if first != second:
            assert codes.use(s, phone=PHONE, code=first, now=later).failure is CodeFailure.WRONG
        assert codes.use(s, phone=PHONE, code=second, now=later).ok
        again = codes.use(s, phone=PHONE, code=second, now=later)
        assert not again.ok and again.failure is CodeFailure.EXPIRED
    with db.reading() as s:
        stored = list(s.scalars(select(OneTimeCode.code_hash)))
        assert stored and first not in stored and second not in stored  # only keyed hashes are kept


def test_wrong_tries_kill_the_code_even_for_the_right_one_after(db):
    now = utcnow()
    with db.unit_of_work() as s:
        code, _ = codes.issue(s, phone=PHONE, ip=None, now=now)
    wrong = "000000" if code != "000000" else "111111"
    for i in range(codes.RULES.max_attempts):
        with db.unit_of_work() as s:
            check = codes.use(s, phone=PHONE, code=wrong, now=now)
            last = i == codes.RULES.max_attempts - 1
            assert check.failure is (CodeFailure.EXHAUSTED if last else CodeFailure.WRONG)
    with db.unit_of_work() as s:
        assert codes.use(s, phone=PHONE, code=code, now=now).failure is CodeFailure.EXHAUSTED


def test_rate_limits_at_their_edges(db):
    rules = CodeRules(gap=timedelta(seconds=60), per_phone_hour=3, per_phone_day=4, per_address_hour=5)
    t = utcnow()
    with db.unit_of_work() as s:
        codes.issue(s, phone=PHONE, ip="10.0.0.9", now=t, rules=rules)
        with pytest.raises(codes.RateLimited) as gap:
            codes.issue(s, phone=PHONE, ip="10.0.0.9", now=t + timedelta(seconds=59), rules=rules)
        assert 1 <= gap.value.retry_after <= 2
        codes.issue(s, phone=PHONE, ip="10.0.0.9", now=t + timedelta(seconds=60), rules=rules)
        codes.issue(s, phone=PHONE, ip="10.0.0.9", now=t + timedelta(seconds=120), rules=rules)
        with pytest.raises(codes.RateLimited):  # the fourth within the hour
            codes.issue(s, phone=PHONE, ip="10.0.0.9", now=t + timedelta(seconds=180), rules=rules)
        codes.issue(s, phone=PHONE, ip="10.0.0.9", now=t + timedelta(minutes=61), rules=rules)
        with pytest.raises(codes.RateLimited):  # the fifth within the day
            codes.issue(s, phone=PHONE, ip="10.0.0.9", now=t + timedelta(minutes=125), rules=rules)
        # one address asking for many phones' codes: the fifth within the hour is the last
        for i in range(rules.per_address_hour):
            codes.issue(s, phone=f"1380000000{i}", ip="10.0.0.7", now=t, rules=rules)
        with pytest.raises(codes.RateLimited):
            codes.issue(s, phone="13800000009", ip="10.0.0.7", now=t + timedelta(minutes=59), rules=rules)
        codes.issue(s, phone="13800000009", ip="10.0.0.8", now=t + timedelta(minutes=59), rules=rules)
        codes.issue(s, phone="13800000008", ip="10.0.0.7", now=t + timedelta(minutes=61), rules=rules)


# -- through the pages -----------------------------------------------------------------------------


def test_first_sign_in_opens_an_account_with_the_consent_and_links_earlier_reports(
    db, client, box, harness, cases_world_baseline
):
    from countyos.cases.models import Case
    from countyos.cases.service import people

    world = harness.value(cases_world_baseline, db=db)
    with db.unit_of_work() as s:  # a report made before, with this phone and no account
        case = Case(channel=Channel.WEB, category_id=world.cat_manhole, title="井盖缺失", state="reported",
                    version=1, number="P20261204001", lon=119.1, lat=28.5, description="井盖缺失")  # fmt: skip
        s.add(case)
        s.flush()
        s.add(
            Reporter(
                case_id=case.id,
                original_case_id=case.id,
                channel=Channel.WEB,
                name="王大伯",
                phone_enc=people.encrypt(PHONE),
                phone_index=people.blind_index(PHONE),
                public_token="tok-" + case.number,
            )
        )
    r = ask_code(client)
    assert r.status_code == 200 and "pt-code-sent" in r.text and "139****1234" in r.text
    code = code_in(box)
    refused = sign_in(client, code, agree=False)
    assert refused.status_code == 422 and 'id="e-agree"' in refused.text
    assert 'value="' + PHONE + '"' in refused.text  # what was typed is kept
    r = sign_in(client, code)
    assert r.status_code == 303 and r.headers["location"] == "/portal/me"
    me = client.get("/portal/me")
    assert me.status_code == 200 and "/r/tok-" + case.number in me.text
    with db.reading() as s:
        user = s.scalar(select(User).where(User.phone_index == codes.phone_index(PHONE)))
        assert user is not None and user.password_hash is None and "resident" in user.role_codes
        assert s.scalar(select(Resident.level).where(Resident.user_id == user.id)) is RealNameLevel.UNVERIFIED
        consent = s.scalar(select(Consent).where(Consent.user_id == user.id))
        assert consent.purpose is ConsentPurpose.PRIVACY and consent.version == accounts.PRIVACY_VERSION
        assert s.scalar(select(Reporter.user_id).where(Reporter.public_token == "tok-" + case.number)) == user.id
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(user.id))))
        assert {"user.create", "portal.sign_up", "auth.login", "case.reports_linked"} <= actions


def test_a_wrong_code_is_counted_and_said_beside_the_field(db, client, box):
    ask_code(client)
    code = code_in(box)
    wrong = "000000" if code != "000000" else "111111"
    r = sign_in(client, wrong)
    assert r.status_code == 401 and 'id="e-code"' in r.text
    with db.reading() as s:
        assert s.scalar(select(OneTimeCode.attempts)) == 1
        assert s.scalar(select(func.count()).select_from(User).where(User.phone_index == codes.phone_index(PHONE))) == 0
    assert sign_in(client, code).status_code == 303


def test_asking_again_too_soon_is_refused_with_the_wait(client, box):
    assert ask_code(client).status_code == 200
    r = ask_code(client)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) <= 60
    assert 'id="e-phone"' in r.text and len(box.sent) == 1


def test_a_bad_phone_number_is_refused_beside_the_field(client, box):
    r = ask_code(client, "1390578")
    assert r.status_code == 422 and 'id="e-phone"' in r.text and 'value="1390578"' in r.text
    assert box.sent == []


def test_a_failed_text_message_leaves_no_code(db, client):
    class Broken:
        def send(self, phone: str, text: str) -> None:
            raise sms.ServiceUnavailable("Text messages cannot be sent: no SMS gateway is configured")

    sms.set_sender(Broken())
    try:
        r = ask_code(client)
    finally:
        sms.set_sender(None)
    assert r.status_code == 503 and 'id="e-phone"' in r.text
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(OneTimeCode)) == 0


def test_the_optional_password_then_signs_in(db, client, box):
    ask_code(client)
    sign_in(client, code_in(box))
    page = client.get("/portal/me/settings")
    token = csrf_from(page.text)
    weak = client.post("/portal/me/password", data={"password": "123", "csrf_token": token})
    assert weak.status_code == 422 and 'id="e-password"' in weak.text
    ok = client.post(
        "/portal/me/password", data={"password": "Cun@min2026", "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303
    client.post("/portal/signout", data={"csrf_token": token})
    page = client.get("/portal/signin")
    bad = client.post(
        "/portal/signin/password",
        data={"phone": PHONE, "password": "nope-nope", "csrf_token": csrf_from(page.text)},
    )
    assert bad.status_code == 401 and 'id="e-password"' in bad.text
    good = client.post(
        "/portal/signin/password",
        data={"phone": PHONE, "password": "Cun@min2026", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/portal/me"


def test_consents_can_be_withdrawn_but_not_the_privacy_rules(db, client, box):
    ask_code(client)
    sign_in(client, code_in(box))
    token = csrf_from(client.get("/portal/me/settings").text)
    for give in ("true", "false"):
        data = {"purpose": "location", "give": give, "csrf_token": token}
        assert client.post("/portal/me/consents", data=data, follow_redirects=False).status_code == 303
    refused = client.post("/portal/me/consents", data={"purpose": "privacy", "give": "false", "csrf_token": token})
    assert refused.status_code == 422
    with db.reading() as s:
        rows = {(str(c.purpose), c.withdrawn_at is None) for c in s.scalars(select(Consent))}
    assert rows == {("privacy", True), ("location", False)}


def test_a_window_clerk_verifies_the_real_name(db, client, box, app):
    from fastapi.testclient import TestClient

    ask_code(client)
    sign_in(client, code_in(box))
    clerk = person(db, ["services_window"])
    with TestClient(app, base_url="http://testserver") as window:
        token = login(window, clerk)
        page = window.get(f"/portal/residents?phone={PHONE}")
        assert page.status_code == 200 and 'id="pt-found"' in page.text
        with db.reading() as s:
            uid = s.scalar(select(User.id).where(User.phone_index == codes.phone_index(PHONE)))
        bad = window.post(
            f"/portal/residents/{uid}/verify",
            data={
                "name": "王小明",
                "document": "resident_id",
                "number": "330000199001011230",
                "phone": PHONE,
                "csrf_token": token,
            },
        )
        assert bad.status_code == 422 and 'id="e-number"' in bad.text and "王小明" in bad.text
        good = window.post(
            f"/portal/residents/{uid}/verify",
            data={
                "name": "王小明",
                "document": "passport",
                "number": "E12345678",
                "place": "县政务服务中心 3号窗口",
                "phone": PHONE,
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert good.status_code == 303
    with db.reading() as s:
        res = s.scalar(select(Resident).where(Resident.user_id == uid))
        assert res.level is RealNameLevel.VERIFIED and res.verified_tail == "5678" and res.verified_by_id == clerk.id
        assert s.scalar(select(User.display_name).where(User.id == uid)) == "王小明"
    assert "王小明" in client.get("/portal/me").text


def test_resident_pages_need_a_resident(client):
    r = client.get("/portal/me", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
