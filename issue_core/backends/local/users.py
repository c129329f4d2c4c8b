"""Users rows: everyone the store has seen write or be assigned (``issue user list``), with the
name and email a user row may carry. Functions over a connection; the backend opens it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from issue_core.core.models import User
from issue_core.storage.dialect import dialect_of


def find(conn: sqlite3.Connection, username: str) -> User | None:
    row = conn.execute(
        "SELECT username, name, email FROM users WHERE username = ?", (username,)
    ).fetchone()
    return User(row["username"], row["name"], row["email"]) if row is not None else None


def list_all(conn: sqlite3.Connection) -> list[User]:
    rows = conn.execute("SELECT username, name, email FROM users ORDER BY username")
    return [User(r["username"], r["name"], r["email"]) for r in rows.fetchall()]


def record(conn: sqlite3.Connection, usernames: Iterable[str | None], now: str) -> None:
    """Remember the named users (authors, assignees); those already known are left as they are."""
    skip = dialect_of(conn).ignore_duplicates
    conn.executemany(
        f"INSERT INTO users (username, created_at) VALUES (?, ?){skip}",
        [(name, now) for name in dict.fromkeys(usernames) if name],
    )
