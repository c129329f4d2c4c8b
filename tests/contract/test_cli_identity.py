"""Issue 12's identity and lease defaults through the ``issue`` CLI on every backend (the local
store and each forge fake): the acting agent comes from ``--as``, then ``$ISSUE_CORE_AGENT``,
then ``agent`` in the configuration; ``issue whoami`` shows the backend's user and the agent;
an agent's comment and its event carry its name; ``[claims] ttl`` is the default lease."""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
import tomli_w

from issue_core.core.interfaces import Capability


def _configure(**values: object) -> None:
    path = Path(os.environ["ISSUE_CORE_CONFIG_DIR"]) / "config.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.update(values)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


def test_the_agent_is_as_then_the_environment_then_the_config(cli_backend, monkeypatch):
    cli = cli_backend
    user = cli.json("whoami", "--json", "username")["username"]
    assert user
    _configure(agent="from-config")
    shown = cli.json("whoami", "--json", "username,agent")
    # On a forge the user stays the token's; the local store has no accounts: the agent is it.
    assert shown["agent"] == "from-config" and shown["username"] in (user, "from-config")
    monkeypatch.setenv("ISSUE_CORE_AGENT", "from-env")
    assert cli.json("whoami", "--json", "agent") == {"agent": "from-env"}
    assert cli.json("--as", "from-flag", "whoami", "--json", "agent") == {"agent": "from-flag"}
    assert cli.json("whoami", "--as", "later", "--json", "agent") == {"agent": "later"}


def test_an_agents_comment_and_its_event_carry_its_name(cli_backend):
    cli = cli_backend
    number = cli.json("create", "attributed")["number"]
    assert cli("--as", "worker-7", "comment", number, "handed over").exit_code == 0
    (comment,) = cli.json("show", number, "--comments", "--jq", ".comments")
    # A forge writes as the token's user and signs the comment; the local store's author is it.
    assert comment.get("agent", comment["author"]) == "worker-7"
    assert comment["body"] == "handed over"
    if cli.supports(Capability.EVENTS):
        kinds = cli.json("events", number, "--json", "kind,actor")
        assert {"kind": "commented", "actor": "worker-7"} in kinds


@pytest.mark.parametrize(("configured", "seconds"), [("5h", 5 * 3600), ("1d12h", 36 * 3600)])
def test_the_default_lease_is_claims_ttl_in_the_config(cli_backend, configured, seconds):
    cli = cli_backend
    _configure(claims={"ttl": configured})
    number = cli.json("create", "leased")["number"]
    claim = cli.json("--as", "w1", "claim", number)
    start, end = (datetime.fromisoformat(claim[k]) for k in ("claimed_at", "expires_at"))
    assert abs((end - start).total_seconds() - seconds) < 2
    renewed = cli.json("--as", "w1", "heartbeat", number, "--ttl", "30m")
    renewed_end = datetime.fromisoformat(renewed["expires_at"])
    assert renewed_end < end  # --ttl beats the configured default


@pytest.mark.parametrize("bad", ["0", "-1h", "soon"])
def test_a_bad_configured_ttl_is_a_config_error_and_claims_nothing(cli_backend, bad):
    cli = cli_backend
    number = cli.json("create", "not leased")["number"]
    _configure(claims={"ttl": bad})
    refused = cli("--as", "w1", "claim", number)
    assert refused.exit_code == 2 and refused.stdout == "", refused
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert cli.json("show", number, "--json", "state,assignees") == {
        "state": "open",
        "assignees": [],
    }
