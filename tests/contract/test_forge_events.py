"""What the event log of Gitea and GitHub adds to the contract suite (``test_event_stream``):
their history read across many pages, the claim markers as claim events, each forge's own
mapping, an idle watcher's cost on GitHub (conditional requests only, no budget spent) and a
Gitea without the timeline API. Against the fakes, every exchange checked against the
Swagger / OpenAPI description."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from issue_core.backends.gitea import GiteaBackend
from issue_core.backends.github import GitHubBackend
from issue_core.backends.gitlab import GitLabBackend
from issue_core.core.dependencies import Link, LinkKind
from issue_core.core.errors import ConfigError, Unsupported
from issue_core.core.models import Issue, IssueState
from tests.contract.forge_backends import SUITE_USERS


@pytest.fixture
def gitea_options():
    return {"max_response_items": 3, "default_paging_num": 3}  # every list spans pages


@pytest.fixture
def gitea(fake_gitea, tmp_path, monkeypatch) -> Iterator[GiteaBackend]:
    for login in SUITE_USERS:
        fake_gitea.fake.add_collaborator(login)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    backend = GiteaBackend()
    backend.connect(fake_gitea.backend_config())
    yield backend
    backend.close()


@pytest.fixture
def github(fake_github, tmp_path, monkeypatch) -> Iterator[GitHubBackend]:
    for login in SUITE_USERS:
        fake_github.fake.add_collaborator(login)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    backend = GitHubBackend()
    backend.connect(fake_github.backend_config(page_size=3))  # every list spans pages
    yield backend
    backend.close()


@pytest.fixture
def gitlab(fake_gitlab, tmp_path, monkeypatch) -> Iterator[GitLabBackend]:
    for login in SUITE_USERS:
        fake_gitlab.fake.add_member(login)
    fake_gitlab.fake.state.blocked_issues_licensed = True  # a paid tier: native blocks links
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    backend = GitLabBackend()
    backend.connect(fake_gitlab.backend_config(page_size=3))  # every list spans pages
    yield backend
    backend.close()


@pytest.fixture(params=["gitea", "github", "gitlab"])
def forge(request):
    return request.getfixturevalue(request.param)


def _drain(backend, cursor=None, *, limit=500):
    seen = []
    while True:
        page = backend.list_events(since=cursor, limit=limit)
        seen.extend(page)
        if len(page) < limit:
            return seen
        cursor = page[-1].cursor


def test_many_pages_of_history_are_read_once_each(forge):
    numbers = [forge.create_issue(Issue(title=f"issue {n}")).number for n in range(4)]
    for n in numbers:
        for k in range(4):
            forge.add_comment(n, f"{n}.{k}")
    events = _drain(forge)
    bodies = [e.data["body"] for e in events if e.kind == "commented"]
    assert sorted(bodies) == sorted(f"{n}.{k}" for n in numbers for k in range(4))
    assert len([e for e in events if e.kind == "created"]) == 4
    per_issue = forge.list_events(numbers[0])
    assert [e.kind for e in per_issue] == ["created"] + ["commented"] * 4
    # Resuming from any cursor of a small page gives the rest, whatever the HTTP pages.
    assert [e.cursor for e in _drain(forge, limit=5)] == [e.cursor for e in events]


def test_claims_are_claim_events_not_comments(forge):
    number = forge.create_issue(Issue(title="claimed")).number
    forge.agent = "worker-1"
    forge.claim(number, ttl_s=3600)
    forge.heartbeat(number, ttl_s=7200)
    forge.release(number)
    events = forge.list_events(number)
    claims = [e for e in events if e.kind in ("claimed", "heartbeat", "released")]
    assert [e.kind for e in claims] == ["claimed", "heartbeat", "released"]
    assert {e.actor for e in claims} == {"worker-1"}
    assert claims[0].data["holder"] == "worker-1" and claims[0].data["expires_at"]
    assert claims[2].data["forced"] is False
    assert not [e for e in events if e.kind == "commented"]  # a marker is no plain comment
    states = [e.data["changes"]["state"] for e in events if e.kind == "state"]
    assert {"before": "open", "after": "in_progress"} in states


def test_labels_assignees_state_and_title_as_the_forge_records_them(forge):
    number = forge.create_issue(Issue(title="old"), create_labels=True).number
    head = forge.event_cursor()
    issue = forge.get_issue_by_number(number)
    issue.title, issue.labels, issue.assignees = "new", ["bug"], ["ann"]
    forge.update_issue(issue, create_labels=True)
    issue = forge.get_issue_by_number(number)
    issue.labels, issue.state = [], IssueState.CLOSED
    forge.update_issue(issue)
    changes = [e.data["changes"] for e in forge.list_events(number, since=head)]
    assert {"title": {"before": "old", "after": "new"}} in changes
    assert {"labels": {"added": ["bug"]}} in changes
    assert {"labels": {"removed": ["bug"]}} in changes
    assert {"assignees": {"added": ["ann"]}} in changes
    assert any(c.get("state", {}).get("after") == "closed" for c in changes)
    assert forge.list_events(number)[0].data["title"] == "old"  # created with its first title


def test_dependencies_are_link_events_on_both_issues(forge):
    blocker = forge.create_issue(Issue(title="blocker")).number
    blocked = forge.create_issue(Issue(title="blocked")).number
    forge.add_link(Link(LinkKind.BLOCKS, blocker, blocked))
    forge.remove_link(Link(LinkKind.BLOCKS, blocker, blocked))
    for number in (blocker, blocked):
        kinds = [(e.kind, e.data.get("kind")) for e in forge.list_events(number)]
        assert ("linked", "blocks") in kinds and ("unlinked", "blocks") in kinds, kinds


def test_github_links_name_the_blocker_and_the_blocked(github):
    blocker = github.create_issue(Issue(title="blocker")).number
    blocked = github.create_issue(Issue(title="blocked")).number
    github.add_link(Link(LinkKind.BLOCKS, blocker, blocked))
    for number in (blocker, blocked):
        (linked,) = [e for e in github.list_events(number) if e.kind == "linked"]
        assert linked.data == {"kind": "blocks", "source": blocker, "target": blocked}


def test_an_idle_github_watch_spends_nothing_of_the_budget(github, fake_github):
    number = github.create_issue(Issue(title="quiet")).number
    github.add_comment(number, "hello")
    head = github.event_cursor()
    assert github.list_events(since=head) == []
    budget = fake_github.fake._budget("alice", fake_github.fake.rate_limit)
    used = budget.used
    stats = github.http.stats
    stats.reset()
    assert github.wait_for_events(head, 0.3, interval=0.05) is False
    assert stats.requests >= 6  # several looks, each a few requests ...
    assert stats.not_modified == stats.requests  # ... every one answered 304
    assert budget.used == used
    github.add_comment(number, "news")
    assert github.wait_for_events(head, 5.0, interval=0.05) is True


def test_a_gitea_without_the_timeline_api_says_so(gitea, fake_gitea):
    number = gitea.create_issue(Issue(title="x")).number
    fake_gitea.fake.timeline_api = False  # a Gitea before 1.15
    with pytest.raises(Unsupported, match="no issue timeline"):
        gitea.list_events(number)
    with pytest.raises(Unsupported, match="no issue timeline"):
        gitea.list_events()


def test_the_watch_interval_setting_paces_an_idle_watch(fake_gitea, tmp_path, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(seconds)

    paced = GiteaBackend(sleep=pause)
    paced.connect(fake_gitea.backend_config(watch_interval="0.2"))
    try:
        head = paced.event_cursor()
        assert paced.wait_for_events(head, 0.5) is False
        assert len(pauses) >= 2 and set(pauses[:-1]) == {0.2}  # the last one: what was left
        pauses.clear()
        assert paced.wait_for_events(head, 0.3, interval=0.1) is False  # --interval wins
        assert set(pauses[:-1]) == {0.1}
    finally:
        paced.close()
    for bad in ("0", "soon"):
        with pytest.raises(ConfigError, match="watch_interval"):
            GiteaBackend().connect(fake_gitea.backend_config(watch_interval=bad))


def test_gitlab_links_milestones_and_due_dates_from_its_records(gitlab, fake_gitlab):
    """GitLab's system notes name the blocker from each end ("blocking #2" / "blocked by
    #1"); its milestone events and due-date notes become edits with before and after."""
    from datetime import UTC, datetime

    blocker = gitlab.create_issue(Issue(title="blocker")).number
    blocked = gitlab.create_issue(Issue(title="blocked")).number
    gitlab.add_link(Link(LinkKind.BLOCKS, blocker, blocked))
    gitlab.remove_link(Link(LinkKind.BLOCKS, blocker, blocked))
    for number in (blocker, blocked):
        links = [(e.kind, e.data) for e in gitlab.list_events(number) if "link" in e.kind]
        data = {"kind": "blocks", "source": blocker, "target": blocked}
        assert links == [("linked", data), ("unlinked", data)], links
    fake_gitlab.fake.add_milestone("v1")
    issue = gitlab.get_issue_by_number(blocker)
    issue.milestone, issue.due_at = "v1", datetime(2026, 12, 24, tzinfo=UTC)
    gitlab.update_issue(issue)
    issue = gitlab.get_issue_by_number(blocker)
    issue.milestone = None
    gitlab.update_issue(issue)
    changes = [e.data["changes"] for e in gitlab.list_events(blocker) if e.kind == "edited"]
    assert {"milestone": {"before": None, "after": "v1"}} in changes
    assert {"milestone": {"before": "v1", "after": None}} in changes
    assert {"due_at": {"before": None, "after": "2026-12-24"}} in changes


def test_an_idle_gitlab_watch_is_conditional_requests_only(gitlab):
    """Each look reads the issues updated since the cursor's floor and their four lists
    again: GitLab's ETags make every one a 304 while nothing changes (GitLab still counts
    them against its rate limit)."""
    number = gitlab.create_issue(Issue(title="quiet")).number
    gitlab.add_comment(number, "hello")
    head = gitlab.event_cursor()
    assert gitlab.list_events(since=head) == []
    stats = gitlab.http.stats
    stats.reset()
    assert gitlab.wait_for_events(head, 0.3, interval=0.05) is False
    assert stats.requests >= 10  # several looks, each the issue list and four lists ...
    assert stats.not_modified == stats.requests  # ... every one answered 304
    gitlab.add_comment(number, "news")
    assert gitlab.wait_for_events(head, 5.0, interval=0.05) is True
