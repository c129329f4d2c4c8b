"""Creating a local store all-or-nothing: built in a temporary file beside it, then linked in.

A file at the store's path is therefore always a whole store at the current schema version. A
full disk, a crash or Ctrl-C during creation leaves nothing at that path (the temporary file is
removed, and so is a folder made for it), so the next command creates the store afresh instead
of finding half of one. Publishing with link(2) rather than rename(2) keeps creation exclusive:
of several processes creating the same store at once exactly one wins (and says "created"), and
none replaces a store another process has already written to.

Only imported when a store is created: ordinary commands never load it.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable

GITIGNORE = (
    "# issue-core: the local store and its caches are not source.\n"
    "*.db\n*.db-wal\n*.db-shm\n*.tmp\ncache/\n"
)

# link(2) failing this way means the filesystem has no hard links (FAT, some network and FUSE
# filesystems), not that the store exists or the disk is full.
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}
)
_SIDECARS = ("", "-journal", "-wal", "-shm")


def create_store(path: str, build: Callable[[sqlite3.Connection], None]) -> bool:
    """Create the store at ``path``, its schema written by ``build``; False if another process
    created it first. Raises ``OSError`` or ``sqlite3.Error``, leaving nothing behind."""
    folder = os.path.dirname(os.path.abspath(path))
    made_folder = _make_folder(folder)
    temp = os.path.join(
        folder, f".{os.path.basename(path)}.{os.getpid()}-{os.urandom(4).hex()}.tmp"
    )
    try:
        _build(temp, build)
        published = _publish(temp, path)
    except BaseException:
        _remove(temp)
        if made_folder:
            try:
                os.rmdir(folder)
            except OSError:
                pass  # someone else put a file there meanwhile: it is theirs now
        raise
    _remove(temp)  # after a link, the temporary name is a second name of the store
    if published:
        _sync_folder(folder)
        if os.path.basename(folder) == ".issue-core":
            _write_gitignore(os.path.join(folder, ".gitignore"))
    return published


def _make_folder(folder: str) -> bool:
    """Create ``folder`` (and its parents) if missing; True when this call made it."""
    if os.path.isdir(folder):
        return False
    try:
        os.makedirs(folder)
    except FileExistsError:
        return False
    return True


def _build(temp: str, build: Callable[[sqlite3.Connection], None]) -> None:
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private from the start
    os.close(fd)
    conn = sqlite3.connect(temp, isolation_level=None)
    try:
        # No journal file beside the temporary one: if anything fails, the file is discarded.
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("BEGIN")
        build(conn)
        conn.execute("COMMIT")
        # WAL is recorded in the file's header, so the published store is already in WAL mode.
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    # Closing the last connection moves the WAL into the file and removes it. A WAL still
    # holding data (a checkpoint that failed, e.g. on a full disk) would be lost by publishing
    # the file alone, so that is a failed creation.
    wal = f"{temp}-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > 0:
        raise OSError(errno.ENOSPC, "the new store could not be completed", wal)
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)  # the content is on disk before its name is
    finally:
        os.close(fd)


def _publish(temp: str, path: str) -> bool:
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    # No hard links here: rename, which would replace an existing file, so look first. Two
    # creators racing between the look and the rename is the one case this cannot exclude.
    if os.path.exists(path):
        return False
    os.rename(temp, path)
    return True


def _remove(temp: str) -> None:
    for suffix in _SIDECARS:
        try:
            os.unlink(temp + suffix)
        except OSError:
            pass


def _sync_folder(folder: str) -> None:
    """Make the new name durable (POSIX); not every system can open a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_gitignore(ignore: str) -> None:
    """Keep the store out of commits. Only a convenience: a failure (a full disk) removes what
    was half written and is otherwise ignored."""
    try:
        fd = os.open(ignore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return  # exists already, or cannot be made
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(GITIGNORE)
    except OSError:
        try:
            os.unlink(ignore)
        except OSError:
            pass
