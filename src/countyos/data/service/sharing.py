"""Sharing between departments (政务数据共享): requests, grants with scoped keys, and checked calls.

- 无条件共享: a request is approved at once, for the fields asked among those marked shared.
- 有条件共享: the provider department (its data staff, or the data administrator) approves — possibly
  narrowing the fields, adding a row filter, an earlier last day, a daily quota — or refuses with a reason.
- 不予共享: a request is refused when made; nothing of the resource is ever shared.

A grant issues a scoped key (shown once; kept as a SHA-256 hash). Every call (``read``) is checked against
its grant — revoked, expired, over the day's quota (county time), a field or filter the grant does not
cover — recorded as a ``ShareCall`` and audited, served or refused. Fields not marked shared never leave,
whatever a grant says; fields marked sensitive leave masked (``mask``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from countyos.core import errors
from countyos.core.actor import Actor
from countyos.core.clock import utcnow
from countyos.core.crypto import new_token, token_hash
from countyos.core.i18n import N_, gettext
from countyos.core.settings import get_settings
from countyos.data.codes import ShareType
from countyos.data.lifecycle import State
from countyos.data.models import CallResult, Grant, InfoItem, RequestState, Resource, ShareCall, ShareRequest
from countyos.data.schemas import Decision, DecisionIn, ShareRequestIn
from countyos.data.service import catalogue, loads, tables
from countyos.org.models import AuditResult, Department
from countyos.org.service import audit

REQUEST = "data.share.request"
MAX_ROWS = 1000  # rows per call
KEY_PREFIX = "cdk_"


def mask(value: Any) -> Any:
    """A sensitive value as it leaves: an 18-character ID number keeps its first 6 and last 4 characters,
    a phone number its first 3 and last 4, other text its first character (张** for a name)."""
    if value is None:
        return None
    text = str(value)
    if len(text) == 18:
        return text[:6] + "*" * 8 + text[-4:]
    if len(text) >= 7:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    return text[:1] + "*" * (len(text) - 1)


def shared_items(res: Resource) -> dict[str, InfoItem]:
    return {i.name: i for i in res.items if i.shared}


def _end_of_day(day: Any) -> datetime:
    tz = ZoneInfo(get_settings().timezone)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def _provider_side(actor: Actor, res: Resource) -> bool:
    return bool(catalogue.roles_of(actor, res))


def request(
    session: Session, *, actor: Actor, resource_id: int, data: ShareRequestIn
) -> tuple[ShareRequest, str | None]:
    """File a request for the caller's department; returns it and, when approved at once, the key."""
    res = catalogue.get(session, resource_id)
    if res.state != State.PUBLISHED:
        raise errors.NotFound(N_("No such data resource."))
    if actor.department_id is None:
        raise errors.PermissionDenied(N_("Only the staff of a department request shared data."))
    if res.provider_id == actor.department_id:
        raise errors.Conflict(N_("Your department provides this resource; it needs no request."))
    if data.until < utcnow().date():
        raise errors.ValidationFailed(
            N_("The last day has passed."),
            errors=[{"field": "until", "message": gettext("The last day has passed.")}],
        )
    unknown = [f for f in data.fields if f not in shared_items(res)]
    if unknown:
        raise errors.ValidationFailed(
            N_("These fields are not shared: %(names)s"),
            names=", ".join(unknown[:10]),
            errors=[{"field": "fields", "message": gettext("Not a shared field.")}],
        )
    req = ShareRequest(
        resource_id=res.id,
        consumer_id=actor.department_id,
        purpose=data.purpose,
        fields=list(dict.fromkeys(data.fields)),
        until=data.until,
        requested_by_id=actor.id,
        requested_by=actor.name[:100],
    )
    session.add(req)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="data.share.request",
        target_type="data_share_request",
        target_id=req.id,
        detail={"resource": res.code, "fields": req.fields, "until": req.until.isoformat()},
    )
    if res.share_type == ShareType.NONE:
        _decide(session, actor=actor, req=req, state=RequestState.REFUSED, note=res.share_condition or "不予共享")
        return req, None
    if res.share_type == ShareType.UNCONDITIONAL:
        _, key = _issue(session, actor=actor, req=req, fields=req.fields, row_filter={}, until=req.until, quota=1000)
        return req, key
    return req, None


def _decide(session: Session, *, actor: Actor, req: ShareRequest, state: RequestState, note: str) -> None:
    req.state, req.decision_note = state, note[:1000]
    req.decided_by, req.decided_at = actor.name[:100], utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"data.share.{state.value}",
        target_type="data_share_request",
        target_id=req.id,
        detail={"note": note[:200]},
    )


def _issue(
    session: Session,
    *,
    actor: Actor,
    req: ShareRequest,
    fields: list[str],
    row_filter: dict[str, list[str]],
    until: Any,
    quota: int,
) -> tuple[Grant, str]:
    key = KEY_PREFIX + new_token(24)
    grant = Grant(
        request_id=req.id,
        resource_id=req.resource_id,
        consumer_id=req.consumer_id,
        fields=fields,
        row_filter=row_filter,
        expires_at=_end_of_day(until),
        quota_per_day=quota,
        key_prefix=key[:12],
        key_hash=token_hash(key),
        issued_by=actor.name[:100],
    )
    session.add(grant)
    _decide(
        session,
        actor=actor,
        req=req,
        state=RequestState.APPROVED,
        note="" if fields == req.fields and not row_filter else N_("Approved with fewer fields or rows than asked."),
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="data.share.grant",
        target_type="data_grant",
        target_id=grant.id,
        detail={"fields": fields, "row_filter": row_filter, "until": str(until), "quota": quota},
    )
    return grant, key


def decide(
    session: Session, *, actor: Actor, request_id: int, data: DecisionIn
) -> tuple[ShareRequest, Grant | None, str | None]:
    req = session.get(ShareRequest, request_id)
    if req is None:
        raise errors.NotFound(N_("No such request."))
    res = catalogue.get(session, req.resource_id)
    if not _provider_side(actor, res):
        raise errors.PermissionDenied(N_("Only the provider department decides on requests for its data."))
    if req.version != data.version:
        raise errors.Conflict(N_("Someone else changed this entry since you opened it; open it again."))
    if req.state != RequestState.PENDING:
        raise errors.Conflict(N_("This request has been decided already."))
    if data.decision == Decision.REFUSE:
        _decide(session, actor=actor, req=req, state=RequestState.REFUSED, note=data.reason)
        return req, None, None
    fields = list(dict.fromkeys(data.fields if data.fields is not None else req.fields))
    shared = shared_items(res)
    bad = [f for f in fields if f not in req.fields or f not in shared]
    bad += [c for c in data.row_filter if c not in shared]
    if bad or not fields:
        raise errors.ValidationFailed(
            N_("A grant covers shared fields that were asked for: %(names)s"),
            names=", ".join(bad[:10]),
            errors=[{"field": "fields", "message": gettext("Not a field asked for, or not shared.")}],
        )
    until = min(data.until or req.until, req.until)
    grant, key = _issue(
        session,
        actor=actor,
        req=req,
        fields=fields,
        row_filter=dict(data.row_filter),
        until=until,
        quota=data.quota_per_day,
    )
    return req, grant, key


def revoke(session: Session, *, actor: Actor, grant_id: int) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise errors.NotFound(N_("No such grant."))
    if not _provider_side(actor, catalogue.get(session, grant.resource_id)):
        raise errors.PermissionDenied(N_("Only the provider department revokes grants of its data."))
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor=actor, action="data.share.revoke", target_type="data_grant", target_id=grant.id)
    return grant


class CallRefused(errors.PermissionDenied):
    """A call the grant does not allow (recorded before it is raised)."""


def _refuse(session: Session, grant: Grant, reason: str, message: str) -> CallRefused:
    session.add(
        ShareCall(
            grant_id=grant.id,
            resource_id=grant.resource_id,
            consumer_id=grant.consumer_id,
            result=CallResult.REFUSED,
            reason=reason,
        )
    )
    audit.record(
        session,
        actor=None,
        action="data.share.call",
        target_type="data_grant",
        target_id=grant.id,
        result=AuditResult.DENIED,
        detail={"reason": reason},
    )
    return CallRefused(message)


def read(
    session: Session,
    *,
    key: str,
    fields: list[str] | None = None,
    filters: dict[str, Any] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Rows for the holder of KEY, within its grant; every call recorded and audited."""
    grant = session.scalar(select(Grant).where(Grant.key_hash == token_hash(key))) if key else None
    if grant is None:
        raise errors.NotAuthenticated(N_("Unknown data key."))
    now = utcnow()
    if grant.revoked_at is not None:
        raise _refuse(session, grant, "revoked", N_("This grant has been revoked."))
    if grant.expires_at <= now:
        raise _refuse(session, grant, "expired", N_("This grant has expired."))
    tz = ZoneInfo(get_settings().timezone)
    day_start = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(UTC)
    used = (
        session.scalar(
            select(func.count(ShareCall.id)).where(
                ShareCall.grant_id == grant.id, ShareCall.at >= day_start, ShareCall.result == CallResult.SERVED
            )
        )
        or 0
    )
    if used >= grant.quota_per_day:
        raise _refuse(session, grant, "quota", N_("Today's calls on this grant are used up."))
    res = catalogue.get(session, grant.resource_id)
    shared = shared_items(res)
    allowed = [f for f in grant.fields if f in shared]
    chosen = fields or allowed
    if any(f not in allowed for f in chosen) or any(
        c not in allowed and c not in grant.row_filter for c in (filters or {})
    ):
        raise _refuse(session, grant, "fields", N_("The grant does not cover these fields."))
    if not (1 <= limit <= MAX_ROWS) or not (0 <= offset <= 10_000_000):
        raise errors.ValidationFailed(N_("limit is 1 to %(n)s, offset 0 or more."), n=MAX_ROWS)
    found = loads.current_table(session, res)
    if found is None:
        raise _refuse(session, grant, "no_data", N_("The resource holds no data yet."))
    table, _ = found
    cond = [table.c[c].in_(values) for c, values in grant.row_filter.items() if c in table.c]
    for c, value in (filters or {}).items():
        cond.append(table.c[c] == str(value) if shared[c].type.value in ("text", "geometry") else table.c[c] == value)
    stmt = select(table.c[tables.ROW_ID], *[table.c[f] for f in chosen]).where(*cond).order_by(table.c[tables.ROW_ID])
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    sensitive = {f for f in chosen if shared[f].sensitive}
    records = [
        {
            tables.ROW_ID: r[0],
            **{f: (mask(v) if f in sensitive else _plain(v)) for f, v in zip(chosen, r[1:], strict=True)},
        }
        for r in rows
    ]
    session.add(
        ShareCall(
            grant_id=grant.id,
            resource_id=grant.resource_id,
            consumer_id=grant.consumer_id,
            result=CallResult.SERVED,
            rows=len(records),
        )
    )
    audit.record(
        session,
        actor=None,
        action="data.share.call",
        target_type="data_grant",
        target_id=grant.id,
        detail={"rows": len(records), "fields": chosen, "consumer": grant.consumer_id},
    )
    return {
        "resource": res.code,
        "fields": chosen,
        "records": records,
        "limit": limit,
        "offset": offset,
        "masked": sorted(sensitive),
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def usage(session: Session, *, actor: Actor, since: datetime | None = None) -> list[dict[str, Any]]:
    """Calls by consumer and resource: every pair for the administrator, one's own department's
    resources (as provider) and calls (as consumer) for the others."""
    q = (
        select(
            ShareCall.resource_id,
            Resource.title,
            ShareCall.consumer_id,
            Department.name,
            func.sum(case((ShareCall.result == CallResult.SERVED, 1), else_=0)),
            func.sum(case((ShareCall.result == CallResult.REFUSED, 1), else_=0)),
            func.coalesce(func.sum(ShareCall.rows), 0),
        )
        .join(Resource, Resource.id == ShareCall.resource_id)
        .join(Department, Department.id == ShareCall.consumer_id)
        .group_by(ShareCall.resource_id, Resource.title, ShareCall.consumer_id, Department.name)
        .order_by(Resource.title, Department.name)
    )
    if since is not None:
        q = q.where(ShareCall.at >= since)
    if not actor.can(catalogue.REVIEW):
        dept = actor.department_id or 0
        q = q.where((Resource.provider_id == dept) | (ShareCall.consumer_id == dept))
    return [
        {
            "resource_id": r[0],
            "resource_title": r[1],
            "consumer_id": r[2],
            "consumer_name": r[3],
            "served": int(r[4] or 0),
            "refused": int(r[5] or 0),
            "rows": int(r[6] or 0),
        }
        for r in session.execute(q.limit(1000))
    ]


def requests_for(session: Session, *, actor: Actor, state: RequestState | None = None) -> list[ShareRequest]:
    q = select(ShareRequest).join(Resource, Resource.id == ShareRequest.resource_id).order_by(ShareRequest.id.desc())
    if not actor.can(catalogue.REVIEW):
        dept = actor.department_id or 0
        q = q.where((Resource.provider_id == dept) | (ShareRequest.consumer_id == dept))
    if state is not None:
        q = q.where(ShareRequest.state == state)
    return list(session.scalars(q.limit(500)))


def grants_for(session: Session, *, actor: Actor) -> list[Grant]:
    q = select(Grant).join(Resource, Resource.id == Grant.resource_id).order_by(Grant.id.desc())
    if not actor.can(catalogue.REVIEW):
        dept = actor.department_id or 0
        q = q.where((Resource.provider_id == dept) | (Grant.consumer_id == dept))
    return list(session.scalars(q.limit(500)))
