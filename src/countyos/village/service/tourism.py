"""Service of the tourism part of the village domain."""

from __future__ import annotations
