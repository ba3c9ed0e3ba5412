"""好评率 and applications concluded on time as KPIs: the new measures of the applications source (rated,
rated_good) count an application rated good only when none of its ratings is bad; the KPI's value equals
the operations view's tile for the same month, and the list opens those applications."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from countyos.core.clock import utcnow
from countyos.programme.models.kpis import ContractKpi, Score
from countyos.programme.models.projects import Contract
from countyos.programme.service import kpis_assess
from countyos.services.codes import RatingChannel, Satisfaction
from countyos.services.models import Rating
from tests.factories import login, person
from tests.programme.kpis_helpers import OFFICE, add_kpi, programme
from tests.services.conftest import shop  # noqa: F401  (fixture)
from tests.services.service.ratings_world import concluded, world

AT = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)  # concluded; submitted three days before, in June


def test_good_rate_and_on_time_equal_the_tiles(client, db, shop) -> None:  # noqa: F811
    w = world(db, shop)
    levels = {
        0: [Satisfaction.VERY_SATISFIED],
        1: [Satisfaction.DISSATISFIED],
        2: [Satisfaction.SATISFIED, Satisfaction.VERY_DISSATISFIED],
        3: [],
    }
    channels = [RatingChannel.PC, RatingChannel.PHONE]
    with db.unit_of_work() as s:
        for i, ls in levels.items():
            app = concluded(s, w, AT + timedelta(minutes=i))
            for ch, level in zip(channels, ls, strict=False):
                s.add(Rating(application_id=app.id, channel=ch, level=level, rated_at=AT + timedelta(hours=1)))
    p = programme(db)
    add_kpi(db, p.contract_id, "services_good_rate", target=98, weight=50)
    add_kpi(db, p.contract_id, "applications_on_time", target=98, weight=50, scoring={"kind": "target"})
    with db.unit_of_work() as s:
        aid = kpis_assess.assess(s, actor=OFFICE, contract=s.get_one(Contract, p.contract_id),
                                 period_start=date(2026, 6, 1), now=utcnow()).id  # fmt: skip
    with db.reading() as s:
        scores = {k: (sc.value, sc.count, sc.whole, sc.records_url) for sc, k in s.execute(
            select(Score, ContractKpi.kpi).join(ContractKpi, ContractKpi.id == Score.kpi_id)
            .where(Score.assessment_id == aid))}  # fmt: skip
    assert scores["services_good_rate"][:3] == (33.33, 1, 3)
    login(client, person(db, ["leader"]))
    june = {"since": "2026-06-01", "until": "2026-06-30"}
    tiles = {t["code"]: t for t in client.get("/api/v1/ioc/indicators", params=june).json()["tiles"]}
    for kpi, code in (
        ("services_good_rate", "services_good_rate"),
        ("applications_on_time", "applications_on_time_rate"),
    ):
        t = tiles[code]
        assert scores[kpi][:3] == (t["rate"], t["count"], t["whole"])
        assert scores[kpi][3] == t["url"]
    good = client.get(tiles["services_good_rate"]["api_url"]).json()
    assert good["total"] == 1
