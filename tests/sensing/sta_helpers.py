"""Machine accounts for the SensorThings tests (HTTP Basic, as SensorThings clients send)."""

from __future__ import annotations

import base64

from countyos.core.db import Database
from tests.factories import person


def machine(db: Database, roles: list[str] | None = None) -> dict[str, str]:
    p = person(db, roles or ["data_admin"], is_machine=True)
    return {"Authorization": "Basic " + base64.b64encode(f"{p.username}:{p.password}".encode()).decode()}
