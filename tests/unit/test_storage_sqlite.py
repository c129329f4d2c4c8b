"""The SQL engine shared by the issue store and the server's state db (issue_core/storage)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from issue_core.storage import batches
from issue_core.storage import sqlite as engine
from issue_core.storage.dialect import SQLITE, dialect_of


@pytest.fixture
def conn(tmp_path):
    connection = engine.connect(str(tmp_path / "x.db"), rows=True)
    engine.use_wal(connection)
    yield connection
    connection.close()


def test_connections_are_autocommit_with_foreign_keys_wal_and_their_dialect(conn):
    assert conn.isolation_level is None
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.dialect is SQLITE and dialect_of(conn) is SQLITE
    assert dialect_of(sqlite3.connect(":memory:")) is SQLITE  # a plain connection speaks SQLite
    assert isinstance(conn.execute("SELECT 1 AS one").fetchone(), sqlite3.Row)


def test_synchronous_normal_is_asked_for_by_name_and_kept_across_transactions(tmp_path):
    """``issue serve --synchronous normal``: no fsync per commit; a non-durable transaction on
    such a connection leaves it normal, one on a full connection puts it back to full."""
    relaxed = engine.connect(str(tmp_path / "n.db"))
    engine.use_wal(relaxed, "normal")
    assert relaxed.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    for durable in (True, False):
        with engine.write_transaction(relaxed, durable=durable):
            assert relaxed.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert relaxed.execute("PRAGMA synchronous").fetchone()[0] == 1
    relaxed.close()
    full = engine.connect(str(tmp_path / "f.db"))
    engine.use_wal(full)
    with engine.write_transaction(full, durable=False):
        assert full.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert full.execute("PRAGMA synchronous").fetchone()[0] == 2
    with pytest.raises(ValueError, match="synchronous"):
        engine.use_wal(full, "off")
    full.close()


def test_tuple_rows_unless_asked(tmp_path):
    plain = engine.connect(str(tmp_path / "y.db"))
    assert plain.execute("SELECT 1").fetchone() == (1,)
    plain.close()


def test_write_transaction_commits_or_rolls_back_everything(conn):
    conn.execute("CREATE TABLE t (v INTEGER NOT NULL)")
    with engine.write_transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError), engine.write_transaction(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        conn.execute("INSERT INTO t VALUES (NULL)")
    assert [r[0] for r in conn.execute("SELECT v FROM t")] == [1]
    assert not conn.in_transaction


def test_write_transaction_takes_the_write_lock_up_front(tmp_path):
    path = str(tmp_path / "lock.db")
    first = engine.connect(path)
    engine.use_wal(first)
    second = sqlite3.connect(path, timeout=0, isolation_level=None)
    with engine.write_transaction(first), pytest.raises(sqlite3.OperationalError, match="locked"):
        second.execute("BEGIN IMMEDIATE")
    second.execute("BEGIN IMMEDIATE")  # free again after the commit
    second.execute("ROLLBACK")
    first.close()
    second.close()


def test_a_non_durable_transaction_restores_full_sync(conn):
    with engine.write_transaction(conn, durable=False):
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_retry_while_busy_retries_only_lock_errors(conn):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "done"

    assert engine.retry_while_busy(conn, flaky) == "done" and len(calls) == 3

    def broken():
        calls.append(1)
        raise sqlite3.OperationalError("no such table: x")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        engine.retry_while_busy(conn, broken)
    assert len(calls) == 1


def test_migrations_run_in_order_and_record_the_version(conn):
    scripts = [
        "CREATE TABLE a (x INTEGER);\n-- a comment\nINSERT INTO a VALUES (1);",
        "ALTER TABLE a ADD COLUMN y TEXT",  # the last statement needs no ';'
    ]
    with engine.write_transaction(conn):
        engine.run_migrations(conn, scripts, version=2, application_id=0x1234)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x1234
    assert [tuple(r) for r in conn.execute("SELECT x, y FROM a")] == [(1, None)]
    assert list(engine.statements(scripts[0])) == [
        "CREATE TABLE a (x INTEGER);",
        "INSERT INTO a VALUES (1);",
    ]


def test_a_failing_migration_leaves_the_version_alone(conn):
    with pytest.raises(sqlite3.OperationalError), engine.write_transaction(conn):
        engine.run_migrations(conn, ["CREATE TABLE b (x);", "BROKEN;"], version=1)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'b'").fetchone() is None


def test_insert_rows_chunks_to_the_parameter_limit(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)  # 3 columns: 2 rows a statement
    conn.execute("CREATE TABLE r (a INTEGER PRIMARY KEY, b TEXT, c TEXT)")
    statements = []
    conn.set_trace_callback(statements.append)
    rows = [(n, f"b{n}", f"c{n}") for n in range(7)]
    assert batches.insert_rows(conn, "r (a, b, c)", rows) == 7
    conn.set_trace_callback(None)
    assert len(statements) == 4
    assert [tuple(r) for r in conn.execute("SELECT * FROM r ORDER BY a")] == rows
    assert batches.insert_rows(conn, "r (a, b, c)", []) == 0


def test_insert_rows_can_skip_taken_keys(conn):
    conn.execute("CREATE TABLE k (key TEXT PRIMARY KEY, v TEXT NOT NULL)")
    batches.insert_rows(conn, "k (key, v)", [("a", "first")])
    added = batches.insert_rows(
        conn, "k (key, v)", [("a", "again"), ("b", "new")], ignore_duplicates=True
    )
    assert added == 1
    assert dict(tuple(r) for r in conn.execute("SELECT key, v FROM k")) == {
        "a": "first",
        "b": "new",
    }
    with pytest.raises(sqlite3.IntegrityError):  # only duplicates are skipped
        batches.insert_rows(conn, "k (key, v)", [("c", None)], ignore_duplicates=True)


def test_chunks_leave_room_for_other_parameters(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 7)
    assert [len(c) for c in batches.chunks(conn, list(range(10)), 3)] == [1] * 10
    assert [len(c) for c in batches.chunks(conn, list(range(10)), 1)] == [6, 4]


def test_dialect_sql(conn):
    conn.execute("CREATE TABLE j (meta TEXT)")
    conn.execute("""INSERT INTO j VALUES ('{"marker": "m-1"}')""")
    found = conn.execute(
        f"SELECT 1 FROM j WHERE {SQLITE.json_text('meta', 'marker')} = ?", ("m-1",)
    )
    assert found.fetchone() is not None
    assert SQLITE.marks(3) == "?, ?, ?" and SQLITE.rows(2, 2) == "(?, ?), (?, ?)"
    assert SQLITE.text_query('log "in') == '"log" "in"*' and SQLITE.text_query("  ") is None
    conn.execute("CREATE VIRTUAL TABLE f USING fts5 (body)")
    conn.execute("INSERT INTO f (rowid, body) VALUES (7, 'login fails')")
    ids = conn.execute(SQLITE.text_match("f"), (SQLITE.text_query("logi"),)).fetchall()
    assert [r[0] for r in ids] == [7]


def test_error_facts():
    busy = sqlite3.OperationalError("database is locked")
    assert engine.is_busy(busy) and not engine.is_read_only(busy)
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"
    assert engine.is_full(full, "/")
    io = sqlite3.OperationalError("disk I/O error")
    io.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
    assert engine.refused_write(io) and engine.is_full(io, "/") == (
        engine.free_bytes("/") < engine.NEARLY_FULL_BYTES
    )
    assert engine.refused_write(OSError(30, "Read-only file system"))
    assert engine.is_read_only(sqlite3.OperationalError("attempt to write a readonly database"))


def test_read_only_reason_for_a_writable_folder(tmp_path):
    assert engine.read_only_reason(str(tmp_path / "new" / "x.db")) is None
    assert engine.folder_of(str(tmp_path / "new" / "x.db")) == str(tmp_path)


def test_a_connection_serves_another_thread(conn):
    result = []
    thread = threading.Thread(target=lambda: result.append(conn.execute("SELECT 2").fetchone()[0]))
    thread.start()
    thread.join()
    assert result == [2]
