"""The demo county's 好差评: a realistic share of concluded applications rated through ``ratings.rate``
(mostly 满意 or 非常满意, a few 差评 whose 核实, 整改 and 回访 are done, or in progress when recent)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.services.codes import RatingChannel, Satisfaction
from countyos.services.lifecycle import State
from countyos.services.models import Application, Rating
from countyos.services.service import rectification
from countyos.services.service.ratings import (
    BAD_TAGS,
    GOOD_TAGS,
    HANDLE,
    RATEABLE_STATES,
    SUPERVISE,
    WINDOW,
    RatingInput,
    is_bad,
    rate,
)

# How often the demo's concluded applications are rated, and the levels' weights (mostly satisfied).
DEMO_SHARE = 0.6
DEMO_LEVEL_WEIGHTS = (
    (Satisfaction.VERY_SATISFIED, 62),
    (Satisfaction.SATISFIED, 27),
    (Satisfaction.FAIRLY_SATISFIED, 7),
    (Satisfaction.DISSATISFIED, 3),
    (Satisfaction.VERY_DISSATISFIED, 1),
)
DEMO_BAD_COMMENTS = (
    "窗口让我回去补复印件，来回跑了两趟。",
    "说好五个工作日办结，实际拖了快两周。",
    "等候时间太长，叫号系统也不清楚。",
    "工作人员解释不耐烦。",
)
DEMO_GOOD_COMMENTS = ("材料一次讲清楚了，谢谢！", "代办员上门帮忙，很方便。", "", "", "")
DEMO_NOTES = {
    rectification.Action.VERIFY: "已电话联系评价人，调阅窗口录像，情况属实。",
    rectification.Action.RECTIFY: "已对窗口人员批评教育，完善一次性告知清单并在窗口公示。",
    rectification.Action.REVISIT: "回访评价人，对整改结果表示认可。",
}


def _pick(seq: tuple[Any, ...] | list[Any], u: float) -> Any:
    return seq[min(int(u * len(seq)), len(seq) - 1)]


def rate_demo(session: Session, *, applications: Iterable[Application], rng: Random, now: datetime) -> int:
    """Rate a realistic share of the given concluded demo applications through ``rate`` (mostly 满意 or
    非常满意, a few 差评 whose 整改 and 回访 are done, or still in progress when recent). Returns how many
    ratings were written. Deterministic for a given ``rng`` (each application draws the same number of
    values, rated or not); applications not concluded or already rated on the channel are skipped."""
    written = 0
    scale = [lvl for lvl, w in DEMO_LEVEL_WEIGHTS for _ in range(w)]
    for app in applications:
        u = [rng.random() for _ in range(12)]
        if State(app.state) not in RATEABLE_STATES or u[0] >= DEMO_SHARE:
            continue
        concluded = app.delivered_at or app.decided_at or app.closed_at or app.submitted_at or now
        at = min(concluded + timedelta(hours=1 + int(u[1] * 72)), now)
        level = _pick(scale, u[2])
        bad = is_bad(level)
        online = app.applicant_user_id is not None and u[3] < 0.7
        channel = _pick((RatingChannel.MOBILE, RatingChannel.PC), u[4]) if online else RatingChannel.HALL_TABLET
        if session.scalar(select(Rating.id).where(Rating.application_id == app.id, Rating.channel == channel)):
            continue
        actor = (
            Actor(id=app.applicant_user_id, name=app.applicant_name, permissions=frozenset())
            if online
            else Actor(id=None, name="demo", permissions=frozenset({WINDOW, SUPERVISE}))
        )
        data = RatingInput(
            channel=channel,
            level=level,
            tags=[_pick(BAD_TAGS, u[5])] if bad else ([_pick(GOOD_TAGS, u[5])] if u[6] < 0.5 else []),
            comment=_pick(DEMO_BAD_COMMENTS, u[7]) if bad else (_pick(DEMO_GOOD_COMMENTS, u[7]) or None),
            anonymous=u[8] < (0.3 if bad else 0.1),
        )
        rating = rate(session, actor=actor, application_id=app.id, data=data, now=at)
        written += 1
        if bad:
            gaps = (
                timedelta(hours=2 + int(u[9] * 18)),  # 核实 the same or the next working day
                timedelta(days=2 + int(u[10] * 10)),  # 整改 within days
                timedelta(hours=3 + int(u[11] * 21)),  # 回访
            )
            _demo_rectify(session, rating, at, now, gaps)
    return written


def _demo_rectify(session: Session, rating: Rating, at: datetime, now: datetime, gaps: tuple[timedelta, ...]) -> None:
    """核实, 整改 and 回访 after the given gaps, as far as ``now`` allows."""
    steps = (
        (rectification.Action.VERIFY, "department"),
        (rectification.Action.RECTIFY, "department"),
        (rectification.Action.REVISIT, "supervisor"),
    )
    t = at
    for (action, role), gap in zip(steps, gaps, strict=True):
        t = t + gap
        if t > now:
            return
        rec = rectification.of_rating(session, rating.id)
        assert rec is not None
        if role == "department" and rec.department_id is not None:
            actor = Actor(id=None, name="demo", permissions=frozenset({HANDLE}), department_id=rec.department_id)
        else:
            actor = Actor(id=None, name="demo", permissions=frozenset({SUPERVISE}))
        rectification.act(
            session,
            actor=actor,
            rating_id=rating.id,
            action=action,
            version=rec.version,
            note=DEMO_NOTES[action],
            now=t,
        )
