"""Access control beyond the role × route matrix (tests/web/test_route_matrix.py):

* object level — a department sees and acts on its cases only unless granted county-wide reading; a
  grid worker only their grids' cases and tasks; a citizen only their own request through its token;
* the three separated administrators cannot reach each other's functions through sessions either,
  and cannot take over each other's accounts (password, second factor, disabling, tokens);
* tokens are scoped on every domain's routes; a device token is not a bearer token;
* sessions cannot be fixed before login or replayed after logout, a password reset or disabling.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from countyos.web.routes import api_routes
from tests.factories import PASSWORD, csrf_from, login, person, token_for
from tests.security.world import World, new_case
from tests.web.test_route_matrix import concrete_path, requirements_of

# --- object level: cases -------------------------------------------------------------------------


def test_a_department_sees_and_acts_on_its_own_cases_only(app, client, db, world: World):
    works = world.bearer(db, world.handler_works)
    enforcement = world.bearer(db, world.handler_enforcement)
    mine, theirs = world.case_works, world.case_enforcement
    listed = {c["id"] for c in client.get("/api/v1/cases?limit=200", headers=works).json()["items"]}
    assert mine in listed and theirs not in listed
    assert client.get(f"/api/v1/cases/{theirs}", headers=works).status_code == 404
    assert client.get(f"/api/v1/cases/{mine}", headers=works).status_code == 200
    r = client.post(f"/api/v1/cases/{theirs}/actions", json={"action": "sign"}, headers=works)
    assert r.status_code == 404, r.text  # the same answer as for a case that does not exist
    r = client.post(f"/api/v1/cases/{theirs}/actions", json={"action": "comment", "comment": "看看"}, headers=works)
    assert r.status_code == 404
    assert (
        client.post(f"/api/v1/cases/{theirs}/actions", json={"action": "sign"}, headers=enforcement).status_code == 200
    )
    # the queue counts and the map of the console count only what the department may see
    assert client.get("/api/v1/cases/queues", headers=works).json()["dispatched"] == 1
    browser = TestClient(app)
    login(browser, world.handler_works)
    assert browser.get(f"/cases/{theirs}").status_code == 404
    assert browser.get(f"/cases/{mine}").status_code == 200
    assert f'/cases/{mine}"' in browser.get("/cases/inbox").text
    assert f'/cases/{theirs}"' not in browser.get("/cases/inbox").text
    geo = browser.get("/cases/map.geojson")
    assert geo.status_code == 200 and f"/cases/{theirs}" not in geo.text


def test_county_wide_reading_is_a_grant(client, db, world: World):
    """case.read_all lets a person see every case: given by the security administrator, it works at once."""
    handler = world.handler_works
    assert client.get(f"/api/v1/cases/{world.case_enforcement}", headers=world.bearer(db, handler)).status_code == 404
    sec = world.bearer(db, world.secadmin)
    r = client.put(f"/api/v1/users/{handler.id}/roles", json={"roles": ["handler", "leader"]}, headers=sec)
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/cases/{world.case_enforcement}", headers=world.bearer(db, handler)).status_code == 200


def test_a_grid_worker_sees_only_the_cases_and_tasks_of_their_grids(app, client, db, world: World):
    a, b = world.bearer(db, world.worker_a), world.bearer(db, world.worker_b)
    assert client.get(f"/api/v1/cases/{world.case_works}", headers=a).status_code == 200  # grid_a
    assert client.get(f"/api/v1/cases/{world.case_enforcement}", headers=a).status_code == 404  # grid_b
    assert client.get(f"/api/v1/cases/{world.case_works}", headers=b).status_code == 404
    listed = {c["id"] for c in client.get("/api/v1/cases?limit=200", headers=a).json()["items"]}
    assert world.case_enforcement not in listed
    # a fresh report on grid_b waits for verification: worker_b's task, not worker_a's
    other = new_case(db, world, world.intake, world.cat_garbage, world.point_b, "路边垃圾")
    browser_a, browser_b = TestClient(app), TestClient(app)
    login(browser_a, world.worker_a)
    login(browser_b, world.worker_b)
    assert f"/cases/{other}" not in browser_a.get("/m/tasks").text
    for action in ({"action": "verify", "result": True}, {"action": "comment", "comment": "不是我的网格"}):
        assert client.post(f"/api/v1/cases/{other}/actions", json=action, headers=a).status_code == 404
    assert client.get(f"/api/v1/cases/{other}", headers=a).status_code == 404
    assert client.get(f"/api/v1/cases/{other}", headers=b).status_code == 200


def test_a_photo_uploaded_by_one_person_cannot_be_claimed_by_another(client, db, world: World):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(buf, "JPEG")
    up = client.post(
        "/api/v1/case-attachments",
        files={"file": ("a.jpg", buf.getvalue(), "image/jpeg")},
        headers=world.bearer(db, world.worker_a),
    )
    assert up.status_code == 201
    att = up.json()["id"]
    other = world.bearer(db, world.worker_b)
    assert client.get(f"/api/v1/case-attachments/{att}", headers=other).status_code == 404
    lon, lat = world.point_b
    r = client.post(
        "/api/v1/cases", json={"service_code": "C01001", "lon": lon, "lat": lat, "attachment_ids": [att]}, headers=other
    )
    assert r.status_code == 422, r.text


# --- object level: citizens ---------------------------------------------------------------------


def open311_post(client, world: World, **extra) -> tuple[str, str]:
    lon, lat = world.point_a
    r = client.post(
        "/open311/v2/requests.json",
        data={"api_key": world.open311_key, "service_code": "C01001", "lat": str(lat), "long": str(lon), **extra},
    )
    assert r.status_code == 200, r.text
    row = r.json()[0]
    return row["service_request_id"], row["service_notice"].rsplit("/", 1)[1]


def test_a_citizen_reaches_only_their_own_request_through_its_token(client, db, world: World):
    mine, my_token = open311_post(client, world, description="我的井盖", phone="13900002222", first_name="敏")
    theirs, their_token = open311_post(client, world, description="别人的井盖", phone="13900003333", email="x@y.cn")
    resolved = client.get(f"/open311/v2/tokens/{my_token}.json").json()
    assert [r["service_request_id"] for r in resolved] == [mine]
    page = client.get(f"/r/{my_token}")
    assert page.status_code == 200 and mine in page.text and theirs not in page.text
    other_last = "x" if my_token[-1] != "x" else "y"  # one character changed (a random token may end in x)
    assert client.get(f"/r/{my_token[:-1]}{other_last}").status_code == 404
    # the public listing never shows who reported or how to reach them
    listing = client.get("/open311/v2/requests.json").text
    for secret in ("13900002222", "13900003333", "x@y.cn", "敏"):
        assert secret not in listing
    # a citizen's token cannot rate someone else's request or open its photos
    with db.reading() as s:
        from sqlalchemy import select

        from countyos.cases.models import Case

        their_id = s.scalar(select(Case.id).where(Case.number == theirs))
    assert client.post(f"/r/{my_token}/rate", data={"satisfaction": "satisfied", "case_id": their_id}).status_code in (
        303,
        400,
        403,
        409,
        422,
    )
    assert client.get(f"/r/{their_token}").status_code == 200


def test_a_citizen_token_does_not_open_photos_of_other_requests(client, db, world: World):
    import io

    from PIL import Image

    from countyos.cases.service import attachments

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(buf, "JPEG")
    with db.unit_of_work() as s:
        att = attachments.store(s, actor=None, data=buf.getvalue(), name="p.jpg", public=True)
        att_id = att.id
    other = new_case(db, world, world.worker_a, world.cat_manhole, world.point_a, "带照片的案卷")
    with db.unit_of_work() as s:
        from countyos.cases.models import Attachment

        s.get(Attachment, att_id).case_id = other
    _, my_token = open311_post(client, world)
    assert client.get(f"/r/{my_token}/photo/{att_id}").status_code == 404


# --- the three administrators -------------------------------------------------------------------

ADMINS = ("sysadmin", "secadmin", "auditadmin")


def family_of_route(route) -> str | None:
    from countyos.org.service import roles

    (req,) = requirements_of(route.route)
    if req.kind != "permission":
        return None
    fam = roles.family_of(req.permission)
    return fam if fam in ("system", "security", "audit") else None


@pytest.mark.parametrize("admin", ADMINS)
def test_an_administrator_session_reaches_no_route_of_another_family(app, db, world: World, admin):
    """The matrix checks tokens; here the administrators' own browser sessions (with CSRF tokens)."""
    own = {"sysadmin": "system", "secadmin": "security", "auditadmin": "audit"}[admin]
    browser = TestClient(app)
    csrf = login(browser, getattr(world, admin))
    reached = []
    for route in api_routes(app):
        fam = family_of_route(route)
        if fam is None or fam == own:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            r = browser.request(
                method, concrete_path(route.path), headers={"X-CSRF-Token": csrf}, follow_redirects=False
            )
            if r.status_code not in (401, 403):
                reached.append(f"{method} {route.path}: {r.status_code}")
    assert not reached, reached


@pytest.mark.parametrize(
    "actor,target",
    [("sysadmin", "secadmin"), ("sysadmin", "auditadmin"), ("secadmin", "auditadmin"), ("auditadmin", "sysadmin")],
)
def test_an_administrator_cannot_take_over_another_familys_account(client, db, world: World, actor, target):
    """Resetting the password or the second factor, disabling, or minting a token for the account of
    another family's administrator would let one administrator become the other."""
    me = world.bearer(db, getattr(world, actor))
    victim = getattr(world, target)
    attempts = [
        ("POST", f"/api/v1/users/{victim.id}/password", {"password": "Takeover#2026x"}),
        ("POST", f"/api/v1/users/{victim.id}/mfa/reset", None),
        ("PATCH", f"/api/v1/users/{victim.id}", {"is_active": False}),
        ("POST", "/api/v1/tokens", {"name": "接管", "user_id": victim.id, "scopes": ["user.read"]}),
    ]
    for method, url, body in attempts:
        r = client.request(method, url, json=body, headers=me)
        assert r.status_code == 403, (method, url, r.status_code, r.text)
    # the victim still signs in with their own password and second factor
    browser = TestClient(client.app)
    login(browser, victim)


def test_a_token_never_carries_administrator_powers_its_issuer_lacks(client, db, world: World):
    admin = world.bearer(db, world.sysadmin)
    machine = person(db, [], is_machine=True)
    with db.unit_of_work() as s:
        from countyos.org.service import users

        users.set_roles(s, actor=world.actor(db, world.secadmin), user_id=machine.id, role_codes=["auditadmin"])
    r = client.post(
        "/api/v1/tokens", json={"name": "审计导出", "user_id": machine.id, "scopes": ["audit.read"]}, headers=admin
    )
    assert r.status_code == 403
    # the system administrator may still issue ordinary tokens for ordinary machine accounts
    plain = person(db, ["intake"], is_machine=True)
    r = client.post(
        "/api/v1/tokens", json={"name": "热线", "user_id": plain.id, "scopes": ["department.read"]}, headers=admin
    )
    assert r.status_code == 201, r.text


def test_a_system_administrator_still_manages_ordinary_accounts(client, db, world: World):
    admin = world.bearer(db, world.sysadmin)
    target = world.intake
    assert (
        client.post(
            f"/api/v1/users/{target.id}/password", json={"password": "Reset#2026abc"}, headers=admin
        ).status_code
        == 200
    )
    assert client.post(f"/api/v1/users/{target.id}/mfa/reset", headers=admin).status_code == 200
    assert client.patch(f"/api/v1/users/{target.id}", json={"is_active": False}, headers=admin).status_code == 200


# --- tokens are scoped --------------------------------------------------------------------------

SCOPES = ["case.read", "sensing.write", "geo.read", "ioc.view", "department.read", "case.open311"]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_scoped_token_reaches_only_routes_of_its_scope(app, client, db, world: World, scope):
    """A token of the user with every operational permission, limited to one scope, on every route."""
    headers = {"Authorization": f"Bearer {token_for(db, world.ops_all, [scope])}"}
    wrong = []
    for route in api_routes(app):
        (req,) = requirements_of(route.route)
        if req.kind != "permission":
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            r = client.request(method, concrete_path(route.path), headers=headers, follow_redirects=False)
            refused = r.status_code in (401, 403)
            if refused != (req.permission != scope) or r.status_code >= 500:
                wrong.append(f"{method} {route.path} needs {req.permission}: {r.status_code}")
    assert not wrong, wrong


def test_a_device_token_is_only_good_for_its_own_datastreams(client, db, world: World):
    from countyos.sensing.service import devices
    from countyos.sensing.service.devices import DeviceSpec, MetricSpec
    from tests.security.world import FACTORY

    with db.unit_of_work() as s:
        other = devices.register(
            s,
            actor=FACTORY,
            spec=DeviceSpec(
                device_key="sec-rg-02",
                name="另一台雨量计",
                device_class="rain_gauge",
                lon=119.2,
                lat=28.6,
                metrics=(MetricSpec("rain", "降雨量", "millimetre", "mm", valid_min=0, valid_max=500),),
            ),
        )
        (other_ds,) = devices.datastreams_of(s, thing_id=other.id)
        other_ds_id = other_ds.id
    dev = {"X-Device-Token": world.device_token}
    r = client.post(
        "/api/v1/sensing/ingest",
        json={"observations": [{"datastream": other_ds_id, "time": "2026-01-01T00:00:00Z", "value": 1}]},
        headers=dev,
    )
    assert r.status_code == 422, r.text
    assert r.json()["stored"] == 0 and [e["code"] for e in r.json()["errors"]] == ["not_yours"]
    bearer = {"Authorization": f"Bearer {world.device_token}"}
    assert client.get("/api/v1/sensing/devices", headers=bearer).status_code == 401
    assert client.get("/api/v1/cases", headers=bearer).status_code == 401
    assert client.post("/sta/v1.1/Things", json={"name": "x", "description": "x"}, headers=bearer).status_code == 401
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


# --- sessions -----------------------------------------------------------------------------------


def test_a_session_id_chosen_before_login_is_never_adopted(client, db):
    p = person(db, ["intake"])
    client.cookies.set("countyos_session", "attacker-chosen-value-0123456789", domain="testserver.local")
    login(client, p)
    assert client.cookies.get("countyos_session") != "attacker-chosen-value-0123456789"
    attacker = TestClient(client.app)
    attacker.cookies.set("countyos_session", "attacker-chosen-value-0123456789")
    assert attacker.get("/api/v1/me").status_code == 401


def test_the_session_cookie_is_httponly_samesite_and_secure_with_tls(db, settings):
    from countyos.app import create_app

    p = person(db, ["intake"])
    for tls in (False, True):
        app = create_app(settings.model_copy(update={"tls": tls}), db)
        with TestClient(app, base_url="https://testserver" if tls else "http://testserver") as c:
            page = c.get("/login")
            r = c.post(
                "/login",
                data={"username": p.username, "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": ""},
                follow_redirects=False,
            )
            cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "countyos_session=" in v)
            assert "httponly" in cookie.lower() and re.search(r"samesite=(lax|strict)", cookie.lower())
            assert ("secure" in cookie.lower()) == tls


@pytest.mark.parametrize("how", ["password reset", "disabled"])
def test_an_administrators_action_ends_the_users_sessions(app, client, db, world: World, how):
    victim = TestClient(app)
    login(victim, world.intake)
    assert victim.get("/api/v1/me").status_code == 200
    admin = world.bearer(db, world.sysadmin)
    if how == "password reset":
        r = client.post(f"/api/v1/users/{world.intake.id}/password", json={"password": "Reset#2026abc"}, headers=admin)
    else:
        r = client.patch(f"/api/v1/users/{world.intake.id}", json={"is_active": False}, headers=admin)
    assert r.status_code == 200
    assert victim.get("/api/v1/me").status_code == 401


def test_changing_ones_password_ends_the_other_sessions(app, db):
    p = person(db, ["intake"])
    here, there = TestClient(app), TestClient(app)
    csrf = login(here, p)
    login(there, p)
    r = here.post(
        "/account/password",
        data={"current": PASSWORD, "new": "Changed#2026xyz", "confirm": "Changed#2026xyz", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code in (200, 303), r.text
    assert there.get("/api/v1/me").status_code == 401
    assert here.get("/api/v1/me").status_code == 200
