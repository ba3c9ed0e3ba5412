"""The request's caller is found without the writer lock, and refusals reach the audit log.

- A writer holding the SQLite write lock (``BEGIN IMMEDIATE`` on another connection, of another process
  or of this one) or, on PostgreSQL, the rows a request might write (audit head, session, token) does
  not hold up authenticated reads, by bearer token or by cookie; the last visit is written once the
  lock is free, and idle expiry counts the visit meanwhile.
- A refused request whose audit record waits for that lock does not hold up other requests: the event
  loop serves them meanwhile.
- Failed bearer tokens, CSRF rejections, out-of-scope token reads and a service's own refusals are
  audited with path, method and address, never the token; a flood of them is coalesced per address
  and minute, and capped over all addresses.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import event, make_url, select, text, update

from countyos.app import create_app
from countyos.core import migrate
from countyos.core.clock import utcnow
from countyos.core.crypto import token_hash
from countyos.core.db import _WRITER_QUEUES, Database
from countyos.core.errors import PermissionDenied
from countyos.core.settings import get_settings
from countyos.org.models import ApiToken, AuditEvent, AuditResult, UserSession
from countyos.org.service import tokens
from countyos.web import refusals, sidewrites
from countyos.web.deps import SESSION_COOKIE, public
from tests.conftest import IS_POSTGRES, bootstrap
from tests.factories import FACTORY, login, person, token_for

GUARD_S = 10.0  # only a failure guard: a prompt answer takes milliseconds; the locks here last longer
HOLDERS = ["row_locks"] if IS_POSTGRES else ["other_process", "this_process"]


# -- a database of this module's own: these tests need commits that other connections see ---------


@pytest.fixture(scope="module")
def own_db(new_module_database: Callable[[], str]) -> Iterator[Database]:
    url = new_module_database()
    migrate.upgrade(url)
    db = Database(url)
    _watch_writes(db)
    bootstrap(db)
    yield db
    db.dispose()


@pytest.fixture
def own_client(own_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(get_settings(), own_db), base_url="http://testserver") as c:
        yield c


@contextmanager
def writes_blocked(db: Database, holder: str, *, session_ids: list[int], token_ids: list[int]) -> Iterator[None]:
    """Another connection holds what a request's write would need until the block ends: the SQLite write
    lock (``BEGIN IMMEDIATE`` from another process's connection or through this process's writer queue)
    or, on PostgreSQL, the audit chain head and the rows of these sessions and tokens."""
    ready, release = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    def hold() -> None:
        try:
            if holder == "other_process":
                raw = sqlite3.connect(make_url(db.url).database, isolation_level=None)
                raw.execute("BEGIN IMMEDIATE")
                ready.set()
                release.wait(60)
                raw.execute("ROLLBACK")
                raw.close()
                return
            with db.unit_of_work() as s:
                if holder == "this_process":
                    s.execute(text("SELECT 1"))  # BEGIN IMMEDIATE, through the writer queue
                else:
                    s.execute(text("SELECT id FROM org_audit_head FOR UPDATE"))
                    for sid in session_ids:
                        s.execute(select(UserSession.id).where(UserSession.id == sid).with_for_update())
                    for tid in token_ids:
                        s.execute(select(ApiToken.id).where(ApiToken.id == tid).with_for_update())
                ready.set()
                release.wait(60)
                s.rollback()
        except BaseException as exc:  # reported by the test, not lost in the thread
            failed.append(exc)
            ready.set()

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    assert ready.wait(GUARD_S) and not failed, failed
    try:
        yield
    finally:
        release.set()
        t.join(GUARD_S)


def answered(fn: Callable[[], Any]) -> Any:
    """``fn()`` run in another thread; its answer, or a failure if it does not come within the guard."""
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(fn)
        try:
            return fut.result(timeout=GUARD_S)
        except TimeoutError:
            pytest.fail(f"no answer within {GUARD_S} s: the request waited for the writer")


@contextmanager
def detached(db: Database) -> Iterator[Any]:
    """A read session whose objects stay readable after it closes (closing expunges, never expires)."""
    s = db.session()
    try:
        yield s
    finally:
        s.close()


def audit_rows(db: Database, action: str) -> list[AuditEvent]:
    with detached(db) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def session_row(db: Database, user_id: int) -> UserSession:
    with detached(db) as s:
        us = s.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id.desc())
        ).first()
        assert us is not None
        return us


def token_row(db: Database, plain: str) -> ApiToken:
    with detached(db) as s:
        tok = s.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(plain))).one()
        return tok


# -- (a) reads while a writer holds the lock ------------------------------------------------------


@pytest.mark.parametrize("holder", HOLDERS)
def test_authenticated_reads_answer_while_a_writer_holds_the_lock(own_db, own_client, holder):
    p = person(own_db, ["dispatcher"], is_machine=False)
    bot = person(own_db, ["dispatcher"], is_machine=True)
    plain = token_for(own_db, bot, ["department.read"])
    login(own_client, p)
    us = session_row(own_db, p.id)
    tok = token_row(own_db, plain)
    assert tok.last_used_at is None
    with own_db.unit_of_work() as s:  # the last visit is due to be written again
        s.execute(
            update(UserSession).where(UserSession.id == us.id).values(last_seen_at=utcnow() - timedelta(minutes=2))
        )
    before = utcnow()

    with writes_blocked(own_db, holder, session_ids=[us.id], token_ids=[tok.id]):
        by_bearer = answered(lambda: own_client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}))
        by_cookie = answered(lambda: own_client.get("/api/v1/me"))
        assert by_bearer.status_code == 200, by_bearer.text
        assert (by_bearer.json()["username"], by_bearer.json()["permissions"]) == (bot.username, ["department.read"])
        assert by_cookie.status_code == 200, by_cookie.text
        assert by_cookie.json()["username"] == p.username
        side = sidewrites.for_app(own_client.app.state, own_db)
        seen = side.last_seen(us.id)
        assert seen is not None and seen >= before  # counted for idle expiry before its row says so
        assert session_row(own_db, p.id).last_seen_at < before  # the row waits for the lock

    assert side.drain(GUARD_S)
    assert session_row(own_db, p.id).last_seen_at == seen
    assert token_row(own_db, plain).last_used_at >= before


@pytest.mark.parametrize("holder", HOLDERS)
def test_a_visit_waiting_to_be_written_keeps_the_session_alive(own_db, own_client, holder):
    p = person(own_db, ["intake"])
    start = utcnow()
    with time_machine.travel(start, tick=False):
        login(own_client, p)
    us = session_row(own_db, p.id)
    with writes_blocked(own_db, holder, session_ids=[us.id], token_ids=[]):
        with time_machine.travel(start + timedelta(minutes=29), tick=False):
            assert answered(lambda: own_client.get("/api/v1/me")).status_code == 200
        assert session_row(own_db, p.id).last_seen_at == us.last_seen_at  # not written: the lock is held
        with time_machine.travel(start + timedelta(minutes=29 + 29), tick=False):
            assert answered(lambda: own_client.get("/api/v1/me")).status_code == 200  # 29 idle minutes
        with time_machine.travel(start + timedelta(minutes=29 + 29 + 31), tick=False):
            assert answered(lambda: own_client.get("/api/v1/me")).status_code == 401  # 31 idle minutes


def test_the_last_visit_is_written_once_a_minute_not_on_every_request(own_db, own_client):
    p = person(own_db, ["intake"])
    login(own_client, p)
    side = sidewrites.for_app(own_client.app.state, own_db)
    assert side.drain(GUARD_S)
    written = side.transactions
    for _ in range(5):
        assert own_client.get("/api/v1/me").status_code == 200
    assert side.drain(GUARD_S)
    assert side.transactions == written


# -- (b) a refusal under a held lock does not stop the event loop ---------------------------------


_WRITE_WAITING: list[threading.Event] = []  # set when a write asks for the lock (the lock is held by then)


def _a_write_waits(*_: Any) -> None:
    for waiting in list(_WRITE_WAITING):
        waiting.set()


def _on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    if statement.startswith("BEGIN IMMEDIATE") or "FOR UPDATE" in statement:
        _a_write_waits()


def _watch_writes(db: Database) -> None:
    """Before any other thread uses the engine (adding a listener while one runs its events is not safe):
    note every write that asks for the lock, whether SQLite's (``BEGIN IMMEDIATE``, or this process's
    writer queue before it) or PostgreSQL's row locks (``FOR UPDATE``)."""
    event.listen(db.engine, "before_cursor_execute", _on_execute)
    queue = _WRITER_QUEUES.get(db.url)
    if queue is not None:
        acquire = queue.acquire

        def noted(timeout: float) -> bool:
            _a_write_waits()
            return acquire(timeout)

        queue.acquire = noted  # type: ignore[method-assign]


@contextmanager
def write_waiting() -> Iterator[threading.Event]:
    waiting = threading.Event()
    _WRITE_WAITING.append(waiting)
    try:
        yield waiting
    finally:
        _WRITE_WAITING.remove(waiting)


@pytest.mark.parametrize("holder", HOLDERS)
def test_a_refusal_waiting_for_the_lock_does_not_hold_up_other_requests(own_db, own_client, holder, monkeypatch):
    monkeypatch.setattr(refusals, "WAIT_S", 60.0)  # the refused request waits for its record: all along the lock
    bot = person(own_db, ["dispatcher"], is_machine=True)
    narrow = token_for(own_db, bot, ["department.read"])  # does not cover /api/v1/cases
    other = token_for(own_db, bot, ["department.read"])
    for plain in (narrow, other):  # used already: nothing else of these requests wants a write
        assert own_client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    side = sidewrites.for_app(own_client.app.state, own_db)
    assert side.drain(GUARD_S)
    denied_before = len(audit_rows(own_db, "access.denied"))

    narrow_id = token_row(own_db, narrow).id
    with ThreadPoolExecutor(2) as pool:
        with writes_blocked(own_db, holder, session_ids=[], token_ids=[narrow_id]), write_waiting() as waiting:
            refused: Future[Any] = pool.submit(
                own_client.get, "/api/v1/cases", headers={"Authorization": f"Bearer {narrow}"}
            )
            assert waiting.wait(GUARD_S)  # the refusal's audit record waits for the lock
            served = answered(lambda: own_client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}))
            assert served.status_code == 200 and served.json()["username"] == bot.username
            assert not refused.done()  # still waiting for its record, and the loop served the other
        r = refused.result(timeout=GUARD_S)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    rows = audit_rows(own_db, "access.denied")
    assert len(rows) == denied_before + 1
    assert (rows[-1].actor_id, rows[-1].result, rows[-1].ip) == (bot.id, AuditResult.DENIED, "testclient")
    assert rows[-1].detail == {
        "path": "/api/v1/cases",
        "method": "GET",
        "permission": "case.read",
        "via_token": True,
        "out_of_scope": True,
    }


# -- refusals in the audit log (item 11) -----------------------------------------------------------


def drained(app: Any) -> None:
    assert sidewrites.for_app(app.state, app.state.db).drain(GUARD_S)


def test_failed_bearer_tokens_are_audited_without_the_token(client, db, app):
    bot = person(db, ["dispatcher"], is_machine=True)
    revoked = token_for(db, bot, ["department.read"])
    tid = token_row(db, revoked).id
    with db.unit_of_work() as s:
        tokens.revoke(s, actor=FACTORY, token_id=tid)
    secret = "cos_abcdefgh_" + "s3cr3t" * 6
    attempts = [(secret, "unknown", None), ("not-a-token", "malformed", None), (revoked, "revoked", tid)]
    for i, (plain, _, _) in enumerate(attempts):
        c = TestClient(app, client=(f"10.0.0.{i + 1}", 5000))  # one address each: none is coalesced
        r = c.get("/api/v1/departments", headers={"Authorization": f"Bearer {plain}"})
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    drained(app)
    rows = audit_rows(db, "auth.token_failed")
    assert [(e.ip, e.result, e.actor_id, e.actor_name) for e in rows] == [
        (f"10.0.0.{i + 1}", AuditResult.FAILURE, None, "anonymous") for i in range(3)
    ]
    assert [(e.detail, e.target_type, e.target_id) for e in rows] == [
        ({"path": "/api/v1/departments", "method": "GET", "reason": reason}, "api_token" if t else None, t and str(t))
        for _, reason, t in attempts
    ]
    with db.reading() as s:
        everything = json.dumps([[e.actor_name, e.detail, e.target_id] for e in s.scalars(select(AuditEvent))])
    assert "s3cr3t" not in everything and revoked not in everything


def test_csrf_rejections_are_audited(client, db):
    p = person(db, ["sysadmin"])
    login(client, p)
    r = client.post("/api/v1/departments", json={"name": "县教育局", "kind": "department"})
    assert r.status_code == 403
    client.cookies.delete(SESSION_COOKIE)
    client.get("/login")
    r = client.post("/login", data={"username": p.username, "password": p.password, "csrf_token": "forged"})
    assert r.status_code == 403
    drained(client.app)
    rows = audit_rows(db, "auth.csrf_rejected")
    assert [(e.actor_id, e.result, e.ip, e.detail) for e in rows] == [
        (p.id, AuditResult.DENIED, "testclient", {"path": "/api/v1/departments", "method": "POST"}),
        (None, AuditResult.DENIED, "testclient", {"path": "/login", "method": "POST"}),
    ]


def test_out_of_scope_token_reads_and_service_refusals_are_audited(client, db, app):
    bot = person(db, ["dispatcher"], is_machine=True)
    narrow = token_for(db, bot, ["department.read"])

    def refuse_inside(_: Any = Depends(public)) -> None:
        raise PermissionDenied("Only permitted roles may see unmasked phone numbers")

    app.add_api_route("/api/v1/test-refuse-inside", refuse_inside)
    h = {"Authorization": f"Bearer {narrow}"}
    assert client.get("/api/v1/cases", headers=h).status_code == 403
    elsewhere = TestClient(app, client=("10.0.0.9", 5000))  # the same caller from there: not coalesced
    assert elsewhere.get("/api/v1/test-refuse-inside", headers=h).status_code == 403
    drained(app)
    rows = audit_rows(db, "access.denied")
    assert [(e.actor_id, e.ip, e.result, e.detail) for e in rows] == [
        (
            bot.id,
            "testclient",
            AuditResult.DENIED,
            {
                "path": "/api/v1/cases",
                "method": "GET",
                "permission": "case.read",
                "via_token": True,
                "out_of_scope": True,
            },
        ),
        (
            bot.id,
            "10.0.0.9",
            AuditResult.DENIED,
            {
                "path": "/api/v1/test-refuse-inside",
                "method": "GET",
                "reason": "Only permitted roles may see unmasked phone numbers",
            },
        ),
    ]


def test_a_flood_of_refusals_is_coalesced_per_address_and_minute(client, db, app):
    now = [1000.0]
    log, _ = refusals.for_app(app.state, db)
    log.clock = lambda: now[0]
    headers = {"Authorization": "Bearer cos_zzzzzzzz_guess"}
    for i in range(40):
        assert client.get(f"/api/v1/departments/{i}", headers=headers).status_code == 401
    drained(app)
    rows = audit_rows(db, "auth.token_failed")
    assert [e.detail for e in rows] == [{"path": "/api/v1/departments/0", "method": "GET", "reason": "unknown"}]

    now[0] += 61  # the minute is over: one record counts the rest
    drained(app)
    rows = audit_rows(db, "auth.token_failed")
    assert len(rows) == 2
    summary = rows[1].detail
    assert (rows[1].ip, summary["repeated"], summary["paths"]) == (
        "testclient",
        39,
        [f"/api/v1/departments/{i}" for i in range(1, 1 + refusals.MAX_PATHS)],
    )
    assert client.get("/api/v1/departments", headers=headers).status_code == 401  # a new minute
    drained(app)
    assert len(audit_rows(db, "auth.token_failed")) == 3


def test_refusals_over_all_addresses_are_capped_per_minute():
    now = [0.0]
    log = refusals.RefusalLog(max_per_minute=3, clock=lambda: now[0])

    def refusal(ip: str) -> sidewrites.AuditEntry:
        return sidewrites.AuditEntry(actor=refusals.anonymous(ip), action="auth.token_failed")

    noted = [log.note(refusal(f"10.1.0.{i}"), "/api/v1/me") for i in range(10)]
    assert [(e is not None, later) for e, later in noted] == [(True, False)] * 3 + [(False, True)] + [
        (False, False)
    ] * 6
    now[0] = 1.0
    assert log.due() == ([], 59.0)
    now[0] = 60.0
    due, later = log.due()
    assert later is None
    assert [(e.action, e.detail["count"], e.detail["addresses"]) for e in due] == [(refusals.SUPPRESSED, 7, 7)]
    assert log.note(refusal("10.1.0.9"), "/api/v1/me")[0] is not None  # a new minute, a new budget
