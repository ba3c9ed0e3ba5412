"""Exchange: 表5–表8 records in the standard's field names and codes, the Excel read back, the kinds
registry, and the signed webhook on every applied action (a real HTTP server, no mock)."""

from __future__ import annotations

import io
import json
import threading
import types
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select

from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.settings import Settings, reset_settings
from countyos.org.models import User
from countyos.services.lifecycle import Action
from countyos.services.models import Application, WebhookDelivery
from countyos.services.schemas import ApplicationIn
from countyos.services.service import applications as apps
from countyos.services.service import exchange, webhooks
from tests.services.service.test_certificates import T0, act, world

SECRET = "webhook-test-secret-0123456789abcdef"
DAY = exchange.period(date(2026, 12, 1), date(2026, 12, 2))


def test_periods_are_county_days_and_bounded() -> None:
    p = exchange.period(date(2026, 12, 1), date(2026, 12, 1))
    assert (p.start, p.end) == (datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 1, 16, tzinfo=UTC))
    with pytest.raises(ValidationFailed):
        exchange.period(date(2026, 12, 2), date(2026, 12, 1))
    with pytest.raises(ValidationFailed):
        exchange.period(date(2025, 1, 1), date(2026, 1, 2))  # 367 days; 366 is the most
    exchange.period(date(2024, 1, 1), date(2024, 12, 31))  # a leap year
    with pytest.raises(ValidationFailed):
        exchange.period(date(2026, 1, 1), date(2026, 4, 4), max_days=exchange.API_MAX_DAYS)  # 94 days


def test_an_application_record_has_the_standards_names_and_codes(db, shop) -> None:
    w = world(db, shop)
    with db.reading() as s:
        (rec,) = exchange.collect(s, kind="applications", start=DAY.start, end=DAY.end)
        app = s.get(Application, w.app_id)
        clerk = s.get(User, w.people["window"].id).display_name
        market = s.get(User, w.people["market"].id).display_name
        centre = s.get(User, w.people["centre"].id).display_name
        plain = {k: v for k, v in rec.items() if not isinstance(v, list)}
        assert plain == {
            "办件编号": app.number,
            "实施编码": "11331123MB0000001-001",
            "基本编码": "0000112001",
            "事项名称": "食品经营许可（新办）",
            "办件类型": "承诺件",
            "办件类型代码": "2",
            "申请者名称": "蓝水生",
            "申请者类型": "自然人",
            "申请者类型代码": "1",
            "申请者证件类型代码": "111",
            "申请者证件号码": "33112519600101123X",  # in full: the provincial connector needs it
            "联系人/代理人姓名": None,
            "联系人手机号码": "13905781234",
            "通讯地址": "大柘镇大田村 12 号",
            "申报来源": "窗口办理",
            "申报来源代码": "1",
            "申请时间": "2026-12-01T10:00:00+08:00",
            "行政区划": "",
            "办件状态": "已办结",
            "办件状态代码": "3",
            "受理单位名称": "测试市场监督管理局",
            "受理单位统一社会信用代码": rec["受理单位统一社会信用代码"],
            "受理人员": clerk,
            "受理时间": "2026-12-01T11:00:00+08:00",
            "受理文书编号": "测试市场监督管理局受字〔2026〕1号",
            "承诺办结时间": rec["承诺办结时间"],
            "不予受理理由": None,
            "办理人姓名": market,
            "办结时间": "2026-12-02T10:00:00+08:00",
            "办结结果": "准予",
            "办结结果代码": "1",
            "结果证照名称": "食品经营许可证",
            "结果证照编号": "JY13311250001234",
            "办件结果描述": None,
            "证照有效期限": "2026-12-03至2031-12-02",
            "发证/盖章单位": "测试市场监督管理局",
            "是否快递寄送结果": None,
            "快递单号": None,
            "是否收费": "0",
        }
        assert len(rec["受理单位统一社会信用代码"]) == 18
        assert rec["承诺办结时间"] == "2026-12-08T17:30:00+08:00"  # 5 working days, office close
        assert rec["申请材料"] == [
            {
                "材料名称": "食品经营许可申请书",
                "是否必备材料": "1",
                "是否收取": "1",
                "收取方式": "原件",
                "收取数量": 1,
                "收取时间": "2026-12-01T10:00:00+08:00",
            },
            {
                "材料名称": "营业执照",
                "是否必备材料": "1",
                "是否收取": "1",
                "收取方式": "原件",
                "收取数量": 1,
                "收取时间": "2026-12-01T10:00:00+08:00",
            },
        ]
        assert [
            (x["环节名称"], x["业务动作"], x["环节办理状态代码"], x["环节处理人"], x["处理单位名称"], x["环节处理意见"])
            for x in rec["事项办理"]
        ] == [
            ("受理", "通过", "2", centre, "测试政务服务中心", "同意"),
            ("审查决定", "通过", "2", market, "测试市场监督管理局", "准予"),
        ]
        assert rec["事项办理"][1]["环节开始时间"] == "2026-12-01T12:00:00+08:00"
        assert rec["事项办理"][1]["环节结束时间"] == "2026-12-02T10:00:00+08:00"
        assert rec["特别程序"] == []
        # a period without activity has nothing; the day after the decision neither
        later = exchange.period(date(2026, 12, 3), date(2026, 12, 31))
        assert exchange.collect(s, kind="applications", start=later.start, end=later.end) == []


def test_special_procedures_and_pending_steps_carry_their_codes(db, shop) -> None:
    w = world(db, shop, decision="denied")
    with db.unit_of_work() as s:
        first = s.get(Application, w.app_id)
        mats = [m.material_id for m in first.materials]
        data = ApplicationIn.model_validate(
            {
                "matter_id": first.matter_id,
                "applicant_name": "演示县大田食品有限公司",
                "applicant_kind": "enterprise",
                "id_type": "uscc",
                "id_number": "91331125MA2A000003",
                "materials": [{"material_id": m, "form": "copy", "count": 2} for m in mats],
            }
        )
        app = apps.create(s, actor=w.actors["window"], data=data, now=T0 + timedelta(hours=2))
        app = act(s, w.actors["window"], app, Action.ACCEPT, T0 + timedelta(hours=3))
        app = act(
            s,
            w.actors["centre"],
            app,
            Action.START_SPECIAL,
            T0 + timedelta(hours=4),
            kind="extension",
            reason="需延长审批",
        )
        second = app.number
    with db.reading() as s:
        denied, stopped = exchange.collect(s, kind="applications", start=DAY.start, end=DAY.end)
        centre = s.get(User, w.people["centre"].id).display_name
    assert (denied["办结结果"], denied["办结结果代码"], denied["结果证照名称"], denied["证照有效期限"]) == (
        "不予",
        "0",
        None,
        None,
    )
    assert stopped["办件编号"] == second
    assert (stopped["办件状态"], stopped["办件状态代码"], stopped["申请者类型代码"], stopped["申请者证件类型代码"]) == (
        "特别程序",
        "2",
        "2",
        "001",
    )
    assert stopped["事项办理"] == [
        {
            "业务动作": None,
            "环节名称": "受理",
            "环节处理人": None,
            "环节处理意见": None,
            "环节开始时间": "2026-12-01T13:00:00+08:00",
            "环节结束时间": "2026-12-01T13:00:00+08:00",  # 表7: no end yet, so the start
            "处理单位名称": "测试政务服务中心",
            "环节办理状态代码": "1",
        }
    ]
    assert stopped["特别程序"] == [
        {
            "特别程序种类名称": "延长审批",
            "特别程序种类代码": "1",
            "特别程序开始时间": "2026-12-01T14:00:00+08:00",
            "特别程序启动理由或依据": "需延长审批",
            "申请人": centre,
            "特别程序结束时间": None,
            "特别程序结果": None,
        }
    ]
    assert stopped["申请材料"][0]["收取方式"] == "复印件" and stopped["申请材料"][0]["收取数量"] == 2


def test_the_excel_export_reads_back_with_the_standards_headers_and_codes(db, shop) -> None:
    w = world(db, shop)
    with db.unit_of_work() as s:
        app = s.get(Application, w.app_id)
        app.applicant_name = '=HYPERLINK("http://evil","点我")'  # typed by anyone: must stay text
        s.flush()
    with db.reading() as s:
        records = exchange.collect(s, kind="applications", start=DAY.start, end=DAY.end)
    wb = load_workbook(io.BytesIO(exchange.to_xlsx("applications", records)))
    assert wb.sheetnames == ["办事申请", "申请材料", "事项办理", "特别程序"]
    main = [[c.value for c in row] for row in wb["办事申请"].iter_rows()]
    assert main[0][:8] == [
        "办件编号",
        "实施编码",
        "基本编码",
        "事项名称",
        "办件类型",
        "办件类型代码",
        "申请者名称",
        "申请者类型",
    ]
    row = dict(zip(main[0], main[1], strict=True))
    assert row["办件类型代码"] == "2" and row["申请者证件类型代码"] == "111" and row["申报来源代码"] == "1"
    assert row["办件状态"] == "已办结" and row["办件状态代码"] == "3" and row["办结结果代码"] == "1"
    assert row["申请者名称"] == '\'=HYPERLINK("http://evil","点我")'
    assert row["申请时间"] == "2026-12-01T10:00:00+08:00"
    steps = [[c.value for c in r] for r in wb["事项办理"].iter_rows()]
    assert steps[0] == [
        "办件编号",
        "业务动作",
        "环节名称",
        "环节处理人",
        "环节处理意见",
        "环节开始时间",
        "环节结束时间",
        "处理单位名称",
        "环节办理状态代码",
    ]
    assert [(r[0], r[1], r[2], r[8]) for r in steps[1:]] == [
        (row["办件编号"], "通过", "受理", "2"),
        (row["办件编号"], "通过", "审查决定", "2"),
    ]
    mats = [[c.value for c in r] for r in wb["申请材料"].iter_rows()]
    assert mats[0] == ["办件编号", "材料名称", "是否必备材料", "是否收取", "收取方式", "收取数量", "收取时间"]
    assert len(mats) == 3


def test_json_export_keeps_nested_tables_and_names_the_data_set(db, shop) -> None:
    world(db, shop)
    with db.reading() as s:
        records = exchange.collect(s, kind="applications", start=DAY.start, end=DAY.end)
    doc = json.loads(exchange.to_json("applications", DAY, records))
    assert (doc["数据集"], doc["标准"], doc["记录数"]) == ("办事申请", "GB/T 39046-2020", 1)
    assert (doc["开始时间"], doc["结束时间"]) == ("2026-12-01T00:00:00+08:00", "2026-12-03T00:00:00+08:00")
    assert [x["环节名称"] for x in doc["记录"][0]["事项办理"]] == ["受理", "审查决定"]


def test_kinds_are_a_registry_and_a_missing_one_says_so(db, monkeypatch) -> None:
    monkeypatch.setitem(exchange.KINDS, "absent", exchange.Kind("absent", "缺席", module="no_such_module_here"))
    with db.reading() as s:
        with pytest.raises(exchange.KindUnavailable) as exc:
            exchange.collect(s, kind="absent", start=DAY.start, end=DAY.end)
        assert "not available" in exc.value.message_id
        with pytest.raises(exchange.KindUnavailable):
            exchange.collect(s, kind="nonsense", start=DAY.start, end=DAY.end)
        # a module found by name connects itself through its exchange_rows
        fake = types.ModuleType("countyos.services.service.fake_ratings")
        fake.exchange_rows = lambda session, *, start, end: [{"办件编号": "X1", "满意度代码": "1", "开始": start}]  # type: ignore[attr-defined]
        monkeypatch.setitem(__import__("sys").modules, "countyos.services.service.fake_ratings", fake)
        monkeypatch.setitem(exchange.KINDS, "fake", exchange.Kind("fake", "政务服务绩效评价", module="fake_ratings"))
        assert exchange.collect(s, kind="fake", start=DAY.start, end=DAY.end) == [
            {"办件编号": "X1", "满意度代码": "1", "开始": DAY.start}
        ]
    assert set(exchange.KINDS) >= {"applications", "ratings", "warnings"}


# ── webhooks ─────────────────────────────────────────────────────────────────────────────────────────


class Receiver:
    """A real HTTP server on a free local port that records every POST and answers ``statuses`` in turn
    (then 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/countyos/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, object]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver(monkeypatch) -> Iterator[Receiver]:
    r = Receiver()
    monkeypatch.setenv("COUNTYOS_SERVICES_WEBHOOK_URLS", json.dumps([r.url]))
    monkeypatch.setenv("COUNTYOS_SERVICES_WEBHOOK_SECRET", SECRET)
    reset_settings()
    yield r
    r.close()
    monkeypatch.undo()
    reset_settings()


def test_each_applied_action_posts_exactly_one_signed_event_after_commit(db, shop, receiver) -> None:
    w = world(db, shop)  # submit, accept, pass, pass: four actions, each in its committed unit of work
    assert receiver.received == []  # nothing is sent inside the transaction
    assert webhooks.deliver(db) == 4
    events = receiver.events()
    assert [(e["业务动作"], e["原办件状态"], e["办件状态"], e["办件状态代码"], e["环节名称"]) for e in events] == [
        ("提交", "草稿", "待受理", "1", None),
        ("受理", "待受理", "办理中", "2", "受理"),
        ("通过", "办理中", "办理中", "2", "审查决定"),
        ("通过", "办理中", "已办结", "3", None),
    ]
    with db.reading() as s:
        number = s.get(Application, w.app_id).number
    last = events[-1]
    assert last == {
        "事件编号": last["事件编号"],
        "事件类型": "办件状态变更",
        "办件编号": number,
        "实施编码": "11331123MB0000001-001",
        "事项名称": "食品经营许可（新办）",
        "业务动作": "通过",
        "业务动作代码": "pass",
        "原办件状态": "办理中",
        "原办件状态代码": "2",
        "办件状态": "已办结",
        "办件状态代码": "3",
        "环节名称": None,
        "办结结果": "准予",
        "办结结果代码": "1",
        "发生时间": "2026-12-02T10:00:00+08:00",
    }
    for headers, body in receiver.received:
        assert webhooks.verify(body, headers[webhooks.SIGNATURE_HEADER], SECRET)
        assert not webhooks.verify(body, headers[webhooks.SIGNATURE_HEADER], "another-secret")
        assert headers[webhooks.EVENT_HEADER] == json.loads(body)["事件编号"]
        assert headers["Content-Type"].startswith("application/json")
        for personal in ("蓝水生", "33112519600101123X", "13905781234", "大田村"):
            assert personal.encode() not in body
    assert len({e["事件编号"] for e in events}) == 4
    # delivered once: a second pass sends nothing
    assert webhooks.deliver(db) == 0 and len(receiver.received) == 4


def test_a_failed_delivery_is_retried_later_and_a_rolled_back_change_sends_nothing(db, shop, receiver) -> None:
    w = world(db, shop)
    receiver.statuses = [500]
    now = utcnow() + timedelta(minutes=1)
    with db.unit_of_work() as s:
        assert webhooks.deliver_pending(s, now=now) == 3  # the first answered 500
        failed = s.scalars(select(WebhookDelivery).where(WebhookDelivery.sent_at.is_(None))).one()
        assert (failed.attempts, failed.last_status, failed.error) == (1, 500, "HTTP 500")
        assert failed.next_attempt_at == now + webhooks.BACKOFF[0]
        assert webhooks.deliver_pending(s, now=now + timedelta(seconds=10)) == 0  # not due yet
        assert len(receiver.received) == 4
        assert webhooks.deliver_pending(s, now=now + timedelta(seconds=31)) == 1
        assert failed.sent_at == now + timedelta(seconds=31) and failed.attempts == 2 and failed.error is None
    first, retried = receiver.received[0][1], receiver.received[4][1]
    assert first == retried  # the same event, the same bytes, the same signature
    # a change that is rolled back queues nothing
    with db.reading() as s:
        before = s.scalar(select(func.count()).select_from(WebhookDelivery))
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        app = s.get(Application, w.app_id)
        act(s, w.actors["window"], app, Action.DELIVER, now, method="window")
        raise RuntimeError("the request failed after the action")
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == before


def test_an_unreachable_receiver_is_recorded_and_retried(db, shop, monkeypatch) -> None:
    closed = Receiver()
    url = closed.url
    closed.close()
    monkeypatch.setenv("COUNTYOS_SERVICES_WEBHOOK_URLS", json.dumps([url, url + "/second"]))
    monkeypatch.setenv("COUNTYOS_SERVICES_WEBHOOK_SECRET", SECRET)
    reset_settings()
    try:
        world(db, shop)
        with db.unit_of_work() as s:
            rows = s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
            assert len(rows) == 8  # four events, two URLs each, one event id per event
            assert len({r.event_id for r in rows}) == 4 and {r.url for r in rows} == {url, url + "/second"}
            assert webhooks.deliver_pending(s, now=utcnow() + timedelta(minutes=1)) == 0
            assert all(r.attempts == 1 and r.error and r.error.startswith("ConnectError") for r in rows)
    finally:
        monkeypatch.undo()
        reset_settings()


def test_without_urls_nothing_is_queued_and_urls_need_a_secret(db, shop, monkeypatch) -> None:
    world(db, shop)
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    with pytest.raises(PydanticValidationError):
        Settings(services_webhook_urls=["https://example.org/hook"])
    with pytest.raises(PydanticValidationError):
        Settings(services_webhook_urls=["ftp://example.org/hook"], services_webhook_secret=SECRET)
