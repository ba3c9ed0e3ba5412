"""Reads on the event loop: one statement of SQL text, answered without a hop to a thread.

A hop to a thread and back costs more than a short indexed read, and threads that read side by side
slow each other down (the interpreter runs one at a time). For statements known to be short (see
``sensing.service.sta.fast``) the loop reads itself:

- SQLite: one read-only connection of the loop's own (``PRAGMA query_only``). A statement still
  running after ``inline_ms`` is interrupted, and so is one that would wait for a lock: the caller
  gets :class:`TooLongForTheLoop` and runs it in a thread instead, where time limits are longer.
- PostgreSQL: a few asyncio connections (psycopg), read-only and in autocommit, each statement
  stopped after the read's time limit (``statement_timeout``); the loop waits for none of them.

Held per application (``app.state``) and closed with it (:func:`close`). A database that a test
harness holds (no engine of its own) has none: its reads take the threads.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from countyos.core.db import Database, timeout_ms


class LoopReadFailed(Exception):
    """The read did not happen on the loop (the database refused it or could not be reached): the
    caller reads in a thread instead, as every other read does."""


class TooLongForTheLoop(LoopReadFailed):
    """The statement did not finish quickly enough to run on the loop (or would have waited)."""


class _SQLiteReads:
    def __init__(self, path: str, inline_ms: float, on_connect: Callable[[Any], None] | None) -> None:
        self.path, self.inline_s, self.on_connect = path, inline_ms / 1000, on_connect
        self.conn: sqlite3.Connection | None = None
        self.deadline = 0.0

    def _connection(self) -> sqlite3.Connection:
        if self.conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=0")  # the loop never waits for a writer's lock
            conn.set_progress_handler(self._past_deadline, 1_000)
            if self.on_connect is not None:
                self.on_connect(conn)
            self.conn = conn
        return self.conn

    def _past_deadline(self) -> int:
        return 1 if time.perf_counter() > self.deadline else 0

    async def rows(self, sql: str, params: Any) -> list[Any]:
        conn = self._connection()
        self.deadline = time.perf_counter() + self.inline_s
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            message = str(exc).lower()
            if "interrupted" in message or "locked" in message or "busy" in message:
                raise TooLongForTheLoop(str(exc)) from exc
            raise LoopReadFailed(str(exc)) from exc

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class _PostgresReads:
    def __init__(self, conninfo: str, size: int, seconds: float) -> None:
        self.conninfo, self.size = conninfo, size
        self.options = f"-c statement_timeout={timeout_ms(seconds)} -c default_transaction_read_only=on"
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.slots: asyncio.Semaphore | None = None

    def _for_this_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self.loop is not loop or self.slots is None:  # connections belong to the loop that made them
            self.loop, self.idle, self.slots = loop, [], asyncio.Semaphore(self.size)
        return self.slots

    async def rows(self, sql: str, params: Any) -> list[Any]:
        async with self._for_this_loop():
            conn = self.idle.pop() if self.idle else None
            try:
                if conn is None or conn.closed:
                    conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, options=self.options)
                cur = await conn.execute(sql, params)
                rows = await cur.fetchall()
            except psycopg.errors.QueryCanceled as exc:
                assert conn is not None  # cancelled while it ran: still a good connection
                self.idle.append(conn)
                raise TooLongForTheLoop(str(exc)) from exc
            except psycopg.Error as exc:  # refused, or the connection is gone: not kept for the next read
                if conn is not None:
                    await conn.close()
                raise LoopReadFailed(str(exc)) from exc
            except BaseException:  # cancelled: the connection may be mid-statement
                if conn is not None:
                    await conn.close()
                raise
            self.idle.append(conn)
            return rows

    async def close(self) -> None:
        idle, self.idle = self.idle, []
        if self.loop is asyncio.get_running_loop():
            for conn in idle:
                await conn.close()


LoopReads = _SQLiteReads | _PostgresReads


def of(
    state: Any, db: Database, *, seconds: float, on_connect: Callable[[Any], None] | None = None
) -> LoopReads | None:
    """The application's loop reads of DB (made on first use, on the loop); None when DB has none."""
    made: dict[int, LoopReads | None] | None = getattr(state, "loop_reads", None)
    if made is None:
        made = state.loop_reads = {}
    if id(db) in made:
        return made[id(db)]
    reads: LoopReads | None = None
    if isinstance(getattr(db, "engine", None), Engine):
        url = make_url(db.url)
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
                reads = _SQLiteReads(url.database, inline_ms=20, on_connect=on_connect)
        elif url.get_backend_name() == "postgresql":
            conninfo = psycopg.conninfo.make_conninfo(  # what is not given (None) is libpq's default
                host=url.host, port=url.port, dbname=url.database, user=url.username, password=url.password,
                **{k: str(v) for k, v in url.query.items()},
            )  # fmt: skip
            reads = _PostgresReads(conninfo, size=4, seconds=seconds)
    made[id(db)] = reads
    return reads


async def close(state: Any) -> None:
    made: dict[int, LoopReads | None] = getattr(state, "loop_reads", None) or {}
    for reads in list(made.values()):
        if reads is not None:
            await reads.close()
    made.clear()
