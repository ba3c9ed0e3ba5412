"""The operations view in a real browser on the demo county: a case reported through Open311 and an
alarm from a sensor's reading appear live in the feed, the tiles and on the map; a tile lists exactly
what it counts; the weekly report renders. Screenshots (zh-CN) for the README."""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
import time

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from countyos.cases.models import Channel
from countyos.cases.service import cases, categories
from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.org.models import User
from countyos.org.service import tokens
from countyos.sensing.service import devices
from tests.browser.conftest import (  # noqa: F401
    ARTIFACTS,
    PHONE,
    Browsing,
    Server,
    _start_server,
    browser,
    browsing,
    browsing_session,
    server,
    shoot,
)

pytestmark = pytest.mark.browser
SETUP = Actor(id=None, name="browser test")
WALL = {"width": 1920, "height": 1080}


def keys(srv: Server) -> tuple[str, str]:
    """An Open311 api_key of the demo reporting app and a device token of the demo gateway."""
    db = Database(srv.env["COUNTYOS_DATABASE_URL"])
    try:
        with db.unit_of_work() as s:
            app_user = s.scalar(select(User).where(User.username == "open311app"))
            assert app_user is not None, "the demo has no Open311 reporting app"
            _, api_key = tokens.create(
                s, actor=SETUP, name="ioc browser test", user_id=app_user.id, scopes=["case.open311"]
            )
            gateway = devices.get_by_key(s, device_key="gateway-01")
            assert gateway is not None
            _, device_token = devices.issue_token(s, actor=SETUP, thing_id=gateway.id, name="ioc browser test")
    finally:
        db.dispose()
    return api_key, device_token


def problems(page: Page) -> list[str]:
    """What went wrong in the page, less the live stream that navigating away closes."""
    return [p for p in page.problems.take() if not ("/api/v1/ioc/stream" in p and "ERR_ABORTED" in p)]  # type: ignore[attr-defined]


def tile(page: Page, code: str) -> str:
    return page.locator(f"#tile-{code} [data-value]").inner_text().strip()


def api_tiles(page: Page) -> dict[str, dict]:
    data = page.request.get("/api/v1/ioc/indicators?period=today").json()
    return {t["code"]: t for t in data["tiles"]}


def test_a_new_case_and_an_alarm_appear_live_and_the_tile_lists_them(browsing: Browsing, server: Server) -> None:  # noqa: F811
    api_key, device_token = keys(server)
    page = browsing.as_user("leader")
    page.goto("/ioc?period=today")
    page.locator("#ioc[data-ready='1']").wait_for(timeout=30_000)
    page.locator("#ioc[data-live='1']").wait_for(timeout=10_000)
    cases_before = int(page.locator("#ioc-map").get_attribute("data-cases") or "0")

    # a citizen's app reports through Open311
    r = httpx.post(
        server.url + "/open311/v2/requests.json",
        data={
            "api_key": api_key,
            "service_code": "M06010",
            "lat": "28.5925",
            "long": "119.2745",
            "description": "路口有一堆暴露垃圾（浏览器测试）",
        },
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text
    number = r.json()[0]["service_request_id"]
    page.locator("#ioc-feed li.case_reported", has_text=number).wait_for(timeout=10_000)
    expected = api_tiles(page)["cases_today"]["count"]
    page.locator(f"#tile-cases_today [data-value]:text-is('{expected}')").wait_for(timeout=10_000)
    page.locator(f"#ioc-map:not([data-cases='{cases_before}'])").wait_for(timeout=10_000)
    assert int(page.locator("#ioc-map").get_attribute("data-cases") or "0") == cases_before + 1

    # a sensor reports a tilted manhole cover: the rule raises an alarm
    alarms_before = int(tile(page, "alarms_active"))
    r = httpx.post(
        server.url + "/api/v1/sensing/ingest",
        json={"observations": [{"device": "manhole-02", "metric": "tilt", "time": int(time.time()), "value": 42.0}]},
        headers={"X-Device-Token": device_token},
        timeout=30,
    )
    assert r.status_code < 300 and r.json()["stored"] == 1, r.text
    page.locator("#ioc-feed li.alarm_raised").first.wait_for(timeout=10_000)
    page.locator(f"#tile-alarms_active [data-value]:not(:text-is('{alarms_before}'))").wait_for(timeout=10_000)
    assert int(tile(page, "alarms_active")) == api_tiles(page)["alarms_active"]["count"] > alarms_before
    page.locator("#ioc-map:not([data-alarmed='0'])").wait_for(timeout=10_000)
    shoot(page, "ioc-view", docs="ioc-view.png")

    # the tile lists exactly what it counts, and the list opens the case
    today = tile(page, "cases_today")
    page.click("#tile-cases_today")
    page.wait_for_load_state()
    assert page.locator("#ioc-list-total").inner_text().strip() == today
    rows = page.locator("#ioc-list tbody tr[data-id]")
    assert rows.count() == min(int(today), 50)
    page.locator("#ioc-list a", has_text=number).first.click()
    page.wait_for_load_state()
    assert re.search(r"/cases/\d+$", page.url) and number in page.content()
    assert not problems(page)


def matter_category(page: Page) -> int:
    """The id of 暴露垃圾 in the desk view's filter (the wall shows none): a 管理事项, not a component class."""
    page.goto("/ioc")
    options = page.locator("select[name=category] option").evaluate_all("os => os.map(o => [o.value, o.text])")
    return int(next(v for v, text in options if v and "暴露垃圾" in text))


def test_wall_and_phone_views(browsing: Browsing) -> None:  # noqa: F811
    page = browsing.as_user("leader", viewport=WALL)
    page.goto("/ioc/wall?period=30d")
    page.locator("#ioc[data-ready='1']").wait_for(timeout=30_000)
    page.locator("#ioc-rank-department tbody tr").first.wait_for()
    box = page.locator("#ioc-map").bounding_box()
    assert box and box["y"] + box["height"] <= WALL["height"]  # the wall view fits one screen
    shoot(page, "ioc-wall", docs="ioc-wall.png")
    # the component layer shows the scope's components; a category that is no component class has none
    for query in ("period=30d", "period=30d&category=" + str(matter_category(page))):
        page.goto("/ioc/wall?" + query)
        page.locator("#ioc[data-ready='1']").wait_for(timeout=30_000)
        page.check("#ioc-layers input[data-layer=components]")
        total = page.request.get("/api/v1/ioc/map/components?" + query).json()["total"]
        page.locator(f"#ioc-map[data-components='{total}']").wait_for(timeout=10_000)
        assert (total > 0) == (query == "period=30d")
    phone = browsing.as_user("leader", viewport=PHONE)
    phone.goto("/ioc/m")
    phone.locator("#ioc-urgent").wait_for()
    assert phone.locator(".ioc-tiles-phone .ioc-tile").count() >= 9
    shoot(phone, "ioc-phone", docs="ioc-phone.png")
    assert not problems(page) and not problems(phone)


def test_the_weekly_report_renders(browsing: Browsing, tmp_path) -> None:  # noqa: F811
    page = browsing.as_user("leader")
    page.goto("/ioc/reports")
    page.select_option("select[name=kind]", "weekly")
    page.click("#report-form button[type=submit]")
    page.wait_for_load_state()
    link = page.locator("#reports-table a", has_text="PDF").first
    href = link.get_attribute("href")
    assert href
    pdf = page.request.get(href)
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    (tmp_path / "weekly.pdf").write_bytes(pdf.body())
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "weekly.pdf"), str(tmp_path / "p")], check=True)
    from PIL import Image

    pages = sorted(tmp_path.glob("p*.png"))
    assert pages
    first = Image.open(pages[0]).convert("L")
    assert sum(1 for v in first.getdata() if v < 160) > 1000  # a page of text and tables, not blank


class _Unavailable(http.server.BaseHTTPRequestHandler):
    """What a reverse proxy answers while the application behind it restarts."""

    def do_GET(self) -> None:
        self.send_response(502)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"502 Bad Gateway")

    def log_message(self, *args: object) -> None:
        pass


def _serve(srv: Server, log_name: str) -> subprocess.Popen[bytes]:
    """uvicorn on the server's port and database again; returns once /healthz answers."""
    port = srv.url.rsplit(":", 1)[1]
    with (ARTIFACTS / log_name).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "countyos.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", port, "--log-level", "warning"],
            env=srv.env, cwd=srv.env["COUNTYOS_DATA_DIR"], stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the restarted server exited; see test-artifacts/{log_name}"
        try:
            if httpx.get(srv.url + "/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    pytest.fail("the restarted server did not answer /healthz within 60 s")


def _report_directly(srv: Server, title: str) -> str:
    """A case written to the database while no server runs (as another worker would); its number."""
    db = Database(srv.env["COUNTYOS_DATABASE_URL"])
    try:
        with db.unit_of_work() as s:
            cat = categories.get_by_service_code(s, code="M06010")
            assert cat is not None
            new = cases.NewCase(channel=Channel.STAFF, category_id=cat.id, description=title, title=title,
                                lon=119.2745, lat=28.5925)  # fmt: skip
            case, _, _ = cases.create(s, actor=SETUP, new=new)
            assert case.number
            return case.number
    finally:
        db.dispose()


def test_the_view_survives_a_server_restart(browser, tmp_path_factory) -> None:  # noqa: F811
    """The server stops (the proxy answers 502 meanwhile) and starts again: the page says it is
    reconnecting, reconnects by itself, shows what happened while it was away and then new events,
    with tiles re-read — no reload. A server of its own, so the shared one is not restarted."""
    srv, stop_first = _start_server(tmp_path_factory.mktemp("ioc-restart"))
    restarted: subprocess.Popen[bytes] | None = None
    session = Browsing(srv, browser)
    try:
        page = session.as_user("leader")
        page.goto("/ioc?period=today")
        page.locator("#ioc[data-ready='1']").wait_for(timeout=30_000)
        page.locator("#ioc[data-live='1']").wait_for(timeout=10_000)
        today = int(tile(page, "cases_today"))
        phone = session.as_user("leader", viewport=PHONE)  # the leader's phone view lives through it too
        phone.goto("/ioc/m")
        phone.locator("#ioc-live.on").wait_for(timeout=10_000)
        assert int(tile(phone, "cases_today")) == today

        stop_first()  # SIGTERM: open streams end, the server exits
        port = int(srv.url.rsplit(":", 1)[1])
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Unavailable)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            page.locator("#ioc[data-live='0']").wait_for(timeout=10_000)
            assert page.locator("#ioc-live [data-text]").inner_text().strip() == "正在重新连接…"
            phone.locator("#ioc-live:not(.on)").wait_for(timeout=10_000)
            assert phone.locator("#ioc-live [data-text]").inner_text().strip() == "正在重新连接…"
            away = _report_directly(srv, "重启期间上报的暴露垃圾（浏览器测试）")
            time.sleep(3)  # the page meets the 502 at least once: EventSource gives up on it
        finally:
            proxy.shutdown()
            proxy.server_close()
        restarted = _serve(srv, "ioc-restart-server.log")

        page.locator("#ioc[data-live='1']").wait_for(timeout=40_000)
        page.locator("#ioc-feed li.case_reported", has_text=away).wait_for(timeout=10_000)
        page.locator(f"#tile-cases_today [data-value]:text-is('{today + 1}')").wait_for(timeout=10_000)
        phone.locator("#ioc-live.on").wait_for(timeout=40_000)  # back by itself, and re-read: no reload
        phone.locator(f"#tile-cases_today [data-value]:text-is('{today + 1}')").wait_for(timeout=10_000)

        api_key, _ = keys(srv)
        r = httpx.post(
            srv.url + "/open311/v2/requests.json",
            data={"api_key": api_key, "service_code": "M06010", "lat": "28.5925", "long": "119.2745",
                  "description": "重启之后上报的暴露垃圾（浏览器测试）"},
            timeout=30,
        )  # fmt: skip
        assert r.status_code in (200, 201), r.text
        fresh = r.json()[0]["service_request_id"]
        page.locator("#ioc-feed li.case_reported", has_text=fresh).wait_for(timeout=10_000)
        page.locator(f"#tile-cases_today [data-value]:text-is('{today + 2}')").wait_for(timeout=10_000)
        assert api_tiles(page)["cases_today"]["count"] == today + 2
        phone.locator(f"#tile-cases_today [data-value]:text-is('{today + 2}')").wait_for(timeout=10_000)
        # what the deliberate outage causes: the 502s, refused or reset connections, the feed's retries
        outage = (
            "HTTP 502",
            "status of 502",
            "ERR_CONNECTION_REFUSED",
            "ERR_CONNECTION_RESET",
            "ERR_SOCKET_NOT_CONNECTED",  # a request caught as the server's socket closed
            "/api/v1/ioc/stream",
        )
        for seen in (page, phone):
            assert not [p for p in problems(seen) if not any(o in p for o in outage)]
    finally:
        session.close()
        if restarted is not None:
            restarted.terminate()
            try:
                restarted.wait(timeout=10)
            except subprocess.TimeoutExpired:
                restarted.kill()
        else:
            stop_first()
