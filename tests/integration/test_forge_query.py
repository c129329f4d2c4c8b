"""The query language on the forges: what the query implies goes to the forge's own list
parameters, the rest is ``Query.matches`` client-side, and the answer is the local store's
answer for the same issues (every exchange checked against Gitea's Swagger and GitHub's OpenAPI
description by the fakes' fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

import issue_core.backends.gitea as gitea_module
from issue_core.backends.github import GitHubBackend
from issue_core.backends.local import LocalBackend
from issue_core.core.models import Issue, IssueFilter, IssueState, Milestone
from issue_core.service.issues import list_issues
from tests.fakes.fixtures import RunningGitea

CORPUS = [
    ("Login timeout", "on slow links", ["bug"], ["ann"], "v1", IssueState.OPEN, None),
    ("Write the guide", "timeout notes", ["docs"], [], None, IssueState.IN_PROGRESS, None),
    ("Old crash", "", ["bug", "ui"], ["ann"], None, IssueState.CLOSED, None),
    ("Button colour", "", ["ui"], [], "v1", IssueState.OPEN, "the login page too"),
]
QUERIES = [
    "is:open label:bug",
    "label:bug -label:ui",
    "assignee:ann -is:closed",
    "author:@me is:closed",
    "(label:ui OR label:docs) no:milestone",
    "login",
    '"login timeout" OR is:in_progress',
    "milestone:V1 -no:assignee",
    "label:ui,docs sort:number-asc",
    "updated:>7d no:label",
    "-login -is:closed",
]


def _fill(backend: Any) -> None:
    backend.create_milestone(Milestone(title="v1"))
    for title, body, labels, assignees, milestone, state, comment in CORPUS:
        created = backend.create_issue(
            Issue(
                title=title,
                description=body,
                labels=labels,
                assignees=assignees,
                milestone=milestone,
            ),
            create_labels=True,
        )
        if state is not IssueState.OPEN:
            created.state = state
            backend.update_issue(created)
        if comment:
            backend.add_comment(created.number, comment)


def _forge(request: pytest.FixtureRequest) -> Any:
    if request.param == "gitea":
        running: Any = request.getfixturevalue("fake_gitea")
        backend: Any = gitea_module.GiteaBackend()
    else:
        running = request.getfixturevalue("fake_github")
        backend = GitHubBackend()
    running.fake.add_collaborator("ann")
    backend.connect(running.backend_config())
    return backend


@pytest.fixture(params=["gitea", "github"])
def both(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, LocalBackend]]:
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    forge = _forge(request)
    me = forge.whoami().username
    local = LocalBackend()
    local.connect({"path": str(tmp_path / "issues.db"), "identity": me})
    _fill(forge)
    _fill(local)
    try:
        yield forge, local
    finally:
        forge.close()
        local.close()


@pytest.mark.parametrize("query", QUERIES)
def test_a_forge_answers_a_query_as_the_local_store_does(both, query):
    forge, local = both
    wanted = IssueFilter(state=None, query=query)
    on_forge = [issue.number for issue in list_issues(forge, wanted)]
    on_local = [issue.number for issue in list_issues(local, wanted)]
    assert on_forge == on_local
    assert on_local or query in ("updated:>7d no:label",)


@pytest.fixture
def gitea_only(
    fake_gitea: RunningGitea, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    fake_gitea.fake.add_collaborator("ann")
    forge = gitea_module.GiteaBackend()
    forge.connect(fake_gitea.backend_config())
    _fill(forge)
    try:
        yield forge
    finally:
        forge.close()


def test_the_plain_part_of_a_query_goes_to_gitea(gitea_only, fake_gitea: RunningGitea):
    forge = gitea_only
    fake_gitea.reset_count()
    found = list_issues(forge, IssueFilter(state=None, query="is:closed label:bug -login"))
    assert [issue.number for issue in found] == [3]
    lists = [e for e in fake_gitea.requests() if e.path.endswith("/issues")]
    assert lists
    params = parse_qs(lists[0].query)
    assert params["state"] == ["closed"] and params["labels"] == ["bug"]


def test_comments_are_read_only_when_title_and_body_do_not_decide(gitea_only, fake_gitea):
    forge = gitea_only
    fake_gitea.reset_count()
    assert [i.number for i in list_issues(forge, IssueFilter(query="login"))] == [4, 1]
    reads = [e.path for e in fake_gitea.requests() if e.path.endswith("/comments")]
    assert reads == [p for p in reads if "/issues/4/" in p] and reads  # #1 decided by its title
