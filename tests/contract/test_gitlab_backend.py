"""GitLabBackend against the fake GitLab, for what is GitLab's own (the behavioural suite covers
the rest): token scopes and expiry, a Guest's dropped fields, group milestones and labels,
lists too long to count (keyset pages, or X-Next-Page on older servers), a 429 waited out.
Every exchange is checked against GitLab's schemas and gitbeaker's options by the fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from issue_core.backends.gitlab import GitLabBackend
from issue_core.core.errors import AuthError, PermissionDenied, Unsupported
from issue_core.core.models import Issue, IssueFilter, IssueState, Label, Milestone
from tests.fakes.gitlab import READ_TOKEN
from tests.fakes.gitlab_state import DEVELOPER, GUEST


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))


def connect(running: Any, **settings: Any) -> GitLabBackend:
    backend = GitLabBackend(sleep=settings.pop("sleep", None) or (lambda s: None))
    backend.connect(running.backend_config(http_cache=False, **settings))
    return backend


def use_token(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", token)


def test_a_read_api_token_reads_and_is_told_which_scope_writing_needs(fake_gitlab, monkeypatch):
    fake_gitlab.fake.add_issue("readable")
    use_token(monkeypatch, READ_TOKEN)
    backend = connect(fake_gitlab)
    issue = backend.get_issue_by_number(1)
    issue.state = IssueState.CLOSED
    with pytest.raises(PermissionDenied, match="lacks the 'api' scope"):
        backend.update_issue(issue)
    assert fake_gitlab.fake.issue(1).state == "opened"  # nothing was written
    permissions = backend.test_connection().checks["permissions"]
    assert permissions[0] is False and "read_api" in permissions[1] and "'api'" in permissions[1]


def test_an_expired_token_is_refused_in_one_line(fake_gitlab, monkeypatch):
    fake_gitlab.fake.add_token("owner", "glpat-fake-expired-2222222222", expired=True)
    use_token(monkeypatch, "glpat-fake-expired-2222222222")
    with pytest.raises(AuthError, match="expired or revoked") as caught:
        connect(fake_gitlab).list_issues()
    assert "\n" not in caught.value.one_line()


def test_a_guests_dropped_fields_are_refused_naming_the_issue(fake_gitlab, monkeypatch):
    running = fake_gitlab
    running.fake.add_label("bug")
    running.fake.add_member("visitor", GUEST)
    running.fake.add_token("visitor", "glpat-fake-guest-3333333333", scopes=("api",))
    use_token(monkeypatch, "glpat-fake-guest-3333333333")
    backend = connect(running)
    with pytest.raises(PermissionDenied, match=r"created #1 .*dropped labels bug"):
        backend.create_issue(Issue("from a guest", labels=["bug"]))
    assert running.fake.issue(1).labels == []  # GitLab kept the issue, not its label


def test_group_milestones_and_labels_are_usable_by_title_and_name(fake_gitlab):
    running = fake_gitlab
    running.fake.add_group_milestone("Q1", group="group")
    running.fake.add_group_label("team", group="group")
    backend = connect(running)
    created = backend.create_issue(Issue("planned", milestone="Q1", labels=["team"]))
    assert (created.milestone, created.labels) == ("Q1", ["team"])
    assert [i.number for i in backend.list_issues(IssueFilter(milestone="Q1"))] == [1]
    assert "Q1" in {m.title for m in backend.list_milestones()}
    moved = backend.update_milestone("Q1", Milestone(title="Q1", description="the quarter"))
    assert moved.description == "the quarter"  # through the group's own endpoint
    with pytest.raises(Unsupported, match="belongs to a group"):
        backend.update_label("team", Label(name="squad"))


@pytest.mark.parametrize("gitlab_options", [{"count_limit": 150}], indirect=True)
def test_a_list_too_long_to_count_goes_on_by_keyset(fake_gitlab):
    running = fake_gitlab
    for index in range(250):
        running.fake.add_issue(f"issue {index}")
    backend = connect(running)
    running.reset_count()
    issues = backend.list_issues(IssueFilter(state="all"))
    assert sorted(i.number for i in issues) == list(range(1, 251))  # each once
    asked = [(e.path, e.query) for e in running.requests()]
    lists = [query for path, query in asked if path.endswith("/issues")]
    assert len(lists) == 1 + 3 and all("pagination=keyset" in q for q in lists[1:])
    assert any(path.endswith("/version") for path, _ in asked)


@pytest.mark.parametrize(
    "gitlab_options", [{"count_limit": 150, "version": "17.11.2"}], indirect=True
)
def test_an_older_server_is_read_by_x_next_page(fake_gitlab):
    running = fake_gitlab
    for index in range(250):
        running.fake.add_issue(f"issue {index}")
    backend = connect(running)
    running.reset_count()
    issues = backend.list_issues(IssueFilter(state="all"))
    assert sorted(i.number for i in issues) == list(range(1, 251))
    lists = [e.query for e in running.requests() if e.path.endswith("/issues")]
    assert len(lists) == 3 and not any("keyset" in q for q in lists)


def test_a_429_is_waited_out_for_its_retry_after(fake_gitlab):
    running = fake_gitlab
    running.fake.add_issue("after the wait")
    waits: list[float] = []
    backend = connect(running, sleep=waits.append)
    running.fake.throttle(times=1, retry_after=2)
    assert [i.title for i in backend.list_issues()] == ["after the wait"]
    assert waits and waits[0] == pytest.approx(2, abs=0.01)


def test_assignees_are_project_members_and_set_by_id(fake_gitlab):
    running = fake_gitlab
    running.fake.add_member("ann", DEVELOPER)
    backend = connect(running)
    created = backend.create_issue(Issue("assigned", assignees=["ann"]))
    assert created.assignees == ["ann"]
    created.assignees = []
    assert backend.update_issue(created).assignees == []
    with pytest.raises(Exception, match="not a user who can be assigned"):
        backend.create_issue(Issue("nobody", assignees=["stranger"]))
    assert len(running.fake.project.issues) == 1  # the refused create wrote nothing


def test_a_server_that_accepts_and_never_answers_is_one_line_exit_6_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A GitLab that takes the connection and then says nothing (a hung proxy): the request
    budget (``timeout``) bounds the whole command, retries included, and the error is one line
    with exit 6 (unavailable)."""
    import time

    from issue_core.core.errors import BackendUnavailable
    from tests.fakes.silent import silent_server

    monkeypatch.setenv("GITLAB_TOKEN", "glpat-fake-never-answered-0000")
    with silent_server() as silent:
        backend = GitLabBackend()
        backend.connect({"url": silent.url, "project": "group/repo", "timeout": 1})
        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            backend.list_issues()
        elapsed = time.monotonic() - started
        backend.close()
    assert caught.value.exit_code == 6 and "timed out after 1s" in caught.value.message
    assert "\n" not in caught.value.one_line()
    assert elapsed < 4  # the 1 s budget, not attempts x timeout
    assert len(silent.held) == 1  # the budget was spent: no retry after it
