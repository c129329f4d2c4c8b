"""The issues' full-text index: the text a search finds for each issue (its title, description
and the comments' bodies), one document per issue keyed by the issue's row id.

The store keeps it on each write that changes that text (a batch of creates, an edit of title or
description, a comment added, edited or deleted, a delete); the statements are the dialect's
(``storage.dialect``), so a PostgreSQL store keeps the same upkeep over a ``tsvector``. The index
is named only here and in the schema; ``query.py`` searches it through ``text_match(INDEX)``.
Loaded by the writing functions and by a search, never by a plain read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from issue_core.storage.batches import insert_rows
from issue_core.storage.dialect import dialect_of

INDEX = "issues_fts"
_TEXT = ("title", "description")


def add(conn: sqlite3.Connection, documents: Iterable[tuple[int, str, str]]) -> None:
    """Index new issues, given as (row id, title, description): they have no comments yet."""
    into = dialect_of(conn).text_index_rows(INDEX, (*_TEXT, "comments"))
    insert_rows(
        conn, into, [(row_id, title, description, "") for row_id, title, description in documents]
    )


def set_text(conn: sqlite3.Connection, row_id: int, title: str, description: str) -> None:
    conn.execute(dialect_of(conn).text_index_update(INDEX, _TEXT), (title, description, row_id))


def add_comment(conn: sqlite3.Connection, row_id: int, body: str) -> None:
    conn.execute(dialect_of(conn).text_index_append(INDEX, "comments"), (body, row_id))


def reindex_comments(conn: sqlite3.Connection, row_id: int) -> None:
    """After a comment was edited or deleted: the issue's comments' text, rebuilt."""
    bodies = conn.execute(
        "SELECT body FROM comments WHERE issue_id = ? ORDER BY id", (row_id,)
    ).fetchall()
    text = " ".join(str(body) for (body,) in bodies)
    conn.execute(dialect_of(conn).text_index_update(INDEX, ("comments",)), (text, row_id))


def remove(conn: sqlite3.Connection, row_id: int) -> None:
    conn.execute(dialect_of(conn).text_index_delete(INDEX), (row_id,))
