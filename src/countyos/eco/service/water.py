"""Water quality of the county's monitoring sections (GB 3838-2002)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def map_features(session: Session) -> list[dict[str, Any]]:
    """Every monitoring section as a GeoJSON Feature for the ecology maps (see the water part's README)."""
    return []
