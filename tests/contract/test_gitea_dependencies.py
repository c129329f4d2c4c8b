"""Dependencies on Gitea: ``blocks`` as Gitea's own issue dependencies (every page of
``/dependencies`` and ``/blocks`` read), the other kinds in the hidden block, the repository
setting that disables them, and what the fake Gitea refuses as Gitea does."""

from __future__ import annotations

import httpx
import pytest

from issue_core.backends.gitea import GiteaBackend
from issue_core.core.dependencies import Link
from issue_core.core.errors import Conflict
from issue_core.core.models import Issue, IssueFilter, IssueState
from issue_core.service.ready import ready_issues
from tests.contract.forge_backends import opener
from tests.fakes.gitea import WRITE_TOKEN


@pytest.fixture
def gitea(fake_gitea, tmp_path, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    opened: list = []
    open_backend = opener(fake_gitea, GiteaBackend, opened)
    backend = open_backend(page_size=2)  # every relationship list below spans pages
    yield fake_gitea, backend, open_backend
    for each in opened:
        each.close()


def numbers(links, relation):
    return [link.number for link in links if link.relation == relation]


def test_blocks_are_gitea_dependencies_read_past_the_first_page(gitea):
    running, backend, _ = gitea
    backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 8)])
    for blocker in (2, 3, 4, 5, 6):
        assert backend.add_link(Link("blocks", blocker, 1)) is True
    backend.add_link(Link("blocks", 1, 7))
    ids = {i.number: i.id for i in running.fake.issues()}
    pairs = set(running.fake.state.dependencies)
    assert pairs == {(ids[1], ids[n]) for n in (2, 3, 4, 5, 6)} | {(ids[7], ids[1])}
    assert "issue-core:links" not in running.fake.issue(1).body  # nothing in the block
    links = backend.list_links(1)
    assert numbers(links, "blocked_by") == [2, 3, 4, 5, 6] and numbers(links, "blocks") == [7]
    for blocker in (2, 3, 4, 5):
        issue = backend.get_issue(blocker)
        issue.state = IssueState.CLOSED
        backend.update_issue(issue)
    assert 1 not in [i.number for i in ready_issues(backend, IssueFilter())]  # 6 is open
    issue = backend.get_issue(6)
    issue.state = IssueState.CLOSED
    backend.update_issue(issue)
    assert 1 in [i.number for i in ready_issues(backend, IssueFilter())]
    backend.remove_link(Link("blocks", 3, 1))
    assert numbers(backend.list_links(1), "blocked_by") == [2, 4, 5, 6]


def test_parent_and_related_live_in_the_block_and_blocks_in_gitea(gitea):
    running, backend, _ = gitea
    backend.bulk_create([Issue(title="parent"), Issue(title="child"), Issue(title="other")])
    backend.add_link(Link("parent", 1, 2))
    backend.add_link(Link("related", 2, 3))
    backend.add_link(Link("blocks", 3, 2))
    assert '"issue-core:links":{"children":[2]}' in running.fake.issue(1).body
    assert '"parent":[1]' in running.fake.issue(2).body
    assert len(running.fake.state.dependencies) == 1
    links = backend.list_links(2)
    assert [(link.relation, link.number) for link in links] == [
        ("parent", 1),
        ("blocked_by", 3),
        ("related", 3),
    ]


def test_a_repository_with_dependencies_disabled_keeps_blocks_in_the_block(gitea):
    running, _, open_backend = gitea
    running.fake.repo.dependencies_enabled = False
    backend = open_backend()
    backend.bulk_create([Issue(title="a"), Issue(title="b")])
    backend.add_link(Link("blocks", 1, 2))
    assert running.fake.state.dependencies == []
    assert '"blocked_by":[1]' in running.fake.issue(2).body
    assert [i.number for i in ready_issues(backend, IssueFilter())] == [1]
    assert len([n for n in backend.notices if "disabled" in n]) == 1
    backend.close()


def test_the_fake_refuses_what_gitea_refuses(gitea):
    running, backend, _ = gitea
    backend.bulk_create([Issue(title="a"), Issue(title="b")])
    client = httpx.Client(
        base_url=running.api_url, headers={"Authorization": f"token {WRITE_TOKEN}"}
    )
    path = "/repos/alice/tracker/issues/2/dependencies"
    meta = {"owner": "alice", "repo": "tracker", "index": 1}
    assert client.post(path, json=meta).status_code == 201
    assert client.post(path, json=meta).status_code == 500  # exists already
    reverse = {"owner": "alice", "repo": "tracker", "index": 2}
    assert (
        client.post("/repos/alice/tracker/issues/1/dependencies", json=reverse).status_code == 500
    )
    other = client.post(path, json={"owner": "bob", "repo": "elsewhere", "index": 1})
    assert other.status_code == 400 and "CrossRepositoryDependencies" in other.text
    assert client.post(path, json={**meta, "index": 99}).status_code == 404
    closing = client.patch("/repos/alice/tracker/issues/2", json={"state": "closed"})
    assert closing.status_code == 412  # its blocker #1 is open
    running.fake.repo.dependencies_enabled = False
    assert client.get(path).status_code == 404
    assert client.get("/repos/alice/tracker/issues/1/blocks").status_code == 200
    client.close()


def test_closing_an_issue_gitea_holds_blocked_is_a_clear_error(gitea):
    _, backend, _ = gitea
    backend.bulk_create([Issue(title="blocker"), Issue(title="blocked")])
    backend.add_link(Link("blocks", 1, 2))
    issue = backend.get_issue(2)
    issue.state = IssueState.CLOSED
    with pytest.raises(Conflict, match="#2 cannot be closed while an issue that blocks it is open"):
        backend.update_issue(issue)
    assert backend.get_issue(2).state is IssueState.OPEN


def test_a_cycle_through_gitea_dependencies_is_refused_and_shown(gitea):
    running, backend, _ = gitea
    backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 5)])
    for source, target in ((1, 2), (2, 3), (3, 4)):
        backend.add_link(Link("blocks", source, target))
    with pytest.raises(Conflict, match="#4 blocks #1 blocks #2 blocks #3 blocks #4"):
        backend.add_link(Link("blocks", 4, 1))
    assert len(running.fake.state.dependencies) == 3


def test_request_counts(gitea):
    """What docs/dependencies.md says each operation costs on Gitea (100 issues a page)."""
    _, _, open_backend = gitea
    backend = open_backend(page_size=100)
    backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 11)])
    backend.add_link(Link("blocks", 1, 2))
    backend.add_link(Link("parent", 3, 4))
    fresh = open_backend(page_size=100)
    start = fresh.stats.requests
    fresh.list_links(2)  # the repository's setting, the issue, /dependencies, /blocks
    assert fresh.stats.requests - start == 4
    start = fresh.stats.requests
    ready = ready_issues(fresh, IssueFilter(limit=3))
    # the open issues (one page), then /dependencies per candidate until three are ready
    assert [i.number for i in ready] == [1, 3, 4]
    assert fresh.stats.requests - start == 1 + 4
    fresh.close()
    backend.close()


def test_a_blocker_in_another_repository_is_not_listed_but_still_blocks(gitea):
    running, backend, _ = gitea
    backend.bulk_create([Issue(title="here"), Issue(title="free")])
    state = running.fake.state
    state.cross_repository_dependencies = True
    other = state.add_repo("alice", "elsewhere")
    state.new_issue(other, title="there", body="", poster="alice")
    client = httpx.Client(
        base_url=running.api_url, headers={"Authorization": f"token {WRITE_TOKEN}"}
    )
    meta = {"owner": "alice", "repo": "elsewhere", "index": 1}
    assert client.post("/repos/alice/tracker/issues/1/dependencies", json=meta).status_code == 201
    client.close()
    assert backend.list_links(1) == []  # #1 of elsewhere has no number here
    assert [i.number for i in ready_issues(backend, IssueFilter())] == [2]
    assert backend.get_issue(1).title == "here"  # its number was not taken for elsewhere's
