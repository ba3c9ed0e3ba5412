"""API of the tourism part of the village domain, under /api/v1/village/tourism.

- ``GET /crowding`` (public): each active spot's 在园人数, share of capacity, level, today's visitors.
- ``GET /spots``, ``GET /spots/{id}``, ``GET /spots/{id}/live``, ``GET /spots/{id}/daily`` (the bureau,
  the leaders, or the spot's own manager); ``POST /spots``, ``PATCH /spots/{id}``,
  ``POST /spots/{id}/counters`` (``village.tourism.manage``); ``POST /spots/{id}/revenue`` (its manager).
- ``GET/POST /homestays``, ``POST /homestays/{id}/reports`` (the keeper), ``GET /homestays/{id}/reports``,
  ``GET /occupancy?start&end``.
- ``GET/POST /events``, ``GET/POST /heritage``, ``GET/POST /inheritors``, ``GET/POST /villages``.
- ``GET /holidays``, ``GET /holidays/{code}``: the holiday report.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from countyos.core.clock import utcnow
from countyos.core.errors import ValidationFailed
from countyos.core.i18n import N_
from countyos.core.settings import get_settings
from countyos.village.permissions import TOURISM_MANAGE, TOURISM_READ, TOURISM_REPORT
from countyos.village.schemas.tourism import (
    CounterIn,
    CounterOut,
    DailyOut,
    EventIn,
    EventOut,
    HeritageItemIn,
    HeritageItemOut,
    HolidayReportOut,
    HomestayIn,
    HomestayOut,
    InheritorIn,
    InheritorOut,
    LiveOut,
    OccupancyOut,
    PublicCrowdingOut,
    RevenueIn,
    SpotIn,
    SpotOut,
    SpotPatch,
    StayReportIn,
    StayReportOut,
    TraditionalVillageIn,
    TraditionalVillageOut,
)
from countyos.village.service import (
    tourism,
    tourism_culture,
    tourism_flow,
    tourism_holidays,
    tourism_public,
    tourism_stays,
)
from countyos.web.deps import Auth, ReadSession, WriteSession, authenticated, public, require

router = APIRouter(prefix="/tourism", tags=["village"])
Reader = Annotated[Auth, Depends(require(TOURISM_READ))]
Keeper = Annotated[Auth, Depends(require(TOURISM_MANAGE))]
Reporter = Annotated[Auth, Depends(require(TOURISM_REPORT))]
Anyone = Annotated[Auth, Depends(authenticated)]
MAX_DAYS = 400


def _period(start: date | None, end: date | None, default_days: int = 31) -> tuple[date, date]:
    last = end or tourism_flow.local_day(utcnow())
    first = start or last - timedelta(days=default_days - 1)
    if first > last or (last - first).days > MAX_DAYS:
        raise ValidationFailed(N_("The period must start before it ends and span at most 400 days"))
    return first, last


@router.get("/crowding", dependencies=[Depends(public)])
def crowding(session: ReadSession) -> list[PublicCrowdingOut]:
    return tourism_public.crowding_now(session, locale=get_settings().default_locale)


# --- spots ---------------------------------------------------------------------------------------


@router.get("/spots")
def list_spots(session: ReadSession, a: Anyone) -> list[SpotOut]:
    if tourism.sees_all(a.actor):
        rows = tourism.list_spots(session, active_only=False)
    else:
        rows = tourism.my_spots(session, a.actor)
    return [SpotOut.model_validate(s) for s in rows]


@router.post("/spots", status_code=201)
def create_spot(body: SpotIn, session: WriteSession, a: Keeper) -> SpotOut:
    return SpotOut.model_validate(tourism.create_spot(session, actor=a.actor, data=body))


@router.get("/spots/{spot_id}")
def get_spot(spot_id: int, session: ReadSession, a: Anyone) -> SpotOut:
    return SpotOut.model_validate(tourism.spot_for(session, a.actor, spot_id))


@router.patch("/spots/{spot_id}")
def update_spot(spot_id: int, body: SpotPatch, session: WriteSession, a: Keeper) -> SpotOut:
    return SpotOut.model_validate(tourism.update_spot(session, actor=a.actor, spot_id=spot_id, data=body))


@router.post("/spots/{spot_id}/counters", status_code=201)
def attach_counter(spot_id: int, body: CounterIn, session: WriteSession, a: Keeper) -> CounterOut:
    return CounterOut.model_validate(tourism.attach_counter(session, actor=a.actor, spot_id=spot_id, data=body))


@router.get("/spots/{spot_id}/live")
def live(spot_id: int, session: ReadSession, a: Anyone) -> LiveOut:
    spot = tourism.spot_for(session, a.actor, spot_id)
    return tourism_public.live_of(session, spot)


@router.get("/spots/{spot_id}/daily")
def daily(
    spot_id: int, session: ReadSession, a: Anyone, start: date | None = None, end: date | None = None
) -> list[DailyOut]:
    tourism.spot_for(session, a.actor, spot_id)
    first, last = _period(start, end)
    return [DailyOut.model_validate(r) for r in tourism_flow.daily(session, spot_id=spot_id, start=first, end=last)]


@router.post("/spots/{spot_id}/revenue")
def report_revenue(spot_id: int, body: RevenueIn, session: WriteSession, a: Anyone) -> DailyOut:
    row = tourism_holidays.report_revenue(session, actor=a.actor, spot_id=spot_id, data=body)
    return DailyOut.model_validate(row)


# --- homestays -----------------------------------------------------------------------------------


@router.get("/homestays")
def list_homestays(
    session: ReadSession, a: Anyone, village: Annotated[str, Query(max_length=100)] = ""
) -> list[HomestayOut]:
    if tourism.sees_all(a.actor):
        rows = tourism_stays.list_stays(session, village=village)
    else:
        rows = tourism_stays.my_stays(session, a.actor)
    return [HomestayOut.model_validate(h) for h in rows]


@router.post("/homestays", status_code=201)
def create_homestay(body: HomestayIn, session: WriteSession, a: Keeper) -> HomestayOut:
    return HomestayOut.model_validate(tourism_stays.create(session, actor=a.actor, data=body))


@router.put("/homestays/{homestay_id}")
def update_homestay(homestay_id: int, body: HomestayIn, session: WriteSession, a: Keeper) -> HomestayOut:
    return HomestayOut.model_validate(tourism_stays.update(session, actor=a.actor, homestay_id=homestay_id, data=body))


@router.post("/homestays/{homestay_id}/reports")
def report_stay(homestay_id: int, body: StayReportIn, session: WriteSession, a: Anyone) -> StayReportOut:
    row = tourism_stays.report(session, actor=a.actor, homestay_id=homestay_id, data=body)
    return StayReportOut.model_validate(row)


@router.get("/homestays/{homestay_id}/reports")
def stay_reports(
    homestay_id: int, session: ReadSession, a: Anyone, start: date | None = None, end: date | None = None
) -> list[StayReportOut]:
    tourism_stays.stay_for(session, a.actor, homestay_id)
    first, last = _period(start, end)
    rows = tourism_stays.reports(session, homestay_id=homestay_id, start=first, end=last)
    return [StayReportOut.model_validate(r) for r in rows]


@router.get("/occupancy")
def occupancy(
    session: ReadSession, a: Reader, start: date | None = None, end: date | None = None
) -> list[OccupancyOut]:
    first, last = _period(start, end, 366)
    return tourism_stays.occupancy(session, start=first, end=last)


# --- events and culture --------------------------------------------------------------------------


@router.get("/events")
def list_events(session: ReadSession, a: Reader) -> list[EventOut]:
    return [EventOut.model_validate(e) for e in tourism_culture.list_events(session)]


@router.post("/events", status_code=201)
def create_event(body: EventIn, session: WriteSession, a: Keeper) -> EventOut:
    return EventOut.model_validate(tourism_culture.create_event(session, actor=a.actor, data=body))


@router.get("/heritage")
def list_heritage(session: ReadSession, a: Reader) -> list[HeritageItemOut]:
    return [HeritageItemOut.model_validate(i) for i in tourism_culture.list_items(session)]


@router.post("/heritage", status_code=201)
def create_heritage(body: HeritageItemIn, session: WriteSession, a: Keeper) -> HeritageItemOut:
    return HeritageItemOut.model_validate(tourism_culture.create_item(session, actor=a.actor, data=body))


@router.get("/inheritors")
def list_inheritors(
    session: ReadSession, a: Reader, item_id: Annotated[int | None, Query(ge=1)] = None
) -> list[InheritorOut]:
    return [InheritorOut.model_validate(p) for p in tourism_culture.list_inheritors(session, item_id=item_id)]


@router.post("/inheritors", status_code=201)
def create_inheritor(body: InheritorIn, session: WriteSession, a: Keeper) -> InheritorOut:
    return InheritorOut.model_validate(tourism_culture.create_inheritor(session, actor=a.actor, data=body))


@router.get("/villages")
def list_villages(session: ReadSession, a: Reader) -> list[TraditionalVillageOut]:
    return [TraditionalVillageOut.model_validate(v) for v in tourism_culture.list_villages(session)]


@router.post("/villages", status_code=201)
def create_village(body: TraditionalVillageIn, session: WriteSession, a: Keeper) -> TraditionalVillageOut:
    return TraditionalVillageOut.model_validate(tourism_culture.create_village(session, actor=a.actor, data=body))


# --- holidays ------------------------------------------------------------------------------------


@router.get("/holidays")
def list_holidays(a: Reader) -> list[dict[str, str]]:
    return [
        {"code": h.code, "name": h.name, "start": h.start.isoformat(), "end": h.end.isoformat()}
        for h in tourism_holidays.holidays().values()
    ]


@router.get("/holidays/{code}")
def holiday_report(code: Annotated[str, Path(max_length=40)], session: ReadSession, a: Reader) -> HolidayReportOut:
    return tourism_holidays.report(session, code=code[:40])
