"""Tables of the partners part."""

from __future__ import annotations
