"""Tables of the market part of the village domain."""

from __future__ import annotations
