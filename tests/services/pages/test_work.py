"""The application page: what it shows (PII masked), each action from its forms (state changes, one
timeline row each), stale versions and disallowed actions as messages, another department's 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from countyos.core.actor import Actor
from countyos.services.lifecycle import Action
from countyos.services.schemas import ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests.factories import csrf_from, login
from tests.services.work_world import T0, World, accepted, act, make_world, post, state_of, submit


@pytest.fixture
def world(db, shop) -> World:
    return make_world(db, shop)


def test_the_page_shows_the_application_and_masks_pii_without_the_permission(client, db, world) -> None:
    app_id = submit(db, world, by="agent")
    act(db, world, app_id, "window", Action.ACCEPT, T0 + timedelta(minutes=10))
    login(client, world.centre)
    page = client.get(f"/services/applications/{app_id}")
    assert page.status_code == 200
    text = page.text
    with db.reading() as s:
        app = s.get(apps.Application, app_id)
        number, receipt = app.number, app.receipt_number
    for expected in (number, receipt, "食品经营许可（新办）", "版本 1", "蓝水生", "331***********123X", "139****1234",
                     "办理中", "测试政务服务中心", "待办", "签字授权委托书", f"测试{world.agent.username}",
                     "2026-12-08 17:30", "食品经营许可申请书", "原件", "受理", "审查决定"):  # fmt: skip
        assert expected in text, expected
    assert "33112519600101123X" not in text and "13905781234" not in text and "大田村" not in text
    assert f'href="/services/applications/{app_id}/receipt"' in text
    assert re.findall(r'id="act-(\w+)"', text) == ["pass", "return", "step_other", "start_special", "comment"]
    client.post("/logout", data={"csrf_token": csrf_from(text)})
    login(client, world.window)  # the window clerk holds services.application.pii
    text = client.get(f"/services/applications/{app_id}").text
    assert "33112519600101123X" in text and "13905781234" in text and "大田村" in text


def test_another_departments_handler_gets_404_and_an_empty_inbox(client, db, world) -> None:
    app_id = accepted(db, world)
    login(client, world.other)
    assert client.get(f"/services/applications/{app_id}").status_code == 404
    r = client.post(f"/services/applications/{app_id}/act", data={"action": "pass", "version": "2",
                    "opinion": "同意", "csrf_token": csrf_from(client.get("/services/inbox").text)})  # fmt: skip
    assert r.status_code == 404
    assert state_of(db, app_id)[0] == "in_progress"
    page = client.get("/services/inbox")
    assert page.status_code == 200 and f"/services/applications/{app_id}" not in page.text
    assert client.get("/services/applications/999999").status_code == 404


def test_each_step_action_from_the_page_changes_state_and_writes_one_timeline_row(client, db, world) -> None:
    app_id = accepted(db, world)
    login(client, world.centre)
    before = state_of(db, app_id)
    r = post(client, app_id, "step_other", opinion="等待现场照片")
    assert r.status_code == 303
    after = state_of(db, app_id)
    assert after[:2] == ("in_progress", 0) and after[3] == before[3] + 1
    r = post(client, app_id, "pass", opinion="材料齐全，同意", note="转市场监管局")
    assert r.status_code == 303 and r.headers["location"] == f"/services/applications/{app_id}"
    assert state_of(db, app_id)[:2] == ("in_progress", 1) and state_of(db, app_id)[3] == before[3] + 2
    # the centre still sees it (its step is done) but may do nothing on the market's step
    page = client.get(f"/services/applications/{app_id}")
    assert "材料齐全，同意" in page.text and 'id="nothing-to-do"' in page.text
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    login(client, world.market)
    r = post(client, app_id, "start_special", kind="other", reason="现场核查", expected_days="3")
    assert r.status_code == 303
    assert state_of(db, app_id)[0] == "special_procedure" and state_of(db, app_id)[3] == before[3] + 3
    page = client.get(f"/services/applications/{app_id}")
    assert "现场核查" in page.text and "预计需要 3 天" in page.text and "听证、检验、检测、鉴定等" in page.text
    r = post(client, app_id, "end_special", special_result="核查合格")
    assert r.status_code == 303 and state_of(db, app_id)[:2] == ("in_progress", 1)
    r = post(client, app_id, "return", opinion="请补充营业执照复印件")
    assert r.status_code == 303 and state_of(db, app_id)[:2] == ("in_progress", 0)
    assert state_of(db, app_id)[3] == before[3] + 5


def test_the_last_step_decides_and_the_window_delivers_by_express(client, db, world) -> None:
    app_id = accepted(db, world)
    act(db, world, app_id, "centre", Action.PASS, opinion="同意")
    login(client, world.market)
    page = client.get(f"/services/applications/{app_id}", params={"act": "pass"})
    assert 'name="decision"' in page.text and 'value="食品经营许可证"' in page.text  # the matter's result name
    rows = state_of(db, app_id)[3]
    r = post(client, app_id, "pass", opinion="准予许可", decision="granted", result_name="食品经营许可证",
             result_number="JY13311250001234", valid_from="2026-12-03", valid_until="2031-12-02")  # fmt: skip
    assert r.status_code == 303
    with db.reading() as s:
        app = s.get(apps.Application, app_id)
        assert (app.state, app.decision, app.result_number) == ("decided", "granted", "JY13311250001234")
        assert app.result_valid_from == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # 00:00 county time
        assert app.result_valid_until is not None and app.result_valid_until.date().isoformat() == "2031-12-02"
    assert state_of(db, app_id)[3] == rows + 1
    page = client.get(f"/services/applications/{app_id}")
    assert "准予" in page.text and f'href="/services/applications/{app_id}/certificate.pdf"' in page.text
    assert "2026-12-03 – 2031-12-02" in page.text
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    login(client, world.window)
    # express without the tracking number: the message beside the field, what was typed kept
    r = post(client, app_id, "deliver", delivery="express", note="寄到大田村")
    assert r.status_code == 422
    assert 'id="error-deliver-tracking_number"' in r.text and "快递寄送需要填写快递单号" in r.text
    assert "寄到大田村" in r.text and state_of(db, app_id)[0] == "decided"
    r = post(client, app_id, "deliver", delivery="express", tracking_number="SF1234567890")
    assert r.status_code == 303
    with db.reading() as s:
        app = s.get(apps.Application, app_id)
        assert (app.state, app.delivery_method, app.tracking_number) == ("delivered", "express", "SF1234567890")
    page = client.get(f"/services/applications/{app_id}")
    assert "快递寄送" in page.text and "SF1234567890" in page.text
    assert state_of(db, app_id)[3] == rows + 2


def test_a_stale_version_comes_back_as_a_message_with_what_is_allowed(client, db, world) -> None:
    app_id = accepted(db, world)
    login(client, world.centre)
    page = client.get(f"/services/applications/{app_id}", params={"act": "pass"})
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    act(db, world, app_id, "centre", Action.COMMENT, note="someone else first")
    r = client.post(f"/services/applications/{app_id}/act", data={"csrf_token": csrf_from(page.text),
                    "action": "pass", "version": version, "opinion": "同意"})  # fmt: skip
    assert r.status_code == 409
    assert "被他人修改" in r.text and "您现在可以：通过、退回、其他、启动特别程序、意见" in r.text
    assert ">同意</textarea>" in r.text  # what was typed is kept
    assert state_of(db, app_id)[:2] == ("in_progress", 0)
    # the page now carries the current version: sending again after reading it goes through
    current = re.search(r'name="version" value="(\d+)"', r.text).group(1)  # type: ignore[union-attr]
    assert int(current) == state_of(db, app_id)[2] != int(version)
    again = client.post(f"/services/applications/{app_id}/act", data={"csrf_token": csrf_from(page.text),
                        "action": "pass", "version": current, "opinion": "同意"}, follow_redirects=False)  # fmt: skip
    assert again.status_code == 303 and state_of(db, app_id)[:2] == ("in_progress", 1)


def test_a_disallowed_action_comes_back_as_a_message(client, db, world) -> None:
    app_id = accepted(db, world)
    login(client, world.centre)
    csrf = csrf_from(client.get(f"/services/applications/{app_id}").text)
    version = str(state_of(db, app_id)[2])
    wrong = {"csrf_token": csrf, "action": "deliver", "version": version, "delivery": "window"}
    r = client.post(f"/services/applications/{app_id}/act", data=wrong)
    assert r.status_code == 409 and 'id="action-refused"' in r.text
    assert "您现在可以：通过、退回、其他、启动特别程序、意见" in r.text
    r = client.post(f"/services/applications/{app_id}/act",
                    data={"csrf_token": csrf, "action": "accept", "version": version})  # fmt: skip
    assert r.status_code == 409 and "受理" in r.text
    r = client.post(f"/services/applications/{app_id}/act",
                    data={"csrf_token": csrf, "action": "explode", "version": version})  # fmt: skip
    assert r.status_code == 404
    assert state_of(db, app_id)[:3] == ("in_progress", 0, int(version))


def test_supervise_comment_lapse_and_withdraw_from_the_page(client, db, world) -> None:
    late = accepted(db, world)
    login(client, world.supervisor)
    rows = state_of(db, late)[3]
    assert post(client, late, "supervise", note="请加快办理").status_code == 303
    assert post(client, late, "comment", note="已电话提醒").status_code == 303
    assert state_of(db, late)[0] == "in_progress" and state_of(db, late)[3] == rows + 2
    text = client.get(f"/services/applications/{late}").text
    assert "请加快办理" in text and "督办" in text
    incomplete = submit(db, world, complete=False)
    act(db, world, incomplete, "window", Action.REQUEST_CORRECTION)
    assert f'href="/services/applications/{incomplete}/notice"' in client.get(
        f"/services/applications/{incomplete}").text  # fmt: skip
    assert post(client, incomplete, "lapse", note="逾期未补正").status_code == 303
    assert state_of(db, incomplete)[0] == "withdrawn"
    client.post("/logout", data={"csrf_token": csrf_from(text)})
    mine = submit(db, world, by="agent")
    login(client, world.agent)
    assert post(client, mine, "withdraw", note="申请人不再需要").status_code == 303
    assert state_of(db, mine)[0] == "withdrawn"


def test_wrong_fields_come_back_beside_the_field_with_what_was_typed(client, db, world) -> None:
    app_id = accepted(db, world)
    act(db, world, app_id, "centre", Action.PASS, opinion="同意")
    login(client, world.market)
    r = post(client, app_id, "start_special", kind="other", reason="现场核查", expected_days="999")
    assert r.status_code == 422 and 'id="error-start_special-expected_days"' in r.text
    assert "请填写 1 到 365 之间的整数天数" in r.text and ">现场核查</textarea>" in r.text
    r = post(client, app_id, "pass", opinion="", decision="granted", result_number="JY1", valid_from="2026-02-30")
    assert r.status_code == 422 and 'id="error-pass-valid_from"' in r.text and "不是有效日期" in r.text
    assert 'value="JY1"' in r.text
    r = post(
        client, app_id, "pass", opinion="准予", decision="granted", valid_from="2026-12-03", valid_until="2026-12-01"
    )
    assert r.status_code == 422 and 'id="error-pass-valid_until"' in r.text and "有效期截止日期早于起始日期" in r.text
    r = post(client, app_id, "pass", opinion="", decision="granted")
    assert r.status_code == 422 and 'id="error-pass-opinion"' in r.text
    assert state_of(db, app_id)[:2] == ("in_progress", 1)


def test_the_timeline_names_people_and_non_person_actors(client, db, world) -> None:
    demo = Actor(id=None, name="demo", permissions=frozenset({apps.WINDOW}))
    with db.unit_of_work() as s:
        mats = [m.id for m in catalogue.current(catalogue.get(s, matter_id=world.matter_id)).materials]
        data = ApplicationIn.model_validate({"matter_id": world.matter_id, "applicant_name": "蓝水生",
            "id_number": "33112519600101123X", "materials": [{"material_id": m} for m in mats]})  # fmt: skip
        app_id = apps.create(s, actor=demo, data=data, now=T0).id
    act(db, world, app_id, "window", Action.ACCEPT)
    login(client, world.window)
    timeline = client.get(f"/services/applications/{app_id}").text.split('id="timeline"')[1]
    who = re.findall(r'<span class="who">([^<]*)</span>', timeline)
    assert who == ["演示数据", f"测试{world.window.username}"]
