"""Connection set-up for SQLite, and database errors as StoreErrors."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from carepath._errors import StoreError

__all__ = ["db_error", "sqlite_begin", "sqlite_connect"]


def sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event (below) emit BEGIN itself: pysqlite's own
    # transaction handling would start write transactions lazily and late.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=FULL")  # a committed append survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock up front (waiting up to the busy timeout), so two
    # writers never both read a version and then race to upgrade their locks.
    write = conn.get_execution_options().get("carepath_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def db_error(exc: sa.exc.SQLAlchemyError, episode_id: str) -> StoreError:
    """A driver error as a StoreError: its class and first line, never row contents."""
    orig = getattr(exc, "orig", None)
    source: BaseException = orig if isinstance(orig, BaseException) else exc
    lines = str(source).strip().splitlines()
    first = lines[0] if lines else ""
    if not isinstance(orig, BaseException):
        first = first.split(" [SQL:")[0]
    return StoreError(
        episode_id=episode_id, problem=f"database error ({type(source).__name__}): {first}"
    )
