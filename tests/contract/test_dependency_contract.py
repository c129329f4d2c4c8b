"""Dependencies on every backend (``backend``: the local store and each fake forge): on random
link graphs the backend's own ready queue and the generic ``IssueBackend.list_ready`` answer
alike, every link reads the same from both ends, and refused links change nothing."""

from __future__ import annotations

import random

import pytest

from issue_core.core.dependencies import Link, linked
from issue_core.core.errors import Conflict, NotFound, ValidationError
from issue_core.core.interfaces import IssueBackend
from issue_core.core.models import Issue, IssueFilter, IssueState
from issue_core.service.ready import ready_issues


def snapshot(backend, count):
    return {n: [(x.relation, x.number) for x in backend.list_links(n)] for n in range(1, count + 1)}


@pytest.mark.parametrize("seed", range(2))
def test_random_graphs_read_alike_from_both_ends_and_queue_alike(backend, seed):
    rng = random.Random(seed)
    count = 9
    backend.bulk_create(
        [Issue(title=f"t{n}", priority=rng.choice([None, 0, 2, 4])) for n in range(count)]
    )
    for number in rng.sample(range(1, count + 1), 3):
        issue = backend.get_issue(number)
        issue.state = IssueState.CLOSED
        backend.update_issue(issue)
    stored: set[Link] = set()
    for _ in range(12):
        source, target = rng.sample(range(1, count + 1), 2)
        link = Link(rng.choice(["blocks", "blocks", "parent", "related"]), source, target)
        try:
            if backend.add_link(link):
                stored.add(link)
        except Conflict:
            pass  # a cycle or a second parent, or (GitLab) a second link between two issues
    links = snapshot(backend, count)
    expected: dict[int, list[tuple[str, int]]] = {n: [] for n in range(1, count + 1)}
    for link in stored:
        for end in (link.source, link.target):
            expected[end].append(linked(link, end))
    assert {n: sorted(v) for n, v in links.items()} == {n: sorted(v) for n, v in expected.items()}
    for flt in (IssueFilter(), IssueFilter(limit=2)):
        fast = [i.number for i in ready_issues(backend, flt)]
        only_open = flt.without_query()
        only_open.states = (IssueState.OPEN,)
        generic = [i.number for i in IssueBackend.list_ready(backend, only_open)]
        assert fast == generic


def test_refused_links_change_nothing(backend):
    backend.bulk_create([Issue(title="a"), Issue(title="b"), Issue(title="c")])
    backend.add_link(Link("blocks", 1, 2))
    backend.add_link(Link("blocks", 2, 3))
    backend.add_link(Link("parent", 1, 3))
    before = snapshot(backend, 3)
    bodies = [backend.get_issue(n).version for n in (1, 2, 3)]
    for link, error in (
        (Link("blocks", 3, 1), Conflict),
        (Link("parent", 2, 3), Conflict),
        (Link("blocks", 2, 2), ValidationError),
        (Link("blocks", 2, 9), NotFound),
        (Link("related", 9, 1), NotFound),
    ):
        with pytest.raises(error):
            backend.add_link(link)
    with pytest.raises(NotFound, match="no such dependency"):
        backend.remove_link(Link("blocks", 3, 2))
    with pytest.raises(Conflict) as cycle:
        backend.add_link(Link("blocks", 3, 1))
    assert "#3 blocks #1 blocks #2 blocks #3" in str(cycle.value)  # the message shows the cycle
    assert snapshot(backend, 3) == before
    assert [backend.get_issue(n).version for n in (1, 2, 3)] == bodies


def test_ready_is_open_unblocked_unclaimed_by_priority_then_age(backend):
    backend.bulk_create(
        [Issue(title=f"t{n}", priority=p) for n, p in enumerate([None, 2, 0, 2, 1, 0, 3])]
    )
    backend.add_link(Link("blocks", 7, 6))  # #6 (priority 0) waits for #7
    backend.claim(5, ttl_s=600)  # #5 (priority 1) is taken
    closed = backend.get_issue(4)
    closed.state = IssueState.CLOSED
    backend.update_issue(closed)
    assert [i.number for i in ready_issues(backend, IssueFilter())] == [3, 2, 7, 1]
    closed = backend.get_issue(7)
    closed.state = IssueState.CLOSED
    backend.update_issue(closed)  # its blocker closed, #6 is ready: after #3, older, same priority
    assert [i.number for i in ready_issues(backend, IssueFilter())] == [3, 6, 2, 1]
