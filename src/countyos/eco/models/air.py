"""Tables of the air part of the ecology domain."""

from __future__ import annotations
