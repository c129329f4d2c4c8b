"""Comment rows. Ids come from a counter (never reused) and are how users name comments
(``issue comment 5 --edit 7``); each comment added, edited or deleted changes its issue
(``feed.touch``) and its text in the full-text index (``search.py``). A comment may carry a
marker (sync's client-generated id, unique per issue): adding one with a marker the issue
already has returns that comment instead of a second one. Functions over a connection inside
the backend's transaction; the backend validates input before it opens one."""

from __future__ import annotations

import sqlite3
from typing import Any

from issue_core.backends.local import counters, feed, search, users
from issue_core.core.errors import NotFound
from issue_core.core.models import Comment, parse_ts


def issue_row_id(conn: sqlite3.Connection, number: int) -> int:
    row = conn.execute("SELECT id FROM issues WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise NotFound(f"issue #{number} not found")
    return int(row["id"])


COLUMNS = "id, author, body, created_at, updated_at, marker"


def from_row(row: sqlite3.Row, number: int) -> Comment:
    """A comment row (``COLUMNS``) of issue ``number`` as the model."""
    return Comment(
        body=row["body"],
        author=row["author"],
        id=str(row["id"]),
        issue_number=number,
        created_at=parse_ts(row["created_at"]),
        updated_at=parse_ts(row["updated_at"]),
        marker=row["marker"],
    )


def list_for(conn: sqlite3.Connection, issue_id: int, number: int) -> list[Comment]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM comments WHERE issue_id = ? ORDER BY id", (issue_id,)
    ).fetchall()
    return [from_row(r, number) for r in rows]


def by_marker(conn: sqlite3.Connection, issue_id: int, number: int, marker: str) -> Comment | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM comments WHERE issue_id = ? AND marker = ?", (issue_id, marker)
    ).fetchone()
    return from_row(row, number) if row is not None else None


def add(
    conn: sqlite3.Connection,
    number: int,
    body: str,
    author: str,
    now: str,
    *,
    marker: str | None = None,
) -> Comment:
    issue_id = issue_row_id(conn, number)
    if marker is not None:
        earlier = by_marker(conn, issue_id, number, marker)
        if earlier is not None:  # a retried write: the comment is there already
            return earlier
    users.record(conn, [author], now)
    comment_id = counters.next_value(conn, "comment_id")  # never reused (schema v4)
    conn.execute(
        "INSERT INTO comments (id, issue_id, author, body, created_at, updated_at, marker) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (comment_id, issue_id, author, body, now, now, marker),
    )
    _count(conn, issue_id, +1)
    data = {"comment_id": str(comment_id), "body": body}
    if marker is not None:
        data["marker"] = marker
    feed.touch(conn, [issue_id], now, kind="commented", data=data)
    search.add_comment(conn, issue_id, body)
    ts = parse_ts(now)
    return Comment(
        body=body,
        author=author,
        id=str(comment_id),
        issue_number=number,
        created_at=ts,
        updated_at=ts,
        marker=marker,
    )


def edit(conn: sqlite3.Connection, number: int, comment_id: str, body: str, now: str) -> Comment:
    issue_id, row = _row(conn, number, comment_id)
    if body != row["body"]:
        conn.execute(
            "UPDATE comments SET body = ?, updated_at = ? WHERE id = ?", (body, now, row["id"])
        )
        _changed(conn, issue_id, now, "comment_edited", row["id"], body)
        updated_at = now
    else:
        updated_at = row["updated_at"]  # nothing changed: nothing is written
    return Comment(
        body=body,
        author=row["author"],
        id=str(row["id"]),
        issue_number=number,
        created_at=parse_ts(row["created_at"]),
        updated_at=parse_ts(updated_at),
        marker=row["marker"],
    )


def delete(conn: sqlite3.Connection, number: int, comment_id: str, now: str) -> None:
    issue_id, row = _row(conn, number, comment_id)
    conn.execute("DELETE FROM comments WHERE id = ?", (row["id"],))
    _count(conn, issue_id, -1)
    _changed(conn, issue_id, now, "comment_deleted", row["id"], None)


def _row(conn: sqlite3.Connection, number: int, comment_id: str) -> tuple[int, sqlite3.Row]:
    """The issue's row id and the comment's row; the comment must be *this* issue's."""
    issue_id = issue_row_id(conn, number)
    key = _comment_key(comment_id)
    row: sqlite3.Row | None = None
    if key is not None:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM comments WHERE id = ? AND issue_id = ?", (key, issue_id)
        ).fetchone()
    if row is None:
        raise NotFound(
            f"comment {comment_id} not found on issue #{number}",
            hint=f"see the comment ids with: issue show {number} --comments",
        )
    return issue_id, row


def _count(conn: sqlite3.Connection, issue_id: int, delta: int) -> None:
    conn.execute(
        "UPDATE issues SET comments_count = comments_count + ? WHERE id = ?", (delta, issue_id)
    )


def _changed(
    conn: sqlite3.Connection, issue_id: int, now: str, kind: str, comment_id: int, body: str | None
) -> None:
    """An edited or deleted comment changes its issue (version, updated_at, change feed, an
    event), as adding one does, and the search index's copy of the comments is rebuilt."""
    data: dict[str, str] = {"comment_id": str(comment_id)}
    if body is not None:
        data["body"] = body
    feed.touch(conn, [issue_id], now, kind=kind, data=data)
    search.reindex_comments(conn, issue_id)


def _comment_key(comment_id: Any) -> int | None:
    """A comment id as stored (a row id), or None for text that cannot be one."""
    text = str(comment_id).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)
