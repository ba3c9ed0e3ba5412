"""好差评: who rates what, one rating per channel, the level's two code orders, 追评, the 差评 rectification
table and its working-day limits (across 国庆), statistics exact on a small world, 表9 exchange rows, demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from sqlalchemy import select

from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.org.models import AuditEvent
from countyos.services.codes import RatingChannel, Satisfaction
from countyos.services.models import Rating, RatingTag
from countyos.services.service import rectification as rect
from countyos.services.service.ratings import (
    RatingFilter,
    RatingInput,
    SatisfactionOrder,
    demo_ratings,
    exchange_rows,
    follow_up,
    level_code,
    level_from_code,
    listing,
    rate,
    statistics,
)
from tests.services.service.ratings_world import World, concluded, world

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 county time
MOBILE, PC, TABLET = RatingChannel.MOBILE, RatingChannel.PC, RatingChannel.HALL_TABLET
BAD = Satisfaction.VERY_DISSATISFIED


def good(channel=MOBILE, level=Satisfaction.VERY_SATISFIED, **kw) -> RatingInput:
    return RatingInput(channel=channel, level=level, **kw)


def bad(channel=MOBILE, level=BAD, **kw) -> RatingInput:
    kw.setdefault("tags", [RatingTag.MANY_VISITS])
    kw.setdefault("comment", "来回跑了两趟")
    return RatingInput(channel=channel, level=level, **kw)


@pytest.fixture
def w(db, shop) -> World:
    return world(db, shop)


# ── levels: meaning stored, two code orders at the edge ──────────────────────────────────────────────


def test_level_codes_in_the_national_and_the_provincial_opposite_order() -> None:
    national = {s: level_code(s) for s in Satisfaction}
    ascending = {s: level_code(s, SatisfactionOrder.ASCENDING) for s in Satisfaction}
    assert national == {
        Satisfaction.VERY_SATISFIED: "1",
        Satisfaction.SATISFIED: "2",
        Satisfaction.FAIRLY_SATISFIED: "3",
        Satisfaction.DISSATISFIED: "4",
        Satisfaction.VERY_DISSATISFIED: "5",
    }
    assert ascending == {
        Satisfaction.VERY_SATISFIED: "5",
        Satisfaction.SATISFIED: "4",
        Satisfaction.FAIRLY_SATISFIED: "3",
        Satisfaction.DISSATISFIED: "2",
        Satisfaction.VERY_DISSATISFIED: "1",
    }
    assert level_from_code("1") is Satisfaction.VERY_SATISFIED
    assert level_from_code("1", SatisfactionOrder.ASCENDING) is Satisfaction.VERY_DISSATISFIED
    with pytest.raises(ValueError):
        level_from_code("6")


# ── who rates what ──────────────────────────────────────────────────────────────────────────────────


def test_the_applicant_rates_online_once_per_channel(db, w) -> None:
    with db.unit_of_work() as s:
        app = concluded(s, w, T0)
        r = rate(s, actor=w.applicant, application_id=app.id, data=good(tags=[RatingTag.FAST]), now=T0)
        assert (r.channel, r.level, r.tags, r.rater_name, r.rater_user_id, r.department_id) == (
            "mobile",
            "very_satisfied",
            ["fast"],
            "蓝水生",
            w.applicant.id,
            w.shop.market,
        )
        with pytest.raises(Conflict):
            rate(s, actor=w.applicant, application_id=app.id, data=good(level=Satisfaction.SATISFIED), now=T0)
        # another channel is another rating; a window 评价器 rating too
        rate(s, actor=w.applicant, application_id=app.id, data=good(channel=PC), now=T0)
        rate(s, actor=w.window, application_id=app.id, data=good(channel=TABLET, rater_name="蓝水生之子"), now=T0)
        rows = s.scalars(select(Rating).where(Rating.application_id == app.id).order_by(Rating.id)).all()
        assert [(x.channel, x.rater_name, x.entered_by_id) for x in rows] == [
            ("mobile", "蓝水生", None),
            ("pc", "蓝水生", None),
            ("hall_tablet", "蓝水生之子", w.window.id),
        ]
        audit = s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == app.number)).all()
        assert audit.count("services.rating.create") == 3


def test_only_a_concluded_application_by_its_applicant_or_a_window_clerk(db, w) -> None:
    with db.unit_of_work() as s:
        running = concluded(s, w, T0, state="in_progress")
        with pytest.raises(Conflict):
            rate(s, actor=w.applicant, application_id=running.id, data=good(), now=T0)
        app = concluded(s, w, T0, state="delivered")
        with pytest.raises(NotFound):  # another resident does not even see it
            rate(s, actor=w.other_applicant, application_id=app.id, data=good(), now=T0)
        with pytest.raises(PermissionDenied):  # staff never rate online in the applicant's name
            rate(s, actor=w.window, application_id=app.id, data=good(), now=T0)
        with pytest.raises(PermissionDenied):  # the applicant does not enter hall-device ratings
            rate(s, actor=w.applicant, application_id=app.id, data=good(channel=TABLET), now=T0)
        with pytest.raises(ValidationFailed) as refused:
            rate(s, actor=w.applicant, application_id=app.id, data=good(department_id=w.township), now=T0)
        assert refused.value.errors[0]["field"] == "department_id"
        # the centre handled a step: it may be the department rated
        r = rate(s, actor=w.applicant, application_id=app.id, data=good(department_id=w.shop.centre), now=T0)
        assert r.department_id == w.shop.centre
        rejected = concluded(s, w, T0, by=w.window, state="rejected")
        r = rate(s, actor=w.window, application_id=rejected.id, data=good(channel=TABLET, anonymous=True), now=T0)
        assert r.anonymous and r.rater_name is None


def test_a_bad_rating_needs_a_reason_and_opens_a_rectification(db, w) -> None:
    with db.unit_of_work() as s:
        app = concluded(s, w, T0)
        with pytest.raises(ValidationFailed) as refused:
            rate(s, actor=w.applicant, application_id=app.id, data=bad(tags=[], comment="  "), now=T0)
        assert refused.value.errors[0]["field"] == "comment"
        r = rate(s, actor=w.applicant, application_id=app.id, data=good(level=Satisfaction.FAIRLY_SATISFIED), now=T0)
        assert rect.of_rating(s, r.id) is None  # 基本满意 is a 好评
        r = rate(
            s, actor=w.applicant, application_id=app.id, data=bad(channel=PC, level=Satisfaction.DISSATISFIED), now=T0
        )
        rec = rect.of_rating(s, r.id)
        assert rec is not None and (rec.state, rec.department_id, rec.rounds) == ("verifying", w.shop.market, 0)
        # 核实 within 1 working day: Wednesday at office close (17:30 county time)
        assert rec.due_at == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def test_one_follow_up_by_the_rater(db, w) -> None:
    with db.unit_of_work() as s:
        app = concluded(s, w, T0)
        r = rate(s, actor=w.applicant, application_id=app.id, data=good(), now=T0)
        t = rate(s, actor=w.window, application_id=app.id, data=good(channel=TABLET), now=T0)
        with pytest.raises(NotFound):
            follow_up(s, actor=w.other_applicant, rating_id=r.id, text="补充")
        with pytest.raises(PermissionDenied):
            follow_up(s, actor=w.window, rating_id=r.id, text="补充")
        with pytest.raises(ValidationFailed):
            follow_up(s, actor=w.applicant, rating_id=r.id, text="   ")
        follow_up(s, actor=w.applicant, rating_id=r.id, text="证照已收到，感谢！", now=T0 + timedelta(days=2))
        assert (r.follow_up, r.follow_up_at) == ("证照已收到，感谢！", T0 + timedelta(days=2))
        with pytest.raises(Conflict):
            follow_up(s, actor=w.applicant, rating_id=r.id, text="再补充")
        follow_up(s, actor=w.window, rating_id=t.id, text="窗口代录追评")
        assert t.follow_up == "窗口代录追评"


# ── the rectification table ─────────────────────────────────────────────────────────────────────────


def test_the_transition_table_is_the_one_source() -> None:
    D, S = rect.Role.DEPARTMENT, rect.Role.SUPERVISOR
    assert {(st, a): (set(roles), t) for (st, a), (roles, t) in rect.TABLE.items()} == {
        ("verifying", "verify"): ({D, S}, "rectifying"),
        ("verifying", "dismiss"): ({D, S}, "revisiting"),
        ("rectifying", "rectify"): ({D, S}, "revisiting"),
        ("revisiting", "revisit"): ({S}, "closed"),
        ("revisiting", "reopen"): ({S}, "rectifying"),
    }
    assert rect.allowed("verifying", D) == ["verify", "dismiss"]
    assert rect.allowed("revisiting", D) == []
    assert rect.allowed("revisiting", [D, S]) == ["revisit", "reopen"]
    assert rect.allowed("closed", [D, S]) == []
    assert rect.target("rectifying", "revisit", S) is None
    assert rect.DEFAULT_LIMITS == {"verifying": 1, "rectifying": 15, "revisiting": 1}


def test_verify_rectify_revisit_with_notes_people_and_deadlines_across_national_day(db, w) -> None:
    rated = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # Wed 30 Sep 10:00, the day before 国庆
    with db.unit_of_work() as s:
        app = concluded(s, w, rated)
        r = rate(s, actor=w.applicant, application_id=app.id, data=bad(), now=rated)
        rec = rect.of_rating(s, r.id)
        assert rec is not None
        # 1 working day: 1–7 Oct are holidays, so Thursday 8 Oct at 17:30
        assert rec.due_at == datetime(2026, 10, 8, 9, 30, tzinfo=UTC)
        assert not rect.overdue(rec, datetime(2026, 10, 8, 9, 0, tzinfo=UTC))
        assert rect.overdue(rec, datetime(2026, 10, 8, 10, 0, tzinfo=UTC))
        # the centre (not the rated department) does not see it; the market's handler does
        with pytest.raises(NotFound):
            rect.act(s, actor=w.centre, rating_id=r.id, action=rect.Action.VERIFY, version=1, note="x")
        assert rect.allowed_actions(w.market, rec) == ["verify", "dismiss"]
        with pytest.raises(ValidationFailed):
            rect.act(s, actor=w.market, rating_id=r.id, action=rect.Action.VERIFY, version=1, note="  ")
        verified = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)  # Thu 8 Oct 10:00
        rect.act(
            s, actor=w.market, rating_id=r.id, action=rect.Action.VERIFY, version=1, note="电话核实，属实", now=verified
        )
        assert (rec.state, rec.substantiated, rec.rounds, rec.version) == ("rectifying", True, 1, 2)
        # 15 working days counting the adjusted Saturday 10 Oct: Wednesday 28 Oct at 17:30
        assert rec.due_at == datetime(2026, 10, 28, 9, 30, tzinfo=UTC)
        with pytest.raises(rect.StaleRectification):
            rect.act(s, actor=w.market, rating_id=r.id, action=rect.Action.RECTIFY, version=1, note="x", now=verified)
        with pytest.raises(rect.TransitionNotAllowed) as exc:
            rect.act(s, actor=w.market, rating_id=r.id, action=rect.Action.REVISIT, version=2, note="x", now=verified)
        assert exc.value.status == 409 and exc.value.extra() == {"state": "rectifying", "allowed_actions": ["rectify"]}
        fixed = datetime(2026, 10, 29, 2, 0, tzinfo=UTC)  # a day late
        rect.act(
            s, actor=w.market, rating_id=r.id, action=rect.Action.RECTIFY, version=2, note="补充告知清单", now=fixed
        )
        assert rec.state == "revisiting" and rec.due_at == datetime(2026, 10, 30, 9, 30, tzinfo=UTC)
        with pytest.raises(rect.ActionForbidden) as denied:  # 回访 is the supervisor's
            rect.act(s, actor=w.market, rating_id=r.id, action=rect.Action.REVISIT, version=3, note="x", now=fixed)
        assert denied.value.status == 403 and denied.value.extra()["allowed_actions"] == []
        closed = fixed + timedelta(hours=3)
        rect.act(
            s, actor=w.supervisor, rating_id=r.id, action=rect.Action.REVISIT, version=3, note="回访满意", now=closed
        )
        assert (rec.state, rec.closed_at, rec.due_at, rect.overdue(rec, closed + timedelta(days=30))) == (
            "closed",
            closed,
            None,
            False,
        )
        events = rect.events(s, rec)
        assert [(e.action, e.actor_name, e.role, e.note, e.late) for e in events] == [
            ("verify", "市监审批 许文", "department", "电话核实，属实", False),
            ("rectify", "市监审批 许文", "department", "补充告知清单", True),
            ("revisit", "好差评办 周", "supervisor", "回访满意", False),
        ]
        audit = s.scalars(
            select(AuditEvent.action).where(AuditEvent.target_type == "services_rating").order_by(AuditEvent.seq)
        ).all()
        assert audit == [
            "services.rectification.verify",
            "services.rectification.rectify",
            "services.rectification.revisit",
        ]


def test_unfounded_goes_to_revisit_and_a_failed_revisit_rectifies_again(db, w) -> None:
    with db.unit_of_work() as s:
        app = concluded(s, w, T0)
        r = rate(s, actor=w.applicant, application_id=app.id, data=bad(), now=T0)
        rec = rect.of_rating(s, r.id)
        assert rec is not None
        rect.act(
            s,
            actor=w.supervisor,
            rating_id=r.id,
            action=rect.Action.DISMISS,
            version=1,
            note="调阅录像，不属实",
            now=T0,
        )
        assert (rec.state, rec.substantiated, rec.rounds) == ("revisiting", False, 0)
        rect.act(
            s, actor=w.supervisor, rating_id=r.id, action=rect.Action.REOPEN, version=2, note="评价人仍不认可", now=T0
        )
        assert (rec.state, rec.rounds) == ("rectifying", 1)


def test_limits_are_data(db, w) -> None:
    with db.unit_of_work() as s:
        with pytest.raises(PermissionDenied):
            rect.set_limits(s, actor=w.market, days={rect.State.VERIFYING: 2})
        with pytest.raises(ValidationFailed):
            rect.set_limits(s, actor=w.supervisor, days={rect.State.RECTIFYING: 0})
        assert rect.set_limits(s, actor=w.supervisor, days={rect.State.VERIFYING: 2}) == {
            "verifying": 2,
            "rectifying": 15,
            "revisiting": 1,
        }
        app = concluded(s, w, T0)
        r = rate(s, actor=w.applicant, application_id=app.id, data=bad(), now=T0)
        rec = rect.of_rating(s, r.id)
        assert rec is not None and rec.due_at == datetime(2026, 12, 3, 9, 30, tzinfo=UTC)  # Thursday 17:30


# ── listing, statistics, exchange ───────────────────────────────────────────────────────────────────


def _small_world(s, w: World) -> dict[str, int]:
    """Five ratings: market (good, named bad closed, anonymous bad open), centre (good), township (named bad open)."""
    ids: dict[str, int] = {}
    nov = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    a1 = concluded(s, w, nov)
    ids["good_market"] = rate(s, actor=w.applicant, application_id=a1.id, data=good(), now=nov).id
    ids["good_centre"] = rate(
        s, actor=w.window, application_id=a1.id, data=good(channel=TABLET, department_id=w.shop.centre), now=nov
    ).id
    a2 = concluded(s, w, T0)
    ids["bad_closed"] = rate(s, actor=w.applicant, application_id=a2.id, data=bad(), now=T0).id
    for action, who in (("verify", w.market), ("rectify", w.market), ("revisit", w.supervisor)):
        rec = rect.of_rating(s, ids["bad_closed"])
        assert rec is not None
        rect.act(
            s,
            actor=who,
            rating_id=ids["bad_closed"],
            action=rect.Action(action),
            version=rec.version,
            note="好",
            now=T0,
        )
    ids["bad_anonymous"] = rate(
        s, actor=w.applicant, application_id=a2.id, data=bad(channel=PC, anonymous=True), now=T0
    ).id
    a3 = concluded(s, w, T0, by=w.township_window)
    ids["bad_township"] = rate(
        s, actor=w.township_window, application_id=a3.id, data=bad(channel=TABLET, rater_name="钟大伯"), now=T0
    ).id
    return ids


def test_statistics_exact_with_the_records_behind_each_number(db, w) -> None:
    start, end = datetime(2026, 10, 31, 16, 0, tzinfo=UTC), datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    with db.unit_of_work() as s:
        ids = _small_world(s, w)
        rows, total = statistics(s, actor=w.supervisor, start=start, end=end, group="department")
        by = {r.name: r for r in rows}
        assert set(by) == {"测试市场监督管理局", "测试政务服务中心"}
        m = by["测试市场监督管理局"]
        assert m.rated == [ids["good_market"], ids["bad_closed"], ids["bad_anonymous"], ids["bad_township"]]
        assert (m.good_rate, m.bad_count, m.rectification_rate, m.named_rectification_rate) == (25.0, 3, 33.33, 50.0)
        assert m.rectified == [ids["bad_closed"]] and m.named_bad == [ids["bad_closed"], ids["bad_township"]]
        c = by["测试政务服务中心"]
        assert (c.good_rate, c.bad_count, c.rectification_rate, c.named_rectification_rate) == (100.0, 0, None, None)
        assert (total.good_rate, total.bad_count, total.rectification_rate, total.named_rectification_rate) == (
            40.0,
            3,
            33.33,
            50.0,
        )
        towns, _ = statistics(s, actor=w.supervisor, start=start, end=end, group="township")
        assert {t.key: t.bad for t in towns} == {
            "": [ids["bad_closed"], ids["bad_anonymous"]],
            "331125100": [ids["bad_township"]],
        }
        months, _ = statistics(s, actor=w.supervisor, start=start, end=end, group="month")
        assert [(mo.key, mo.rated) for mo in months] == [
            ("2026-11", [ids["good_market"], ids["good_centre"]]),
            ("2026-12", [ids["bad_closed"], ids["bad_anonymous"], ids["bad_township"]]),
        ]
        # a department sees its own numbers only
        rows, total = statistics(s, actor=w.centre, start=start, end=end)
        assert [r.name for r in rows] == ["测试政务服务中心"] and total.rated == [ids["good_centre"]]
        assert statistics(s, actor=w.applicant, start=start, end=end)[0] == []  # a resident sees no numbers


def test_listing_puts_open_bad_ratings_first_and_departments_see_their_own(db, w) -> None:
    with db.unit_of_work() as s:
        ids = _small_world(s, w)
        rows, total = listing(s, actor=w.supervisor, f=RatingFilter(), now=T0)
        assert total == 5
        order = [r.id for r, _ in rows]
        assert set(order[:2]) == {ids["bad_anonymous"], ids["bad_township"]} and order[2] == ids["bad_closed"]
        rows, total = listing(s, actor=w.centre, f=RatingFilter(), now=T0)
        assert [r.id for r, _ in rows] == [ids["good_centre"]]
        rows, _ = listing(s, actor=w.market, f=RatingFilter(state=rect.State.VERIFYING), now=T0)
        assert sorted(r.id for r, _ in rows) == sorted([ids["bad_anonymous"], ids["bad_township"]])
        rows, _ = listing(s, actor=w.supervisor, f=RatingFilter(overdue=True), now=T0 + timedelta(days=3))
        assert sorted(r.id for r, _ in rows) == sorted([ids["bad_anonymous"], ids["bad_township"]])
        assert listing(s, actor=w.applicant, f=RatingFilter()) == ([], 0)


def test_exchange_rows_carry_the_table_9_names_and_codes(db, w) -> None:
    with db.unit_of_work() as s:
        app = concluded(s, w, T0)
        r = rate(s, actor=w.applicant, application_id=app.id, data=bad(), now=T0)
        follow_up(s, actor=w.applicant, rating_id=r.id, text="已整改，认可", now=T0 + timedelta(days=1))
        rate(s, actor=w.window, application_id=app.id, data=good(channel=TABLET, anonymous=True), now=T0)
        rows = exchange_rows(s, start=T0 - timedelta(days=1), end=T0 + timedelta(days=2))
        assert rows == [
            {
                "办件编号": app.number,
                "评价渠道": "2",
                "评价渠道名称": "移动服务端",
                "评价人": "蓝水生",
                "满意度": "非常不满意",
                "满意度代码": "5",
                "行政区划": "000000",
                "评价时间": "2026-12-01T10:00:00+08:00",
                "评价次数": "1",
                "文字评价": "来回跑了两趟",
            },
            {
                "办件编号": app.number,
                "评价渠道": "2",
                "评价渠道名称": "移动服务端",
                "评价人": "蓝水生",
                "满意度": "非常不满意",
                "满意度代码": "5",
                "行政区划": "000000",
                "评价时间": "2026-12-02T10:00:00+08:00",
                "评价次数": "2",
                "文字评价": "已整改，认可",
            },
            {
                "办件编号": app.number,
                "评价渠道": "4",
                "评价渠道名称": "政务大厅平板电脑",
                "评价人": "匿名",
                "满意度": "非常满意",
                "满意度代码": "1",
                "行政区划": "000000",
                "评价时间": "2026-12-01T10:00:00+08:00",
                "评价次数": "1",
                "文字评价": "",
            },
        ]
        provincial = exchange_rows(
            s, start=T0 - timedelta(days=1), end=T0 + timedelta(days=2), order=SatisfactionOrder.ASCENDING
        )
        assert [x["满意度代码"] for x in provincial] == ["1", "1", "5"]
        assert exchange_rows(s, start=T0 + timedelta(days=2), end=T0 + timedelta(days=3)) == []


def test_demo_ratings_rate_a_realistic_share_deterministically(db, w) -> None:
    now = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
    with db.unit_of_work() as s:
        apps_ = [concluded(s, w, T0 + timedelta(hours=i)) for i in range(40)]
        apps_.append(concluded(s, w, T0, state="in_progress"))

        def run() -> list[tuple[int, str, str, bool]]:
            assert demo_ratings(s, applications=apps_, rng=Random(7), now=now) > 0
            return [
                (x.application_id, x.channel, x.level, x.anonymous)
                for x in s.scalars(select(Rating).order_by(Rating.id))
            ]

        with s.begin_nested() as sp:
            first = run()
            sp.rollback()
        second = run()
        assert first == second  # the same seed gives the same ratings
        assert 15 <= len(first) <= 35 and all(a != apps_[-1].id for a, *_ in first)  # not concluded: not rated
        levels = [lvl for _, _, lvl, _ in first]
        assert sum(lvl in ("very_satisfied", "satisfied") for lvl in levels) >= 0.75 * len(levels)
        bad = list(s.scalars(select(Rating).where(Rating.level.in_(["dissatisfied", "very_dissatisfied"]))))
        assert all((rc := rect.of_rating(s, x.id)) is not None and rc.state == "closed" for x in bad)  # long done
        assert demo_ratings(s, applications=apps_, rng=Random(7), now=now) == 0  # nothing rated twice
