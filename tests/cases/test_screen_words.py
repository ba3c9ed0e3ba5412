"""The case screens speak the interface language: no step, unit, kind or channel codes, the right
words for "code", and people's names (with their department) on the timeline."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from countyos.cases.lifecycle import Action
from countyos.cases.models import Step
from countyos.core.workcal import TimeUnit
from tests.cases.test_lifecycle import act, report
from tests.factories import csrf_from, login, person
from tests.web.visible import raw_marks, visible_text

CODES = (*(str(s) for s in Step), *(str(u) for u in TimeUnit), "component", "matter", "hotline", "local", "grid")


def _in_english(client) -> None:
    page = client.get("/")
    client.post("/lang", data={"locale": "en", "csrf_token": csrf_from(page.text), "next": "/"})


def test_categories_pages_name_steps_units_and_kinds(client, db, world):
    admin = person(db, ["data_admin"])
    login(client, admin)
    listing = client.get("/cases/categories")
    texts = visible_text(listing.text)
    assert raw_marks(texts, codes=CODES) == []
    assert "分类代码" in texts and "验证码" not in texts
    assert {"受理", "工作时"} <= {t.split()[-1] for t in texts} | set(texts)
    one = client.get(f"/cases/categories/{world.cat_garbage}")
    texts = visible_text(one.text)
    assert raw_marks(texts, codes=CODES) == []
    assert "处置" in texts and "一般" in texts
    _in_english(client)
    texts = visible_text(client.get("/cases/categories").text)
    assert "Category code" in texts and "Acceptance" in texts and raw_marks(texts, codes=CODES) == []


def test_console_queue_chips_are_translated(client, db, world):
    login(client, world.dispatcher)
    texts = visible_text(client.get("/cases").text)
    assert "待派遣" in texts and "To dispatch" not in texts


def test_timeline_shows_names_and_departments_not_roles(client, db, world):
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    cid, _ = report(db, world, at=now)
    act(db, world.intake, cid, Action.ACCEPT, now)
    login(client, world.dispatcher)
    page = client.get(f"/cases/{cid}")
    texts = visible_text(page.text)
    intake_name = f"测试{world.intake.username}"
    assert f"{intake_name} · 县城市运行管理中心" in texts
    assert f"{world.intake.username} (intake)" not in page.text and "(intake)" not in page.text
    assert raw_marks(texts, codes=CODES) == []


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def _citizen_form(client, world) -> dict[str, str]:
    page = client.get("/report")
    return {
        "csrf_token": csrf_from(page.text),
        "category_id": str(world.cat_garbage),
        "description": "路口垃圾没人清",
        "lon": "119.27",
        "lat": "28.59",
        "address": "妙高街道北街 12 号",
        "name": "王先生",
    }


def test_citizen_form_error_sits_by_its_field_and_keeps_what_was_typed(client, db, world):
    data = _citizen_form(client, world)
    bad = client.post("/report", data={**data, "phone": "12ab"})
    assert bad.status_code == 422
    texts = visible_text(bad.text)
    assert "请填写手机号或带区号的固定电话" in texts and "not a phone number" not in bad.text
    assert 'id="error-phone"' in bad.text and "登录" not in texts
    fields = __import__("tests.sensing.formfields", fromlist=["form_defaults"]).form_defaults(bad.text, "report-form")
    assert (fields["description"], fields["address"], fields["name"], fields["phone"]) == (
        "路口垃圾没人清",
        "妙高街道北街 12 号",
        "王先生",
        "12ab",
    )
    assert fields["category_id"] == str(world.cat_garbage)
    # a form the browser should not have sent (no category) is the same form again, not a bare error page
    nocat = client.post("/report", data={**data, "category_id": "", "phone": ""})
    assert nocat.status_code == 422 and 'id="error-category_id"' in nocat.text
    assert "路口垃圾没人清" in nocat.text and "登录" not in visible_text(nocat.text)
    _in_english(client)
    data = _citizen_form(client, world)
    bad = client.post("/report", data={**data, "phone": "12ab"})
    assert "Enter a mobile number or a landline number with its area code" in visible_text(bad.text)


def test_more_photos_than_kept_are_refused_with_a_message(client, db, world):
    from countyos.cases.models import Case

    page = client.get("/report")
    assert "最多 3 张" in " ".join(visible_text(page.text))
    data = _citizen_form(client, world)
    files = [("photos", (f"p{i}.jpg", _jpeg(), "image/jpeg")) for i in range(5)]
    r = client.post("/report", data=data, files=files)
    assert r.status_code == 422
    assert "最多只能上传 3 张照片，您选择了 5 张" in visible_text(r.text)
    with db.reading() as s:
        assert s.query(Case).count() == 0
    r = client.post("/report", data=data, files=files[:3], follow_redirects=False)
    assert r.status_code == 303
