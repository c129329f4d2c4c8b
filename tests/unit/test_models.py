from datetime import UTC, datetime

import pytest

from issue_core.core.errors import ValidationError
from issue_core.core.models import (
    Comment,
    Issue,
    IssueFilter,
    IssueState,
    Milestone,
    format_ts,
    parse_ts,
    validate_color,
    validate_title,
)


def test_issue_round_trips_through_json_shape():
    issue = Issue(
        title="Fix it",
        description="body",
        state="in-progress",
        labels=["bug", "bug", "p1"],
        assignees=["ann"],
        number=3,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        sync_metadata={"k": [1, 2]},
        comments=[Comment(body="hi", author="bob")],
    )
    data = issue.to_dict()
    assert data["state"] == "in_progress"
    assert data["labels"] == ["bug", "p1"]
    assert data["assignee"] == "ann"
    assert data["created_at"] == "2026-01-02T03:04:05Z"
    assert Issue.from_dict(data).to_dict() == data


def test_changed_fields_tracks_edits_since_load():
    issue = Issue(title="a", labels=["x"]).mark_loaded()
    assert issue.changed_fields() == []
    issue.labels.append("y")
    issue.state = IssueState.CLOSED
    assert issue.changed_fields() == ["state", "labels"]
    assert Issue(title="fresh").changed_fields()[0] == "title"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 256, "two\nlines"])
def test_bad_titles_are_rejected(bad):
    with pytest.raises(ValidationError):
        validate_title(bad)


def test_state_parsing_accepts_spellings_and_rejects_unknown():
    assert IssueState.parse("In Progress") is IssueState.IN_PROGRESS
    with pytest.raises(ValidationError, match="unknown state 'done'"):
        IssueState.parse("done")


def test_filter_normalises_and_validates():
    f = IssueFilter(state="all", labels="bug", updated_since="2026-01-01")
    assert f.state is None and f.labels == ["bug"]
    assert f.updated_since == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError):
        IssueFilter(limit=0)
    with pytest.raises(ValidationError):
        IssueFilter(sort="comments")


def test_filter_matches_reference_semantics():
    issue = Issue(title="t", labels=["a", "b"], assignees=["x"], state="open")
    assert IssueFilter(state="open", labels=["a"], assignee="x").matches(issue)
    assert not IssueFilter(state="closed").matches(issue)
    assert not IssueFilter(labels=["a", "c"]).matches(issue)


def test_timestamps_are_utc_with_z():
    assert format_ts(parse_ts("2026-11-25T10:00:00+02:00")) == "2026-11-25T08:00:00Z"
    with pytest.raises(ValidationError):
        parse_ts("yesterday")


def test_colour_and_milestone_shapes():
    assert validate_color("#F00") == "ff0000"
    with pytest.raises(ValidationError):
        validate_color("red")
    m = Milestone(title="v1", state="closed")
    assert Milestone.from_dict(m.to_dict()).state.value == "closed"


def test_filter_accepts_several_states():
    assert IssueFilter(state="open,in-progress").states == (IssueState.OPEN, IssueState.IN_PROGRESS)
    assert IssueFilter(state=["open", "in_progress"]).state is None
    assert IssueFilter(state=["closed"]).state is IssueState.CLOSED
    assert IssueFilter(state=["open", "in_progress", "closed"]).states is None
    assert IssueFilter(state=["open", "all"]).states is None
    assert IssueFilter(state="open,in_progress").excludes_closed
    with pytest.raises(ValidationError):
        IssueFilter(state="open,finished")


# --------------------------------------------------------------------------- priority, due date


def test_priority_accepts_numbers_names_and_p_forms():
    from issue_core.core.models import parse_priority

    assert [parse_priority(v) for v in (0, "4", "p1", "High", " medium ", "backlog")] == [
        0,
        4,
        1,
        1,
        2,
        4,
    ]
    assert parse_priority(None) is None and parse_priority("") is None
    for bad in (5, -1, "urgent", "p9", "1.5", True):
        with pytest.raises(ValidationError):
            parse_priority(bad)


def test_priority_and_due_round_trip_and_are_coerced_on_assignment():
    issue = Issue(title="t", priority="critical", due_at=datetime(2026, 12, 24, tzinfo=UTC))
    data = issue.to_dict()
    assert (data["priority"], data["priority_name"], data["due_at"]) == (
        0,
        "critical",
        "2026-12-24T00:00:00Z",
    )
    assert list(data)[-5:-2] == ["due_at", "priority", "priority_name"]  # appended: order grows
    again = Issue.from_dict(data)
    assert (again.priority, again.due_at) == (0, issue.due_at)
    again.priority = "low"
    again.due_at = "2027-01-01"  # type: ignore[assignment]
    assert again.priority == 3 and again.due_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert again.mark_loaded().changed_fields() == []
    again.priority = None
    assert again.changed_fields() == ["priority"]


def test_filter_no_assignee_and_no_milestone():
    loose = Issue(title="loose")
    assigned = Issue(title="assigned", assignees=["ann"])
    planned = Issue(title="planned", milestone="v1")
    nobody = IssueFilter(no_assignee=True)
    assert [i.title for i in (loose, assigned, planned) if nobody.matches(i)] == [
        "loose",
        "planned",
    ]
    unplanned = IssueFilter(no_milestone=True)
    assert [i.title for i in (loose, assigned, planned) if unplanned.matches(i)] == [
        "loose",
        "assigned",
    ]
    assert "no_assignee=True" in repr(nobody)
    assert IssueFilter(no_assignee=True) != IssueFilter()
    with pytest.raises(ValidationError, match="not both"):
        IssueFilter(assignee="ann", no_assignee=True)
    with pytest.raises(ValidationError, match="not both"):
        IssueFilter(milestone="v1", no_milestone=True)


def test_close_reason_parses_gh_spellings_and_refuses_others():
    from issue_core.core.models import CloseReason, close_reason_for

    assert CloseReason.parse("Not planned") is CloseReason.NOT_PLANNED
    assert CloseReason.parse("not-planned") is CloseReason.NOT_PLANNED
    assert CloseReason.parse("") is None and CloseReason.parse(None) is None
    with pytest.raises(ValidationError, match="wontfix"):
        CloseReason.parse("wontfix")
    assert close_reason_for(IssueState.CLOSED, None) is CloseReason.COMPLETED
    assert close_reason_for(IssueState.OPEN, "duplicate") is None
    issue = Issue("x", state="closed", close_reason="duplicate", node_id="I_kwDO")
    data = issue.to_dict()
    assert (data["close_reason"], data["node_id"]) == ("duplicate", "I_kwDO")
    assert list(data)[-2:] == ["close_reason", "node_id"]  # appended: the order only grows
    assert Issue.from_dict(data).close_reason is CloseReason.DUPLICATE
    assert "close_reason" in issue.editable_snapshot()
