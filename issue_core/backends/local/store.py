"""Opening, migrating and guarding the SQLite file; translating SQLite errors into typed ones.

Writes run in ``BEGIN IMMEDIATE`` transactions: the write lock is taken up front, so two
processes never deadlock upgrading read locks, and the busy timeout queues writers instead of
surfacing "database is locked". Reads need no transaction (WAL gives each statement a snapshot).

Reads never write. A store SQLite cannot open for writing (a read-only filesystem or bind
mount, no write permission on the file or its folder, a full disk where the WAL index cannot be
made) is opened read-only instead, so reading commands still work; a write then fails with one
line saying why (``StoreReadOnly`` / ``StoreFull``, exit 8). A new store appears whole or not
at all (creation.py). A file that is not an issue-core store is refused, never adopted.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from issue_core.backends.local.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from issue_core.core.errors import (
    BackendUnavailable,
    IncompatibleStore,
    NotAStore,
    StoreError,
    StoreFull,
    StoreReadOnly,
)

BUSY_TIMEOUT_S = 30.0
# Less free space than this when SQLite reports an I/O error on a write: call it a full disk.
_NEARLY_FULL_BYTES = 1 << 20
# The tables every issue-core store has had since version 1 (to recognise stores made before
# the application id was set).
_OWN_TABLES = frozenset({"issues", "counters"})


@contextmanager
def translated_errors(path: str) -> Iterator[None]:
    """Turn SQLite's and the filesystem's exceptions into one-line typed errors naming the store."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise _translate(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not an issue-core database or is corrupt ({exc})",
            hint="restore it from a backup or move it aside",
        ) from exc


def _translate(path: str, exc: sqlite3.OperationalError) -> StoreError | BackendUnavailable:
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return BackendUnavailable(
            f"the local store {path} stayed busy for {BUSY_TIMEOUT_S:.0f}s",
            hint="another process holds a long write; retry",
        )
    unwritable = unwritable_error(path, exc)
    if unwritable is not None:
        return unwritable
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return StoreError(
            f"cannot open the local store {path}", hint="check the path and permissions"
        )
    return StoreError(f"the local store {path} failed: {text}")


def unwritable_error(path: str, exc: BaseException, *, creating: bool = False) -> StoreError | None:
    """The typed error for a write the filesystem refused (read-only, full), or None.

    SQLite reports a full disk as SQLITE_FULL only where it sees ENOSPC itself; growing the WAL
    index fails as an I/O error, so an I/O error with (almost) no space left counts as full.
    """
    name = getattr(exc, "sqlite_errorname", "") or ""
    errno_ = getattr(exc, "errno", None)
    folder = _existing_ancestor(os.path.dirname(os.path.abspath(path)))
    full = name == "SQLITE_FULL" or errno_ in _FULL_ERRNOS
    if not full and name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        full = _free_bytes(folder) < _NEARLY_FULL_BYTES
    if full:
        if creating:
            return StoreFull(
                f"cannot create the local store {path}: the disk is full; nothing was created",
                hint="free some space and retry",
            )
        return StoreFull(
            f"the disk holding the local store {path} is full: nothing was written",
            hint="free some space and retry; reading still works",
        )
    reason = read_only_reason(path, folder)
    refused = name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR"))
    if reason is not None and (refused or errno_ in _READ_ONLY_ERRNOS or "readonly" in str(exc)):
        if creating:
            return StoreReadOnly(
                f"cannot create the local store {path}: {reason}; nothing was created",
                hint="choose a writable place: issue backend add NAME local --path FILE",
            )
        return StoreReadOnly(
            f"the local store {path} is read-only ({reason}): nothing was written",
            hint="reading still works; make it writable to change it",
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in str(exc):
        return StoreReadOnly(
            f"the local store {path} is read-only: nothing was written",
            hint="check the file's permissions",
        )
    return None


def _existing_ancestor(folder: str) -> str:
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


_FULL_ERRNOS = frozenset({28, 122})  # ENOSPC, EDQUOT (Linux)
_READ_ONLY_ERRNOS = frozenset({1, 13, 30})  # EPERM, EACCES, EROFS


def _free_bytes(folder: str) -> int:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows): do not guess
        return _NEARLY_FULL_BYTES
    # Root may write into the blocks reserved for it, so count those for root.
    blocks = stats.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize


def read_only_reason(path: str, folder: str | None = None) -> str | None:
    """Why the store cannot be written, as far as the filesystem says; None if it can.
    (``os.access`` answers for this process: root passes every permission check, but not a
    read-only filesystem.)"""
    if folder is None:
        folder = _existing_ancestor(os.path.dirname(os.path.abspath(path)))
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "read-only filesystem"
    except (OSError, AttributeError):
        pass
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return "no write permission on the file"
    if not os.access(folder, os.W_OK):
        return "no write permission on its folder"
    return None


class Store:
    """One SQLite connection to one store file, opened lazily.

    ``path`` may not exist yet: ``reader()`` then yields ``None`` (an empty store, nothing is
    created), and the first ``writer()`` creates it, recording ``created_path``. A store that
    cannot be written is opened read-only (``read_only``); ``writer()`` then raises.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.expanduser(path)
        self.created_path: str | None = None
        self.read_only = False
        self._unwritable: StoreError | None = None
        self._conn: sqlite3.Connection | None = None
        # The server shares one backend between threads; serialise use of the connection.
        self._lock = threading.RLock()
        self._depth = 0  # nested reader()/writer() uses in the thread holding the lock

    # -- opening ----------------------------------------------------------------------

    def _connect(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(
            target,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
            uri=uri,
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _check(self, conn: sqlite3.Connection) -> int:
        """The store's schema version (0: an empty database, which may be initialised).

        Refuses another program's database (``NotAStore``) and a store from a newer issue-core
        (``IncompatibleStore``), before anything is written to either.
        """
        version, app_id = conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), "
            "(SELECT application_id FROM pragma_application_id)"
        ).fetchone()
        if app_id not in (0, APPLICATION_ID):
            raise self._foreign(f"its application id is {app_id:#x}")
        if app_id == 0:  # an empty database, a store from before ids were set, or foreign
            tables = sorted(
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            )
            if version == 0 and tables:
                raise self._foreign(f"it holds other tables: {', '.join(tables[:5])}")
            if version != 0 and not set(tables) >= _OWN_TABLES:
                raise self._foreign(f"schema version {version} without issue-core's tables")
        if version > SCHEMA_VERSION:
            raise IncompatibleStore(
                f"the local store {self.path} has schema version {version}, newer than this "
                f"issue-core understands ({SCHEMA_VERSION})",
                hint="upgrade issue-core",
            )
        return int(version)

    def _foreign(self, why: str) -> NotAStore:
        return NotAStore(
            f"{self.path} is not an issue-core store ({why}); it was left untouched",
            hint="move it aside, or point the backend's path at another file",
        )

    def _migrate(self, conn: sqlite3.Connection, version: int) -> None:
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = self._check(conn)
            if version < SCHEMA_VERSION:
                apply_migrations(conn, version)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if version == 0:  # an empty file (or one a failed creation left) was initialised
            self.created_path = self.path

    def _open(self, create: bool) -> sqlite3.Connection | None:
        if self._depth == 1 and (self.read_only or self._unwritable is not None):
            # A degraded open is not kept past one use: the disk may have been freed or
            # remounted meanwhile (a long-running server), and an immutable connection would
            # never see later writes. Only at the outermost use: nested ones share the conn.
            if self._conn is not None:
                self._conn.close()
            self._conn, self.read_only, self._unwritable = None, False, None
        if self._conn is None:
            self._conn = self._open_file(create)
        if create and self._unwritable is not None:
            raise self._unwritable
        return self._conn

    def _open_file(self, create: bool) -> sqlite3.Connection | None:
        if not os.path.exists(self.path):
            if not create:
                return None
            self._create()
        conn = self._connect(self.path)
        try:
            if self._initialise(conn, create=create):
                return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            unwritable = unwritable_error(self.path, exc)
            if unwritable is None:
                raise
            return self._open_read_only(exc, unwritable)
        except BaseException:
            conn.close()
            raise
        conn.close()  # an empty database and nothing to write: no store yet
        return None

    def _create(self) -> None:
        from issue_core.backends.local.creation import create_store

        try:
            created = create_store(self.path, lambda conn: apply_migrations(conn, 0))
        except (OSError, sqlite3.OperationalError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise unwritable_error(self.path, exc, creating=True) or StoreError(
                f"cannot create the local store {self.path}: {detail}; nothing was created"
            ) from exc
        if created:
            self.created_path = self.path

    def _initialise(self, conn: sqlite3.Connection, *, create: bool) -> bool:
        """Check the store, then (writable connections) WAL mode and migrations, retried while
        racing processes set up a new store. False: an empty database a reader leaves alone.

        Switching a fresh file to WAL and migrating it need exclusive locks; when several
        processes open a brand-new store at once, SQLite reports the deadlock-prone cases as
        "locked" at once instead of waiting (no busy handler), so wait and retry here.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                version = self._check(conn)
                if version == 0 and not create:
                    return False
                conn.execute("PRAGMA synchronous = FULL")
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                self._migrate(conn, version)
                return True
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                time.sleep(0.01 + os.urandom(1)[0] / 6400)  # 10-50 ms, jittered

    def _open_read_only(
        self, first: sqlite3.OperationalError, unwritable: StoreError
    ) -> sqlite3.Connection | None:
        """A read-only connection to a store SQLite could not open for writing.

        ``mode=ro`` serves while the WAL index (``-shm``) exists, e.g. with a writer elsewhere.
        Without it, and where it cannot be made, only ``immutable=1`` can read the file; that
        is safe only when no WAL holds commits not yet in the file, so it is used only when the
        ``-wal`` file is missing or empty (nothing can then be newer than the file itself).
        """
        from pathlib import Path

        base = Path(self.path).absolute().as_uri()
        wal = f"{self.path}-wal"
        pending = os.path.exists(wal) and os.path.getsize(wal) > 0
        for query in ("mode=ro", "immutable=1"):
            if query == "immutable=1" and pending:
                break
            conn = self._connect(f"{base}?{query}", uri=True)
            try:
                version = self._check(conn)
            except sqlite3.OperationalError:
                conn.close()
                continue
            except BaseException:
                conn.close()
                raise
            self._unwritable = unwritable
            if version == 0:  # an empty database: no store yet, and none can be made here
                conn.close()
                return None
            if version < SCHEMA_VERSION:
                conn.close()
                raise StoreError(
                    f"the local store {self.path} has schema version {version} and must be "
                    f"upgraded to {SCHEMA_VERSION} before use, but cannot be written "
                    f"({unwritable.message})",
                    hint="make it writable once so this issue-core can upgrade it",
                )
            self.read_only = True
            return conn
        why = "the disk is full" if isinstance(unwritable, StoreFull) else "it is read-only"
        if pending:
            why += f", and {wal} holds writes that cannot be read without creating its index"
        raise StoreError(
            f"cannot read the local store {self.path}: {why} ({first})",
            hint="make it writable, or let the process writing it finish",
        ) from first

    def ensure(self) -> str:
        """Create the store if needed; returns its path."""
        with self._using():
            self._open(create=True)
        return self.path

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def _using(self) -> Iterator[None]:
        with self._lock, translated_errors(self.path):
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection | None]:
        with self._using():
            yield self._open(create=False)

    @contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        with self._using():
            conn = self._open(create=True)
            assert conn is not None
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def apply_migrations(conn: sqlite3.Connection, version: int) -> None:
    """Bring a store at ``version`` to ``SCHEMA_VERSION``, inside the caller's transaction."""
    for number in range(version, SCHEMA_VERSION):
        for statement in _statements(MIGRATIONS[number]):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _statements(script: str) -> Iterator[str]:
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
