"""Step clocks, yellow/red levels, the sweeper (idempotent across workers) and notification delivery."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from countyos.cases import jobs
from countyos.cases.lifecycle import Action
from countyos.cases.models import Case, Notification
from countyos.cases.service import notify, timers
from tests.cases.test_lifecycle import act, report

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)


def _dispatched(db, world):
    cid, _ = report(db, world, at=T0)
    act(db, world.intake, cid, Action.ACCEPT, T0)
    act(db, world.shift, cid, Action.REGISTER, T0)
    act(db, world.dispatcher, cid, Action.DISPATCH, T0)  # area A: 1 working day → Tuesday 09:00
    return cid


def test_levels_follow_working_time(db, world):
    cid = _dispatched(db, world)
    with db.reading() as s:
        c = s.get(Case, cid)
        # 80 % of 7.5 working hours = 6 h → Monday 16:30 (lunch 12:00–13:30 excluded)
        assert c.step_warn_at == datetime(2026, 3, 2, 16, 30, tzinfo=CST)
        assert timers.level(c, datetime(2026, 3, 2, 16, 0, tzinfo=CST)) is timers.Level.GREEN
        assert timers.level(c, datetime(2026, 3, 2, 20, 0, tzinfo=CST)) is timers.Level.YELLOW
        assert timers.level(c, datetime(2026, 3, 3, 9, 0, tzinfo=CST)) is timers.Level.RED


def test_sweeper_warns_once_per_level(db, world):
    cid = _dispatched(db, world)
    with db.unit_of_work() as s:
        assert jobs.sweep(s, now=datetime(2026, 3, 2, 17, 0, tzinfo=CST)) == {"yellow": 1, "red": 0}
    with db.unit_of_work() as s:
        assert jobs.sweep(s, now=datetime(2026, 3, 2, 17, 5, tzinfo=CST)) == {"yellow": 0, "red": 0}
    with db.unit_of_work() as s:
        assert jobs.sweep(s, now=datetime(2026, 3, 3, 10, 0, tzinfo=CST)) == {"yellow": 0, "red": 1}
    with db.reading() as s:
        rows = s.execute(select(Notification.kind, Notification.user_id).where(Notification.case_id == cid)).all()
        red_to = {u for k, u in rows if k == "red"}
        # the department's handler, the shift leader and the department's leader
        assert {world.handler.id, world.shift.id, world.leader.id} <= red_to
        assert len([1 for k, _ in rows if k == "red"]) == len(red_to)


@pytest.mark.committed  # workers in parallel, each in a transaction of its own
def test_sweeper_on_parallel_workers_queues_each_message_once(db, world):
    for _ in range(3):
        _dispatched(db, world)
    now = datetime(2026, 3, 3, 10, 0, tzinfo=CST)
    results, errors = [], []

    def worker():
        try:
            with db.unit_of_work() as s:
                results.append(jobs.sweep(s, now=now))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r["red"] for r in results) == 3
    with db.reading() as s:
        keys = s.scalars(select(Notification.dedupe_key).where(Notification.kind == "red")).all()
        assert len(keys) == len(set(keys)) > 0


def test_suspended_case_is_not_swept(db, world):
    cid = _dispatched(db, world)
    act(db, world.handler, cid, Action.SIGN, T0)
    act(db, world.handler, cid, Action.REQUEST_SUSPENSION, T0 + timedelta(hours=1), comment="等待")
    act(db, world.shift, cid, Action.APPROVE_SUSPENSION, T0 + timedelta(hours=1))
    with db.unit_of_work() as s:
        assert jobs.sweep(s, now=datetime(2026, 3, 10, 10, 0, tzinfo=CST)) == {"yellow": 0, "red": 0}


def test_external_delivery_retries_and_records_errors(db, world):
    fake = notify.FakeSender(fail=True)
    notify.set_sender("sms", fake)
    try:
        with db.unit_of_work() as s:
            notify.queue(s, key="t1", kind="red", title="超期", channel="sms", addresses=["13800000000"])
        with db.unit_of_work() as s:
            assert notify.deliver_pending(s) == 0
        fake.fail = False
        with db.unit_of_work() as s:
            assert notify.deliver_pending(s) == 1
        assert [m.title for m in fake.sent] == ["【已超期】超期"]  # the kind label in the default language
        with db.reading() as s:
            n = s.scalar(select(Notification).where(Notification.dedupe_key.like("t1:%")))
            assert n.attempts == 2 and n.sent_at is not None and n.error is None
            assert s.scalar(select(func.count()).select_from(Notification)) == 1
    finally:
        notify.set_sender("sms", None)


class _Receiver:
    """A real HTTP endpoint on loopback standing in for the robot and the SMS gateway: it records
    every POST (path, headers, JSON) and answers as WeCom does."""

    def __init__(self):
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        got = self.got = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                got.append((self.path, self.headers.get("Authorization"), body))
                out = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_kinds_go_out_on_the_channels_the_settings_name(db, world, monkeypatch):
    from countyos.core.settings import reset_settings
    from tests.factories import person

    rx = _Receiver()
    monkeypatch.setenv("COUNTYOS_NOTIFY_CHANNELS", '{"assigned": ["sms", "wecom"]}')
    monkeypatch.setenv("COUNTYOS_NOTIFY_WECOM_URL", rx.url + "/wecom")
    monkeypatch.setenv("COUNTYOS_NOTIFY_SMS_URL", rx.url + "/sms")
    monkeypatch.setenv("COUNTYOS_NOTIFY_SMS_TOKEN", "gateway-secret")
    reset_settings()
    try:
        with_phone = person(db, ["handler"], department_id=world.works, phone="13800138000")
        cid = _dispatched(db, world)  # 住建局's handlers get the task: world.handler (no phone) and with_phone
        with db.reading() as s:
            rows = s.scalars(select(Notification).where(Notification.case_id == cid)).all()
            sms = [r for r in rows if r.channel == "sms"]
            assert {r.user_id for r in sms} == {world.handler.id, with_phone.id}
            assert all(r.address is None for r in sms)  # the phone is never copied into the outbox
            assert len([r for r in rows if r.channel == "wecom"]) == 1  # one message to the group
        with db.unit_of_work() as s:
            assert notify.deliver_pending(s) == 2
        paths = sorted(p for p, _, _ in rx.got)
        assert paths == ["/sms", "/wecom"]
        ((_, auth, text),) = [x for x in rx.got if x[0] == "/sms"]
        assert auth == "Bearer gateway-secret" and text["phone"] == "13800138000"
        assert text["text"].startswith("【新任务】") and f"/cases/{cid}" in text["text"]
        ((_, _, robot),) = [x for x in rx.got if x[0] == "/wecom"]
        assert robot["msgtype"] == "text" and "派遣" in robot["text"]["content"]
        with db.reading() as s:  # the handler without a phone: recorded, retried, never raised
            failed = s.scalar(select(Notification).where(Notification.channel == "sms", Notification.sent_at.is_(None)))
            assert failed.user_id == world.handler.id and "no phone" in failed.error
    finally:
        rx.server.shutdown()
        reset_settings()
