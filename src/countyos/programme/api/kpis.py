"""API of the kpis part."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
