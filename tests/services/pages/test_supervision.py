"""The 电子监察 pages: the warnings with their statistics by department and level (each number a link to
exactly its records), one warning with the department's feedback and 督办 (refusals beside the field),
the rules page (refusals beside the field, what was typed kept) and who may open them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from countyos.core.actor import Actor
from countyos.services.lifecycle import Action
from countyos.services.models import RuleKind, SupervisionRule, SupervisionWarning
from countyos.services.service import applications as apps
from countyos.services.service import supervision
from tests.factories import csrf_from, login, person
from tests.services.service.test_supervision import T0, do, matter, only, submit

SWEEP_AT = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)  # Tue 8 Dec 09:00 county time
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def world(db, shop) -> dict:
    """Three warnings: yellow and red at the centre's step, yellow at the market's step."""
    window = Actor(id=None, name="窗口", permissions=frozenset({apps.WINDOW}), department_id=shop.centre)
    centre = Actor(id=None, name="中心", permissions=frozenset({apps.HANDLE}), department_id=shop.centre)
    with db.unit_of_work() as s:
        only(s, RuleKind.TIME_USED, RuleKind.OVERDUE)
        mid, mats = matter(s, shop)
        yellow = do(s, window, submit(s, window, mid, mats, T0), Action.ACCEPT, T0)
        early = T0 - timedelta(days=7)
        red = do(s, window, submit(s, window, mid, mats, early), Action.ACCEPT, early)
        moved = do(s, window, submit(s, window, mid, mats, T0), Action.ACCEPT, T0)
        do(s, centre, moved, Action.PASS, T0 + timedelta(hours=1), opinion="同意")
        assert supervision.sweep(s, now=SWEEP_AT)["raised"] == 3
        by_app = {w.application_id: w for w in s.scalars(select(SupervisionWarning))}
        return {
            "yellow": by_app[yellow.id].id,
            "red": by_app[red.id].id,
            "market": by_app[moved.id].id,
            "numbers": {k: by_app[a.id].number for k, a in (("yellow", yellow), ("red", red), ("market", moved))},
        }


def _stat_links(text: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(department row, column) → (number, link) of the statistics table."""
    table = text[text.index('id="warning-stats"') :]
    table = table[: table.index("</table>")]
    out = {}
    for row in re.finditer(r'<tr data-department="(\d*)">(.*?)</tr>', table, re.S):
        for m in re.finditer(r'<a href="(?P<href>[^"]*)" class="stat-(?P<col>\w+)">(?P<n>\d+)</a>', row.group(2)):
            out[(row.group(1), m["col"])] = (m["n"], m["href"].replace("&amp;", "&"))
    return out


def test_statistics_by_department_and_level_link_to_exactly_their_records(client, db, shop, world) -> None:
    login(client, person(db, ["services_admin"]))
    page = client.get("/services/supervision")
    assert page.status_code == 200
    stats = _stat_links(page.text)
    c, m = str(shop.centre), str(shop.market)
    assert {k: v[0] for k, v in stats.items()} == {
        (c, "yellow"): "1",
        (c, "red"): "1",
        (c, "total"): "2",
        (m, "yellow"): "1",
        (m, "red"): "0",
        (m, "total"): "1",
    }
    expected = {
        (c, "yellow"): {"yellow"},
        (c, "red"): {"red"},
        (c, "total"): {"yellow", "red"},
        (m, "yellow"): {"market"},
        (m, "red"): set(),
    }
    for key, wanted in expected.items():
        listed = client.get(stats[key][1])
        assert listed.status_code == 200
        rows = set(re.findall(r'href="/services/supervision/warnings/(\d+)"', listed.text))
        assert rows == {str(world[k]) for k in wanted}, key
    # the red row comes first in the list, and the levels are in Chinese
    assert page.text.index(world["numbers"]["red"]) < page.text.index(world["numbers"]["yellow"])
    assert "红色预警" in page.text and "已用承诺办结时限的" in page.text and "已超过承诺办结时间" in page.text
    # a period with nothing in it
    empty = client.get("/services/supervision?" + urlencode({"since": "2026-12-09"}))
    assert "暂无预警。" in empty.text and not _stat_links(empty.text)
    assert client.get("/services/supervision?since=not-a-day&level=purple&department_id=x").status_code == 200


def test_a_department_sees_its_own_and_answers_beside_the_field(client, db, shop, world) -> None:
    login(client, person(db, ["services_handler"], department_id=shop.market))
    page = client.get("/services/supervision")
    assert set(re.findall(r'href="/services/supervision/warnings/(\d+)"', page.text)) == {str(world["market"])}
    assert client.get(f"/services/supervision/warnings/{world['yellow']}").status_code == 404
    url = f"/services/supervision/warnings/{world['market']}"
    page = client.get(url)
    assert (
        page.status_code == 200 and 'id="warning-feedback"' in page.text and 'id="warning-supervise"' not in page.text
    )
    csrf = csrf_from(page.text)
    version = re.search(r'name="version" value="(\d+)"', page.text)[1]
    r = client.post(
        url,
        content=urlencode({"csrf_token": csrf, "action": "feedback", "version": version, "note": " "}),
        headers=FORM,
    )
    assert r.status_code == 422 and re.search(r'id="error-note">[^<]+<', r.text)
    r = client.post(
        url,
        content=urlencode({"csrf_token": csrf, "action": "feedback", "version": version, "note": "已电话联系申请人"}),
        headers=FORM,
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(url)
    assert "已反馈" in page.text and "已电话联系申请人" in page.text and 'id="warning-feedback"' not in page.text
    # a second feedback with the old form: the table refuses it, shown on the page
    r = client.post(
        url,
        content=urlencode({"csrf_token": csrf, "action": "feedback", "version": str(int(version) + 1), "note": "再次"}),
        headers=FORM,
    )
    assert r.status_code == 409 and 'id="warning-error"' in r.text


def test_supervisor_issues_a_supervision_order_recorded_on_the_application(client, db, shop, world) -> None:
    login(client, person(db, ["services_admin"]))
    url = f"/services/supervision/warnings/{world['red']}"
    page = client.get(url)
    assert 'id="warning-supervise"' in page.text and 'id="warning-feedback"' not in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text)[1]
    body = {"csrf_token": csrf_from(page.text), "action": "supervise", "version": version, "note": "<b>限今日办结</b>"}
    r = client.post(url, content=urlencode(body), headers=FORM, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(url)
    assert "已督办" in page.text and "&lt;b&gt;限今日办结&lt;/b&gt;" in page.text and "<b>限今日办结" not in page.text
    with db.unit_of_work() as s:
        w = s.get(SupervisionWarning, world["red"])
        last = apps.timeline(s, application_id=w.application_id)[-1]
        assert last.action == "supervise" and last.note == f"{w.number} <b>限今日办结</b>"


def test_rules_page_keeps_what_was_typed_and_saves(client, db, world) -> None:
    login(client, person(db, ["services_admin"]))
    page = client.get("/services/supervision/rules")
    assert page.status_code == 200
    assert [m for m in re.findall(r'id="rule-(JC\d\d)"', page.text)] == ["JC01", "JC02", "JC03", "JC04", "JC05", "JC06"]
    assert "承诺时限已用比例" in page.text and "逾期未补正视为撤回" in page.text
    fields = {}
    for tag in re.findall(r"<input [^>]*>", page.text):
        name, value = re.search(r'name="([\w.]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value and "checkbox" not in tag:
            fields[name[1]] = value[1]
    assert fields["threshold.0"] == "80" and fields["days.2"] == "3" and fields["count"] == "6"
    posted = [(k, v) for k, v in fields.items() if k != "csrf_token"] + [("csrf_token", csrf_from(page.text))]
    posted += [(f"level.{i}", lv) for i, lv in enumerate(["yellow", "red", "yellow", "yellow", "yellow", "yellow"])]
    posted += [(f"enabled.{i}", "1") for i in range(6)]
    bad = [(k, "" if k == "threshold.0" else v) for k, v in posted] + [("new.kind", "idle"), ("new.level", "red")]
    r = client.post("/services/supervision/rules", content=urlencode(bad), headers=FORM)
    assert r.status_code == 422
    assert re.search(r'id="error-threshold-0">此类规则必须填写<', r.text)
    assert re.search(r'id="error-new-days">此类规则必须填写<', r.text)
    assert '<option value="idle" selected' in r.text  # the new rule's kind as typed
    forged = [(k, "nonsense" if k == "kind.0" else v) for k, v in posted] + [("code.9", "JC99"), ("count", "10")]
    assert client.post("/services/supervision/rules", content=urlencode(forged), headers=FORM).status_code < 500
    good = [(k, "90" if k == "threshold.0" else v) for k, v in posted] + [
        ("new.kind", "idle"),
        ("new.days", "6"),
        ("new.level", "red"),
    ]
    r = client.post("/services/supervision/rules", content=urlencode(good), headers=FORM, follow_redirects=False)
    assert r.status_code == 303
    with db.unit_of_work() as s:
        rules = {r.code: r for r in s.scalars(select(SupervisionRule))}
        assert rules["JC01"].threshold == 90 and rules["JC03"].enabled
        assert (rules["JC07"].kind, rules["JC07"].days, rules["JC07"].level) == ("idle", 6, "red")


def test_who_may_open_the_pages(client, db, shop, world) -> None:
    assert client.get("/services/supervision", follow_redirects=False).status_code in (302, 303, 401)
    login(client, person(db, ["services_window"], department_id=shop.centre))
    page = client.get("/services/supervision")
    assert page.status_code == 200 and "暂无预警。" in page.text
    assert client.get("/services/supervision/rules").status_code == 403
    assert client.get(f"/services/supervision/warnings/{world['yellow']}").status_code == 404
