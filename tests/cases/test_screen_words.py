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
