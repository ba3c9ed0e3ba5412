"""Pages of the rivers part of the ecology domain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

router = APIRouter()
NAV: list[Any] = []
