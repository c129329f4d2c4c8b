"""Gitea wire JSON <-> domain: the hidden metadata block, in_progress, pull requests, filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issue_core.backends.gitea import mapping
from issue_core.backends.gitea.body import compose_body, split_body
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


def test_metadata_block_round_trips_and_is_hidden_from_the_description():
    body = compose_body("Fix it.\n\nSteps:\n1. x", {"marker": "m-1", "source": "local#3"})
    assert body.endswith("-->")
    assert "\n\n<!-- issue-core:sync-metadata " in body
    description, metadata, token = split_body(body)
    assert description == "Fix it.\n\nSteps:\n1. x"
    assert metadata == {"marker": "m-1", "source": "local#3"}
    assert token is None


def test_metadata_block_survives_a_human_edit_above_it():
    body = compose_body("Original text", {"marker": "abc"})
    edited = body.replace("Original text", "Rewritten by a human\nwith two lines")
    description, metadata, _ = split_body(edited)
    assert description == "Rewritten by a human\nwith two lines"
    assert metadata == {"marker": "abc"}


def test_text_a_human_appends_below_the_block_is_kept():
    body = compose_body("Top", {"k": 1}) + "\n\nAdded later"
    description, metadata, _ = split_body(body)
    assert description == "Top\n\nAdded later" and metadata == {"k": 1}


def test_malformed_block_is_ignored_not_a_crash():
    body = "Text\n\n<!-- issue-core:sync-metadata {not json -->"
    assert split_body(body) == (body, {}, None)
    unterminated = 'Text\n\n<!-- issue-core:sync-metadata {"a": 1}'
    assert split_body(unterminated) == (unterminated, {}, None)
    not_object = "<!-- issue-core:sync-metadata [1,2] -->"
    assert split_body(not_object)[1] == {}
    issue = mapping.issue_from_wire(wire_issue(body=body), in_progress_label=IP)
    assert issue.sync_metadata == {} and issue.description == body


def test_metadata_cannot_close_the_comment_early():
    body = compose_body("d", {"note": "--> <script>", "nested": {"x": [1, "<!--"]}})
    assert body.count("-->") == 1
    assert split_body(body)[1] == {"note": "--> <script>", "nested": {"x": [1, "<!--"]}}


def test_create_token_is_not_sync_metadata():
    body = compose_body("d", {"a": 1}, create_token="tok")
    description, metadata, token = split_body(body)
    assert (description, metadata, token) == ("d", {"a": 1}, "tok")
    assert compose_body("only", {}) == "only"
    assert split_body(compose_body("", {"a": 1})) == ("", {"a": 1}, None)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


user_keys = st.text().filter(lambda key: not key.startswith("issue-core:"))


@given(st.text(), st.dictionaries(user_keys, json_values, max_size=4))
def test_any_description_and_metadata_round_trip(description, metadata):
    assert split_body(compose_body(description, metadata)) == (description, metadata, None)


def test_metadata_keys_in_the_reserved_namespace_are_refused_not_dropped():
    from issue_core.core.errors import ValidationError

    with pytest.raises(ValidationError, match="reserved prefix"):
        compose_body("text", {"issue-core:priority": 1, "mine": 2})


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
