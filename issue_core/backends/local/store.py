"""Opening, migrating and guarding the SQLite file; translating SQLite errors into typed ones.

Writes run in ``BEGIN IMMEDIATE`` transactions: the write lock is taken up front, so two
processes never deadlock upgrading read locks, and the busy timeout queues writers instead of
surfacing "database is locked". Reads need no transaction (WAL gives each statement a snapshot).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from issue_core.backends.local.schema import MIGRATIONS, SCHEMA_VERSION
from issue_core.core.errors import BackendUnavailable, IncompatibleStore, StoreError

BUSY_TIMEOUT_S = 30.0
GITIGNORE = (
    "# issue-core: the local store and its caches are not source.\n"
    "*.db\n*.db-wal\n*.db-shm\n*.tmp\ncache/\n"
)


@contextmanager
def translated_errors(path: str) -> Iterator[None]:
    """Turn SQLite's exceptions into one-line typed errors that name the store."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise BackendUnavailable(
                f"the local store {path} stayed busy for {BUSY_TIMEOUT_S:.0f}s",
                hint="another process holds a long write; retry",
            ) from exc
        if "readonly" in text or "read-only" in text:
            raise StoreError(
                f"the local store {path} is read-only", hint="check file permissions"
            ) from exc
        if "unable to open" in text:
            raise StoreError(
                f"cannot open the local store {path}", hint="check the path and permissions"
            ) from exc
        if "disk" in text or "full" in text:
            raise StoreError(f"the local store {path} cannot be written: {text}") from exc
        raise StoreError(f"the local store {path} failed: {text}") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not an issue-core database or is corrupt ({exc})",
            hint="restore it from a backup or move it aside",
        ) from exc


class Store:
    """One SQLite connection to one store file, opened lazily.

    ``path`` may not exist yet: ``reader()`` then yields ``None`` (an empty store, nothing is
    created), and the first ``writer()`` creates it, recording ``created_path``.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.expanduser(path)
        self.created_path: str | None = None
        self._conn: sqlite3.Connection | None = None
        # The server shares one backend between threads; serialise use of the connection.
        self._lock = threading.RLock()

    # -- opening ----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _check_version(self, conn: sqlite3.Connection) -> int:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise IncompatibleStore(
                f"the local store {self.path} has schema version {version}, newer than this "
                f"issue-core understands ({SCHEMA_VERSION})",
                hint="upgrade issue-core",
            )
        return version

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if self._check_version(conn) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = self._check_version(conn)
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _open(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        exists = os.path.exists(self.path)
        if not exists and not create:
            return None
        created = False
        with translated_errors(self.path):
            if not exists:
                self._prepare_folder()
                created = self._create_file()
            conn = self._connect()
            try:
                self._initialise(conn)
            except BaseException:
                conn.close()
                raise
        if created:
            self.created_path = self.path
        self._conn = conn
        return conn

    def _initialise(self, conn: sqlite3.Connection) -> None:
        """WAL mode, durability and the schema, retried while racing processes set up a new store.

        Switching a fresh file to WAL and migrating it need exclusive locks; when several
        processes open a brand-new store at once, SQLite reports the deadlock-prone cases as
        "locked" at once instead of waiting (no busy handler), so wait and retry here.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                self._migrate(conn)
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                time.sleep(0.01 + os.urandom(1)[0] / 6400)  # 10-50 ms, jittered

    def _create_file(self) -> bool:
        """Create the empty store file, private from the start; False if another process won.

        Exclusive creation makes exactly one of several racing processes the creator, so the
        "created local store" note is printed once. SQLite treats an empty file as a new store.
        """
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot create the local store {self.path}: {exc.strerror}") from exc
        os.close(fd)
        return True

    def _prepare_folder(self) -> None:
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {folder}: {exc.strerror or exc}") from exc
        ignore = os.path.join(folder, ".gitignore")
        if os.path.basename(folder) == ".issue-core" and not os.path.exists(ignore):
            try:
                fd = os.open(ignore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(GITIGNORE)
            except OSError:
                pass  # only a convenience: the store works without it

    def ensure(self) -> str:
        """Create the store if needed; returns its path."""
        with self._lock:
            self._open(create=True)
        return self.path

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection | None]:
        with self._lock, translated_errors(self.path):
            yield self._open(create=False)

    @contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        with self._lock, translated_errors(self.path):
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
