"""SQLite, the way every issue-core database uses it: one reason to change, the engine.

- ``connect``: autocommit connections (``isolation_level=None``: transactions are explicit) that
  wait up to ``BUSY_TIMEOUT_S`` for a lock instead of failing at once, usable from the thread
  that the caller serialises them on, with foreign keys on and the dialect attached
  (``conn.dialect``: the SQL that differs between engines, see ``dialect.py``).
- ``use_wal``: WAL with ``synchronous=FULL``, so a commit is on disk before it returns
  (``synchronous="normal"``, asked for by ``issue serve --synchronous normal`` only: a commit
  survives a killed process, not a power cut; docs/ingestion.md, Durability).
- ``write_transaction``: ``BEGIN IMMEDIATE`` ... ``COMMIT``. The write lock is taken up front,
  so two processes never deadlock upgrading read locks, and the busy timeout queues writers
  instead of surfacing "database is locked". Reads need none (WAL gives each statement a
  snapshot).
- ``retry_while_busy``: the cases where SQLite reports "locked" at once instead of waiting
  (switching a fresh file to WAL while others open it), waited out with jitter.
- ``run_migrations``: versioned scripts applied in the caller's transaction, the version in
  ``PRAGMA user_version``.
- Multi-row statements chunked to the limit on bound parameters: ``batches.py`` (it needs only
  the connection's dialect).
- The facts error translation is made of (``is_busy``, ``is_full``, ``refused_write``,
  ``read_only_reason``): the database's codes and the filesystem's state. The words of each
  error belong to the store that raises it (backends/local/store.py, server/outbox.py).

Only the standard library and ``core`` are imported: ``issue list`` and ``issue outbox`` load it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from issue_core.storage.dialect import SQLITE, SQLiteDialect

BUSY_TIMEOUT_S = 30.0
# Less free space than this when SQLite reports an I/O error on a write: call it a full disk.
NEARLY_FULL_BYTES = 1 << 20

_FULL_ERRNOS = frozenset({28, 122})  # ENOSPC, EDQUOT (Linux)
_READ_ONLY_ERRNOS = frozenset({1, 13, 30})  # EPERM, EACCES, EROFS

T = TypeVar("T")


# ``PRAGMA synchronous`` levels a caller may ask for: "full" (the default everywhere) fsyncs the
# WAL at every commit; "normal" leaves that to the checkpoints.
SYNCHRONOUS_LEVELS = ("full", "normal")


class Connection(sqlite3.Connection):
    """A sqlite3 connection that names its dialect, for the repositories' engine-specific SQL."""

    dialect: SQLiteDialect = SQLITE
    #: Who acts through this connection's writes (the local store's event log reads it).
    actor: str | None = None
    #: Its ``PRAGMA synchronous`` between transactions (``use_wal``).
    synchronous: str = "full"


def connect(target: str, *, uri: bool = False, rows: bool = False) -> Connection:
    """An autocommit connection (see the module docstring). ``rows``: rows as ``sqlite3.Row``
    (by name); otherwise plain tuples, the cheaper form for hot paths."""
    conn = sqlite3.connect(
        target,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,
        uri=uri,
        factory=Connection,
    )
    if rows:
        conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def use_wal(conn: sqlite3.Connection, synchronous: str = "full") -> None:
    """Durable commits in WAL mode (the mode is recorded in the file, so it is set only once).

    ``synchronous="normal"`` (one of ``SYNCHRONOUS_LEVELS``) commits without an fsync: a commit
    survives a killed process, but not a power cut or an operating-system crash. Such a
    connection also never checkpoints inside its commits (the checkpoint is where the fsyncs
    went): whoever asks for "normal" checkpoints on another connection (server/checkpointer.py).
    """
    if synchronous not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_LEVELS}, not {synchronous!r}")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    if synchronous == "normal":
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    if isinstance(conn, Connection):
        conn.synchronous = synchronous
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


@contextmanager
def write_transaction(conn: sqlite3.Connection, *, durable: bool = True) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception.

    ``durable=False`` commits without fsync (WAL, ``synchronous=NORMAL``): the commit survives a
    killed process but not a power cut. Only for bookkeeping that can be rebuilt. (On a
    connection that ``use_wal`` made "normal", every commit is already so.)
    """
    relax = not durable and getattr(conn, "synchronous", "full") == "full"
    if relax:
        conn.execute("PRAGMA synchronous = NORMAL")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        if relax:
            conn.execute("PRAGMA synchronous = FULL")


def retry_while_busy(
    conn: sqlite3.Connection, attempt: Callable[[], T], *, timeout: float = BUSY_TIMEOUT_S
) -> T:
    """``attempt()``, retried for up to ``timeout`` seconds while SQLite says "locked"/"busy"
    without having waited (no busy handler runs for the deadlock-prone cases, e.g. switching a
    brand-new file to WAL while other processes open it). An open transaction is rolled back
    before each retry; any other error is raised at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            time.sleep(0.01 + os.urandom(1)[0] / 6400)  # 10-50 ms, jittered


# -- migrations ---------------------------------------------------------------------------


def run_migrations(
    conn: sqlite3.Connection,
    scripts: Sequence[str],
    *,
    version: int,
    application_id: int | None = None,
) -> None:
    """Run each script's statements, then record ``version`` (and the ``application_id`` that
    tells this program's files from others'), inside the caller's transaction: a database is
    always at exactly one version."""
    for script in scripts:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {int(version)}")
    if application_id is not None:
        conn.execute(f"PRAGMA application_id = {int(application_id)}")


def statements(script: str) -> Iterator[str]:
    """Split a migration script on ';' at line ends (our scripts have no ';' inside strings)."""
    buffer: list[str] = []
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            yield "\n".join(buffer)
            buffer = []
    if buffer:
        yield "\n".join(buffer)


# -- the facts error translation is made of ------------------------------------------------


def error_name(exc: BaseException) -> str:
    """SQLite's extended result code name (``SQLITE_BUSY_SNAPSHOT``), or ''."""
    return getattr(exc, "sqlite_errorname", "") or ""


def is_busy(exc: BaseException) -> bool:
    """The lock stayed taken for the whole busy timeout."""
    return error_name(exc).startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)


def is_full(exc: BaseException, folder: str) -> bool:
    """A write failed for want of space in ``folder``. SQLite reports a full disk as
    SQLITE_FULL only where it sees ENOSPC itself; growing the WAL index fails as an I/O error,
    so an I/O error with (almost) no space left counts as full."""
    name = error_name(exc)
    if name == "SQLITE_FULL" or getattr(exc, "errno", None) in _FULL_ERRNOS:
        return True
    return name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) and (
        free_bytes(folder) < NEARLY_FULL_BYTES
    )


def refused_write(exc: BaseException) -> bool:
    """The error is one a filesystem refusing writes produces (read-only, no permission)."""
    name = error_name(exc)
    return (
        name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR"))
        or getattr(exc, "errno", None) in _READ_ONLY_ERRNOS
        or "readonly" in str(exc)
    )


def is_read_only(exc: BaseException) -> bool:
    """SQLite itself says the database is read-only (whatever the filesystem says)."""
    return error_name(exc).startswith("SQLITE_READONLY") or "readonly" in str(exc)


def existing_ancestor(folder: str) -> str:
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


def folder_of(path: str) -> str:
    """The nearest existing folder that holds (or would hold) ``path``."""
    return existing_ancestor(os.path.dirname(os.path.abspath(path)))


def free_bytes(folder: str) -> int:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows): do not guess
        return NEARLY_FULL_BYTES
    # Root may write into the blocks reserved for it, so count those for root.
    blocks = stats.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize


READ_ONLY_FILESYSTEM = "read-only filesystem"


def read_only_reason(path: str, folder: str | None = None) -> str | None:
    """Why the file cannot be written, as far as the filesystem says; None if it can.
    (``os.access`` answers for this process: root passes every permission check, but not a
    read-only filesystem.)"""
    if folder is None:
        folder = folder_of(path)
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return READ_ONLY_FILESYSTEM
    except (OSError, AttributeError):
        pass
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return "no write permission on the file"
    if not os.access(folder, os.W_OK):
        return "no write permission on its folder"
    return None
