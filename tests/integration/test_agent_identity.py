"""Agent identity (issue 12, item 1): ``--as NAME`` > $ISSUE_CORE_AGENT > config ``agent`` >
the backend's user; ``issue whoami`` shows both; a named agent signs its forge comments with
the hidden agent block, read back into ``Comment.agent`` (the fake Gitea checks every
exchange against Gitea's Swagger)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import issue_core.backends.gitea as gitea_module
from issue_core.backends.forge.body import comment_signature, sign_comment
from issue_core.core.config import Config
from issue_core.core.errors import ConfigError
from issue_core.core.models import Issue
from issue_core.service import runtime
from tests.fakes.fixtures import RunningGitea


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "user-config"))
    for name in ("ISSUE_CORE_BACKEND", "ISSUE_CORE_AGENT", "ISSUE_CORE_BACKEND_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ISSUE_CORE_USER", "tester")
    monkeypatch.chdir(root)
    return root


def issue(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "issue_core.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_the_agent_comes_from_as_then_the_environment_then_the_config(project, monkeypatch):
    config = Config.load()
    assert runtime.agent_name(config) is None
    (project / ".issue-core").mkdir()
    (project / ".issue-core" / "config.toml").write_text('agent = "from-config"\n')
    assert runtime.agent_name(Config.load()) == "from-config"
    monkeypatch.setenv("ISSUE_CORE_AGENT", "from-env")
    assert runtime.agent_name(Config.load()) == "from-env"
    assert runtime.agent_name(Config.load(), "from-flag") == "from-flag"


def test_a_bad_agent_name_in_the_environment_or_config_is_a_config_error(project, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_AGENT", "two words")
    with pytest.raises(ConfigError, match="ISSUE_CORE_AGENT"):
        runtime.open(Config.load())
    monkeypatch.delenv("ISSUE_CORE_AGENT")
    (project / ".issue-core").mkdir()
    (project / ".issue-core" / "config.toml").write_text('agent = "tab\\there"\n')
    with pytest.raises(ConfigError, match="'agent' in"):
        runtime.open(Config.load())


def test_the_local_store_attributes_writes_to_the_named_agent(project, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_AGENT", "worker-9")
    backend = runtime.open(Config.load())
    try:
        assert backend.agent == "worker-9"
        assert backend.create_issue(Issue(title="x")).author == "worker-9"
        assert backend.acting_agent() == "worker-9"
    finally:
        backend.close()


def test_whoami_shows_user_and_agent(project):
    plain = issue("whoami", "--format", "json")
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout) == {
        "username": "tester",
        "name": None,
        "email": None,
        "agent": "tester",
    }
    assert issue("whoami").stdout == "tester\n"
    named = issue("--as", "worker-1", "whoami", "--json", "username,agent")
    assert json.loads(named.stdout) == {"username": "worker-1", "agent": "worker-1"}
    after = issue("whoami", "--as", "worker-2", env={"ISSUE_CORE_AGENT": "env-agent"})
    assert after.stdout == "worker-2\n"
    env = issue("whoami", "--jq", ".agent", env={"ISSUE_CORE_AGENT": "env-agent"})
    assert env.stdout == "env-agent\n"


def test_a_bad_as_is_one_line_and_exit_2(project):
    done = issue("--as", "two words", "whoami")
    assert done.returncode == 2
    assert done.stderr.count("\n") <= 2 and "Traceback" not in done.stderr
    assert "agent" in done.stderr


def test_the_agent_block_round_trips_and_leaves_other_text_alone():
    signed = sign_comment("Looks good.", "worker-1")
    assert signed.endswith('<!-- issue-core:sync-metadata {"issue-core:agent":"worker-1"} -->')
    assert comment_signature(signed) == ("Looks good.", "worker-1", None)
    assert sign_comment("plain", None) == "plain"
    assert comment_signature("plain") == ("plain", None, None)
    other = 'text\n\n<!-- issue-core:sync-metadata {"marker":"m"} -->'
    assert comment_signature(other) == (other, None, None)
    spaced = 'x\n\n<!-- issue-core:sync-metadata {"issue-core:agent":"a b"} -->'
    assert comment_signature(spaced) == (spaced, None, None)


def test_the_comment_marker_rides_in_the_agent_block_and_alone():
    both = sign_comment("Synced.", "worker-1", "s1-c9")
    assert comment_signature(both) == ("Synced.", "worker-1", "s1-c9")
    alone = sign_comment("Synced.", None, "s1-c9")
    assert alone.endswith('{"issue-core:comment-marker":"s1-c9"} -->')
    assert comment_signature(alone) == ("Synced.", None, "s1-c9")
    spaced = 'x\n\n<!-- issue-core:sync-metadata {"issue-core:comment-marker":"a b"} -->'
    assert comment_signature(spaced) == (spaced, None, None)


def test_whoami_on_gitea_shows_the_token_user_and_the_agent(
    fake_gitea: RunningGitea, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    forge = gitea_module.GiteaBackend()
    forge.agent = "worker-3"
    forge.connect(fake_gitea.backend_config())
    try:
        from issue_core.service import catalog

        record = catalog.identity(forge)
        user = forge.whoami().username
        assert record["username"] == user and record["agent"] == "worker-3"
    finally:
        forge.close()


def test_comments_of_a_named_agent_carry_its_name_on_gitea(
    fake_gitea: RunningGitea, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    signed = gitea_module.GiteaBackend()
    signed.agent = "worker-3"
    signed.connect(fake_gitea.backend_config())
    plain = gitea_module.GiteaBackend()
    plain.connect(fake_gitea.backend_config())
    try:
        number = signed.create_issue(Issue(title="shared token")).number
        assert number is not None
        written = signed.add_comment(number, "done by me")
        assert (written.body, written.agent) == ("done by me", "worker-3")
        plain.add_comment(number, "by the human")
        read = plain.list_comments(number)
        assert [(c.body, c.agent) for c in read] == [
            ("done by me", "worker-3"),
            ("by the human", None),
        ]
        assert read[0].author == read[1].author  # one token, two writers told apart
        assert read[0].to_dict()["agent"] == "worker-3" and "agent" not in read[1].to_dict()
        on_the_wire = [raw["body"] for raw in plain.client.list_comments(number)]
        assert on_the_wire[0] == sign_comment("done by me", "worker-3")
        assert on_the_wire[1] == "by the human"
    finally:
        signed.close()
        plain.close()
