"""Names of the org domain's audit codes, and the objects of audit rows as people read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from countyos.core import i18n
from countyos.core.i18n import N_
from countyos.org.models import Department, User
from countyos.org.service import audit

audit.name_codes(
    actions={
        "access.denied": N_("Access denied"),
        "audit.export": N_("Audit log exported"),
        "audit.prune": N_("Old audit rows pruned"),
        "audit.verify": N_("Audit chain verified"),
        "auth.lockout": N_("Account locked after failed sign-ins"),
        "auth.login": N_("Signed in"),
        "auth.logout": N_("Signed out"),
        "auth.password_change": N_("Password changed"),
        "auth.rate_limited": N_("Sign-in attempts limited"),
        "department.create": N_("Department created"),
        "department.update": N_("Department changed"),
        "mfa.enrol": N_("Two-step sign-in set up"),
        "mfa.reset": N_("Two-step sign-in reset"),
        "mfa.verify": N_("Two-step code checked"),
        "role.create": N_("Role created"),
        "role.permissions": N_("Role permissions changed"),
        "token.create": N_("API token created"),
        "token.revoke": N_("API token revoked"),
        "user.create": N_("User created"),
        "user.enable": N_("User enabled or disabled"),
        "user.locale": N_("Interface language changed"),
        "user.password_reset": N_("Password reset"),
        "user.pii_view": N_("Personal data viewed"),
        "user.roles": N_("User roles changed"),
        "user.unlock": N_("User unlocked"),
        "user.update": N_("User changed"),
    },
    targets={
        "user": N_("User"),
        "department": N_("Department"),
        "role": N_("Role"),
        "api_token": N_("API token"),
    },
)


def action_name(code: str) -> str:
    """The action in the current locale; a code no domain has named stays as it is."""
    return i18n.gettext(audit.ACTION_NAMES[code]) if code in audit.ACTION_NAMES else code


def target_names(session: Any, rows: list[Any]) -> dict[tuple[str, str], tuple[str, str]]:
    """(target type, target id) → (message id of the kind, or "", and the object's name): the page
    shows "User 张三", "Department 县水利局", "Case #12" — never "user 12"."""
    wanted: dict[str, set[int]] = {"user": set(), "department": set()}
    for e in rows:
        if e.target_type in wanted and (e.target_id or "").isdigit():
            wanted[e.target_type].add(int(e.target_id))
    known: dict[tuple[str, str], str] = {}
    if wanted["user"]:
        for uid, name in session.execute(select(User.id, User.display_name).where(User.id.in_(wanted["user"]))):
            known[("user", str(uid))] = name
    if wanted["department"]:
        found = session.execute(select(Department.id, Department.name).where(Department.id.in_(wanted["department"])))
        for did, name in found:
            known[("department", str(did))] = name
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for e in rows:
        if not e.target_type:
            continue
        key = (e.target_type, e.target_id or "")
        name = known.get(key) or (f"#{e.target_id}" if e.target_id else "")
        out[key] = (audit.TARGET_NAMES.get(e.target_type, ""), name)
    return out


def actor_names(session: Any, rows: list[Any]) -> dict[int, tuple[str, str]]:
    """Audit row seq → (who, kind): ``person`` — a person by their name (the row may keep the user
    name they logged in with); ``label`` — a message id naming a system actor, translated when shown;
    ``typed`` — a name as it was typed (a refused login's user name, shown as a code)."""
    ids = {e.actor_id for e in rows if e.actor_id is not None}
    people: dict[int, str] = {}
    if ids:
        people = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    out: dict[int, tuple[str, str]] = {}
    for e in rows:
        if e.actor_id is not None and e.actor_id in people:
            out[e.seq] = (people[e.actor_id], "person")
        elif (label := audit.actor_label(e.actor_name)) is not None:
            out[e.seq] = (label, "label")
        else:
            out[e.seq] = (e.actor_name or "—", "typed" if e.actor_name else "person")
    return out
