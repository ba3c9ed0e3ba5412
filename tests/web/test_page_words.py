"""Every page a built-in role reaches (GET routes without path parameters, plus a case page and a
device page) reads as words in zh-CN: no object reprs, raw JSON, snake_case codes or dotted codes in
the text people see (attributes are not looked at)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cases.conftest import World, _fake_geo, world  # noqa: F401
from tests.factories import login, person
from tests.sensing.conftest import sensors  # noqa: F401
from tests.web.visible import raw_marks, visible_text

# Does not depend on the database backend: one of the two runs is enough (tests/conftest.py).
pytestmark = pytest.mark.backend_neutral

ROLES = [
    "intake",
    "shift_leader",
    "dispatcher",
    "handler",
    "inspector",
    "leader",
    "data_admin",
    "sysadmin",
    "secadmin",
    "auditadmin",
]
SKIP = ("/api/", "/sta/", "/static", "/healthz", "/metrics", "/login", "/logout", "/lang", "/open311", "/m/sw.js")


def _page_paths() -> list[str]:
    """GET routes without path parameters, from the role x route matrix the web tests keep."""
    out = []
    for line in (Path(__file__).parent / "route_requirements.txt").read_text().splitlines():
        method, path, *_ = line.split()
        if method != "GET" or "{" in path or path.startswith(SKIP):
            continue
        if path.endswith((".geojson", ".xlsx", ".csv", ".json", "/stream", "/export")):
            continue
        out.append(path)
    return sorted(set(out))


@pytest.mark.parametrize("role", ROLES)
def test_pages_of_each_role_read_as_words(client, db, world: World, sensors, role):  # noqa: F811
    from tests.cases.test_lifecycle import report

    case_id, _ = report(db, world)
    p = person(db, [role], department_id=world.centre)
    login(client, p, expect_full=role not in ("sysadmin", "secadmin", "auditadmin"))
    paths = [*_page_paths(), f"/cases/{case_id}", f"/sensing/devices/{sensors.gauge}"]
    found: list[str] = []
    seen: list[str] = []
    for path in paths:
        r = client.get(path, follow_redirects=False)
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        seen.append(path)
        found += [f"{path}: {t}" for t in raw_marks(visible_text(r.text))]
    assert len(seen) >= 3, seen
    assert found == [], "\n".join(found)
