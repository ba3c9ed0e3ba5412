"""Patrols (巡河/巡林) of a chief's own waters or forests, their GPS tracks and the problems found.

A chief starts a patrol of one of their serving assignments; the phone sends the track in batches
(``max_points_per_batch`` a batch, ``max_points_per_patrol`` a patrol, each point numbered by the phone
so that a batch sent twice is kept once); finishing computes the duration and the track's length in
metres (ellipsoidal, point to point in ``seq`` order). A finished patrol with fewer than ``min_points``
points or shorter than ``min_length_m`` is kept and **flagged**: it does not count as a patrol done.

Each problem found becomes a case of the cases domain (channel 网格巡查 GRID, at the problem's point,
with its photo as the case's attachment) in the category its type names in ``data/chief_duties.json``;
the problem keeps the case's id and number, the case's context names the patrol and the problem.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.cases.models import CategoryKind, Channel
from countyos.cases.service import attachments, cases, categories
from countyos.core.actor import SYSTEM, Actor
from countyos.core.clock import as_utc, utcnow
from countyos.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from countyos.core.i18n import N_
from countyos.eco.models.rivers import (
    ChiefLevel,
    PatrolState,
    RiverArea,
    RiverChief,
    RiverPatrol,
    RiverPatrolPoint,
    RiverProblem,
)
from countyos.eco.schemas.rivers import PointIn, ProblemIn
from countyos.eco.service import rivers
from countyos.geo.service import distance_m
from countyos.org.service import audit

DATA = Path(__file__).resolve().parent.parent / "data" / "chief_duties.json"


@cache
def config() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


def rule() -> dict[str, Any]:
    out: dict[str, Any] = config()["patrol_rule"]
    return out


def problem_kinds() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = config()["problems"]
    return out


def get(session: Session, *, patrol_id: int) -> RiverPatrol:
    p = session.get(RiverPatrol, patrol_id)
    if p is None:
        raise NotFound(N_("Patrol %(id)s does not exist"), id=patrol_id)
    return p


def serving(c: RiverChief, on: datetime) -> bool:
    day = on.date()
    return c.starts_on <= day and (c.ends_on is None or c.ends_on >= day)


def my_assignments(session: Session, *, user_id: int, on: datetime | None = None) -> list[RiverChief]:
    when = on or utcnow()
    return rivers.list_chiefs(session, user_id=user_id, current=True, on=when.date())


def _own(actor: Actor, p: RiverPatrol) -> None:
    if actor.id is None or p.user_id != actor.id:
        raise PermissionDenied(N_("This patrol is another chief's"))


def start(session: Session, *, actor: Actor, chief_id: int, note: str | None = None,
          at: datetime | None = None) -> RiverPatrol:  # fmt: skip
    """A patrol of the caller's own serving assignment CHIEF_ID."""
    now = at or utcnow()
    c = session.get(RiverChief, chief_id)
    if c is None or actor.id is None or c.user_id != actor.id:
        raise PermissionDenied(N_("You can patrol only the rivers and forests you are chief of"))
    if not serving(c, now):
        raise ValidationFailed(
            N_("This assignment is not in force today"), errors=[{"field": "chief_id", "message": "ended"}]
        )
    p = RiverPatrol(
        chief_id=c.id, area_id=c.area_id, user_id=c.user_id, state=PatrolState.OPEN, started_at=now,
        length_m=0.0, points=0, flagged=False, note=(note or "").strip() or None,
    )  # fmt: skip
    session.add(p)
    session.flush()
    audit.record(session, actor=actor, action="eco.rivers.patrol.start", target_type="eco_river_patrol",
                 target_id=p.id, detail={"chief_id": c.id, "area_id": c.area_id})  # fmt: skip
    return p


def add_points(session: Session, *, actor: Actor, patrol_id: int, points: list[PointIn]) -> tuple[int, int]:
    """Keep a batch of track points (a point already sent is ignored); (added, points now)."""
    p = get(session, patrol_id=patrol_id)
    _own(actor, p)
    if p.state != PatrolState.OPEN:
        raise Conflict(N_("This patrol is finished"))
    r = rule()
    if len(points) > int(r["max_points_per_batch"]):
        raise ValidationFailed(N_("At most %(n)s points a batch"), n=r["max_points_per_batch"])
    seen = set(session.scalars(
        select(RiverPatrolPoint.seq).where(RiverPatrolPoint.patrol_id == p.id,
                                           RiverPatrolPoint.seq.in_([pt.seq for pt in points]))
    ))  # fmt: skip
    fresh: dict[int, PointIn] = {}
    for pt in points:
        if pt.seq not in seen:
            fresh[pt.seq] = pt
    if p.points + len(fresh) > int(r["max_points_per_patrol"]):
        raise ValidationFailed(N_("A patrol keeps at most %(n)s points"), n=r["max_points_per_patrol"])
    earliest = p.started_at - timedelta(hours=1)
    latest = utcnow() + timedelta(minutes=10)
    for pt in fresh.values():
        at = as_utc(pt.at) if pt.at.tzinfo else pt.at.replace(tzinfo=UTC)
        if not (earliest <= at <= latest):
            raise ValidationFailed(
                N_("A point's time is outside the patrol"), errors=[{"field": "points", "message": "time"}]
            )
        session.add(RiverPatrolPoint(patrol_id=p.id, seq=pt.seq, at=at, lon=pt.lon, lat=pt.lat,
                                     accuracy_m=pt.accuracy_m))  # fmt: skip
    p.points += len(fresh)
    session.flush()
    if fresh:
        audit.record(
            session,
            actor=actor,
            action="eco.rivers.patrol.track",
            target_type="eco_river_patrol",
            target_id=p.id,
            detail={"added": len(fresh), "points": p.points, "seq": [min(fresh), max(fresh)]},
        )
    return len(fresh), p.points


def track(session: Session, *, patrol_id: int) -> list[RiverPatrolPoint]:
    return list(
        session.scalars(
            select(RiverPatrolPoint).where(RiverPatrolPoint.patrol_id == patrol_id).order_by(RiverPatrolPoint.seq)
        )
    )


def track_length_m(points: list[tuple[float, float]]) -> float:
    total = 0.0
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(points):
        total += distance_m(lon1, lat1, lon2, lat2)
    return total


def finish(session: Session, *, actor: Actor, patrol_id: int, note: str | None = None,
           at: datetime | None = None) -> RiverPatrol:  # fmt: skip
    p = get(session, patrol_id=patrol_id)
    _own(actor, p)
    if p.state != PatrolState.OPEN:
        raise Conflict(N_("This patrol is finished"))
    now = at or utcnow()
    pts = track(session, patrol_id=p.id)
    p.length_m = round(track_length_m([(x.lon, x.lat) for x in pts]), 1)
    p.points = len(pts)
    end_at = max([now, *(x.at for x in pts)]) if pts else now
    p.finished_at = end_at
    p.duration_s = max(0, int((end_at - p.started_at).total_seconds()))
    p.state = PatrolState.FINISHED
    r = rule()
    if p.points < int(r["min_points"]):
        p.flagged, p.flag_reason = True, N_("Fewer track points than a patrol needs")
    elif p.length_m < float(r["min_length_m"]):
        p.flagged, p.flag_reason = True, N_("The track has no length")
    elif p.duration_s > int(r["max_hours"]) * 3600:
        p.flagged, p.flag_reason = True, N_("The patrol lasted longer than a day")
    if note and note.strip():
        p.note = ((p.note + "\n") if p.note else "") + note.strip()
    session.flush()
    audit.record(session, actor=actor, action="eco.rivers.patrol.finish", target_type="eco_river_patrol",
                 target_id=p.id, detail={"points": p.points, "length_m": p.length_m, "duration_s": p.duration_s,
                                         "flagged": p.flagged})  # fmt: skip
    return p


# --- problems ------------------------------------------------------------------------------------


def category_id(session: Session, kind: str) -> int:
    """The case category of a problem type, made (audited, as the system) when missing."""
    spec = problem_kinds()[kind]
    ck = CategoryKind(spec["kind"])
    cat = categories.get_by_code(session, kind=ck, code=spec["code"])
    if cat is None:
        cat = categories.create(session, actor=SYSTEM, kind=ck, code=spec["code"], name=spec["name"])
    return cat.id


@dataclass(frozen=True)
class Photo:
    data: bytes
    name: str | None


def report_problem(
    session: Session,
    *,
    actor: Actor,
    patrol_id: int,
    body: ProblemIn,
    photo: Photo | None = None,
    at: datetime | None = None,
) -> RiverProblem:
    """A problem found on an open patrol of the caller's: kept, and a case opened at its point with
    its photo. A repeated KEY answers the problem made the first time."""
    p = get(session, patrol_id=patrol_id)
    _own(actor, p)
    if p.state != PatrolState.OPEN:
        raise Conflict(N_("This patrol is finished"))
    kinds = problem_kinds()
    if body.kind not in kinds:
        raise ValidationFailed(N_("Unknown problem type %(kind)s"), kind=body.kind,
                               errors=[{"field": "kind", "message": N_("unknown")}])  # fmt: skip
    if body.key:
        again = session.scalar(
            select(RiverProblem).where(
                RiverProblem.patrol_id == p.id, RiverProblem.detail["key"].as_string() == body.key
            )
        )
        if again is not None:
            return again
    now = at or utcnow()
    area = session.get(RiverArea, p.area_id)
    chief = session.get(RiverChief, p.chief_id)
    assert area is not None and chief is not None
    att_ids: list[int] = []
    if photo is not None:
        stored = attachments.store_photos(session, actor=actor, files=[(photo.data, photo.name)],
                                          stamp=attachments.Stamp(body.lon, body.lat, None, now))  # fmt: skip
        att_ids = [a.id for a in stored]
    prob = RiverProblem(
        patrol_id=p.id, chief_id=p.chief_id, area_id=p.area_id, kind=body.kind,
        note=(body.note or "").strip() or None, lon=body.lon, lat=body.lat, found_at=now,
        attachment_id=att_ids[0] if att_ids else None, detail={"key": body.key} if body.key else {},
    )  # fmt: skip
    session.add(prob)
    session.flush()
    spec = kinds[body.kind]
    level = {ChiefLevel.COUNTY: "县级", ChiefLevel.TOWNSHIP: "乡级", ChiefLevel.VILLAGE: "村级"}[chief.level]
    role = {"river": "河长", "forest": "林长", "general": "总河长"}[str(chief.role)]
    case, _, _ = cases.create(
        session,
        actor=actor,
        new=cases.NewCase(
            channel=Channel.GRID,
            category_id=category_id(session, body.kind),
            title=f"{spec['zh']} · {area.name}"[:200],
            description=(f"{level}{role}巡查发现：{spec['zh']}。" + (f"\n{prob.note}" if prob.note else ""))[:4000],
            lon=body.lon,
            lat=body.lat,
            external_id=f"eco-rp-{prob.id}",
            idempotency_key=f"eco-river-problem-{prob.id}",
            attachment_ids=att_ids,
            reporter=cases.ReporterIn(user_id=actor.id),
            context={
                "cause": "eco.rivers",
                "patrol_id": p.id,
                "problem_id": prob.id,
                "area": area.code,
                "area_name": area.name,
                "chief_id": chief.id,
            },
        ),
        now=now,
    )
    prob.case_id, prob.case_number = case.id, case.number
    session.flush()
    audit.record(session, actor=actor, action="eco.rivers.problem.report", target_type="eco_river_problem",
                 target_id=prob.id, detail={"patrol_id": p.id, "kind": body.kind, "case": case.number,
                                            "photo": prob.attachment_id})  # fmt: skip
    return prob


def problems_of(session: Session, *, patrol_id: int) -> list[RiverProblem]:
    return list(
        session.scalars(select(RiverProblem).where(RiverProblem.patrol_id == patrol_id).order_by(RiverProblem.id))
    )


@dataclass(frozen=True)
class PatrolFilter:
    chief_id: int | None = None
    area_id: int | None = None
    user_id: int | None = None
    level: ChiefLevel | None = None
    since: datetime | None = None
    until: datetime | None = None
    flagged: bool | None = None
    state: PatrolState | None = None


def _narrowed(stmt: Any, entity: Any, at: Any, f: PatrolFilter | ProblemFilter) -> Any:
    """The conditions patrols and problems share: chief, area, the chief's level and a period of AT."""
    if f.level is not None:
        stmt = stmt.join(RiverChief, RiverChief.id == entity.chief_id).where(RiverChief.level == f.level)
    if f.chief_id is not None:
        stmt = stmt.where(entity.chief_id == f.chief_id)
    if f.area_id is not None:
        stmt = stmt.where(entity.area_id == f.area_id)
    if f.since is not None:
        stmt = stmt.where(at >= f.since)
    if f.until is not None:
        stmt = stmt.where(at < f.until)
    return stmt


def _patrol_query(f: PatrolFilter) -> Any:
    stmt = _narrowed(select(RiverPatrol), RiverPatrol, RiverPatrol.started_at, f)
    if f.user_id is not None:
        stmt = stmt.where(RiverPatrol.user_id == f.user_id)
    if f.flagged is not None:
        stmt = stmt.where(RiverPatrol.flagged.is_(f.flagged))
    if f.state is not None:
        stmt = stmt.where(RiverPatrol.state == f.state)
    return stmt


def list_patrols(
    session: Session, *, f: PatrolFilter, limit: int = 100, offset: int = 0
) -> tuple[list[RiverPatrol], int]:
    stmt = _patrol_query(f)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(
        session.scalars(stmt.order_by(RiverPatrol.started_at.desc(), RiverPatrol.id.desc()).limit(limit).offset(offset))
    )
    return rows, total


def problem_counts(session: Session, patrol_ids: list[int]) -> dict[int, int]:
    if not patrol_ids:
        return {}
    rows = session.execute(
        select(RiverProblem.patrol_id, func.count())
        .where(RiverProblem.patrol_id.in_(patrol_ids))
        .group_by(RiverProblem.patrol_id)
    )
    return {int(a): int(b) for a, b in rows}


@dataclass(frozen=True)
class ProblemFilter:
    chief_id: int | None = None
    area_id: int | None = None
    level: ChiefLevel | None = None
    since: datetime | None = None
    until: datetime | None = None
    closed: bool | None = None


def list_problems(
    session: Session, *, f: ProblemFilter, limit: int = 100, offset: int = 0
) -> tuple[list[RiverProblem], int]:
    from countyos.cases.models import Case

    stmt = _narrowed(select(RiverProblem), RiverProblem, RiverProblem.found_at, f)
    if f.closed is not None:
        closed_ids = select(Case.id).where(Case.closed_at.is_not(None))
        stmt = stmt.where(
            RiverProblem.case_id.in_(closed_ids)
            if f.closed
            else ~RiverProblem.case_id.in_(closed_ids) | RiverProblem.case_id.is_(None)
        )
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(
        session.scalars(stmt.order_by(RiverProblem.found_at.desc(), RiverProblem.id.desc()).limit(limit).offset(offset))
    )
    return rows, total


def closed_cases(session: Session, case_ids: list[int]) -> set[int]:
    from countyos.cases.models import Case

    ids = sorted({i for i in case_ids if i is not None})
    if not ids:
        return set()
    return set(session.scalars(select(Case.id).where(Case.id.in_(ids), Case.closed_at.is_not(None))))
