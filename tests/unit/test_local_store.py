"""Behaviour particular to the local SQLite store: files, schema versions, damage, search."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.backends.local.schema import SCHEMA_VERSION
from issue_core.core.errors import IncompatibleStore, NotFound, StoreError, ValidationError
from issue_core.core.models import Issue, IssueFilter, Label
from issue_core.storage.dialect import SQLITE


def open_store(path) -> LocalBackend:
    backend = LocalBackend()
    backend.connect({"path": str(path), "identity": "tester"})
    return backend


@contextlib.contextmanager
def _store_at_version(db_path, version: int) -> Iterator[sqlite3.Connection]:
    """A store file as issue-core left it at schema ``version`` (its first migrations)."""
    from issue_core.backends.local.schema import MIGRATIONS
    from issue_core.storage.sqlite import statements

    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        for script in MIGRATIONS[:version]:
            for statement in statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        yield conn


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / ".issue-core" / "issues.db"


def test_reads_do_not_create_the_store(db_path):
    backend = open_store(db_path)
    assert backend.list_issues() == []
    assert backend.list_labels() == []
    assert backend.list_milestones() == []
    assert not db_path.exists()
    assert backend.created_store_path is None


def test_first_write_creates_a_private_store_with_gitignore(db_path):
    backend = open_store(db_path)
    backend.create_issue(Issue(title="first"))
    assert backend.created_store_path == str(db_path)
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    assert "*.db" in (db_path.parent / ".gitignore").read_text()
    assert stat.S_IMODE(os.stat(db_path.parent / ".gitignore").st_mode) == 0o600
    backend.create_issue(Issue(title="WAL files follow the store's mode"))
    for suffix in ("-wal", "-shm"):
        sidecar = db_path.with_name(db_path.name + suffix)
        assert stat.S_IMODE(os.stat(sidecar).st_mode) == 0o600
    again = open_store(db_path)
    again.create_issue(Issue(title="second"))
    assert again.created_store_path is None


def test_init_store_is_idempotent(db_path):
    backend = open_store(db_path)
    assert backend.init_store() == str(db_path)
    assert backend.init_store() == str(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_from_a_newer_version_is_refused_and_left_alone(db_path):
    open_store(db_path).create_issue(Issue(title="precious"))
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = db_path.read_bytes()
    with pytest.raises(IncompatibleStore, match="newer"):
        open_store(db_path).list_issues()
    assert db_path.read_bytes() == before


def test_corrupt_file_is_a_store_error(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not an issue-core database or is corrupt"):
        open_store(db_path).list_issues()
    with pytest.raises(StoreError):
        open_store(db_path).create_issue(Issue(title="x"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_is_a_store_error(db_path):  # pragma: no cover - CI runs as root
    open_store(db_path).create_issue(Issue(title="x"))
    os.chmod(db_path, 0o400)
    with pytest.raises(StoreError, match="read-only"):
        open_store(db_path).create_issue(Issue(title="y"))


def test_read_only_connection_reports_read_only(db_path, monkeypatch):
    """Root ignores permissions, so force SQLite's own read-only mode to check the message."""
    open_store(db_path).create_issue(Issue(title="x"))
    backend = open_store(db_path)
    backend.list_issues()  # opens the connection
    backend.store._conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match="read-only"):
        backend.create_issue(Issue(title="y"))
    assert [i.title for i in open_store(db_path).list_issues()] == ["x"]


def test_labels_are_case_insensitive_but_keep_their_spelling(db_path):
    backend = open_store(db_path)
    backend.create_label(Label(name="Bug"))
    issue = backend.create_issue(Issue(title="x", labels=["bug"]))
    assert issue.labels == ["Bug"]
    assert len(backend.list_issues(IssueFilter(labels=["BUG"]))) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("login", '"login"*'), ('a "b" OR c*', '"a" "b" "OR" "c"*'), ("---", None), ("", None)],
)
def test_search_text_is_never_parsed_as_fts_syntax(text, expected):
    assert SQLITE.text_query(text) == expected


def test_search_with_syntax_characters_does_not_fail(db_path):
    backend = open_store(db_path)
    backend.create_issue(Issue(title='Quote " and NEAR( parens'))
    assert len(backend.list_issues(IssueFilter(text='NEAR( "'))) == 1
    assert backend.list_issues(IssueFilter(text="***")) == []


def test_delete_leaves_a_tombstone_in_the_change_feed(db_path):
    backend = open_store(db_path)
    issue = backend.create_issue(Issue(title="short-lived"))
    _, cursor = backend.changes_since(None)
    backend.delete_issue(issue.number)
    changes, _ = backend.changes_since(cursor)
    assert [(c.issue.id, c.deleted) for c in changes] == [(issue.id, True)]
    assert backend.list_issues(IssueFilter(state="all")) == []
    with pytest.raises(ValidationError):
        backend.changes_since("not-a-cursor")


def test_label_rename_is_a_change_to_its_issues(db_path):
    backend = open_store(db_path)
    issue = backend.create_issue(Issue(title="x", labels=["old"]), create_labels=True)
    _, cursor = backend.changes_since(None)
    backend.update_label("old", Label(name="new"))
    changes, _ = backend.changes_since(cursor)
    assert [(c.issue.number, c.issue.labels) for c in changes] == [(issue.number, ["new"])]


def test_comment_edits_and_deletes_change_their_issue(db_path):
    """Like adding a comment: the issue's version, updated_at and change-feed position move."""
    backend = open_store(db_path)
    issue = backend.create_issue(Issue(title="talked about"))
    other = backend.create_issue(Issue(title="left alone"))
    comment = backend.add_comment(issue.number, "v1")
    before = backend.get_issue_by_number(issue.number)
    _, cursor = backend.changes_since(None)
    edited = backend.edit_comment(issue.number, comment.id, "v2")
    assert edited.created_at == comment.created_at and edited.updated_at > comment.updated_at
    after_edit = backend.get_issue_by_number(issue.number)
    assert after_edit.version == before.version + 1
    assert after_edit.updated_at > before.updated_at
    changes, cursor = backend.changes_since(cursor)
    assert [c.issue.number for c in changes] == [issue.number]
    backend.edit_comment(issue.number, comment.id, "v2")  # the same text: nothing to write
    assert backend.get_issue_by_number(issue.number).version == after_edit.version
    assert backend.changes_since(cursor)[0] == []
    backend.delete_comment(issue.number, comment.id)
    after_delete = backend.get_issue_by_number(issue.number)
    assert after_delete.version == after_edit.version + 1 and after_delete.comments_count == 0
    changes, _ = backend.changes_since(cursor)
    assert [c.issue.number for c in changes] == [issue.number]
    assert backend.get_issue_by_number(other.number).version == 1


def test_milestone_delete_is_a_change_to_its_issues(db_path):
    from issue_core.core.models import Milestone

    backend = open_store(db_path)
    backend.create_milestone(Milestone(title="v1"))
    mine = backend.create_issue(Issue(title="in v1", milestone="v1"))
    other = backend.create_issue(Issue(title="in none"))
    _, cursor = backend.changes_since(None)
    backend.delete_milestone("V1")  # titles are case-insensitive on the local store
    changes, _ = backend.changes_since(cursor)
    assert [(c.issue.number, c.issue.milestone) for c in changes] == [(mine.number, None)]
    assert backend.get_issue_by_number(mine.number).version == 2
    assert backend.get_issue_by_number(other.number).version == 1


def test_comment_and_milestone_ids_are_never_reused(db_path):
    """Users name them by id: after a delete, the same id must never mean another one."""
    from issue_core.core.models import Milestone

    backend = open_store(db_path)
    issue = backend.create_issue(Issue(title="x"))
    first = backend.add_comment(issue.number, "first")
    backend.delete_comment(issue.number, first.id)
    second = backend.add_comment(issue.number, "second")
    assert int(second.id) > int(first.id)
    with pytest.raises(NotFound):
        backend.edit_comment(issue.number, first.id, "meant the first one")
    old = backend.create_milestone(Milestone(title="v1"))
    backend.delete_milestone("v1")
    new = backend.create_milestone(Milestone(title="v2"))
    assert int(new.id) > int(old.id)  # type: ignore[arg-type]


def test_a_version_3_store_keeps_counting_ids_from_its_highest(db_path):
    with _store_at_version(db_path, 3) as conn:
        stamp = "2026-12-02T06:23:13.000000Z"
        conn.execute(
            "INSERT INTO issues (id, uid, number, title, change_seq, created_at, updated_at) "
            "VALUES (1, 'u1', 1, 'old', 1, ?, ?)",
            (stamp, stamp),
        )
        conn.execute(
            "INSERT INTO comments (id, issue_id, body, created_at, updated_at) "
            "VALUES (41, 1, 'old comment', ?, ?)",
            (stamp, stamp),
        )
        conn.execute("UPDATE counters SET value = 1")
    backend = open_store(db_path)
    assert backend.add_comment(1, "new comment").id == "42"


def test_numbers_are_never_reused_after_delete(db_path):
    backend = open_store(db_path)
    first = backend.create_issue(Issue(title="a"))
    backend.delete_issue(first.number)
    assert backend.create_issue(Issue(title="b")).number == first.number + 1


def test_test_connection_reports_store_state(db_path):
    backend = open_store(db_path)
    assert backend.test_connection().ok
    backend.create_issue(Issue(title="x"))
    info = backend.test_connection()
    assert info.ok and "1 issues" in info.checks["store"][1]
    assert info.to_dict()["location"] == str(db_path)


@pytest.mark.parametrize(
    ("reason", "failed"),
    [("no write permission on the file", "permission"), ("read-only filesystem", "store")],
)
def test_test_connection_says_what_failed(db_path, monkeypatch, reason, failed):
    from issue_core.backends.local import backend as local_backend

    backend = open_store(db_path)
    backend.create_issue(Issue(title="x"))
    assert backend.test_connection().failed is None
    monkeypatch.setattr(local_backend, "read_only_reason", lambda path: reason)
    info = backend.test_connection()
    assert info.failed == failed and info.failed_check == ("writable", reason, failed)


def test_test_connection_of_a_corrupt_store_fails_the_store_check(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database at all" * 100)
    info = open_store(db_path).test_connection()
    assert info.failed == "store" and info.failed_check[0] == "store"


def test_the_store_is_told_who_acts_and_never_reads_the_configuration(tmp_path, monkeypatch):
    """``service.runtime`` resolves the identity; a store opened without one refuses, rather
    than loading the configuration itself (and acting as someone the caller did not choose)."""
    from issue_core.core.config import Config
    from issue_core.core.errors import ConfigError

    monkeypatch.setattr(Config, "load", classmethod(lambda cls, *a, **k: pytest.fail("read")))
    path = str(tmp_path / "issues.db")
    for settings in ({"path": path}, {"path": path, "identity": ""}):
        with pytest.raises(ConfigError, match="needs the acting identity"):
            LocalBackend().connect(settings)
    backend = LocalBackend()
    backend.connect({"path": path, "identity": "ann"})
    assert backend.create_issue(Issue(title="x")).author == "ann"


def test_unconnected_backend_says_so():
    with pytest.raises(ValidationError, match="not connected"):
        LocalBackend().list_issues()


def test_bulk_create_is_all_or_nothing(db_path):
    backend = open_store(db_path)
    created = backend.bulk_create(
        [Issue(title=f"t{i}", labels=["x"]) for i in range(5)], create_labels=True
    )
    assert [issue.number for issue in created] == [1, 2, 3, 4, 5]
    with pytest.raises(ValidationError):
        backend.bulk_create([Issue(title="fine"), Issue(title="")])
    assert len(backend.list_issues(IssueFilter(state="all", limit=None))) == 5
    assert backend.create_issue(Issue(title="next")).number == 6
    assert backend.bulk_create([]) == []


def test_bulk_create_returns_the_issues_as_a_read_returns_them(db_path):
    from issue_core.core.models import Milestone

    backend = open_store(db_path)
    backend.create_label(Label(name="Bug"))
    backend.create_milestone(Milestone(title="Sprint 1"))
    backend.create_issue(Issue(title="first"))
    backend.delete_issue(1)  # numbers and row ids move on past deleted issues
    created = backend.bulk_create(
        [
            Issue(
                title="a",
                description="body",
                labels=["bug", "new", "Zeta", "alpha", "BUG"],
                assignees=["ann", "bob", "ann"],
                milestone="sprint 1",
                sync_metadata={"z": 1, "a": {"nested": [1, "x"]}},
            ),
            Issue(title="b", state="closed", author="carol", labels=["New"]),
            Issue(title="c", state="in_progress", id="fixed-uid"),
        ],
        create_labels=True,
    )
    assert [issue.number for issue in created] == [2, 3, 4]
    for issue in created:
        read = backend.get_issue_by_number(issue.number or 0)
        assert issue.to_dict() == read.to_dict()
        assert issue.loaded_snapshot == read.loaded_snapshot
    assert created[0].labels == ["alpha", "Bug", "new", "Zeta"]
    assert created[1].labels == ["new"]
    assert created[2].id == "fixed-uid"
    assert {user.username for user in backend.list_users()} >= {"ann", "bob", "carol"}
    found = backend.list_issues(IssueFilter(state=None, text="body"))
    assert [issue.number for issue in found] == [2]


def test_writes_to_missing_things_do_not_create_the_store(db_path):
    from issue_core.core.errors import NotFound
    from issue_core.core.models import Milestone

    backend = open_store(db_path)
    attempts = [
        lambda: backend.add_comment(1, "hello"),
        lambda: backend.update_issue(Issue(title="x", number=1)),
        lambda: backend.delete_issue(1),
        lambda: backend.update_label("bug", Label(name="defect")),
        lambda: backend.delete_label("bug"),
        lambda: backend.update_milestone("v1", Milestone(title="v1", state="closed")),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert not db_path.exists() and backend.created_store_path is None


def test_setup_of_an_empty_store_file_waits_out_lock_races(db_path, monkeypatch):
    """Racing processes initialising an empty store file in place (switching it to WAL and
    migrating it) get "locked" at once from SQLite (no busy handler in deadlock-prone cases);
    set-up retries instead of failing. (A store that does not exist yet is built aside and
    linked in whole, so it needs no such set-up.)"""
    from issue_core.backends.local.store import Store

    db_path.parent.mkdir(parents=True)
    db_path.touch()
    real_migrate = Store._migrate
    attempts = []

    def flaky_migrate(self, conn, version):
        attempts.append(version)
        if len(attempts) < 3:
            raise sqlite3.OperationalError("database is locked")
        return real_migrate(self, conn, version)

    monkeypatch.setattr(Store, "_migrate", flaky_migrate)
    backend = open_store(db_path)
    assert backend.create_issue(Issue(title="after two lock races")).number == 1
    assert attempts == [0, 0, 0]
    assert backend.created_store_path == str(db_path)


def test_setup_does_not_retry_other_errors(db_path, monkeypatch):
    from issue_core.backends.local.store import Store

    def broken_migrate(self, conn, version):
        raise sqlite3.OperationalError("disk I/O error")

    db_path.parent.mkdir(parents=True)
    db_path.touch()
    monkeypatch.setattr(Store, "_migrate", broken_migrate)
    with pytest.raises(StoreError, match="disk I/O error"):
        open_store(db_path).create_issue(Issue(title="x"))


def test_uids_are_unique_and_ordered_by_creation_time(db_path, monkeypatch):
    """uids start with the creation time (like UUIDv7), so new ones append to the uid index
    instead of landing on random pages of it; 80 random bits keep them unique."""
    import issue_core.backends.local.issues as local_backend

    clock = iter(range(1_700_000_000_000_000_000, 1_800_000_000_000_000_000, 5_000_000))
    monkeypatch.setattr(local_backend.time, "time_ns", lambda: next(clock))
    backend = open_store(db_path)
    first = backend.create_issue(Issue(title="one"))
    batch = backend.bulk_create([Issue(title=f"b{n}") for n in range(500)])
    last = backend.create_issue(Issue(title="last"))
    uids = [first.id, *(issue.id for issue in batch), last.id]
    assert all(len(uid) == 32 and int(uid, 16) >= 0 for uid in uids)
    assert len(set(uids)) == len(uids)
    assert first.id < min(issue.id for issue in batch)
    assert max(issue.id for issue in batch) < last.id
    assert {uid[:12] for uid in uids[1:-1]} == {batch[0].id[:12]}  # one clock read per batch


def test_a_version_1_store_is_migrated_in_place_keeping_its_issues(db_path):
    from issue_core.backends.local.schema import MIGRATIONS
    from issue_core.storage.sqlite import statements as _statements

    db_path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_path) as conn:
        for statement in _statements(MIGRATIONS[0]):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO issues (id, uid, number, title, change_seq, created_at, updated_at) "
            "VALUES (1, 'u1', 1, 'old issue', 1, '2026-11-25T08:00:00Z', '2026-11-25T08:00:00Z')"
        )
        conn.execute("UPDATE counters SET value = 1")
    backend = open_store(db_path)
    old = backend.get_issue_by_number(1)
    assert (old.title, old.priority, old.due_at) == ("old issue", None, None)
    old.priority = "low"
    assert backend.update_issue(old).priority == 3
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2


# ---------------------------------------------------------------- creation, foreign files, full


def test_a_new_store_is_marked_as_issue_cores(db_path):
    from issue_core.backends.local.schema import APPLICATION_ID

    open_store(db_path).create_issue(Issue(title="x"))
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sorted(p.name for p in db_path.parent.iterdir() if p.suffix == ".tmp") == []


def _fail_with_a_full_disk(monkeypatch, pages: int):
    """Make SQLite itself run out of room while the schema is written: max_page_count is
    the database's own size limit, so the error is SQLite's real SQLITE_FULL."""
    from issue_core.backends.local import store as store_module

    real = store_module.apply_migrations

    def tight(conn, version):
        conn.execute(f"PRAGMA max_page_count = {pages}")
        real(conn, version)

    monkeypatch.setattr(store_module, "apply_migrations", tight)


def test_a_creation_that_fails_leaves_nothing_and_the_next_one_creates(db_path, monkeypatch):
    from issue_core.core.errors import StoreFull

    _fail_with_a_full_disk(monkeypatch, pages=3)
    backend = open_store(db_path)
    with pytest.raises(StoreFull, match="nothing was created") as caught:
        backend.create_issue(Issue(title="x"))
    assert getattr(caught.value.__cause__, "sqlite_errorname", "") == "SQLITE_FULL"
    assert not db_path.parent.exists()  # no store, no temporary file, no folder made for them
    assert backend.created_store_path is None
    monkeypatch.undo()
    again = open_store(db_path)
    assert again.create_issue(Issue(title="x")).number == 1
    assert again.created_store_path == str(db_path)


def test_a_failed_creation_keeps_a_folder_that_was_there(db_path, monkeypatch):
    from issue_core.core.errors import StoreFull

    db_path.parent.mkdir(parents=True)
    (db_path.parent / "config.toml").write_text("")
    _fail_with_a_full_disk(monkeypatch, pages=3)
    with pytest.raises(StoreFull):
        open_store(db_path).init_store()
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["config.toml"]


def test_racing_creators_publish_one_store_and_one_says_created(db_path):
    """link(2) is exclusive: a creator that finds the store already there uses it."""
    from issue_core.backends.local.creation import create_store
    from issue_core.backends.local.store import apply_migrations

    first = open_store(db_path)
    first.create_issue(Issue(title="kept"))
    assert create_store(str(db_path), lambda conn: apply_migrations(conn, 0)) is False
    assert [i.title for i in open_store(db_path).list_issues()] == ["kept"]
    assert [p.name for p in db_path.parent.iterdir() if ".tmp" in p.name] == []


def test_a_write_on_a_full_disk_is_rolled_back_whole(db_path):
    from issue_core.core.errors import StoreFull

    backend = open_store(db_path)
    backend.create_issue(Issue(title="first"))
    conn = backend.store._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's own SQLITE_FULL
    with pytest.raises(StoreFull, match="is full: nothing was written"):
        backend.bulk_create([Issue(title=f"t{n}", description="x" * 4000) for n in range(20)])
    assert [i.title for i in backend.list_issues()] == ["first"]  # reads still work
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert backend.create_issue(Issue(title="second")).number == 2  # no number was used up


@pytest.mark.parametrize(
    ("make", "why"),
    [
        ("CREATE TABLE notes (id INTEGER PRIMARY KEY)", "other tables: notes"),
        ("PRAGMA application_id = 1179602244", "application id is 0x464f4d44"),
        ("CREATE TABLE t (x); PRAGMA user_version = 2", "without issue-core's tables"),
    ],
)
def test_a_foreign_database_is_refused_and_never_written(db_path, make, why):
    from issue_core.core.errors import NotAStore

    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.executescript(make)
    conn.close()
    before = db_path.read_bytes()
    for attempt in (
        lambda b: b.list_issues(),
        lambda b: b.create_issue(Issue(title="x")),
        lambda b: b.init_store(),
    ):
        with pytest.raises(NotAStore, match="is not an issue-core store") as caught:
            attempt(open_store(db_path))
        assert why in caught.value.message
    assert db_path.read_bytes() == before


def test_a_store_from_before_application_ids_is_still_recognised(db_path):
    open_store(db_path).create_issue(Issue(title="old"))
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA application_id = 0")
    conn.close()
    backend = open_store(db_path)
    assert [i.title for i in backend.list_issues()] == ["old"]
    assert backend.create_issue(Issue(title="new")).number == 2


def test_an_empty_file_reads_as_an_empty_store_and_is_initialised_by_a_write(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.touch()
    backend = open_store(db_path)
    assert backend.list_issues() == [] and backend.list_labels() == []
    assert db_path.stat().st_size == 0
    assert backend.create_issue(Issue(title="x")).number == 1
    assert backend.created_store_path == str(db_path)


def test_a_degraded_open_is_not_kept_once_the_disk_has_room(db_path, monkeypatch):
    """What a long-running process (the server) meets: the disk fills, then is freed, while the
    store stays open. Here the failing writable open is simulated at the store's boundary (the
    I/O error SQLite gives when its WAL index cannot grow, and no free space); the read-only
    fallback and the recovery are real. tests/cli/test_store_filesystems.py fills a real disk.
    """
    from issue_core.backends.local.store import Store
    from issue_core.core.errors import StoreFull
    from issue_core.storage import sqlite as engine

    seeded = open_store(db_path)
    seeded.create_issue(Issue(title="first"))
    seeded.close()
    full = [True]
    real_initialise = Store._initialise

    def initialise(self, conn, *, create):
        if full[0]:
            error = sqlite3.OperationalError("disk I/O error")
            error.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
            raise error
        return real_initialise(self, conn, create=create)

    monkeypatch.setattr(Store, "_initialise", initialise)
    monkeypatch.setattr(engine, "free_bytes", lambda folder: 0 if full[0] else 1 << 30)
    backend = open_store(db_path)
    assert [i.title for i in backend.list_issues()] == ["first"]
    assert backend.store.read_only
    with pytest.raises(StoreFull, match="is full: nothing was written"):
        backend.create_issue(Issue(title="second"))
    full[0] = False  # space was freed
    assert backend.create_issue(Issue(title="second")).number == 2
    assert not backend.store.read_only
    assert [i.title for i in backend.list_issues()] == ["second", "first"]


def test_a_version_4_store_gets_close_reasons_for_its_closed_issues(db_path):
    with _store_at_version(db_path, 4) as conn:
        stamp = "2026-12-02T06:23:13.000000Z"
        for number, state in ((1, "open"), (2, "closed")):
            conn.execute(
                "INSERT INTO issues (id, uid, number, title, state, change_seq, created_at, "
                "updated_at) VALUES (?, ?, ?, 'old', ?, 1, ?, ?)",
                (number, f"u{number}", number, state, stamp, stamp),
            )
    backend = open_store(db_path)
    assert backend.get_issue_by_number(1).close_reason is None
    assert backend.get_issue_by_number(2).close_reason == "completed"
    with sqlite3.connect(db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE issues SET close_reason = 'wontfix' WHERE number = 2")
