"""GitHub wire JSON <-> models: what the backend's mapping decides on its own."""

from __future__ import annotations

from datetime import UTC, datetime

from issue_core.backends.github import mapping
from issue_core.core.models import CloseReason, IssueFilter, IssueState, Label, Milestone

IP = "status/in-progress"


def _raw(**fields):
    raw = {
        "id": 7,
        "node_id": "I_kw7",
        "number": 3,
        "title": "t",
        "body": "Text\n\n<!-- issue-core:sync-metadata "
        '{"issue-core:due":"2026-12-24T10:00:00Z"} -->',
        "state": "open",
        "state_reason": None,
        "labels": [{"id": 1, "name": IP}, {"id": 2, "name": "Bug"}],
        "assignees": [{"login": "ann"}],
        "milestone": None,
        "user": {"login": "bob"},
        "comments": 2,
        "html_url": "https://github.com/a/b/issues/3",
        "created_at": "2026-11-25T08:00:00Z",
        "updated_at": "2026-11-25T08:00:01Z",
        "closed_at": None,
    }
    raw.update(fields)
    return raw


def test_issue_from_wire_in_progress_due_and_ids():
    issue = mapping.issue_from_wire(_raw(), in_progress_label=IP)
    assert issue.state is IssueState.IN_PROGRESS and issue.labels == ["Bug"]
    assert issue.due_at == datetime(2026, 12, 24, 10, tzinfo=UTC)  # the block's instant
    assert (issue.id, issue.node_id, issue.author, issue.assignees) == (
        "7",
        "I_kw7",
        "bob",
        ["ann"],
    )
    assert issue.description == "Text" and issue.changed_fields() == []


def test_close_reason_from_state_reason():
    for reason, expected in [
        ("not_planned", CloseReason.NOT_PLANNED),
        ("duplicate", CloseReason.DUPLICATE),
        ("completed", CloseReason.COMPLETED),
        (None, CloseReason.COMPLETED),
        ("reopened", CloseReason.COMPLETED),
    ]:
        assert mapping.close_reason_of({"state": "closed", "state_reason": reason}) is expected
    assert mapping.close_reason_of({"state": "open", "state_reason": "reopened"}) is None


def test_state_fields():
    assert mapping.state_fields(IssueState.CLOSED, None) == {
        "state": "closed",
        "state_reason": "completed",
    }
    assert mapping.state_fields(IssueState.IN_PROGRESS, None) == {"state": "open"}
    assert mapping.state_fields(IssueState.OPEN, None, reopening=True) == {
        "state": "open",
        "state_reason": "reopened",
    }


def test_pull_requests_are_told_by_their_key():
    assert mapping.is_pull_request({"pull_request": {"url": "x"}})
    assert not mapping.is_pull_request({"number": 1})


def test_filter_params():
    params = mapping.filter_params(
        IssueFilter(state="in_progress", labels=["bug"], no_assignee=True, sort="updated"),
        in_progress_label=IP,
        milestone_number=None,
    )
    assert params == {
        "state": "open",
        "labels": f"bug,{IP}",
        "assignee": "none",
        "sort": "updated",
        "direction": "desc",
    }
    closed = mapping.filter_params(
        IssueFilter(state="closed", milestone="v1", author="bob", sort="number"),
        in_progress_label=IP,
        milestone_number="4",
    )
    assert closed == {"state": "closed", "milestone": "4", "creator": "bob"}
    assert (
        mapping.filter_params(IssueFilter(), in_progress_label=IP, milestone_number=None)["state"]
        == "open"
    )


def test_labels_and_milestones_to_wire():
    assert mapping.label_to_wire(Label("x", color="AABBCC"), for_create=True) == {
        "name": "x",
        "color": "AABBCC",
    }
    assert mapping.label_to_wire(Label("y"), for_create=False, old_name="x") == {"new_name": "y"}
    due = datetime(2027, 1, 15, 12, tzinfo=UTC)
    wire = mapping.milestone_to_wire(Milestone("v1", due_on=due))
    assert wire["due_on"] == "2027-01-15T12:00:00Z" and "issue-core:due" in wire["description"]
    # GitHub keeps the day: the exact instant comes back from the block.
    back = mapping.milestone_from_wire(
        {**wire, "number": 1, "due_on": "2027-01-15T08:00:00Z", "state": "open"}
    )
    assert back.due_on == due and back.description is None
    ms = mapping.milestone_from_wire({"title": "v1", "number": 5, "id": 99, "state": "closed"})
    assert ms.id == "5"  # GitHub addresses milestones by number


def test_repository_of_reads_the_new_name_from_any_answer():
    assert mapping.repository_of({"full_name": "a/b", "owner": {"login": "a"}}) == "a/b"
    assert mapping.repository_of([{"repository_url": "https://api.github.com/repos/n/m"}]) == "n/m"
    assert mapping.repository_of({"url": "https://h/api/v3/repos/x/y/labels/bug"}) == "x/y"
    assert mapping.repository_of({"login": "octo"}) is None
