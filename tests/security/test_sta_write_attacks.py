"""Attacks on the SensorThings write side: guessing HTTP Basic passwords, reusing an old password
from the check cache, telling user names by timing, guessing device tokens, and bodies built to
crash or exhaust the server."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson
import pytest
from sqlalchemy import select

from countyos.org.models import AuditEvent, AuditResult, Role, User
from countyos.org.service import passwords
from tests.factories import person
from tests.sensing.conftest import FACTORY, GAUGE

STA = "/sta/v1.1"
THING = {"name": "x"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@dataclass(frozen=True)
class Event:
    detail: dict
    result: AuditResult
    target_id: str | None


def events(db, action: str) -> list[Event]:
    with db.reading() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        return [Event(e.detail, e.result, e.target_id) for e in rows]


def test_basic_guesses_lock_the_machine_account_and_are_audited(client, db, settings):
    m = person(db, ["data_admin"], is_machine=True)
    for _ in range(settings.lockout_threshold):
        assert client.post(f"{STA}/Things", json=THING, headers=basic(m.username, "wrong-Pass1")).status_code == 401
    # locked now: even the right password is refused, and says nothing more than a wrong one
    r = client.post(f"{STA}/Things", json=THING, headers=basic(m.username, m.password))
    assert r.status_code == 401
    failed = events(db, "auth.basic_failed")
    assert [e.detail["reason"] for e in failed] == ["bad_password"] * (settings.lockout_threshold - 1) + [
        "bad_password_locked",
        "locked",
    ]
    assert {e.result for e in failed} == {AuditResult.FAILURE}
    assert {e.target_id for e in failed} == {str(m.id)}
    assert [e.detail["factor"] for e in events(db, "auth.lockout")] == ["basic"]
    with db.reading() as s:
        assert s.get(User, m.id).locked_until is not None


def test_a_right_password_ends_the_count_of_wrong_ones(client, db, settings):
    m = person(db, ["data_admin"], is_machine=True)
    for _ in range(settings.lockout_threshold - 1):
        client.post(f"{STA}/Things", json=THING, headers=basic(m.username, "wrong-Pass1"))
    assert client.post(f"{STA}/Things", json=THING, headers=basic(m.username, m.password)).status_code == 201
    with db.reading() as s:
        assert s.get(User, m.id).failed_logins == 0


def test_basic_guessing_is_limited_per_client_address(client, db, settings):
    """Spreading guesses over many accounts (no lockout) still meets the per-address limit."""
    limit = settings.login_rate_per_minute
    for i in range(limit):
        assert client.post(f"{STA}/Things", json=THING, headers=basic(f"ghost{i}", "x")).status_code == 401
    r = client.post(f"{STA}/Things", json=THING, headers=basic("ghost-last", "x"))
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert len(events(db, "auth.basic_failed")) == limit  # the refused flood is not written one by one
    # credentials checked before the flood still work (a device behind the same address keeps sending)


def test_unknown_and_human_accounts_cost_a_hash_like_a_machine(client, db, monkeypatch):
    human = person(db, ["data_admin"])
    calls: list[str] = []
    real = passwords.verify_password

    def counting(password_hash, password):
        calls.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    assert client.post(f"{STA}/Things", json=THING, headers=basic("nobody-here", "guess-1")).status_code == 401
    assert client.post(f"{STA}/Things", json=THING, headers=basic(human.username, "guess-2")).status_code == 401
    assert calls == ["guess-1", "guess-2"]
    assert [e.detail["reason"] for e in events(db, "auth.basic_failed")] == ["unknown_user", "not_machine"]


def _set(db, user_id: int, **values) -> None:
    with db.unit_of_work() as s:
        user = s.get(User, user_id)
        for k, v in values.items():
            setattr(user, k, v)


def test_the_check_cache_never_outlives_a_password_change_lock_disable_or_role_change(client, db):
    from datetime import timedelta

    from countyos.core.clock import utcnow

    m = person(db, ["data_admin"], is_machine=True)
    old = basic(m.username, m.password)
    assert client.post(f"{STA}/Things", json=THING, headers=old).status_code == 201  # checked and remembered
    _set(db, m.id, password_hash=passwords.hash_password("Another-Pass-9"))
    assert client.post(f"{STA}/Things", json=THING, headers=old).status_code == 401
    new = basic(m.username, "Another-Pass-9")
    assert client.post(f"{STA}/Things", json=THING, headers=new).status_code == 201
    _set(db, m.id, locked_until=utcnow() + timedelta(minutes=30))
    assert client.post(f"{STA}/Things", json=THING, headers=new).status_code == 401
    _set(db, m.id, locked_until=None, is_active=False)
    assert client.post(f"{STA}/Things", json=THING, headers=new).status_code == 401
    _set(db, m.id, is_active=True)
    assert client.post(f"{STA}/Things", json=THING, headers=new).status_code == 201
    with db.unit_of_work() as s:
        user = s.get(User, m.id)
        user.roles = [s.scalar(select(Role).where(Role.code == "dispatcher"))]
    assert client.post(f"{STA}/Things", json=THING, headers=new).status_code == 403


@pytest.fixture
def gauge(db) -> tuple[int, str]:
    """A river gauge's water-level datastream and the gauge's device token."""
    from countyos.sensing.service import devices

    with db.unit_of_work() as s:
        g = devices.register(s, actor=FACTORY, spec=GAUGE)
        level = next(d.id for d in devices.datastreams_of(s, thing_id=g.id) if d.metric == "water_level")
        _, token = devices.issue_token(s, actor=FACTORY, thing_id=g.id, name="gauge")
        return level, token


def test_wrong_device_tokens_are_audited_and_limited_per_address(client, db, settings, gauge):
    from datetime import timedelta

    from countyos.core.clock import utcnow

    when = (utcnow() - timedelta(minutes=1)).isoformat()
    body = {"observations": [{"datastream": gauge[0], "time": when, "value": 1.0}]}
    limit = settings.login_rate_per_minute
    for i in range(limit):
        r = client.post("/api/v1/sensing/ingest", json=body, headers={"X-Device-Token": f"dev_guess{i}"})
        assert r.status_code == 401
    r = client.post("/api/v1/sensing/ingest", json=body, headers={"X-Device-Token": "dev_guess-last"})
    assert r.status_code == 429
    failed = events(db, "sensing.device_token_failed")
    assert len(failed) == limit and {e.result for e in failed} == {AuditResult.FAILURE}
    assert all("dev_" not in orjson.dumps(e.detail).decode() for e in failed)  # no token text kept
    # the device's own token still works from that address
    ok = client.post("/api/v1/sensing/ingest", json=body, headers={"X-Device-Token": gauge[1]})
    assert ok.status_code == 200, ok.text


@pytest.fixture
def writer(db):
    m = person(db, ["data_admin"], is_machine=True)
    return basic(m.username, m.password)


@pytest.mark.parametrize("depth", [40, 3000], ids=["deeper-than-the-bound", "deeper-than-the-json-decoder"])
def test_deeply_nested_bodies_are_400(client, writer, depth):
    raw = ('{"name": "x", "properties": ' + '{"a":' * depth + "{}" + "}" * depth + "}").encode()
    r = client.post(f"{STA}/Things", content=raw, headers={**writer, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


def test_too_big_bodies_and_batches_are_refused(client, writer):
    big = b'{"name": "' + b"x" * 16_000_001 + b'"}'
    r = client.post(f"{STA}/Things", content=big, headers={**writer, "Content-Type": "application/json"})
    assert r.status_code == 413
    rows = [["2026-05-01T00:00:00Z", 1]] * 100_001
    body = [{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], "dataArray": rows}]
    r = client.post(f"{STA}/CreateObservations", json=body, headers=writer)
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"field": "[0].dataArray", "message": "List should have at most 100000 items after validation, not 100001"}
    ]
