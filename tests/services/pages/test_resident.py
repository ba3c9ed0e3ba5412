"""The applicant's pages: apply online with uploads, my applications, the applicant's view with the
一次性告知 and 补正提交, withdraw, the result and the rating link; only the applicant sees their own."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from countyos.core.actor import Actor
from countyos.core.errors import PermissionDenied
from countyos.org.models import AuditEvent, User
from countyos.services.lifecycle import Action
from countyos.services.models import Application, ApplicationEvent
from countyos.services.pages import common, resident
from countyos.services.schemas import ACTION_MODELS, ApplicationIn, MaterialReceivedIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue
from tests.factories import csrf_from, login, person
from tests.services.conftest import ADMIN, guide
from tests.smalldemo import smaller_demo

PHONE_UA = {"user-agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def matter(db, shop) -> dict:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        return {"id": m.id, "materials": [x.id for x in catalogue.current(m).materials]}


def resident_of(db, client, *, phone: str | None = "13905780001"):
    p = person(db, ["resident"], phone=phone)
    login(client, p)
    return p


def me(p) -> Actor:
    return Actor(id=p.id, name="申请人", permissions=frozenset({apps.APPLY}))


def staff(db, shop) -> dict[str, Actor]:
    out = {}
    for key, perms, dep in (("window", {apps.WINDOW, apps.PII}, shop.centre), ("centre", {apps.HANDLE}, shop.centre),
                            ("market", {apps.HANDLE}, shop.market)):  # fmt: skip
        p = person(db, department_id=dep)
        out[key] = Actor(id=p.id, name=f"审批 {key}", permissions=frozenset(perms), department_id=dep)
    return out


def applied(db, p, matter, *, n: int = 2, name: str = "张秀英") -> int:
    with db.unit_of_work() as s:
        app = apps.create(
            s,
            actor=me(p),
            data=ApplicationIn(
                matter_id=matter["id"],
                applicant_name=name,
                id_number="33112319580315002X",
                phone="13905781234",
                materials=[MaterialReceivedIn(material_id=m, form="electronic") for m in matter["materials"][:n]],
            ),
        )
        return app.id


def act(db, actor, app_id, action, **body):
    with db.unit_of_work() as s:
        app = s.get(Application, app_id)
        data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
        apps.act(s, actor=actor, application_id=app_id, action=action, data=data)


def form(page: str, **extra) -> dict[str, str]:
    return {"csrf_token": csrf_from(page), "applicant_name": "张秀英", "applicant_kind": "enterprise",
            "id_type": "uscc", "id_number": "91331123MA2A00001X", "phone": "13905780001",
            "address": "遂昌县妙高街道 1 号", "declare": "1", **extra}  # fmt: skip


def count(db, model=Application) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_applying_needs_the_applicant_permission(client, db, matter) -> None:
    url = f"/services/matters/{matter['id']}/apply"
    r = client.get(url, follow_redirects=False)
    assert r.status_code in (303, 401) and "/login" in r.headers.get("location", "/login")
    clerk = person(db)
    login(client, clerk)
    assert client.get(url).status_code == 403
    assert client.get("/services/my").status_code == 403
    page = client.get("/services")
    r = client.post(url, data=form(page.text))
    assert r.status_code == 403 and count(db) == 0
    with db.unit_of_work() as s, pytest.raises(PermissionDenied):  # the service refuses the applicant path too
        apps.create(s, actor=Actor(id=clerk.id, name="某人", permissions=frozenset()), data=ApplicationIn(
            matter_id=matter["id"], applicant_name="张秀英", id_number="33112319580315002X"))  # fmt: skip


def test_apply_prefilled_with_uploads_from_camera_and_files(client, db, matter) -> None:
    p = resident_of(db, client)
    url = f"/services/matters/{matter['id']}/apply"
    page = client.get(url)
    assert page.status_code == 200
    assert f'value="测试{p.username}"' in page.text and 'value="13905780001"' in page.text  # from the account
    first, second = matter["materials"]
    assert f'name="camera-{first}" accept="image/jpeg,image/png,image/webp" capture="environment"' in page.text
    assert f'name="file-{second}" accept="image/jpeg,image/png,image/webp,application/pdf"' in page.text
    r = client.post(
        url,
        data=form(page.text),
        files=[(f"camera-{first}", ("IMG_0001.png", png(), "image/png")),
               (f"file-{second}", ("执照.pdf", PDF, "application/pdf"))],
        headers=PHONE_UA,
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    app_id = int(re.fullmatch(r"/services/my/(\d+)", r.headers["location"]).group(1))
    with db.reading() as s:
        app = s.get(Application, app_id)
        assert (app.state, app.applicant_user_id, app.submitted_role, app.source) == (
            "submitted", p.id, "applicant", "online_mobile")  # fmt: skip
        assert (app.applicant_name, app.applicant_kind, app.id_type, app.address) == (
            "张秀英", "enterprise", "uscc", "遂昌县妙高街道 1 号")  # fmt: skip
        assert [(m.received, m.form, m.attachment_id is not None) for m in app.materials] == [
            (True, "electronic", True), (True, "electronic", True)]  # fmt: skip
        assert apps.missing_materials(app) == []
        number = app.number
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == app.number)).all()
        assert sorted(actions) == ["services.application.create", "services.application.material_file",
                                   "services.application.material_file"]  # fmt: skip
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and number in page.text
    assert f"/api/v1/services/applications/{app_id}/materials/{first}/file" in page.text
    assert client.get(f"/api/v1/services/applications/{app_id}/materials/{second}/file").content == PDF


def test_a_refused_form_keeps_what_was_typed_and_leaves_nothing(client, db, matter, monkeypatch) -> None:
    resident_of(db, client)
    url = f"/services/matters/{matter['id']}/apply"
    page = client.get(url)
    first, second = matter["materials"]
    typed = form(page.text, id_number="33112319580315002X!!", declare="", address="大柘镇<大田村>")
    r = client.post(url, data=typed, files=[(f"file-{first}", ("note.txt", b"not a photo", "text/plain"))])
    assert r.status_code == 422
    assert 'id="error-id_number"' in r.text and 'id="error-declare"' in r.text and f'id="error-file-{first}"' in r.text
    assert 'value="33112319580315002X!!"' in r.text and 'value="大柘镇&lt;大田村&gt;"' in r.text
    assert '<option value="uscc" selected>' in r.text and "checked" not in r.text.split('id="declare"')[1][:40]
    assert count(db) == 0 and count(db, ApplicationEvent) == 0
    assert 'id="svc-files-again"' in r.text  # files cannot come back: the form says to choose them again
    # a file over the bound, and a kind of applicant the matter is not for
    monkeypatch.setattr(apps, "MAX_FILE_BYTES", 1000)
    r = client.post(url, data=form(page.text, applicant_kind="person"),
                    files=[(f"file-{second}", ("big.pdf", PDF + b"0" * 2000, "application/pdf"))])  # fmt: skip
    assert r.status_code == 422 and f'id="error-file-{second}"' in r.text and 'id="error-applicant_kind"' in r.text
    assert "error-id_number" not in r.text and count(db) == 0


def test_a_matter_not_online_says_where_to_go(client, db, shop) -> None:
    with db.unit_of_work() as s:
        m = catalogue.create(s, actor=ADMIN, data=guide(shop, online=False))
        catalogue.publish(s, actor=ADMIN, matter_id=m.id)
        mid = m.id
    guide_page = client.get(f"/services/matters/{mid}")
    assert 'id="svc-apply-where"' in guide_page.text and "县政务服务中心二楼 12 号窗口" in guide_page.text
    assert f"/services/matters/{mid}/apply" not in guide_page.text
    resident_of(db, client)
    page = client.get(f"/services/matters/{mid}/apply")
    assert page.status_code == 200 and 'id="svc-offline"' in page.text and "svc-apply-form" not in page.text
    r = client.post(f"/services/matters/{mid}/apply", data=form(page.text, applicant_kind="enterprise"))
    assert r.status_code == 422 and 'id="svc-offline"' in r.text and count(db) == 0


def test_my_list_shows_only_mine_and_others_are_not_found(client, db, shop, matter) -> None:
    other = person(db, ["resident"])
    theirs = applied(db, other, matter, name="李四")
    p = resident_of(db, client)
    mine = applied(db, p, matter, n=1)
    window = staff(db, shop)["window"]
    with db.unit_of_work() as s:  # at the window for someone without an account
        apps.create(s, actor=window, data=ApplicationIn(matter_id=matter["id"], applicant_name="王五",
                                                         id_number="33112319700101001X"))  # fmt: skip
    act(db, window, mine, Action.REQUEST_CORRECTION)
    page = client.get("/services/my")
    assert page.status_code == 200
    with db.reading() as s:
        numbers = {a.id: a.number for a in s.scalars(select(Application))}
    assert re.findall(r'href="/services/my/(\d+)"', page.text) == [str(mine)]
    assert numbers[mine] in page.text and numbers[theirs] not in page.text and "王五" not in page.text
    assert 'class="svc-next"' in page.text
    assert client.get(f"/services/my/{theirs}").status_code == 404
    assert client.get("/services/my/999999").status_code == 404
    assert client.post(f"/services/my/{theirs}/withdraw", data={"csrf_token": csrf_from(page.text),
                                                                "version": "1"}).status_code == 404  # fmt: skip
    with db.reading() as s:
        assert s.get(Application, theirs).state == "submitted"


def test_resubmit_after_the_one_complete_notice(client, db, shop, matter) -> None:
    p = resident_of(db, client)
    app_id = applied(db, p, matter, n=1)
    window = staff(db, shop)["window"]
    act(db, window, app_id, Action.REQUEST_CORRECTION, note="请上传营业执照")
    url = f"/services/my/{app_id}"
    page = client.get(url)
    first, second = matter["materials"]
    assert 'id="svc-notice"' in page.text and "营业执照" in page.text and "请上传营业执照" in page.text
    assert f'name="file-{second}"' in page.text and f'name="file-{first}"' not in page.text
    with db.reading() as s:
        version = s.get(Application, app_id).version
    # without the missing file: refused beside it, nothing changes
    r = client.post(f"{url}/resubmit", data={"csrf_token": csrf_from(page.text), "version": str(version),
                                             "note": "补上了"})  # fmt: skip
    assert r.status_code == 422 and f'id="error-file-{second}"' in r.text and ">补上了</textarea>" in r.text
    with db.reading() as s:
        assert s.get(Application, app_id).state == "correction_requested"
    files = [(f"file-{second}", ("执照.pdf", PDF, "application/pdf"))]
    r = client.post(f"{url}/resubmit", data={"csrf_token": csrf_from(page.text), "version": str(version)},
                    files=files, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with db.reading() as s:
        app = s.get(Application, app_id)
        assert app.state == "submitted" and apps.missing_materials(app) == [] and app.corrections == 1
        assert [e.action for e in apps.timeline(s, application_id=app_id)] == ["submit", "request_correction",
                                                                                "resubmit"]  # fmt: skip
    page = client.get(url)
    assert 'id="svc-notice"' not in page.text and len(re.findall(r"<li><time>", page.text)) == 3


def test_withdraw_while_allowed(client, db, shop, matter) -> None:
    p = resident_of(db, client)
    app_id = applied(db, p, matter)
    url = f"/services/my/{app_id}"
    page = client.get(url)
    assert 'id="svc-withdraw-form"' in page.text
    token = csrf_from(page.text)
    r = client.post(f"{url}/withdraw", data={"csrf_token": token, "version": "99", "reason": "不办了"})
    assert r.status_code == 409 and 'id="svc-error"' in r.text and ">不办了</textarea>" in r.text
    with db.reading() as s:
        version = s.get(Application, app_id).version
    r = client.post(f"{url}/withdraw", data={"csrf_token": token, "version": str(version), "reason": "不办了"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with db.reading() as s:
        app = s.get(Application, app_id)
        assert app.state == "withdrawn" and app.closed_at is not None
        (event,) = [e for e in apps.timeline(s, application_id=app_id) if e.action == "withdraw"]
        assert (event.role, event.note) == ("applicant", "不办了")
    page = client.get(url)
    assert "svc-withdraw-form" not in page.text and "不办了" in page.text


def test_the_result_delivery_and_the_rating_link(client, db, shop, matter) -> None:
    p = resident_of(db, client)
    app_id = applied(db, p, matter)
    s_ = staff(db, shop)
    act(db, s_["window"], app_id, Action.ACCEPT)
    page = client.get(f"/services/my/{app_id}")
    assert 'id="svc-due"' in page.text and 'id="svc-withdraw-form"' in page.text  # before the decision
    assert f"/services/applications/{app_id}/rate" not in page.text
    act(db, s_["centre"], app_id, Action.PASS, opinion="材料齐全")
    act(db, s_["market"], app_id, Action.PASS, opinion="符合条件",
        result={"decision": "granted", "result_name": "食品经营许可证", "result_number": "JY13311230000001",
                "valid_until": (datetime.now(UTC) + timedelta(days=1800)).isoformat()})  # fmt: skip
    act(db, s_["window"], app_id, Action.DELIVER, method="express", tracking_number="SF1234567890")
    page = client.get(f"/services/my/{app_id}")
    assert page.status_code == 200
    for expected in ("食品经营许可证", "JY13311230000001", "SF1234567890", 'id="svc-decision"', "材料齐全"):
        assert expected in page.text, expected
    assert f'href="/services/applications/{app_id}/rate"' in page.text and "svc-withdraw-form" not in page.text
    assert "T" not in re.search(r"<time>([^<]*)</time>", page.text).group(1)  # county time, not ISO


def test_large_mode_on_every_applicant_page(client, db, shop, matter) -> None:
    p = resident_of(db, client)
    app_id = applied(db, p, matter, n=1)
    act(db, staff(db, shop)["window"], app_id, Action.REQUEST_CORRECTION)
    for url in (f"/services/matters/{matter['id']}/apply?large=1", "/services/my?large=1",
                f"/services/my/{app_id}?large=1"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200 and 'class="svc-public svc-large"' in page.text, url
    assert f'href="/services/my/{app_id}?large=1"' in client.get("/services/my?large=1").text
    assert f'action="/services/my/{app_id}/resubmit?large=1"' in page.text
    assert f'href="/services/matters/{matter["id"]}/apply?large=1"' in client.get(
        f"/services/matters/{matter['id']}?large=1").text  # fmt: skip
    home = client.get("/")
    assert 'href="/services/my"' in home.text


def test_next_step_words_cover_every_state() -> None:
    from countyos.services.lifecycle import State

    assert set(resident.NEXT_STEP) == {str(s) for s in State}
    assert set(resident.ID_TYPE_LABELS) == {str(t) for t in resident.IdType}
    # every write on an application has a name in the audit log
    assert set(common.APPLICATION_AUDIT) == {f"services.application.{a}" for a in Action} | {
        "services.application.create", "services.application.material_file"}  # fmt: skip


def test_the_demo_has_an_applicant_account_with_its_own_applications(db) -> None:
    from countyos.core.demo import DemoContext
    from countyos.org import demo as org_demo
    from countyos.services import demo

    assert ("resident", "张秀英", ["resident"], "") in org_demo.PEOPLE
    ctx = DemoContext()
    with smaller_demo(), db.unit_of_work() as s:  # the year before the account's own, at a smaller size
        org_demo.load(s, ctx)
        demo.load(s, ctx)
    (note,) = [n for u, _p, n in ctx.accounts if u == "resident"]
    assert note.startswith("resident  applicant account") and "/services/my" in note
    with db.reading() as s:
        rows = s.scalars(select(Application).where(Application.applicant_user_id == ctx.user_ids["resident"])).all()
        assert sorted((a.applicant_name, a.state, a.submitted_role) for a in rows) == [
            ("张秀英", "correction_requested", "applicant"), ("张秀英", "in_progress", "applicant")]  # fmt: skip
        user = s.get(User, ctx.user_ids["resident"])
        assert user.department_id is None and [r.code for r in user.roles] == ["resident"]
