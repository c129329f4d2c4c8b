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


def test_read_only_store_exits_8_on_write(issue, store_path, monkeypatch):
    # Running as root ignores file modes, so open the file the way SQLite opens a read-only
    # file: through a read-only connection.
    real_connect = sqlite3.connect

    def read_only(path, *args, **kwargs):
        return real_connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    assert issue("list", "--format", "json").exit_code == 0  # reading still works
    result = issue("create", "New")
    assert_store_error(result)
    assert "read-only" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_exits_8_on_write(issue, store_path):
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    store_path.chmod(0o444)
    store_path.parent.chmod(0o555)
    try:
        assert_store_error(issue("create", "New"))
    finally:
        store_path.parent.chmod(0o755)
        store_path.chmod(0o644)
