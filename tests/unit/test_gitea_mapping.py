"""Gitea wire JSON <-> domain: the hidden metadata block, in_progress, pull requests, filters."""

from __future__ import annotations

from datetime import UTC, datetime

from issue_core.backends.gitea import mapping
from issue_core.core.models import IssueFilter, IssueState

IP = "status/in-progress"


def wire_issue(**overrides):
    raw = {
        "id": 30475,
        "number": 4,
        "title": "what is this repo about?",
        "body": "",
        "state": "open",
        "labels": [{"id": 3733, "name": "Question", "color": "fbca04"}],
        "milestone": {"id": 1300, "title": "V1", "state": "closed"},
        "assignee": None,
        "assignees": None,
        "user": {"id": -1, "login": "Ghost"},
        "comments": 2,
        "created_at": "2020-09-01T15:48:41Z",
        "updated_at": "2020-09-01T15:50:00Z",
        "closed_at": None,
        "pull_request": None,
        "html_url": "https://gitea.com/gitea/test_repo/issues/4",
        "content_version": 3,
    }
    raw.update(overrides)
    return raw


def test_recorded_issue_maps_to_the_domain():
    issue = mapping.issue_from_wire(wire_issue(), in_progress_label=IP)
    assert issue.number == 4 and issue.id == "30475"
    assert issue.labels == ["Question"] and issue.milestone == "V1"
    assert issue.assignees == [] and issue.author == "Ghost" and issue.comments_count == 2
    assert issue.state is IssueState.OPEN
    assert issue.updated_at == datetime(2020, 9, 1, 15, 50, tzinfo=UTC)
    assert issue.version == int(issue.updated_at.timestamp() * 1000)
    assert issue.url == "https://gitea.com/gitea/test_repo/issues/4"
    assert issue.loaded_snapshot is not None and issue.changed_fields() == []


def test_in_progress_is_open_plus_the_label_and_the_label_is_hidden():
    raw = wire_issue(labels=[{"id": 1, "name": "bug"}, {"id": 9, "name": IP}])
    issue = mapping.issue_from_wire(raw, in_progress_label=IP)
    assert issue.state is IssueState.IN_PROGRESS
    assert issue.labels == ["bug"]
    closed = mapping.issue_from_wire({**raw, "state": "closed"}, in_progress_label=IP)
    assert closed.state is IssueState.CLOSED


def test_pull_requests_are_recognised():
    assert mapping.is_pull_request(wire_issue(pull_request={"merged": False}))
    assert not mapping.is_pull_request(wire_issue())


def test_malformed_block_is_part_of_the_description():
    body = "Text\n\n<!-- issue-core:sync-metadata {not json -->"
    issue = mapping.issue_from_wire(wire_issue(body=body), in_progress_label=IP)
    assert issue.sync_metadata == {} and issue.description == body


def test_filter_params_push_down_what_gitea_supports():
    query = IssueFilter(
        state="open",
        labels=["bug", "priority:critical"],
        assignee="agent-coder",
        author="alice",
        milestone="v1",
        text="crash",
        updated_since="2026-11-01T10:00:00.5Z",
    )
    params = mapping.filter_params(query, in_progress_label=IP)
    assert params == {
        "type": "issues",
        "state": "open",
        "labels": "bug,priority:critical",
        "milestones": "v1",
        "assigned_by": "agent-coder",
        "created_by": "alice",
        "q": "crash",
        "since": "2026-11-01T10:00:00Z",
    }
    in_progress = mapping.filter_params(IssueFilter(state="in_progress"), in_progress_label=IP)
    assert in_progress["state"] == "open" and in_progress["labels"] == IP
    assert mapping.filter_params(IssueFilter(state="all"), in_progress_label=IP)["state"] == "all"


def test_labels_and_milestones_and_users():
    label = mapping.label_from_wire({"id": 5, "name": "bug", "color": "#EE0701", "description": ""})
    assert (label.name, label.color, label.id, label.description) == ("bug", "ee0701", "5", None)
    assert mapping.label_to_wire(label, for_create=True)["color"] == "#ee0701"
    milestone = mapping.milestone_from_wire(
        {
            "id": 2,
            "title": "V2",
            "state": "open",
            "due_on": None,
            "open_issues": 3,
            "created_at": "0001-01-01T00:00:00Z",
        }
    )
    assert milestone.title == "V2" and milestone.open_issues == 3 and milestone.created_at is None
    user = mapping.user_from_wire({"login": "6543", "full_name": "", "email": "x@y"})
    assert (user.username, user.name, user.email) == ("6543", None, "x@y")


def test_the_issue_of_a_comment_comes_from_its_issue_url() -> None:
    from issue_core.backends.gitea.mapping import comment_issue_number

    base = "https://gitea.example/acme/widgets"
    assert comment_issue_number({"issue_url": f"{base}/issues/6"}) == 6
    assert comment_issue_number({"issue_url": "", "pull_request_url": f"{base}/pulls/6"}) is None
    assert comment_issue_number({}) is None
    assert comment_issue_number({"issue_url": f"{base}/issues/six"}) is None
