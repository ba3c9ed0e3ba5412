"""The demo's notices load on the demo county: published, a draft, one withdrawn, lists masked."""

from __future__ import annotations

import json

from sqlalchemy import select

from countyos.core.demo import DemoContext
from countyos.portal import demo_notices
from countyos.portal.models import Message, Notice, NoticeKind, NoticeState
from tests.factories import department, person
from tests.portal.notices_world import NoticesWorld


def test_the_demo_notices(db, notices_world: NoticesWorld) -> None:
    ctx = DemoContext()
    ctx.department_ids["县应急管理局"] = notices_world.county_dep  # made by the world already
    for _, _, dep_name in demo_notices.PUBLISHERS[1:]:
        ctx.department_ids[dep_name] = department(db, dep_name)
    publishers = {  # as org.demo makes them
        person(db, ["notice_publisher"], username=username, department_id=ctx.department_ids[dep_name]).id
        for username, _, dep_name in demo_notices.PUBLISHERS
    }
    ctx.user_ids["resident"] = person(db, ["resident"]).id
    with db.unit_of_work() as s:
        demo_notices.load(s, ctx)
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(Notice)))
        states = [n.state for n in rows]
        assert len(rows) == 10
        assert states.count(NoticeState.DRAFT) == 1 and states.count(NoticeState.WITHDRAWN) == 1
        subsidy = next(n for n in rows if n.kind is NoticeKind.SUBSIDY)
        stored = json.dumps(subsidy.table, ensure_ascii=False)
        assert "332527195803120017" not in stored and "叶根发" not in stored and "13857801234" not in stored
        assert "叶*发" in stored and "332***********0017" in stored
        assert s.scalars(select(Message).where(Message.user_id == ctx.user_ids["resident"])).first() is not None
        assert {n.created_by_id for n in rows} == publishers
