"""Browser tests: a real CountyOS server (uvicorn, demo county on a fresh SQLite file) driven by
Debian's Chromium through Playwright. Never downloads a browser (`playwright install` is not used).

Screenshots go to ``test-artifacts/screenshots``. With ``COUNTYOS_UPDATE_SCREENSHOTS=1`` the few
used by the README are also written to ``docs/screenshots``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"
DOC_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("COUNTYOS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "Demo@2026county"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def countyos(self, *args: str) -> str:
        """Run the ``countyos`` command against the served database; returns its output."""
        done = subprocess.run(
            [str(Path(sys.executable).parent / "countyos"), *args],
            env=self.env,
            cwd=self.env["COUNTYOS_DATA_DIR"],
            capture_output=True,
            text=True,
            timeout=300,  # the demo county takes a minute or more on a busy machine
        )
        assert done.returncode == 0, f"countyos {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def totp(self, username: str) -> str:
        code = self.countyos("mfa", "code", username).strip()
        assert re.fullmatch(r"\d{6}", code), code
        return code


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Shared:
    """One server, one Playwright and one browser per test run, however many modules use the
    fixtures (other test folders import them from here, which registers them again; a second
    sync Playwright in the same thread would fail, and a second login would reuse a TOTP code)."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.users: dict[str, int] = {}
        self.stops: dict[str, Callable[[], None]] = {}

    @contextlib.contextmanager
    def use(self, key: str, start: Callable[[], tuple[Any, Callable[[], None]]]) -> Iterator[Any]:
        if key not in self.items:
            self.items[key], self.stops[key] = start()
        self.users[key] = self.users.get(key, 0) + 1
        try:
            yield self.items[key]
        finally:
            self.users[key] -= 1
            if self.users[key] == 0:
                self.items.pop(key)
                self.stops.pop(key)()


_SHARED = _Shared()


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTYOS_")}
    env.update(
        COUNTYOS_ENV="dev",
        COUNTYOS_DATABASE_URL=f"sqlite:///{data_dir / 'countyos.db'}",
        COUNTYOS_DATA_DIR=str(data_dir),
        COUNTYOS_SECRET_KEY="browser-test-secret-key-0123456789abcdef",
        COUNTYOS_COUNTY_NAME="遂昌县",
        PYTHONUNBUFFERED="1",
    )
    return env


_DEMO_BUILT: list[Path] = []  # the data folder `countyos demo` built first in this run


def _demo_county(tmp: Path) -> None:
    """The demo county in TMP: built by `countyos demo --no-serve` once per run, then copied (a
    server of its own, such as the restart test's, starts from the same county without a rebuild)."""
    if not _DEMO_BUILT:
        built = tmp.parent / "demo-county"
        built.mkdir()
        Server("", _server_env(built)).countyos("demo", "--no-serve", "--path", str(built / "countyos.db"))
        _DEMO_BUILT.append(built)
    source = _DEMO_BUILT[0]
    with sqlite3.connect(source / "countyos.db") as con:  # a consistent copy, WAL included
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(source, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*-wal", "*-shm"))


def _start_server(tmp: Path) -> tuple[Server, Callable[[], None]]:
    """The demo county in a fresh SQLite file of its own, then uvicorn serving it on a free port."""
    env = _server_env(tmp)
    port = _free_port()
    srv = Server(f"http://127.0.0.1:{port}", env)
    _demo_county(tmp)
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "browser-server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "countyos.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    srv.process = process

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

    deadline = time.monotonic() + 60
    while True:
        problem = None
        if process.poll() is not None:
            problem = f"the server exited with {process.returncode}; see test-artifacts/browser-server.log"
        elif time.monotonic() > deadline:
            problem = "the server did not answer /healthz within 60 s"
        if problem:
            stop()
            pytest.fail(problem)
        try:
            if httpx.get(srv.url + "/healthz", timeout=2).status_code == 200:
                return srv, stop
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def _start_browser() -> tuple[Browser, Callable[[], None]]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does), never `playwright install`"
        )
    playwright = sync_playwright().start()
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

    def stop() -> None:
        b.close()
        playwright.stop()

    return b, stop


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _SHARED.use("server", lambda: _start_server(tmp_path_factory.mktemp("browser-server"))) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with _SHARED.use("browser", _start_browser) as b:
        yield b


@dataclass
class Problems:
    """What went wrong in the browser while a page was open: script errors, failed requests."""

    items: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.items.append(f"script error on {page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.items.append(f"console {msg.type} on {page.url}: {msg.text}") if msg.type == "error" else None
            ),
        )
        page.on(
            "requestfailed",
            lambda req: (
                None
                if req.failure == "net::ERR_ABORTED"  # cancelled by the browser itself (the page moved on)
                else self.items.append(f"request failed: {req.url} ({req.failure})")
            ),
        )
        page.on(
            "response",
            lambda r: self.items.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None,
        )

    def take(self) -> list[str]:
        out, self.items = self.items, []
        return out


@dataclass
class Browsing:
    """Opens pages as a demo account (logged in once per test session) at a given viewport."""

    server: Server
    browser: Browser
    states: dict[str, Any] = field(default_factory=dict)
    contexts: list[BrowserContext] = field(default_factory=list)

    def new_page(self, *, viewport: dict[str, int] = DESKTOP, state: Any = None, locale: str = "zh-CN") -> Page:
        ctx = self.browser.new_context(
            viewport=viewport,
            base_url=self.server.url,
            locale=locale,
            storage_state=state,
            is_mobile=viewport["width"] < 600,
            has_touch=viewport["width"] < 600,
        )
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.problems = Problems()  # type: ignore[attr-defined]
        page.problems.watch(page)  # type: ignore[attr-defined]
        return page

    def as_user(self, username: str, *, viewport: dict[str, int] = DESKTOP) -> Page:
        """A page logged in as USERNAME; the login (with its TOTP step) happens once per session."""
        if username not in self.states:
            page = self.new_page()
            log_in(page, self.server, username)
            self.states[username] = page.context.storage_state()
            page.context.close()
        return self.new_page(viewport=viewport, state=self.states[username])

    def close(self) -> None:
        for ctx in self.contexts:
            with contextlib.suppress(Exception):  # already closed by the test
                ctx.close()
        self.contexts.clear()


def log_in(page: Page, server: Server, username: str, password: str = DEMO_PASSWORD) -> None:
    """Through the real pages: user name and password, then the TOTP code if the account has one."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    if page.url.endswith("/login/mfa"):
        page.fill("#code", server.totp(username))
        page.click("form[action='/login/mfa'] button[type=submit]")
        page.wait_for_load_state()
    assert page.url == server.url + "/", f"{username} did not reach the home page: {page.url}"


@pytest.fixture(scope="session")
def browsing_session(server: Server, browser: Browser) -> Iterator[Browsing]:
    with _SHARED.use("browsing", lambda: (Browsing(server, browser), lambda: None)) as b:
        yield b


@pytest.fixture
def browsing(browsing_session: Browsing) -> Iterator[Browsing]:
    yield browsing_session
    browsing_session.close()


def shoot(page: Page, name: str, *, docs: str | None = None, docs_around: str | None = None) -> Path:
    """Full-page screenshot into test-artifacts; with COUNTYOS_UPDATE_SCREENSHOTS=1 also the
    visible part (or the part around the element DOCS_AROUND) into docs/screenshots/DOCS."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    if docs and os.environ.get("COUNTYOS_UPDATE_SCREENSHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        clip = None
        if docs_around:
            box = page.locator(docs_around).bounding_box()
            pad = 32
            clip = {"x": max(box["x"] - pad, 0), "y": max(box["y"] - pad, 0),
                    "width": box["width"] + 2 * pad, "height": box["height"] + 2 * pad}  # fmt: skip
        page.screenshot(path=str(DOC_SHOTS / docs), animations="disabled", clip=clip)
    return path
