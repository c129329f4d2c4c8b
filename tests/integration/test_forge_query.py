"""The query language on Gitea: what the query implies goes to the forge's own list parameters,
the rest is ``Query.matches`` client-side, and comments are read only when needed (every
exchange checked against Gitea's Swagger). That every forge answers as the local store does is
tests/contract/test_query_contract.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

import issue_core.backends.gitea as gitea_module
from issue_core.core.models import IssueFilter
from issue_core.service.issues import list_issues
from tests.contract.test_query_contract import fill_corpus
from tests.fakes.fixtures import RunningGitea


@pytest.fixture
def gitea_only(
    fake_gitea: RunningGitea, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    for login in ("ann", "bob"):
        fake_gitea.fake.add_collaborator(login)
    forge = gitea_module.GiteaBackend()
    forge.connect(fake_gitea.backend_config())
    fill_corpus(forge)
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
