"""The events calendar and the culture resources: 非遗 items (level, one of the ten categories as data),
their 传承人, and the 传统村落. Names of items, inheritors and villages are public; nothing else of a person
is kept."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.errors import NotFound
from countyos.core.i18n import N_
from countyos.org.service import audit
from countyos.village.models.tourism import HeritageInheritor, HeritageItem, TourismEvent, TraditionalVillage
from countyos.village.schemas.tourism import EventIn, HeritageItemIn, InheritorIn, TraditionalVillageIn
from countyos.village.service import tourism
from countyos.village.service.tourism import DATA, field_error

MAX_LIST = 500


@cache
def heritage_categories() -> dict[str, dict[str, str]]:
    data = json.loads((DATA / "tourism_heritage_categories.json").read_text(encoding="utf-8"))
    return {c["code"]: c for c in data["categories"]}


def category_name(code: str, locale: str) -> str:
    c = heritage_categories().get(code)
    if c is None:
        return code
    return c["zh"] if locale.startswith("zh") else c["en"]


# --- events --------------------------------------------------------------------------------------


def list_events(
    session: Session, *, start: datetime | None = None, end: datetime | None = None, public_only: bool = False
) -> list[TourismEvent]:
    stmt = select(TourismEvent).order_by(TourismEvent.starts_at)
    if start is not None:
        stmt = stmt.where(TourismEvent.ends_at >= start)
    if end is not None:
        stmt = stmt.where(TourismEvent.starts_at < end)
    if public_only:
        stmt = stmt.where(TourismEvent.public)
    return list(session.scalars(stmt.limit(MAX_LIST)))


def create_event(session: Session, *, actor: Actor, data: EventIn) -> TourismEvent:
    if data.spot_id is not None:
        try:
            tourism.get_spot(session, spot_id=data.spot_id)
        except NotFound:
            raise field_error("spot_id", N_("No such scenic spot")) from None
    event = TourismEvent(**data.model_dump())
    session.add(event)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.event.create", target_type="village_tourism_event",
        target_id=event.id, detail={"title": event.title},
    )  # fmt: skip
    return event


# --- 非遗 ------------------------------------------------------------------------------------------


def list_items(session: Session) -> list[HeritageItem]:
    return list(session.scalars(select(HeritageItem).order_by(HeritageItem.level, HeritageItem.name).limit(MAX_LIST)))


def create_item(session: Session, *, actor: Actor, data: HeritageItemIn) -> HeritageItem:
    if data.category not in heritage_categories():
        raise field_error("category", N_("Choose one of the ten categories"))
    if session.scalar(select(HeritageItem.id).where(HeritageItem.name == data.name)) is not None:
        raise field_error("name", N_("An item of this name exists already"))
    item = HeritageItem(**data.model_dump())
    session.add(item)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.heritage.create", target_type="village_heritage_item",
        target_id=item.id, detail={"name": item.name, "level": item.level.value},
    )  # fmt: skip
    return item


def list_inheritors(session: Session, *, item_id: int | None = None) -> list[HeritageInheritor]:
    stmt = select(HeritageInheritor).order_by(HeritageInheritor.item_id, HeritageInheritor.level, HeritageInheritor.id)
    if item_id is not None:
        stmt = stmt.where(HeritageInheritor.item_id == item_id)
    return list(session.scalars(stmt.limit(MAX_LIST)))


def create_inheritor(session: Session, *, actor: Actor, data: InheritorIn) -> HeritageInheritor:
    if session.get(HeritageItem, data.item_id) is None:
        raise field_error("item_id", N_("No such heritage item"))
    person = HeritageInheritor(**data.model_dump())
    session.add(person)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.inheritor.create", target_type="village_heritage_item",
        target_id=data.item_id, detail={"inheritor": person.id},
    )  # fmt: skip
    return person


# --- 传统村落 ---------------------------------------------------------------------------------------


def list_villages(session: Session) -> list[TraditionalVillage]:
    return list(
        session.scalars(
            select(TraditionalVillage).order_by(TraditionalVillage.batch, TraditionalVillage.name).limit(MAX_LIST)
        )
    )


def create_village(session: Session, *, actor: Actor, data: TraditionalVillageIn) -> TraditionalVillage:
    if session.scalar(select(TraditionalVillage.id).where(TraditionalVillage.name == data.name)) is not None:
        raise field_error("name", N_("This village is listed already"))
    v = TraditionalVillage(**data.model_dump())
    session.add(v)
    session.flush()
    audit.record(
        session, actor=actor, action="village.tourism.village.create", target_type="village_traditional_village",
        target_id=v.id, detail={"name": v.name, "batch": v.batch},
    )  # fmt: skip
    return v
