"""The services domain's scheduled work: the 电子监察 sweep and the lapse of corrections never made,
registered as jobs and run in their own unit of work."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from countyos import domains
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.services import jobs
from countyos.services.lifecycle import Action
from countyos.services.models import RuleKind, SupervisionWarning
from countyos.services.service import applications as apps
from tests.services.service.test_supervision import do, matter, only, submit


def test_jobs_are_registered() -> None:
    names = {j.name: j for m in domains.modules("jobs") for j in m.JOBS}
    assert names["services.sweep_supervision"].run is jobs.sweep_supervision
    assert names["services.lapse_corrections"].run is jobs.lapse_corrections
    assert names["services.sweep_supervision"].every_seconds == 300


def test_the_jobs_warn_and_lapse(db, shop) -> None:
    window = Actor(id=None, name="窗口", permissions=frozenset({apps.WINDOW}), department_id=shop.centre)
    long_ago = utcnow() - timedelta(days=60)
    with db.unit_of_work() as s:
        only(s, RuleKind.TIME_USED, RuleKind.OVERDUE, RuleKind.LAPSE)
        mid, mats = matter(s, shop)
        late = do(s, window, submit(s, window, mid, mats, long_ago), Action.ACCEPT, long_ago)
        waiting = do(s, window, submit(s, window, mid, mats[:1], long_ago), Action.REQUEST_CORRECTION, long_ago)
        fresh = do(s, window, submit(s, window, mid, mats[:1], utcnow()), Action.REQUEST_CORRECTION, utcnow())
        ids = late.id, waiting.id, waiting.number, fresh.id
    counts = jobs.sweep_supervision(db)
    assert counts["raised"] == 1
    assert jobs.sweep_supervision(db)["raised"] == 0
    assert jobs.lapse_corrections(db) == [ids[2]]
    with db.unit_of_work() as s:
        [w] = s.scalars(select(SupervisionWarning)).all()
        assert (w.application_id, w.level) == (ids[0], "red")
        assert s.get(apps.Application, ids[1]).state == "withdrawn"
        assert s.get(apps.Application, ids[3]).state == "correction_requested"
