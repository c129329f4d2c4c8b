"""The reads and writes sync needs of every backend (``Capability.COMMENT_FEED``): the comment
feed with its cursor, comments added with a marker and found by it, and the snapshot of a
whole repository whose cursors continue the feeds. Parametrised over every backend."""

from __future__ import annotations

import pytest

from issue_core.core.errors import NotFound, ValidationError
from issue_core.core.interfaces import Capability, SyncableBackend
from issue_core.core.models import Issue, IssueState


@pytest.fixture
def syncable(backend):
    if not backend.supports(Capability.COMMENT_FEED):
        pytest.skip("no comment feed")
    assert isinstance(backend, SyncableBackend)
    return backend


def _drain(backend, cursor, *, limit=500):
    """Every change after ``cursor`` (a page of ``limit`` at a time) and the last cursor."""
    seen = []
    for _ in range(50):
        changes, cursor = backend.comments_since(cursor, limit=limit)
        if not changes:
            return seen, cursor
        seen.extend(changes)
    raise AssertionError("the comment feed never ran dry")


def test_comment_feed_reports_each_added_and_edited_comment_once(syncable):
    one = syncable.create_issue(Issue(title="one"))
    two = syncable.create_issue(Issue(title="two"))
    first = syncable.add_comment(one.number, "first")
    second = syncable.add_comment(two.number, "second")

    changes, cursor = _drain(syncable, None)
    assert [(c.issue_number, c.comment.id, c.comment.body) for c in changes] == [
        (one.number, first.id, "first"),
        (two.number, second.id, "second"),
    ]
    assert [c.issue_id for c in changes] == [one.id, two.id]
    assert not any(c.deleted for c in changes)
    assert changes[0].comment.author and changes[0].comment.created_at
    assert syncable.comments_since(cursor)[0] == []  # nothing new: nothing reported

    syncable.edit_comment(one.number, first.id, "first, edited")
    changes, cursor = _drain(syncable, cursor)
    assert [(c.comment.id, c.comment.body) for c in changes] == [(first.id, "first, edited")]
    assert syncable.comments_since(cursor)[0] == []


def test_comment_feed_pages_by_limit_without_losing_or_repeating(syncable):
    issue = syncable.create_issue(Issue(title="busy"))
    added = [syncable.add_comment(issue.number, f"comment {n}").id for n in range(5)]
    changes, _ = _drain(syncable, None, limit=2)
    assert [c.comment.id for c in changes] == added


def test_a_deleted_comment_is_reported_where_the_backend_can_tell(syncable):
    if not syncable.supports(Capability.COMMENT_FEED_DELETIONS):
        pytest.skip("the feed reports no deletions")
    issue = syncable.create_issue(Issue(title="gone"))
    comment = syncable.add_comment(issue.number, "soon gone")
    _, cursor = _drain(syncable, None)
    syncable.delete_comment(issue.number, comment.id)
    changes, _ = _drain(syncable, cursor)
    assert [(c.comment.id, c.deleted, c.issue_number) for c in changes] == [
        (comment.id, True, issue.number)
    ]


def test_a_marked_comment_reads_back_plain_and_is_found_by_its_marker(syncable):
    issue = syncable.create_issue(Issue(title="marked"))
    syncable.add_comment(issue.number, "unmarked")
    added = syncable.add_comment(issue.number, "from the other side", marker="sync-7f3a")
    assert (added.body, added.marker) == ("from the other side", "sync-7f3a")

    listed = syncable.list_comments(issue.number)
    assert [(c.body, c.marker) for c in listed] == [
        ("unmarked", None),
        ("from the other side", "sync-7f3a"),
    ]
    found = syncable.find_comment_by_marker(issue.number, "sync-7f3a")
    assert found is not None and found.id == added.id
    assert syncable.find_comment_by_marker(issue.number, "sync-other") is None

    # An edit keeps the marker (a later run still finds the comment by it).
    edited = syncable.edit_comment(issue.number, added.id, "edited on this side")
    assert (edited.body, edited.marker) == ("edited on this side", "sync-7f3a")
    again = syncable.find_comment_by_marker(issue.number, "sync-7f3a")
    assert again is not None and again.body == "edited on this side"
    changes, _ = _drain(syncable, None)
    assert {c.comment.marker for c in changes} == {None, "sync-7f3a"}


def test_a_bad_marker_is_refused_and_nothing_is_written(syncable):
    issue = syncable.create_issue(Issue(title="strict"))
    for bad in ("", "two words", "x" * 201, "line\nbreak"):
        with pytest.raises(ValidationError):
            syncable.add_comment(issue.number, "text", marker=bad)
    assert syncable.list_comments(issue.number) == []


def test_marker_lookup_on_a_missing_issue_is_not_found(syncable):
    with pytest.raises(NotFound):
        syncable.find_comment_by_marker(999, "sync-1")


def test_snapshot_has_every_issue_with_its_comments_and_cursors_that_continue(syncable):
    open_one = syncable.create_issue(Issue(title="open one"))
    closed = syncable.create_issue(Issue(title="closed one", state=IssueState.CLOSED))
    quiet = syncable.create_issue(Issue(title="no comments"))
    a = syncable.add_comment(open_one.number, "a")
    b = syncable.add_comment(closed.number, "b")
    c = syncable.add_comment(open_one.number, "c", marker="sync-c")

    snap = syncable.snapshot()
    by_number = {issue.number: issue for issue in snap.issues}
    assert set(by_number) == {open_one.number, closed.number, quiet.number}
    assert [x.id for x in by_number[open_one.number].comments] == [a.id, c.id]
    assert [x.id for x in by_number[closed.number].comments] == [b.id]
    assert by_number[quiet.number].comments == []
    assert by_number[open_one.number].comments[1].marker == "sync-c"
    assert sorted((x.issue_number, x.id) for x in syncable.iter_all_comments()) == sorted(
        [(open_one.number, a.id), (open_one.number, c.id), (closed.number, b.id)]
    )

    # What changes after the snapshot comes through the feeds from its cursors (a change made
    # just before may come again: never one less).
    later = syncable.add_comment(quiet.number, "after the snapshot")
    comments, _ = _drain(syncable, snap.comment_cursor)
    assert later.id in {x.comment.id for x in comments}
    issues = []
    cursor = snap.issue_cursor
    for _ in range(50):
        page, cursor = syncable.changes_since(cursor)
        if not page:
            break
        issues.extend(page)
    assert quiet.number in {change.issue.number for change in issues}


def test_a_foreign_comment_cursor_is_refused(syncable):
    with pytest.raises(ValidationError):
        syncable.comments_since("not|a:cursor,at all")
