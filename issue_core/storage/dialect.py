"""The SQL that differs between database engines, named once so that repositories never spell it.

Only what the repositories use today: bound-parameter marks, "insert unless a unique key already
holds the row", reading one key of a JSON text column, the limit on bound parameters per
statement, and a full-text index: its upkeep (documents added, changed, appended to, removed,
keyed by the row id of what they index) and its match. A PostgreSQL dialect answers the same
questions (``ON CONFLICT DO NOTHING``, ``col::jsonb ->> 'key'``, a table keyed by the id with a
generated ``tsvector`` column and a ``@@`` match); the repositories ask the connection
for its dialect (``dialect_of(conn)``), never name an engine, so they do not change. (Statements
are written with ``?`` marks, which a PostgreSQL connection translates; ``marks()`` is for lists
whose length is known only at run time.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import ClassVar


class SQLiteDialect:
    """SQLite 3.35+ (``RETURNING``, upsert) with FTS5."""

    name: ClassVar[str] = "sqlite"
    # Appended to a (multi-row) INSERT: a row whose unique key exists is skipped, not an error.
    # (Not ``INSERT OR IGNORE``: that also swallows NOT NULL and CHECK failures, and is SQLite's.)
    ignore_duplicates: ClassVar[str] = " ON CONFLICT DO NOTHING"

    @staticmethod
    def marks(count: int) -> str:
        """``?, ?, ?``: the marks of ``count`` bound parameters."""
        return ", ".join("?" * count)

    @staticmethod
    def rows(count: int, columns: int) -> str:
        """``(?, ?), (?, ?)``: the VALUES of a multi-row statement."""
        row = f"({', '.join('?' * columns)})"
        return ", ".join([row] * count)

    @staticmethod
    def json_text(column: str, key: str) -> str:
        """The text at top-level ``key`` of the JSON object in ``column``."""
        return f"json_extract({column}, '$.{key}')"

    @staticmethod
    def max_parameters(conn: sqlite3.Connection) -> int:
        """How many parameters one statement may bind (SQLite: 32,766 since 3.32)."""
        return conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    # -- a full-text index: one document per indexed row, keyed by that row's id ----------
    # SQLite: an FTS5 table whose rowid is the id, kept by the store's writes (not triggers,
    # so that a batch of creates indexes with one multi-row INSERT).

    @staticmethod
    def text_index_rows(index: str, columns: Sequence[str]) -> str:
        """The ``into`` of a (multi-row) INSERT of documents: the key, then ``columns``."""
        return f"{index} (rowid, {', '.join(columns)})"

    @staticmethod
    def text_index_update(index: str, columns: Sequence[str]) -> str:
        """Replace ``columns`` of one document (parameters: their texts, then the key)."""
        sets = ", ".join(f"{column} = ?" for column in columns)
        return f"UPDATE {index} SET {sets} WHERE rowid = ?"

    @staticmethod
    def text_index_append(index: str, column: str) -> str:
        """Add text to ``column`` of one document (parameters: the text, then the key)."""
        return f"UPDATE {index} SET {column} = {column} || ' ' || ? WHERE rowid = ?"

    @staticmethod
    def text_index_delete(index: str) -> str:
        """Remove one document (parameter: the key)."""
        return f"DELETE FROM {index} WHERE rowid = ?"

    @staticmethod
    def text_match(index: str) -> str:
        """A sub-select of the row ids whose full-text ``index`` matches the bound query
        (from ``text_query``)."""
        return f"SELECT rowid FROM {index} WHERE {index} MATCH ?"

    @staticmethod
    def text_query(text: str) -> str | None:
        """User text as an FTS5 query: each word quoted so that it can never be parsed as
        FTS5 syntax, words ANDed, and the last one also matching as a prefix, so that
        ``issue list --search logi`` finds "login" (``core.search`` states the same rules for
        backends that match in Python). None: no words, nothing can match."""
        from issue_core.core.search import query_words  # only a search pays for it

        words = query_words(text)
        if not words:
            return None
        quoted = [f'"{word}"' for word in words]
        quoted[-1] += "*"
        return " ".join(quoted)

    @staticmethod
    def not_indexed(column: str) -> str:
        """``column`` in a condition the planner must not answer from an index (SQLite's unary
        ``+``), so that the index of the ORDER BY is walked instead and LIMIT stops early."""
        return f"+{column}"

    @staticmethod
    def phrase_query(text: str) -> str | None:
        """A query language's word or phrase as an FTS5 phrase: its words in a row, whole,
        quoted as one string (they hold no quote). None: no words, nothing can match."""
        from issue_core.core.search import query_words

        words = query_words(text)
        return f'"{" ".join(words)}"' if words else None


SQLITE = SQLiteDialect()


def dialect_of(conn: object) -> SQLiteDialect:
    """The dialect of ``conn``: what ``storage.sqlite.connect`` attached; a plain sqlite3
    connection (a test's, the store's build connection) speaks SQLite."""
    found: SQLiteDialect = getattr(conn, "dialect", SQLITE)
    return found
