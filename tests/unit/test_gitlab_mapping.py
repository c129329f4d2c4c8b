"""GitLab wire JSON <-> models: iid as the number, opened/closed and the in-progress label,
due days with the exact instant in the hidden block, system notes, and the filter parameters."""

from __future__ import annotations

from datetime import UTC, datetime

from issue_core.backends.forge.fields import issue_body
from issue_core.backends.gitlab import mapping
from issue_core.core.models import IssueFilter, IssueState, Milestone

LABEL = "status/in-progress"


def wire(**fields):
    raw = {
        "id": 27687706,
        "iid": 2,
        "title": "t",
        "description": "d",
        "state": "opened",
        "labels": [],
        "assignees": [],
        "author": {"username": "ann"},
        "created_at": "2026-01-02T03:04:05.678Z",
        "updated_at": "2026-01-02T03:04:06.789Z",
        "closed_at": None,
        "user_notes_count": 1,
        "web_url": "https://gitlab.example/g/s/r/-/issues/2",
    }
    raw.update(fields)
    return raw


def test_the_iid_is_the_number_and_the_global_id_is_kept_apart():
    issue = mapping.issue_from_wire(wire(), in_progress_label=LABEL)
    assert (issue.number, issue.id) == (2, "27687706")
    assert issue.node_id == "gid://gitlab/Issue/27687706"  # GitLab's GraphQL id for it
    assert issue.version == int(datetime(2026, 1, 2, 3, 4, 6, 789000, UTC).timestamp() * 1000)


def test_states_and_the_in_progress_label():
    doing = mapping.issue_from_wire(wire(labels=["bug", LABEL]), in_progress_label=LABEL)
    assert doing.state is IssueState.IN_PROGRESS and doing.labels == ["bug"]
    closed = mapping.issue_from_wire(
        wire(state="closed", closed_at="2026-01-03T00:00:00Z", labels=[LABEL]),
        in_progress_label=LABEL,
    )
    assert closed.state is IssueState.CLOSED and closed.closed_at is not None
    # Label objects (with_labels_details) are read by name too.
    detailed = mapping.issue_from_wire(wire(labels=[{"name": "Bug"}]), in_progress_label=LABEL)
    assert detailed.labels == ["Bug"]


def test_a_due_day_keeps_the_exact_instant_of_the_hidden_block_while_on_that_day():
    due = datetime(2026, 12, 24, 15, 30, tzinfo=UTC)
    body = issue_body("text", {"k": 1}, due_at=due, priority=1)
    issue = mapping.issue_from_wire(
        wire(description=body, due_date="2026-12-24"), in_progress_label=LABEL
    )
    assert (issue.due_at, issue.priority, issue.sync_metadata) == (due, 1, {"k": 1})
    assert issue.description == "text"
    # Someone moved the day in GitLab's web UI: GitLab's day wins, at midnight UTC.
    moved = mapping.issue_from_wire(
        wire(description=body, due_date="2026-12-27"), in_progress_label=LABEL
    )
    assert moved.due_at == datetime(2026, 12, 27, tzinfo=UTC)
    assert mapping.day_param(datetime(2026, 12, 24, 23, 30, tzinfo=UTC)) == "2026-12-24"


def test_a_milestone_keeps_its_exact_due_instant_in_its_description():
    due = datetime(2027, 1, 15, 12, tzinfo=UTC)
    sent = mapping.milestone_to_wire(
        Milestone(title="v1", description="GA", due_on=due), for_create=True
    )
    assert sent["due_date"] == "2027-01-15" and "state_event" not in sent
    back = mapping.milestone_from_wire(
        {
            "id": 5,
            "title": "v1",
            "description": sent["description"],
            "state": "active",
            "due_date": "2027-01-15",
            "updated_at": "2027-01-01T00:00:00Z",
        }
    )
    assert (back.description, back.due_on, back.closed_at) == ("GA", due, None)
    edit = mapping.milestone_to_wire(Milestone(title="v1", state="closed"), for_create=False)
    assert edit["due_date"] is None and edit["state_event"] == "close"  # None clears the day


def test_system_notes_are_not_comments_and_search_hits_name_their_issue():
    assert mapping.is_user_note({"system": False}) and not mapping.is_user_note({"system": True})
    assert mapping.note_issue_iid({"noteable_type": "Issue", "noteable_iid": 7}) == 7
    assert mapping.note_issue_iid({"noteable_type": "MergeRequest", "noteable_iid": 7}) is None


def test_filter_params():
    assert mapping.filter_params(IssueFilter(), in_progress_label=LABEL) == {
        "state": "opened",
        "sort": "desc",
    }
    doing = mapping.filter_params(
        IssueFilter(state="in_progress", labels=["bug"]), in_progress_label=LABEL
    )
    assert doing["state"] == "opened" and doing["labels"] == f"bug,{LABEL}"
    nobody = mapping.filter_params(
        IssueFilter(state="all", no_assignee=True, no_milestone=True, sort="updated"),
        in_progress_label=LABEL,
    )
    assert nobody == {
        "state": "all",
        "assignee_id": "None",
        "milestone": "None",
        "order_by": "updated_at",
        "sort": "desc",
    }
    some = mapping.filter_params(
        IssueFilter(state="closed", assignee="bob", author="ann", milestone="v1", text="crash"),
        in_progress_label=LABEL,
    )
    assert some["assignee_username"] == "bob" and some["author_username"] == "ann"
    assert (some["milestone"], some["search"], some["state"]) == ("v1", "crash", "closed")
    # A milestone called like one of GitLab's keywords is matched client-side only.
    keyword = mapping.filter_params(IssueFilter(milestone="Any"), in_progress_label=LABEL)
    assert "milestone" not in keyword


def test_a_close_reason_gitlab_has_no_field_for_rides_in_the_hidden_block():
    from issue_core.core.models import CloseReason

    body = issue_body("text", {}, close_reason=CloseReason.NOT_PLANNED)
    closed = mapping.issue_from_wire(
        wire(state="closed", description=body), in_progress_label=LABEL
    )
    assert closed.close_reason is CloseReason.NOT_PLANNED and closed.description == "text"
    # Closed in GitLab's web UI (no block): a plain close; reopened: no reason at all.
    plain = mapping.issue_from_wire(wire(state="closed"), in_progress_label=LABEL)
    assert plain.close_reason is CloseReason.COMPLETED
    reopened = mapping.issue_from_wire(wire(description=body), in_progress_label=LABEL)
    assert reopened.close_reason is None
    assert issue_body("text", {}, close_reason=CloseReason.COMPLETED) == "text"
