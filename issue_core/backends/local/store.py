"""Opening, migrating and guarding the store file; the store's words for SQLite's errors.

The engine (connections, ``BEGIN IMMEDIATE`` write transactions, busy handling, migrations and
the facts behind each error) is ``issue_core.storage.sqlite``, shared with the server's state
db; this module decides what an issue store is (its application id, its tables, its schema
version), how it is created and when it is opened read-only, and says each failure in one line.

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
    ValidationError,
)
from issue_core.storage import sqlite as engine
from issue_core.storage.sqlite import (
    BUSY_TIMEOUT_S,
    READ_ONLY_FILESYSTEM,
    SYNCHRONOUS_LEVELS,
    Connection,
    read_only_reason,
)

__all__ = [
    "BUSY_TIMEOUT_S",
    "READ_ONLY_FILESYSTEM",
    "Store",
    "apply_migrations",
    "read_only_reason",
    "unwritable_error",
]
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
    name = engine.error_name(exc)
    text = str(exc)
    if engine.is_busy(exc):
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
    """The typed error for a write the filesystem refused (read-only, full), or None."""
    folder = engine.folder_of(path)
    if engine.is_full(exc, folder):
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
    if reason is not None and engine.refused_write(exc):
        if creating:
            return StoreReadOnly(
                f"cannot create the local store {path}: {reason}; nothing was created",
                hint="choose a writable place: issue backend add NAME local --path FILE",
            )
        return StoreReadOnly(
            f"the local store {path} is read-only ({reason}): nothing was written",
            hint="reading still works; make it writable to change it",
        )
    if engine.is_read_only(exc):
        return StoreReadOnly(
            f"the local store {path} is read-only: nothing was written",
            hint="check the file's permissions",
        )
    return None


class Store:
    """One SQLite connection to one store file, opened lazily.

    ``path`` may not exist yet: ``reader()`` then yields ``None`` (an empty store, nothing is
    created), and the first ``writer()`` creates it, recording ``created_path``. A store that
    cannot be written is opened read-only (``read_only``); ``writer()`` then raises.
    """

    def __init__(self, path: str, actor: str | None = None, synchronous: str = "full") -> None:
        self.path = os.path.expanduser(path)
        if synchronous not in SYNCHRONOUS_LEVELS:
            raise ValidationError(
                f"the local backend's 'synchronous' must be one of {', '.join(SYNCHRONOUS_LEVELS)}"
            )
        self.synchronous = synchronous  # storage.sqlite.use_wal: "full" unless a server relaxed it
        # Who the event log says acted (feed.py reads it off the writing connection).
        self.actor = actor
        self.created_path: str | None = None
        self.read_only = False
        self._unwritable: StoreError | None = None
        self._conn: Connection | None = None
        # The server shares one backend between threads; serialise use of the connection.
        self._lock = threading.RLock()
        self._depth = 0  # nested reader()/writer() uses in the thread holding the lock

    # -- opening ----------------------------------------------------------------------

    def _connect(self, target: str, *, uri: bool = False) -> Connection:
        return engine.connect(target, uri=uri, rows=True)

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
        with engine.write_transaction(conn):
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = self._check(conn)
            if version < SCHEMA_VERSION:
                apply_migrations(conn, version)
        if version == 0:  # an empty file (or one a failed creation left) was initialised
            self.created_path = self.path

    def _open(self, create: bool) -> Connection | None:
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

    def _open_file(self, create: bool) -> Connection | None:
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

    def _initialise(self, conn: Connection, *, create: bool) -> bool:
        """Check the store, then (writable connections) WAL mode and migrations, retried while
        racing processes set up a new store. False: an empty database a reader leaves alone.

        Switching a fresh file to WAL and migrating it need exclusive locks; when several
        processes open a brand-new store at once, SQLite reports the deadlock-prone cases as
        "locked" at once instead of waiting (no busy handler), so wait and retry here.
        """

        def attempt() -> bool:
            version = self._check(conn)
            if version == 0 and not create:
                return False
            engine.use_wal(conn, self.synchronous)
            self._migrate(conn, version)
            return True

        return engine.retry_while_busy(conn, attempt)

    def _open_read_only(
        self, first: sqlite3.OperationalError, unwritable: StoreError
    ) -> Connection | None:
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
    def reader(self) -> Iterator[Connection | None]:
        with self._using():
            yield self._open(create=False)

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        with self._using():
            conn = self._open(create=True)
            assert conn is not None
            conn.actor = self.actor
            with engine.write_transaction(conn):
                yield conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def apply_migrations(conn: sqlite3.Connection, version: int) -> None:
    """Bring a store at ``version`` to ``SCHEMA_VERSION``, inside the caller's transaction."""
    engine.run_migrations(
        conn, MIGRATIONS[version:], version=SCHEMA_VERSION, application_id=APPLICATION_ID
    )
