"""API of the gep part of the ecology domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
