"""The local store's event log (issue 12, item 5's base): every change is one event written by
``feed.py`` in the change's own transaction, with the actor and time, read by ``issue events``
with a cursor that resumes without loss or repeats."""

from __future__ import annotations

import json

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.errors import NotFound, ValidationError
from issue_core.core.models import Issue, IssueState, Label, Milestone
from tests.integration.cli_run import run


def open_store(path, identity: str) -> LocalBackend:
    backend = LocalBackend()
    backend.connect({"path": str(path), "identity": identity})
    return backend


@pytest.fixture
def store(tmp_path):
    backend = open_store(tmp_path / "issues.db", "ann")
    yield backend
    backend.close()


def kinds(backend, number=None):
    return [(e.kind, e.actor) for e in backend.list_events(number)]


def test_every_change_is_an_event_with_actor_and_before_after(store, tmp_path):
    store.create_milestone(Milestone(title="v1"))
    issue = store.create_issue(Issue(title="t", labels=["bug"]), create_labels=True)
    number = issue.number
    bob = open_store(tmp_path / "issues.db", "bob")
    try:
        fetched = bob.get_issue_by_number(number)
        fetched.title = "t2"
        fetched.milestone = "v1"
        bob.update_issue(fetched)
        fetched.state = IssueState.IN_PROGRESS
        bob.update_issue(fetched)
        fetched.labels = ["bug", "ui"]
        bob.update_issue(fetched, create_labels=True)
        fetched.assignees = ["bob"]
        bob.update_issue(fetched)
        fetched.sync_metadata = {"k": 1}
        bob.update_issue(fetched)
        comment = bob.add_comment(number, "hello")
        bob.edit_comment(number, comment.id or "", "hello!")
        bob.delete_comment(number, comment.id or "")
    finally:
        bob.close()
    store.update_label("ui", Label(name="frontend"))
    store.delete_milestone("v1")
    store.delete_issue(number)
    assert kinds(store) == [
        ("created", "ann"),
        ("edited", "bob"),
        ("state", "bob"),
        ("labeled", "bob"),
        ("assigned", "bob"),
        ("metadata", "bob"),
        ("commented", "bob"),
        ("comment_edited", "bob"),
        ("comment_deleted", "bob"),
        ("labeled", "ann"),
        ("edited", "ann"),
        ("deleted", "ann"),
    ]
    events = store.list_events(number)
    assert events[1].data["changes"] == {
        "title": {"before": "t", "after": "t2"},
        "milestone": {"before": None, "after": "v1"},
    }
    assert events[2].data["changes"]["state"] == {"before": "open", "after": "in_progress"}
    assert events[3].data["changes"]["labels"] == {"before": ["bug"], "after": ["bug", "ui"]}
    assert events[5].data["changes"]["sync_metadata"] == {"before": {}, "after": {"k": 1}}
    assert events[6].data == {"comment_id": comment.id, "body": "hello"}
    assert events[9].data == {"label_renamed": {"before": "ui", "after": "frontend"}}
    assert events[10].data["changes"]["milestone"] == {"before": "v1", "after": None}
    assert all(e.issue == number and e.issue_id == issue.id for e in events)
    cursors = [int(e.cursor) for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)


def test_the_cursor_is_the_change_feeds_and_resumes_without_loss_or_repeats(store):
    for n in range(7):
        store.create_issue(Issue(title=f"i{n}"))
    seen, cursor = [], None
    while True:
        page = store.list_events(since=cursor, limit=3)
        if not page:
            break
        seen.extend(page)
        cursor = page[-1].cursor
    assert [e.issue for e in seen] == list(range(1, 8))
    changes, _ = store.changes_since(None)
    assert [c.cursor for c in changes] == [e.cursor for e in seen]


def test_since_a_time_and_bad_since(store):
    store.create_issue(Issue(title="a"))
    at = store.list_events()[0].at
    assert len(store.list_events(since=at)) == 1
    assert store.list_events(since="2999-01-01T00:00:00Z") == []
    with pytest.raises(ValidationError, match="neither a cursor nor a time"):
        store.list_events(since="yesterday-ish")


def test_events_of_a_missing_issue_is_not_found(store):
    with pytest.raises(NotFound):
        store.list_events(3)
    assert store.list_events() == []


def test_a_failed_write_records_no_event(store):
    store.create_issue(Issue(title="a"))
    fetched = store.get_issue_by_number(1)
    fetched.labels = ["missing"]
    with pytest.raises(NotFound):
        store.update_issue(fetched)  # the label does not exist: nothing written
    assert kinds(store) == [("created", "ann")]


def test_a_bulk_create_is_one_event_per_issue(store):
    store.bulk_create([Issue(title=f"b{n}") for n in range(50)])
    events = store.list_events(limit=100)
    assert [e.issue for e in events] == list(range(1, 51))
    assert {e.kind for e in events} == {"created"}


def test_issue_events_cli_formats_and_errors(tmp_path):
    env = {
        "ISSUE_CORE_USER": "ann",
        "ISSUE_CORE_CONFIG_DIR": str(tmp_path / "cfg"),
        "ISSUE_CORE_BACKEND": "",
        "COLUMNS": "300",  # the table fits its last column to the width: keep it whole
    }
    (tmp_path / "repo").mkdir()
    cwd = tmp_path / "repo"
    assert run(["create", "x"], cwd, env).returncode == 0
    assert run(["--as", "w1", "close", "1"], cwd, env).returncode == 0
    lines = run(["events", "--format", "jsonl"], cwd, env).stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [(e["kind"], e["actor"]) for e in events] == [("created", "ann"), ("state", "w1")]
    assert set(events[0]) == {"cursor", "issue", "issue_id", "kind", "actor", "at", "data"}
    after = run(["events", "1", "--since", events[0]["cursor"], "--format", "json"], cwd, env)
    assert [e["kind"] for e in json.loads(after.stdout)] == ["state"]
    table = run(["events"], cwd, env).stdout
    assert "state: open -> closed" in table and table.startswith("CURSOR")
    missing = run(["events", "9"], cwd, env)
    assert missing.returncode == 3 and "not found" in missing.stderr
    bad = run(["events", "--since", "soon"], cwd, env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
