"""GitHubBackend on github.com's own API root (``https://api.github.com``, no ``/api/v3``),
against the fake GitHub serving that root: the server check needs no ``/meta``, paging follows
the ``Link`` headers on that root, a renamed repository's redirects stay on it, and every path
sent is the root form. Every exchange is contract-checked by the ``fake_github`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from issue_core.backends.github import GitHubBackend
from issue_core.core.models import Issue, IssueFilter, IssueState
from tests.fakes.github_fixtures import RunningGitHub, serve_as_github_com


@pytest.fixture
def backend(
    fake_github: RunningGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GitHubBackend]:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    transport = serve_as_github_com(fake_github)
    connected = GitHubBackend(transport=transport)  # type: ignore[arg-type]
    config = fake_github.backend_config(http_cache=False)
    del config["url"]  # the default: github.com
    connected.connect(config)
    yield connected
    connected.close()
    transport.close()


def test_github_com_is_the_api_root_and_every_path_is_the_root_form(fake_github, backend):
    assert backend.http.base_url == "https://api.github.com"
    info = backend.test_connection()
    assert info.ok, info.checks
    assert info.server_version == "github.com"
    for n in range(130):
        fake_github.fake.add_issue(f"Issue {n}")
    listed = backend.list_issues(IssueFilter(state="all", sort="number"))
    assert sorted(i.number for i in listed) == list(range(1, 131))
    created = backend.create_issue(Issue(title="From the root"))
    created.state = IssueState.CLOSED
    backend.update_issue(created)
    backend.add_comment(created.number or 0, "closed from github.com's root")
    paths = [e.path for e in fake_github.recorder.exchanges]
    assert paths and not any(p.startswith("/api/v3") for p in paths)
    assert "/meta" not in paths  # github.com says what it is by its host
    lists = [e for e in fake_github.recorder.exchanges if e.path == "/repos/alice/tracker/issues"]
    assert len([e for e in lists if e.method == "GET"]) == 2  # page 2 known from the Link


def test_a_renamed_repository_is_followed_on_the_root(fake_github, backend):
    fake_github.fake.add_issue("Before the move")
    fake_github.fake.rename("tracker-2")
    assert [i.title for i in backend.list_issues()] == ["Before the move"]
    assert len(backend.notices) == 1 and "tracker-2" in backend.notices[0]
    backend.add_comment(1, "after the move")
    assert backend.get_issue_by_number(1).comments_count == 1
