"""Input and output models of the producers part of the village domain."""

from __future__ import annotations
