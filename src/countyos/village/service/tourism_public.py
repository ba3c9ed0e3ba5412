"""What the public and the staff pages read of a spot now: live figures and the public crowding list
(names, figures and levels only — no manager, no person, no record of who reported anything)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from countyos.core.clock import utcnow
from countyos.core.i18n import gettext, use_locale
from countyos.village.models.tourism import Spot
from countyos.village.schemas.tourism import LiveOut, PublicCrowdingOut
from countyos.village.service import tourism, tourism_crowding, tourism_flow


def live_of(session: Session, spot: Spot, *, now: datetime | None = None, curve: bool = True) -> LiveOut:
    flow = tourism_flow.live(session, spot_ids=[spot.id], now=now)[spot.id]
    return LiveOut(
        spot_id=spot.id,
        name=spot.name,
        day=flow.day,
        in_park=flow.in_park,
        clipped=flow.raw_in_park < 0,
        entries_today=flow.entries,
        exits_today=flow.exits,
        peak=flow.peak,
        peak_at=flow.peak_at,
        capacity_instant=spot.capacity_instant,
        percent=tourism_flow.percent(spot, flow.in_park),
        crowding=spot.crowding,
        updated_at=flow.last_at,
        curve=flow.curve if curve else [],
    )


def crowding_now(session: Session, *, locale: str, now: datetime | None = None) -> list[PublicCrowdingOut]:
    """Each active spot now. The level in words is the live share's (the spot's alarm level may be kept
    higher until it empties: that is the bureau's, not the visitor's)."""
    now = now or utcnow()
    spots = tourism.list_spots(session)
    flows = tourism_flow.live(session, spot_ids=[s.id for s in spots], now=now)
    out = []
    with use_locale(locale):
        for s in spots:
            f = flows[s.id]
            if not f.has_counters:
                continue
            share = tourism_flow.percent(s, f.in_park)
            level = tourism_crowding.level_for(share)
            out.append(
                PublicCrowdingOut(
                    name=s.name,
                    a_level=s.a_level,
                    in_park=f.in_park,
                    capacity_instant=s.capacity_instant,
                    percent=share,
                    level=level,
                    level_words=gettext(tourism.CROWDING_NAMES[level]),
                    colour=tourism.crowding_colour(level),
                    visitors_today=f.entries,
                    updated_at=f.last_at,
                    clipped=f.raw_in_park < 0,
                )
            )
    return out
