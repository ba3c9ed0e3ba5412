"""Service of the certs part of the village domain."""

from __future__ import annotations
