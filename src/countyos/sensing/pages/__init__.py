"""HTML pages of the sensing domain (and the mount point of the SensorThings API at the root)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
NAV: list[object] = []
