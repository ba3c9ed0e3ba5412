"""The shape of permission and role declarations that each domain ships as data.

A domain's ``permissions.py`` lists ``PERMISSIONS`` and the default ``GRANTS`` of the built-in roles.
``family`` keeps the three separated administrators of 等保 2.0 level 3 apart: one user or role may
hold permissions of at most one of the families ``system``, ``security`` and ``audit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["ops", "system", "security", "audit"]
ADMIN_FAMILIES: tuple[Family, ...] = ("system", "security", "audit")


@dataclass(frozen=True)
class PermissionSpec:
    code: str
    description: str
    family: Family = "ops"


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    name_en: str
    description: str
