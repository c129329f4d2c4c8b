"""The server's durable state: one SQLite table of ingested tasks.

Each accepted task is one row, inserted (the *claim*) before anything is written to a backend.
The row is at once the idempotency record (``idempotency_key`` is UNIQUE), the outbox entry
(``status`` pending/delivering with a retry schedule) and the delivery record (issue number).

Statuses::

    claimed     being delivered right now by the running server (its first attempt)
    pending     waiting in the outbox for a (re)try at ``next_attempt_at``
    delivering  leased by a worker (server or ``issue outbox retry``) until ``lease_until``;
                ``lease_owner`` names the worker's ``LeaseHolder``
    delivered   the issue exists on the backend (``issue_number``)
    failed      a permanent error, or too many unexpected errors; ``issue outbox retry`` re-queues

``maybe_written`` is set, durably, *before* a create is sent (in the claim for the server's first
attempt, in the lease for an outbox delivery): once set, an attempt may have reached the backend
without us learning the result (a crash, a timeout), so the next attempt first looks for the
task's marker on the backend. It is cleared only for a claim that was parked without an attempt.

A crash leaves rows ``claimed`` (the server died: ``ServerLock`` is free) or ``delivering``
(their ``LeaseHolder``'s lock is free): ``heal`` puts both back in the outbox, due at once, so a
restart resumes them without waiting for a lease to run out. A live worker's leases are never
taken: its lock is held for as long as it runs.

The database runs in WAL mode with ``synchronous=FULL``: a commit is on disk before the server
answers, so a task it acknowledged survives SIGKILL and power loss (unless the server runs with
the opt-in ``--synchronous normal``: then SIGKILL, not power loss; docs/ingestion.md).
Connections, transactions, migrations and chunked statements are the shared SQL engine's
(``issue_core.storage.sqlite``). A row is a ``TaskRow`` (``service/tasks.py``, the ingestion
use case's plain data). Only the standard library is imported here so that ``issue outbox``
stays fast without the ``api`` extra.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from issue_core.core.errors import NotFound, StoreError, UsageError
from issue_core.service.tasks import TaskRow
from issue_core.storage import sqlite as engine
from issue_core.storage.batches import chunks, insert_rows
from issue_core.storage.dialect import SQLITE

STATE_DB_NAME = "server.db"
LOCK_NAME = "server.lock"
LEASES_DIR = "leases"
SCHEMA_VERSION = 2

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
    updated_at      REAL NOT NULL,
    lease_owner     TEXT
);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks(status, next_attempt_at);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks(created_at);
"""
# From each version to the next (index 0: version 1 -> 2). A fresh db gets SCHEMA at once.
MIGRATIONS = ("ALTER TABLE tasks ADD COLUMN lease_owner TEXT",)

OUTBOX_STATUSES = ("claimed", "pending", "delivering", "delivered", "failed")
COLUMNS = (
    "tracking_id, idempotency_key, backend, status, marker, issue_json, request_id, received_at,"
    " attempts, maybe_written, next_attempt_at, lease_until, last_error, issue_number,"
    " issue_snapshot, delivered_at, created_at, updated_at, lease_owner"
)
COLUMN_COUNT = COLUMNS.count(",") + 1


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
        row.lease_owner,
    )


class StateStore:
    """Access to ``server.db``. One instance per thread (SQLite connections are not shared)."""

    def __init__(self, path: Path, *, synchronous: str = "full") -> None:
        """``synchronous``: "full" (every commit fsynced), or "normal" for a server run with
        ``--synchronous normal`` (commits survive a killed process, not a power cut)."""
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Private from the first byte (SQLite would create it 0644); WAL files inherit it.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            self.conn = engine.connect(str(path))  # rows as tuples: TaskRow.from_sql
            engine.use_wal(self.conn, synchronous)
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
                fresh = not self.conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='tasks'"
                ).fetchone()
                # A db from before versions were recorded (0, with the table) is version 1.
                scripts = [SCHEMA] if fresh else MIGRATIONS[max(version, 1) - 1 :]
                engine.run_migrations(self.conn, scripts, version=SCHEMA_VERSION)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front, so no upgrade deadlock.

        ``durable=False`` commits without fsync (WAL, ``synchronous=NORMAL``): the commit
        survives a killed process but not a power cut. Only for bookkeeping that can be rebuilt
        (a delivered task whose record is lost is found again by its marker).
        """
        with engine.write_transaction(self.conn, durable=durable):
            yield self.conn

    # -- claims (the server's hot path) -----------------------------------------------

    def claim(self, conn: sqlite3.Connection, row: TaskRow) -> TaskRow | None:
        """Insert ``row`` (inside a transaction). Returns the existing row for a duplicate key."""
        return self.claim_many(conn, [row]).get(0)

    def claim_many(self, conn: sqlite3.Connection, rows: list[TaskRow]) -> dict[int, TaskRow]:
        """Insert ``rows`` (inside a transaction) in one statement. Returns, by index in
        ``rows``, the row already holding the key of each duplicate (maybe an earlier one of
        ``rows``); the common case, no duplicate, costs no further query.

        A claimed task is created on its backend right after this commit: it is stored
        ``maybe_written`` already, so that a crash during that create is looked up by marker."""
        for row in rows:
            row.maybe_written = True
        inserted = insert_rows(
            conn, f"tasks ({COLUMNS})", [_values(row) for row in rows], ignore_duplicates=True
        )
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
        for chunk in chunks(conn, deliveries, 3):
            conn.execute(
                "UPDATE tasks SET status='delivered', issue_number=v.column2,"
                " issue_snapshot=v.column3, delivered_at=?, attempts=attempts+1, lease_until=NULL,"
                " lease_owner=NULL, last_error=NULL, next_attempt_at=NULL, updated_at=?"
                f" FROM (VALUES {SQLITE.rows(len(chunk), 3)}) AS v"
                " WHERE tasks.tracking_id=v.column1",
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
        """Back to the outbox. ``attempted``: the backend may have seen this attempt.

        A claim parked without an attempt (its backend's circuit was open) never reached the
        backend: its ``maybe_written`` (set by the claim) is cleared, sparing its delivery a
        look-up. Any other row keeps the mark it has."""
        conn.execute(
            "UPDATE tasks SET status='pending', last_error=?, next_attempt_at=?, lease_until=NULL,"
            " lease_owner=NULL, attempts=attempts+?, updated_at=?,"
            " maybe_written=CASE WHEN ? THEN 1 WHEN status='claimed' AND attempts=0 THEN 0"
            " ELSE maybe_written END"
            " WHERE tracking_id=?",
            (error, next_attempt_at, int(attempted), time.time(), int(attempted), tracking_id),
        )

    def mark_failed(self, conn: sqlite3.Connection, tracking_id: str, error: str) -> None:
        conn.execute(
            "UPDATE tasks SET status='failed', last_error=?, lease_until=NULL, lease_owner=NULL,"
            " next_attempt_at=NULL, attempts=attempts+1, updated_at=? WHERE tracking_id=?",
            (error, time.time(), tracking_id),
        )

    def release(self, conn: sqlite3.Connection, tracking_id: str) -> None:
        """Forget a claim whose task was rejected before anything was acknowledged."""
        conn.execute("DELETE FROM tasks WHERE tracking_id=?", (tracking_id,))

    def lease(
        self, tracking_id: str, *, seconds: float, statuses: Iterable[str], owner: str
    ) -> TaskRow | None:
        """Take ``tracking_id`` for delivery by ``owner`` (a ``LeaseHolder`` token) if it is in
        one of ``statuses`` (or its lease expired).

        Atomic: of two workers racing for a row, exactly one gets it. The lease marks the row
        ``maybe_written`` in the same durable commit, before the caller sends anything. The row
        returned says whether *earlier* attempts may have landed (``maybe_written``: look the
        marker up before creating): so for a row it takes over from an expired lease, always.
        Only leases without an owner (taken by an older version) expire here; an owned lease
        is freed by ``heal`` once its owner is dead, never while it lives.
        """
        now = time.time()
        wanted = tuple(statuses)
        marks = SQLITE.marks(len(wanted))
        with self.transaction() as conn:
            before = self.get(tracking_id, conn)
            cursor = conn.execute(
                f"UPDATE tasks SET status='delivering', lease_until=?, lease_owner=?,"
                f" maybe_written=1, updated_at=?"
                f" WHERE tracking_id=? AND (status IN ({marks})"
                f" OR (status='delivering' AND lease_owner IS NULL AND lease_until < ?))",
                (now + seconds, owner, now, tracking_id, *wanted, now),
            )
            if cursor.rowcount != 1 or before is None:
                return None
            leased = self.get(tracking_id, conn)
        assert leased is not None
        leased.maybe_written = before.maybe_written or before.status == "delivering"
        return leased

    def heal(self, *, server_gone: bool, me: str | None = None) -> int:
        """After a crash: put tasks a dead process left mid-delivery back in the outbox, due now
        and flagged ``maybe_written`` so that their delivery checks the backend for their
        marker first. Returns how many.

        ``server_gone``: the caller holds ``ServerLock``, so ``claimed`` rows (first attempts of
        a server) belong to no live process. ``delivering`` rows are healed when their
        ``lease_owner``'s lock is free (it died; a live worker's leases are left alone). Rows
        without an owner (leased by an older version) wait for their lease to run out, when
        ``due`` offers them again. ``me``: the caller's own token, never healed.
        """
        owners = [
            owner
            for (owner,) in self.conn.execute(
                "SELECT DISTINCT lease_owner FROM tasks WHERE status='delivering'"
            ).fetchall()
            if owner is not None and owner != me
        ]
        alive = {owner: LeaseHolder.is_alive(self.path.parent, owner) for owner in owners}
        dead = [owner for owner, state in alive.items() if state is False]
        # An owner whose lock cannot be checked (permissions) keeps its leases until they run
        # out, as before owners were recorded.
        unknown = [owner for owner, state in alive.items() if state is None]
        if not dead and not unknown and not server_gone:
            return 0  # the common case (every outbox round): one indexed query, no write
        now = time.time()
        healed = 0
        with self.transaction() as conn:
            if server_gone:
                healed += conn.execute(
                    "UPDATE tasks SET status='pending', maybe_written=1, next_attempt_at=?,"
                    " last_error=COALESCE(last_error,"
                    " 'interrupted: the server stopped mid-delivery'),"
                    " updated_at=? WHERE status='claimed'",
                    (now, now),
                ).rowcount
            for chunk in chunks(conn, dead, 1):
                owned = SQLITE.marks(len(chunk))
                healed += conn.execute(
                    "UPDATE tasks SET status='pending', maybe_written=1, next_attempt_at=?,"
                    " lease_until=NULL, lease_owner=NULL,"
                    " last_error=COALESCE(last_error, 'interrupted: its worker stopped"
                    " mid-delivery'), updated_at=?"
                    f" WHERE status='delivering' AND lease_owner IN ({owned})",
                    (now, now, *chunk),
                ).rowcount
            for chunk in chunks(conn, unknown, 1):
                owned = SQLITE.marks(len(chunk))
                healed += conn.execute(
                    "UPDATE tasks SET status='pending', maybe_written=1, next_attempt_at=?,"
                    " lease_until=NULL, lease_owner=NULL, updated_at=?"
                    f" WHERE status='delivering' AND lease_until < ? AND lease_owner IN ({owned})",
                    (now, now, now, *chunk),
                ).rowcount
        for owner in dead:
            LeaseHolder.forget(self.path.parent, owner)
        if server_gone:
            LeaseHolder.sweep(self.path.parent)
        return healed

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
            if row.status == "delivered":
                raise UsageError(f"task {tracking_id} is delivered; nothing to retry")
            # A live worker's task (claimed, delivering) is left to it: the caller says so.
            return conn.execute(
                "UPDATE tasks SET status='pending', next_attempt_at=?, updated_at=?"
                " WHERE tracking_id=? AND status IN ('pending', 'failed')",
                (now, now, tracking_id),
            ).rowcount

    # -- reads -------------------------------------------------------------------------

    def undelivered_ids(self) -> list[str]:
        """Every task not delivered yet (newest first): what ``issue outbox retry`` is about."""
        rows = self.conn.execute(
            "SELECT tracking_id FROM tasks WHERE status != 'delivered' ORDER BY created_at DESC"
        ).fetchall()
        return [tracking_id for (tracking_id,) in rows]

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

    def due(
        self, *, now: float | None = None, limit: int = 50, skip: Iterable[str] = ()
    ) -> list[TaskRow]:
        """Outbox tasks whose retry time has come, or whose ownerless lease ran out (see
        ``lease``); none of the backends named in ``skip`` (their circuit is open)."""
        now = time.time() if now is None else now
        skipped = list(skip)
        without = f" AND backend NOT IN ({SQLITE.marks(len(skipped))})" if skipped else ""
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM tasks WHERE ((status='pending' AND next_attempt_at <= ?)"
            f" OR (status='delivering' AND lease_owner IS NULL AND lease_until < ?)){without}"
            " ORDER BY next_attempt_at LIMIT ?",
            (now, now, *skipped, limit),
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
            query += f" WHERE status IN ({SQLITE.marks(len(wanted))})"
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
    take the lock, tasks left ``claimed`` belong to no live process and may be healed. (Leased,
    ``delivering`` tasks have an owner of their own: see ``LeaseHolder``.)
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


class LeaseHolder:
    """A worker's identity on the leases it takes, alive exactly as long as its process.

    Each worker (a server's delivery stage, an ``issue outbox retry``) makes a random token and
    holds an exclusive ``flock`` on ``leases/<token>.lock`` in the state folder while it runs.
    The kernel drops the lock when the process dies, however it dies (SIGKILL included), so
    another process learns for certain that a lease's owner is gone (``is_alive``) and may heal
    its rows at once instead of waiting for ``lease_until``. Tokens are never reused, so a
    dead owner stays dead (no pid reuse).
    """

    def __init__(self, state_dir: Path) -> None:
        import fcntl

        self.state_dir = state_dir
        self.token = secrets.token_hex(8)
        path = _lease_lock_path(state_dir, self.token)
        # Locked under a name no checker looks at, then renamed into place (the lock belongs to
        # the file, not the name): whoever sees ``<token>.lock`` sees it locked while we live.
        draft = path.with_name(f".{self.token}.new")
        fd = -1
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it
            os.write(fd, f"{os.getpid()}\n".encode())
            os.rename(draft, path)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            raise StoreError(
                f"cannot create a lease lock in {path.parent}: {exc.strerror or exc}"
            ) from exc
        self._fd: int | None = fd

    def release(self) -> None:
        """At a clean stop (after the last lease was settled): the lock file goes too."""
        if self._fd is not None:
            LeaseHolder.forget(self.state_dir, self.token)
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def is_alive(state_dir: Path, token: str) -> bool | None:
        """Whether the worker ``token`` still runs: its lock is held. A missing lock file means
        it is gone (it removes the file only after its last lease; so does a healer). None:
        cannot tell (the file cannot be opened)."""
        import fcntl

        try:
            fd = os.open(_lease_lock_path(state_dir, token), os.O_RDWR)
        except FileNotFoundError:
            return False
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # closing drops a lock we took
        return False

    @staticmethod
    def sweep(state_dir: Path) -> None:
        """Remove the lock files of dead workers that left no lease behind (a server killed
        while idle): without this, each crash would leave one file for good."""
        folder = state_dir / LEASES_DIR
        try:
            names = [entry.name for entry in os.scandir(folder) if entry.name.endswith(".lock")]
        except OSError:
            return
        for name in names:
            token = name.removesuffix(".lock")
            if token.isalnum() and LeaseHolder.is_alive(state_dir, token) is False:
                LeaseHolder.forget(state_dir, token)

    @staticmethod
    def forget(state_dir: Path, token: str) -> None:
        try:
            _lease_lock_path(state_dir, token).unlink()
        except OSError:
            pass


def _lease_lock_path(state_dir: Path, token: str) -> Path:
    if not token.isalnum():  # a token comes from the db: never let it name another path
        raise StoreError(f"invalid lease owner {token!r} in the server state db")
    return state_dir / LEASES_DIR / f"{token}.lock"
