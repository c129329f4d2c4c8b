"""WAL checkpoints off the request path for ``issue serve --synchronous normal``
(issue_core/server/checkpointer.py): the pipeline's connections never checkpoint in a commit,
and the checkpointer's own connections bring every commit into the database file."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from issue_core.server.checkpointer import Checkpointer
from issue_core.storage import sqlite as engine


def _writer(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = engine.connect(str(path))
    engine.use_wal(conn, synchronous)
    conn.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")
    return conn


def _in_file(path: Path) -> int:
    """Rows in the database file itself, the WAL ignored (what a checkpoint has brought in)."""
    file = sqlite3.connect(f"{path.absolute().as_uri()}?immutable=1", uri=True)
    try:
        return int(file.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.OperationalError:  # the table itself is still only in the WAL
        return 0
    finally:
        file.close()


def _write(conn: sqlite3.Connection, transactions: int) -> None:
    for n in range(transactions):
        with engine.write_transaction(conn):
            conn.executemany("INSERT INTO t VALUES (?)", [(n,)] * 100)


def test_a_normal_connection_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    full = _writer(tmp_path / "full.db", "full")
    normal = _writer(tmp_path / "normal.db", "normal")
    assert full.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert normal.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    _write(normal, 300)  # far more than 1,000 pages: a full connection would have checkpointed
    assert _in_file(tmp_path / "normal.db") == 0
    Checkpointer([str(tmp_path / "normal.db")]).run_once()
    assert _in_file(tmp_path / "normal.db") == 300 * 100
    full.close()
    normal.close()


def test_the_checkpointer_thread_keeps_the_file_current_and_creates_nothing(
    tmp_path: Path,
) -> None:
    later = tmp_path / "later.db"
    checkpointer = Checkpointer([str(tmp_path / "state.db"), str(later)], interval=0.01)
    conn = _writer(tmp_path / "state.db", "normal")
    checkpointer.start()
    try:
        _write(conn, 20)
        deadline = time.monotonic() + 10
        while _in_file(tmp_path / "state.db") < 2_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _in_file(tmp_path / "state.db") == 2_000
        assert not later.exists()  # a store no task has reached yet is not made empty
        late = _writer(later, "normal")  # once it exists, it is checkpointed too
        _write(late, 3)
        deadline = time.monotonic() + 10
        while _in_file(later) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _in_file(later) == 300
        late.close()
    finally:
        checkpointer.stop()
        conn.close()
