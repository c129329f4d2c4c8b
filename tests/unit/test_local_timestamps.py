"""Timestamps on the local store compare and sort as instants, whatever their precision."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.backends.local.schema import MIGRATIONS, SCHEMA_VERSION
from issue_core.core.models import Issue, IssueFilter
from issue_core.storage.sqlite import statements as _statements

WHOLE = datetime(2026, 12, 2, 6, 23, 13, tzinfo=UTC)
FRACTION = WHOLE.replace(microsecond=577_000)


def open_store(path) -> LocalBackend:
    backend = LocalBackend()
    backend.connect({"path": str(path), "identity": "tester"})
    return backend


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / ".issue-core" / "issues.db"


def test_since_a_whole_second_includes_an_update_later_in_that_second(db_path):
    backend = open_store(db_path)
    backend.bulk_create([Issue("later", created_at=FRACTION, updated_at=FRACTION)])
    assert [i.title for i in backend.list_issues(IssueFilter(updated_since=WHOLE))] == ["later"]
    after = FRACTION + timedelta(microseconds=1)
    assert backend.list_issues(IssueFilter(updated_since=after)) == []


def test_mixed_precision_timestamps_sort_by_instant(db_path):
    backend = open_store(db_path)
    backend.bulk_create(
        [
            Issue("fraction", created_at=FRACTION, updated_at=FRACTION),
            Issue("whole", created_at=WHOLE, updated_at=WHOLE),
            Issue("next second", created_at=WHOLE + timedelta(seconds=1)),
        ]
    )
    for sort in ("created", "updated"):
        flt = IssueFilter(sort=sort, direction="asc")
        titles = [i.title for i in backend.list_issues(flt)]
        assert titles == ["whole", "fraction", "next second"], sort


def test_rows_of_a_version_2_store_are_rewritten_to_compare_as_instants(db_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_path) as conn:
        for script in MIGRATIONS[:2]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 2")
        for n, stamp in ((1, "2026-12-02T06:23:13.577000Z"), (2, "2026-12-02T06:23:13Z")):
            conn.execute(
                "INSERT INTO issues (id, uid, number, title, change_seq, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (n, f"u{n}", n, f"issue {n}", n, stamp, stamp),
            )
        conn.execute("UPDATE counters SET value = 2")
    backend = open_store(db_path)
    flt = IssueFilter(sort="updated", direction="asc")
    assert [i.number for i in backend.list_issues(flt)] == [2, 1]
    assert backend.get_issue(2).updated_at == WHOLE
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 3
        stored = conn.execute("SELECT updated_at FROM issues WHERE number = 2").fetchone()[0]
    assert stored == "2026-12-02T06:23:13.000000Z"


def test_output_keeps_the_short_form(db_path):
    backend = open_store(db_path)
    created = backend.bulk_create([Issue("whole", created_at=WHOLE, updated_at=WHOLE)])[0]
    assert created.to_dict()["created_at"] == "2026-12-02T06:23:13Z"
