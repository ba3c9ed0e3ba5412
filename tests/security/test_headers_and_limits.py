"""Security headers on every page and API answer — a CSP without inline script, frame-ancestors
'none', nosniff, HSTS when CountyOS is served over TLS — no inline script or event handler in any
page, and rate limits on public posting (Open311 and the citizen's form) as well as on login.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from countyos.app import create_app
from countyos.web.routes import api_routes
from tests.factories import login
from tests.security.world import World

# Does not depend on the database backend: one of the two runs is enough (tests/conftest.py).
pytestmark = pytest.mark.backend_neutral

PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def check_headers(r, tls: bool) -> list[str]:
    h = r.headers
    wrong = []
    csp = csp_directives(h.get("content-security-policy", ""))
    script = csp.get("script-src", csp.get("default-src", []))
    if not script or any(s in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:") for s in script):
        wrong.append(f"script-src {script}")
    if csp.get("frame-ancestors") != ["'none'"]:
        wrong.append(f"frame-ancestors {csp.get('frame-ancestors')}")
    if csp.get("object-src") != ["'none'"]:
        wrong.append("object-src")
    if h.get("x-content-type-options") != "nosniff":
        wrong.append("nosniff")
    if h.get("x-frame-options") != "DENY":
        wrong.append("x-frame-options")
    hsts = h.get("strict-transport-security", "")
    if tls and not re.search(r"max-age=(\d{7,})", hsts):
        wrong.append(f"HSTS {hsts!r}")
    if not tls and hsts:
        wrong.append("HSTS without TLS")  # it would pin a county's plain-HTTP intranet address
    return wrong


def page_urls(app, w: World) -> Iterator[str]:
    ids = {
        "case_id": w.case_works,
        "user_id": w.intake.id,
        "department_id": w.works,
        "category_id": w.cat_manhole,
        "thing_id": w.gauge,
        "code": w.grid_a,
    }
    for route in api_routes(app):
        if "GET" not in route.methods or route.path.startswith(("/static/", "/api/v1/ioc/stream")):
            continue
        names = PARAM.findall(route.path)
        if any(n not in ids for n in names):
            continue  # pages of objects this county does not have (alarms, reporters' tokens …)
        yield PARAM.sub(lambda m: str(ids[m.group(1)]), route.path)


def every_answer(app, w: World, *, tls: bool, header_people: tuple, page_people: tuple) -> tuple[int, dict, int, dict]:
    """Each page as each of HEADER_PEOPLE and PAGE_PEOPLE (``None``: the anonymous visitor), asked once
    per person: the headers of every answer of HEADER_PEOPLE (as it comes, redirects included, and of
    a few machine answers), and the HTML of every page PAGE_PEOPLE reach (redirects followed) for inline
    script. Returns the answers and pages looked at, and what was wrong in each."""
    base = "https://testserver" if tls else "http://testserver"
    wrong: dict[str, list[str]] = {}
    offending: dict[str, str] = {}
    seen = pages = 0
    people = [(who, True, False) for who in header_people]
    for who in page_people:  # one client per person, whose answers serve both checks
        found = next((i for i, (other, _h, _p) in enumerate(people) if other is who), None)
        if found is None:
            people.append((who, False, True))
        else:
            people[found] = (who, True, True)
    for who, headers, inline in people:
        with TestClient(app, base_url=base) as c:
            if who is not None:
                login(c, who)
            for url in page_urls(app, w):
                r = c.get(url, follow_redirects=False)
                if headers:
                    seen += 1
                    problems = check_headers(r, tls)
                    if problems:
                        wrong[f"{url} ({r.status_code})"] = problems
                if not inline:
                    continue
                if r.is_redirect:
                    r = c.get(r.headers["location"])  # where a browser ends up
                if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/html"):
                    continue
                pages += 1
                for attrs in SCRIPT_TAG.findall(r.text):
                    if "src=" not in attrs and "application/json" not in attrs:
                        offending[url] = f"<script{attrs}> without src"
                handler = INLINE_HANDLER.search(r.text)
                if handler:
                    offending[url] = handler.group(0)[:120]
                if re.search(r"href\s*=\s*[\"']\s*javascript:", r.text, re.IGNORECASE):
                    offending[url] = "javascript: URL"
            if headers:
                for url in ("/api/v1/nothing", "/open311/v2/services.json", "/sta/v1.1/Things", "/static/css/app.css"):
                    problems = check_headers(c.get(url), tls)
                    if problems:
                        wrong[url] = problems
    return seen, wrong, pages, offending


def test_every_answer_carries_the_security_headers_and_no_page_has_inline_script(db, settings, world: World):
    """Without TLS: the security headers on every answer, and no inline script or event handler in
    any page — a CSP without 'unsafe-inline' would block them: the page would break, so there must be
    none. One pass over the pages serves both."""
    app = create_app(settings.model_copy(update={"tls": False}), db)
    w = world
    seen, wrong, pages, offending = every_answer(
        app,
        w,
        tls=False,
        header_people=(w.ops_all, w.sysadmin, w.auditadmin, None),
        page_people=(w.ops_all, w.sysadmin, w.secadmin, w.auditadmin, w.worker_a, None),
    )
    assert seen > 100
    assert not wrong, wrong
    assert pages > 30
    assert not offending, offending


def test_every_answer_carries_the_security_headers_behind_tls(db, settings, world: World):
    # the headers come from one middleware whoever asks: behind TLS one account and the anonymous
    # visitor are enough to see the TLS-only ones (HSTS, secure cookies) on every page
    app = create_app(settings.model_copy(update={"tls": True}), db)
    seen, wrong, _pages, _offending = every_answer(
        app, world, tls=True, header_people=(world.ops_all, None), page_people=()
    )
    assert seen > 100
    assert not wrong, wrong


# --- rate limits on public posting ----------------------------------------------------------------


def test_the_citizen_form_is_rate_limited_per_address(client, world: World):
    page = client.get("/report")
    from tests.factories import csrf_from

    token = csrf_from(page.text)
    lon, lat = world.point_a
    codes = []
    for i in range(10):
        r = client.post(
            "/report",
            data={
                "csrf_token": token,
                "category_id": world.cat_manhole,
                "description": f"第{i}次",
                "lon": lon,
                "lat": lat,
            },
            follow_redirects=False,
        )
        codes.append(r.status_code)
    assert 429 in codes and codes.index(429) >= 1, codes
    assert all(c == 429 for c in codes[codes.index(429) :])


def test_open311_posting_is_rate_limited_per_address(client, db, world: World):
    from sqlalchemy import func, select

    from countyos.cases.models import Case

    with db.reading() as s:
        before = s.scalar(select(func.count()).select_from(Case))
    lon, lat = world.point_a
    codes = []
    for i in range(200):
        r = client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": world.open311_key,
                "service_code": "C01001",
                "lat": str(lat),
                "long": str(lon),
                "description": f"脚本第{i}条",
            },
        )
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    assert codes[-1] == 429, f"{len(codes)} posts from one address were all accepted"
    assert "Retry-After" in r.headers
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == before + len(codes) - 1
