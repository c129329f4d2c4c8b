"""Claims with leases on every forge (issue 12, item 2), against the fakes over HTTP with every
exchange held to the forge's API description: the marker protocol of ``forge.claims``.

The same rules as the local store's (tests/integration/test_claims.py): one winner, the
holder extends, renews and releases, others exit 10 naming holder and expiry, a lease that ran
out (the fake's clock moved) is claimable again, fenced edits, ``next --claim``, bad input
changing nothing; and racing claimers -- threads, each its own connection, the fake's
requests interleaved by injected latency -- of whom exactly one wins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from issue_core.core.errors import ClaimConflict, Conflict, NotFound
from issue_core.core.interfaces import Capability
from issue_core.core.models import Issue, IssueState, parse_ts

FORGES = ("gitea", "github", "gitlab")
USERS = ("ann", "bob", "carol")


class Clock:
    """The fake's clock: real time plus an offset a test moves (a lease running out)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class Forge:
    """One fake forge and a backend per agent on it (each its own HTTP connection)."""

    def __init__(self, name: str, running: Any, tmp_path: Path) -> None:
        self.name = name
        self.running = running
        self.clock = Clock()
        running.fake.state.clock = self.clock
        self.tmp_path = tmp_path
        self.opened: list[Any] = []

    def agent(self, name: str | None, **settings: Any) -> Any:
        from issue_core.backends.gitea import GiteaBackend
        from issue_core.backends.github import GitHubBackend
        from issue_core.backends.gitlab import GitLabBackend

        kind = {"gitea": GiteaBackend, "github": GitHubBackend, "gitlab": GitLabBackend}
        backend = kind[self.name]()
        backend.connect(self.running.backend_config(**settings))
        backend.agent = name
        self.opened.append(backend)
        return backend

    def comments(self, number: int) -> list[str]:
        return [c.body for c in self.agent(None).list_comments(number)]


def _start(name: str, request: pytest.FixtureRequest) -> Any:
    if name == "gitlab":
        from tests.fakes.gitlab_state import DEVELOPER

        running = request.getfixturevalue("fake_gitlab")
        for login in USERS:
            running.fake.add_member(login, DEVELOPER)
        return running
    running = request.getfixturevalue(f"fake_{name}")
    for login in USERS:
        running.fake.add_collaborator(login)
    return running


@pytest.fixture(params=FORGES)
def forge(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Forge]:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "http-cache"))
    forge = Forge(request.param, _start(request.param, request), tmp_path)
    yield forge
    for backend in forge.opened:
        backend.close()


def test_every_forge_declares_claims_but_not_atomic_ones(forge):
    backend = forge.agent("ann")
    assert backend.supports(Capability.CLAIMS)
    assert not backend.supports(Capability.ATOMIC_CLAIMS)


def test_a_claim_is_in_progress_assigned_and_recorded_and_others_are_refused(forge):
    ann, bob = forge.agent("ann"), forge.agent("bob")
    number = ann.create_issue(Issue(title="t")).number
    claim = ann.claim(number, ttl_s=3600)
    assert (claim.holder, claim.extended) == ("ann", False)
    issue = bob.get_issue_by_number(number)
    assert issue.state is IssueState.IN_PROGRESS
    assert issue.assignees == [ann.whoami().username]
    assert any("ann claims this issue for 1h" in body for body in forge.comments(number))
    with pytest.raises(ClaimConflict) as refused:
        bob.claim(number, ttl_s=3600)
    assert refused.value.exit_code == 10
    assert f"claimed by ann until {claim.expires_at}" in refused.value.message
    assert refused.value.details == {"holder": "ann", "expires_at": claim.expires_at}


def test_claiming_again_extends_and_heartbeat_renews_only_for_the_holder(forge):
    ann, bob = forge.agent("ann"), forge.agent("bob")
    number = ann.create_issue(Issue(title="t")).number
    first = ann.claim(number, ttl_s=60)
    forge.clock.offset += 5
    again = ann.claim(number, ttl_s=7200)
    assert again.extended and again.claimed_at == first.claimed_at
    assert again.expires_at > first.expires_at
    forge.clock.offset += 5
    beat = ann.heartbeat(number, ttl_s=10800)
    assert beat.expires_at > again.expires_at
    with pytest.raises(ClaimConflict, match="claimed by ann"):
        bob.heartbeat(number, ttl_s=60)


def test_release_is_fenced_by_the_holder_and_force_is_recorded(forge):
    ann, bob = forge.agent("ann"), forge.agent("bob")
    number = ann.create_issue(Issue(title="t")).number
    ann.claim(number, ttl_s=3600)
    with pytest.raises(ClaimConflict, match="claimed by ann"):
        bob.release(number)
    released = bob.release(number, force=True)
    assert released.holder == "ann"
    issue = ann.get_issue_by_number(number)
    assert issue.state is IssueState.OPEN and issue.assignees == []
    assert any("bob releases the claim of ann (forced)" in b for b in forge.comments(number))
    with pytest.raises(ClaimConflict, match="not claimed"):
        ann.release(number)
    bob.claim(number, ttl_s=60)  # claimable again


def test_a_live_lease_fences_other_agents_state_and_assignee_edits(forge):
    ann, bob = forge.agent("ann"), forge.agent("bob")
    number = ann.create_issue(Issue(title="t")).number
    ann.claim(number, ttl_s=3600)
    issue = bob.get_issue_by_number(number)
    issue.state = IssueState.CLOSED
    with pytest.raises(ClaimConflict, match="its state cannot change under the lease"):
        bob.update_issue(issue)
    issue = bob.get_issue_by_number(number)
    issue.assignees = ["carol"]
    with pytest.raises(ClaimConflict, match="assignees"):
        bob.update_issue(issue)
    issue = bob.get_issue_by_number(number)
    issue.title = "a title is not fenced"
    bob.update_issue(issue)
    stored = ann.get_issue_by_number(number)
    assert stored.state is IssueState.IN_PROGRESS and stored.title == "a title is not fenced"
    # The holder closing its issue ends the lease with the close.
    stored.state = IssueState.CLOSED
    ann.update_issue(stored)
    assert any("ann ends its claim" in body for body in forge.comments(number))
    with pytest.raises(ClaimConflict, match="no live lease"):
        ann.heartbeat(number, ttl_s=60)


def test_an_expired_lease_is_claimable_again_and_recorded(forge):
    ann, bob = forge.agent("ann"), forge.agent("bob")
    number = ann.create_issue(Issue(title="t")).number
    first = ann.claim(number, ttl_s=60)
    forge.clock.offset += 61
    with pytest.raises(ClaimConflict, match="no live lease"):
        ann.heartbeat(number, ttl_s=60)  # a heartbeat on a lease that ran out
    taken = bob.claim(number, ttl_s=60)
    assert taken.holder == "bob" and not taken.extended
    assert any(
        f"the lease of ann ran out at {first.expires_at}" in body for body in forge.comments(number)
    )
    issue = ann.get_issue_by_number(number)
    issue.state = IssueState.OPEN
    with pytest.raises(ClaimConflict, match="claimed by bob"):
        ann.update_issue(issue)


def test_bad_claims_change_nothing(forge):
    ann = forge.agent("ann")
    number = ann.create_issue(Issue(title="t")).number
    with pytest.raises(NotFound):
        ann.claim(number + 50, ttl_s=60)
    closed = ann.get_issue_by_number(number)
    closed.state = IssueState.CLOSED
    ann.update_issue(closed)
    forge.running.reset_count()
    with pytest.raises(Conflict, match="closed") as refused:
        ann.claim(number, ttl_s=60)
    assert not isinstance(refused.value, ClaimConflict) and refused.value.exit_code == 4
    with pytest.raises(ClaimConflict, match="no lease to release"):
        ann.release(number)
    with pytest.raises(ClaimConflict, match="no live lease"):
        ann.heartbeat(number, ttl_s=60)
    assert [e.method for e in forge.running.requests()] == ["GET"] * len(forge.running.requests())


def test_next_claim_takes_the_most_important_and_moves_on_past_claimed(forge):
    ann, bob = forge.agent("ann"), forge.agent("bob")
    low = ann.create_issue(Issue(title="low", priority=3)).number
    high = ann.create_issue(Issue(title="high", priority=1)).number
    issue, claim = ann.next_ready(claim_ttl_s=3600)
    assert issue is not None and issue.number == high and claim.holder == "ann"
    assert issue.state is IssueState.IN_PROGRESS
    issue, claim = bob.next_ready(claim_ttl_s=3600)
    assert issue is not None and issue.number == low and claim.holder == "bob"
    assert bob.next_ready(claim_ttl_s=3600) == (None, None)
    # A lease that ran out makes its in-progress issue ready for the next claimer.
    forge.clock.offset += 3601
    issue, claim = bob.next_ready(claim_ttl_s=60)
    assert issue is not None and issue.number == high and claim.holder == "bob"


def _race(agents: list[Any], attempt: Callable[[Any], Any]) -> list[Any]:
    """Run ``attempt(agent)`` for every agent at once; the results (or errors), in order."""
    start = threading.Barrier(len(agents))
    results: list[Any] = [None] * len(agents)

    def run(i: int, agent: Any) -> None:
        start.wait()
        try:
            results[i] = attempt(agent)
        except Exception as exc:  # the test looks at what each got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(agents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.parametrize("latency", [0.0, 0.02])
def test_exactly_one_of_many_racing_claimers_wins(forge, latency):
    # Each claimer has its own connection; latency makes the fake interleave their requests
    # (a marker posted while another claimer is between its post and its re-read).
    agents = [forge.agent(f"worker-{i}") for i in range(6)]
    number = agents[0].create_issue(Issue(title="contended")).number
    forge.running.fake.faults.latency = latency
    results = _race(agents, lambda a: a.claim(number, ttl_s=3600))
    forge.running.fake.faults.latency = 0.0
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(e, ClaimConflict) for e in losers), losers
    holder = winners[0].holder
    assert all(e.details.get("holder") in (holder, None) for e in losers)
    # Every loser withdrew its marker: one claim marker is left.
    markers = [b for b in forge.comments(number) if "claims this issue" in b]
    assert len(markers) == 1 and holder in markers[0]


def test_racing_workers_on_next_claim_take_each_issue_once(forge):
    agents = [forge.agent(f"worker-{i}") for i in range(4)]
    numbers = [agents[0].create_issue(Issue(title=f"i{n}")).number for n in range(4)]
    forge.running.fake.faults.latency = 0.01
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()

    def loop(agent: Any) -> int:
        count = 0
        while True:
            issue, claim = agent.next_ready(claim_ttl_s=3600)
            if issue is None:
                return count
            with lock:
                taken.append((claim.holder, issue.number))
            count += 1

    results = _race(agents, loop)
    forge.running.fake.faults.latency = 0.0
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(n for _, n in taken) == sorted(numbers)


def _lagging(backend: Any) -> Any:
    """``backend`` reading the claim markers from a lagging replica: it sees only its own
    (the window of the marker protocol: a marker stored but not yet listed)."""
    from issue_core.backends.forge import leases

    seen = type(backend)._marker_comments
    own: set[int] = set()
    posted = type(backend)._post_marker

    def post(self: Any, number: int, text: str) -> Any:
        raw = posted(self, number, text)
        own.add(int(raw["id"]))
        return raw

    def listed(self: Any, number: int) -> list[Any]:
        return [c for c in seen(self, number) if leases.parse_marker(c) is None or c["id"] in own]

    backend._post_marker = post.__get__(backend)
    backend._marker_comments = listed.__get__(backend)
    return backend


def test_a_marker_not_yet_visible_double_claims_except_where_the_body_is_a_compare_and_set(
    forge,
):
    ann, bob = forge.agent("ann"), _lagging(forge.agent("bob"))
    number = ann.create_issue(Issue(title="t")).number
    ann.claim(number, ttl_s=3600)
    if forge.name == "gitea":
        # Gitea's content_version: bob won the replay it could see, but ann's seal is live.
        with pytest.raises(ClaimConflict, match="claimed by ann"):
            bob.claim(number, ttl_s=3600)
        assert not [b for b in forge.comments(number) if "bob claims" in b]  # withdrawn
    else:
        # No compare-and-set: the documented window (AGENT_INTEGRATION.md) is real.
        assert bob.claim(number, ttl_s=3600).holder == "bob"


def test_the_seal_follows_heartbeat_and_release_on_gitea(forge):
    from issue_core.backends.forge import leases

    if forge.name != "gitea":
        pytest.skip("only Gitea's body is a compare-and-set")
    ann, bob = forge.agent("ann"), _lagging(forge.agent("bob"))
    number = ann.create_issue(Issue(title="t", description="keep me")).number
    claim = ann.claim(number, ttl_s=60)
    body = forge.running.fake.issue(number).body
    assert leases.sealed(body).expires_at == parse_ts(claim.expires_at)
    assert ann.get_issue_by_number(number).description == "keep me"
    beat = ann.heartbeat(number, ttl_s=7200)
    sealed = leases.sealed(forge.running.fake.issue(number).body)
    assert sealed.expires_at == parse_ts(beat.expires_at)
    ann.release(number)
    assert leases.sealed(forge.running.fake.issue(number).body) is None
    assert bob.claim(number, ttl_s=60).holder == "bob"  # nothing sealed: bob may


def test_a_claim_marker_reads_as_one_line_by_its_agent(forge):
    ann = forge.agent("ann")
    number = ann.create_issue(Issue(title="t")).number
    ann.claim(number, ttl_s=7200)
    (marker,) = ann.list_comments(number)
    assert (marker.body, marker.agent) == ("issue-core: ann claims this issue for 2h", "ann")
