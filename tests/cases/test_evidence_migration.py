"""Migration 0016: every attachment written before evidence stages is backfilled as a report photo
(before the work); categories need no photo until a county says so."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from countyos.core import migrate

EVIDENCE, BEFORE = "0014", "0013"


def test_existing_attachments_become_report_photos(new_database) -> None:
    url = new_database()
    migrate.upgrade(url, BEFORE)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO case_attachment (sha256, media_type, size, has_thumbnail, public, public_token,"
                    " created_at) VALUES ('ab', 'image/jpeg', 10, false, false, 'tok-1', '2026-01-01 00:00:00')"
                )
            )
        assert migrate.current(url) == BEFORE
        migrate.upgrade(url, EVIDENCE)
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT stage, taken_at, lon, lat, position_source FROM case_attachment"
                    " WHERE public_token = 'tok-1'"
                )
            ).one()
            assert tuple(row) == ("report", None, None, None, None)
            flags = conn.execute(
                text("SELECT COUNT(*) FROM case_category WHERE feedback_photo_required OR check_photo_required")
            ).scalar()
            assert flags == 0
        migrate.downgrade(url, BEFORE)
        assert migrate.current(url) == BEFORE
    finally:
        engine.dispose()
