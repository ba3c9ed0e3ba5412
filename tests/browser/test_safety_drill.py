"""THE FLOOD DRILL in the browser, each person in their own browser (zh-CN): river_gauge-01's water level
posted above the demo plan SC-FX's Ⅳ trigger (over 4.0 m for 10 minutes) through SensorThings with the
demo's machine account starts a response → the emergency bureau's ``yjj`` sees it in the list and on its
situation page (Ⅳ级响应, the departments' tasks, the map, the nearest resources) → the water bureau's
``slj`` on a phone (/safety/field) acknowledges (签收) its task, feeds back with a photo and reports it
done → ``yjj`` raises the response to Ⅲ and gives a command → the township's ``yj_dz`` acknowledges the
command on a phone → the 首报 (made by the reports job) is sent from /safety/reports → the ``leader`` sees
the event on /safety and on the operations view /ioc, whose 应急响应 tile opens the list holding it →
``yjj`` lowers the response with a reason and ends it → the review page shows the timeline, its PDF
downloads.

The demo has no active response and the test server runs no simulator: the readings are the test's own
(minutes in the past, at 17 seconds past the minute, off the demo history's 10-minute grid)."""

from __future__ import annotations

import base64
import io
import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Browsing, shoot

pytestmark = pytest.mark.browser

MACHINE = ("sta-client", "Sta@2026county")  # the demo's SensorThings machine account (sensing/demo.py)
PLAN = "SC-FX"
WATER = "县水利局"
TOWN = "大柘镇人民政府"
COMPONENTS = ["phenomenonTime", "result"]
# English words, enum values and ISO times that must not show on a zh-CN page
RAW = re.compile(
    r"\b(issued|acknowledged|done|closed|active|flood|escalated|lowered|started|report_due|task_issued|"
    r"Level [IV]+|Response|Emergency|Acknowledge|Overdue|Timeline|None)\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"
)


def _db(b: Browsing) -> str:
    return b.server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///")


def _query(b: Browsing, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(_db(b)) as con:
        return con.execute(sql, args).fetchall()


def _post_levels(b: Browsing, datastream_id: int, values: list[float], *, minutes_ago: int) -> None:
    """A CreateObservations body: one value a minute from MINUTES_AGO, at 17 s past the minute."""
    t0 = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).replace(second=17, microsecond=0)
    rows = [[(t0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), v] for i, v in enumerate(values)]
    auth = "Basic " + base64.b64encode(f"{MACHINE[0]}:{MACHINE[1]}".encode()).decode()
    r = httpx.post(
        b.server.url + "/sta/v1.1/CreateObservations",
        json=[
            {"Datastream": {"@iot.id": datastream_id}, "components": ["phenomenonTime", "result"], "dataArray": rows}
        ],
        headers={"Authorization": auth},
        timeout=60,
    )
    assert r.status_code == 201 and "error" not in r.text, r.text


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 110, 170)).save(out, "JPEG")
    return out.getvalue()


def _zh(page: Page, wrong: list[str], *texts: str, never: tuple[str, ...] = ()) -> None:
    """The page is in Chinese: the texts given are there; no raw codes, English words or ISO times, nor
    any of NEVER (a wrong translation). What is wrong is collected: the drill goes on, the test fails at
    its end with the whole list."""
    body = page.locator("main").first if page.locator("main").count() else page.locator("body")
    text = body.inner_text()
    wrong += [f"{t!r} is not on {page.url}" for t in texts if t not in text]
    wrong += [f"{t!r} shows on {page.url}" for t in never if t in text]
    wrong += [f"{m.group(0)!r} shows on {page.url}" for m in RAW.finditer(text)]


def _fits(page: Page, wrong: list[str]) -> None:
    """Nothing on a phone page is wider than the screen (no sideways scrolling)."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    if width > PHONE["width"] + 1:
        wrong.append(f"{page.url} is {width} px wide on a {PHONE['width']} px phone")


def _problems(page: Page) -> list[str]:
    return page.problems.take()  # type: ignore[attr-defined]


def test_flood_drill_in_the_browser(browsing: Browsing) -> None:
    (plan_id, plan_name), *_ = _query(browsing, "SELECT id, name FROM safety_plan WHERE code = ?", PLAN)
    assert _query(browsing, "SELECT id FROM safety_event WHERE state = 'active'") == []  # the demo has none
    ((ds,),) = _query(
        browsing,
        "SELECT d.id FROM sensing_datastream d JOIN sensing_thing t ON t.id = d.thing_id "
        "WHERE t.device_key = 'river_gauge-01' AND d.metric = 'water_level'",
    )

    # 1. the gauge: above 4.0 m for 15 minutes → the plan's Ⅳ response, right after the POST
    _post_levels(browsing, int(ds), [3.7, 3.9] + [4.1 + 0.02 * i for i in range(14)], minutes_ago=17)
    rows = _query(
        browsing, "SELECT id, number, title, level FROM safety_event WHERE state = 'active' AND plan_id = ?", plan_id
    )
    assert len(rows) == 1, rows
    event_id, number, title, level = rows[0]
    assert level == "IV" and str(title).startswith(str(plan_name))
    wrong: list[str] = []
    if str(title).count(str(plan_name)) != 1:
        wrong.append(f"the event's title names the plan twice: {title}")
    url = f"/safety/events/{event_id}"

    # 2. the emergency bureau's officer: the list, then the situation page
    yjj = browsing.as_user("yjj")
    yjj.goto("/safety/events")
    row = yjj.locator("#events-table tbody tr", has_text=str(number))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ⅳ级响应")
    _zh(yjj, wrong, str(number), "防汛")
    row.locator(f"a[href='{url}']").click()
    yjj.wait_for_url(f"**{url}")
    expect(yjj.locator("#event-head")).to_contain_text("Ⅳ级响应")
    expect(yjj.locator("#event-head")).to_contain_text(str(number))
    tasks = yjj.locator("#event-tasks tbody")
    for department in (WATER, "县应急管理局", TOWN, "县卫生健康局"):
        expect(tasks).to_contain_text(department)
    expect(yjj.locator("#event-tasks tbody tr", has_text="Ⅲ级响应")).to_have_count(0)
    expect(yjj.locator("#event-map svg")).to_be_visible()
    expect(yjj.locator("#event-map svg circle").first).to_be_visible()
    expect(yjj.locator("#event-resources tbody tr").first).to_be_visible()
    expect(yjj.locator("#event-resources")).to_contain_text("km")
    expect(yjj.locator("#event-log")).to_contain_text("启动响应")
    # a task just issued reads 已下达 (not 已开具, a certificate's word)
    _zh(yjj, wrong, "已下达", "就近资源", never=("已开具",))
    shoot(yjj, "safety-drill-event-iv")

    # 3. the water bureau's handler on a phone: 签收, feedback with a photo, done
    slj = browsing.as_user("slj", viewport=PHONE)
    slj.goto("/safety/field")
    card = slj.locator("#field-tasks > li", has_text=str(number))
    expect(card).to_have_count(1)
    task_id = int((card.get_attribute("id") or "").removeprefix("task-"))
    expect(card).to_contain_text(WATER)
    _zh(slj, wrong, never=("已开具",))
    ack = slj.locator(f"#task-{task_id}-ack").inner_text().strip()
    if ack != "签收":  # a department signs for (签收) its task
        wrong.append(f"the task's button reads {ack!r} on {slj.url}, not 签收")
    _fits(slj, wrong)
    shoot(slj, "safety-drill-field-phone")
    slj.click(f"#task-{task_id}-ack")
    slj.wait_for_url("**/safety/field")
    expect(slj.locator(f"#task-{task_id}-ack")).to_have_count(0)
    expect(slj.locator(f"#fb-{task_id}")).to_be_visible()
    slj.fill(f"#fb-{task_id}", "妙高溪水位已加密至每15分钟报送一次")
    slj.set_input_files(f"#photo-{task_id}", files=[{"name": "gauge.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    slj.click(f"#task-{task_id}-feedback")
    slj.wait_for_url("**/safety/field")
    expect(slj.locator(f"#task-{task_id}")).to_contain_text("妙高溪水位已加密至每15分钟报送一次")
    expect(slj.locator(f"#task-{task_id} a[href*='/photos/']")).to_have_count(1)
    shoot(slj, "safety-drill-feedback-phone")
    slj.click(f"#task-{task_id}-done")
    slj.wait_for_url("**/safety/field")
    expect(slj.locator(f"#task-{task_id}")).to_have_count(0)  # no longer open
    assert _query(browsing, "SELECT state FROM safety_event_task WHERE id = ?", task_id) == [("done",)]
    assert _problems(slj) == []

    # 4. the officer raises the response to Ⅲ and gives a command
    yjj.goto(url)
    expect(yjj.locator(f"#task-{task_id}")).to_contain_text("已完成")
    expect(yjj.locator(f"#task-{task_id} a[href*='/photos/']")).to_have_count(1)
    photo = yjj.request.get(yjj.locator(f"#task-{task_id} a[href*='/photos/']").get_attribute("href") or "")
    assert photo.status == 200 and photo.headers["content-type"].startswith("image/")
    yjj.select_option("#esc-level", "III")
    yjj.fill("#esc-reason", "上游来水加大，妙高溪水位持续上涨")
    yjj.click("#event-escalate-go")
    yjj.wait_for_url(f"**{url}")
    expect(yjj.locator("#event-head")).to_contain_text("Ⅲ级响应")
    expect(yjj.locator("#event-tasks tbody tr", has_text="Ⅲ级响应").first).to_be_visible()
    expect(yjj.locator("#event-tasks")).to_contain_text("县交通运输局")
    expect(yjj.locator("#event-log")).to_contain_text("响应升级")
    command = "立即组织沿溪低洼地带群众转移，半小时内报告转移人数"
    yjj.fill("#cmd-text", command)
    yjj.locator("#event-command label", has_text=TOWN).locator("input").check()
    yjj.click("#event-command-go")
    yjj.wait_for_url(f"**{url}")
    commands = yjj.locator("#event-commands")
    expect(commands).to_contain_text(command)
    expect(commands).to_contain_text("未签收")
    _zh(yjj, wrong, "Ⅲ级响应", command)
    shoot(yjj, "safety-drill-event-iii")

    # 5. the township's responder acknowledges the command on a phone
    dz = browsing.as_user("yj_dz", viewport=PHONE)
    dz.goto("/safety/field")
    item = dz.locator("#my-commands > li", has_text=command)
    expect(item).to_have_count(1)
    command_id = int((item.get_attribute("id") or "").removeprefix("command-"))
    _zh(dz, wrong, "回复签收")
    _fits(dz, wrong)
    dz.fill(f"#reply-{command_id}", "收到，正在转移")
    dz.click(f"#command-{command_id}-ack")
    dz.wait_for_url("**/safety/field")
    expect(dz.locator(f"#command-{command_id}")).to_have_count(0)
    shoot(dz, "safety-drill-command-phone")
    assert _problems(dz) == []
    yjj.goto(url)
    expect(yjj.locator("#event-commands")).to_contain_text("收到，正在转移")

    # 6. the 首报: the reports job (every minute) makes the row; drafted and sent from /safety/reports
    deadline = time.monotonic() + 150
    first: list[tuple[object, ...]] = []
    while time.monotonic() < deadline:
        first = _query(browsing, "SELECT id FROM safety_event_report WHERE event_id = ? AND kind = 'first'", event_id)
        if first:
            break
        time.sleep(1)
    assert first, "the reports job made no 首报 row"
    report_id = int(first[0][0])  # type: ignore[call-overload]
    yjj.goto("/safety/reports?which=pending")
    line = yjj.locator(f"#report-list tr[data-report='{report_id}']")
    expect(line).to_contain_text("首报")
    _zh(yjj, wrong, "首报")
    line.locator(f"a[href='/safety/reports/{report_id}']").click()
    yjj.wait_for_url(f"**/safety/reports/{report_id}")
    body = yjj.locator("#report-form textarea[name=body]")
    expect(body).not_to_have_value("")
    assert str(title) in body.input_value() or "防汛" in body.input_value()
    yjj.fill("#report-form input[name=evacuated]", "126")
    yjj.once("dialog", lambda d: d.accept())
    yjj.click("#report-form button[value=send]")
    yjj.wait_for_url(f"**/safety/reports/{report_id}")
    expect(yjj.locator("#report-state")).to_have_text("已报送")
    expect(yjj.locator("#report-sent-body")).to_be_visible()
    _zh(yjj, wrong, "已报送")
    ((officer,),) = _query(browsing, "SELECT display_name FROM org_user WHERE username = 'yjj'")
    yjj.goto(url)
    sent_line = yjj.locator("#event-log li", has_text="首报").last.inner_text()
    if str(officer) not in sent_line:  # people by name, never by their login
        wrong.append(f"the timeline's 首报 line names its sender {sent_line!r} on {yjj.url}, not {officer}")
    shoot(yjj, "safety-drill-first-report")

    # 7. the leader: the glance, then the operations view's 应急响应 tile opening the list with the event
    leader = browsing.as_user("leader")
    leader.goto("/safety")
    active = leader.locator(f"#glance-active-events tr[data-event='{event_id}']")
    expect(active).to_contain_text("Ⅲ级响应")
    expect(active).to_contain_text(str(title))
    _zh(leader, wrong, "态势一览")
    shoot(leader, "safety-drill-glance")
    leader.goto("/ioc")
    tile = leader.locator("#tile-emergency_active")
    expect(tile).to_contain_text("应急响应")
    assert int(tile.locator("[data-value]").inner_text().strip()) >= 1
    tile.click()
    leader.wait_for_load_state()
    expect(leader.locator("main")).to_contain_text(str(number))
    _zh(leader, wrong, "应急")
    shoot(leader, "safety-drill-ioc-list")
    assert _problems(leader) == []

    # 8. the officer lowers the response with a reason, then ends it
    yjj.goto(url)
    yjj.select_option("#low-level", "IV")
    yjj.fill("#low-reason", "妙高溪水位回落至警戒水位以下")
    yjj.click("#event-lower-go")
    yjj.wait_for_url(f"**{url}")
    expect(yjj.locator("#event-head")).to_contain_text("Ⅳ级响应")
    expect(yjj.locator("#event-tasks")).to_contain_text("响应降级")
    yjj.fill("#close-note", "险情解除，防汛Ⅳ级应急响应结束")
    yjj.click("#event-close-go")
    yjj.wait_for_url(f"**{url}")
    expect(yjj.locator("#event-state")).to_have_text("响应结束")
    expect(yjj.locator("#event-command-post")).to_have_count(0)
    expect(yjj.locator("#event-log")).to_contain_text("响应结束")
    assert _query(browsing, "SELECT state FROM safety_event WHERE id = ?", event_id) == [("closed",)]
    open_tasks = _query(
        browsing,
        "SELECT count(*) FROM safety_event_task WHERE event_id = ? AND state IN ('issued', 'acknowledged')",
        event_id,
    )
    assert open_tasks == [(0,)]

    # 9. the review: the timeline; its PDF downloads
    yjj.goto(f"{url}/review")
    page_text = yjj.locator("main").inner_text()
    for words in ("启动响应", "响应升级", "响应降级", "响应结束", "妙高溪水位回落至警戒水位以下", WATER):
        assert words in page_text, words
    _zh(yjj, wrong)
    shoot(yjj, "safety-drill-review")
    pdf = yjj.request.get(f"{url}/review.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.body().startswith(b"%PDF")
    assert _problems(yjj) == []
    assert wrong == [], "\n".join(wrong)
