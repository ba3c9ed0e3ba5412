"""What a SensorThings write can be refused for (the API turns each into its status), and the two
checks every body passes first."""

from __future__ import annotations

from typing import Any

from countyos.sensing.service.sta import bodies as B


class StaInvalid(ValueError):
    """The body is not a valid entity (400 with this message; ``errors`` names the wrong fields)."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class StaMissing(LookupError):
    """An entity named by the request does not exist (404)."""


class StaConflict(ValueError):
    """The datastream has an observation at that time already (409)."""


def checked(check: Any, *args: Any, **kwargs: Any) -> None:
    """Run a :mod:`.bodies` check, as :class:`StaInvalid` naming the wrong fields."""
    try:
        check(*args, **kwargs)
    except B.BodyInvalid as exc:
        raise StaInvalid(str(exc), exc.errors) from exc


def bounded(body: Any) -> None:
    if not B.depth_within(body):
        raise StaInvalid(f"the body is nested deeper than {B.MAX_DEPTH} levels")
