"""Data flows that own their transactions: a load from an upload or a dropped file; the record of a download.

The file is copied to a private temporary file under ``<data_dir>/tmp`` first (bounded by
``MAX_UPLOAD_BYTES``; larger files are loaded with ``countyos data load`` on the server), then loaded in
one unit of work: the load's record and audit are committed whether the rows went in or not
(``service/loads.py`` rolls the rows back itself).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.exc import SQLAlchemyError

from countyos.core.actor import Actor
from countyos.core.db import Database
from countyos.core.settings import get_settings
from countyos.data.models import Load
from countyos.data.service import downloads, loads, sharing

log = logging.getLogger("countyos.data")
MAX_UPLOAD_BYTES = 24_000_000  # under the server's body limit; files beyond go through the command


class TooLarge(Exception):
    pass


def load_path(db: Database, *, actor: Actor, resource_id: int, path: Path, filename: str, skip_bad_rows: bool) -> Load:
    """Load the file; the rows are committed (and served) before the table's search indexes are made:
    call :func:`make_indexes` next (the ``data.index_loads`` job makes any left)."""
    with db.unit_of_work() as session:
        load = loads.load_file(
            session,
            actor=actor,
            resource_id=resource_id,
            path=path,
            filename=filename,
            skip_bad_rows=skip_bad_rows,
            index=False,
        )
    return load


def make_indexes(db: Database, *, actor: Actor, load_id: int) -> Load | None:
    """The search indexes of a committed load, in a transaction of their own."""
    with db.unit_of_work() as session:
        return loads.make_indexes(session, actor=actor, load_id=load_id)


def load_upload(
    db: Database, *, actor: Actor, resource_id: int, upload: BinaryIO, filename: str, skip_bad_rows: bool
) -> Load:
    folder = get_settings().data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix="load-", suffix=Path(filename).suffix[:10]) as tmp:
        copied = 0
        while chunk := upload.read(1 << 20):
            copied += len(chunk)
            if copied > MAX_UPLOAD_BYTES:
                raise TooLarge()
            tmp.write(chunk)
        tmp.flush()
        load = load_path(
            db,
            actor=actor,
            resource_id=resource_id,
            path=Path(tmp.name),
            filename=filename,
            skip_bad_rows=skip_bad_rows,
        )
    if load.table_name is not None:  # an upload is small: its indexes before the answer
        make_indexes(db, actor=actor, load_id=load.id)
    return load


def shared_read(db: Database, *, key: str, **query: Any) -> dict[str, Any]:
    """A call on a grant: the refusal is committed (recorded and audited) before it is raised."""
    refused: sharing.CallRefused | None = None
    with db.unit_of_work() as session:
        try:
            return sharing.read(session, key=key, **query)
        except sharing.CallRefused as exc:
            refused = exc
    assert refused is not None
    raise refused


def record_download(db: Database, *, plan: downloads.Plan, user_id: int | None) -> None:
    """Record a download in a short transaction of its own, as the file starts (the portal's stream calls
    it once the route's session has ended). Best effort: a record that cannot be written (the database busy
    past its timeout) is logged, and the file is sent anyway."""
    try:
        with db.unit_of_work() as session:
            downloads.record(session, plan=plan, user_id=user_id)
    except SQLAlchemyError as exc:
        log.warning("download of resource %s not recorded: %s", plan.resource_id, type(exc).__name__)
