"""Multi-row statements in as few calls as the engine's limit on bound parameters allows.

A batch is then a few calls into the database, not one per row: cheaper, and each call into
SQLite releases and retakes the GIL, which a busy event loop waits to take back. Used by the
issue store's bulk insert and the server's batched claims and deliveries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from issue_core.storage.dialect import dialect_of

T = TypeVar("T")


def chunks(conn: sqlite3.Connection, items: list[T], columns: int) -> Iterator[list[T]]:
    """Slices of ``items`` small enough for one statement binding ``columns`` values per item
    (one spare row's worth left for the statement's other parameters)."""
    size = max(1, dialect_of(conn).max_parameters(conn) // columns - 1)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(
    conn: sqlite3.Connection,
    into: str,
    rows: Iterable[Sequence[Any]],
    *,
    ignore_duplicates: bool = False,
) -> int:
    """``INSERT INTO into VALUES (...), (...)`` in as few statements as the parameter limit
    allows; ``into`` is ``table (column, ...)``. ``ignore_duplicates``: rows whose unique key is
    taken are skipped. Returns how many rows were inserted."""
    batch = list(rows)
    if not batch:
        return 0
    width = len(batch[0])
    dialect = dialect_of(conn)
    tail = dialect.ignore_duplicates if ignore_duplicates else ""
    inserted = 0
    for chunk in chunks(conn, batch, width):
        cursor = conn.execute(
            f"INSERT INTO {into} VALUES {dialect.rows(len(chunk), width)}{tail}",
            [value for row in chunk for value in row],
        )
        inserted += cursor.rowcount
    return inserted
