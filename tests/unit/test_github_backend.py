"""GitHubBackend against a small in-memory GitHub behind httpx.MockTransport (mini_github.py).

These pin the backend's own decisions: the API base for github.com and Enterprise Server,
pull requests dropped, labels by name in one PATCH, state_reason, request counts, dropped
fields (exit 5), archived repositories, missing scopes, renamed repositories, rate limits
and write pacing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from issue_core.backends.github import GitHubBackend
from issue_core.core.errors import (
    AuthError,
    BackendUnavailable,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unsupported,
    ValidationError,
)
from issue_core.core.interfaces import Capability
from issue_core.core.models import CloseReason, Issue, IssueFilter, IssueState, Label, Milestone
from tests.unit.mini_github import MiniGitHub

TOKEN = "github-unit-token-4c3b2a"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def github() -> Iterator[MiniGitHub]:
    fake = MiniGitHub()
    yield fake
    assert not fake.violations, "\n".join(fake.violations)


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def connect(github: MiniGitHub, time_: FakeTime, **extra: Any) -> GitHubBackend:
    backend = GitHubBackend(transport=github.transport(), sleep=time_.sleep, clock=time_.clock)
    backend.connect({"owner": "acme", "repo": "widgets", "http_cache": False, **extra})
    return backend


@pytest.fixture
def backend(github, time_, monkeypatch, tmp_path) -> GitHubBackend:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    return connect(github, time_)


# --------------------------------------------------------------------------- connect


def test_api_base_for_github_com_and_enterprise_server(monkeypatch, tmp_path):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path))
    cases = {
        None: "https://api.github.com",
        "https://github.com": "https://api.github.com",
        "https://api.github.com/": "https://api.github.com",
        "https://ghe.example.com": "https://ghe.example.com/api/v3",
        "https://ghe.example.com/api/v3": "https://ghe.example.com/api/v3",
        "https://octocorp.ghe.com": "https://api.octocorp.ghe.com",
        "https://api.octocorp.ghe.com/": "https://api.octocorp.ghe.com",
    }
    for url, base in cases.items():
        backend = GitHubBackend()
        config = {"owner": "acme", "repo": "widgets", **({"url": url} if url else {})}
        backend.connect(config)
        assert backend.http.base_url == base, url


def test_token_is_bearer_with_api_version_and_gh_token_falls_back_to_github_token(
    github, time_, monkeypatch, tmp_path
):
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path))
    backend = connect(github, time_)
    assert backend.token_env == "GITHUB_TOKEN"
    backend.whoami()
    sent = github.requests[-1].headers
    assert sent["authorization"] == f"Bearer {TOKEN}"
    assert sent["x-github-api-version"] == "2022-11-28"
    assert sent["accept"] == "application/vnd.github+json"
    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(AuthError, match="GH_TOKEN is not set"):
        connect(github, time_)


def test_capabilities_leave_out_deleting(backend):
    assert not backend.supports(Capability.DELETE_ISSUES)
    assert backend.supports(Capability.FULL_TEXT_SEARCH)
    with pytest.raises(Unsupported, match="cannot delete"):
        backend.delete_issue(1)


# --------------------------------------------------------------------------- reading


def test_pull_requests_never_appear(github, backend):
    github.add_issue("An issue")
    github.add_issue("A pull request", pull=True)
    assert [i.title for i in backend.list_issues(IssueFilter(state="all"))] == ["An issue"]
    with pytest.raises(NotFound, match="pull request"):
        backend.get_issue_by_number(2)
    with pytest.raises(NotFound, match="pull request"):
        backend.add_comment(2, "on a pull request?")
    assert github.paths("POST") == []


def test_list_pages_100_at_a_time_concurrently_once_the_last_page_is_known(github, backend):
    for n in range(250):
        github.add_issue(f"Issue {n}")
    issues = backend.list_issues(IssueFilter(state="all", sort="created", direction="desc"))
    assert len(issues) == 250 and issues[0].title == "Issue 249"
    pages = [p for p in github.paths("GET") if p.startswith("/repos/acme/widgets/issues")]
    assert len(pages) == 3 and all("per_page=100" in p for p in pages)


def test_a_limit_in_server_order_reads_one_page(github, backend):
    for n in range(150):
        github.add_issue(f"Issue {n}")
    issues = backend.list_issues(IssueFilter(state="all", limit=5))
    assert [i.title for i in issues] == [f"Issue {n}" for n in range(149, 144, -1)]
    assert len(github.requests) == 1


def test_filters_go_to_github(github, backend):
    github.add_label("bug")
    github.add_milestone("v1")
    backend.list_issues(
        IssueFilter(labels=["bug"], milestone="v1", assignee="ann", author="bob", sort="updated")
    )
    backend.list_issues(IssueFilter(no_assignee=True, no_milestone=True))
    lists = [p for p in github.paths("GET") if p.startswith("/repos/acme/widgets/issues?")]
    assert "labels=bug" in lists[0] and "milestone=1" in lists[0]
    assert "assignee=ann" in lists[0] and "creator=bob" in lists[0] and "sort=updated" in lists[0]
    assert "assignee=none" in lists[1] and "milestone=none" in lists[1]


def test_get_is_one_request_and_comments_one_more(github, backend):
    github.add_issue("Shown")
    backend.get_issue_by_number(1)
    assert len(github.requests) == 1
    github.requests.clear()
    backend.get_issue_by_number(1, with_comments=True)
    assert len(github.requests) == 2


def test_mapping_keeps_global_ids_and_the_close_reason(github, backend):
    github.add_issue("Closed", state="closed", state_reason="not_planned")
    github.add_issue("Old close", state="closed", state_reason=None)
    first, second = backend.get_issue_by_number(1), backend.get_issue_by_number(2)
    assert first.id == str(github.issues[1]["id"]) and first.node_id == "I_kwDO1"
    assert first.close_reason is CloseReason.NOT_PLANNED
    assert second.close_reason is CloseReason.COMPLETED  # closed before reasons existed


def test_text_search_uses_the_search_api_for_this_repository_only(github, backend, monkeypatch):
    github.add_issue("Crash on start")
    other = dict(github.add_issue("Elsewhere"))
    other["repository_url"] = "https://api.github.com/repos/someone/else"
    found = [github.issues[1], other]

    def search(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/search/issues":
            q = request.url.params["q"]
            assert q.startswith("repo:acme/widgets is:issue") and '"crash"' in q
            return httpx.Response(200, json={"total_count": 2, "items": found})
        return None

    original = github.handle
    monkeypatch.setattr(github, "handle", lambda r: search(r) or original(r))
    backend = connect(github, FakeTime())
    assert [i.title for i in backend.list_issues(IssueFilter(text="crash repo:someone/else"))] == [
        "Crash on start"
    ]


# --------------------------------------------------------------------------- writing


def test_create_sends_label_names_and_milestone_number_in_one_post(github, backend):
    github.add_label("bug")
    github.add_milestone("v1")
    created = backend.create_issue(
        Issue("New", labels=["bug"], assignees=["ann"], milestone="v1", priority="high")
    )
    post = json.loads(github.requests[-1].content)
    assert post["labels"] == ["bug"] and post["milestone"] == 1 and post["assignees"] == ["ann"]
    assert "issue-core:priority" in post["body"]
    assert created.labels == ["bug"] and created.milestone == "v1" and created.priority == 1
    assert len(github.paths("POST")) == 1


def test_create_closed_closes_with_its_reason(github, backend):
    created = backend.create_issue(Issue("Dup", state="closed", close_reason="duplicate"))
    patch = json.loads(github.requests[-1].content)
    assert patch == {"state": "closed", "state_reason": "duplicate"}
    assert created.close_reason is CloseReason.DUPLICATE


def test_unknown_label_is_refused_before_github_would_create_it(github, backend):
    with pytest.raises(NotFound, match="nosuch"):
        backend.create_issue(Issue("x", labels=["nosuch"]))
    assert github.paths("POST") == []
    backend.create_issue(Issue("x", labels=["nosuch"]), create_labels=True)
    assert "nosuch" in github.labels


def test_unassignable_user_is_refused_before_writing(github, backend):
    with pytest.raises(ValidationError, match="zed"):
        backend.create_issue(Issue("x", assignees=["zed"]))
    assert github.paths("POST") == []


def test_update_is_one_patch_with_labels_state_and_reason(github, backend):
    github.add_label("bug")
    github.add_issue("Edit me")
    issue = backend.get_issue_by_number(1)
    github.requests.clear()
    issue.labels = ["bug"]
    issue.state = IssueState.CLOSED
    issue.close_reason = "not_planned"
    updated = backend.update_issue(issue, create_labels=False)
    patches = [r for r in github.requests if r.method == "PATCH"]
    assert len(patches) == 1
    assert json.loads(patches[0].content) == {
        "labels": ["bug"],
        "state": "closed",
        "state_reason": "not_planned",
    }
    assert updated.close_reason is CloseReason.NOT_PLANNED and updated.labels == ["bug"]


def test_in_progress_is_open_plus_a_label(github, backend):
    github.add_issue("Work")
    issue = backend.get_issue_by_number(1)
    issue.state = IssueState.IN_PROGRESS
    updated = backend.update_issue(issue)
    assert updated.state is IssueState.IN_PROGRESS and updated.labels == []
    assert [lab["name"] for lab in github.issues[1]["labels"]] == ["status/in-progress"]
    assert backend.list_issues(IssueFilter(state="in_progress"))[0].number == 1


def test_labels_dropped_for_a_user_without_push_access_are_exit_5(github, backend):
    github.add_label("bug")
    github.push = False
    with pytest.raises(PermissionDenied, match="dropped labels bug") as caught:
        backend.create_issue(Issue("x", labels=["bug"]))
    assert caught.value.exit_code == 5 and "created #1" in caught.value.message
    issue = backend.get_issue_by_number(1)
    issue.labels = ["bug"]
    with pytest.raises(PermissionDenied, match="dropped labels bug"):
        backend.update_issue(issue)


def test_archived_repository_refuses_writes_in_one_line(github, backend):
    github.add_issue("Frozen")
    github.archived = True
    with pytest.raises(PermissionDenied, match="archived") as caught:
        backend.add_comment(1, "hello")
    assert "\n" not in caught.value.message
    info = backend.test_connection()
    assert info.checks["permissions"] == (False, "archived: the repository is read-only")


def test_missing_scope_is_named(github, backend):
    github.scopes = "read:user"
    github.fail_next.append(
        httpx.Response(
            404,
            json={"message": "Not Found"},
            headers={"x-oauth-scopes": "read:user", "x-accepted-oauth-scopes": "repo"},
        )
    )
    with pytest.raises(PermissionDenied, match=r"lacks the scope repo \(it has: read:user\)"):
        backend.get_issue_by_number(1)
    assert backend.test_connection().checks["permissions"][0] is False


def test_fine_grained_token_refusal_says_which_permission(github, backend):
    github.scopes = None
    github.fail_next.append(
        httpx.Response(403, json={"message": "Resource not accessible by personal access token"})
    )
    with pytest.raises(PermissionDenied, match="Issues permission"):
        backend.list_issues()
    assert backend.test_connection().checks["permissions"][0] is True


def test_renamed_repository_is_followed_for_reads_and_said_once(github, backend):
    github.add_issue("Moved along")
    github.full_name = "acme/gadgets"
    for issue in github.issues.values():
        issue["repository_url"] = github.repo_url
    assert backend.get_issue_by_number(1).title == "Moved along"
    assert backend.list_issues()[0].title == "Moved along"
    assert backend.notices == [
        "GitHub repository acme/widgets was renamed or moved to acme/gadgets; update the "
        "backend's config (owner = 'acme', repo = 'gadgets')"
    ]
    backend.add_comment(1, "to the new name")  # writes go to the new name directly
    assert github.paths("POST") == ["/repos/acme/gadgets/issues/1/comments"]


def test_a_write_redirected_before_any_read_is_resent_when_the_method_is_kept(github, backend):
    github.full_name = "acme/gadgets"
    created = backend.create_issue(Issue("Straight to the new name"))
    assert created.number == 1
    assert github.paths("POST")[-1] == "/repositories/4242/issues"


def test_secondary_rate_limit_is_waited_out(github, backend, time_):
    github.add_issue("x")
    github.fail_next.append(
        httpx.Response(
            403,
            json={"message": "You have exceeded a secondary rate limit."},
            headers={"retry-after": "30", "x-ratelimit-remaining": "4000"},
        )
    )
    assert backend.get_issue_by_number(1).title == "x"
    assert 30 in time_.slept


def test_secondary_rate_limit_without_retry_after_waits_a_minute(github, backend, time_):
    github.add_issue("x")
    github.fail_next.append(
        httpx.Response(
            403,
            json={"message": "You have exceeded a secondary rate limit."},
            headers={"x-ratelimit-remaining": "4000", "x-ratelimit-reset": "1900000000"},
        )
    )
    backend.get_issue_by_number(1)
    assert time_.slept == [60.0]


def test_a_spent_primary_limit_beyond_the_bound_is_exit_6(github, backend, time_):
    github.fail_next.append(
        httpx.Response(
            403,
            json={"message": "API rate limit exceeded for user ID 1."},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time_.now) + 3000)},
        )
    )
    with pytest.raises(RateLimited) as caught:
        backend.list_issues()
    assert caught.value.exit_code == 6 and "retry after" in caught.value.message


def test_creating_writes_are_paced_to_githubs_limits(github, time_, monkeypatch, tmp_path):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    github.add_issue("Chatty")
    backend = connect(github, time_, writes_per_minute=3, writes_per_hour=500)
    for n in range(3):
        backend.add_comment(1, f"comment {n}")
    assert time_.slept == []
    started = time_.now
    backend.add_comment(1, "the fourth")
    assert time_.slept and time_.now - started == pytest.approx(60.0, abs=0.01)
    # Another process with the same token shares the window (the file in the cache dir).
    again = connect(github, time_, writes_per_minute=3, writes_per_hour=500)
    waited = len(time_.slept)
    again.add_comment(1, "from another process")
    again.add_comment(1, "and another")
    assert len(time_.slept) == waited  # the fourth and these two fill the window
    again.add_comment(1, "one too many")
    assert len(time_.slept) == waited + 1


# --------------------------------------------------------------------------- labels, milestones


def test_labels_are_addressed_by_name(github, backend):
    backend.create_label(Label("needs info", color="#AABBCC"))
    assert json.loads(github.requests[-1].content)["color"] == "aabbcc"
    backend.update_label("needs info", Label("needs-info", description="ask"))
    patch = github.requests[-1]
    assert patch.url.raw_path == b"/repos/acme/widgets/labels/needs%20info"
    assert json.loads(patch.content) == {"new_name": "needs-info", "description": "ask"}
    backend.delete_label("needs-info")
    assert github.requests[-1].method == "DELETE" and github.labels == {}


def test_milestones_by_number_and_a_due_date_cannot_be_removed(github, backend):
    from datetime import UTC, datetime

    backend.create_milestone(Milestone("v1", due_on=datetime(2026, 12, 24, tzinfo=UTC)))
    assert backend.list_milestones()[0].id == "1"
    with pytest.raises(Unsupported, match="due date"):
        backend.update_milestone("v1", Milestone("v1.0", due_on=None))
    assert github.paths("PATCH") == []
    backend.update_milestone("v1", Milestone("v1.0", due_on=datetime(2027, 1, 2, tzinfo=UTC)))
    patch = github.requests[-1]
    assert patch.url.path == "/repos/acme/widgets/milestones/1"
    assert json.loads(patch.content)["due_on"] == "2027-01-02T00:00:00Z"
    backend.delete_milestone("v1.0")
    assert github.milestones == {}


# --------------------------------------------------------------------------- comments


def test_comment_of_another_issue_or_a_pull_request_is_refused(github, backend):
    github.add_issue("One")
    github.add_issue("PR", pull=True)
    github.add_issue("Three")
    backend.add_comment(1, "on one")
    comment_id = str(github.comments[-1]["id"])
    with pytest.raises(NotFound) as caught:
        backend.edit_comment(3, comment_id, "moved?")
    assert "(it is a comment on #1)" in caught.value.message
    github.comments.append({**github.comments[-1], "id": 1, "issue_url": github.issues[2]["url"]})
    with pytest.raises(NotFound):
        backend.delete_comment(2, "1")
    edited = backend.edit_comment(1, comment_id, "edited")
    assert edited.body == "edited"


def test_repository_wide_comments_are_one_list_without_pull_requests(github, backend):
    github.add_issue("One")
    github.add_issue("PR", pull=True)
    backend.add_comment(1, "on one")
    github.comments.append({**github.comments[-1], "id": 5, "issue_url": github.issues[2]["url"]})
    github.requests.clear()
    changes, _ = backend.comments_since(None)
    assert [(c.issue_number, c.comment.body) for c in changes] == [(1, "on one")]
    assert github.paths("GET")[0].startswith("/repos/acme/widgets/issues/comments?")


# --------------------------------------------------------------------------- sync


def test_change_feed_and_marker(github, backend):
    first = backend.create_issue(Issue("First", sync_metadata={"marker": "m-1"}))
    changes, cursor = backend.changes_since(None)
    assert [c.issue.number for c in changes] == [first.number]
    assert backend.changes_since(cursor)[0] == []
    found = backend.find_issue_by_marker("m-1")
    assert found is not None and found.number == first.number
    assert backend.get_issue_by_id(first.id or "").number == first.number


# --------------------------------------------------------------------------- more faults


def test_a_missing_repository_is_said_as_such(github, time_, monkeypatch, tmp_path):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path))
    backend = GitHubBackend(transport=github.transport(), sleep=time_.sleep, clock=time_.clock)
    backend.connect({"owner": "acme", "repo": "nosuch", "http_cache": False})
    for call in (lambda: backend.get_issue_by_number(1), lambda: backend.list_issues()):
        with pytest.raises(NotFound, match="repository acme/nosuch not found"):
            call()
    github.add_issue("exists")
    with pytest.raises(NotFound, match=r"issue #9 not found in acme/widgets"):
        connect(github, time_).get_issue_by_number(9)


def test_an_html_page_and_a_429_storm_are_one_line_exit_6(github, backend, time_):
    github.fail_next.extend(
        [
            httpx.Response(
                200,
                text="<html><title>Sign in</title></html>",
                headers={"content-type": "text/html"},
            )
        ]
    )
    with pytest.raises(BackendUnavailable, match="non-JSON") as caught:
        backend.whoami()
    assert "\n" not in caught.value.one_line()
    github.fail_next.extend(
        [httpx.Response(429, json={"message": "slow down"}, headers={"retry-after": "1"})] * 10
    )
    with pytest.raises(RateLimited):
        backend.list_issues()
    assert sum(time_.slept) < 60  # bounded


def test_a_wrong_token_is_exit_5(github, backend):
    github.fail_next.append(httpx.Response(401, json={"message": "Bad credentials"}))
    with pytest.raises(AuthError, match="Bad credentials") as caught:
        backend.whoami()
    assert "$GH_TOKEN" in (caught.value.hint or "")


def test_without_the_search_api_text_is_looked_for_in_the_listing(github, backend):
    github.search = False
    github.add_issue("Crash on start")
    github.add_issue("Quiet one")
    backend.add_comment(2, "it crashes here too")
    github.add_issue("Nothing")
    found = backend.list_issues(IssueFilter(state="all", text="crash"))
    assert sorted(i.number for i in found) == [1, 2]  # #2 by its comment
    found = backend.list_issues(IssueFilter(state="all", text="start"))
    assert [i.number for i in found] == [1]
    assert backend.find_issue_by_marker("none") is None


def test_a_pacing_wait_is_shown_only_on_a_terminal(monkeypatch):
    import io

    from issue_core.backends._http import pacing

    class Tty(io.StringIO):
        def __init__(self, tty: bool) -> None:
            super().__init__()
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    for tty, shown in (
        (True, "issue-core: pacing writes (80 per minute at most): waiting 12s\n"),
        (False, ""),
    ):
        stream = Tty(tty)
        monkeypatch.setattr(pacing.sys, "stderr", stream)
        pacing.show_wait(12.2, "pacing writes (80 per minute at most)")
        assert stream.getvalue() == shown


def test_a_request_github_would_refuse_fails_the_unit_fake(github: MiniGitHub) -> None:
    client = httpx.Client(transport=github.transport(), base_url="https://api.github.com")
    client.get("/repos/acme/widgets/issues", params={"state": "shut"})
    assert any("state" in v for v in github.violations), github.violations
    github.violations.clear()  # seen: the fixture's own check would fail the test otherwise
