"""Dependencies on GitHub: ``blocks`` as issue dependencies and ``parent`` as sub-issues, both
addressed by the other issue's global id (never its number), every page of their lists read;
``related`` in the hidden block; ``issue ready`` from the listing's dependency summaries."""

from __future__ import annotations

import pytest

from issue_core.backends.github import GitHubBackend
from issue_core.core.dependencies import Link
from issue_core.core.errors import Conflict
from issue_core.core.models import Issue, IssueFilter, IssueState
from issue_core.service.ready import ready_issues
from tests.contract.forge_backends import opener


@pytest.fixture
def github(fake_github, tmp_path, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    opened: list = []
    open_backend = opener(fake_github, GitHubBackend, opened)
    backend = open_backend(page_size=2)  # every relationship list below spans pages
    yield fake_github, backend, open_backend
    for each in opened:
        each.close()


def numbers(links, relation):
    return [link.number for link in links if link.relation == relation]


def test_blocks_and_parents_are_github_links_by_global_id(github):
    running, backend, _ = github
    made = backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 8)])
    ids = {issue.number: int(issue.id) for issue in made}
    for blocker in (2, 3, 4):
        backend.add_link(Link("blocks", blocker, 1))
    for child in (5, 6, 7):
        backend.add_link(Link("parent", 1, child))
    repo = running.fake.repo
    assert repo.blockers == {ids[1]: [ids[2], ids[3], ids[4]]}
    assert repo.parents == {ids[c]: ids[1] for c in (5, 6, 7)}
    assert all(n not in repo.blockers[ids[1]] for n in range(1, 8))  # ids, not numbers
    links = backend.list_links(1)
    assert numbers(links, "blocked_by") == [2, 3, 4]
    assert numbers(links, "children") == [5, 6, 7]
    assert numbers(backend.list_links(2), "blocks") == [1]
    assert numbers(backend.list_links(6), "parent") == [1]
    backend.remove_link(Link("parent", 1, 6))
    backend.remove_link(Link("blocks", 3, 1))
    assert repo.parents == {ids[5]: ids[1], ids[7]: ids[1]}
    assert repo.blockers[ids[1]] == [ids[2], ids[4]]
    assert "issue-core:links" not in (running.fake.repo.issues[1].body or "")


def test_related_lives_in_the_block(github):
    running, backend, _ = github
    backend.bulk_create([Issue(title="a"), Issue(title="b")])
    backend.add_link(Link("related", 1, 2))
    assert '"related":[2]' in running.fake.repo.issues[1].body
    assert numbers(backend.list_links(2), "related") == [1]


def test_a_second_parent_and_a_cycle_are_refused(github):
    running, backend, _ = github
    backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 5)])
    backend.add_link(Link("parent", 1, 2))
    with pytest.raises(Conflict, match="#2 already has a parent, #1"):
        backend.add_link(Link("parent", 3, 2))
    backend.add_link(Link("blocks", 2, 3))
    backend.add_link(Link("blocks", 3, 4))
    with pytest.raises(Conflict, match="#4 blocks #2 blocks #3 blocks #4"):
        backend.add_link(Link("blocks", 4, 2))
    assert sum(len(v) for v in running.fake.repo.blockers.values()) == 2


def test_ready_reads_the_listing_only(github):
    """GitHub's issue JSON counts each issue's open blockers: the queue costs the listing."""
    _, _, open_backend = github
    backend = open_backend()
    backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 6)])
    backend.add_link(Link("blocks", 1, 2))
    backend.add_link(Link("blocks", 2, 3))
    fresh = open_backend()
    start = fresh.stats.requests
    assert [i.number for i in ready_issues(fresh, IssueFilter())] == [1, 4, 5]
    assert fresh.stats.requests - start == 1
    issue = fresh.get_issue(1)
    issue.state = IssueState.CLOSED
    fresh.update_issue(issue)
    assert [i.number for i in ready_issues(fresh, IssueFilter())] == [2, 4, 5]
    fresh.close()
    backend.close()
