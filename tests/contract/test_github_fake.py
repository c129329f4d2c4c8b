"""PyGithub accepts the fake GitHub: a client built against the real service, driven against the
fake (Enterprise ``/api/v3`` base and api.github.com-style root) for what the GitHub backend
uses. A fake PyGithub rejects has drifted. Every exchange is also held to GitHub's OpenAPI
description (``recorder.assert_clean()`` here, and again by the ``fake_github`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from github import Auth, Github, GithubException  # PyGithub, a dev dependency

from tests.fakes.github import OWNER_TOKEN
from tests.fakes.github_fixtures import RunningGitHub


@pytest.fixture(params=["ghes", "root"])
def client(request: pytest.FixtureRequest, fake_github: RunningGitHub) -> Iterator[Github]:
    base = fake_github.api_url if request.param == "ghes" else fake_github.base_url
    gh = Github(
        auth=Auth.Token(OWNER_TOKEN),
        base_url=base,
        retry=None,
        timeout=5,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    try:
        yield gh
    finally:
        gh.close()
    fake_github.recorder.assert_clean()


def test_list_with_filters_and_paging(fake_github: RunningGitHub, client: Github) -> None:
    fake = fake_github.fake
    fake.add_collaborator("bob")
    milestone = fake.add_milestone("v1")
    for index in range(45):
        fake.add_issue(f"i{index}", created=1000 + index, labels=["bug"] if index % 3 == 0 else [])
    fake.add_issue("assigned", assignees=["bob"], milestone=milestone.number, created=2000)
    fake.add_issue("closed", state="closed", state_reason="not_planned", created=2001)
    fake.add_pull_request("a pull request", created=2002)
    repo = client.get_repo("alice/tracker")
    everything = list(repo.get_issues(state="all"))
    assert len(everything) == 48  # PyGithub pages through all, pull requests included
    assert [i.title for i in everything[:3]] == ["a pull request", "closed", "assigned"]
    assert everything[0].pull_request is not None and everything[1].pull_request is None
    assert repo.get_issues().totalCount == 47  # from the Link header's last page
    assert len(repo.get_issues().get_page(1)) == 17
    assert [i.title for i in reversed(repo.get_issues(direction="asc"))][:2] == [
        "a pull request",
        "assigned",
    ]
    labelled = repo.get_issues(labels=[repo.get_label("bug")])
    assert {i.title for i in labelled} == {f"i{n}" for n in range(0, 45, 3)}
    assert [i.title for i in repo.get_issues(milestone=repo.get_milestone(1))] == ["assigned"]
    assert [i.title for i in repo.get_issues(assignee="bob")] == ["assigned"]
    assert [i.title for i in repo.get_issues(state="closed")] == ["closed"]
    later = datetime.now(UTC) + timedelta(days=1)
    assert list(repo.get_issues(since=later)) == []
    closed = repo.get_issue(47)
    assert closed.state == "closed" and closed.state_reason == "not_planned"


def test_create_edit_and_close_with_a_reason(fake_github: RunningGitHub, client: Github) -> None:
    fake_github.fake.add_collaborator("bob")
    repo = client.get_repo("alice/tracker")
    milestone = repo.create_milestone("v1", description="first", due_on=date(2026, 12, 24))
    created = repo.create_issue(
        "Broken", body="It fails", labels=["bug"], assignees=["bob"], milestone=milestone
    )
    assert created.number == 1 and created.user.login == "alice"
    assert [label.name for label in created.labels] == ["bug"]
    assert [user.login for user in created.assignees] == ["bob"]
    assert created.milestone.number == milestone.number
    created.edit(title="Still broken", body="edited")
    assert repo.get_issue(1).title == "Still broken"
    created.edit(state="closed", state_reason="not_planned")
    fetched = repo.get_issue(1)
    assert fetched.state == "closed" and fetched.state_reason == "not_planned"
    assert fetched.closed_by.login == "alice" and fetched.closed_at is not None
    fetched.edit(state="open")
    assert repo.get_issue(1).state_reason == "reopened"
    fetched.edit(state="closed", state_reason="duplicate")
    assert repo.get_issue(1).state_reason == "duplicate"
    fetched.edit(milestone=None)
    assert repo.get_issue(1).milestone is None


def test_labels(fake_github: RunningGitHub, client: Github) -> None:
    repo = client.get_repo("alice/tracker")
    label = repo.create_label("P1", "ff0000", description="urgent")
    assert (label.name, label.color, label.description) == ("P1", "ff0000", "urgent")
    label.edit("P0", "00ff00", "now")
    assert repo.get_label("P0").color == "00ff00"
    issue = repo.create_issue("t")
    issue.add_to_labels("P0", "new")
    assert [lb.name for lb in issue.get_labels()] == ["new", "P0"]  # GitHub lists them by name
    issue.remove_from_labels("new")
    issue.set_labels("a", "b")
    assert [lb.name for lb in repo.get_issue(1).labels] == ["a", "b"]
    issue.delete_labels()
    assert repo.get_issue(1).labels == []
    assert sorted(lb.name for lb in repo.get_labels()) == ["P0", "a", "b", "new"]
    repo.get_label("a").delete()
    with pytest.raises(GithubException) as caught:
        repo.get_label("a")
    assert caught.value.status == 404


def test_milestones(fake_github: RunningGitHub, client: Github) -> None:
    repo = client.get_repo("alice/tracker")
    first = repo.create_milestone("v1")
    repo.create_milestone("v2", state="closed")
    assert [m.title for m in repo.get_milestones()] == ["v1"]
    assert [m.title for m in repo.get_milestones(state="all")] == ["v1", "v2"]
    repo.create_issue("in v1", milestone=first)
    assert repo.get_milestone(1).open_issues == 1
    first.edit("v1.0", state="closed", description="done")
    again = repo.get_milestone(1)
    assert (again.title, again.state, again.description) == ("v1.0", "closed", "done")
    again.delete()
    assert repo.get_issue(1).milestone is None


def test_comments(fake_github: RunningGitHub, client: Github) -> None:
    repo = client.get_repo("alice/tracker")
    issue = repo.create_issue("t")
    other = repo.create_issue("u")
    first = issue.create_comment("one")
    other.create_comment("two")
    issue.create_comment("three")
    assert [c.body for c in issue.get_comments()] == ["one", "three"]
    assert [c.body for c in repo.get_issues_comments()] == ["one", "two", "three"]
    newest = repo.get_issues_comments(sort="created", direction="desc")
    assert [c.body for c in newest] == ["three", "two", "one"]
    assert list(issue.get_comments(since=datetime.now(UTC) + timedelta(days=1))) == []
    first.edit("uno")
    assert issue.get_comment(first.id).body == "uno"
    first.delete()
    assert [c.body for c in issue.get_comments()] == ["three"]
    assert repo.get_issue(1).comments == 1


def test_issue_events_and_timeline(fake_github: RunningGitHub, client: Github) -> None:
    fake_github.fake.add_collaborator("bob")
    repo = client.get_repo("alice/tracker")
    issue = repo.create_issue("watched", labels=["bug"])
    issue.edit(title="watched closely", assignees=["bob"])
    issue.create_comment("on it")
    issue.edit(state="closed", state_reason="not_planned")
    names = [e.event for e in issue.get_events()]
    assert names == ["labeled", "renamed", "assigned", "closed"]
    renamed = issue.get_events()[1]
    assert renamed.rename == {"from": "watched", "to": "watched closely"}
    assert renamed.actor.login == "alice" and renamed.created_at is not None
    timeline = list(issue.get_timeline())
    assert [t.event for t in timeline] == ["labeled", "renamed", "assigned", "commented", "closed"]
    assert timeline[3].body == "on it"
    everything = list(repo.get_issues_events())  # newest first, each with its issue
    assert [e.event for e in everything] == ["closed", "assigned", "renamed", "labeled"]
    assert everything[0].issue.number == issue.number
    assert repo.get_issues_event(everything[0].id).event == "closed"


def test_assignees_and_user(fake_github: RunningGitHub, client: Github) -> None:
    fake_github.fake.add_collaborator("bob")
    repo = client.get_repo("alice/tracker")
    assert sorted(u.login for u in repo.get_assignees()) == ["alice", "bob"]
    assert repo.has_in_assignees("bob") and not repo.has_in_assignees("mallory")
    issue = repo.create_issue("t")
    issue.add_to_assignees("bob")
    assert [u.login for u in repo.get_issue(1).assignees] == ["bob"]
    issue.remove_from_assignees("bob")
    assert repo.get_issue(1).assignees == []
    me = client.get_user()
    assert me.login == "alice" and me.id == fake_github.fake.state.users["alice"].id
    assert client.get_user("bob").login == "bob"
    assert client.get_rate_limit().resources.core.limit == 5000


def test_conditional_refresh_and_errors(fake_github: RunningGitHub, client: Github) -> None:
    repo = client.get_repo("alice/tracker")
    issue = repo.create_issue("t")
    fetched = repo.get_issue(1)
    assert fetched.update() is False  # If-None-Match answered 304: nothing changed
    issue.edit(title="changed")
    assert fetched.update() is True and fetched.title == "changed"
    with pytest.raises(GithubException) as missing:
        client.get_repo("alice/missing")
    assert missing.value.status == 404 and missing.value.data["message"] == "Not Found"
    with pytest.raises(GithubException) as invalid:
        repo.create_issue("t", milestone=repo.create_milestone("m")).edit(
            state="closed", state_reason="reopened"
        )
    assert invalid.value.status == 422


def test_pygithub_reads_the_fakes_faults_as_githubs(
    fake_github: RunningGitHub, client: Github
) -> None:
    """The fake's error answers are the ones PyGithub recognises from the real service."""
    from github import (
        BadCredentialsException,
        RateLimitExceededException,
        UnknownObjectException,
    )

    fake = fake_github.fake
    fake.add_issue("t")
    with pytest.raises(UnknownObjectException):
        client.get_repo("alice/tracker").get_issue(99)
    fake.rename("renamed")
    moved = client.get_repo("alice/tracker")  # PyGithub follows GitHub's 301
    assert moved.full_name == "alice/renamed" and moved.get_issue(1).title == "t"
    fake.secondary_limit(method="GET", path="/issues/1$")
    with pytest.raises(RateLimitExceededException) as secondary:
        moved.get_issue(1)
    assert secondary.value.headers.get("retry-after") == "60"
    fake.exhaust_rate_limit()
    with pytest.raises(RateLimitExceededException):
        moved.get_issue(1)
    stranger = Github(auth=Auth.Token("ghp_unknown"), base_url=fake_github.api_url, retry=None)
    with pytest.raises(BadCredentialsException):
        stranger.get_user().login  # noqa: B018 - the attribute read makes the request
