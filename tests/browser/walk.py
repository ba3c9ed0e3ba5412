"""The page walk: every page every built-in role can reach, in zh-CN and in English, read as a person
sees it — and, on the same visits, the rendering of the pages in the navigation of a few roles.

The pages come from the application's own GET routes (path parameters filled from the demo county:
one case, one device, one alarm, one user, one department …) plus every same-site link found on
the pages walked, so a new screen is walked as soon as it has a route. On each page the text a person
sees is read in the browser — the ``innerText`` of visible elements, and the ``placeholder``,
``title``, ``aria-label``, option labels and button values of visible controls — and the walk notes
page and text for any of: a message id left in English in the Chinese interface, an enum value, a
snake_case or dotted code, raw JSON, an object repr, ``None``/``null``/``undefined``, an ISO/UTC
timestamp, or a translated Chinese message in the English interface (``test_page_walk.py`` asserts
on them).

The accounts in ``RENDERED`` also have every page of their navigation (and a few forms and details)
checked for rendering at 1366×768 and 390×844 (``test_pages_render.py`` asserts on them): the
desktop check is made on the walk's own visit of the page in Chinese, so no page is opened twice at
the same size; a page the walk did not read as that account is opened for the check alone. The walk
runs once per test session (:func:`walk_every_page`), whichever of the two modules asks first.
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import pkgutil
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import countyos
from countyos import domains
from countyos.app import create_app
from countyos.core.i18n import LOCALE_DIR
from countyos.core.settings import Settings
from countyos.org.demo import PEOPLE
from countyos.web.routes import api_routes
from tests.browser.conftest import DESKTOP, PHONE, Browsing, Server, shoot
from tests.web.test_route_matrix import requirements_of
from tests.web.visible import DOTTED_CODE, JSON_LIKE, REPR, SNAKE

LANGUAGES = ("zh_CN", "en")
# Not pages: machine interfaces, files, the login steps and the shell's own endpoints.
SKIP_PREFIXES = ("/api/", "/sta/", "/static", "/open311", "/login", "/logout", "/lang", "/healthz", "/metrics")
SKIP_SUFFIXES = (".geojson", ".xlsx", ".csv", ".json", ".jsonld", ".ttl", ".js", ".pdf", "/stream", "/export")
SAMPLES_PER_ROUTE = 1  # instances of one route pattern a role walks (one case page, one device page)
# The Chinese interface is walked by every role (what each role sees differs: queues, actions,
# menus); the English one reads each route once, by the first role that reaches it, plus every
# role's home page. The catalogue check (tests/web/test_catalogue.py) covers every message id.
SHARED_ACROSS_ROLES = ("en",)
# A page every account is let into alike (public, or only signed in: the portal, the guide, the
# account's own pages) is read in Chinese by this many roles, not by all; the home page by every role.
SAME_FOR_ALL_READERS = 2

# One demo record per path parameter, by name. A parameter not listed here is filled from the
# links on the walked pages (a route nobody links to and nobody can fill fails the coverage check).
PARAMETERS = {
    "case_id": "SELECT id FROM case_case ORDER BY lon IS NULL, id LIMIT 1",
    "thing_id": "SELECT id FROM sensing_thing ORDER BY id LIMIT 1",
    "alarm_id": "SELECT id FROM sensing_alarm ORDER BY id LIMIT 1",
    "user_id": "SELECT id FROM org_user ORDER BY id LIMIT 1",
    "department_id": "SELECT id FROM org_department ORDER BY id LIMIT 1",
    "category_id": "SELECT id FROM case_category WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1",
    "rule_id": "SELECT id FROM sensing_rule ORDER BY id LIMIT 1",
    "token": "SELECT public_token FROM case_reporter ORDER BY id LIMIT 1",
    "warning_id": "SELECT id FROM services_supervision_warning ORDER BY id LIMIT 1",
    "rating_id": "SELECT rating_id FROM services_rectification ORDER BY id LIMIT 1",  # a 差评 with its steps
    "application_id": "SELECT application_id FROM services_certificate ORDER BY id LIMIT 1",  # granted
    "certificate_token": "SELECT token FROM services_certificate ORDER BY id LIMIT 1",
    "resource_id": "SELECT resource_id FROM data_connector ORDER BY id LIMIT 1",  # published, with runs
    "request_id": "SELECT id FROM data_share_request WHERE state = 'pending' ORDER BY id LIMIT 1",
    "matter_id": "SELECT m.id FROM services_matter m JOIN services_matter_version v ON v.id = m.current_version_id "
    "WHERE m.status = 'published' AND v.online ORDER BY m.id LIMIT 1",  # a resident can apply online
    "name": "SELECT name FROM data_resource WHERE state = 'published' AND open_type = 'unconditional' "
    "AND current_load_id IS NOT NULL ORDER BY id LIMIT 1",
    # 智慧生态
    "station_id": "SELECT id FROM eco_air_station ORDER BY id LIMIT 1",
    "section_id": "SELECT section_id FROM eco_water_sample WHERE source = 'auto' ORDER BY id LIMIT 1",
    "area_id": "SELECT area_id FROM eco_river_problem ORDER BY id LIMIT 1",
    "chief_id": "SELECT chief_id FROM eco_river_patrol WHERE state = 'finished' ORDER BY id LIMIT 1",
    "patrol_id": "SELECT patrol_id FROM eco_river_problem ORDER BY id LIMIT 1",  # with a problem and a track
    "run_id": "SELECT id FROM eco_gep_run ORDER BY id LIMIT 1",
    "input_id": "SELECT id FROM eco_gep_input ORDER BY id LIMIT 1",
    # 数字乡村
    "entity_id": "SELECT entity_id FROM village_entity_member ORDER BY id LIMIT 1",  # the farmer's family farm
    "base_id": "SELECT base_id FROM village_base_device ORDER BY id LIMIT 1",  # a greenhouse with sensors
    "record_id": "SELECT id FROM village_record WHERE kind = 'pesticide' ORDER BY id LIMIT 1",
    "batch_id": "SELECT batch_id FROM village_certificate WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1",  # repacked
    "certificate_id": "SELECT id FROM village_certificate WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1",
    "order_id": "SELECT order_id FROM village_delivery ORDER BY id LIMIT 1",  # with a delivery
    "spot_id": "SELECT id FROM village_spot ORDER BY id LIMIT 1",
    "code": "SELECT b.trace_code FROM village_batch b JOIN village_certificate c ON c.batch_id = b.id "
    "ORDER BY c.id LIMIT 1",  # a batch's public trace page
    # 应急、安全和交通
    "plan_id": "SELECT id FROM safety_plan WHERE code = 'SC-FX'",  # two versions, one in force
    "event_id": "SELECT id FROM safety_event ORDER BY id LIMIT 1",  # the past flood event with its review
    "place_id": "SELECT place_id FROM safety_hazard ORDER BY id LIMIT 1",  # a key place with a hidden danger
    "inspection_id": "SELECT inspection_id FROM safety_hazard ORDER BY id LIMIT 1",
    "hazard_id": "SELECT id FROM safety_hazard WHERE state <> 'closed' ORDER BY id LIMIT 1",
    "camera_id": "SELECT camera_id FROM safety_camera_event WHERE outcome = 'case' ORDER BY id DESC LIMIT 1",
    "incident_id": "SELECT id FROM safety_road_incident WHERE state = 'published' ORDER BY id LIMIT 1",
    "lot_id": "SELECT id FROM safety_parking_lot WHERE datastream_id IS NOT NULL ORDER BY id LIMIT 1",
    "road_id": "SELECT id FROM safety_road ORDER BY id LIMIT 1",
    # 长效运营
    "phase_id": "SELECT id FROM programme_phase ORDER BY number LIMIT 1",
    "org_id": "SELECT party_id FROM programme_contract ORDER BY id LIMIT 1",  # the operating company
    "project_id": "SELECT id FROM programme_project ORDER BY id LIMIT 1",
    "contract_id": "SELECT contract_id FROM programme_assessment ORDER BY id LIMIT 1",  # in force, assessed
    "assessment_id": "SELECT assessment_id FROM programme_amendment ORDER BY id LIMIT 1",  # locked, amended
    "key_id": "SELECT id FROM programme_partner_key ORDER BY id LIMIT 1",  # a key of kfz's partner
    "service_id": "SELECT id FROM programme_partner_service WHERE state = 'rejected' ORDER BY id LIMIT 1",
    "module": "SELECT 'cases'",
}
AWAITING_CORRECTIONS = "SELECT id FROM services_application WHERE state = 'correction_requested' ORDER BY id LIMIT 1"
# Routes whose parameter must be a particular record (the applicant's own pages show only theirs), or whose
# parameter's name means another record elsewhere.
ROUTE_PARAMETERS = {
    "/services/my/{application_id}": {
        "application_id": "SELECT id FROM services_application WHERE applicant_user_id IS NOT NULL ORDER BY id LIMIT 1"
    },
    # an application waiting for corrections: its 一次性告知 and 补正 pages exist
    "/services/applications/{application_id}/notice": {"application_id": AWAITING_CORRECTIONS},
    "/services/desk/corrections/{application_id}": {"application_id": AWAITING_CORRECTIONS},
    # where the 受理台 sends the clerk back with the application made from a window appointment
    # the county's own list of inputs, not the GEP inputs; a holiday of the tourism data
    "/village/inputs/{input_id:int}": {"input_id": "SELECT id FROM village_input ORDER BY id LIMIT 1"},
    "/village/tourism/holidays/{code}": {"code": "SELECT '2026-national-day'"},
    "/programme/modules/{code}": {"code": "SELECT 'eco'"},  # a module, not a trace code
    "/programme/partners/{org_id}": {"org_id": "SELECT org_id FROM programme_partner_member ORDER BY id LIMIT 1"},
    # the safety domain's names that other domains use for other records
    "/safety/plans/{plan_id}/versions/{number}": {"number": "SELECT 1"},
    "/safety/reports/{report_id:int}": {"report_id": "SELECT id FROM safety_event_report ORDER BY id LIMIT 1"},
    "/safety/resources/{kind}": {"kind": "SELECT 'warehouse'"},
    "/safety/resources/{kind}/{record_id}": {
        "kind": "SELECT 'warehouse'",
        "record_id": "SELECT id FROM safety_res_warehouse ORDER BY id LIMIT 1",
    },
    "/portal/bookings/manage/booking/{token}/application": {
        "token": "SELECT b.token FROM portal_booking b JOIN portal_bookable k ON k.id = b.bookable_id "
        "WHERE k.kind = 'window' ORDER BY b.id LIMIT 1"
    },
}
# The query string such a page is opened with (the desk adds it).
ROUTE_QUERIES = {
    "/portal/bookings/manage/booking/{token}/application": "SELECT 'application=' || id FROM services_application "
    "ORDER BY id LIMIT 1",
}

# Text a person sees on purpose that looks like a code: keep this short and say why.
ALLOWED = {
    "CountyOS",  # the product's name
    "SensorThings",  # the OGC standard's name, shown with its link
}

HAN = re.compile(r"[\u4e00-\u9fff]")
ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]00:?00)\b")
NOTHING = re.compile(r"\b(?:None|null|undefined|NaN|Invalid Date|\[object Object\])\b")
# Two English words in a row in the Chinese interface: a message left untranslated. Acronyms and
# standard names (upper-case or with digits) are not words here.
ENGLISH = re.compile(r"\b[A-Za-z][a-z]{2,}\s+[a-z]{2,}\b")
LOWER_WORDS = re.compile(r"[a-z]{3,}(?: [a-z]+)*")  # "user", "case": a code or an id, not a name

# What a person sees: visible text of each element (split into lines and cells), and the words a
# browser shows from attributes of visible elements.
SEEN_JS = r"""() => {
  const out = [];
  const visible = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) &&
                          !el.closest('.code-ref');
  const root = document.body;
  const text = root.innerText || '';
  const hidden = [...root.querySelectorAll('.code-ref')].map(e => e.innerText);
  let rest = text;
  for (const h of hidden) if (h) rest = rest.split(h).join('\n');
  for (const line of rest.split(/[\n\t]+/)) if (line.trim()) out.push(line.trim());
  const words = '[placeholder], [title], [aria-label], option, optgroup, input[type=submit], input[type=button]';
  for (const el of root.querySelectorAll(words)) {
    const host = el.tagName === 'OPTION' || el.tagName === 'OPTGROUP' ? el.closest('select') : el;
    if (!host || !visible(host)) continue;
    for (const a of ['placeholder', 'title', 'aria-label']) {
      const v = el.getAttribute(a); if (v && v.trim()) out.push(v.trim());
    }
    if (el.tagName === 'OPTION') out.push((el.label || el.text || '').trim());
    if (el.tagName === 'OPTGROUP' && el.label) out.push(el.label.trim());
    if (el.tagName === 'INPUT' && el.value) out.push(el.value.trim());
  }
  return out.filter(Boolean);
}"""

# Scripts fill parts of some pages after the load (htmx fragments, live values, map data): the
# walk reads a page once none of its requests is open and none began or ended for QUIET_S (a live
# stream never ends, so it does not hold the walk), or after SETTLE_CAP_S.
QUIET_S = 0.05
SETTLE_CAP_S = 1.5


class Traffic:
    """A page's requests as the browser reports them: which are open, and when the last began or ended."""

    def __init__(self, page: Page) -> None:
        self.open: set[Any] = set()
        self.last = time.monotonic()
        page.on("request", self._began)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _began(self, request: Any) -> None:
        if request.resource_type != "eventsource" and not urlsplit(request.url).path.endswith("/stream"):
            self.open.add(request)
        self.last = time.monotonic()

    def _ended(self, request: Any) -> None:
        self.open.discard(request)
        self.last = time.monotonic()

    def settle(self, page: Page) -> None:
        cap = time.monotonic() + SETTLE_CAP_S
        while time.monotonic() < cap and (self.open or time.monotonic() - self.last < QUIET_S):
            page.wait_for_timeout(10)  # the browser's events arrive while Playwright waits


LINKS_JS = """() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
  .filter(h => h.startsWith('/') && !h.startsWith('//'))"""


@dataclass(frozen=True)
class Pattern:
    """One GET route, as a regular expression over concrete paths."""

    path: str
    regex: re.Pattern[str]
    params: tuple[str, ...]
    same_for_all: bool = False  # public, or only signed in: no permission decides who sees it


@dataclass
class Walk:
    seen: dict[str, set[str]] = field(default_factory=dict)  # route pattern -> "role/lang" that saw it
    findings: list[str] = field(default_factory=list)
    pages: int = 0
    read_in: dict[str, dict[str, int]] = field(default_factory=dict)  # lang -> route -> pages read (shared)
    render_paths: dict[str, list[str]] = field(default_factory=dict)  # account -> its pages checked for rendering
    rendered: dict[str, list[str]] = field(default_factory=dict)  # account -> rendering problems found
    # account -> paths that are no page it may see (refused, sent elsewhere, a file), in any language
    not_pages: dict[str, set[str]] = field(default_factory=dict)


def _pattern(path: str, *, same_for_all: bool = False) -> Pattern:
    params = tuple(re.findall(r"\{([a-z_]+)(?::[a-z]+)?\}", path))
    regex = ""
    for part in re.split(r"(\{[a-z_]+(?::[a-z]+)?\})", path):
        if part.startswith("{"):
            regex += r"(\d+)" if part.endswith(":int}") else r"([^/]+)"
        else:
            regex += re.escape(part)
    return Pattern(path, re.compile(regex + "$"), params, same_for_all)


def page_routes(server: Server) -> list[Pattern]:
    """The application's GET routes that can be pages, from the app itself."""
    app = create_app(Settings(env="dev", database_url=server.env["COUNTYOS_DATABASE_URL"], run_jobs=False))
    out = []
    for r in api_routes(app):
        if "GET" not in r.methods or r.path.startswith(SKIP_PREFIXES) or r.path.endswith(SKIP_SUFFIXES):
            continue
        if ".{" in r.path:
            continue  # a file in a chosen format (/ioc/list.{fmt})
        if "JSONResponse" in str(getattr(r.route.endpoint, "__annotations__", {}).get("return", "")):
            continue  # data for a page's script (e.g. the intake desk's place search), not a page
        kinds = {req.kind for req in requirements_of(r.route)}
        out.append(_pattern(r.path, same_for_all=bool(kinds) and kinds <= {"public", "authenticated"}))
    assert len(out) > 20, [p.path for p in out]
    return out


def _fill(pattern: Pattern, db_path: str) -> str | None:
    path = pattern.path
    con = sqlite3.connect(db_path)
    try:
        for name in pattern.params:
            sql = ROUTE_PARAMETERS.get(pattern.path, {}).get(name) or PARAMETERS.get(name)
            if sql is None:
                return None
            row = con.execute(sql).fetchone()
            if row is None:
                return None
            path = re.sub(r"\{" + name + r"(?::[a-z]+)?\}", str(row[0]), path)
        if pattern.path in ROUTE_QUERIES:
            row = con.execute(ROUTE_QUERIES[pattern.path]).fetchone()
            if row is None:
                return None
            path += "?" + str(row[0])
    finally:
        con.close()
    return path


@cache
def _catalogue() -> tuple[frozenset[str], frozenset[str]]:
    """English message ids (two words or more) and their Chinese translations (two characters or more)."""
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    ids, chinese = set(), set()
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or not isinstance(m.string, str):
            continue
        if "%" not in m.id and m.string and m.string != m.id:
            ids.add(m.id)
        if m.string and "%" not in m.string and len(HAN.findall(m.string)) >= 2 and m.string != m.id:
            chinese.add(m.string)
    return frozenset(ids), frozenset(chinese)


@cache
def _enum_values() -> frozenset[str]:
    """Every StrEnum value of the product's models: codes people should never read."""
    values: set[str] = set()
    for mod in pkgutil.walk_packages(countyos.__path__, "countyos."):
        if not mod.name.endswith(("models", "lifecycle", "schemas")):
            continue
        with contextlib.suppress(Exception):
            module = importlib.import_module(mod.name)
            for obj in vars(module).values():
                if isinstance(obj, type) and issubclass(obj, enum.StrEnum) and obj is not enum.StrEnum:
                    values.update(str(v.value) for v in obj if re.fullmatch(r"[a-z][a-z0-9_.]*", str(v.value)))
    # device classes are codes too (rows of the device catalogue, not an enum)
    from countyos.sensing.service.labels import DEVICE_CLASS_LABELS
    from countyos.sensing.signals import KINDS

    return frozenset(values | set(DEVICE_CLASS_LABELS) | set(KINDS))


def raw_codes(texts: list[str], lang: str, *, names: frozenset[str] = frozenset()) -> list[str]:
    """The texts a person should never read in the interface language LANG, with the reason.
    NAMES: names of records (categories, departments, places, devices, people), which are data and
    read the same in both languages."""
    ids, chinese = _catalogue()
    enums = _enum_values()
    found = []
    for t in dict.fromkeys(texts):
        if t in ALLOWED or t in names:
            continue
        why = None
        if REPR.search(t):
            why = "object repr"
        elif JSON_LIKE.search(t) or (re.fullmatch(r"\{.*\}|\[.*\]", t) and '":' in t):
            why = "raw JSON"
        elif ISO_TIME.search(t):
            why = "ISO/UTC timestamp"
        elif NOTHING.search(t) and not (lang == "en" and t in ids):
            why = "empty value shown as a word"
        elif t in enums:
            why = "enum value or code"
        elif SNAKE.search(t):
            why = "snake_case code"
        elif DOTTED_CODE.fullmatch(t):
            why = "dotted code"
        elif lang == "zh_CN" and (t in ids or ENGLISH.search(t) or LOWER_WORDS.fullmatch(t)):
            why = "English in the Chinese interface"
        elif lang == "en" and t in chinese:
            why = "Chinese message in the English interface"
        if why:
            found.append(f"{why}: {t!r}")
    return found


NAMES_SQL = (
    "SELECT name FROM case_category",
    "SELECT name FROM org_department",
    "SELECT name FROM geo_division",
    "SELECT name FROM sensing_thing",
    "SELECT display_name FROM org_user",
    "SELECT name FROM org_role",
    "SELECT name FROM sensing_observed_property",  # SensorThings entities, named by the operator
    "SELECT name FROM services_matter_version",  # the service catalogue: matters, steps, materials
    "SELECT name FROM services_matter_step",
    "SELECT name FROM services_matter_material",
    "SELECT issuer FROM services_matter_material",  # 出具机构 as the catalogue states it (e.g. 申请人)
    "SELECT body_name FROM services_matter_version",
    "SELECT theme FROM services_matter_version",
    "SELECT promised_limit_note FROM services_matter_version",  # the department's own words (当场办结)
    "SELECT opinion FROM services_application_step",  # what approval officers wrote (e.g. 准予)
    "SELECT note FROM services_application_event",
    # what a tester wrote for each item of a 快检 (e.g. 合格), as the report says it
    "SELECT json_extract(j.value, '$.result') FROM village_batch_test t, json_each(t.items) j",
    "SELECT json_extract(j.value, '$.item') FROM village_batch_test t, json_each(t.items) j",
    # the programme's records, named by the county (a project may be called 一网通办 or 数字乡村)
    "SELECT name FROM programme_project",
    "SELECT name FROM programme_org",
    "SELECT title FROM programme_contract",
    "SELECT name FROM programme_phase",
    # an information report's text, line by line: written in the county's language for the authority it goes to
    "WITH RECURSIVE split(line, rest) AS (SELECT '', body || char(10) FROM safety_event_report UNION ALL "
    "SELECT substr(rest, 1, instr(rest, char(10)) - 1), substr(rest, instr(rest, char(10)) + 1) FROM split "
    "WHERE rest <> '') SELECT trim(line) FROM split WHERE trim(line) <> ''",
)


def _record_names(db_path: str) -> frozenset[str]:
    """Names of the demo county's records: data, the same in both interface languages."""
    con = sqlite3.connect(db_path)
    try:
        return frozenset(str(n) for sql in NAMES_SQL for (n,) in con.execute(sql) if n)
    finally:
        con.close()


def _accounts() -> dict[str, str]:
    """The demo account of each built-in role."""
    first: dict[str, str] = {}
    for username, _name, roles, _dep in PEOPLE:
        for role in roles:
            first.setdefault(role, username)
    return first


def _walk_one(
    browsing: Browsing,
    username: str,
    lang: str,
    routes: list[Pattern],
    walk: Walk,
    *,
    names: frozenset[str],
    filled: list[str],
) -> None:
    """USERNAME's pages in LANG, from the home page and the routes FILLED from the demo county."""
    page = browsing.as_user(username)
    page.traffic = Traffic(page)  # type: ignore[attr-defined]
    _switch_language(page, lang)
    todo: list[str] = ["/", *filled]
    render: list[str] = []
    if lang == "zh_CN" and username in RENDERED:
        render = [*_nav_links(page), *RENDERED[username]]
        walk.render_paths[username] = render
    try:
        desktop_done = _walk_pages(
            page, todo, routes, names=names, lang=lang, who=f"{username}/{lang}", walk=walk, render=frozenset(render)
        )
    finally:
        if lang != "zh_CN":
            _switch_language(page, "zh_CN")  # the account's language as the demo county has it
        page.context.close()
    if render:
        _render_the_rest(browsing, username, render, desktop_done, walk)


def _walk_pages(
    page: Page,
    todo: list[str],
    routes: list[Pattern],
    *,
    names: frozenset[str],
    lang: str,
    who: str,
    walk: Walk,
    render: frozenset[str] = frozenset(),
) -> set[str]:
    """Breadth first from the pages in `todo`: each page read, its links queued, at most SAMPLES_PER_ROUTE per route.
    A page in RENDER is also checked for rendering (desktop) while it is open; returns those checked."""
    done: set[str] = set()
    rendered: set[str] = set()
    user = who.split("/")[0]
    not_pages = walk.not_pages.setdefault(user, set())
    per_route: dict[str, int] = walk.read_in.setdefault(lang, {}) if lang in SHARED_ACROSS_ROLES else {}
    alike: dict[str, int] = walk.read_in.setdefault(f"{lang}:alike", {})  # routes read alike, by any role
    while todo:
        path = todo.pop(0)
        if path in done:
            continue
        done.add(path)
        route = next((p for p in routes if p.regex.match(urlsplit(path).path)), None)
        if route is None or (path != "/" and per_route.get(route.path, 0) >= SAMPLES_PER_ROUTE):
            continue
        if path != "/" and route.same_for_all and alike.get(route.path, 0) >= SAME_FOR_ALL_READERS * SAMPLES_PER_ROUTE:
            continue
        if path in not_pages:
            continue  # the account was refused it in the other language: permissions do not depend on it
        texts, links = _read(page, path)
        if texts is None:
            not_pages.add(path)
            continue
        per_route[route.path] = per_route.get(route.path, 0) + 1
        if route.same_for_all:
            alike[route.path] = alike.get(route.path, 0) + 1
        walk.seen.setdefault(route.path, set()).add(who)
        walk.pages += 1
        walk.findings += [f"{who} {path}: {f}" for f in raw_codes(texts, lang, names=names)]
        if path in render:
            earlier = page.seen_problems  # type: ignore[attr-defined]
            walk.rendered.setdefault(user, []).extend(
                _render_problems(page, user, path, "desktop", status=200, earlier=earlier)
            )
            rendered.add(path)
        for href in links:
            clean = href.split("#")[0]
            if clean and clean not in done and not urlsplit(clean).path.startswith(SKIP_PREFIXES):
                todo.append(clean)
    return rendered


def _switch_language(page: Page, lang: str) -> None:
    """As a person does: the language buttons in the page header (remembered on the account)."""
    page.goto("/")
    if page.locator("html").get_attribute("lang") != lang.replace("_", "-"):
        page.click(f"button[name=locale][value={lang}]")
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang.replace("_", "-")


def _read(page: Page, path: str) -> tuple[list[str] | None, list[str]]:
    """Open PATH; the text a person sees and the links, or None when it is not an HTML page the
    account may see."""
    # Asked first without the browser drawing it: most routes a role tries are not its own (403 or
    # a redirect to its home), and navigating to those would cost most of the walk's time.
    asked = page.request.get(path, max_redirects=0, max_retries=2)  # a kept-alive connection the server just closed
    if asked.status != 200 or "text/html" not in asked.headers.get("content-type", ""):
        return None, []
    try:
        response = page.goto(path, wait_until="load")
    except PlaywrightError as exc:  # a file download, not a page
        if "Download is starting" in str(exc):
            return None, []
        raise
    if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
        return None, []
    if urlsplit(page.url).path != urlsplit(path).path:
        return None, []  # sent elsewhere (the login, or a page of its own kind)
    page.traffic.settle(page)  # type: ignore[attr-defined]
    page.seen_problems = page.problems.take()  # type: ignore[attr-defined]  # the render checks look at those
    return page.evaluate(SEEN_JS), page.evaluate(LINKS_JS)


# Pages the walk cannot open as a signed-in person: the service worker script and the photo files;
# the portal's files (its web-app manifest, a facility's map picture, a notice's attachments).
NOT_WALKED = (
    "/m/sw.js",
    "/r/{token}/photo/",
    "/account/mfa",
    "/portal/manifest.webmanifest",
    "/portal/facilities/{token}/map.png",
    "/portal/notices/{token}/files/",
    "/portal/publish/{notice_id:int}/files/",
    "/village/records/{record_id:int}/photo",  # a record's photo file
    "/village/batches/{batch_id}/qr.png",  # the QR code picture on the batch page
    "/safety/cameras/events/{event_id:int}/snapshot",  # a camera's snapshot picture
    "/safety/feedback/{feedback_id:int}/photos/",  # a task's feedback photo
    "/safety/plans/files/{attachment_id}",  # a plan's file (PDF, DOCX)
)


# The accounts whose pages are checked for rendering: every page in their navigation, plus these
# pages outside it (forms and details).
RENDERED = {
    "sysadmin": ["/account", "/admin/users/new", "/admin/departments/new", "/admin/users/1"],
    "secadmin": ["/account"],
    "auditor": [],
    "dispatch": ["/account", "/account/tokens"],
}
# (user, path, viewport name) -> file in docs/screenshots
DOC_SHOTS = {
    ("sysadmin", "/", "desktop"): "home.png",
    ("sysadmin", "/admin/departments", "desktop"): "departments.png",
    ("auditor", "/admin/audit", "desktop"): "audit-log.png",
    ("sysadmin", "/admin/users", "phone"): "users-phone.png",
}

OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > doc.clientWidth + 1 && !el.closest('.table-wrap'))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                            (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''));
  return {scroll: doc.scrollWidth, client: doc.clientWidth, wide};
}"""

MAPS_READY_JS = "() => [...document.querySelectorAll('.maplibregl-map')].every(m => m.dataset.ready === '1')"
FONT_JS = """() => document.fonts.check('14px "Noto Sans CJK SC"', '县城运行')"""


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()).strip("-") or "home"


def _nav_links(page: Page) -> list[str]:
    """The home page and the pages of the account's navigation."""
    page.goto("/")
    hrefs = page.eval_on_selector_all("nav.sidenav a[href^='/']", "els => els.map(e => e.getAttribute('href'))")
    return ["/", *dict.fromkeys(h for h in hrefs if h != "/")]


def _render_problems(
    page: Page, user: str, path: str, viewport_name: str, *, status: int | None, earlier: Sequence[str] = ()
) -> list[str]:
    """What is wrong with the page open at PATH (answered with STATUS): a non-200 answer, the login
    page, no heading, not in Chinese, no CJK font, wider than the phone screen, script errors and
    failed requests (EARLIER: those already taken off the page). Takes its screenshot."""
    page.evaluate("document.fonts.ready.then(() => true)")
    if page.locator(".maplibregl-map").count():
        # Maps draw after the page loaded; they set data-ready="1" once idle (the maps' own tests
        # check the drawing, this only avoids screenshots of an empty map).
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(MAPS_READY_JS, timeout=10_000)
    where = f"{user} {path} ({viewport_name})"
    problems: list[str] = []
    if status != 200:
        problems.append(f"{where}: HTTP {status if status is not None else 'no response'}")
    if page.url.split("?")[0].endswith("/login"):
        problems.append(f"{where}: sent back to the login page")
    if page.locator("main h1").count() == 0:
        problems.append(f"{where}: no page heading")
    if page.locator("html").get_attribute("lang") != "zh-CN":
        problems.append(f"{where}: not in Chinese")
    if not page.evaluate(FONT_JS):
        problems.append(f"{where}: no CJK font (install fonts-noto-cjk)")
    if viewport_name == "phone":
        box = page.evaluate(OVERFLOW_JS)
        if box["scroll"] > box["client"] + 1:
            problems.append(f"{where}: page is {box['scroll']} px wide on a {box['client']} px screen: {box['wide']}")
    shoot(page, f"{user}-{_slug(path)}-{viewport_name}", docs=DOC_SHOTS.get((user, path, viewport_name)))
    problems += [f"{where}: {p}" for p in [*earlier, *page.problems.take()]]  # type: ignore[attr-defined]
    return problems


def _open_and_check(page: Page, user: str, path: str, viewport_name: str) -> list[str]:
    page.problems.take()  # type: ignore[attr-defined]  # the page before's
    response = page.goto(path)
    return _render_problems(page, user, path, viewport_name, status=response.status if response else None)


def _render_the_rest(browsing: Browsing, user: str, paths: list[str], desktop_done: set[str], walk: Walk) -> None:
    """The rendering checks the walk's visits did not make: each page on a phone, and on the desktop
    each page the walk did not read as USER (one page of each size, reused from page to page)."""
    found = walk.rendered.setdefault(user, [])
    for viewport_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        todo = [p for p in paths if viewport_name == "phone" or p not in desktop_done]
        if not todo:
            continue
        page = browsing.as_user(user, viewport=viewport)
        try:
            for path in todo:
                found += _open_and_check(page, user, path, viewport_name)
        finally:
            page.context.close()


_WALKED: dict[str, tuple[Walk, list[Pattern]]] = {}  # server URL -> the walk of its pages


def walk_every_page(browsing: Browsing, server: Server) -> tuple[Walk, list[Pattern]]:
    """Every role's pages in both languages, walked once per server (both test modules use it)."""
    if server.url in _WALKED:
        return _WALKED[server.url]
    routes = page_routes(server)
    walk = Walk()
    accounts = _accounts()
    started = time.monotonic()
    # the demo county's names and records, read once: GET pages do not change them
    db_path = server.env["COUNTYOS_DATABASE_URL"].removeprefix("sqlite:///")
    names = _record_names(db_path)
    filled = [path for path in (_fill(p, db_path) for p in routes) if path]
    for role in domains.all_roles():
        assert role.code in accounts, f"the demo county has no account with the built-in role {role.code}"
        for lang in LANGUAGES:
            _walk_one(browsing, accounts[role.code], lang, routes, walk, names=names, filled=filled)
    missing = sorted(set(RENDERED) - set(walk.render_paths))
    assert missing == [], f"accounts checked for rendering that are no role's demo account: {missing}"
    # its time is reported with the slowest tests (a test asserts no timing: machines differ)
    print(f"the page walk read {walk.pages} pages in {time.monotonic() - started:.0f} s")
    _WALKED[server.url] = (walk, routes)
    return walk, routes
