"""Who is acting: passed to every service write so that the audit log knows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    ip: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    department_id: int | None = None
    via_token: bool = False

    def can(self, permission: str) -> bool:
        return permission in self.permissions


SYSTEM = Actor(id=None, name="system")
