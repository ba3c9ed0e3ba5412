"""The cases the public may see, as the residents' public map shows them.

What the public sees is the same as the Open311 feed (``published``): reports the public made on a
public channel, not merged into another case. On the map, and on a case's public page:
- no person: no reporter, no handler, no contact, no internal remark;
- a category marked ``sensitive`` is drawn at a point inside its grid (never where it was reported),
  without its description, address or photos;
- closed cases show for ``CLOSED_DAYS`` after closing; open ones while open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.models import Attachment, Case, Category, Channel
from countyos.core.errors import NotFound
from countyos.geo.service import grids

PUBLIC_CHANNELS = (Channel.WEB, Channel.OPEN311)
CLOSED_DAYS = 30
MAX_ON_MAP = 500


def published() -> Any:
    """The WHERE clause of the cases the public may see (the Open311 feed uses it too)."""
    return Case.public_report.is_(True) & Case.channel.in_([str(c) for c in PUBLIC_CHANNELS])


def is_published(case: Case) -> bool:
    return bool(case.public_report) and case.channel in PUBLIC_CHANNELS


@dataclass(frozen=True)
class PublicCase:
    id: int
    number: str
    category: str
    category_id: int
    state: str
    is_open: bool
    reported_at: datetime
    closed_at: datetime | None
    lon: float | None
    lat: float | None
    by_grid: bool  # drawn inside its grid, not where it was reported
    township_code: str | None
    place: str  # township and village names (the address too unless by grid)
    description: str | None  # None when sensitive
    photo: str | None  # the public token of its published photo (None when sensitive)


def _row(case: Case, cat: Category, grid_points: dict[str, tuple[float, float]], photos: dict[int, str]) -> PublicCase:
    by_grid = bool(cat.sensitive)
    if by_grid:
        lon, lat = grid_points.get(case.grid_code or "", (None, None))
        place = " ".join(x for x in (case.township_name, case.village_name) if x)
    else:
        lon, lat = case.lon, case.lat
        place = case.address or " ".join(x for x in (case.township_name, case.village_name) if x)
    return PublicCase(
        id=case.id,
        number=case.number or "",
        category=cat.name,
        category_id=cat.id,
        state=case.state,
        is_open=bool(case.is_open),
        reported_at=case.reported_at,
        closed_at=case.closed_at,
        lon=lon,
        lat=lat,
        by_grid=by_grid,
        township_code=case.township_code,
        place=place,
        description=None if by_grid else case.description,
        photo=None if by_grid else photos.get(case.id),
    )


def _photos(session: Session, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    if not ids:
        return out
    for token, case_id in session.execute(
        select(Attachment.public_token, Attachment.case_id)
        .where(Attachment.case_id.in_(ids), Attachment.public.is_(True))
        .order_by(Attachment.id)
    ):
        if case_id is not None:
            out.setdefault(case_id, token)
    return out


def _rows(session: Session, found: list[tuple[Case, Category]]) -> list[PublicCase]:
    sensitive_grids = [c.grid_code for c, cat in found if cat.sensitive and c.grid_code]
    points = grids.points(session, codes=sensitive_grids)
    photos = _photos(session, [c.id for c, cat in found if not cat.sensitive])
    return [_row(c, cat, points, photos) for c, cat in found]


def on_map(
    session: Session,
    *,
    now: datetime,
    closed: bool = False,
    township_code: str | None = None,
    category_id: int | None = None,
    limit: int = MAX_ON_MAP,
) -> tuple[list[PublicCase], int]:
    """Open cases (or those closed in the last ``CLOSED_DAYS``), newest first, at most ``limit``; and
    how many there are in all."""
    stmt = (
        select(Case, Category)
        .join(Category, Category.id == Case.category_id)
        .where(published(), Case.merged_into_id.is_(None), Case.voided_at.is_(None))
    )
    if closed:
        stmt = stmt.where(Case.is_open.is_(False), Case.closed_at >= now - timedelta(days=CLOSED_DAYS))
    else:
        stmt = stmt.where(Case.is_open.is_(True))
    if township_code:
        stmt = stmt.where(Case.township_code == township_code)
    if category_id:
        stmt = stmt.where(Case.category_id == category_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    found = list(session.execute(stmt.order_by(Case.reported_at.desc()).limit(max(1, min(limit, MAX_ON_MAP)))))
    return _rows(session, [(c, cat) for c, cat in found]), total


def public_case(session: Session, *, number: str) -> PublicCase:
    """One published case by its number (404 for anything the public may not see)."""
    found = session.execute(
        select(Case, Category)
        .join(Category, Category.id == Case.category_id)
        .where(Case.number == number[:40], published(), Case.merged_into_id.is_(None), Case.voided_at.is_(None))
    ).first()
    if found is None:
        raise NotFound("This report does not exist or is not public")
    case, cat = found
    return _rows(session, [(case, cat)])[0]


def closed_since(session: Session, *, case_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    """Which of these cases are closed: their numbers and when (for telling their followers)."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(Case.id, Case.number, Case.closed_at).where(
            Case.id.in_(case_ids), Case.is_open.is_(False), Case.closed_at.is_not(None)
        )
    )
    return {cid: (number or "", at) for cid, number, at in rows if at is not None}


def by_ids(session: Session, *, case_ids: list[int]) -> list[PublicCase]:
    """These cases as the public sees them (those the public may not see are left out), newest first."""
    if not case_ids:
        return []
    found = session.execute(
        select(Case, Category)
        .join(Category, Category.id == Case.category_id)
        .where(Case.id.in_(case_ids[:MAX_ON_MAP]), published(), Case.voided_at.is_(None))
        .order_by(Case.reported_at.desc())
    )
    return _rows(session, [(c, cat) for c, cat in found])
