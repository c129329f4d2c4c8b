"""The server's state db on the shared SQL engine (issue_core/storage/sqlite.py): its set-up,
its migrations from every older version, and its refusal of a newer one."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from issue_core.core.errors import StoreError
from issue_core.server.outbox import SCHEMA, SCHEMA_VERSION, StateStore, TaskRow
from issue_core.storage.dialect import SQLITE


def _row(tracking_id: str, key: str) -> TaskRow:
    return TaskRow(tracking_id, key, "main", "claimed", f"m-{tracking_id}", "{}", None, "now")


def test_a_new_state_db_is_durable_wal_at_the_current_version(tmp_path: Any) -> None:
    store = StateStore(tmp_path / "server.db")
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert getattr(conn, "dialect", None) is SQLITE
    with store.transaction(durable=False):
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    store.close()


def test_a_state_db_opened_for_a_latency_first_server_commits_without_fsync(
    tmp_path: Any,
) -> None:
    """``issue serve --synchronous normal``: every commit NORMAL, non-durable ones included."""
    store = StateStore(tmp_path / "server.db", synchronous="normal")
    conn = store.conn
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    with store.transaction(durable=False):
        pass
    with store.transaction():
        store.claim_many(conn, [_row("t1", "k1")])
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    store.close()
    assert StateStore(tmp_path / "server.db").conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_state_db_from_before_versions_is_migrated(tmp_path: Any) -> None:
    """user_version 0 with the table: what the first releases wrote (version 1's schema)."""
    path = tmp_path / "server.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA.replace(",\n    lease_owner     TEXT", ""))
    conn.close()
    store = StateStore(path)
    columns = [r[1] for r in store.conn.execute("PRAGMA table_info(tasks)")]
    assert "lease_owner" in columns
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_a_state_db_from_a_newer_issue_core_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "server.db"
    StateStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer issue-core"):
        StateStore(path)


def test_claims_in_chunks_find_duplicates_across_statements(tmp_path: Any) -> None:
    store = StateStore(tmp_path / "server.db")
    store.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 19 * 3)  # 2 rows a statement
    rows = [_row(f"t{n}", f"k{n % 3}") for n in range(5)]  # k0, k1, k2, k0, k1
    with store.transaction() as conn:
        existing = store.claim_many(conn, rows)
    assert {index: row.tracking_id for index, row in existing.items()} == {3: "t0", 4: "t1"}
    assert store.counts() == {"claimed": 3}
    store.close()


def test_a_latency_first_pipeline_relaxes_only_its_own_connections(tmp_path: Any) -> None:
    """``--synchronous normal`` reaches the pipeline's state db and its local-store backends;
    the configured backend is left as configured, and a full server is full throughout."""
    from issue_core.backends import BUILTIN_BACKENDS
    from issue_core.core.config import BackendConfig
    from issue_core.server.transport import StageConfig

    for level, pragma in (("full", 2), ("normal", 1)):
        folder = tmp_path / level
        configured = BackendConfig("main", "local", {"path": str(folder / "issues.db")})
        config = StageConfig(
            folder / "server.db", {"main": configured}, "me", dict(BUILTIN_BACKENDS), level
        )
        pipeline = config.open()
        try:
            assert pipeline.store.conn.execute("PRAGMA synchronous").fetchone()[0] == pragma
            # normal: checkpoints run on a thread of their own, for both databases
            checkpointer = pipeline.checkpointer
            paths = None if checkpointer is None else checkpointer.paths
            wanted = [str(folder / "server.db"), str(folder / "issues.db")]
            assert paths == (wanted if level == "normal" else None)
            store = pipeline.stage.pool.get("main").store  # type: ignore[attr-defined]
            with store.writer() as conn:
                assert conn.execute("PRAGMA synchronous").fetchone()[0] == pragma
        finally:
            pipeline.close()
        assert configured.settings == {"path": str(folder / "issues.db")}


def test_the_local_backend_refuses_an_unknown_synchronous_level(tmp_path: Any) -> None:
    from issue_core.backends.local import LocalBackend
    from issue_core.core.errors import ValidationError

    backend = LocalBackend()
    with pytest.raises(ValidationError, match="synchronous"):
        backend.connect({"path": str(tmp_path / "i.db"), "identity": "me", "synchronous": "off"})
