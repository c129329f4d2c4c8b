"""A store that cannot be used exits 8 with one line (or a JSON error), never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from issue_core.backends.local import store as store_module


@pytest.fixture
def store_path(issue, git_project) -> Path:
    assert issue("create", "Existing").exit_code == 0
    return git_project / ".issue-core" / "issues.db"


def assert_store_error(result, code: str = "store") -> None:
    assert result.exit_code == 8, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("issue: error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["list"], ["show", "1"], ["create", "New"]])
def test_corrupt_store_exits_8(issue, store_path, command):
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    store_path.write_bytes(b"this is not a database" * 200)
    result = issue(*command)
    assert_store_error(result)
    assert "corrupt" in result.stderr
    error = json.loads(issue(*command, "--format", "json").stderr)["error"]
    assert error["code"] == "store" and error["exit_code"] == 8


def test_store_from_a_newer_schema_exits_8(issue, store_path):
    with sqlite3.connect(store_path) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    result = issue("list")
    assert_store_error(result)
    assert "999" in result.stderr and "upgrade issue-core" in result.stderr
    error = json.loads(issue("create", "x", "--format", "json").stderr)["error"]
    assert error["code"] == "incompatible_store" and error["exit_code"] == 8


def test_read_only_connection_exits_8_on_write(issue, store_path, monkeypatch):
    """SQLite's own read-only mode (root ignores file modes; the real read-only filesystem and
    permission cases are in test_store_filesystems.py): reads work, a write is one line."""
    real_connect = sqlite3.connect

    def read_only(target, *args, uri=False, **kwargs):
        if not uri:
            target = f"{Path(target).absolute().as_uri()}?mode=ro"
        return real_connect(target, *args, uri=True, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    assert issue("list", "--format", "json").exit_code == 0  # reading still works
    result = issue("create", "New")
    assert_store_error(result)
    assert "read-only" in result.stderr and "nothing was written" in result.stderr
    error = json.loads(issue("create", "x", "--format", "json").stderr)["error"]
    assert error["code"] == "store_read_only" and error["exit_code"] == 8


def foreign_database(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    "command", [["list"], ["show", "1"], ["label", "list"], ["create", "New"], ["init"]]
)
def test_a_foreign_sqlite_file_is_refused_and_left_untouched(issue, git_project, command):
    path = git_project / ".issue-core" / "issues.db"
    before = foreign_database(path)
    result = issue(*command)
    assert_store_error(result)
    assert f"{path} is not an issue-core store" in result.stderr
    assert "notes" in result.stderr
    error = json.loads(issue(*command, "--format", "json").stderr)["error"]
    assert (error["code"], error["exit_code"]) == ("not_a_store", 8)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["issues.db"]


def test_an_empty_file_or_database_is_initialised_and_init_says_created(issue, git_project):
    path = git_project / ".issue-core" / "issues.db"
    path.parent.mkdir()
    path.touch()
    assert issue("list").stderr == "no issues match\n"
    assert path.stat().st_size == 0  # a read writes nothing
    assert issue("init").stdout == f"created local store at {path}\n"
    path.unlink()
    # What a store creation that failed on a full disk used to leave: a WAL header, no tables.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    assert path.stat().st_size > 0
    assert issue("init").stdout == f"created local store at {path}\n"
    assert issue("init").stdout == f"found existing local store at {path}\n"
    assert issue("create", "works").stdout == "created #1 works\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_exits_8_on_write(issue, store_path):
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    store_path.chmod(0o444)
    store_path.parent.chmod(0o555)
    try:
        assert issue("list").exit_code == 0
        assert_store_error(issue("create", "New"))
    finally:
        store_path.parent.chmod(0o755)
        store_path.chmod(0o644)
