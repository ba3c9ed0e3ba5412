"""API of the camera-detected events (视频智能发现) part of the safety domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
