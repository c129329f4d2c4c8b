"""Sync's durable state, on the shared SQL engine (``issue_core.storage``).

Where it lives: in the local store's own file when a side of the pair is local (the tables
below sit beside the store's, under their own ``sync_`` names and version), otherwise in a sync
state db (``.issue-core/sync.db`` at the project root, or ``$ISSUE_CORE_STATE_DIR/sync.db``),
a file that carries sync's own application id. A file that is neither (another program's
database, a corrupt file, a state from a newer issue-core) is refused with one line, exit 8,
before anything is written.

Tables (every row is keyed by the pair's id, the two backend names in sorted order):

- ``sync_links``: one per synced issue: its stable id and last known number on each side, and
  each side's **base**, the snapshot of that side's fields when the two last agreed on them
  (NULL for an issue matched at first sync, which has no common past). A link whose other id
  is still NULL is a create in flight (``pending``); unique indexes on each side's id make a
  second link of one issue impossible.
- ``sync_comments``: one per synced comment: its marker (the id embedded in the copy), the
  comment id on each side, each side's base text; ``deleted`` names a side it vanished from.
- ``sync_cursors``: each side's change-feed cursor, advanced only after a run's writes.
- ``sync_intents``: a write about to be made (recorded and committed before it is sent), under
  the id the written object carries; removed once the write and its link are committed.
- ``sync_conflicts``: fields both sides changed differently, kept until resolved.
- ``sync_pending``: issues a one-way run read on its target but could not carry back (new
  ones, or with edits of their own): the next run that writes the other way reads them again,
  though the target's cursor has moved past them.
- ``sync_deps``: the dependencies both sides last agreed on (the base of their three-way merge),
  each ``(kind, source, target)`` with the ends as link ids; ``sync_dep_waiting``: links whose
  issue has a dependency on an issue not linked yet, or one the other side refused (a cycle),
  read again by every run until it is settled.
- ``sync_runs``: when each pair last synced and what the run did (``issue sync status``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from issue_core.core.errors import IncompatibleStore, NotAStore, StoreError
from issue_core.core.models import format_ts, utcnow
from issue_core.storage import sqlite as engine

SCHEMA_VERSION = 3  # 2: sync_pending; 3: sync_deps, sync_dep_waiting
# ``PRAGMA application_id`` of a sync state db of its own ("Isyn"); the local store's ("Issu")
# is accepted too: its file may hold the sync tables beside the store's.
APPLICATION_ID = 0x4973796E
LOCAL_STORE_ID = 0x49737375
STATE_DB_NAME = "sync.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sync_links (
    pair      TEXT NOT NULL,
    link_id   TEXT NOT NULL,
    a_id      TEXT,
    a_number  INTEGER,
    b_id      TEXT,
    b_number  INTEGER,
    base_a    TEXT,
    base_b    TEXT,
    deleted   TEXT,
    synced_at TEXT,
    PRIMARY KEY (pair, link_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS sync_links_a ON sync_links (pair, a_id);
CREATE UNIQUE INDEX IF NOT EXISTS sync_links_b ON sync_links (pair, b_id);
CREATE TABLE IF NOT EXISTS sync_comments (
    pair    TEXT NOT NULL,
    mark    TEXT NOT NULL,
    link_id TEXT NOT NULL,
    a_cid   TEXT,
    b_cid   TEXT,
    base_a  TEXT,
    base_b  TEXT,
    deleted TEXT,
    PRIMARY KEY (pair, mark)
);
CREATE INDEX IF NOT EXISTS sync_comments_link ON sync_comments (pair, link_id);
CREATE TABLE IF NOT EXISTS sync_cursors (
    pair   TEXT NOT NULL,
    side   TEXT NOT NULL,
    cursor TEXT,
    PRIMARY KEY (pair, side)
);
CREATE TABLE IF NOT EXISTS sync_intents (
    id         TEXT PRIMARY KEY,
    pair       TEXT NOT NULL,
    link_id    TEXT NOT NULL,
    side       TEXT NOT NULL,
    action     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_conflicts (
    pair        TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    field       TEXT NOT NULL,
    a_value     TEXT,
    b_value     TEXT,
    detected_at TEXT NOT NULL,
    PRIMARY KEY (pair, link_id, field)
);
CREATE TABLE IF NOT EXISTS sync_pending (
    pair     TEXT NOT NULL,
    side     TEXT NOT NULL,
    issue_id TEXT NOT NULL,
    number   INTEGER,
    PRIMARY KEY (pair, side, issue_id)
);
CREATE TABLE IF NOT EXISTS sync_deps (
    pair   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (pair, kind, source, target)
);
CREATE TABLE IF NOT EXISTS sync_dep_waiting (
    pair    TEXT NOT NULL,
    link_id TEXT NOT NULL,
    PRIMARY KEY (pair, link_id)
);
CREATE TABLE IF NOT EXISTS sync_runs (
    pair        TEXT PRIMARY KEY,
    a_name      TEXT NOT NULL,
    b_name      TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    summary     TEXT NOT NULL
);
"""
# Tables that are sync's: a state db holding any other table is not one of ours.
OWN_TABLES = frozenset(
    {
        "sync_schema",
        "sync_links",
        "sync_comments",
        "sync_cursors",
        "sync_intents",
        "sync_conflicts",
        "sync_runs",
        "sync_pending",
        "sync_deps",
        "sync_dep_waiting",
    }
)


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Link:
    """One synced issue (a row of ``sync_links``); sides are ``"a"`` and ``"b"``."""

    __slots__ = (
        "a_id",
        "a_number",
        "b_id",
        "b_number",
        "base_a",
        "base_b",
        "deleted",
        "link_id",
        "synced_at",
    )

    def __init__(
        self,
        link_id: str,
        *,
        a_id: str | None = None,
        a_number: int | None = None,
        b_id: str | None = None,
        b_number: int | None = None,
        base_a: dict[str, Any] | None = None,
        base_b: dict[str, Any] | None = None,
        deleted: str | None = None,
        synced_at: str | None = None,
    ) -> None:
        self.link_id = link_id
        self.a_id, self.a_number, self.b_id, self.b_number = a_id, a_number, b_id, b_number
        self.base_a, self.base_b = base_a, base_b
        self.deleted = deleted
        self.synced_at = synced_at

    def id_of(self, side: str) -> str | None:
        return self.a_id if side == "a" else self.b_id

    def number_on(self, side: str) -> int | None:
        return self.a_number if side == "a" else self.b_number

    def base_on(self, side: str) -> dict[str, Any] | None:
        return self.base_a if side == "a" else self.base_b

    def place(self, side: str, issue_id: str, number: int | None) -> None:
        """The issue on ``side`` is ``issue_id``, now numbered ``number``."""
        if side == "a":
            self.a_id, self.a_number = issue_id, number
        else:
            self.b_id, self.b_number = issue_id, number

    def set_base(self, side: str, base: dict[str, Any] | None) -> None:
        if side == "a":
            self.base_a = base
        else:
            self.base_b = base

    @property
    def pending(self) -> bool:
        return self.a_id is None or self.b_id is None


class CommentLink:
    __slots__ = ("a_cid", "b_cid", "base_a", "base_b", "deleted", "link_id", "mark")

    def __init__(self, mark: str, link_id: str, **values: Any) -> None:
        self.mark = mark
        self.link_id = link_id
        self.a_cid: str | None = values.get("a_cid")
        self.b_cid: str | None = values.get("b_cid")
        self.base_a: str | None = values.get("base_a")
        self.base_b: str | None = values.get("base_b")
        self.deleted: str | None = values.get("deleted")

    def cid_on(self, side: str) -> str | None:
        return self.a_cid if side == "a" else self.b_cid

    def base_on(self, side: str) -> str | None:
        return self.base_a if side == "a" else self.base_b

    def place(self, side: str, cid: str, base: str) -> None:
        """The comment on ``side`` is ``cid``, its text there ``base``."""
        if side == "a":
            self.a_cid, self.base_a = cid, base
        else:
            self.b_cid, self.base_b = cid, base


class SyncState:
    """The sync tables in one database file; one instance per run (one connection)."""

    def __init__(self, path: str, *, in_local_store: bool) -> None:
        self.path = path
        self.in_local_store = in_local_store
        try:
            if not in_local_store:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                if not os.path.exists(path):
                    # Private from the first byte (SQLite would create it 0644).
                    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            self.conn = engine.connect(path, rows=True)
            self._prepare()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"the sync state {path} cannot be read ({exc}); it was left untouched",
                hint="move it aside to start sync state afresh (links are then matched again)",
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot create the sync state db {path}: {exc.strerror}") from None

    # -- opening --------------------------------------------------------------------------

    def _prepare(self) -> None:
        engine.use_wal(self.conn)
        with engine.write_transaction(self.conn):
            self._check()
            for statement in engine.statements(SCHEMA):
                self.conn.execute(statement)
            row = self.conn.execute("SELECT version FROM sync_schema").fetchone()
            if row is None:
                self.conn.execute("INSERT INTO sync_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            else:  # every later version only added tables, made above
                self.conn.execute("UPDATE sync_schema SET version = ?", (SCHEMA_VERSION,))
            if not self.in_local_store:
                self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def _check(self) -> None:
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {
            row[0]
            for row in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        expected = LOCAL_STORE_ID if self.in_local_store else APPLICATION_ID
        foreign = app_id not in (0, expected) or (
            app_id == 0 and not self.in_local_store and not tables <= OWN_TABLES
        )
        if foreign:
            raise NotAStore(
                f"{self.path} is not an issue-core sync state db (application id {app_id:#x}, "
                f"tables {', '.join(sorted(tables)[:4]) or 'none'}); it was left untouched",
                hint="move it aside, or set $ISSUE_CORE_STATE_DIR to another folder",
            )
        if "sync_schema" in tables:
            row = self.conn.execute("SELECT MAX(version) FROM sync_schema").fetchone()
            if row[0] is not None and row[0] > SCHEMA_VERSION:
                raise IncompatibleStore(
                    f"the sync state in {self.path} has version {row[0]}, newer than this "
                    f"issue-core understands ({SCHEMA_VERSION})",
                    hint="upgrade issue-core",
                )

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        with engine.write_transaction(self.conn):
            yield self.conn

    # -- links ----------------------------------------------------------------------------

    def links(self, pair: str) -> list[Link]:
        rows = self.conn.execute("SELECT * FROM sync_links WHERE pair = ?", (pair,)).fetchall()
        return [self._link(row) for row in rows]

    def _link(self, row: sqlite3.Row) -> Link:
        return Link(
            row["link_id"],
            a_id=row["a_id"],
            a_number=row["a_number"],
            b_id=row["b_id"],
            b_number=row["b_number"],
            base_a=_load(row["base_a"]),
            base_b=_load(row["base_b"]),
            deleted=row["deleted"],
            synced_at=row["synced_at"],
        )

    def save_link(self, pair: str, link: Link) -> None:
        """Insert or replace ``link`` (call inside ``writing()`` with what belongs with it)."""
        self.conn.execute(
            "INSERT INTO sync_links (pair, link_id, a_id, a_number, b_id, b_number, base_a, "
            "base_b, deleted, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (pair, link_id) DO UPDATE SET a_id = excluded.a_id, "
            "a_number = excluded.a_number, b_id = excluded.b_id, b_number = excluded.b_number, "
            "base_a = excluded.base_a, base_b = excluded.base_b, deleted = excluded.deleted, "
            "synced_at = excluded.synced_at",
            (
                pair,
                link.link_id,
                link.a_id,
                link.a_number,
                link.b_id,
                link.b_number,
                _dump(link.base_a),
                _dump(link.base_b),
                link.deleted,
                link.synced_at,
            ),
        )

    # -- comments -------------------------------------------------------------------------

    def comment_links(self, pair: str, link_id: str) -> list[CommentLink]:
        rows = self.conn.execute(
            "SELECT * FROM sync_comments WHERE pair = ? AND link_id = ?", (pair, link_id)
        ).fetchall()
        links = []
        for row in rows:
            values = dict(row)
            del values["pair"]
            links.append(CommentLink(values.pop("mark"), values.pop("link_id"), **values))
        return links

    def save_comment(self, pair: str, link: CommentLink) -> None:
        self.conn.execute(
            "INSERT INTO sync_comments (pair, mark, link_id, a_cid, b_cid, base_a, base_b, "
            "deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pair, mark) DO UPDATE SET "
            "a_cid = excluded.a_cid, b_cid = excluded.b_cid, base_a = excluded.base_a, "
            "base_b = excluded.base_b, deleted = excluded.deleted",
            (
                pair,
                link.mark,
                link.link_id,
                link.a_cid,
                link.b_cid,
                link.base_a,
                link.base_b,
                link.deleted,
            ),
        )

    # -- cursors --------------------------------------------------------------------------

    def cursor(self, pair: str, side: str) -> str | None:
        row = self.conn.execute(
            "SELECT cursor FROM sync_cursors WHERE pair = ? AND side = ?", (pair, side)
        ).fetchone()
        return row[0] if row else None

    def save_cursor(self, pair: str, side: str, cursor: str | None) -> None:
        self.conn.execute(
            "INSERT INTO sync_cursors (pair, side, cursor) VALUES (?, ?, ?) "
            "ON CONFLICT (pair, side) DO UPDATE SET cursor = excluded.cursor",
            (pair, side, cursor),
        )

    # -- intents --------------------------------------------------------------------------

    def record_intent(
        self, intent_id: str, pair: str, link_id: str, side: str, action: str, payload: Any
    ) -> None:
        self.conn.execute(
            "INSERT INTO sync_intents (id, pair, link_id, side, action, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (intent_id, pair, link_id, side, action, _dump(payload), format_ts(utcnow())),
        )

    def forget_intent(self, intent_id: str) -> None:
        self.conn.execute("DELETE FROM sync_intents WHERE id = ?", (intent_id,))

    def intents(self, pair: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT * FROM sync_intents WHERE pair = ? ORDER BY created_at, id", (pair,)
        ).fetchall()
        return [{**dict(row), "payload": _load(row["payload"])} for row in rows]

    # -- conflicts ------------------------------------------------------------------------

    def replace_conflicts(
        self, pair: str, link_id: str, conflicts: dict[str, tuple[Any, Any]]
    ) -> None:
        self.conn.execute(
            "DELETE FROM sync_conflicts WHERE pair = ? AND link_id = ?", (pair, link_id)
        )
        at = format_ts(utcnow())
        self.conn.executemany(
            "INSERT INTO sync_conflicts (pair, link_id, field, a_value, b_value, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (pair, link_id, name, _dump(a), _dump(b), at)
                for name, (a, b) in sorted(conflicts.items())
            ],
        )

    def conflicts(self, pair: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT c.*, l.a_number, l.b_number FROM sync_conflicts c JOIN sync_links l "
            "ON l.pair = c.pair AND l.link_id = c.link_id"
        )
        params: tuple[Any, ...] = ()
        if pair is not None:
            sql += " WHERE c.pair = ?"
            params = (pair,)
        rows = self.conn.execute(sql + " ORDER BY c.pair, l.a_number, c.field", params)
        return [
            {**dict(row), "a_value": _load(row["a_value"]), "b_value": _load(row["b_value"])}
            for row in rows.fetchall()
        ]

    # -- pending ------------------------------------------------------------------------

    def add_pending(self, pair: str, side: str, issues: list[tuple[str, int | None]]) -> None:
        self.conn.executemany(
            "INSERT INTO sync_pending (pair, side, issue_id, number) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (pair, side, issue_id) DO UPDATE SET number = excluded.number",
            [(pair, side, issue_id, number) for issue_id, number in issues],
        )

    def pending(self, pair: str, side: str) -> list[tuple[str, int | None]]:
        rows = self.conn.execute(
            "SELECT issue_id, number FROM sync_pending WHERE pair = ? AND side = ? "
            "ORDER BY issue_id",
            (pair, side),
        ).fetchall()
        return [(str(row[0]), row[1]) for row in rows]

    def clear_pending(self, pair: str, side: str) -> None:
        self.conn.execute("DELETE FROM sync_pending WHERE pair = ? AND side = ?", (pair, side))

    # -- dependencies -------------------------------------------------------------------

    def dep_base(self, pair: str) -> set[tuple[str, str, str]]:
        rows = self.conn.execute(
            "SELECT kind, source, target FROM sync_deps WHERE pair = ?", (pair,)
        ).fetchall()
        return {(str(row[0]), str(row[1]), str(row[2])) for row in rows}

    def save_dep_base(self, pair: str, touched: set[str], edges: set[tuple[str, str, str]]) -> None:
        """The agreed dependencies of the ``touched`` links are now ``edges``."""
        self.conn.executemany(
            "DELETE FROM sync_deps WHERE pair = ? AND (source = ? OR target = ?)",
            [(pair, link_id, link_id) for link_id in sorted(touched)],
        )
        self.conn.executemany(
            "INSERT INTO sync_deps (pair, kind, source, target) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(pair, *edge) for edge in sorted(edges)],
        )

    def dep_waiting(self, pair: str) -> set[str]:
        rows = self.conn.execute(
            "SELECT link_id FROM sync_dep_waiting WHERE pair = ?", (pair,)
        ).fetchall()
        return {str(row[0]) for row in rows}

    def replace_dep_waiting(self, pair: str, link_ids: set[str]) -> None:
        self.conn.execute("DELETE FROM sync_dep_waiting WHERE pair = ?", (pair,))
        self.conn.executemany(
            "INSERT INTO sync_dep_waiting (pair, link_id) VALUES (?, ?)",
            [(pair, link_id) for link_id in sorted(link_ids)],
        )

    # -- runs -----------------------------------------------------------------------------

    def record_run(self, pair: str, a_name: str, b_name: str, summary: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO sync_runs (pair, a_name, b_name, finished_at, summary) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (pair) DO UPDATE SET "
            "finished_at = excluded.finished_at, summary = excluded.summary",
            (pair, a_name, b_name, format_ts(utcnow()), _dump(summary)),
        )

    def runs(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM sync_runs ORDER BY pair").fetchall()
        return [{**dict(row), "summary": _load(row["summary"])} for row in rows]

    def count(self, table: str, pair: str) -> int:
        assert table in OWN_TABLES
        return int(
            self.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE pair = ?", (pair,)).fetchone()[0]
        )
