"""The local store's repositories (backends/local/{issues,labels,milestones,comments,users,feed,
search}.py)
called directly over a connection, as the LocalBackend façade calls them inside its
transactions; and the one ``feed.touch()`` that every change of an issue goes through."""

from __future__ import annotations

import pytest

from issue_core.backends.local import comments, feed, issues, labels, milestones, search, users
from issue_core.backends.local.store import Store
from issue_core.core.errors import Conflict, NotFound
from issue_core.core.models import Issue, IssueState, Label, Milestone


@pytest.fixture
def store(tmp_path):
    opened = Store(str(tmp_path / "issues.db"))
    yield opened
    opened.close()


def _state(store, number):
    with store.reader() as conn:
        row = conn.execute(
            "SELECT id, version, updated_at, change_seq, comments_count, milestone_id "
            "FROM issues WHERE number = ?",
            (number,),
        ).fetchone()
    return dict(row)


def _seed(store, *titles, **fields):
    with store.writer() as conn:
        return issues.insert_batch(
            conn, [Issue(title=t, **fields) for t in titles], identity="me", create_labels=True
        )


def test_touch_bumps_version_time_and_sequence_once_per_issue_in_order(store):
    _seed(store, "one", "two")
    before = [_state(store, n) for n in (1, 2)]
    with store.writer() as conn:
        feed.touch(conn, [before[1]["id"], before[0]["id"]], "2030-01-01T00:00:00.000000Z")
    after = [_state(store, n) for n in (1, 2)]
    assert [a["version"] for a in after] == [2, 2]
    assert {a["updated_at"] for a in after} == {"2030-01-01T00:00:00.000000Z"}
    top = max(b["change_seq"] for b in before)
    assert (after[1]["change_seq"], after[0]["change_seq"]) == (top + 1, top + 2)


def test_touch_writes_its_columns_in_the_same_statement(store):
    _seed(store, "one")
    row_id = _state(store, 1)["id"]
    with store.writer() as conn:
        feed.touch(conn, [row_id], "2030-01-01T00:00:00.000000Z", {"title": "renamed"})
        feed.touch(conn, [], "never")  # nothing changed: nothing is taken
    with store.reader() as conn:
        row = conn.execute("SELECT title, version FROM issues WHERE id = ?", (row_id,)).fetchone()
        assert tuple(row) == ("renamed", 2)
        assert (
            conn.execute("SELECT value FROM counters WHERE name = 'change_seq'").fetchone()[0] == 2
        )


def test_every_kind_of_change_moves_the_feed(store):
    """Each writer of the store goes through touch (or the feed's own allocation)."""
    with store.writer() as conn:
        milestones.create(conn, "M1", Milestone(title="M1"))
    _seed(store, "a", labels=["bug"], milestone="M1")
    seqs = [_state(store, 1)["change_seq"]]
    steps = [
        lambda c: issues.apply(
            c, issues.load_for_update(c, 1), {"title": "b"}, create_labels=False
        ),
        lambda c: comments.add(c, 1, "hello", "me", "2030-01-01T00:00:00.000000Z"),
        lambda c: comments.edit(c, 1, "1", "edited", "2030-01-01T00:00:01.000000Z"),
        lambda c: comments.delete(c, 1, "1", "2030-01-01T00:00:02.000000Z"),
        lambda c: labels.update(c, "bug", "Bug", Label(name="Bug")),
        lambda c: labels.delete(c, "Bug"),
        lambda c: milestones.delete(c, "M1"),
    ]
    for step in steps:
        with store.writer() as conn:
            step(conn)
        seqs.append(_state(store, 1)["change_seq"])
    assert seqs == sorted(set(seqs)), seqs  # strictly increasing: every step is a change
    final = _state(store, 1)
    assert final["version"] == 1 + len(steps)
    assert final["comments_count"] == 0 and final["milestone_id"] is None
    with store.writer() as conn:
        issues.delete(conn, 1)
    with store.reader() as conn:
        changes, cursor = feed.changes_since(conn, str(seqs[-1]), limit=10)
    assert [(c.issue.number, c.deleted) for c in changes] == [(1, True)]
    assert int(cursor) == seqs[-1] + 1


def test_labels_repository(store):
    with store.writer() as conn:
        created = labels.create(conn, "Bug", "ff0000", "broken")
        with pytest.raises(Conflict):
            labels.create(conn, "bug", None, None)
        assert labels.stored(conn, "BUG", create=False) == (int(created.id), "Bug")
        assert labels.ids(conn, ["bug", "nope"]) is None
        with pytest.raises(NotFound, match="does not exist"):
            labels.require(conn, ["nope"], create=False)
        assert [label.name for label in labels.list_all(conn)] == ["Bug"]


def test_milestone_by_title_is_one_row_with_its_counts(store):
    with store.writer() as conn:
        milestones.create(conn, "Q1", Milestone(title="Q1"))
        milestones.create(conn, "Q2", Milestone(title="Q2"))
    _seed(store, "open one", milestone="q1")
    _seed(store, "closed one", milestone="Q1", state=IssueState.CLOSED)
    with store.reader() as conn:
        found = milestones.by_title(conn, " q1 ")
        assert (found.title, found.open_issues, found.closed_issues) == ("Q1", 1, 1)
        with pytest.raises(NotFound):
            milestones.by_title(conn, "Q3")
        assert milestones.id_of(conn, "") is None


def test_users_repository_records_once(store):
    _seed(store, "x")
    with store.writer() as conn:
        users.record(conn, ["ann", None, "ann", "me"], "2030-01-01T00:00:00.000000Z")
        assert [u.username for u in users.list_all(conn)] == ["ann", "me"]
        assert users.find(conn, "nobody") is None


def test_comments_belong_to_their_issue(store):
    _seed(store, "one", "two")
    with store.writer() as conn:
        added = comments.add(conn, 1, "first", "me", "2030-01-01T00:00:00.000000Z")
        with pytest.raises(NotFound, match="not found on issue #2"):
            comments.edit(conn, 2, added.id, "x", "2030-01-01T00:00:01.000000Z")
        with pytest.raises(NotFound, match="not found on issue #1"):
            comments.delete(conn, 1, "x1", "2030-01-01T00:00:01.000000Z")
        assert [c.body for c in comments.list_for(conn, comments.issue_row_id(conn, 1), 1)] == [
            "first"
        ]


def _document(store, number):
    with store.reader() as conn:
        row_id = _state(store, number)["id"]
        found = conn.execute(
            f"SELECT title, description, comments FROM {search.INDEX} WHERE rowid = ?", (row_id,)
        ).fetchone()
    return tuple(found) if found is not None else None


def test_the_search_index_follows_every_change_of_an_issue_s_text(store):
    (created,) = _seed(store, "Login fails")
    assert _document(store, created.number) == ("Login fails", "", "")
    with store.writer() as conn:
        current = issues.load_for_update(conn, created.number)
        issues.apply(conn, current, {"description": "after upgrade"}, create_labels=False)
        first = comments.add(conn, created.number, "seen on mac", "me", "2026-01-01T00:00:00Z")
        comments.add(conn, created.number, "and linux", "me", "2026-01-01T00:00:01Z")
    assert _document(store, created.number) == (
        "Login fails",
        "after upgrade",
        " seen on mac and linux",
    )
    with store.writer() as conn:
        comments.delete(conn, created.number, first.id, "2026-01-01T00:00:02Z")
    assert _document(store, created.number) == ("Login fails", "after upgrade", "and linux")
    with store.writer() as conn:
        issues.delete(conn, created.number)
    with store.reader() as conn:
        assert conn.execute(f"SELECT COUNT(*) FROM {search.INDEX}").fetchone()[0] == 0
