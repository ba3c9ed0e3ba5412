"""Every route declares what it requires, and every role gets exactly what its permissions allow.

A new route without a requirement fails here; so does a route whose requirement is not enforced.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from countyos import domains
from countyos.web.deps import Requirement
from countyos.web.routes import RouteInfo
from countyos.web.routes import api_routes as all_routes
from tests.factories import person, token_for

# Does not depend on the database backend: one of the two runs is enough (tests/conftest.py).
pytestmark = pytest.mark.backend_neutral


def requirements_of(route: APIRoute) -> list[Requirement]:
    found: list[Requirement] = []

    def walk(dependant) -> None:
        for d in dependant.dependencies:
            if isinstance(d.call, Requirement):
                found.append(d.call)
            walk(d)

    walk(route.dependant)
    return found


def concrete_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)


def api_routes(app) -> list[RouteInfo]:
    routes = all_routes(app)
    assert len(routes) > 20, "the route walk found too few routes"
    return routes


def test_every_route_declares_exactly_one_requirement(app):
    missing = [f"{sorted(r.methods)} {r.path}" for r in api_routes(app) if len(requirements_of(r.route)) != 1]
    assert not missing, f"routes without exactly one requirement: {missing}"


ROLES = [r.code for r in domains.all_roles()] + [None]
# (method, path) already answered to a role that may call it: a route lets a permission through the
# same way whichever role holds it, so the next such role only needs the refusals checked (which
# cost nothing) — the matrix stays whole at a fraction of the requests.
LET_THROUGH: set[tuple[str, str]] = set()


@pytest.mark.parametrize("role", ROLES)
def test_role_route_matrix(app, client, db, role):
    p = person(db, [role] if role else [])
    perms = sorted(set(domains.all_grants().get(role, []))) if role else []
    headers = {}
    if perms:
        headers = {"Authorization": f"Bearer {token_for(db, p, perms)}"}
    failures = []
    for route in api_routes(app):
        (req,) = requirements_of(route.route)
        if req.kind in ("public", "stage"):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if not perms:
                r = client.request(method, concrete_path(route.path), follow_redirects=False)
                expect_denied = True
                denied = r.status_code in (401, 403) or (r.status_code == 303 and "/login" in r.headers["location"])
            else:
                # account pages are for the person's browser session, never for a token
                expect_denied = (req.kind == "permission" and not set(req.codes) & set(perms)) or route.path.startswith(
                    "/account"
                )
                if not expect_denied and (method, route.path) in LET_THROUGH:
                    continue
                r = client.request(method, concrete_path(route.path), headers=headers, follow_redirects=False)
                denied = r.status_code in (401, 403)
                if not denied and not expect_denied:
                    LET_THROUGH.add((method, route.path))
            if r.status_code >= 500:
                failures.append(f"{method} {route.path}: server error {r.status_code}")
            elif denied != expect_denied:
                failures.append(f"{method} {route.path} needs {req.permission}: got {r.status_code}")
    assert not failures, f"role {role}:\n" + "\n".join(failures)


def test_anonymous_gets_problem_json_on_api_and_login_redirect_on_pages(client, db):
    r = client.get("/api/v1/users")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_authenticated"
    r = client.get("/admin/users", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


SNAPSHOT = __import__("pathlib").Path(__file__).with_name("route_requirements.txt")


def route_table(app) -> list[str]:
    rows = []
    for route in api_routes(app):
        (req,) = requirements_of(route.route)
        need = req.permission if req.kind == "permission" else req.kind
        if req.kind == "stage":
            need = "stage:" + ",".join(sorted(str(s) for s in req.stages))
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            rows.append(f"{method} {route.path} {need}")
    return sorted(rows)


def test_route_requirements_match_the_reviewed_table(app):
    """The committed table is the reviewed access policy: a new route, or a route whose requirement
    changes, must be added to tests/web/route_requirements.txt deliberately (regenerate with
    COUNTYOS_WRITE_ROUTE_TABLE=1 and review the diff)."""
    import os

    actual = route_table(app)
    if os.environ.get("COUNTYOS_WRITE_ROUTE_TABLE") == "1":
        SNAPSHOT.write_text("\n".join(actual) + "\n", encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8").split("\n")
    expected = [line for line in expected if line.strip()]
    added = sorted(set(actual) - set(expected))
    removed = sorted(set(expected) - set(actual))
    assert not added and not removed, f"not in the reviewed table: {added}\nno longer present: {removed}"
