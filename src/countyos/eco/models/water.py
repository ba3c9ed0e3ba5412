"""Tables of the water part of the ecology domain."""

from __future__ import annotations
