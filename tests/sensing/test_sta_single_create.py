"""A single Observation create (``POST /Observations``, ``POST /Datastreams(id)/Observations``).

The caller (HTTP Basic or an API token) and the datastream are known from caches, the write is one
transaction of the fewest statements, and the 201 body is built from what was written. Every cache
gives way at once to the write that makes it stale: a changed password, a disabled account, a
revoked token, a deleted or patched Datastream, a deleted FeatureOfInterest.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from countyos.core.db import Database
from countyos.org.models import User
from countyos.org.service import tokens, users
from countyos.sensing.models import Thing
from countyos.web import sidewrites
from tests.conftest import IS_POSTGRES
from tests.factories import FACTORY, person, token_for
from tests.sensing.sta_world import STA, StaWorld, build

# Statements of one single create, counted by the engine (the SQLite transaction's BEGIN IMMEDIATE
# included; PostgreSQL's BEGIN and either database's COMMIT are not cursor statements): the insert
# with RETURNING, three rollup upserts, the latest value, the device's health. It was 19 (20 with
# BEGIN) before: three lookups of the caller, two each of the Datastream and the Thing's Location,
# a read of the latest value, the id, device health in three, a read-back of the created entity.
SINGLE_CREATE_STATEMENTS = 7 if not IS_POSTGRES else 6


def _basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def on(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE)\b", statement):  # the test harness's own
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", on)
    yield seen
    event.remove(Engine, "before_cursor_execute", on)


def _obs(minute: int, **extra: Any) -> dict[str, Any]:
    return {"phenomenonTime": f"2026-06-01T00:{minute:02d}:00Z", "result": 1.0 + minute / 100, **extra}


@pytest.mark.committed  # the real transactions: their BEGIN, no harness savepoints
def test_a_single_create_is_the_fewest_statements_with_either_credential(client, db: Database, statements):
    account = person(db, ["data_admin"], is_machine=True)
    basic_auth = _basic(account.username, account.password)
    bearer = {"Authorization": "Bearer " + token_for(db, account, ["sensing.write"])}
    w = build(client, basic_auth)
    for headers in (basic_auth, bearer, bearer):  # the first request of each credential fills the caches
        r = client.post(f"{STA}/Datastreams({w.level})/Observations", json=_obs(0), headers=headers)
        assert r.status_code in (201, 409)
        # the token's last use is written (once a minute) off the request: it empties the token cache
        assert sidewrites.for_app(client.app.state, client.app.state.db).drain()
    for minute, (path, body, headers) in enumerate(
        [
            (f"Datastreams({w.level})/Observations", _obs(1), basic_auth),
            ("Observations", {**_obs(2), "Datastream": {"@iot.id": w.level}}, bearer),
        ],
        start=1,
    ):
        statements.clear()
        r = client.post(f"{STA}/{path}", json=body, headers=headers)
        assert r.status_code == 201, r.text
        assert len(statements) == SINGLE_CREATE_STATEMENTS, statements
        assert not [s for s in statements if "org_" in s], "the caller came from the cache"
        assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")], "no read at all"
        got = client.get(f"{STA}/Observations({r.json()['@iot.id']})").json()
        assert r.json() == got
        assert got["phenomenonTime"] == f"2026-06-01T00:{minute:02d}:00Z"


def test_the_201_body_is_the_observation_as_read(client, db: Database):
    auth = _basic(*_machine(db))
    w = build(client, auth)
    foi = client.post(
        f"{STA}/FeaturesOfInterest",
        json={
            "name": "catchment",
            "description": "",
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [119.2, 28.6]},
        },
        headers=auth,
    ).json()["@iot.id"]
    bodies = [
        _obs(5),
        {"phenomenonTime": "2026-06-01T08:10:00+08:00", "result": 3},  # an int result is a number
        {
            "phenomenonTime": "2026-06-01T00:20:00Z/2026-06-01T00:25:00Z",
            "resultTime": "2026-06-01T00:25:01.5Z",
            "validTime": "2026-06-01T00:00:00Z/2026-06-02T00:00:00Z",
            "result": 2.5,
            "resultQuality": {"flag": "ok"},
            "parameters": {"sweeps": 3},
            "FeatureOfInterest": {"@iot.id": foi},
        },
        {"phenomenonTime": "2026-06-01T00:30:00Z", "result": "dry"},
    ]
    for body in bodies:
        r = client.post(f"{STA}/Datastreams({w.level})/Observations", json=body, headers=auth)
        assert r.status_code == 201, r.text
        oid = r.json()["@iot.id"]
        assert r.headers["location"] == f"http://testserver{STA}/Observations({oid})"
        assert r.json() == client.get(f"{STA}/Observations({oid})").json()
    assert r.json()["result"] == "dry"
    third = client.get(f"{STA}/Datastreams({w.level})/Observations?$filter=result eq 2.5").json()["value"][0]
    assert client.get(f"{STA}/Observations({third['@iot.id']})/FeatureOfInterest").json()["@iot.id"] == foi


def _machine(db: Database) -> tuple[str, str]:
    p = person(db, ["data_admin"], is_machine=True)
    return p.username, p.password


def _create(client, w: StaWorld, minute: int, headers: dict[str, str]) -> int:
    return client.post(f"{STA}/Datastreams({w.level})/Observations", json=_obs(minute), headers=headers).status_code


def test_a_changed_password_takes_effect_on_the_next_request(client, db: Database):
    username, password = _machine(db)
    w = build(client, _basic(username, password))
    assert _create(client, w, 1, _basic(username, password)) == 201
    with db.unit_of_work() as s:
        user = users.get_by_username(s, username=username)
        assert user is not None
        users.reset_password(s, actor=FACTORY, user_id=user.id, new_password="Another@pass2027")
    assert _create(client, w, 2, _basic(username, password)) == 401
    assert _create(client, w, 3, _basic(username, "Another@pass2027")) == 201


def test_a_disabled_account_or_a_lost_role_takes_effect_on_the_next_request(client, db: Database):
    username, password = _machine(db)
    auth = _basic(username, password)
    w = build(client, auth)
    assert _create(client, w, 1, auth) == 201
    with db.unit_of_work() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        users.set_roles(s, actor=FACTORY, user_id=uid, role_codes=[])
    assert _create(client, w, 2, auth) == 403
    with db.unit_of_work() as s:
        users.set_roles(s, actor=FACTORY, user_id=uid, role_codes=["data_admin"])
    assert _create(client, w, 3, auth) == 201
    with db.unit_of_work() as s:
        users.set_active(s, actor=FACTORY, user_id=uid, active=False)
    assert _create(client, w, 4, auth) == 401


def test_a_revoked_token_takes_effect_on_the_next_request(client, db: Database):
    account = person(db, ["data_admin"], is_machine=True)
    plain = token_for(db, account, ["sensing.write"])
    w = build(client, _basic(account.username, account.password))
    bearer = {"Authorization": f"Bearer {plain}"}
    assert _create(client, w, 1, bearer) == 201
    with db.unit_of_work() as s:
        (tok,) = tokens.list_tokens(s, user_id=account.id)
        tokens.revoke(s, actor=FACTORY, token_id=tok.id)
    assert _create(client, w, 2, bearer) == 401


def test_a_deleted_datastream_takes_effect_on_the_next_request(client, db: Database):
    auth = _basic(*_machine(db))
    w = build(client, auth)
    assert _create(client, w, 1, auth) == 201
    assert client.delete(f"{STA}/Datastreams({w.level})", headers=auth).status_code == 200
    r = client.post(f"{STA}/Datastreams({w.level})/Observations", json=_obs(2), headers=auth)
    assert r.status_code == 404
    r = client.post(f"{STA}/Observations", json={**_obs(3), "Datastream": {"@iot.id": w.level}}, headers=auth)
    assert r.status_code == 404


def test_a_patched_datastream_takes_effect_on_the_next_request(client, db: Database):
    """Moved to the other Thing: the next observation counts for that Thing's health."""
    auth = _basic(*_machine(db))
    w = build(client, auth)
    assert _create(client, w, 1, auth) == 201
    r = client.patch(f"{STA}/Datastreams({w.level})", json={"Thing": {"@iot.id": w.rain}}, headers=auth)
    assert r.status_code == 200
    with db.unit_of_work() as s:
        before = s.get(Thing, w.rain).last_seen_at
    assert _create(client, w, 2, auth) == 201
    with db.unit_of_work() as s:
        assert s.get(Thing, w.rain).last_seen_at > before


def test_a_deleted_feature_of_interest_takes_effect_on_the_next_request(client, db: Database):
    auth = _basic(*_machine(db))
    w = build(client, auth)
    foi = client.post(
        f"{STA}/FeaturesOfInterest",
        json={"name": "f", "description": "", "encodingType": "application/geo+json", "feature": _POINT},
        headers=auth,
    ).json()["@iot.id"]
    body = {**_obs(1), "FeatureOfInterest": {"@iot.id": foi}}
    assert client.post(f"{STA}/Datastreams({w.level})/Observations", json=body, headers=auth).status_code == 201
    assert client.delete(f"{STA}/FeaturesOfInterest({foi})", headers=auth).status_code == 200
    body = {**_obs(2), "FeatureOfInterest": {"@iot.id": foi}}
    assert client.post(f"{STA}/Datastreams({w.level})/Observations", json=body, headers=auth).status_code == 404


_POINT = {"type": "Point", "coordinates": [119.2, 28.6]}


def test_a_repeated_time_is_a_conflict_and_stores_nothing(client, db: Database):
    auth = _basic(*_machine(db))
    w = build(client, auth)
    assert _create(client, w, 1, auth) == 201
    n = client.get(f"{STA}/Datastreams({w.level})/Observations?$count=true&$top=0").json()["@iot.count"]
    assert _create(client, w, 1, auth) == 409
    assert client.get(f"{STA}/Datastreams({w.level})/Observations?$count=true&$top=0").json()["@iot.count"] == n
