"""Config's backend-entry edits called directly (what `issue backend add/remove/set-default`
write), without Click: each returns the file's new contents and changes nothing else."""

from __future__ import annotations

import pytest

from issue_core.core.config import Config
from issue_core.core.errors import NotFound


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "user"))
    user = {"user": "alice", "backends": {"work": {"type": "gitea", "url": "https://g"}}}
    repo = {
        "default_backend": "scratch",
        "backends": {"scratch": {"type": "local", "path": "s.db"}},
        "labels": {"create": "never"},
    }
    return Config(tmp_path / "repo", user, repo)


def test_with_backend_adds_or_replaces_one_entry(config):
    added = config.with_backend("user", "other", {"type": "local", "path": "o.db"})
    assert added == {
        "user": "alice",
        "backends": {
            "work": {"type": "gitea", "url": "https://g"},
            "other": {"type": "local", "path": "o.db"},
        },
    }
    replaced = config.with_backend("repo", "scratch", {"type": "local"}, make_default=True)
    assert replaced["backends"] == {"scratch": {"type": "local"}}
    assert replaced["default_backend"] == "scratch" and replaced["labels"] == {"create": "never"}
    assert config.repo_file["backends"]["scratch"]["path"] == "s.db"  # nothing changed in place


def test_scope_holding_looks_in_the_repo_first(config):
    assert config.scope_holding("scratch") == "repo"
    assert config.scope_holding("work") == "user"
    assert config.scope_holding("work", "user") == "user"
    with pytest.raises(NotFound, match="no backend named 'work' in the repo config"):
        config.scope_holding("work", "repo")
    with pytest.raises(NotFound, match="no backend named 'nope'") as refused:
        config.scope_holding("nope")
    assert refused.value.hint == "configured: scratch, work"


def test_without_backend_drops_the_entry_its_default_and_an_empty_table(config):
    assert config.without_backend("repo", "scratch") == {"labels": {"create": "never"}}
    assert config.without_backend("user", "other") == config.user_file
    assert "backends" in config.repo_file  # nothing changed in place


def test_with_default_needs_a_known_name(config):
    assert config.with_default("user", "scratch")["default_backend"] == "scratch"
    assert config.with_default("user", "local")["default_backend"] == "local"  # implicit
    with pytest.raises(NotFound, match="no backend named 'nope'") as refused:
        config.with_default("user", "nope")
    assert refused.value.hint == "configured: local, scratch, work"
