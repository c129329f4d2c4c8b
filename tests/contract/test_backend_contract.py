"""What every backend must do. Runs once per entry in ``BACKEND_FACTORIES`` (see conftest)."""

from __future__ import annotations

import pytest

from issue_core.core.errors import Conflict, NotFound, ValidationError
from issue_core.core.interfaces import Capability, IssueBackend
from issue_core.core.models import (
    CloseReason,
    Issue,
    IssueChanges,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    MilestoneState,
)


def make(backend: IssueBackend, title: str = "An issue", **fields) -> Issue:
    return backend.create_issue(Issue(title=title, **fields), create_labels=True)


def numbers(issues: list[Issue]) -> list[int]:
    return [issue.number for issue in issues]  # type: ignore[misc]


# ------------------------------------------------------------------------- create / read


def test_create_assigns_increasing_numbers_and_fills_timestamps(backend):
    first = make(backend, "First", description="Body text")
    second = make(backend, "Second")
    assert first.number is not None and second.number == first.number + 1
    assert first.title == "First" and first.description == "Body text"
    assert first.state is IssueState.OPEN
    assert first.created_at is not None and first.updated_at is not None
    assert first.closed_at is None
    assert first.id  # a stable id for sync


def test_get_returns_what_was_created(backend):
    created = make(backend, "Round trip", labels=["bug", "p1"], assignees=["alice"])
    fetched = backend.get_issue_by_number(created.number)
    assert fetched.to_dict() == created.to_dict()
    assert sorted(fetched.labels) == ["bug", "p1"]
    assert fetched.assignee == "alice"


def test_unknown_number_is_not_found(backend):
    with pytest.raises(NotFound, match="#999"):
        backend.get_issue_by_number(999)


def test_empty_and_oversized_titles_are_rejected_without_writing(backend):
    for title in ["", "   ", "x" * 300]:
        with pytest.raises(ValidationError):
            backend.create_issue(Issue(title=title))
    assert backend.list_issues(IssueFilter(state="all")) == []


def test_unknown_label_is_refused_unless_asked_to_create(backend):
    with pytest.raises(NotFound, match="nosuchlabel"):
        backend.create_issue(Issue(title="x", labels=["nosuchlabel"]))
    assert backend.list_issues(IssueFilter(state="all")) == []
    created = backend.create_issue(Issue(title="x", labels=["nosuchlabel"]), create_labels=True)
    assert created.labels == ["nosuchlabel"]


def test_sync_metadata_round_trips(backend):
    metadata = {"source": {"system": "ci", "event_id": "42"}, "nested": [1, {"a": None}]}
    created = make(backend, "Meta", sync_metadata=metadata)
    assert backend.get_issue_by_number(created.number).sync_metadata == metadata


# ------------------------------------------------------------------------- listing


def test_list_filters_by_state_label_and_assignee(backend):
    a = make(backend, "A", labels=["bug"], assignees=["ann"])
    b = make(backend, "B", labels=["bug", "ui"])
    c = make(backend, "C", labels=["ui"], assignees=["ann"])
    c.state = IssueState.CLOSED
    backend.update_issue(c)

    assert set(numbers(backend.list_issues(IssueFilter(state="open")))) == {a.number, b.number}
    assert numbers(backend.list_issues(IssueFilter(state="closed"))) == [c.number]
    assert set(numbers(backend.list_issues(IssueFilter(state="all", labels=["ui"])))) == {
        b.number,
        c.number,
    }
    assert numbers(backend.list_issues(IssueFilter(state="open", labels=["bug", "ui"]))) == [
        b.number
    ]
    assert set(numbers(backend.list_issues(IssueFilter(state="all", assignee="ann")))) == {
        a.number,
        c.number,
    }
    assert backend.list_issues(IssueFilter(state="all", labels=["missing"])) == []


def test_list_sorts_and_limits(backend):
    created = [make(backend, f"Issue {i}") for i in range(5)]
    newest_first = numbers(backend.list_issues(IssueFilter(state="all", limit=3)))
    assert newest_first == [created[4].number, created[3].number, created[2].number]
    oldest_first = backend.list_issues(IssueFilter(state="all", sort="number", direction="asc"))
    assert numbers(oldest_first) == numbers(created)


def test_in_progress_is_a_state_of_its_own(backend):
    issue = make(backend, "Working on it")
    issue.state = IssueState.IN_PROGRESS
    stored = backend.update_issue(issue)
    assert stored.state is IssueState.IN_PROGRESS
    assert numbers(backend.list_issues(IssueFilter(state="in_progress"))) == [issue.number]
    assert backend.list_issues(IssueFilter(state="open")) == []


def test_list_filters_by_several_states(backend):
    todo = make(backend, "todo")
    doing = make(backend, "doing")
    done = make(backend, "done")
    doing.state = IssueState.IN_PROGRESS
    backend.update_issue(doing)
    done.state = IssueState.CLOSED
    backend.update_issue(done)
    not_closed = backend.list_issues(IssueFilter(state=["open", "in_progress"]))
    assert set(numbers(not_closed)) == {todo.number, doing.number}
    assert set(numbers(backend.list_issues(IssueFilter(state="in_progress,closed")))) == {
        doing.number,
        done.number,
    }
    assert len(backend.list_issues(IssueFilter(state=["open", "in_progress", "closed"]))) == 3


def test_list_filters_by_milestone(backend):
    backend.create_milestone(Milestone(title="v1"))
    in_v1 = make(backend, "in v1", milestone="v1")
    make(backend, "no milestone")
    assert numbers(backend.list_issues(IssueFilter(milestone="v1"))) == [in_v1.number]


def test_full_text_search_over_title_description_and_comments(backend):
    if not backend.supports(Capability.FULL_TEXT_SEARCH):
        pytest.skip("no full-text search")
    login = make(backend, "Login fails", description="the session expires")
    other = make(backend, "Unrelated")
    backend.add_comment(other.number, "a crash in the parser")
    assert numbers(backend.list_issues(IssueFilter(text="login"))) == [login.number]
    assert numbers(backend.list_issues(IssueFilter(text="expires"))) == [login.number]
    assert numbers(backend.list_issues(IssueFilter(text="parser"))) == [other.number]


# ------------------------------------------------------------------------- updating


def test_close_and_reopen_maintain_closed_at(backend):
    issue = make(backend, "Close me")
    issue.state = IssueState.CLOSED
    closed = backend.update_issue(issue)
    assert closed.state is IssueState.CLOSED and closed.closed_at is not None
    closed.state = IssueState.OPEN
    reopened = backend.update_issue(closed)
    assert reopened.state is IssueState.OPEN and reopened.closed_at is None


def test_close_reason_is_stored_kept_and_cleared(backend):
    issue = make(backend, "Won't do")
    assert issue.close_reason is None
    issue.state = IssueState.CLOSED
    issue.close_reason = "not_planned"
    closed = backend.update_issue(issue)
    assert closed.close_reason is CloseReason.NOT_PLANNED
    fetched = backend.get_issue_by_number(closed.number)
    assert (fetched.state, fetched.close_reason) == (IssueState.CLOSED, CloseReason.NOT_PLANNED)
    fetched.title = "Won't do, renamed"
    assert backend.update_issue(fetched).close_reason is CloseReason.NOT_PLANNED
    fetched.close_reason = CloseReason.DUPLICATE  # a closed issue's reason alone changes
    assert backend.update_issue(fetched).close_reason is CloseReason.DUPLICATE
    fetched.state = IssueState.OPEN
    assert backend.update_issue(fetched).close_reason is None
    plain = make(backend, "Done")
    plain.state = IssueState.CLOSED
    assert backend.update_issue(plain).close_reason is CloseReason.COMPLETED
    made_closed = make(
        backend, "Closed at birth", state=IssueState.CLOSED, close_reason="duplicate"
    )
    assert backend.get_issue_by_number(made_closed.number).close_reason is CloseReason.DUPLICATE


def test_service_close_takes_a_reason(backend):
    from issue_core.service.issues import set_closed

    issue = make(backend, "Close via the service")
    done = set_closed(backend, issue.number, None, closed=True, reason="not_planned")
    assert done.changed and done.issue.close_reason is CloseReason.NOT_PLANNED
    again = set_closed(backend, issue.number, None, closed=True, reason="duplicate")
    assert again.changed and again.issue.close_reason is CloseReason.DUPLICATE
    same = set_closed(backend, issue.number, None, closed=True)
    assert not same.changed and same.issue.close_reason is CloseReason.DUPLICATE
    with pytest.raises(ValidationError, match="only for closing"):
        set_closed(backend, issue.number, None, closed=False, reason="completed")


def test_update_changes_only_what_changed(backend):
    issue = make(backend, "Original", description="keep me", labels=["a"])
    issue.title = "Renamed"
    issue.labels = ["a", "b"]
    stored = backend.update_issue(issue, create_labels=True)
    assert stored.title == "Renamed" and stored.description == "keep me"
    assert sorted(stored.labels) == ["a", "b"]
    assert stored.updated_at >= issue.updated_at


def test_concurrent_edits_of_different_fields_merge(backend):
    created = make(backend, "Shared", labels=["a"])
    mine = backend.get_issue_by_number(created.number)
    theirs = backend.get_issue_by_number(created.number)
    theirs.title = "Their title"
    theirs.labels.append("theirs")
    backend.update_issue(theirs, create_labels=True)
    mine.state = IssueState.IN_PROGRESS
    mine.labels.append("mine")
    merged = backend.update_issue(mine, create_labels=True)
    assert merged.title == "Their title"
    assert merged.state is IssueState.IN_PROGRESS
    assert sorted(merged.labels) == ["a", "mine", "theirs"]


def test_concurrent_edits_of_the_same_field_conflict(backend):
    created = make(backend, "Contended")
    mine = backend.get_issue_by_number(created.number)
    theirs = backend.get_issue_by_number(created.number)
    theirs.title = "Theirs"
    backend.update_issue(theirs)
    mine.title = "Mine"
    with pytest.raises(Conflict, match="title"):
        backend.update_issue(mine)
    assert backend.get_issue_by_number(created.number).title == "Theirs"


def test_the_callers_issue_is_refreshed_by_update_so_it_can_be_reused(backend):
    """The original README's pattern: load once, update, change the same object, update again.
    The second update must compare against what the first one stored, not raise a Conflict."""
    issue = make(backend, "first", labels=["a"])
    issue.title = "second"
    issue.labels = ["a", "b"]
    returned = backend.update_issue(issue, create_labels=True)
    assert issue.to_dict() == returned.to_dict()
    assert issue.changed_fields() == []
    issue.title = "third"  # the same field again, on the same object
    issue.state = IssueState.CLOSED
    again = backend.update_issue(issue)
    assert (again.title, again.state) == ("third", IssueState.CLOSED)
    assert issue.to_dict() == again.to_dict()
    stored = backend.get_issue_by_number(issue.number)
    assert (stored.title, stored.state, sorted(stored.labels)) == (
        "third",
        IssueState.CLOSED,
        ["a", "b"],
    )


def test_update_of_unknown_issue_is_not_found(backend):
    ghost = Issue(title="ghost", number=4242)
    with pytest.raises(NotFound):
        backend.update_issue(ghost)


# ------------------------------------------------------------------------- comments


def test_comments_are_listed_in_order_and_counted(backend):
    issue = make(backend, "Discuss")
    backend.add_comment(issue.number, "first")
    backend.add_comment(issue.number, "second")
    comments = backend.list_comments(issue.number)
    assert [c.body for c in comments] == ["first", "second"]
    shown = backend.get_issue_by_number(issue.number, with_comments=True)
    assert shown.comments_count == 2 and [c.body for c in shown.comments] == ["first", "second"]
    with pytest.raises(ValidationError):
        backend.add_comment(issue.number, "   ")
    with pytest.raises(NotFound):
        backend.add_comment(9999, "hello")


def test_comment_edit_changes_the_body_and_keeps_created_at(backend):
    assert backend.supports(Capability.EDIT_COMMENTS)
    issue = make(backend, "Discuss edits")
    first = backend.add_comment(issue.number, "first drfat")
    second = backend.add_comment(issue.number, "second")
    edited = backend.edit_comment(issue.number, first.id, "first draft")
    assert (edited.id, edited.issue_number, edited.body) == (first.id, issue.number, "first draft")
    assert edited.author == first.author and edited.created_at == first.created_at
    assert edited.updated_at is not None and edited.updated_at >= first.created_at
    listed = backend.list_comments(issue.number)
    assert [(c.id, c.body) for c in listed] == [(first.id, "first draft"), (second.id, "second")]
    assert listed[0].created_at == first.created_at
    assert backend.get_issue_by_number(issue.number).comments_count == 2
    with pytest.raises(ValidationError):
        backend.edit_comment(issue.number, first.id, "   ")
    assert backend.list_comments(issue.number)[0].body == "first draft"


def test_comment_delete_removes_it_and_counts_down(backend):
    issue = make(backend, "Discuss deletes")
    doomed = backend.add_comment(issue.number, "wrong issue, sorry")
    kept = backend.add_comment(issue.number, "kept")
    backend.delete_comment(issue.number, doomed.id)
    assert [c.id for c in backend.list_comments(issue.number)] == [kept.id]
    assert backend.get_issue_by_number(issue.number).comments_count == 1
    with pytest.raises(NotFound, match=str(doomed.id)):
        backend.delete_comment(issue.number, doomed.id)
    with pytest.raises(NotFound):
        backend.edit_comment(issue.number, doomed.id, "back again?")


def test_a_comment_id_of_another_issue_is_not_found(backend):
    five, six = make(backend, "Five"), make(backend, "Six")
    theirs = backend.add_comment(six.number, "on six")
    with pytest.raises(NotFound, match=f"comment {theirs.id} not found on issue #{five.number}"):
        backend.edit_comment(five.number, theirs.id, "hijacked")
    with pytest.raises(NotFound, match=f"#{five.number}"):
        backend.delete_comment(five.number, theirs.id)
    assert [c.body for c in backend.list_comments(six.number)] == ["on six"]
    for bad in ("999999", "abc", "-1", "1.5", ""):
        with pytest.raises(NotFound):
            backend.edit_comment(five.number, bad, "x")
    with pytest.raises(NotFound, match="#9999"):
        backend.delete_comment(9999, theirs.id)


def test_search_sees_an_edited_comment_and_forgets_a_deleted_one(backend):
    if not backend.supports(Capability.FULL_TEXT_SEARCH):
        pytest.skip("no full-text search")
    issue = make(backend, "Searchable")
    comment = backend.add_comment(issue.number, "mentions zebrafish")
    backend.edit_comment(issue.number, comment.id, "mentions axolotl")
    assert numbers(backend.list_issues(IssueFilter(text="axolotl"))) == [issue.number]
    assert backend.list_issues(IssueFilter(text="zebrafish")) == []
    backend.delete_comment(issue.number, comment.id)
    assert backend.list_issues(IssueFilter(text="axolotl")) == []


# ------------------------------------------------------------------------- labels


def test_label_lifecycle(backend):
    backend.create_label(Label(name="bug", color="ff0000", description="Broken"))
    with pytest.raises(Conflict):
        backend.create_label(Label(name="bug"))
    issue = make(backend, "Labelled", labels=["bug"])
    renamed = backend.update_label("bug", Label(name="defect", color="00ff00"))
    assert renamed.name == "defect" and renamed.color == "00ff00"
    assert backend.get_issue_by_number(issue.number).labels == ["defect"]
    backend.delete_label("defect")
    assert [label.name for label in backend.list_labels()] == []
    assert backend.get_issue_by_number(issue.number).labels == []
    with pytest.raises(NotFound):
        backend.delete_label("defect")


# ------------------------------------------------------------------------- milestones


def test_milestone_lifecycle(backend):
    created = backend.create_milestone(Milestone(title="v1.0", description="first"))
    assert created.state is MilestoneState.OPEN
    with pytest.raises(Conflict):
        backend.create_milestone(Milestone(title="v1.0"))
    make(backend, "for v1", milestone="v1.0")
    listed = backend.list_milestones()
    assert [(m.title, m.open_issues) for m in listed] == [("v1.0", 1)]
    closed = backend.update_milestone("v1.0", Milestone(title="v1.0", state="closed"))
    assert closed.state is MilestoneState.CLOSED and closed.closed_at is not None
    assert backend.list_milestones(MilestoneState.OPEN) == []
    with pytest.raises(NotFound):
        backend.create_issue(Issue(title="x", milestone="nope"))


def test_milestone_delete_leaves_its_issues_without_a_milestone(backend):
    backend.create_milestone(Milestone(title="v1.0"))
    backend.create_milestone(Milestone(title="v2.0"))
    in_v1 = make(backend, "in v1", milestone="v1.0")
    in_v2 = make(backend, "in v2", milestone="v2.0")
    backend.delete_milestone("v1.0")
    assert [m.title for m in backend.list_milestones(state=None)] == ["v2.0"]
    assert backend.get_issue_by_number(in_v1.number).milestone is None
    assert backend.get_issue_by_number(in_v2.number).milestone == "v2.0"
    assert backend.list_issues(IssueFilter(milestone="v1.0")) == []
    with pytest.raises(NotFound, match=r"v1\.0"):
        backend.delete_milestone("v1.0")
    with pytest.raises(NotFound):
        backend.edit_issue(in_v2.number, IssueChanges(milestone="v1.0"))
    backend.create_milestone(Milestone(title="v1.0"))  # the title is free again


# ------------------------------------------------------------------------- users and sync


def test_whoami_and_users(backend):
    me = backend.whoami()
    assert me.username
    make(backend, "assigned", assignees=["bob"])
    usernames = [user.username for user in backend.list_users()]
    assert me.username in usernames and "bob" in usernames


def test_change_feed_reports_each_change_once_in_order(backend):
    if not backend.supports(Capability.CHANGE_FEED):
        pytest.skip("no change feed")
    first = make(backend, "one")
    second = make(backend, "two")
    changes, cursor = backend.changes_since(None)
    assert [c.issue.number for c in changes] == [first.number, second.number]
    first.title = "one, edited"
    backend.update_issue(first)
    changes, cursor2 = backend.changes_since(cursor)
    assert [(c.issue.number, c.issue.title) for c in changes] == [(first.number, "one, edited")]
    assert backend.changes_since(cursor2)[0] == []
    assert backend.get_issue_by_id(first.id).number == first.number


def test_marker_finds_an_issue_written_by_an_earlier_run(backend):
    made = make(backend, "idempotent", sync_metadata={"marker": "run-7:task-3"})
    assert backend.find_issue_by_marker("run-7:task-3").number == made.number
    assert backend.find_issue_by_marker("nope") is None


def test_original_readme_python_example(backend):
    """The original tool's README example: list open critical bugs for an agent, close them."""
    make(backend, "Crash", labels=["bug", "priority:critical"], assignees=["agent-coder"])
    make(backend, "Other", labels=["bug"], assignees=["agent-coder"])
    issues = backend.list_issues(
        IssueFilter(state="open", labels=["bug", "priority:critical"], assignee="agent-coder")
    )
    assert [i.title for i in issues] == ["Crash"]
    for issue in issues:
        issue.state = IssueState.CLOSED
        backend.update_issue(issue)
    assert backend.list_issues(IssueFilter(state="closed"))[0].title == "Crash"


# ------------------------------------------------------------------------- priority, due date


def test_priority_and_due_date_are_stored_edited_and_cleared(backend, request):
    from datetime import UTC, datetime

    due = datetime(2026, 12, 24, tzinfo=UTC)
    created = make(backend, "Due soon", priority="high", due_at=due)
    fetched = backend.get_issue_by_number(created.number)
    assert (created.priority, created.due_at) == (1, due)
    assert (fetched.priority, fetched.due_at) == (1, due)
    fetched.priority = 0
    fetched.due_at = datetime(2027, 1, 2, tzinfo=UTC)
    edited = backend.update_issue(fetched)
    assert (edited.priority, edited.due_at) == (0, datetime(2027, 1, 2, tzinfo=UTC))
    edited.priority = None
    edited.due_at = None
    cleared = backend.update_issue(edited)
    assert (cleared.priority, cleared.due_at) == (None, None)
    assert backend.get_issue_by_number(created.number).to_dict() == cleared.to_dict()
