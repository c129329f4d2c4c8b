"""service.runtime: the one recipe that opens a configured backend for every front end."""

from __future__ import annotations

import subprocess

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.config import BackendConfig, Config, UntrustedBackend
from issue_core.core.errors import ConfigError, NotFound
from issue_core.core.models import Issue
from issue_core.service import runtime


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "user-config"))
    monkeypatch.delenv("ISSUE_CORE_BACKEND", raising=False)
    monkeypatch.setenv("ISSUE_CORE_USER", "tester")
    monkeypatch.chdir(root)
    return root


def test_open_gives_the_resolved_backend_acting_as_the_configured_identity(project):
    backend = runtime.open(Config.load())
    try:
        assert isinstance(backend, LocalBackend)
        assert backend.name == "local"
        assert backend.create_issue(Issue(title="one")).author == "tester"
        assert backend.whoami().username == "tester"
    finally:
        backend.close()


def test_an_agent_acts_instead_of_the_configured_identity(project):
    backend = runtime.open(Config.load(), agent="agent-coder")
    try:
        assert backend.create_issue(Issue(title="by the agent")).author == "agent-coder"
    finally:
        backend.close()
    assert runtime.acting_identity(Config.load()) == "tester"


@pytest.mark.parametrize("agent", ["two words", "line\nbreak", " padded", "bell\x07"])
def test_an_agent_name_with_blanks_or_control_characters_is_refused(project, agent):
    with pytest.raises(ConfigError, match="acting agent"):
        runtime.open(Config.load(), agent=agent)


def test_an_unknown_name_is_not_found(project):
    with pytest.raises(NotFound, match="no backend named 'nope'"):
        runtime.open(Config.load(), "nope")


def test_an_untrusted_backend_is_refused_before_anything_is_constructed(project):
    chosen = BackendConfig("work", "gitea", {"url": "https://attacker.example"}, "repo")
    seen: list[object] = []
    with pytest.raises(UntrustedBackend, match="issue backend trust work"):
        runtime.connect(chosen, "tester", created=seen.append)
    assert seen == []


def test_created_sees_the_backend_before_it_connects(project, tmp_path):
    chosen = BackendConfig("x", "local", {"path": str(tmp_path / "x.db")})
    seen: list[tuple[object, object]] = []
    backend = runtime.connect(chosen, "tester", created=lambda b: seen.append((b, b.name)))
    try:
        assert seen == [(backend, None)]  # handed over unconnected, so a caller can close it
        assert backend.name == "x"
    finally:
        backend.close()


def test_the_python_api_passes_the_agent_through(project):
    from issue_core import open_backend

    with open_backend(agent="agent-coder") as backend:
        assert backend.whoami().username == "agent-coder"
    with open_backend() as backend:
        assert backend.whoami().username == "tester"
