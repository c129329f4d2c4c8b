"""The ready queue: the local store's one query and the generic ``IssueBackend.list_ready``
(what a backend without a query of its own gets) answer alike, on random link graphs."""

from __future__ import annotations

import random

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.dependencies import Link
from issue_core.core.errors import Conflict
from issue_core.core.interfaces import IssueBackend
from issue_core.core.models import Issue, IssueFilter, IssueState
from issue_core.service.ready import ready_issues


@pytest.fixture
def backend(tmp_path):
    store = LocalBackend()
    store.connect({"path": str(tmp_path / "issues.db"), "identity": "tester"})
    yield store
    store.close()


@pytest.mark.parametrize("seed", range(4))
def test_the_query_and_the_generic_queue_agree(backend, seed):
    rng = random.Random(seed)
    issues = backend.bulk_create(
        (
            Issue(title=f"t{n}", priority=rng.choice([None, 0, 1, 2, 4]), labels=["x"] * (n % 2))
            for n in range(30)
        ),
        create_labels=True,
    )
    for issue in issues:
        if rng.random() < 0.3:
            issue.state = rng.choice([IssueState.CLOSED, IssueState.IN_PROGRESS])
            backend.update_issue(issue)
    for _ in range(40):
        source, target = rng.sample(range(1, 31), 2)
        try:
            backend.add_link(Link(rng.choice(["blocks", "blocks", "related"]), source, target))
        except Conflict:
            pass  # a cycle: refused, as it should be
    for flt in (IssueFilter(), IssueFilter(labels=["x"]), IssueFilter(limit=5)):
        fast = [i.number for i in ready_issues(backend, flt)]
        only_open = flt.without_query()
        only_open.states = (IssueState.OPEN,)
        generic = [i.number for i in IssueBackend.list_ready(backend, only_open)]
        assert fast == generic
        for number in fast:
            issue = backend.get_issue(number)
            assert issue.state is IssueState.OPEN
            blockers = [
                link for link in backend.list_links(number) if link.relation == "blocked_by"
            ]
            assert all(link.state == "closed" for link in blockers)


def test_a_live_lease_keeps_an_issue_out_of_the_queue_and_an_expired_one_does_not(backend):
    backend.bulk_create([Issue(title="held"), Issue(title="lapsed"), Issue(title="free")])
    with backend.store.writer() as conn:
        for number, expires in ((1, "2999-01-01T00:00:00.000000Z"),
                                (2, "2000-01-01T00:00:00.000000Z")):  # fmt: skip
            conn.execute(
                "INSERT INTO claims (issue_id, holder, claimed_at, expires_at) "
                "SELECT id, 'w1', '2000-01-01T00:00:00.000000Z', ? FROM issues WHERE number = ?",
                (expires, number),
            )
    assert [i.number for i in ready_issues(backend, IssueFilter())] == [2, 3]


def test_links_are_events_of_both_issues(backend):
    backend.bulk_create([Issue(title="a"), Issue(title="b")])
    backend.add_link(Link("blocks", 1, 2))
    backend.remove_link(Link("blocks", 1, 2))
    events = [(e.issue, e.kind, e.data) for e in backend.list_events(limit=50)
              if e.kind in ("linked", "unlinked")]  # fmt: skip
    data = {"kind": "blocks", "source": 1, "target": 2}
    assert events == [(1, "linked", data), (2, "linked", data),
                      (1, "unlinked", data), (2, "unlinked", data)]  # fmt: skip
