"""Tables of the index part."""

from __future__ import annotations
