"""python-gitlab, a client built against the real GitLab, accepts the fake GitLab.

It drives the operations issue-core's GitLab backend uses (list with filters and paging, offset
and keyset, get, create, edit, close/reopen, labels, project and group milestones, notes, the
user); a fake it rejects, or that answers it differently from GitLab, has drifted. Every
exchange is contract-checked by the ``fake_gitlab`` fixture (requests against gitbeaker's
options, responses against GitLab's schemas).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.gitlab import OWNER_TOKEN
from tests.fakes.gitlab_fixtures import RunningGitLab

gitlab = pytest.importorskip("gitlab")


@pytest.fixture
def gl(fake_gitlab: RunningGitLab) -> Any:
    client = gitlab.Gitlab(fake_gitlab.base_url, private_token=OWNER_TOKEN, timeout=10)
    client.auth()
    return client


@pytest.fixture
def project(gl: Any) -> Any:
    return gl.projects.get("group/sub/repo")


def test_user_version_and_project_by_nested_path(gl: Any, fake_gitlab: RunningGitLab) -> None:
    assert gl.user.username == "owner"
    assert gl.version()[0] == fake_gitlab.fake.version
    fake_gitlab.fake.add_member("bob", 30)
    assert [u.username for u in gl.users.list(username="bob")] == ["bob"]
    project = gl.projects.get("group/sub/repo")
    assert project.path_with_namespace == "group/sub/repo"
    assert gl.projects.get(project.id).id == project.id
    with pytest.raises(gitlab.exceptions.GitlabGetError) as missing:
        gl.projects.get("group/nope")
    assert missing.value.response_code == 404
    assert "404 Project Not Found" in str(missing.value)


def test_create_get_edit_close_reopen(project: Any, fake_gitlab: RunningGitLab) -> None:
    bob = fake_gitlab.fake.add_member("bob", 30)
    created = project.issues.create(
        {"title": "First", "description": "body", "labels": ["bug", "ui"], "assignee_ids": [bob.id]}
    )
    assert created.iid == 1 and created.id != created.iid
    assert created.labels == ["bug", "ui"] and created.assignees[0]["username"] == "bob"
    issue = project.issues.get(1)
    issue.title = "First, renamed"
    issue.state_event = "close"
    issue.save()
    assert issue.state == "closed" and issue.title == "First, renamed"
    again = project.issues.get(1)
    assert again.state == "closed" and again.attributes["closed_by"]["username"] == "owner"
    again.state_event = "reopen"
    again.labels = ["ui"]
    again.save()
    assert again.state == "opened" and again.labels == ["ui"]
    assert fake_gitlab.fake.issue(1).labels == ["ui"]


def test_list_with_filters(project: Any, fake_gitlab: RunningGitLab) -> None:
    fake = fake_gitlab.fake
    fake.add_issue("crash", labels=["bug"])
    fake.add_issue("docs", labels=["docs"], closed=True)
    fake.add_issue("crash again", labels=["bug", "ui"])

    def iids(**filters: Any) -> list[int]:
        return sorted(i.iid for i in project.issues.list(get_all=True, **filters))

    assert iids() == [1, 2, 3]
    assert iids(state="opened") == [1, 3]
    assert iids(labels=["bug", "ui"]) == [3]
    assert iids(search="crash", state="opened") == [1, 3]
    assert iids(author_username="owner", state="closed") == [2]
    assert iids(iids=[1, 2]) == [1, 2]
    ordered = project.issues.list(get_all=True, order_by="created_at", sort="asc")
    assert [i.iid for i in ordered] == [1, 2, 3]


def test_offset_paging(project: Any, fake_gitlab: RunningGitLab) -> None:
    for n in range(7):
        fake_gitlab.fake.add_issue(f"issue {n}")
    page = project.issues.list(per_page=3, page=2, get_all=False)
    assert [i.iid for i in page] == [4, 3, 2]
    walked = project.issues.list(per_page=3, iterator=True)
    assert (walked.current_page, walked.next_page, walked.prev_page) == (1, 2, None)
    assert (walked.per_page, walked.total, walked.total_pages) == (3, 7, 3)
    assert [i.iid for i in walked] == [7, 6, 5, 4, 3, 2, 1]
    everything = project.issues.list(get_all=True, per_page=2)
    assert len(everything) == 7


def test_keyset_paging(project: Any, fake_gitlab: RunningGitLab) -> None:
    for n in range(5):
        fake_gitlab.fake.add_issue(f"issue {n}")
    fake_gitlab.reset_count()
    walked = project.issues.list(
        pagination="keyset", order_by="id", sort="asc", per_page=2, iterator=True
    )
    assert [i.iid for i in walked] == [1, 2, 3, 4, 5]
    requests = fake_gitlab.requests()
    assert len(requests) == 3 and all("cursor=" in r.query for r in requests[1:])


def test_labels(project: Any, fake_gitlab: RunningGitLab) -> None:
    fake_gitlab.fake.add_group_label("group-wide")
    label = project.labels.create({"name": "feature", "color": "#5843AD"})
    assert label.color == "#5843AD" and label.is_project_label
    label.description = "new things"
    label.save()
    assert project.labels.get("feature").description == "new things"
    names = {lab.name: lab.is_project_label for lab in project.labels.list(get_all=True)}
    assert names == {"feature": True, "group-wide": False}
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as clash:
        project.labels.create({"name": "FEATURE", "color": "#000000"})
    assert clash.value.response_code == 409
    label.delete()
    assert [lab.name for lab in project.labels.list(get_all=True)] == ["group-wide"]


def test_project_and_group_milestones(gl: Any, project: Any, fake_gitlab: RunningGitLab) -> None:
    milestone = project.milestones.create({"title": "v1", "due_date": "2026-12-24"})
    assert milestone.due_date == "2026-12-24" and milestone.state == "active"
    milestone.state_event = "close"
    milestone.save()
    assert project.milestones.get(milestone.id).state == "closed"
    group = gl.groups.get("group", lazy=True)
    quarter = group.milestones.create({"title": "Q1"})
    assert quarter.group_id == fake_gitlab.fake.state.group_by_path("group").id
    issue = project.issues.create({"title": "planned", "milestone_id": quarter.id})
    assert issue.milestone["title"] == "Q1" and issue.milestone["group_id"] == quarter.group_id
    with_groups = project.milestones.list(include_ancestors=True, get_all=True)
    assert {m.title for m in with_groups} == {"v1", "Q1"}
    assert [i.iid for i in project.issues.list(milestone="Q1", get_all=True)] == [issue.iid]


def test_notes(project: Any) -> None:
    issue = project.issues.create({"title": "talk"})
    note = issue.notes.create({"body": "first"})
    assert note.body == "first" and note.system is False
    note.body = "first, edited"
    note.save()
    issue.title = "talk more"
    issue.save()
    notes = issue.notes.list(get_all=True, sort="asc")
    renamed = "changed title from **talk** to **talk{+ more+}**"
    assert [(n.body, n.system) for n in notes] == [("first, edited", False), (renamed, True)]
    issue.notes.get(note.id).delete()
    assert [n.body for n in issue.notes.list(get_all=True)] == [renamed]


def test_resource_events(project: Any, fake_gitlab: RunningGitLab) -> None:
    """State, label and milestone changes as GitLab 13+ records them: resource events (one
    label per row, labels and milestone of the creation too), read through python-gitlab's
    managers over several pages; no system note of theirs."""
    v1 = project.milestones.create({"title": "v1"})
    issue = project.issues.create({"title": "evented", "labels": "a,b", "milestone_id": v1.id})
    issue.labels = ["b", "c"]
    issue.milestone_id = 0
    issue.state_event = "close"
    issue.save()
    issue.state_event = "reopen"
    issue.save()
    labels = issue.resourcelabelevents.list(get_all=True, per_page=2)
    assert [(e.action, e.label["name"]) for e in labels] == [
        ("add", "a"), ("add", "b"), ("add", "c"), ("remove", "a"),
    ]  # fmt: skip
    assert {e.user["username"] for e in labels} == {"owner"}
    assert {(e.resource_type, e.resource_id) for e in labels} == {("Issue", issue.id)}
    milestones = issue.resourcemilestoneevents.list(get_all=True, per_page=1)
    assert [(e.action, e.milestone["title"]) for e in milestones] == [
        ("add", "v1"),
        ("remove", "v1"),
    ]
    states = issue.resourcestateevents.list(get_all=True, per_page=1)
    assert [e.state for e in states] == ["closed", "opened"]
    assert issue.resourcestateevents.get(states[0].id).state == "closed"
    assert not [n for n in issue.notes.list(get_all=True) if n.system]
