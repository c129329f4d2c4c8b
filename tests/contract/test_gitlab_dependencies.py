"""Dependencies on GitLab: ``related`` as issue links everywhere, ``blocks`` as issue links on
a paid tier and in the hidden block on Free (GitLab's 403 detected, said once, remembered),
``parent`` in the block; and what the fake GitLab refuses as GitLab does."""

from __future__ import annotations

import httpx
import pytest

from issue_core.backends.gitlab import GitLabBackend
from issue_core.core.dependencies import Link
from issue_core.core.errors import Conflict
from issue_core.core.models import Issue, IssueFilter, IssueState
from issue_core.service.ready import ready_issues
from tests.contract.forge_backends import opener
from tests.fakes.gitlab import OWNER_TOKEN


@pytest.fixture
def gitlab(fake_gitlab, tmp_path, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    opened: list = []
    yield fake_gitlab, opener(fake_gitlab, GitLabBackend, opened)
    for backend in opened:
        backend.close()


def relations(links):
    return [(link.relation, link.number) for link in links]


def links_of(state):
    return sorted((v.source_id, v.target_id, v.link_type) for v in state.issue_links.values())


def test_on_a_paid_tier_blocks_and_related_are_gitlab_links(gitlab):
    running, open_backend = gitlab
    running.fake.state.blocked_issues_licensed = True
    backend = open_backend()
    made = backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 5)])
    ids = {issue.number: int(issue.id) for issue in made}
    backend.add_link(Link("blocks", 1, 2))
    backend.add_link(Link("blocks", 3, 2))
    backend.add_link(Link("related", 2, 4))
    assert links_of(running.fake.state) == sorted(
        [(ids[1], ids[2], "blocks"), (ids[3], ids[2], "blocks"), (ids[2], ids[4], "relates_to")]
    )
    assert "issue-core:links" not in running.fake.project.issues[2].description
    assert relations(backend.list_links(2)) == [
        ("blocked_by", 1),
        ("blocked_by", 3),
        ("related", 4),
    ]
    assert relations(backend.list_links(1)) == [("blocks", 2)]
    assert [i.number for i in ready_issues(backend, IssueFilter())] == [1, 3, 4]
    backend.remove_link(Link("blocks", 1, 2))
    assert relations(backend.list_links(2)) == [("blocked_by", 3), ("related", 4)]
    assert backend.notices == []


def test_on_free_blocks_fall_back_to_the_block_with_one_warning(gitlab):
    running, open_backend = gitlab
    backend = open_backend()
    backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 5)])
    backend.add_link(Link("blocks", 1, 2))
    backend.add_link(Link("blocks", 3, 2))
    backend.add_link(Link("related", 2, 4))
    assert [v.link_type for v in running.fake.state.issue_links.values()] == ["relates_to"]
    assert '"blocked_by":[1,3]' in running.fake.project.issues[2].description
    assert [n for n in backend.notices if "paid tier" in n] == [backend.notices[0]]
    assert len(backend.notices) == 1
    assert relations(backend.list_links(2)) == [
        ("blocked_by", 1),
        ("blocked_by", 3),
        ("related", 4),
    ]
    assert [i.number for i in ready_issues(backend, IssueFilter())] == [1, 3, 4]
    backend.remove_link(Link("blocks", 1, 2))
    assert relations(backend.list_links(2)) == [("blocked_by", 3), ("related", 4)]
    # The next process remembers the tier: no refused request, no second warning.
    later = open_backend()
    start = later.stats.requests
    later.add_link(Link("blocks", 4, 1))
    assert later.notices == []
    methods = later.stats.by_method
    assert methods.get("POST", 0) == 0 and later.stats.requests - start >= 1


def test_gitlab_keeps_one_link_between_two_issues(gitlab):
    running, open_backend = gitlab
    running.fake.state.blocked_issues_licensed = True
    backend = open_backend()
    backend.bulk_create([Issue(title="a"), Issue(title="b")])
    backend.add_link(Link("related", 1, 2))
    with pytest.raises(Conflict, match="GitLab keeps one link between two issues"):
        backend.add_link(Link("blocks", 1, 2))
    assert len(running.fake.state.issue_links) == 1


def test_the_fake_refuses_what_gitlab_refuses(gitlab):
    running, open_backend = gitlab
    backend = open_backend()
    backend.bulk_create([Issue(title="a"), Issue(title="b")])
    project = running.fake.project.id
    client = httpx.Client(base_url=running.api_url, headers={"PRIVATE-TOKEN": OWNER_TOKEN})
    path = f"/projects/{project}/issues/1/links"

    def post(**params):
        return client.post(path, json={"target_project_id": project, **params})

    free = post(target_issue_iid=2, link_type="blocks")
    assert free.status_code == 403
    assert free.json() == {"message": "Blocked issues not available for current license"}
    assert post(target_issue_iid=2).status_code == 201
    assert post(target_issue_iid=2).status_code == 409
    assert post(target_issue_iid=9).status_code == 404
    assert post(target_issue_iid=1).status_code == 404  # itself
    listed = client.get(path).json()
    assert [(i["iid"], i["link_type"]) for i in listed] == [(2, "relates_to")]
    assert client.delete(f"{path}/{listed[0]['issue_link_id'] + 7}").status_code == 404
    assert client.delete(f"{path}/{listed[0]['issue_link_id']}").status_code == 200
    running.fake.state.blocked_issues_licensed = True
    blocked = post(target_issue_iid=2, link_type="is_blocked_by")
    assert blocked.status_code == 201
    seen_from_2 = client.get(f"/projects/{project}/issues/2/links").json()
    assert [(i["iid"], i["link_type"]) for i in seen_from_2] == [(1, "blocks")]
    client.close()


def test_request_counts(gitlab):
    """What docs/dependencies.md says each operation costs on GitLab (paid tier)."""
    running, open_backend = gitlab
    running.fake.state.blocked_issues_licensed = True
    backend = open_backend()
    backend.bulk_create([Issue(title=f"t{n}") for n in range(1, 11)])
    backend.add_link(Link("blocks", 1, 2))
    backend.add_link(Link("related", 3, 4))
    closing = backend.get_issue(10)
    closing.state = IssueState.CLOSED
    backend.update_issue(closing)
    fresh = open_backend()
    start = fresh.stats.requests
    fresh.list_links(2)  # the issue, then its links (one list, every kind)
    assert fresh.stats.requests - start == 2
    start = fresh.stats.requests
    assert [i.number for i in ready_issues(fresh, IssueFilter(limit=3))] == [1, 3, 4]
    # the open issues (one page), then the links of each candidate until three are ready
    assert fresh.stats.requests - start == 1 + 4
