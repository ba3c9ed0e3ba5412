"""电子监察: each rule fires exactly when it should (frozen time, working days across 元旦), a second
sweep adds nothing, yellow is upgraded to red and cleared when the condition ends, notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from countyos.cases.models import Notification
from countyos.cases.service import people
from countyos.core.actor import Actor
from countyos.core.workcal import calendar
from countyos.services import deadlines
from countyos.services.lifecycle import Action
from countyos.services.models import RuleKind, SupervisionEvent, SupervisionRule, SupervisionWarning
from countyos.services.schemas import ACTION_MODELS, ApplicationIn, RulesIn
from countyos.services.service import applications as apps
from countyos.services.service import catalogue, supervision, supervision_rules
from tests import factories
from tests.services.conftest import ADMIN, guide

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 county time
RESULT = {"decision": "granted", "result_name": "食品经营许可证", "result_number": "JY1"}
SUPERVISOR = Actor(id=None, name="督查 王", permissions=frozenset({apps.SUPERVISE}))


def staff(db, shop) -> dict[str, Actor]:
    """A window clerk, the centre's and the market's handlers (real people, so messages reach them)."""
    out = {}
    for key, perms, role, dep in (
        ("window", {apps.WINDOW, apps.PII}, "services_window", shop.centre),
        ("centre", {apps.HANDLE}, "services_handler", shop.centre),
        ("market", {apps.HANDLE}, "services_handler", shop.market),
        ("supervisor", {apps.SUPERVISE}, "services_admin", None),
    ):
        p = factories.person(db, [role], department_id=dep)
        out[key] = Actor(id=p.id, name=key, permissions=frozenset(perms), department_id=dep)
    return out


def matter(s, shop, **changes) -> tuple[int, list[int]]:
    m = catalogue.create(s, actor=ADMIN, data=guide(shop, **changes))
    catalogue.publish(s, actor=ADMIN, matter_id=m.id)
    return m.id, [x.id for x in catalogue.current(m).materials]


def submit(s, actor: Actor, mid: int, mats: list[int], at: datetime):
    data = ApplicationIn.model_validate(
        {
            "matter_id": mid,
            "applicant_name": "蓝水生",
            "id_number": "33112519600101123X",
            "materials": [{"material_id": m, "form": "original", "count": 1} for m in mats],
        }
    )
    return apps.create(s, actor=actor, data=data, now=at)


def do(s, actor: Actor, app, action: Action, at: datetime, **body):
    data = ACTION_MODELS[action].model_validate({"version": app.version, **body})
    return apps.act(s, actor=actor, application_id=app.id, action=action, data=data, now=at)


def only(s, *kinds: RuleKind) -> None:
    """Keep just these kinds of rules enabled."""
    supervision_rules.ensure_defaults(s)
    for r in s.scalars(select(SupervisionRule)):
        r.enabled = r.kind in kinds
    s.flush()


def warnings(s) -> list[SupervisionWarning]:
    return list(s.scalars(select(SupervisionWarning).order_by(SupervisionWarning.id)))


def test_default_rules_are_seeded(db) -> None:
    with db.unit_of_work() as s:
        rules = supervision_rules.all_rules(s)
        got = [(r.code, r.kind, r.threshold, r.days, r.min_count, r.level, r.enabled) for r in rules]
        assert got == [
            ("JC01", "time_used", 80.0, None, None, "yellow", True),
            ("JC02", "overdue", None, None, None, "red", True),
            ("JC03", "idle", None, 3, None, "yellow", True),
            ("JC04", "corrections", 1.0, None, None, "yellow", True),
            ("JC05", "rejection_rate", 20.0, 30, 10, "yellow", True),
            ("JC06", "lapse", None, 15, None, "yellow", True),
        ]
        assert supervision_rules.stored_rules(s) == [] or [r.code for r in supervision_rules.stored_rules(s)] == [
            g[0] for g in got
        ]
        supervision_rules.ensure_defaults(s)
        stored = supervision_rules.stored_rules(s)
        assert [(r.code, r.kind, r.threshold, r.days, r.min_count, r.level, r.enabled) for r in stored] == got
        supervision_rules.ensure_defaults(s)  # nothing missing: nothing added
        assert len(supervision_rules.stored_rules(s)) == 6


def test_time_used_yellow_upgraded_to_red_once_then_cleared(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        only(s, RuleKind.TIME_USED, RuleKind.OVERDUE)
        mid, mats = matter(s, shop)
        app = do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.ACCEPT, T0)
        limit = deadlines.Limit(5, "working_days")
        d = deadlines.deadline(limit, accepted_at=T0, now=T0)
        eighty = calendar().add_working_time(T0, d.budget * 0.8)  # Mon 7 Dec 16:18 county time
        assert eighty == datetime(2026, 12, 7, 8, 18, tzinfo=UTC)
        assert supervision.sweep(s, now=eighty - timedelta(minutes=1))["raised"] == 0
        assert warnings(s) == []
        counts = supervision.sweep(s, now=eighty + timedelta(minutes=1))
        assert counts["raised"] == 1
        [w] = warnings(s)
        assert (w.level, w.state, w.family, w.subject, w.application_id) == (
            "yellow",
            "open",
            "deadline",
            f"a:{app.id}",
            app.id,
        )
        assert w.department_id == shop.centre  # the current step's department answers for it
        assert w.reason_values == {"percent": 80} and w.number.startswith("JC20261207")
        # a second sweep (or a second worker) adds nothing
        assert supervision.sweep(s, now=eighty + timedelta(minutes=2)) == {
            "raised": 0,
            "upgraded": 0,
            "cleared": 0,
            "messages": 0,
        }
        assert len(warnings(s)) == 1
        # overdue: the same warning, upgraded to red by the overdue rule
        due = app.due_at
        assert due == datetime(2026, 12, 8, 9, 30, tzinfo=UTC)  # Tue 8 Dec 17:30
        assert supervision.sweep(s, now=due)["upgraded"] == 0  # due at, not past
        assert supervision.sweep(s, now=due + timedelta(minutes=1))["upgraded"] == 1
        [w] = warnings(s)
        rule = s.get(SupervisionRule, w.rule_id)
        assert (w.level, rule.code, w.state, w.reason) == (
            "red",
            "JC02",
            "open",
            "The promised completion time has passed",
        )
        assert supervision.sweep(s, now=due + timedelta(minutes=2))["upgraded"] == 0
        # concluded: the condition ended, the warning is cleared
        end = due + timedelta(hours=1)
        app = do(s, a["centre"], app, Action.PASS, end, opinion="同意")
        app = do(s, a["market"], app, Action.PASS, end, opinion="准予", result=RESULT)
        assert supervision.sweep(s, now=end)["cleared"] == 1
        [w] = warnings(s)
        assert w.state == "cleared" and w.cleared_at == end
        actions = [e.action for e in supervision.history(s, warning_id=w.id)]
        assert actions == ["raise", "upgrade", "clear"]


def test_idle_counts_working_days_across_new_year(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        only(s, RuleKind.IDLE)
        mid, mats = matter(s, shop, promised_limit=30, legal_limit=60)
        accepted = datetime(2026, 12, 29, 16, 0, tzinfo=UTC)  # Wed 30 Dec 00:00 county time
        app = do(s, a["window"], submit(s, a["window"], mid, mats, accepted), Action.ACCEPT, accepted)
        # 30 and 31 Dec are working days, 1–3 Jan is 元旦, Mon 4 Jan the third working day (17:30 close)
        assert supervision.sweep(s, now=datetime(2027, 1, 3, 15, 0, tzinfo=UTC))["raised"] == 0  # 5 calendar days
        assert supervision.sweep(s, now=datetime(2027, 1, 4, 9, 29, tzinfo=UTC))["raised"] == 0  # 17:29
        assert supervision.sweep(s, now=datetime(2027, 1, 4, 9, 30, tzinfo=UTC))["raised"] == 1  # 17:30
        [w] = warnings(s)
        assert w.reason_values == {"step": "受理", "days": 3} and w.department_id == shop.centre
        # a step handler's action counts as touching it: the warning clears
        do(s, a["centre"], app, Action.STEP_OTHER, datetime(2027, 1, 5, 1, 0, tzinfo=UTC), opinion="联系申请人")
        assert supervision.sweep(s, now=datetime(2027, 1, 5, 2, 0, tzinfo=UTC))["cleared"] == 1


def test_a_second_idle_rule_upgrades_and_rules_are_validated(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        only(s, RuleKind.IDLE)
        idle = next(r for r in supervision_rules.all_rules(s) if r.kind == RuleKind.IDLE)
        bad = RulesIn.model_validate({"rules": [{"kind": "idle", "level": "red"}]})
        try:
            supervision.update_rules(s, actor=SUPERVISOR, data=bad)
            raise AssertionError("a rule without its days was accepted")
        except supervision.ValidationFailed as exc:
            assert [e["field"] for e in exc.errors] == ["rules.0.days"]
        supervision.update_rules(
            s, actor=SUPERVISOR, data=RulesIn.model_validate({"rules": [{"kind": "idle", "days": 5, "level": "red"}]})
        )
        codes = [(r.code, r.kind, r.days, r.level) for r in supervision_rules.all_rules(s) if r.kind == RuleKind.IDLE]
        assert codes == [(idle.code, "idle", 3, "yellow"), ("JC07", "idle", 5, "red")]
        mid, mats = matter(s, shop, promised_limit=30, legal_limit=60)
        app = do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.ACCEPT, T0)
        supervision.sweep(s, now=datetime(2026, 12, 4, 9, 30, tzinfo=UTC))  # Fri: 3 working days
        assert [(w.level, w.family) for w in warnings(s)] == [("yellow", "idle")]
        supervision.sweep(s, now=datetime(2026, 12, 8, 9, 30, tzinfo=UTC))  # Tue: 5 working days
        [w] = warnings(s)
        assert w.level == "red" and s.get(SupervisionRule, w.rule_id).code == "JC07" and w.reason_values["days"] == 5
        assert app.state == "in_progress"


def test_corrections_more_than_once(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        only(s, RuleKind.CORRECTIONS)
        mid, mats = matter(s, shop)
        app = submit(s, a["window"], mid, mats[:1], T0)
        app = do(s, a["window"], app, Action.REQUEST_CORRECTION, T0)
        app = do(s, a["window"], app, Action.RESUBMIT, T0 + timedelta(hours=1), materials=[])
        assert supervision.sweep(s, now=T0 + timedelta(hours=2))["raised"] == 0  # once is not "more than once"
        app = do(s, a["window"], app, Action.REQUEST_CORRECTION, T0 + timedelta(hours=3))
        assert supervision.sweep(s, now=T0 + timedelta(hours=4))["raised"] == 1
        [w] = warnings(s)
        assert w.reason_values == {"count": 2} and w.department_id == shop.market
        with_text = supervision.reason_text(w)
        assert with_text == "已 2 次退回补正材料"
        do(
            s,
            Actor(id=None, name="x", permissions=frozenset({apps.WINDOW})),
            app,
            Action.LAPSE,
            T0 + timedelta(hours=5),
        )
        assert supervision.sweep(s, now=T0 + timedelta(hours=6))["cleared"] == 1


def test_rejection_rate_per_department_over_the_window(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        only(s, RuleKind.REJECTION_RATE)
        rate = next(r for r in supervision_rules.all_rules(s) if r.kind == RuleKind.REJECTION_RATE)
        supervision.update_rules(
            s,
            actor=SUPERVISOR,
            data=RulesIn.model_validate({"rules": [{"code": rate.code, "threshold": 20, "days": 30, "min_count": 5}]}),
        )
        mid, mats = matter(s, shop)
        for i in range(4):
            do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.ACCEPT, T0 + timedelta(minutes=i))
        do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.REJECT, T0, reason="不符合条件")
        assert supervision.sweep(s, now=T0 + timedelta(hours=1))["raised"] == 0  # 1 of 5 = 20 %, not above
        do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.REJECT, T0, reason="不符合条件")
        assert supervision.sweep(s, now=T0 + timedelta(hours=1))["raised"] == 1  # 2 of 6
        [w] = warnings(s)
        assert (w.application_id, w.department_id, w.subject, w.family) == (
            None,
            shop.market,
            f"d:{shop.market}",
            "rejection_rate",
        )
        assert w.reason_values == {"rejected": 2, "total": 6, "days": 30, "percent": 33.3}
        # 31 days later the decisions have left the window: cleared
        assert supervision.sweep(s, now=T0 + timedelta(days=31))["cleared"] == 1


def test_messages_on_raise_and_upgrade_to_the_department_and_supervisors(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        only(s, RuleKind.TIME_USED, RuleKind.OVERDUE)
        expected = {a["centre"].id} | {u.id for u in people.holders(s, permission=apps.SUPERVISE)}
        assert a["supervisor"].id in expected and a["market"].id not in expected
        mid, mats = matter(s, shop)
        app = do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.ACCEPT, T0)
        supervision.sweep(s, now=datetime(2026, 12, 8, 1, 0, tzinfo=UTC))
        notes = list(s.scalars(select(Notification).where(Notification.dedupe_key.like("svcwarn:%"))))
        assert {n.user_id for n in notes} == expected and {n.kind for n in notes} == {"supervision"}
        w = warnings(s)[0]
        assert {n.title for n in notes} == {f"{w.number} {app.number} 食品经营许可（新办）"}
        assert {n.body for n in notes} == {"Yellow warning"}
        supervision.sweep(s, now=datetime(2026, 12, 8, 2, 0, tzinfo=UTC))  # nothing new
        assert s.scalar(
            select(Notification.id).where(Notification.dedupe_key.like("svcwarn:%")).order_by(Notification.id.desc())
        ) == max(n.id for n in notes)
        supervision.sweep(s, now=datetime(2026, 12, 9, 1, 0, tzinfo=UTC))  # overdue
        red = list(
            s.scalars(
                select(Notification).where(
                    Notification.dedupe_key.like("svcwarn:%"), Notification.body == "Red warning"
                )
            )
        )
        assert {n.user_id for n in red} == expected


def test_the_sweep_reads_in_a_bounded_number_of_queries(db, shop) -> None:
    a = staff(db, shop)

    def statements(s, n: int) -> int:
        mid, mats = matter(s, shop, code=f"11331123MB0000001-{n:03d}")
        for _ in range(n):
            do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.ACCEPT, T0)
        seen: list[str] = []

        def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            seen.append(statement)

        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            supervision_rules.evaluate(s, now=T0 + timedelta(hours=1))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    with db.unit_of_work() as s:
        few = statements(s, 2)
    with db.unit_of_work() as s:
        many = statements(s, 8)
    assert few == many


def test_lapse_withdraws_corrections_not_made_within_the_working_days(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        mid, mats = matter(s, shop)
        app = do(s, a["window"], submit(s, a["window"], mid, mats[:1], T0), Action.REQUEST_CORRECTION, T0)
        other = submit(s, a["window"], mid, mats, T0)  # submitted, not waiting for corrections
        fifteen = calendar().add_working_time(T0, calendar().day_length * 15)  # 15 working days later
        assert supervision.lapse(s, now=fifteen - timedelta(minutes=1)) == []
        assert supervision.lapse(s, now=fifteen) == [app.number]
        assert app.state == "withdrawn" and other.state == "submitted"
        last = apps.timeline(s, application_id=app.id)[-1]
        assert (last.action, last.role, last.actor_name, last.from_state) == (
            "lapse",
            "supervisor",
            "Time limit for corrections",
            "correction_requested",
        )
        from countyos.org.models import AuditEvent

        audited = s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == app.number)).all()
        assert "services.application.lapse" in audited
        assert supervision.lapse(s, now=fifteen + timedelta(days=1)) == []  # nothing left to lapse
        # disabled rule: nothing lapses
        app2 = do(s, a["window"], submit(s, a["window"], mid, mats[:1], T0), Action.REQUEST_CORRECTION, T0)
        only(s)
        assert supervision.lapse(s, now=fifteen + timedelta(days=5)) == [] and app2.state == "correction_requested"


def test_exchange_rows_carry_table_11_names_and_codes(db, shop) -> None:
    a = staff(db, shop)
    with db.unit_of_work() as s:
        only(s, RuleKind.TIME_USED)
        mid, mats = matter(s, shop)
        app = do(s, a["window"], submit(s, a["window"], mid, mats, T0), Action.ACCEPT, T0)
        at = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
        supervision.sweep(s, now=at)
        [w] = warnings(s)
        supervision.act(
            s,
            actor=a["supervisor"],
            warning_id=w.id,
            action=supervision.WarningAction.SUPERVISE,
            data=supervision.WarningActionIn(version=w.version, note="请于今日办结"),
            now=at + timedelta(hours=1),
        )
        rows = supervision.exchange_rows(s, start=at - timedelta(days=1), end=at + timedelta(days=1))
        assert rows == [
            {
                "办件编号": app.number,
                "督办内容": "请于今日办结",
                "机构名称": "测试市场监督管理局",
                "事项类型代码": "01",
                "督办发出时间": "20261208100000",
                "监察编号": w.number,
                "监察规则编号": "JC01",
                "监察预警类型代码": "1",
                "状态产生时间": "20261208090000",
                "监察结果描述": f"黄色预警：已用承诺办结时限的 {w.reason_values['percent']}%",
                "责任部门": "测试政务服务中心",
            }
        ]
        assert supervision.exchange_rows(s, start=at + timedelta(seconds=1), end=at + timedelta(days=1)) == []
        assert [e.action for e in s.scalars(select(SupervisionEvent).where(SupervisionEvent.warning_id == w.id))] == [
            "raise",
            "supervise",
        ]
