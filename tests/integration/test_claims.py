"""Claims with leases on the local store (issue 12, item 2): exactly one winner of any race
(real processes), the holder extends, heartbeats and releases, others get exit 10 naming the
holder and expiry, expiry makes the issue claimable again, fenced edits, ``issue next
--claim``, and bad input changing nothing."""

from __future__ import annotations

import json
import multiprocessing
import time

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.claims import parse_duration
from issue_core.core.errors import ClaimConflict, Conflict, NotFound, ValidationError
from issue_core.core.models import Issue, IssueState
from tests.integration.cli_run import run


def open_as(path, who: str) -> LocalBackend:
    backend = LocalBackend()
    backend.connect({"path": str(path), "identity": who})
    return backend


@pytest.fixture
def db(tmp_path):
    return tmp_path / "issues.db"


@pytest.fixture
def ann(db):
    backend = open_as(db, "ann")
    yield backend
    backend.close()


@pytest.fixture
def bob(db):
    backend = open_as(db, "bob")
    yield backend
    backend.close()


def test_a_claim_is_in_progress_with_the_holder_assigned_and_an_event(ann, bob):
    ann.create_issue(Issue(title="t", assignees=["carol"]))
    claim = ann.claim(1, ttl_s=3600)
    assert (claim.holder, claim.extended) == ("ann", False)
    issue = bob.get_issue_by_number(1)
    assert issue.state is IssueState.IN_PROGRESS and issue.assignees == ["ann", "carol"]
    event = ann.list_events(1)[-1]
    assert (event.kind, event.actor, event.data["holder"]) == ("claimed", "ann", "ann")
    assert event.data["expires_at"] == claim.expires_at


def test_another_agent_is_refused_with_holder_and_expiry_and_nothing_changes(ann, bob):
    ann.create_issue(Issue(title="t"))
    claim = ann.claim(1, ttl_s=3600)
    before = ann.list_events()
    with pytest.raises(ClaimConflict) as refused:
        bob.claim(1, ttl_s=3600)
    assert refused.value.exit_code == 10
    assert "claimed by ann until" in refused.value.message
    assert refused.value.details == {"holder": "ann", "expires_at": claim.expires_at}
    assert [e.cursor for e in ann.list_events()] == [e.cursor for e in before]


def test_claiming_again_extends_and_heartbeat_renews(ann):
    ann.create_issue(Issue(title="t"))
    first = ann.claim(1, ttl_s=60)
    again = ann.claim(1, ttl_s=7200)
    assert again.extended and again.claimed_at == first.claimed_at
    assert again.expires_at > first.expires_at
    beat = ann.heartbeat(1, ttl_s=10800)
    assert beat.expires_at > again.expires_at
    assert [e.kind for e in ann.list_events(1)][-3:] == ["claimed", "claimed", "heartbeat"]


def test_release_is_fenced_by_the_holder_and_force_is_recorded(ann, bob):
    ann.create_issue(Issue(title="t"))
    ann.claim(1, ttl_s=3600)
    with pytest.raises(ClaimConflict):
        bob.release(1)
    bob.release(1, force=True)
    event = ann.list_events(1)[-1]
    assert (event.kind, event.actor, event.data["forced"], event.data["holder"]) == (
        "released",
        "bob",
        True,
        "ann",
    )
    issue = ann.get_issue_by_number(1)
    assert issue.state is IssueState.OPEN and issue.assignees == []
    with pytest.raises(ClaimConflict, match="not claimed"):
        ann.release(1)
    ann.claim(1, ttl_s=60)
    ann.release(1)
    assert ann.list_events(1)[-1].data["forced"] is False


def test_a_live_lease_fences_other_agents_state_and_assignee_edits(ann, bob):
    ann.create_issue(Issue(title="t"))
    ann.claim(1, ttl_s=3600)
    theirs = bob.get_issue_by_number(1)
    theirs.state = IssueState.CLOSED
    with pytest.raises(ClaimConflict, match="claimed by ann"):
        bob.update_issue(theirs)
    theirs = bob.get_issue_by_number(1)
    theirs.assignees = ["bob"]
    with pytest.raises(ClaimConflict):
        bob.update_issue(theirs)
    theirs = bob.get_issue_by_number(1)
    theirs.title = "a title is not fenced"
    bob.update_issue(theirs)
    mine = ann.get_issue_by_number(1)
    mine.state = IssueState.CLOSED
    ann.update_issue(mine)  # the holder's close ends the lease
    reopened = bob.get_issue_by_number(1)
    reopened.state = IssueState.OPEN
    bob.update_issue(reopened)
    assert bob.claim(1, ttl_s=60).holder == "bob"


def test_an_expired_lease_is_claimable_again_and_recorded(ann, bob):
    ann.create_issue(Issue(title="t"))
    ann.claim(1, ttl_s=1)
    time.sleep(1.1)
    with pytest.raises(ClaimConflict, match="no live lease"):
        ann.heartbeat(1, ttl_s=60)  # a refused call writes nothing, the sweep included
    assert [e.kind for e in ann.list_events(1)] == ["created", "claimed"]
    assert bob.claim(1, ttl_s=60).holder == "bob"
    kinds = [(e.kind, e.actor, e.data.get("holder")) for e in ann.list_events(1)]
    assert kinds[-2:] == [("lease_expired", "bob", "ann"), ("claimed", "bob", "bob")]
    expired = ann.list_events(1)[-2].data["changes"]
    assert expired == {
        "state": {"before": "in_progress", "after": "open"},
        "assignees": {"before": ["ann"], "after": []},
    }
    assert ann.get_issue_by_number(1).assignees == ["bob"]


def test_bad_claims_change_nothing(ann):
    ann.create_issue(Issue(title="t", state=IssueState.CLOSED))
    with pytest.raises(Conflict, match="closed") as closed:
        ann.claim(1, ttl_s=60)
    assert closed.value.exit_code == 4
    with pytest.raises(NotFound):
        ann.claim(5, ttl_s=60)
    with pytest.raises(ClaimConflict):
        ann.heartbeat(1, ttl_s=60)
    assert [e.kind for e in ann.list_events()] == ["created"]
    for bad in ("0", "-1", "soon", "1y", "0s", ""):
        with pytest.raises(ValidationError):
            parse_duration(bad)
    assert parse_duration("1h30m") == 5400 and parse_duration("90") == 90


def test_next_picks_by_priority_then_age_and_skips_claimed_and_labels(ann, bob):
    ann.create_issue(Issue(title="old low"))
    ann.create_issue(Issue(title="urgent", priority=0))
    ann.create_issue(Issue(title="bug", labels=["bug"], priority=3), create_labels=True)
    ann.create_issue(Issue(title="done", state=IssueState.CLOSED, priority=0))
    issue, claim = ann.next_ready()
    assert issue is not None and issue.title == "urgent" and claim is None
    issue, claim = ann.next_ready(claim_ttl_s=60)
    assert issue is not None and issue.number == 2 and claim.holder == "ann"
    issue, _ = bob.next_ready(claim_ttl_s=60)
    assert issue is not None and issue.number == 3
    assert bob.next_ready(labels=["bug"], claim_ttl_s=60) == (None, None)
    issue, _ = bob.next_ready(claim_ttl_s=60)
    assert issue is not None and issue.number == 1
    assert bob.next_ready(claim_ttl_s=60) == (None, None)


def _race(path: str, who: str, start, results) -> None:
    backend = open_as(path, who)
    start.wait()
    try:
        results.put((who, backend.claim(1, ttl_s=600).holder))
    except ClaimConflict as refused:
        results.put((who, f"refused:{refused.details['holder']}"))
    finally:
        backend.close()


@pytest.mark.parametrize("racers", [8, 16])
def test_exactly_one_of_many_processes_wins(db, racers):
    seed = open_as(db, "seed")
    seed.create_issue(Issue(title="contended"))
    seed.close()
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_race, args=(str(db), f"w{n}", start, results)) for n in range(racers)
    ]
    for proc in procs:
        proc.start()
    start.set()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    winners = [who for who, got in outcomes if not got.startswith("refused")]
    assert len(winners) == 1
    assert all(got == f"refused:{winners[0]}" for who, got in outcomes if who not in winners)
    check = open_as(db, "check")
    try:
        assert check.get_issue_by_number(1).assignees == winners
        assert [e.kind for e in check.list_events(1)] == ["created", "claimed"]
    finally:
        check.close()


def _worker(path: str, who: str, start, results) -> None:
    backend = open_as(path, who)
    start.wait()
    taken = []
    try:
        while True:
            issue, _claim = backend.next_ready(claim_ttl_s=600)
            if issue is None:
                break
            taken.append(issue.number)
    finally:
        backend.close()
    results.put(taken)


def test_workers_looping_on_next_claim_take_every_issue_exactly_once(db):
    seed = open_as(db, "seed")
    seed.bulk_create([Issue(title=f"task {n}", priority=n % 5) for n in range(120)])
    seed.close()
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(db), f"w{n}", start, results)) for n in range(8)]
    for proc in procs:
        proc.start()
    start.set()
    taken = [n for _ in procs for n in results.get(timeout=120)]
    for proc in procs:
        proc.join(timeout=60)
    assert sorted(taken) == list(range(1, 121))


def test_cli_claim_release_next_and_exit_codes(tmp_path):
    cwd = tmp_path / "repo"
    cwd.mkdir()
    env = {"ISSUE_CORE_USER": "ann", "ISSUE_CORE_CONFIG_DIR": str(tmp_path / "cfg")}
    assert run(["create", "x"], cwd, env).returncode == 0
    won = run(["--as", "w1", "claim", "1", "--format", "json"], cwd, env)
    assert won.returncode == 0, won.stderr
    claim = json.loads(won.stdout)
    assert set(claim) == {"number", "holder", "claimed_at", "expires_at", "extended"}
    assert claim["holder"] == "w1"
    lost = run(["--as", "w2", "claim", "1"], cwd, env)
    assert lost.returncode == 10 and "claimed by w1 until" in lost.stderr
    as_json = run(["--as", "w2", "claim", "1", "--format", "json"], cwd, env)
    error = json.loads(as_json.stderr)["error"]
    assert error["code"] == "claimed" and error["details"]["holder"] == "w1"
    for bad in ("0", "-5m", "later"):
        refused = run(["--as", "w1", "claim", "1", "--ttl", bad], cwd, env)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert run(["--as", "w2", "release", "1"], cwd, env).returncode == 10
    assert run(["--as", "w2", "close", "1"], cwd, env).returncode == 10
    assert run(["--as", "w1", "release", "1"], cwd, env).returncode == 0
    picked = run(["--as", "w3", "next", "--claim", "--json", "number,state,assignees"], cwd, env)
    assert json.loads(picked.stdout) == {"number": 1, "state": "in_progress", "assignees": ["w3"]}
    nothing = run(["next", "--claim", "--format", "json"], cwd, env)
    assert nothing.returncode == 0 and nothing.stdout.strip() == "null"
    assert run(["next", "--claim"], cwd, env).stdout == "nothing ready\n"
    assert run(["claim", "7"], cwd, env).returncode == 3


def test_the_default_ttl_comes_from_the_config(tmp_path):
    cwd = tmp_path / "repo"
    (cwd / ".issue-core").mkdir(parents=True)
    (cwd / ".issue-core" / "config.toml").write_text('[claims]\nttl = "10m"\n')
    env = {"ISSUE_CORE_USER": "ann", "ISSUE_CORE_CONFIG_DIR": str(tmp_path / "cfg")}
    run(["create", "x"], cwd, env)
    claim = json.loads(run(["claim", "1", "--format", "json"], cwd, env).stdout)
    from issue_core.core.models import parse_ts

    span = parse_ts(claim["expires_at"]) - parse_ts(claim["claimed_at"])
    assert span.total_seconds() == 600
    (cwd / ".issue-core" / "config.toml").write_text('[claims]\nttl = "forever"\n')
    bad = run(["claim", "1"], cwd, env)
    assert bad.returncode == 2 and "[claims] ttl" in bad.stderr


def test_looking_at_next_writes_nothing_and_sees_what_the_sweep_would_free(ann, bob):
    ann.create_issue(Issue(title="held", priority=0))
    ann.create_issue(Issue(title="free", priority=2))
    ann.claim(1, ttl_s=3600)
    events = [e.cursor for e in ann.list_events()]
    issue, claim = bob.next_ready()  # no claim: a read, past the live lease
    assert (issue.number, claim) == (2, None)
    ann.claim(2, ttl_s=1)
    time.sleep(1.1)
    issue, _ = bob.next_ready()  # #2's lease ran out: ready again, though not yet swept
    assert issue.number == 2
    assert len(ann.list_events()) == len(events) + 1  # only ann's claim of #2: no sweep written
    issue, claim = bob.next_ready(claim_ttl_s=60)  # claiming sweeps, then takes the same one
    assert (issue.number, claim.holder) == (2, "bob")
    assert [e.kind for e in ann.list_events(2)][-2:] == ["lease_expired", "claimed"]
