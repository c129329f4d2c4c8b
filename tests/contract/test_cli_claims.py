"""Claims through the ``issue`` CLI on every backend (local store and each forge fake): the same
commands, the same exit codes and the same one-line errors (issue 12, item 2 and Bad input).
"""

from __future__ import annotations

import json

import pytest

from issue_core.core.interfaces import Capability


@pytest.fixture
def cli(cli_backend):
    if not cli_backend.supports(Capability.CLAIMS):
        pytest.fail("every backend has claims")
    return cli_backend


def _one_line(result) -> None:
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result


def test_claim_conflict_release_and_next_exit_codes(cli):
    number = cli.json("create", "x")["number"]
    claim = cli.json("--as", "w1", "claim", number)
    assert set(claim) == {"number", "holder", "claimed_at", "expires_at", "extended"}
    assert claim["holder"] == "w1"
    lost = cli("--as", "w2", "claim", number)
    assert lost.exit_code == 10 and f"claimed by w1 until {claim['expires_at']}" in lost.stderr
    _one_line(lost)
    error = cli("--as", "w2", "claim", number, "--format", "json").error()
    assert error["code"] == "claimed" and error["details"]["holder"] == "w1"
    assert cli("--as", "w2", "release", number).exit_code == 10
    assert cli("--as", "w2", "close", number).exit_code == 10
    assert cli("--as", "w2", "edit", number, "--state", "open").exit_code == 10
    assert cli.json("show", number)["state"] == "in_progress"
    assert cli("--as", "w1", "heartbeat", number).exit_code == 0
    assert cli("--as", "w1", "release", number).exit_code == 0
    picked = cli.json("--as", "w3", "next", "--claim", "--json", "number,state")
    assert picked == {"number": number, "state": "in_progress"}
    nothing = cli("--as", "w4", "next", "--claim", "--format", "json")
    assert nothing.exit_code == 0 and nothing.stdout.strip() == "null"


def test_close_force_takes_over_another_agents_claim(cli):
    number = cli.json("create", "x")["number"]
    assert cli("--as", "w1", "claim", number).exit_code == 0
    closed = cli("--as", "w2", "close", number, "--force", "--format", "json")
    assert closed.exit_code == 0, closed
    assert json.loads(closed.stdout)["state"] == "closed"
    # The lease is gone with the forced release: the holder has nothing left to renew.
    assert cli("--as", "w1", "heartbeat", number).exit_code == 10


def test_bad_claims_exit_as_on_the_local_store_and_change_nothing(cli):
    number = cli.json("create", "x")["number"]
    for bad in ("0", "-5m", "later"):
        refused = cli("--as", "w1", "claim", number, "--ttl", bad)
        assert refused.exit_code == 2, refused
        _one_line(refused)
    assert cli.json("show", number)["state"] == "open"
    missing = cli("--as", "w1", "claim", number + 40)
    assert missing.exit_code == 3
    _one_line(missing)
    heartbeat = cli("--as", "w1", "heartbeat", number)
    assert heartbeat.exit_code == 10 and "no live lease" in heartbeat.stderr
    assert cli("close", number).exit_code == 0
    closed = cli("--as", "w1", "claim", number)
    assert closed.exit_code == 4 and "closed" in closed.stderr
    _one_line(closed)


def test_a_fenced_close_with_a_comment_writes_nothing(cli):
    number = cli.json("create", "x")["number"]
    assert cli("--as", "w1", "claim", number).exit_code == 0
    before = cli.json("show", number)["comments_count"]
    refused = cli("--as", "w2", "close", number, "--comment", "done")
    assert refused.exit_code == 10 and "claimed by w1" in refused.stderr
    _one_line(refused)
    after = cli.json("show", number)
    assert (after["state"], after["comments_count"]) == ("in_progress", before)
    # The holder's own close with a comment goes through, and ends its lease.
    assert cli("--as", "w1", "close", number, "--comment", "done").exit_code == 0
    assert cli("--as", "w1", "heartbeat", number).exit_code == 10
