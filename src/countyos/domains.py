"""The list of domains and what each contributes (composition only).

A domain may provide any of these modules; the application picks up what is there:

- ``permissions``: ``PERMISSIONS``, ``GRANTS`` (and in org, ``ROLES``)
- ``api``: ``router`` mounted under ``/api/v1``
- ``pages``: ``router`` (HTML) and ``NAV``; optionally ``EARLY_ROUTERS``, machine endpoints at the site
  root under a path prefix of their own (Open311, SensorThings), matched before every other route;
  optionally ``LANES``, ASGI steps in front of the routes that answer a domain's most frequent
  requests as the routes would and hand everything else to them (SensorThings reads)
- ``commands``: ``app``, a Typer group added to the ``countyos`` CLI
- ``demo``: ``load(session, ctx)`` that adds the domain's part of the demonstration county
- ``jobs``: ``JOBS``, scheduled work run by the in-process scheduler or ``countyos worker``
- ``home``: ``queues(session, actor, now)``, the person's queues of that domain for the home page
  (``core.work.WorkQueue``: count, overdue, nearly due, urgent, the link to the filtered list); one
  grouped count query per domain, scoped by the person's permissions
- ``receivers``: connects the domain's functions to other domains' signals (``core.signals``) when
  imported; imported the first time any signal is sent
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from datetime import datetime
from types import ModuleType
from typing import Any

from countyos.core.actor import Actor
from countyos.core.permissions import PermissionSpec, RoleSpec
from countyos.core.scheduler import Job
from countyos.core.work import WorkQueue

# Order matters: a domain comes after the domains it builds on.
DOMAINS: tuple[str, ...] = (
    "org",
    "geo",
    "cases",
    "services",
    "sensing",
    "data",
    "portal",
    "eco",
    "village",
    "safety",
    "ioc",
    "programme",
)


def optional_module(domain: str, name: str) -> ModuleType | None:
    full = f"countyos.{domain}.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name == full:
            return None
        raise


def modules(name: str) -> list[ModuleType]:
    return [m for d in DOMAINS if (m := optional_module(d, name)) is not None]


def all_permissions() -> list[PermissionSpec]:
    return [p for m in modules("permissions") for p in getattr(m, "PERMISSIONS", [])]


def all_roles() -> list[RoleSpec]:
    return [r for m in modules("permissions") for r in getattr(m, "ROLES", [])]


def all_grants() -> dict[str, list[str]]:
    grants: dict[str, list[str]] = {}
    for m in modules("permissions"):
        for role, perms in getattr(m, "GRANTS", {}).items():
            grants.setdefault(role, []).extend(perms)
    return grants


def load_models() -> None:
    """Import every domain's models so that the metadata is complete (migrations, tests)."""
    modules("models")


def modules_off(session: Any) -> frozenset[str]:
    """The domains switched off now (``programme.service.modules``): no routes, navigation, jobs, queues."""
    from countyos.programme.service import modules as switchable

    return switchable.disabled(session)


def modules_off_now(db: Any) -> frozenset[str]:
    """:func:`modules_off` without a session at hand (routing, the scheduler): usually from memory."""
    with db.reading() as session:
        return modules_off(session)


def domain_of(module_name: str) -> str:
    """The domain a Python module belongs to: ``countyos.safety.receivers`` → ``safety``."""
    parts = module_name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "countyos" else ""


def jobs() -> list[Job]:
    """Every domain's scheduled jobs, each marked with its domain (skipped while the domain is off)."""
    return [replace(j, module=d) for d in DOMAINS if (m := optional_module(d, "jobs")) is not None for j in m.JOBS]


def home_queues(session: Any, actor: Actor, now: datetime) -> list[WorkQueue]:
    """Every domain's queues of this person with something in them (or always shown), overdue first."""
    off = modules_off(session)
    out = [
        q for d in DOMAINS if d not in off and (m := optional_module(d, "home")) for q in m.queues(session, actor, now)
    ]
    return sorted(out, key=lambda q: q.sort_key)
