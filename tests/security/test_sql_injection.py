"""SQL injection through every query and path parameter of every GET route (JSON API, SensorThings,
Open311 and pages): never a server error, never a database error in the answer, no table dropped or
row changed, and a tautology never matches more than a plain non-matching value does.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.dependencies.utils import request_params_to_args
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams

from countyos.web.routes import api_routes
from tests.factories import login
from tests.security.world import row_counts
from tests.web.test_route_matrix import requirements_of

PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; DROP TABLE org_user; --",
    "'; DELETE FROM cases_case; --",
    "1' UNION SELECT username, password_hash FROM org_user --",
    "%' OR '%'='",
    "1)) OR ((1=1",
]
TAUTOLOGY = "zz-no-such' OR '1'='1"
NEUTRAL = "zz-no-such"
LEAKS = re.compile(
    r"sqlite3|psycopg|OperationalError|ProgrammingError|syntax error at or near|SQLSTATE|Traceback|sqlalchemy",
    re.IGNORECASE,
)
PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
SKIP = ("/static/", "/api/v1/ioc/stream", "/logout")
STA = [
    ("$filter", "name eq 'x' or '1' eq '1'"),
    ("$filter", "name eq 'x'') or 1=1 --"),
    ("$filter", "substringof('%', name)"),
    ("$orderby", "name; DROP TABLE sensing_thing"),
    ("$orderby", "(SELECT 1)"),
    ("$select", "name,(select password_hash from org_user)"),
    ("$expand", "Datastreams($filter=1 eq 1 or 'a' eq 'a')"),
    ("$top", "1; DROP TABLE org_user"),
    ("$skip", "-1"),
]


def query_params(route) -> dict[str, Any]:
    """The query parameters of a route, its dependencies' included, by name."""
    found: dict[str, Any] = {}

    def walk(dependant) -> None:
        for p in dependant.query_params:
            found.setdefault(p.alias or p.name, p)
        for d in dependant.dependencies:
            walk(d)

    walk(route.dependant)
    return dict(sorted(found.items()))


def refused_by_fastapi(field, value: str) -> bool:
    """Whether FastAPI refuses VALUE for this query parameter by the parameter's own validation (type,
    pattern, bounds) — a 422 before the route runs — exactly as it reads a request's query string."""
    _values, errors = request_params_to_args([field], QueryParams({field.alias: value}))
    return bool(errors)


def total_of(r) -> int | None:
    """How many things a list answer holds (API page, plain list, GeoJSON, SensorThings, HTML rows)."""
    if r.status_code != 200:
        return None
    ctype = r.headers.get("content-type", "")
    if "json" in ctype:
        body: Any = r.json()
        if isinstance(body, list):
            return len(body)
        if isinstance(body, dict):
            for key in ("total", "numberMatched", "@iot.count"):
                if isinstance(body.get(key), int):
                    return body[key]
            for key in ("items", "features", "value"):
                if isinstance(body.get(key), list):
                    return len(body[key])
        return None
    if "html" in ctype:
        return r.text.count("<tr")
    return None


def test_injection_through_every_parameter(app, client, db, world):
    ops = world.bearer(db, world.ops_all)
    admin = world.bearer(db, world.sysadmin)
    auditor = world.bearer(db, world.auditadmin)
    browsers = []
    for p in (world.ops_all, world.sysadmin, world.auditadmin):
        c = TestClient(app, base_url="http://testserver")
        login(c, p)
        browsers.append(c)

    def may(permissions: set[str]):
        def holder(route) -> bool:
            (req,) = requirements_of(route.route)
            return req.kind != "permission" or req.permission in permissions

        return holder

    with db.reading() as s:
        from countyos.org.service import users

        holders = [
            may(users.get(s, user_id=p.id).permission_codes) for p in (world.ops_all, world.sysadmin, world.auditadmin)
        ]
    real = {
        "fmt": "json",
        "case_id": str(world.case_works),
        "department_id": str(world.works),
        "user_id": str(world.intake.id),
        "category_id": str(world.cat_manhole),
        "thing_id": str(world.gauge),
        "datastream_id": str(world.level),
        "code": world.grid_a,
        "collection_id": "grids",
        "path": "Things",
    }
    before = row_counts(db)
    problems: list[str] = []
    tried = 0

    def check(c: TestClient, url: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        nonlocal tried
        tried += 1
        r = c.get(url, params=params, headers=headers, follow_redirects=False)
        if r.status_code >= 500:
            problems.append(f"{r.status_code} GET {url} {params}")
        elif LEAKS.search(r.text):
            problems.append(f"database error text in GET {url} {params}: {LEAKS.search(r.text).group(0)}")
        return r

    for route in api_routes(app):
        if "GET" not in route.methods or route.path.startswith(SKIP) or route.path.endswith(".js"):
            continue
        machine = route.path.startswith(("/api/", "/sta/", "/open311/", "/metrics", "/healthz"))
        # the one caller allowed in (ops, system administrator, auditor), by token or by session
        who = next((i for i, holder in enumerate(holders) if holder(route)), 0)
        callers = [(client, (ops, admin, auditor)[who])] if machine else [(browsers[who], {})]
        path_names = PARAM.findall(route.path)
        base_url = PARAM.sub(lambda m: real.get(m.group(1), "1"), route.path)
        names = query_params(route.route)
        for c, h in callers:
            for name, field in names.items():
                values = [NEUTRAL, TAUTOLOGY, *PAYLOADS]
                refused = [v for v in values if refused_by_fastapi(field, v)]
                # What the parameter's validation refuses never reaches the route: one of those values
                # is sent (a clean 422), the others only if the server did not refuse it after all.
                if refused and check(c, base_url, {name: refused[0]}, h).status_code == 422:
                    values = [v for v in values if v not in refused]
                answers = {v: check(c, base_url, {name: v}, h) for v in values}
                n0 = total_of(answers[NEUTRAL]) if NEUTRAL in answers else None
                n1 = total_of(answers[TAUTOLOGY]) if TAUTOLOGY in answers else None
                if n0 is not None and n1 is not None and n1 > n0:
                    problems.append(f"tautology matched more in GET {base_url} ?{name}: {n1} > {n0}")
            for name in path_names:
                if name == "fmt":
                    continue
                for payload in PAYLOADS:
                    url = PARAM.sub(
                        lambda m, n=name, p=payload: p if m.group(1) == n else real.get(m.group(1), "1"), route.path
                    )
                    check(c, url.replace("#", "%23").replace("?", "%3F"), {}, h)
    for name, value in STA:
        for entity in ("Things", "Datastreams", "Observations"):
            r = check(client, f"/sta/v1.1/{entity}", {name: value}, {})
            if r.status_code not in (200, 400):
                problems.append(f"{r.status_code} for SensorThings {entity} {name}={value}")
    for c in browsers:
        c.close()
    assert tried > 500
    assert not problems, "\n".join(problems)
    after = row_counts(db)
    assert {t: n for t, n in after.items() if t not in ("org_session",)} == {
        t: n for t, n in before.items() if t not in ("org_session",)
    }, "a GET changed the data"
