"""pytest fixtures for the fake GitLab. Import them into a conftest.py to use them there.

``fake_gitlab`` starts a fresh fake (own port, own data, own fault knobs) for one test, sets
``$GITLAB_TOKEN`` to the project owner's token, and fails the test when it ends if any request
or response broke GitLab's contract (``gitlab_contract.py``). ``gitlab_options`` (override it
in a module, or parametrize it indirectly) configures the fake: ``{"version": "17.11.0"}``.
Every recorder is checked once more when the session ends (``gitlab_contract_session``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.gitlab import OWNER_TOKEN, FakeGitLab
from tests.fakes.gitlab_contract import GitLabContract
from tests.fakes.running import RunningFake, fail_on_violations, serve
from tests.fakes.server import ContractRecorder

TOKEN_ENV = "GITLAB_TOKEN"
_ALL_RECORDERS: list[ContractRecorder] = []


@dataclass
class RunningGitLab(RunningFake):
    """A fake GitLab served on 127.0.0.1 (``api_url``: ``<server>/api/v4``)."""

    fake: FakeGitLab

    @property
    def api_url(self) -> str:
        return self.server.base_url + "/api/v4"

    def backend_config(self, **overrides: Any) -> dict[str, Any]:
        """The ``[backends.NAME]`` table GitLabBackend connects with (token from $GITLAB_TOKEN)."""
        config: dict[str, Any] = {
            "type": "gitlab",
            "url": self.base_url,
            "project": self.fake.project.full_path,
            "token_env": TOKEN_ENV,
        }
        config.update(overrides)
        return config


def owner_client(running: RunningGitLab) -> Any:
    """An ``httpx.Client`` on the fake's API root with the project owner's token."""
    import httpx

    headers = {"PRIVATE-TOKEN": OWNER_TOKEN}
    return httpx.Client(base_url=running.api_url, headers=headers, timeout=10)


def start_fake_gitlab(*, contract: GitLabContract | None = None, **options: Any) -> RunningGitLab:
    """Start a fake GitLab (``options`` go to ``FakeGitLab``); the caller stops it."""
    fake = FakeGitLab(**options)
    server, recorder = serve(fake, contract, _ALL_RECORDERS)
    return RunningGitLab(fake, server, recorder)


@pytest.fixture(scope="session")
def gitlab_contract() -> GitLabContract:
    return GitLabContract()


@pytest.fixture(scope="session")
def gitlab_contract_session() -> Iterator[None]:
    yield
    fail_on_violations(_ALL_RECORDERS, "GitLab")


@pytest.fixture
def gitlab_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Override in a test module (or parametrize indirectly) to configure the fake."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def fake_gitlab(
    gitlab_contract: GitLabContract,
    gitlab_contract_session: None,
    gitlab_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RunningGitLab]:
    running = start_fake_gitlab(contract=gitlab_contract, **gitlab_options)
    monkeypatch.setenv(TOKEN_ENV, OWNER_TOKEN)
    try:
        yield running
    finally:
        running.stop()
    running.recorder.assert_clean()
