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
        IssueFilter(sort="priority")


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
