"""API of the partners part."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
