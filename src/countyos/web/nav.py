"""Navigation entries contributed by each domain's pages module (``NAV``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    section: str  # message id of the menu group
    label: str  # message id
    url: str
    permission: str | None = None
    icon: str = "•"
    order: int = 100
    module: str = ""  # the domain that contributes it (set by the application): gone while the module is off
