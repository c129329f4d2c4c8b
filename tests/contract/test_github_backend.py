"""GitHubBackend's own decisions, against the fake GitHub (every exchange contract-checked by
the ``fake_github`` fixture): the API base for github.com and Enterprise Server, pull requests
dropped, labels by name in one PATCH, state_reason, request counts, the search API scoped to
the repository (and a scan without it), dropped fields (exit 5), archived repositories, missing
scopes, fine-grained tokens, renamed repositories, rate limits and write pacing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from tests.fakes.github_fixtures import RunningGitHub
from tests.fakes.server import Exchange

P = "/api/v3/repos/alice/tracker"
TOKEN = "ghp_fakeUnitToken0000000000000000000000"


class FakeTime:
    """The backend's clock and sleeps (the fake GitHub keeps real time)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def connect(running: RunningGitHub, time_: FakeTime, **settings: Any) -> GitHubBackend:
    backend = GitHubBackend(sleep=time_.sleep, clock=time_.clock)
    backend.connect(running.backend_config(http_cache=False, **settings))
    return backend


@pytest.fixture
def backend(fake_github: RunningGitHub, time_: FakeTime) -> Iterator[GitHubBackend]:
    connected = connect(fake_github, time_)
    yield connected
    connected.close()


def sent(running: RunningGitHub, method: str | None = None) -> list[Exchange]:
    return [e for e in running.recorder.exchanges if method is None or e.method == method]


def targets(running: RunningGitHub, method: str) -> list[str]:
    return [e.target for e in sent(running, method)]


def body_of(exchange: Exchange) -> Any:
    return json.loads(exchange.request_body)


def use_token(running: RunningGitHub, monkeypatch: pytest.MonkeyPatch, login: str, **kw: Any):
    running.fake.add_token(login, TOKEN, **kw)
    monkeypatch.setenv("GH_TOKEN", TOKEN)


# --------------------------------------------------------------------------- connect


def test_api_base_for_github_com_and_enterprise_server(monkeypatch):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
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
    fake_github, time_, monkeypatch
):
    token = fake_github.fake.state.tokens  # the owner's token, moved to GITHUB_TOKEN
    owner_token = next(value for value, t in token.items() if t.login == "alice")
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("GITHUB_TOKEN", owner_token)
    config = fake_github.backend_config(http_cache=False)
    del config["token_env"]  # the default, GH_TOKEN, and gh's fallback
    backend = GitHubBackend(sleep=time_.sleep, clock=time_.clock)
    backend.connect(config)
    assert backend.token_env == "GITHUB_TOKEN"
    assert backend.whoami().username == "alice"
    last = sent(fake_github)[-1]
    assert last.auth_scheme == "Bearer"
    assert last.request_headers["x-github-api-version"] == "2022-11-28"
    assert last.request_headers["accept"] == "application/vnd.github+json"
    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(AuthError, match="GH_TOKEN is not set"):
        GitHubBackend().connect(config)


def test_capabilities_leave_out_deleting(backend):
    assert not backend.supports(Capability.DELETE_ISSUES)
    assert backend.supports(Capability.FULL_TEXT_SEARCH)
    with pytest.raises(Unsupported, match="cannot delete"):
        backend.delete_issue(1)


# --------------------------------------------------------------------------- reading


def test_pull_requests_never_appear(fake_github, backend):
    fake_github.fake.add_issue("An issue")
    fake_github.fake.add_pull_request("A pull request")
    assert [i.title for i in backend.list_issues(IssueFilter(state="all"))] == ["An issue"]
    with pytest.raises(NotFound, match="pull request"):
        backend.get_issue_by_number(2)
    with pytest.raises(NotFound, match="pull request"):
        backend.add_comment(2, "on a pull request?")
    assert targets(fake_github, "POST") == []


def test_list_pages_100_at_a_time_concurrently_once_the_last_page_is_known(fake_github, backend):
    for n in range(250):
        fake_github.fake.add_issue(f"Issue {n}", created=1_700_000_000 + n)
    issues = backend.list_issues(IssueFilter(state="all", sort="created", direction="desc"))
    assert len(issues) == 250 and issues[0].title == "Issue 249"
    pages = [e for e in sent(fake_github, "GET") if e.path == f"{P}/issues"]
    assert len(pages) == 3 and all("per_page=100" in e.query for e in pages)


def test_a_limit_in_server_order_reads_one_page(fake_github, backend):
    for n in range(150):
        fake_github.fake.add_issue(f"Issue {n}", created=1_700_000_000 + n)
    issues = backend.list_issues(IssueFilter(state="all", limit=5))
    assert [i.title for i in issues] == [f"Issue {n}" for n in range(149, 144, -1)]
    assert len(sent(fake_github)) == 1


def test_filters_go_to_github(fake_github, backend):
    fake_github.fake.add_label("bug")
    fake_github.fake.add_milestone("v1")
    fake_github.fake.add_collaborator("ann")
    backend.list_issues(
        IssueFilter(labels=["bug"], milestone="v1", assignee="ann", author="bob", sort="updated")
    )
    backend.list_issues(IssueFilter(no_assignee=True, no_milestone=True))
    lists = [e.query for e in sent(fake_github, "GET") if e.path == f"{P}/issues"]
    assert "labels=bug" in lists[0] and "milestone=1" in lists[0]
    assert "assignee=ann" in lists[0] and "creator=bob" in lists[0] and "sort=updated" in lists[0]
    assert "assignee=none" in lists[1] and "milestone=none" in lists[1]


def test_get_is_one_request_and_comments_one_more(fake_github, backend):
    fake_github.fake.add_issue("Shown")
    backend.get_issue_by_number(1)
    assert len(sent(fake_github)) == 1
    fake_github.recorder.exchanges.clear()
    backend.get_issue_by_number(1, with_comments=True)
    assert len(sent(fake_github)) == 2


def test_mapping_keeps_global_ids_and_the_close_reason(fake_github, backend):
    first = fake_github.fake.add_issue("Closed", state="closed", state_reason="not_planned")
    fake_github.fake.add_issue("Closed without a reason", state="closed")
    one, two = backend.get_issue_by_number(1), backend.get_issue_by_number(2)
    sent_node_id = json.loads(sent(fake_github, "GET")[0].response_body)["node_id"]
    assert one.id == str(first.id) and one.node_id == sent_node_id
    assert one.close_reason is CloseReason.NOT_PLANNED
    assert two.close_reason is CloseReason.COMPLETED


@pytest.mark.parametrize("github_options", [{"search_api": True}])
def test_text_search_uses_the_search_api_for_this_repository_only(fake_github, backend):
    fake = fake_github.fake
    fake.add_issue("Crash on start")
    other = fake.state.add_repo("alice", "elsewhere", private=True)
    fake.state.new_issue(other, title="Crash elsewhere", body="", user="alice", is_pull=False)
    assert [i.title for i in backend.list_issues(IssueFilter(text="crash"))] == ["Crash on start"]
    # User text stays text: a word that looks like a qualifier is a phrase to find.
    assert backend.list_issues(IssueFilter(text="crash repo:alice/elsewhere")) == []
    searches = [e for e in sent(fake_github, "GET") if e.path == "/api/v3/search/issues"]
    assert len(searches) == 2
    assert all(e.query.startswith("q=repo%3Aalice%2Ftracker+is%3Aissue+") for e in searches)
    assert "%22repo%3Aalice%2Felsewhere%22" in searches[1].query
    assert not [e for e in sent(fake_github, "GET") if e.path == f"{P}/issues"]  # no scan


# --------------------------------------------------------------------------- writing


def test_create_sends_label_names_and_milestone_number_in_one_post(fake_github, backend):
    fake_github.fake.add_label("bug")
    fake_github.fake.add_milestone("v1")
    fake_github.fake.add_collaborator("ann")
    created = backend.create_issue(
        Issue("New", labels=["bug"], assignees=["ann"], milestone="v1", priority="high")
    )
    [post] = sent(fake_github, "POST")
    body = body_of(post)
    assert body["labels"] == ["bug"] and body["milestone"] == 1 and body["assignees"] == ["ann"]
    assert "issue-core:priority" in body["body"]
    assert created.labels == ["bug"] and created.milestone == "v1" and created.priority == 1


def test_create_closed_closes_with_its_reason(fake_github, backend):
    created = backend.create_issue(Issue("Dup", state="closed", close_reason="duplicate"))
    [patch] = sent(fake_github, "PATCH")
    assert body_of(patch) == {"state": "closed", "state_reason": "duplicate"}
    assert created.close_reason is CloseReason.DUPLICATE
    assert fake_github.fake.issue(1).state_reason == "duplicate"


def test_unknown_label_is_refused_before_github_would_create_it(fake_github, backend):
    with pytest.raises(NotFound, match="nosuch"):
        backend.create_issue(Issue("x", labels=["nosuch"]))
    assert targets(fake_github, "POST") == []
    backend.create_issue(Issue("x", labels=["nosuch"]), create_labels=True)
    assert fake_github.fake.repo.label_named("nosuch") is not None


def test_unassignable_user_is_refused_before_writing(fake_github, backend):
    with pytest.raises(ValidationError, match="zed"):
        backend.create_issue(Issue("x", assignees=["zed"]))
    assert targets(fake_github, "POST") == []


def test_update_is_one_patch_with_labels_state_and_reason(fake_github, backend):
    fake_github.fake.add_label("bug")
    fake_github.fake.add_issue("Edit me")
    issue = backend.get_issue_by_number(1)
    issue.labels = ["bug"]
    issue.state = IssueState.CLOSED
    issue.close_reason = "not_planned"
    updated = backend.update_issue(issue, create_labels=False)
    [patch] = sent(fake_github, "PATCH")
    assert body_of(patch) == {"labels": ["bug"], "state": "closed", "state_reason": "not_planned"}
    assert updated.close_reason is CloseReason.NOT_PLANNED and updated.labels == ["bug"]


def test_in_progress_is_open_plus_a_label(fake_github, backend):
    fake_github.fake.add_issue("Work")
    issue = backend.get_issue_by_number(1)
    issue.state = IssueState.IN_PROGRESS
    updated = backend.update_issue(issue)
    assert updated.state is IssueState.IN_PROGRESS and updated.labels == []
    repo = fake_github.fake.repo
    assert [repo.labels[i].name for i in fake_github.fake.issue(1).label_ids] == [
        "status/in-progress"
    ]
    assert backend.list_issues(IssueFilter(state="in_progress"))[0].number == 1


def test_labels_dropped_for_a_user_without_push_access_are_exit_5(fake_github, time_, monkeypatch):
    fake_github.fake.add_label("bug")
    fake_github.fake.add_collaborator("reader", role="pull")
    use_token(fake_github, monkeypatch, "reader")
    backend = connect(fake_github, time_)
    with pytest.raises(PermissionDenied, match="dropped labels bug") as caught:
        backend.create_issue(Issue("x", labels=["bug"]))
    assert caught.value.exit_code == 5 and "created #1" in caught.value.message
    issue = backend.get_issue_by_number(1)
    issue.labels = ["bug"]
    with pytest.raises(PermissionDenied, match="dropped labels bug"):
        backend.update_issue(issue)
    assert fake_github.fake.issue(1).label_ids == []


def test_archived_repository_refuses_writes_in_one_line(fake_github, backend):
    fake_github.fake.add_issue("Frozen")
    fake_github.fake.archive()
    with pytest.raises(PermissionDenied, match="archived") as caught:
        backend.add_comment(1, "hello")
    assert "\n" not in caught.value.message
    info = backend.test_connection()
    assert info.checks["permissions"] == (False, "archived: the repository is read-only")
    assert info.checks["repository"][0] is True
    assert info.failed_check == (
        "permissions",
        "archived: the repository is read-only",
        "permission",
    )


def test_missing_scope_is_named(fake_github, time_, monkeypatch):
    fake_github.fake.add_issue("Private")
    use_token(fake_github, monkeypatch, "alice", scopes=("read:user",))
    backend = connect(fake_github, time_)
    with pytest.raises(PermissionDenied, match=r"lacks the scope repo \(it has: read:user\)"):
        backend.get_issue_by_number(1)
    assert backend.test_connection().checks["permissions"][0] is False


def test_fine_grained_token_refusal_says_which_permission(fake_github, time_, monkeypatch):
    fake_github.fake.add_issue("Readable")
    fake_github.fake.add_fine_grained_token("alice", TOKEN, issues="read")
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    backend = connect(fake_github, time_)
    assert backend.get_issue_by_number(1).title == "Readable"
    with pytest.raises(PermissionDenied, match="Issues permission"):
        backend.add_comment(1, "may I?")
    assert backend.test_connection().checks["permissions"][0] is True


def test_renamed_repository_is_followed_for_reads_and_said_once(fake_github, backend):
    fake_github.fake.add_issue("Moved along")
    fake_github.fake.rename("gadgets")
    assert backend.get_issue_by_number(1).title == "Moved along"
    assert backend.list_issues()[0].title == "Moved along"
    assert backend.notices == [
        "GitHub repository alice/tracker was renamed or moved to alice/gadgets; update the "
        "backend's config (owner = 'alice', repo = 'gadgets')"
    ]
    backend.add_comment(1, "to the new name")  # writes go to the new name directly
    assert targets(fake_github, "POST") == ["/api/v3/repos/alice/gadgets/issues/1/comments"]


def test_a_write_redirected_before_any_read_is_resent_when_the_method_is_kept(fake_github, backend):
    fake_github.fake.rename("gadgets")
    created = backend.create_issue(Issue("Straight to the new name"))
    assert created.number == 1
    repo_id = fake_github.fake.repo.id
    assert targets(fake_github, "POST")[-1] == f"/api/v3/repositories/{repo_id}/issues"


def test_secondary_rate_limit_is_waited_out(fake_github, backend, time_):
    fake_github.fake.add_issue("x")
    fake_github.fake.secondary_limit(retry_after=30)
    assert backend.get_issue_by_number(1).title == "x"
    assert 30 in time_.slept


def test_secondary_rate_limit_without_retry_after_waits_a_minute(fake_github, backend, time_):
    fake_github.fake.add_issue("x")
    fake_github.fake.secondary_limit(retry_after=None)
    backend.get_issue_by_number(1)
    assert time_.slept == [60.0]


def test_a_spent_primary_limit_beyond_the_bound_is_exit_6(fake_github, backend):
    fake_github.fake.exhaust_rate_limit()  # resets within the hour: beyond the 60 s bound
    with pytest.raises(RateLimited) as caught:
        backend.list_issues()
    assert caught.value.exit_code == 6 and "retry after" in caught.value.message


def test_creating_writes_are_paced_to_githubs_limits(fake_github, time_):
    fake_github.fake.add_issue("Chatty")
    backend = connect(fake_github, time_, writes_per_minute=3, writes_per_hour=500)
    for n in range(3):
        backend.add_comment(1, f"comment {n}")
    assert time_.slept == []
    started = time_.now
    backend.add_comment(1, "the fourth")
    assert time_.slept and time_.now - started == pytest.approx(60.0, abs=0.01)
    # Another process with the same token shares the window (the file in the cache dir).
    again = connect(fake_github, time_, writes_per_minute=3, writes_per_hour=500)
    waited = len(time_.slept)
    again.add_comment(1, "from another process")
    again.add_comment(1, "and another")
    assert len(time_.slept) == waited  # the fourth and these two fill the window
    again.add_comment(1, "one too many")
    assert len(time_.slept) == waited + 1


# --------------------------------------------------------------------------- labels, milestones


def test_labels_are_addressed_by_name(fake_github, backend):
    backend.create_label(Label("needs info", color="#AABBCC"))
    assert body_of(sent(fake_github, "POST")[-1])["color"] == "aabbcc"
    backend.update_label("needs info", Label("needs-info", description="ask"))
    patch = sent(fake_github, "PATCH")[-1]
    assert patch.raw_path == f"{P}/labels/needs%20info"
    assert body_of(patch) == {"new_name": "needs-info", "description": "ask"}
    backend.delete_label("needs-info")
    assert sent(fake_github)[-1].method == "DELETE" and fake_github.fake.repo.labels == {}


def test_milestones_by_number_and_a_due_date_cannot_be_removed(fake_github, backend):
    backend.create_milestone(Milestone("v1", due_on=datetime(2026, 12, 24, tzinfo=UTC)))
    assert backend.list_milestones()[0].id == "1"
    with pytest.raises(Unsupported, match="due date"):
        backend.update_milestone("v1", Milestone("v1.0", due_on=None))
    assert targets(fake_github, "PATCH") == []
    backend.update_milestone("v1", Milestone("v1.0", due_on=datetime(2027, 1, 2, tzinfo=UTC)))
    patch = sent(fake_github, "PATCH")[-1]
    assert patch.path == f"{P}/milestones/1"
    assert body_of(patch)["due_on"] == "2027-01-02T00:00:00Z"
    backend.delete_milestone("v1.0")
    assert fake_github.fake.repo.milestones == {}


# --------------------------------------------------------------------------- comments


def test_comment_of_another_issue_or_a_pull_request_is_refused(fake_github, backend):
    fake = fake_github.fake
    fake.add_issue("One")
    fake.add_pull_request("PR")
    fake.add_issue("Three")
    comment = backend.add_comment(1, "on one")
    with pytest.raises(NotFound) as caught:
        backend.edit_comment(3, comment.id or "", "moved?")
    assert "(it is a comment on #1)" in caught.value.message
    on_pull = fake.add_comment(2, "on the pull request")
    with pytest.raises(NotFound):
        backend.delete_comment(2, str(on_pull.id))
    assert backend.edit_comment(1, comment.id or "", "edited").body == "edited"


def test_repository_wide_comments_are_one_list_without_pull_requests(fake_github, backend):
    fake_github.fake.add_issue("One")
    fake_github.fake.add_pull_request("PR")
    backend.add_comment(1, "on one")
    fake_github.fake.add_comment(2, "on the pull request")
    fake_github.recorder.exchanges.clear()
    changes, _ = backend.comments_since(None)
    assert [(c.issue_number, c.comment.body) for c in changes] == [(1, "on one")]
    assert sent(fake_github, "GET")[0].path == f"{P}/issues/comments"


# --------------------------------------------------------------------------- sync


def test_change_feed_and_marker(backend):
    first = backend.create_issue(Issue("First", sync_metadata={"marker": "m-1"}))
    changes, cursor = backend.changes_since(None)
    assert [c.issue.number for c in changes] == [first.number]
    assert backend.changes_since(cursor)[0] == []
    found = backend.find_issue_by_marker("m-1")
    assert found is not None and found.number == first.number
    assert backend.get_issue_by_id(first.id or "").number == first.number


# --------------------------------------------------------------------------- more faults


def test_a_missing_repository_is_said_as_such(fake_github, time_):
    backend = GitHubBackend(sleep=time_.sleep, clock=time_.clock)
    backend.connect(fake_github.backend_config(repo="nosuch", http_cache=False))
    for call in (lambda: backend.get_issue_by_number(1), lambda: backend.list_issues()):
        with pytest.raises(NotFound, match="repository alice/nosuch not found"):
            call()
    fake_github.fake.add_issue("exists")
    with pytest.raises(NotFound, match=r"issue #9 not found in alice/tracker"):
        connect(fake_github, time_).get_issue_by_number(9)


def test_an_html_page_and_a_429_storm_are_one_line_exit_6(fake_github, backend, time_):
    fake_github.fake.faults.html_page(status=200)
    with pytest.raises(BackendUnavailable, match="non-JSON") as caught:
        backend.whoami()
    assert "\n" not in caught.value.one_line()
    fake_github.fake.secondary_limit(times=10, status=429, retry_after=1)
    with pytest.raises(RateLimited):
        backend.list_issues()
    assert sum(time_.slept) < 60  # bounded


def test_a_wrong_token_is_exit_5(fake_github, time_, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", "ghp_notAKnownToken000000000000000000000")
    with pytest.raises(AuthError, match="Bad credentials") as caught:
        connect(fake_github, time_).whoami()
    assert caught.value.exit_code == 5 and "$GH_TOKEN" in (caught.value.hint or "")


def test_without_the_search_api_text_is_looked_for_in_the_listing(fake_github, backend):
    fake_github.fake.add_issue("Crash on start")
    fake_github.fake.add_issue("Quiet one")
    backend.add_comment(2, "it crashes here too")
    fake_github.fake.add_issue("Nothing")
    found = backend.list_issues(IssueFilter(state="all", text="crash"))
    assert sorted(i.number for i in found) == [1, 2]  # #2 by its comment
    found = backend.list_issues(IssueFilter(state="all", text="start"))
    assert [i.number for i in found] == [1]
    assert backend.find_issue_by_marker("none") is None
    searched = [e for e in sent(fake_github, "GET") if e.path == "/api/v3/search/issues"]
    assert len(searched) == 1  # a 404 once: the API is missing, never asked again


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


def test_a_milestone_filter_takes_the_exact_name_as_writes_do(fake_github, backend):
    """Milestone names are exact on GitHub (README, differences between backends): the filter
    agrees with create and edit, which refuse another case; only the local store ignores case."""
    backend.create_milestone(Milestone("Sprint A"))
    made = backend.create_issue(Issue("planned", milestone="Sprint A"))
    assert [i.number for i in backend.list_issues(IssueFilter(milestone="Sprint A"))] == [
        made.number
    ]
    assert backend.list_issues(IssueFilter(milestone="sprint a")) == []
    with pytest.raises(NotFound):
        backend.create_issue(Issue("unplanned", milestone="sprint a"))
