"""Numbers the store hands out from its ``counters`` table: issue numbers, the change sequence,
comment and milestone ids. Taken inside the caller's write transaction, so two processes never
get the same value, and a value is never handed out again (even after a delete)."""

from __future__ import annotations

import sqlite3


def take(conn: sqlite3.Connection, counter: str, count: int) -> int:
    """Allocate ``count`` consecutive values of a counter; returns the first."""
    row = conn.execute(
        "UPDATE counters SET value = value + ? WHERE name = ? RETURNING value", (count, counter)
    ).fetchone()
    return int(row[0]) - count + 1


def next_value(conn: sqlite3.Connection, counter: str) -> int:
    """Allocate the next value of a counter."""
    return take(conn, counter, 1)
