"""pytest fixtures for the fake Gitea. Import them into a conftest.py to use them there.

``fake_gitea`` starts a fresh fake (own port, own data, own fault knobs) for one test and, when
the test ends, fails it if any request or response broke Gitea's API description. Every
recorder is also checked once more when the session ends (``gitea_contract_session``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.contracts import GiteaContract, gitea_swagger_path
from tests.fakes.gitea import WRITE_TOKEN, FakeGitea
from tests.fakes.running import RunningFake, fail_on_violations, serve
from tests.fakes.server import ContractRecorder

TOKEN_ENV = "GITEA_API_TOKEN"
_ALL_RECORDERS: list[ContractRecorder] = []


@dataclass
class RunningGitea(RunningFake):
    """A fake Gitea served on 127.0.0.1, with its recorder."""

    fake: FakeGitea

    @property
    def api_url(self) -> str:
        return self.server.base_url + "/api/v1"

    def backend_config(self, **overrides: Any) -> dict[str, Any]:
        """``[backends.NAME]`` settings for this fake (the token is read from $GITEA_API_TOKEN)."""
        config = {
            "url": self.base_url,
            "owner": self.fake.owner,
            "repo": self.fake.repo.name,
            "token_env": TOKEN_ENV,
        }
        config.update(overrides)
        return config


def start_fake_gitea(*, contract: GiteaContract | None = None, **options: Any) -> RunningGitea:
    """Start a fake Gitea (``options`` go to ``FakeGitea``); the caller stops it."""
    fake = FakeGitea(**options)
    server, recorder = serve(fake, contract, _ALL_RECORDERS)
    return RunningGitea(fake, server, recorder)


@pytest.fixture(scope="session")
def gitea_contract() -> GiteaContract:
    # Fail, never skip: without the official description the fake would go unchecked.
    if not gitea_swagger_path().is_file():
        pytest.fail(
            f"Gitea API description not found at {gitea_swagger_path()}; the contract data lives "
            "in tests/contracts (refresh it with `make contracts`, or set ISSUE_CORE_CONTRACTS_DIR)"
        )
    return GiteaContract.load()


@pytest.fixture(scope="session")
def gitea_contract_session() -> Iterator[None]:
    yield
    fail_on_violations(_ALL_RECORDERS, "Gitea")


@pytest.fixture
def gitea_options() -> dict[str, Any]:
    """Override in a test module (or parametrize indirectly) to configure the fake."""
    return {}


@pytest.fixture
def fake_gitea(
    gitea_contract: GiteaContract,
    gitea_contract_session: None,
    gitea_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RunningGitea]:
    running = start_fake_gitea(contract=gitea_contract, **gitea_options)
    monkeypatch.setenv(TOKEN_ENV, WRITE_TOKEN)
    try:
        yield running
    finally:
        running.stop()
    running.recorder.assert_clean()
