"""The intake desk (受理台): the form as a window clerk and as an agent, field errors that keep what was
typed, the consent an agent must record, earlier applicants by ID number, the 待受理 queue and each
decision taken from the desk (with the 409 that names what is allowed)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from PIL import Image
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.org.models import AuditEvent
from countyos.services import idnumbers
from countyos.services.lifecycle import Action
from countyos.services.models import Application, ApplicationEvent
from countyos.services.schemas import ACTION_MODELS, ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests.factories import csrf_from, login, person
from tests.services.conftest import ADMIN, guide

ID_BODY = "33112519600101123"
VALID_ID = ID_BODY + idnumbers.resident_check_char(ID_BODY)  # 331125196001011236
BAD_ID = ID_BODY + "X"  # a wrong check character


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def published(db, shop, **changes) -> tuple[int, list[int]]:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop, **changes))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        return m.id, [x.id for x in catalogue.current(m).materials]


def window(db, shop):
    return person(db, ["services_window"], department_id=shop.centre)


def agent(db):
    return person(db, ["services_agent"])


def form_for(mid: int, mats: list[int], csrf: str, **extra: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "matter_id": str(mid),
        "applicant_name": "蓝水生",
        "applicant_kind": "person",
        "id_type": "resident_id",
        "id_number": VALID_ID,
        "phone": "13905781234",
        "address": "大柘镇大田村 12 号",
    }
    for m in mats:
        data |= {f"mat-{m}-received": "1", f"mat-{m}-form": "original", f"mat-{m}-count": "1"}
    data.update(extra)
    return data


CONSENT = {"consent_by": "蓝水生", "consent_way": "signed_form", "consent_at": "2026-11-30 08:00"}


def submitted(db, shop, mid: int, mats: list[int], *, by=None, id_number: str = VALID_ID) -> int:
    """An application submitted through the service (as a window clerk unless BY)."""
    actor = by or Actor(
        id=None, name="窗口 黄丽", permissions=frozenset({apps.WINDOW, apps.PII}), department_id=shop.centre
    )
    data = ApplicationIn.model_validate(
        {"matter_id": mid, "applicant_name": "蓝水生", "id_number": id_number, "phone": "13905781234",
         "materials": [{"material_id": m, "form": "original", "count": 1} for m in mats]}
    )  # fmt: skip
    with db.unit_of_work() as s:
        return apps.create(s, actor=actor, data=data).id


def app_row(db, app_id: int) -> Application:
    with db.reading() as s:
        app = s.get(Application, app_id)
        assert app is not None
        s.expunge(app)
        return app


# ── the form ─────────────────────────────────────────────────────────────────────────────────────────


def test_the_desk_is_for_window_clerks_and_agents(client, db, shop) -> None:
    mid, _ = published(db, shop)
    login(client, window(db, shop))
    page = client.get("/services/desk", params={"q": "spjy"})
    assert page.status_code == 200
    assert f'href="/services/desk?matter_id={mid}"' in page.text and 'id="desk-mode">窗口人员' in page.text
    assert page.text.count('href="/services/desk"') == 1 and 'href="/services/desk/queue"' in page.text  # nav once
    form = client.get("/services/desk", params={"matter_id": mid}).text
    assert 'id="desk-matter">食品经营许可（新办）' in form and 'name="consent_by"' not in form
    assert form.count('type="file"') == 2

    client.cookies.clear()
    login(client, agent(db))
    form = client.get("/services/desk", params={"matter_id": mid}).text
    assert 'id="desk-mode">代办员' in form and 'name="consent_by"' in form
    assert 'href="/services/desk/queue"' not in form
    assert client.get("/services/desk/queue").status_code == 403

    client.cookies.clear()
    login(client, person(db, ["services_handler"], department_id=shop.market))
    assert client.get("/services/desk").status_code == 404


def test_an_agent_submits_with_consent_and_a_photo_of_a_material(client, db, shop) -> None:
    mid, mats = published(db, shop)
    me = agent(db)
    csrf = login(client, me)
    data = form_for(mid, mats[:1], csrf, **CONSENT)
    r = client.post("/services/desk", data=data, files={f"mat-{mats[1]}-file": ("执照.jpg", jpeg(), "image/jpeg")},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    app_id = int(r.headers["location"].rsplit("=", 1)[1])
    app = app_row(db, app_id)
    assert (app.state, app.submitted_role, app.submitted_by_id) == ("submitted", "agent", me.id)
    assert (app.consent_by, app.consent_way) == ("蓝水生", "signed_form")
    assert app.consent_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    got = {m.material_id: (m.received, m.form, m.count, m.attachment_id is not None) for m in app.materials}
    assert got == {mats[0]: (True, "original", 1, False), mats[1]: (True, "electronic", 1, True)}
    with db.reading() as s:
        events = [
            e.action for e in s.scalars(select(ApplicationEvent).where(ApplicationEvent.application_id == app_id))
        ]
    assert events == ["submit"]
    done = client.get(r.headers["location"])
    assert (
        f'id="desk-done-link">{app.number}</a>' in done.text and f"/services/applications/{app_id}/receipt" in done.text
    )


def test_an_agent_without_consent_is_refused_and_the_form_keeps_what_was_typed(client, db, shop) -> None:
    mid, mats = published(db, shop)
    csrf = login(client, agent(db))
    r = client.post("/services/desk", data=form_for(mid, mats, csrf, consent_at=""))
    assert r.status_code == 422
    assert 'id="error-consent_by"' in r.text and 'id="error-consent_way"' in r.text
    assert 'id="error-files"' not in r.text  # no file was chosen
    assert 'value="蓝水生"' in r.text and f'value="{VALID_ID}"' in r.text and 'value="大柘镇大田村 12 号"' in r.text
    assert re.search(rf'name="mat-{mats[0]}-received" value="1" id="mat-{mats[0]}-received" checked', r.text)
    with db.reading() as s:
        assert s.scalar(select(Application.id)) is None  # nothing half-written


def test_a_bad_id_number_is_shown_beside_the_field(client, db, shop) -> None:
    mid, mats = published(db, shop)
    csrf = login(client, window(db, shop))
    r = client.post("/services/desk", data=form_for(mid, mats, csrf, id_number=BAD_ID, phone="12"),
                    files={f"mat-{mats[1]}-file": ("a.jpg", jpeg(), "image/jpeg")})  # fmt: skip
    assert r.status_code == 422
    assert re.search(r'id="error-id_number">[^<]*校验', r.text), r.text
    assert 'id="error-phone"' in r.text and f'value="{BAD_ID}"' in r.text
    assert 'id="error-files">提交前请重新选择要上传的文件' in r.text
    r = client.post("/services/desk", data=form_for(mid, mats, csrf, id_type="uscc", id_number="91330000MA0000000X"))
    assert r.status_code == 422 and re.search(r'id="error-id_number">[^<]*统一社会信用代码', r.text)
    r = client.post(
        "/services/desk", data=form_for(mid, mats, csrf, id_number=VALID_ID.lower()), follow_redirects=False
    )
    assert r.status_code == 303


def test_earlier_applicants_are_found_by_id_number_and_the_lookup_is_audited(client, db, shop) -> None:
    mid, mats = published(db, shop)
    first = submitted(db, shop, mid, mats)
    submitted(db, shop, mid, mats, id_number="110101199003074477")  # someone else
    number = app_row(db, first).number
    csrf = login(client, window(db, shop))
    r = client.post("/services/desk/applicants", data={"id_number": VALID_ID}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert number in r.text and VALID_ID in r.text and 'data-phone="13905781234"' in r.text  # the window sees PII
    assert r.text.count("<li>") == 1
    with db.reading() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "services.application.lookup")).all()
        assert [a.target_id for a in audit] == [number]
    # an agent finds only what they or their 代办点 submitted, masked
    client.cookies.clear()
    me = agent(db)
    csrf = login(client, me)
    r = client.post("/services/desk/applicants", data={"id_number": VALID_ID}, headers={"X-CSRF-Token": csrf})
    assert number not in r.text and 'id="earlier-none"' in r.text
    r = client.post("/services/desk", data=form_for(mid, mats, csrf, **CONSENT), follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/services/desk/applicants", data={"id_number": VALID_ID}, headers={"X-CSRF-Token": csrf})
    assert "331***********1236" in r.text and VALID_ID not in r.text and "data-phone" not in r.text
    r = client.post("/services/desk/applicants", data={"id_number": "12"}, headers={"X-CSRF-Token": csrf})
    assert 'class="field-error"' in r.text


# ── the queue and the decisions ──────────────────────────────────────────────────────────────────────


def _act(db, app_id: int, action: Action, actor: Actor, **body) -> None:
    with db.unit_of_work() as s:
        app = s.get(Application, app_id)
        data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
        apps.act(s, actor=actor, application_id=app_id, action=action, data=data)


def test_the_queue_holds_submitted_and_corrected_applications_oldest_first(client, db, shop) -> None:
    mid, mats = published(db, shop)
    other, other_mats = published(db, shop, code="B-1", name="残疾人两项补贴", department_id=shop.centre)
    clerk = Actor(id=None, name="窗口 黄丽", permissions=frozenset({apps.WINDOW, apps.PII}), department_id=shop.centre)
    a = submitted(db, shop, mid, mats[:1])
    b = submitted(db, shop, other, other_mats)
    c = submitted(db, shop, mid, mats)
    _act(db, a, Action.REQUEST_CORRECTION, clerk)
    _act(db, c, Action.ACCEPT, clerk)
    _act(db, a, Action.RESUBMIT, clerk, materials=[{"material_id": m, "count": 1, "form": "copy"} for m in mats])
    login(client, window(db, shop))
    page = client.get("/services/desk/queue")
    assert page.status_code == 200
    order = [int(x) for x in re.findall(r'<tr id="queue-(\d+)"', page.text)]
    assert order == [b, a]  # a waits since its resubmission; c was accepted
    assert page.text.count("补正后重新提交") == 1
    page = client.get("/services/desk/queue", params={"matter_id": mid})
    assert [int(x) for x in re.findall(r'<tr id="queue-(\d+)"', page.text)] == [a]
    page = client.get("/services/desk/queue", params={"department_id": shop.centre})
    assert [int(x) for x in re.findall(r'<tr id="queue-(\d+)"', page.text)] == [b]


def test_accept_from_the_desk_then_a_disallowed_action_names_what_is_allowed(client, db, shop) -> None:
    mid, mats = published(db, shop)
    app_id = submitted(db, shop, mid, mats)
    clerk = window(db, shop)
    login(client, clerk)
    page = client.get(f"/services/desk/applications/{app_id}")
    assert page.status_code == 200 and 'id="form-accept"' in page.text and 'id="form-reject"' in page.text
    csrf = csrf_from(page.text)
    version = app_row(db, app_id).version
    r = client.post(f"/services/desk/applications/{app_id}/accept", data={"csrf_token": csrf, "version": version},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    app = app_row(db, app_id)
    assert app.state == "in_progress" and app.receipt_number and app.due_at is not None
    page = client.get(r.headers["location"])
    assert app.receipt_number in page.text and 'id="decide-nothing"' in page.text
    r = client.post(f"/services/desk/applications/{app_id}/reject",
                    data={"csrf_token": csrf, "version": app.version, "reason": "不符合条件"})  # fmt: skip
    assert r.status_code == 409
    assert re.search(r'id="decide-error">[^<]*办理中[^<]*不予受理[^<]*现在可以：意见', r.text), r.text
    assert app_row(db, app_id).state == "in_progress"
    r = client.post(f"/services/desk/applications/{app_id}/accept", data={"csrf_token": csrf, "version": 1})
    assert r.status_code == 409 and "已被他人修改" in r.text  # a stale page


def test_accept_refuses_while_a_required_material_is_missing(client, db, shop) -> None:
    mid, mats = published(db, shop)
    app_id = submitted(db, shop, mid, mats[:1])
    csrf = login(client, window(db, shop))
    r = client.post(f"/services/desk/applications/{app_id}/accept", data={"csrf_token": csrf, "version": 1})
    assert r.status_code == 422 and "营业执照" in r.text
    assert app_row(db, app_id).state == "submitted"


def test_an_immediate_matter_is_accepted_and_concluded_at_the_desk(client, db, shop) -> None:
    mid, mats = published(db, shop, application_kind="immediate", promised_limit=0)
    app_id = submitted(db, shop, mid, mats)
    csrf = login(client, window(db, shop))
    page = client.get(f"/services/desk/applications/{app_id}")
    assert 'value="食品经营许可证"' in page.text  # the version's result name, pre-filled
    r = client.post(f"/services/desk/applications/{app_id}/accept_immediate",
                    data={"csrf_token": csrf, "version": 1, "decision": "granted", "result_name": "食品经营许可证",
                          "result_number": "JY13311250000123", "valid_until": "2031-12-02"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    app = app_row(db, app_id)
    assert (app.state, app.decision, app.result_number) == ("decided", "granted", "JY13311250000123")
    assert app.result_valid_until == datetime(2031, 12, 2, 15, 59, tzinfo=UTC)


def test_reject_needs_a_reason_and_records_it(client, db, shop) -> None:
    mid, mats = published(db, shop)
    app_id = submitted(db, shop, mid, mats)
    csrf = login(client, window(db, shop))
    r = client.post(
        f"/services/desk/applications/{app_id}/reject", data={"csrf_token": csrf, "version": 1, "reason": " "}
    )
    assert r.status_code == 422 and 'id="error-reason"' in r.text
    r = client.post(f"/services/desk/applications/{app_id}/reject",
                    data={"csrf_token": csrf, "version": 1, "reason": "不属于本机关职权范围"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    app = app_row(db, app_id)
    assert (app.state, app.rejection_reason) == ("rejected", "不属于本机关职权范围")
    printed = client.get(f"/services/applications/{app_id}/receipt").text
    assert 'id="receipt-title">不予受理通知书' in printed and "不属于本机关职权范围" in printed


def test_the_one_time_notice_is_prefilled_editable_and_printed(client, db, shop) -> None:
    mid, mats = published(db, shop)
    app_id = submitted(db, shop, mid, mats[:1])
    clerk = window(db, shop)
    csrf = login(client, clerk)
    page = client.get(f"/services/desk/applications/{app_id}")
    draft = re.search(r'<textarea id="correction-note"[^>]*>([^<]*)</textarea>', page.text)
    assert draft and draft.group(1) == "1. 营业执照（复印件 1 份；由市场监督管理部门出具；核验原件）"
    assert client.get(f"/services/applications/{app_id}/notice").status_code == 404  # none yet
    note = draft.group(1) + "\n2. 申请书第 3 页未签字，请签字后一并提交"
    r = client.post(f"/services/desk/applications/{app_id}/request_correction",
                    data={"csrf_token": csrf, "version": 1, "note": note}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    app = app_row(db, app_id)
    assert (app.state, app.corrections) == ("correction_requested", 1)
    notice = client.get(f"/services/applications/{app_id}/notice")
    assert notice.status_code == 200
    text = notice.text
    assert "一次性告知书" in text and app.number in text and "营业执照" in text and "核验原件" in text
    assert "申请书第 3 页未签字" in text and "331***********1236" in text and VALID_ID not in text
    assert re.search(r'id="notice-due">\d{4}年\d{1,2}月\d{1,2}日 17:30 （15 个工作日）', text), text
    assert re.search(r'id="notice-clerk">([^<]*)<', text).group(1) == clerk_name(db, clerk), text[-3000:]
    assert "测试政务服务中心" in text and "0578-8123456" in text and "@page" not in text


def clerk_name(db, p) -> str:
    from countyos.org.models import User

    with db.reading() as s:
        return s.get(User, p.id).display_name


def test_the_receipt_carries_the_numbers_the_due_date_and_the_masked_id(client, db, shop) -> None:
    mid, mats = published(db, shop)
    app_id = submitted(db, shop, mid, mats)
    clerk = window(db, shop)
    csrf = login(client, clerk)
    before = client.get(f"/services/applications/{app_id}/receipt")
    assert before.status_code == 200 and "收件回执" in before.text and "受理文书编号" not in before.text
    client.post(f"/services/desk/applications/{app_id}/accept", data={"csrf_token": csrf, "version": 1})
    app = app_row(db, app_id)
    r = client.get(f"/services/applications/{app_id}/receipt")
    assert r.status_code == 200
    text = r.text
    assert "受理通知书" in text and app.number in text and app.receipt_number in text
    assert 'id="receipt-id">331***********1236' in text and VALID_ID not in text
    assert 'id="receipt-limit">5 个工作日' in text
    assert re.search(r'id="receipt-due">\d{4}年\d{1,2}月\d{1,2}日 17:30', text)
    assert f'id="receipt-clerk">{clerk_name(db, clerk)}' in text and "测试政务服务中心" in text
    assert "0578-8123456" in text and "12345" in text and "services-print.css" in text
    for m in ("食品经营许可申请书", "营业执照"):
        assert m in text


def test_printables_are_only_for_people_who_may_read_the_application(client, db, shop) -> None:
    mid, mats = published(db, shop)
    app_id = submitted(db, shop, mid, mats)
    assert client.get(f"/services/applications/{app_id}/receipt", follow_redirects=False).status_code == 303  # login
    login(client, person(db, ["services_handler"], department_id=shop.market))  # its step is not reached yet
    assert client.get(f"/services/applications/{app_id}/receipt").status_code == 404
    assert client.get(f"/services/applications/{app_id}/notice").status_code == 404
    client.cookies.clear()
    login(client, agent(db))  # an agent who did not submit it
    assert client.get(f"/services/applications/{app_id}/receipt").status_code == 404


def test_the_agent_brings_the_corrected_materials_at_the_desk(client, db, shop) -> None:
    mid, mats = published(db, shop)
    me = agent(db)
    csrf = login(client, me)
    r = client.post("/services/desk", data=form_for(mid, mats[:1], csrf, **CONSENT), follow_redirects=False)
    app_id = int(r.headers["location"].rsplit("=", 1)[1])
    assert client.get(f"/services/desk/corrections/{app_id}").status_code == 404  # nothing asked yet
    clerk = Actor(id=None, name="窗口", permissions=frozenset({apps.WINDOW}), department_id=shop.centre)
    _act(db, app_id, Action.REQUEST_CORRECTION, clerk, note="请补交营业执照复印件")
    desk_page = client.get("/services/desk")
    assert f'id="awaiting-{app_id}"' in desk_page.text
    page = client.get(f"/services/desk/corrections/{app_id}")
    assert page.status_code == 200 and "请补交营业执照复印件" in page.text
    version = app_row(db, app_id).version
    base = {"csrf_token": csrf, "version": str(version), f"mat-{mats[0]}-received": "1",
            f"mat-{mats[0]}-form": "original", f"mat-{mats[0]}-count": "1"}  # fmt: skip
    r = client.post(f"/services/desk/corrections/{app_id}", data={**base, f"mat-{mats[1]}-count": "x"})
    assert r.status_code == 422 and f'id="error-mat-{mats[1]}-count"' in r.text
    assert app_row(db, app_id).state == "correction_requested"
    photo = {f"mat-{mats[1]}-file": ("执照.jpg", jpeg(), "image/jpeg")}
    r = client.post(f"/services/desk/corrections/{app_id}", data=base, files=photo, follow_redirects=False)
    assert r.status_code == 303, r.text
    app = app_row(db, app_id)
    assert app.state == "submitted" and all(m.received for m in app.materials)
    assert [m.attachment_id is not None for m in app.materials] == [False, True]
    # another agent may not
    client.cookies.clear()
    login(client, agent(db))
    assert client.get(f"/services/desk/corrections/{app_id}").status_code == 404


def test_the_audit_log_names_every_application_action() -> None:
    from countyos.org.service import audit
    from countyos.services import lifecycle

    codes = ["services.application.create", "services.application.material_file", "services.application.lookup"]
    codes += [f"services.application.{a}" for a in lifecycle.Action]
    assert [c for c in codes if c not in audit.ACTION_NAMES] == []
