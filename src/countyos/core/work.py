"""One queue of a person's work, as a domain reports it for the home page (``<domain>.home``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkQueue:
    """``label`` and ``section`` are English message ids; ``url`` opens the filtered list."""

    key: str
    section: str
    label: str
    url: str
    count: int
    overdue: int = 0
    due_soon: int = 0
    urgent: int = 0
    order: int = 0

    @property
    def sort_key(self) -> tuple[int, int, int, int, int]:
        """Overdue first, then nearly due, then urgent, then the fullest; the domain's order last."""
        return (-self.overdue, -self.due_soon, -self.urgent, -min(self.count, 1), self.order)
