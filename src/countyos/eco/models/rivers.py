"""Tables of the rivers part of the ecology domain."""

from __future__ import annotations
