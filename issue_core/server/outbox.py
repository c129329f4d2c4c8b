"""The server's durable state: one SQLite table of ingested tasks.

Each accepted task is one row, inserted (the *claim*) before anything is written to a backend.
The row is at once the idempotency record (``idempotency_key`` is UNIQUE), the outbox entry
(``status`` pending/delivering with a retry schedule) and the delivery record (issue number).

Statuses::

    claimed     being delivered right now by the running server (its first attempt)
    pending     waiting in the outbox for a (re)try at ``next_attempt_at``
    delivering  leased by a worker (server or ``issue outbox retry``) until ``lease_until``
    delivered   the issue exists on the backend (``issue_number``)
    failed      a permanent error, or too many unexpected errors; ``issue outbox retry`` re-queues

``maybe_written`` is set once an attempt may have reached the backend without us learning the
result (a crash, a timeout): the next attempt first looks for the task's marker on the backend.

The database runs in WAL mode with ``synchronous=FULL``: a commit is on disk before the server
answers, so a task it acknowledged survives SIGKILL and power loss. Only the standard library is
imported here so that ``issue outbox`` stays fast without the ``api`` extra.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from issue_core.core.errors import NotFound, StoreError, UsageError
from issue_core.core.models import format_ts

STATE_DB_NAME = "server.db"
LOCK_NAME = "server.lock"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    tracking_id     TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    backend         TEXT NOT NULL,
    status          TEXT NOT NULL,
    marker          TEXT NOT NULL,
    issue_json      TEXT NOT NULL,
    request_id      TEXT,
    received_at     TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    maybe_written   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    lease_until     REAL,
    last_error      TEXT,
    issue_number    INTEGER,
    issue_snapshot  TEXT,
    delivered_at    REAL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks(status, next_attempt_at);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks(created_at);
"""

OUTBOX_STATUSES = ("claimed", "pending", "delivering", "delivered", "failed")
COLUMNS = (
    "tracking_id, idempotency_key, backend, status, marker, issue_json, request_id, received_at,"
    " attempts, maybe_written, next_attempt_at, lease_until, last_error, issue_number,"
    " issue_snapshot, delivered_at, created_at, updated_at"
)


def public_status(status: str) -> str:
    """What clients see: every not-yet-delivered state is simply ``pending``."""
    return status if status in ("delivered", "failed") else "pending"


@dataclass
class TaskRow:
    tracking_id: str
    idempotency_key: str | None
    backend: str
    status: str
    marker: str
    issue_json: str
    request_id: str | None
    received_at: str
    attempts: int = 0
    maybe_written: bool = False
    next_attempt_at: float | None = None
    lease_until: float | None = None
    last_error: str | None = None
    issue_number: int | None = None
    issue_snapshot: str | None = None
    delivered_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    @classmethod
    def from_sql(cls, row: tuple[Any, ...]) -> TaskRow:
        values = list(row)
        values[9] = bool(values[9])
        return cls(*values)

    @property
    def issue_data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.issue_json)
        return data

    @property
    def snapshot(self) -> dict[str, Any] | None:
        return json.loads(self.issue_snapshot) if self.issue_snapshot else None

    def to_public(self) -> dict[str, Any]:
        """The tracking record shown by ``GET /issues/ingest/{id}`` and ``issue outbox list``."""
        return {
            "tracking_id": self.tracking_id,
            "status": public_status(self.status),
            "phase": self.status,
            "backend": self.backend,
            "idempotency_key": self.idempotency_key,
            "issue_id": issue_id_of(self.backend, self.issue_number),
            "issue_number": self.issue_number,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": _iso(self.next_attempt_at) if self.status == "pending" else None,
            "received_at": self.received_at,
            "delivered_at": _iso(self.delivered_at),
            "request_id": self.request_id,
            "title": self.issue_data.get("title"),
        }


def issue_id_of(backend: str, number: int | None) -> str | None:
    """The reference an upstream keeps: ``<backend>#<number>``, stable across repeats."""
    return f"{backend}#{number}" if number is not None else None


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return format_ts(datetime.fromtimestamp(round(epoch, 3), UTC))


def _chunks(conn: sqlite3.Connection, items: list[Any], columns: int) -> Iterator[list[Any]]:
    """Batches are written with multi-row statements: one call into SQLite per batch, not per
    row (each call releases and retakes the GIL; taking it back from a busy event loop waits).
    Yields slices of ``items`` small enough for SQLite's limit on bound parameters."""
    size = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // columns - 1)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(rows: int, columns: int) -> str:
    """``(?, ?), (?, ?)``: the placeholders of a multi-row VALUES clause."""
    row = f"({', '.join('?' * columns)})"
    return ", ".join([row] * rows)


def _values(row: TaskRow) -> tuple[Any, ...]:
    """``row`` as the parameters of an INSERT of ``COLUMNS``."""
    return (
        row.tracking_id,
        row.idempotency_key,
        row.backend,
        row.status,
        row.marker,
        row.issue_json,
        row.request_id,
        row.received_at,
        row.attempts,
        int(row.maybe_written),
        row.next_attempt_at,
        row.lease_until,
        row.last_error,
        row.issue_number,
        row.issue_snapshot,
        row.delivered_at,
        row.created_at,
        row.updated_at,
    )


class StateStore:
    """Access to ``server.db``. One instance per thread (SQLite connections are not shared)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Private from the first byte (SQLite would create it 0644); WAL files inherit it.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            self.conn = sqlite3.connect(
                str(path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the server state db {path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create the server state folder {path.parent}: {exc.strerror or exc}"
            ) from exc

    @classmethod
    def open_existing(cls, path: Path) -> StateStore:
        if not path.exists():
            raise NotFound(
                f"no server state db at {path}",
                hint="start `issue serve` once, or pass --state-dir",
            )
        return cls(path)

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the server state db {self.path} was written by a newer issue-core",
                hint="upgrade issue-core",
            )
        if version < SCHEMA_VERSION:
            with self.transaction():
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front, so no upgrade deadlock.

        ``durable=False`` commits without fsync (WAL, ``synchronous=NORMAL``): the commit
        survives a killed process but not a power cut. Only for bookkeeping that can be rebuilt
        (a delivered task whose record is lost is found again by its marker).
        """
        if not durable:
            self.conn.execute("PRAGMA synchronous=NORMAL")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        finally:
            if not durable:
                self.conn.execute("PRAGMA synchronous=FULL")

    # -- claims (the server's hot path) -----------------------------------------------

    def claim(self, conn: sqlite3.Connection, row: TaskRow) -> TaskRow | None:
        """Insert ``row`` (inside a transaction). Returns the existing row for a duplicate key."""
        return self.claim_many(conn, [row]).get(0)

    def claim_many(self, conn: sqlite3.Connection, rows: list[TaskRow]) -> dict[int, TaskRow]:
        """Insert ``rows`` (inside a transaction) in one statement. Returns, by index in
        ``rows``, the row already holding the key of each duplicate (maybe an earlier one of
        ``rows``); the common case, no duplicate, costs no further query."""
        inserted = 0
        for chunk in _chunks(conn, rows, 18):
            cursor = conn.execute(
                f"INSERT OR IGNORE INTO tasks ({COLUMNS}) VALUES {_marks(len(chunk), 18)}",
                [value for row in chunk for value in _values(row)],
            )
            inserted += cursor.rowcount
        if inserted == len(rows):
            return {}
        existing: dict[int, TaskRow] = {}
        for index, row in enumerate(rows):
            found = self.by_key(row.idempotency_key, conn) if row.idempotency_key else None
            if found is not None and found.tracking_id != row.tracking_id:
                existing[index] = found
        if inserted + len(existing) != len(rows):  # pragma: no cover
            raise StoreError("tracking id collision; retry the request")
        return existing

    # -- transitions -------------------------------------------------------------------

    def mark_delivered(
        self, conn: sqlite3.Connection, tracking_id: str, number: int | None, snapshot: str
    ) -> None:
        self.mark_delivered_many(conn, [(tracking_id, number, snapshot)])

    def mark_delivered_many(
        self, conn: sqlite3.Connection, deliveries: list[tuple[str, int | None, str]]
    ) -> None:
        """Record deliveries ``(tracking_id, issue number, snapshot JSON)``."""
        now = time.time()
        for chunk in _chunks(conn, deliveries, 3):
            conn.execute(
                "UPDATE tasks SET status='delivered', issue_number=v.column2,"
                " issue_snapshot=v.column3, delivered_at=?, attempts=attempts+1,"
                " lease_until=NULL, last_error=NULL, next_attempt_at=NULL, updated_at=?"
                f" FROM (VALUES {_marks(len(chunk), 3)}) AS v WHERE tasks.tracking_id=v.column1",
                [now, now, *(value for delivery in chunk for value in delivery)],
            )

    def mark_pending(
        self,
        conn: sqlite3.Connection,
        tracking_id: str,
        *,
        error: str | None,
        next_attempt_at: float,
        attempted: bool,
    ) -> None:
        """Back to the outbox. ``attempted``: the backend may have seen this attempt."""
        conn.execute(
            "UPDATE tasks SET status='pending', last_error=?, next_attempt_at=?, lease_until=NULL,"
            " attempts=attempts+?, maybe_written=MAX(maybe_written, ?), updated_at=?"
            " WHERE tracking_id=?",
            (error, next_attempt_at, int(attempted), int(attempted), time.time(), tracking_id),
        )

    def mark_failed(self, conn: sqlite3.Connection, tracking_id: str, error: str) -> None:
        conn.execute(
            "UPDATE tasks SET status='failed', last_error=?, lease_until=NULL,"
            " next_attempt_at=NULL, attempts=attempts+1, updated_at=? WHERE tracking_id=?",
            (error, time.time(), tracking_id),
        )

    def release(self, conn: sqlite3.Connection, tracking_id: str) -> None:
        """Forget a claim whose task was rejected before anything was acknowledged."""
        conn.execute("DELETE FROM tasks WHERE tracking_id=?", (tracking_id,))

    def lease(self, tracking_id: str, *, seconds: float, statuses: Iterable[str]) -> TaskRow | None:
        """Take ``tracking_id`` for delivery if it is in one of ``statuses`` (or its lease expired).

        Atomic: of two workers racing for a row, exactly one gets it.
        """
        now = time.time()
        wanted = tuple(statuses)
        marks = ", ".join("?" * len(wanted))
        with self.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE tasks SET status='delivering', lease_until=?, updated_at=?"
                f" WHERE tracking_id=? AND (status IN ({marks})"
                f" OR (status='delivering' AND lease_until < ?))",
                (now + seconds, now, tracking_id, *wanted, now),
            )
            if cursor.rowcount != 1:
                return None
            return self.get(tracking_id, conn)

    def heal_claimed(self) -> int:
        """After a crash: first attempts that were in flight go back to the outbox, flagged
        ``maybe_written`` so that delivery checks the backend for their marker first."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE tasks SET status='pending', maybe_written=1, next_attempt_at=?,"
                " last_error=COALESCE(last_error, 'interrupted: the server stopped mid-delivery'),"
                " updated_at=? WHERE status='claimed'",
                (time.time(), time.time()),
            )
            return cursor.rowcount

    def requeue(self, tracking_id: str | None = None) -> int:
        """Make failed (or waiting) tasks due now. ``None``: every failed and pending task."""
        now = time.time()
        with self.transaction() as conn:
            if tracking_id is None:
                cursor = conn.execute(
                    "UPDATE tasks SET status='pending', next_attempt_at=?, updated_at=?"
                    " WHERE status IN ('failed', 'pending')",
                    (now, now),
                )
                return cursor.rowcount
            row = self.get(tracking_id, conn)
            if row is None:
                raise NotFound(f"no ingested task with tracking id {tracking_id!r}")
            if row.status in ("delivered", "claimed", "delivering"):
                raise UsageError(
                    f"task {tracking_id} is {row.status}; only pending or failed tasks are retried"
                )
            conn.execute(
                "UPDATE tasks SET status='pending', next_attempt_at=?, updated_at=?"
                " WHERE tracking_id=?",
                (now, now, tracking_id),
            )
            return 1

    # -- reads -------------------------------------------------------------------------

    def get(self, tracking_id: str, conn: sqlite3.Connection | None = None) -> TaskRow | None:
        found = (
            (conn or self.conn)
            .execute(f"SELECT {COLUMNS} FROM tasks WHERE tracking_id=?", (tracking_id,))
            .fetchone()
        )
        return TaskRow.from_sql(found) if found else None

    def by_key(self, key: str, conn: sqlite3.Connection | None = None) -> TaskRow | None:
        found = (
            (conn or self.conn)
            .execute(f"SELECT {COLUMNS} FROM tasks WHERE idempotency_key=?", (key,))
            .fetchone()
        )
        return TaskRow.from_sql(found) if found else None

    def due(self, *, now: float | None = None, limit: int = 50) -> list[TaskRow]:
        """Outbox tasks whose retry time has come, or whose worker's lease ran out."""
        now = time.time() if now is None else now
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM tasks WHERE (status='pending' AND next_attempt_at <= ?)"
            " OR (status='delivering' AND lease_until < ?) ORDER BY next_attempt_at LIMIT ?",
            (now, now, limit),
        ).fetchall()
        return [TaskRow.from_sql(row) for row in rows]

    def next_due_at(self) -> float | None:
        found = self.conn.execute(
            "SELECT MIN(next_attempt_at) FROM tasks WHERE status='pending'"
        ).fetchone()
        return found[0] if found else None

    def list(
        self, *, statuses: Iterable[str] | None = None, limit: int | None = 100
    ) -> list[TaskRow]:
        query = f"SELECT {COLUMNS} FROM tasks"
        params: list[Any] = []
        wanted = list(statuses or [])
        if wanted:
            query += f" WHERE status IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        query += " ORDER BY created_at DESC"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        return [TaskRow.from_sql(row) for row in self.conn.execute(query, params).fetchall()]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall()
        return {status: count for status, count in rows}


def state_db_path(state_dir: Path) -> Path:
    return state_dir / STATE_DB_NAME


class ServerLock:
    """One ``issue serve`` per state folder: an exclusive ``flock`` held while it runs.

    ``issue outbox retry`` uses the same lock to learn whether a server is running: if it can
    take the lock, tasks left ``claimed`` belong to no live process and may be healed.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
