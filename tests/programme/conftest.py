"""Fixtures shared by the programme tests (each part keeps its own in <part>_helpers.py)."""
