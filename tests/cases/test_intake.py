"""The intake desk (受理台): category search, the caller's past cases, calls and web messages accepted
in one form, work-order facts (desk and 12345 import), stock phrases, errors kept beside their fields."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from countyos.cases.lifecycle import State
from countyos.cases.models import (
    CallbackWay,
    Case,
    CategoryKind,
    Channel,
    DemandType,
    Reporter,
    StockPhrase,
    WorkOrder,
)
from countyos.cases.schemas import IntakeIn
from countyos.cases.service import categories, category_search, intake, people
from countyos.org.models import AuditEvent
from tests.cases.conftest import FACTORY, actor_of
from tests.cases.test_lifecycle import report
from tests.factories import login, person

PHONE = "13812341234"


def _take(db, who, **kw) -> int:
    data = {
        "caller_name": "张伟",
        "caller_phone": PHONE,
        "lon": 119.27,
        "lat": 28.59,
        "category_id": kw.pop("category_id"),
        "description": "小区门口垃圾三天没人清运",
        **kw,
    }
    with db.unit_of_work() as s:
        return intake.take(s, actor=actor_of(db, who), data=IntakeIn.model_validate(data)).id


def _local_category(db, name: str, code: str, keywords: str | None = None) -> int:
    with db.unit_of_work() as s:
        return categories.create(
            s, actor=FACTORY, kind=CategoryKind.LOCAL, code=code, name=name, keywords=keywords, audit_it=False
        ).id


# -- category search -------------------------------------------------------------------------------


def test_pinyin_of_a_name_is_its_initials_and_its_spelling():
    assert category_search.pinyin_of("垃圾堆放") == ("ljdf", "lajiduifang")
    assert category_search.pinyin_of("垃圾站（箱）满溢") == ("ljzxmy", "lajizhanxiangmanyi")


def test_search_by_pinyin_initials_name_spelling_and_keywords(db, world):
    dumped = _local_category(db, "垃圾堆放", "001", keywords="偷倒 建筑垃圾")
    with db.reading() as s:
        assert [h.id for h in category_search.search(s, q="ljdf")] == [dumped]
        assert [h.id for h in category_search.search(s, q="LJDF")] == [dumped]
        assert category_search.search(s, q="lajidui")[0].id == dumped
        assert category_search.search(s, q="偷倒")[0].id == dumped  # a keyword
        by_name = category_search.search(s, q="垃圾堆")
        assert by_name[0].id == dumped and by_name[0].name == "垃圾堆放"
        assert category_search.search(s, q="暴露垃圾")[0].id == world.cat_garbage
        # groups (大类) are not reportable, so never offered
        assert all(h.name != "市容环境类" for h in category_search.search(s, q="市容环境", limit=50))
        assert category_search.search(s, q="zzzzqqq") == []


def test_the_most_used_categories_come_first(db, world):
    with db.unit_of_work() as s:
        overflow = categories.get_by_code(s, kind=CategoryKind.MATTER, code="06042")
        assert overflow is not None
        overflow_id = overflow.id
    for _ in range(3):
        report(db, world, category=overflow_id, at=datetime.now(UTC))
    report(db, world, category=world.cat_garbage, at=datetime.now(UTC))
    with db.reading() as s:
        hits = category_search.search(s, q="垃圾")
        assert [(h.id, h.uses) for h in hits[:2]] == [(overflow_id, 3), (world.cat_garbage, 1)]
        assert all(h.uses == 0 for h in hits[2:])
        # nothing typed: the most used of all
        assert [(h.id, h.uses) for h in category_search.search(s, q="")] == [(overflow_id, 3), (world.cat_garbage, 1)]


def test_search_api_is_bounded(client, db, world):
    login(client, world.intake)
    r = client.get("/api/v1/case-categories/search", params={"q": "ljdf", "limit": 2})
    assert r.status_code == 200 and len(r.json()) <= 2
    r = client.get("/api/v1/case-categories/search", params={"q": "井盖", "limit": 3})
    assert r.status_code == 200 and 1 <= len(r.json()) <= 3
    first = r.json()[0]
    assert set(first) == {"id", "name", "parent_name", "service_code", "initials", "uses"}
    assert client.get("/api/v1/case-categories/search", params={"q": "x" * 41}).status_code == 422
    assert client.get("/api/v1/case-categories/search", params={"q": "a", "limit": 51}).status_code == 422
    assert client.get("/api/v1/case-categories/search", params={"q": "a", "limit": 0}).status_code == 422


# -- a call at the desk ----------------------------------------------------------------------------


def _desk_form(client, **kw) -> dict[str, str]:
    page = client.get("/cases/intake")
    assert page.status_code == 200
    # the time of the call defaults to now, in the county's time and a Chinese format
    assert re.search(r'id="called_at" name="called_at" type="text"[^>]*value="\d{4}-\d\d-\d\d \d\d:\d\d"', page.text)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert key and csrf
    return {"csrf_token": csrf.group(1), "idempotency_key": key.group(1), **kw}


def test_a_call_taken_at_the_desk_is_an_accepted_case_with_its_work_order(client, db, world):
    login(client, world.intake)
    form = _desk_form(
        client,
        caller_phone="138 1234-1234",
        caller_name="张伟",
        address="北街社区菜场门口",
        lon="119.27",
        lat="28.59",
        category_id=str(world.cat_garbage),
        description="菜场门口垃圾堆了三天",
        order_no="GD202612030001",
        called_at="2026-12-03 09:30",
        demand_type="consult",
        callback_needed="1",
        callback_way="sms",
        callback_time="工作日下午",
    )
    r = client.post("/cases/intake", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/cases/intake?done=")
    case_id = int(r.headers["location"].split("=")[1])
    with db.reading() as s:
        c = s.get(Case, case_id)
        assert (c.channel, c.state, c.category_id, c.external_id) == (
            Channel.HOTLINE,
            State.ACCEPTED,
            world.cat_garbage,
            "GD202612030001",
        )
        assert c.public_report is True and c.address == "北街社区菜场门口"
        wo = s.get(WorkOrder, case_id)
        assert wo.order_no == "GD202612030001"
        assert wo.called_at == datetime(2026, 12, 3, 1, 30, tzinfo=UTC)  # 09:30 in the county = 01:30 UTC
        assert (wo.demand_type, wo.callback_needed, wo.callback_way, wo.callback_time) == (
            DemandType.CONSULT,
            True,
            CallbackWay.SMS,
            "工作日下午",
        )
        assert wo.taken_by == world.intake.id
        rep = s.scalars(select(Reporter).where(Reporter.case_id == case_id)).one()
        assert rep.name == "张伟" and rep.phone_index == people.blind_index(PHONE)
        assert people.decrypt(rep.phone_enc) == PHONE and PHONE not in (rep.phone_enc or "")
        number = c.number
    # ready for the next call: the number with a link, an empty form
    done = client.get(r.headers["location"])
    assert f'<a class="mono" href="/cases/{case_id}" id="intake-done-link">{number}</a>' in done.text
    assert 'id="caller_phone" name="caller_phone" type="tel" maxlength="20" value=""' in done.text
    # the same key again (a second Ctrl+Enter) makes no second case
    again = client.post("/cases/intake", data=form, follow_redirects=False)
    assert again.headers["location"] == r.headers["location"]
    # the API's case shows them too
    wo_out = client.get(f"/api/v1/cases/{case_id}").json()["work_order"]
    assert wo_out == {
        "order_no": "GD202612030001",
        "called_at": "2026-12-03T01:30:00Z",
        "demand_type": "consult",
        "callback_needed": True,
        "callback_way": "sms",
        "callback_time": "工作日下午",
    }
    # the case page shows the work-order facts
    page = client.get(f"/cases/{case_id}")
    facts = re.search(r'<dd id="case-work-order">(.*?)</dd>', page.text, re.S)
    assert facts, page.text
    assert "GD202612030001" in facts.group(1) and "2026-12-03 09:30" in facts.group(1)


def test_errors_are_shown_beside_their_fields_and_everything_typed_is_kept(client, db, world):
    login(client, world.intake)
    form = _desk_form(
        client,
        caller_phone="12ab",
        caller_name="李四",
        address="",
        description="路灯不亮，晚上很黑",
        order_no="GD-1",
        callback_needed="1",
        callback_time="晚上八点后",
        called_at="2026-12-03 08:05",
    )
    r = client.post("/cases/intake", data=form, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422
    for field in ("category_id", "caller_phone", "address"):
        assert f'id="error-{field}"' in r.text, field
    assert re.search(r'<p class="field-error" role="alert" id="error-category_id">请选择类别</p>', r.text)
    assert "路灯不亮，晚上很黑</textarea>" in r.text
    assert re.search(r'id="called_at" name="called_at" type="text"[^>]*value="2026-12-03 08:05"', r.text)
    assert 'value="李四"' in r.text and 'value="12ab"' in r.text and 'value="晚上八点后"' in r.text
    assert 'id="callback_needed" name="callback_needed" value="1" checked' in r.text
    # a value of the wrong type: the model's error, beside its field, in the interface language
    r = client.post(
        "/cases/intake",
        data={**form, "caller_phone": PHONE, "lon": "东经", "lat": "28.5"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 422 and 'id="error-lon"' in r.text and "不是数字" in r.text
    # a masked number is no number for a new call
    r = client.post(
        "/cases/intake",
        data={
            **form,
            "caller_phone": "138****1234",
            "lon": "119.27",
            "lat": "28.59",
            "category_id": str(world.cat_stall),
        },
    )
    assert r.status_code == 422 and 'id="error-caller_phone"' in r.text
    with db.reading() as s:
        assert s.scalar(select(WorkOrder).where(WorkOrder.order_no == "GD-1")) is None


def test_a_work_order_number_is_taken_once(db, world):
    _take(db, world.intake, category_id=world.cat_garbage, order_no="GD-0007")
    from countyos.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc, db.unit_of_work() as s:
        intake.take(
            s,
            actor=actor_of(db, world.intake),
            data=IntakeIn(
                lon=119.27, lat=28.59, category_id=world.cat_garbage, description="再来一次", order_no="GD-0007"
            ),
        )
    assert [e["field"] for e in exc.value.errors] == ["order_no"]


# -- the caller's past cases -----------------------------------------------------------------------


def test_past_cases_are_found_by_the_keyed_index_and_the_look_up_is_audited(client, db, world):
    first = _take(db, world.intake, category_id=world.cat_garbage)
    second = _take(db, world.intake, category_id=world.cat_stall, description="有人占道卖菜")
    other = _take(db, world.intake, category_id=world.cat_garbage, caller_phone="13900001111")
    login(client, world.intake)
    page = client.get("/cases/intake")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/cases/intake/callers", data={"csrf_token": csrf, "caller_phone": "138-1234-1234"})
    assert r.status_code == 200
    with db.reading() as s:
        numbers = {cid: s.get(Case, cid).number for cid in (first, second, other)}
        ids = re.findall(r'<a href="/cases/(\d+)"', r.text)
        assert ids == [str(second), str(first)]  # newest first, each linking to its case page
        assert numbers[other] not in r.text
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.caller.lookup")).all()[-1]
        assert (ev.actor_id, ev.target_type, ev.target_id, ev.detail) == (
            world.intake.id,
            "caller",
            "138****1234",
            {"found": 2},
        )
    api = client.post("/api/v1/intake/callers", json={"phone": PHONE}, headers={"X-CSRF-Token": csrf})
    assert api.status_code == 200 and [x["id"] for x in api.json()] == [second, first]
    nobody = client.post("/cases/intake/callers", data={"csrf_token": csrf, "caller_phone": "13000000000"})
    assert nobody.text.strip() == '<p class="muted">此号码没有历史诉求。</p>'


def test_a_phone_is_shown_masked_without_the_personal_data_permission(client, db, world):
    from countyos.org.service import roles

    with db.unit_of_work() as s:
        roles.create(
            s,
            actor=FACTORY,
            code="desk_trainee",
            name="受理见习",
            name_en="Intake trainee",
            description=None,
            permission_codes=["case.read", "case.read_all", "case.intake"],
        )
    trainee = person(db, ["desk_trainee"], department_id=world.centre)
    web_id, _ = report(db, world, channel=Channel.WEB, at=datetime.now(UTC))
    with db.unit_of_work() as s:
        rep = s.scalars(select(Reporter).where(Reporter.case_id == web_id)).one()
        rep.name = "王小明"
        enc = rep.phone_enc
    assert intake.shown_phone(enc, unmasked=False) == "138****0001"
    assert intake.shown_phone(enc, unmasked=True) == "13805710001"
    login(client, trainee)
    page = client.get(f"/cases/intake?message={web_id}")
    assert page.status_code == 200
    assert 'value="138****0001"' in page.text and "13805710001" not in page.text
    assert 'value="王**"' in page.text
    client.cookies.clear()
    login(client, world.intake)  # holds case.pii
    assert 'value="13805710001"' in client.get(f"/cases/intake?message={web_id}").text


# -- web messages accepted at the desk ------------------------------------------------------------


def test_a_web_message_is_accepted_with_the_clerks_category_and_position(client, db, world):
    msg_id, _ = report(db, world, channel=Channel.WEB, lon=119.20, lat=28.59, at=datetime.now(UTC))
    login(client, world.intake)
    desk = client.get("/cases/intake")
    with db.reading() as s:
        number = s.get(Case, msg_id).number
    assert f'href="/cases/intake?message={msg_id}"' in desk.text and number in desk.text
    page = client.get(f"/cases/intake?message={msg_id}")
    assert f'name="message_case_id" value="{msg_id}"' in page.text
    assert "井盖缺失，有人差点掉下去</textarea>" in page.text  # what the sender wrote
    form = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1),
        "message_case_id": str(msg_id),
        "caller_phone": "138****0001",  # masked as shown: the stored number stays
        "category_id": str(world.cat_garbage),
        "description": "井盖缺失，有人差点掉下去",
        "address": "北界镇中心路",
        "lon": "119.31",
        "lat": "28.60",
        "demand_type": "report",
    }
    r = client.post("/cases/intake", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    with db.reading() as s:
        c = s.get(Case, msg_id)
        assert (c.state, c.category_id, c.township_code, c.address) == (
            State.ACCEPTED,
            world.cat_garbage,
            "331123100",
            "北界镇中心路",
        )
        assert (round(c.lon, 2), round(c.lat, 2)) == (119.31, 28.6)
        assert s.get(WorkOrder, msg_id).demand_type == DemandType.REPORT
        rep = s.scalars(select(Reporter).where(Reporter.case_id == msg_id)).one()
        assert people.decrypt(rep.phone_enc) == "13805710001"
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.intake.classify")).all()[-1]
        assert ev.detail["category"] == {"from": "C01001", "to": "M06010"}
    # accepted: no longer waiting, and not accepted twice
    assert f'href="/cases/intake?message={msg_id}"' not in client.get("/cases/intake").text
    assert client.get(f"/cases/intake?message={msg_id}").status_code == 404
    # a message without a number: the clerk adds the one the sender gave on the phone
    quiet_id, _ = report(db, world, channel=Channel.OPEN311, at=datetime.now(UTC))
    with db.unit_of_work() as s:
        s.scalars(select(Reporter).where(Reporter.case_id == quiet_id)).one().phone_enc = None
    r = client.post(
        "/cases/intake",
        data={**form, "message_case_id": str(quiet_id), "caller_phone": "0578-8123456", "caller_name": "周"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with db.reading() as s:
        rep = s.scalars(select(Reporter).where(Reporter.case_id == quiet_id)).one()
        assert (rep.name, people.decrypt(rep.phone_enc)) == ("周", "05788123456")
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.intake.classify")).all()[-1]
        assert ev.detail["caller_phone"] == "changed" and "0578" not in str(ev.detail)
    again = client.post("/cases/intake", data=form)
    assert again.status_code == 409


def test_an_address_alone_is_placed_and_places_are_searched(db, world):
    from countyos.cases.service import location
    from tests.geo.conftest import make_county

    make_county(db)
    with location.using(location._geo_locate()), db.unit_of_work() as s:
        hits = intake.places(s, q="东红")
        assert hits and hits[0].name.endswith("东红村委会") and hits[0].kind == "village"
        assert intake.places(s, q="东") == []  # one character finds nothing
        c = intake.take(
            s,
            actor=actor_of(db, world.intake),
            data=IntakeIn(
                address="遂昌县妙高街道东红村12号门口", category_id=world.cat_garbage, description="垃圾没人收"
            ),
        )
        assert c.village_code == "331123001200" and c.attributes["location_from_address"] == "东红村委会"


# -- the 12345 import ------------------------------------------------------------------------------


def test_the_12345_import_carries_the_work_order_fields(db, world):
    from openpyxl import Workbook

    from countyos.cases import api, flows

    wb = Workbook()
    ws = wb.active
    ws.append(
        ["工单编号", "诉求分类", "诉求类型", "内容", "经度", "纬度", "来电时间", "回访要求", "回访方式", "回访时间"]
    )
    ws.append(["GD-IMP-01", "M06010", "举报", "垃圾乱倒", 119.27, 28.59, "2026-12-01 08:15", "是", "短信", "上午"])
    ws.append(["GD-IMP-02", "M06010", "建议", "建议多设垃圾桶", 119.27, 28.59, None, "否", None, None])
    ws.append(["GD-IMP-03", "M06010", "乱写", "类型不对", 119.27, 28.59, None, None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    rows = api.read_work_order_sheet(buf.getvalue())
    with db.unit_of_work() as s:
        out = flows.work_order_rows(s, actor=actor_of(db, world.intake), rows=rows)
    assert [r["status"] for r in out] == ["created", "created", "error"]
    assert "demand_type" in out[2]["message"]
    with db.reading() as s:
        by_no = {w.order_no: w for w in s.scalars(select(WorkOrder))}
        first, second = by_no["GD-IMP-01"], by_no["GD-IMP-02"]
        assert (first.demand_type, first.callback_needed, first.callback_way, first.callback_time) == (
            DemandType.REPORT,
            True,
            CallbackWay.SMS,
            "上午",
        )
        assert first.called_at == datetime(2026, 12, 1, 0, 15, tzinfo=UTC)
        assert (second.demand_type, second.callback_needed, second.callback_way) == (
            DemandType.SUGGESTION,
            False,
            None,
        )


# -- stock phrases ---------------------------------------------------------------------------------


def test_stock_phrases_are_data_edited_on_their_page_and_offered_on_the_desk(client, db, world):
    csrf = login(client, world.shift)  # holds case.configure
    r = client.post(
        "/cases/intake/phrases", data={"csrf_token": csrf, "text": "来电人要求尽快处理"}, follow_redirects=False
    )
    assert r.status_code == 303
    r = client.post(
        "/cases/intake/phrases",
        data={"csrf_token": csrf, "text": "现场有异味，影响居民生活", "category_id": str(world.cat_garbage)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    empty = client.post("/cases/intake/phrases", data={"csrf_token": csrf, "text": "   ", "category_id": ""})
    assert empty.status_code == 422 and 'id="error-text"' in empty.text
    with db.reading() as s:
        rows = s.scalars(select(StockPhrase).order_by(StockPhrase.id)).all()
        assert [(p.text, p.category_id) for p in rows] == [
            ("来电人要求尽快处理", None),
            ("现场有异味，影响居民生活", world.cat_garbage),
        ]
        assert [p.text for p in intake.phrases(s)] == ["来电人要求尽快处理"]
        assert [p.text for p in intake.phrases(s, category_id=world.cat_garbage)] == [
            "来电人要求尽快处理",
            "现场有异味，影响居民生活",
        ]
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action == "case.phrase.add")).all() == [
            "case.phrase.add",
            "case.phrase.add",
        ]
        garbage_phrase = rows[1].id
    desk = client.get("/cases/intake").text
    assert 'data-phrase="来电人要求尽快处理" data-category=""' in desk
    assert f'data-phrase="现场有异味，影响居民生活" data-category="{world.cat_garbage}" hidden' in desk
    r = client.post(f"/cases/intake/phrases/{garbage_phrase}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert "现场有异味" not in client.get("/cases/intake").text
    api = client.get("/api/v1/case-phrases")
    assert [p["text"] for p in api.json()] == ["来电人要求尽快处理"]


def test_the_desk_is_for_intake_staff(client, db, world):
    login(client, world.handler)
    assert client.get("/cases/intake").status_code == 403
    assert client.get("/cases/intake/phrases").status_code == 403
