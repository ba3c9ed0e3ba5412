"""API of the hidden-danger inspections (隐患排查) part of the safety domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
