"""Forge backends for the behavioural contract suite, each against its in-process fake server.

Imported by ``conftest.py``; every factory registers itself with ``register_backend``. A forge
whose backend is not importable yet is simply not registered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from issue_core.core.interfaces import IssueBackend
from tests.contract.conftest import register_backend

SUITE_USERS = ("ann", "bob", "carol", "dave", "agent-coder")


def _gitea(request: pytest.FixtureRequest, tmp_path: Path) -> IssueBackend:
    """GiteaBackend against a fresh fake Gitea, every exchange checked against the Swagger."""
    from issue_core.backends.gitea import GiteaBackend

    running = request.getfixturevalue("fake_gitea")
    for login in SUITE_USERS:  # people the suite assigns; Gitea assigns only collaborators
        running.fake.add_collaborator(login)
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "http-cache"))
    backend = GiteaBackend()
    backend.connect(running.backend_config())
    return backend


def _gitlab(request: pytest.FixtureRequest, tmp_path: Path) -> IssueBackend:
    """GitLabBackend against a fresh fake GitLab (owner token, project group/sub/repo)."""
    from issue_core.backends.gitlab import GitLabBackend
    from tests.fakes.gitlab_state import DEVELOPER

    running = request.getfixturevalue("fake_gitlab")
    # People the suite assigns (alice owns the repository on the other forges): GitLab assigns
    # project members.
    for login in ("alice", *SUITE_USERS):
        running.fake.add_member(login, DEVELOPER)
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "http-cache"))
    backend = GitLabBackend()
    backend.connect(running.backend_config())
    return backend


try:
    import issue_core.backends.gitea
except ImportError:  # pragma: no cover - the Gitea backend is not there yet
    pass
else:
    register_backend("gitea", _gitea)


def _github(
    request: pytest.FixtureRequest, tmp_path: Path, *, search_api: bool = False
) -> IssueBackend:
    """GitHubBackend against a fresh fake GitHub (Enterprise Server style, ``/api/v3``), every
    exchange checked against GitHub's OpenAPI description. Without ``search_api`` the fake has
    no ``/search/issues`` (a GHES without its index: text and markers are found by listing)."""
    from issue_core.backends.github import GitHubBackend

    running = request.getfixturevalue("fake_github")
    running.fake.search_api = search_api
    for login in SUITE_USERS:  # people the suite assigns; GitHub assigns only collaborators
        running.fake.add_collaborator(login)
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "http-cache"))
    backend = GitHubBackend()
    backend.connect(running.backend_config())
    return backend


try:
    import issue_core.backends.github  # noqa: F401
except ImportError:  # pragma: no cover - the GitHub backend is not there
    pass
else:
    register_backend("github", _github)
    # The same suite with GitHub's search API served: text filters and marker look-ups then go
    # through /search/issues, a different path from the listing the plain variant scans.
    register_backend(
        "github_search_api",
        lambda request, tmp_path: _github(request, tmp_path, search_api=True),
    )
register_backend("gitlab", _gitlab)


def opener(running, backend_class, opened: list[IssueBackend]):
    """``open_backend(**settings)``: a ``backend_class`` connected to the fake ``running`` with
    these settings on top of its own; each one opened is added to ``opened`` (to close)."""

    def open_backend(**settings):
        backend = backend_class()
        backend.connect(running.backend_config(**settings))
        opened.append(backend)
        return backend

    return open_backend
