"""`issue meta` on Gitea: user metadata travels in the issue's hidden body block (every
exchange checked against Gitea's Swagger by the fake), readable by a fresh connection."""

from __future__ import annotations

from pathlib import Path

import pytest

import issue_core.backends.gitea as gitea_module
from issue_core.core.errors import NotFound, ValidationError
from issue_core.core.models import Issue
from issue_core.service import metadata
from tests.fakes.fixtures import RunningGitea


def _connect(fake_gitea: RunningGitea) -> gitea_module.GiteaBackend:
    forge = gitea_module.GiteaBackend()
    forge.connect(fake_gitea.backend_config())
    return forge


def test_metadata_round_trips_through_the_body_block(
    fake_gitea: RunningGitea, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    forge = _connect(fake_gitea)
    try:
        number = forge.create_issue(Issue(title="x", description="text")).number
        assert number is not None
        values = metadata.parse_assignments(["owner=alice", 'review={"needed":true}', "n=3"])
        metadata.set_metadata(forge, number, values)
        metadata.unset_metadata(forge, number, ["n"])
        with pytest.raises(ValidationError):
            metadata.set_metadata(forge, number, metadata.parse_assignments(["x={bad"]))
    finally:
        forge.close()
    fresh = _connect(fake_gitea)
    try:
        found = metadata.get_metadata(fresh, number).metadata
        assert found == {"owner": "alice", "review": {"needed": True}}
        assert fresh.get_issue(number).description == "text"
        assert metadata.get_value(fresh, number, "owner") == "alice"
        with pytest.raises(NotFound):
            metadata.get_value(fresh, number, "n")
    finally:
        fresh.close()
