"""The partner registry: partner organisations' developers (members) and their sandbox keys.

A sandbox key is an API token (``org.service.tokens``) of the partner's machine account ``partner-<org id>``
(made at the first key, no department). The account holds one role, ``programme_partner_sandbox``, with every
scope of ``data/partners_scopes.json`` (read-only permissions); each key's own scopes narrow it further
(``tokens.effective_permissions``). A key lives 90 days and has a daily quota (``service.partners_quota``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from countyos.core.actor import Actor
from countyos.core.clock import county_day, county_today, utcnow
from countyos.core.errors import Conflict, NotFound, ValidationFailed
from countyos.core.i18n import N_
from countyos.org.models import ApiToken, Role, User
from countyos.org.service import audit, roles, tokens, users
from countyos.programme.models.partners import PartnerKey, PartnerKeyUsage, PartnerMember
from countyos.programme.models.projects import Organisation, OrgKind
from countyos.programme.schemas.partners import KeyIn, MemberIn
from countyos.programme.service import partners_quota

DATA = Path(__file__).resolve().parent.parent / "data"
SANDBOX_ROLE = "programme_partner_sandbox"
KEY_LIFE = timedelta(days=90)
USAGE_DAYS = 30
MAX_KEYS_PER_ORG = 20
MAX_LIST = 500

KEY_STATE_LABELS = {"active": N_("Key in use"), "revoked": N_("Key revoked"), "expired": N_("Key expired")}


@cache
def scope_table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "partners_scopes.json").read_text(encoding="utf-8"))
    return data


def scope_codes() -> list[str]:
    return [s["code"] for s in scope_table()["scopes"]]


def scope_words(locale: str) -> dict[str, str]:
    """Each scope's (and public API's) description in the reader's language."""
    lang = "en" if locale == "en" else "zh"
    return {s["code"]: s[lang] for s in [*scope_table()["scopes"], *scope_table()["public_apis"]]}


# --- partner organisations and members -----------------------------------------------------------------


def partner_orgs(session: Session) -> list[Organisation]:
    return list(
        session.scalars(select(Organisation).where(Organisation.kind == OrgKind.PARTNER).order_by(Organisation.name))
    )


def get_partner(session: Session, *, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or org.kind != OrgKind.PARTNER:
        raise NotFound(N_("Partner organisation %(id)s does not exist"), id=org_id)
    return org


def org_of_user(session: Session, *, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return session.scalar(select(PartnerMember.org_id).where(PartnerMember.user_id == user_id))


def developer_org(session: Session, *, actor: Actor) -> int:
    """The partner organisation a developer acts for; refused (409: the permission is held, the membership is
    missing) when the account belongs to none."""
    org_id = org_of_user(session, user_id=actor.id)
    if org_id is None:
        raise Conflict(N_("Your account does not belong to a partner organisation yet; ask the programme office"))
    return org_id


@dataclass(frozen=True)
class Member:
    id: int
    org_id: int
    user_id: int
    username: str
    display_name: str
    added_at: datetime


def members(session: Session, *, org_id: int | None = None) -> list[Member]:
    stmt = select(PartnerMember, User).join(User, User.id == PartnerMember.user_id).order_by(User.display_name)
    if org_id is not None:
        stmt = stmt.where(PartnerMember.org_id == org_id)
    return [
        Member(m.id, m.org_id, u.id, u.username, u.display_name, m.added_at) for m, u in session.execute(stmt).all()
    ]


def candidates(session: Session) -> list[User]:
    """Accounts that may become members: active people holding the partner developer role, in no partner yet."""
    taken = select(PartnerMember.user_id)
    stmt = (
        select(User)
        .where(User.is_active.is_(True), User.is_machine.is_(False), User.id.not_in(taken))
        .where(User.roles.any(Role.code == "partner_developer"))
        .order_by(User.display_name)
        .limit(MAX_LIST)
    )
    return list(session.scalars(stmt))


def add_member(session: Session, *, actor: Actor, org_id: int, data: MemberIn) -> PartnerMember:
    org = get_partner(session, org_id=org_id)
    user = users.get(session, user_id=data.user_id)
    if user.is_machine:
        raise ValidationFailed.on_field("user_id", N_("A machine account cannot be a partner's developer"))
    if "partner_developer" not in user.role_codes:
        raise ValidationFailed.on_field("user_id", N_("The account does not hold the partner developer role"))
    if org_of_user(session, user_id=user.id) is not None:
        raise Conflict(N_("The account already belongs to a partner organisation"))
    m = PartnerMember(org_id=org.id, user_id=user.id, added_by_id=actor.id)
    session.add(m)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.partners.member.add",
        target_type="programme_partner_member",
        target_id=m.id,
        detail={"org_id": org.id, "org": org.name, "user": user.username, "user_id": user.id},
    )
    return m


def remove_member(session: Session, *, actor: Actor, org_id: int, user_id: int) -> None:
    m = session.scalar(select(PartnerMember).where(PartnerMember.org_id == org_id, PartnerMember.user_id == user_id))
    if m is None:
        raise NotFound(N_("The account is not a member of this partner organisation"))
    session.delete(m)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.partners.member.remove",
        target_type="programme_partner_member",
        target_id=m.id,
        detail={"org_id": org_id, "user_id": user_id},
    )


# --- sandbox keys ----------------------------------------------------------------------------------------


def _sandbox_role(session: Session, *, actor: Actor) -> Role:
    codes = scope_codes()
    role = roles.get_by_code(session, code=SANDBOX_ROLE)
    if role is None:
        return roles.create(
            session,
            actor=actor,
            code=SANDBOX_ROLE,
            name="生态伙伴沙箱",
            name_en="Partner sandbox",
            description="生态伙伴沙箱密钥的机器账号：只读范围（开放数据、感知、地图、生态、文旅）",
            permission_codes=codes,
        )
    if {p.code for p in role.permissions} != set(codes):
        roles.set_permissions(session, actor=actor, role_id=role.id, permission_codes=codes)
    return role


def machine_account(session: Session, *, actor: Actor, org: Organisation) -> User:
    """The partner's machine account (made at its first key) holding the sandbox role."""
    username = f"partner-{org.id}"
    user = users.get_by_username(session, username=username)
    if user is None:
        user = users.create(
            session,
            actor=actor,
            username=username,
            display_name=f"{org.name[:50]}（沙箱）",
            password=f"Px-{secrets.token_urlsafe(24)}-7a!",
            is_machine=True,
        )
    role = _sandbox_role(session, actor=actor)
    if SANDBOX_ROLE not in user.role_codes:
        users.set_roles(session, actor=actor, user_id=user.id, role_codes=[*user.role_codes, role.code])
    return user


def issue_key(session: Session, *, actor: Actor, org_id: int, data: KeyIn) -> tuple[PartnerKey, str]:
    """Issue a sandbox key; the plain token is returned once."""
    org = get_partner(session, org_id=org_id)
    unknown = sorted(set(data.scopes) - set(scope_codes()))
    if unknown:
        raise ValidationFailed.on_field("scopes", N_("A sandbox key carries only read scopes of the list"))
    live = session.scalar(
        select(func.count()).select_from(PartnerKey).where(PartnerKey.org_id == org.id, PartnerKey.revoked_at.is_(None))
    )
    if (live or 0) >= MAX_KEYS_PER_ORG:
        raise Conflict(N_("A partner keeps at most %(n)s keys; revoke one first"), n=MAX_KEYS_PER_ORG)
    user = machine_account(session, actor=actor, org=org)
    expires = utcnow() + KEY_LIFE
    tok, plain = tokens.create(
        session, actor=actor, name=data.name, user_id=user.id, scopes=list(data.scopes), expires_at=expires
    )
    key = PartnerKey(
        org_id=org.id,
        api_token_id=tok.id,
        name=data.name.strip(),
        scopes=sorted(set(data.scopes)),
        daily_quota=data.daily_quota,
        sandbox=True,
        created_by_id=actor.id,
        expires_at=expires,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="programme.partners.key.issue",
        target_type="programme_partner_key",
        target_id=key.id,
        detail={"org_id": org.id, "name": key.name, "scopes": key.scopes, "daily_quota": key.daily_quota},
    )
    return key, plain


def get_key(session: Session, *, key_id: int, org_id: int | None = None) -> PartnerKey:
    """A key; with ``org_id`` (a developer) only one of that organisation."""
    key = session.get(PartnerKey, key_id)
    if key is None or (org_id is not None and key.org_id != org_id):
        raise NotFound(N_("Key %(id)s does not exist"), id=key_id)
    return key


def revoke_key(session: Session, *, actor: Actor, key_id: int, org_id: int | None = None) -> PartnerKey:
    key = get_key(session, key_id=key_id, org_id=org_id)
    if key.revoked_at is None:
        tokens.revoke(session, actor=actor, token_id=key.api_token_id)
        key.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="programme.partners.key.revoke",
            target_type="programme_partner_key",
            target_id=key.id,
            detail={"org_id": key.org_id, "name": key.name},
        )
    return key


def key_state(key: PartnerKey, now: datetime | None = None) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def keys(session: Session, *, org_id: int | None = None) -> list[PartnerKey]:
    stmt = select(PartnerKey).order_by(PartnerKey.id.desc()).limit(MAX_LIST)
    if org_id is not None:
        stmt = stmt.where(PartnerKey.org_id == org_id)
    return list(session.scalars(stmt))


def token_prefixes(session: Session, *, key_list: list[PartnerKey]) -> dict[int, str]:
    """The visible prefix of each key's token (``cos_<prefix>_…``), to tell keys apart."""
    ids = [k.api_token_id for k in key_list]
    if not ids:
        return {}
    rows = session.execute(select(ApiToken.id, ApiToken.prefix).where(ApiToken.id.in_(ids))).all()
    by = {tid: prefix for tid, prefix in rows}
    return {k.id: by.get(k.api_token_id, "") for k in key_list}


# --- usage -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayUse:
    day: date
    calls: int
    refused: int


def usage(session: Session, *, key_id: int, days: int = USAGE_DAYS) -> list[DayUse]:
    """Calls and refusals per local day over the last ``days`` days (today included, oldest first): what was
    written plus what this process counted and has not written yet."""
    today = county_today()
    start = today - timedelta(days=days - 1)
    stored = {
        d: (c, r)
        for d, c, r in session.execute(
            select(PartnerKeyUsage.day, PartnerKeyUsage.calls, PartnerKeyUsage.refused).where(
                PartnerKeyUsage.key_id == key_id, PartnerKeyUsage.day >= start
            )
        ).all()
    }
    pending = partners_quota.unwritten(key_id)
    out = []
    for n in range(days):
        d = start + timedelta(days=n)
        c, r = stored.get(d, (0, 0))
        pc, pr = pending.get(d, (0, 0))
        out.append(DayUse(d, c + pc, r + pr))
    return out


def calls_today(session: Session, *, key_ids: list[int]) -> dict[int, int]:
    """Each key's calls today (written and not yet written by this process)."""
    if not key_ids:
        return {}
    today = county_day(utcnow())
    rows = session.execute(
        select(PartnerKeyUsage.key_id, PartnerKeyUsage.calls).where(
            PartnerKeyUsage.key_id.in_(key_ids), PartnerKeyUsage.day == today
        )
    ).all()
    out = dict.fromkeys(key_ids, 0)
    for kid, calls in rows:
        out[kid] = calls
    for kid in key_ids:
        out[kid] += partners_quota.unwritten(kid).get(today, (0, 0))[0]
    return out
