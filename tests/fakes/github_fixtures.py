"""pytest fixtures for the fake GitHub. Import them into a conftest.py to use them there.

``fake_github`` starts a fresh fake (own port, own data, own knobs) for one test and, when the
test ends, fails it if any request or response broke GitHub's OpenAPI description. Every
recorder is checked once more when the session ends (``github_contract_session``).
``backend_config()`` is the ``[backends.NAME]`` table the GitHub backend connects with: by
default the GitHub Enterprise Server form (``<server>/api/v3``); ``style="root"`` gives the
bare server root, which the fake also serves api.github.com-style.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.github import GHES_PREFIX, OWNER_TOKEN, FakeGitHub
from tests.fakes.github_contract import GitHubContract, github_openapi_path
from tests.fakes.running import RunningFake, fail_on_violations, serve
from tests.fakes.server import ContractRecorder

TOKEN_ENV = "GH_TOKEN"
_ALL_RECORDERS: list[ContractRecorder] = []


@dataclass
class RunningGitHub(RunningFake):
    """A fake GitHub served on 127.0.0.1 (``base_url``: the api.github.com-style root)."""

    fake: FakeGitHub

    @property
    def api_url(self) -> str:
        """The GitHub Enterprise Server API root, ``<server>/api/v3``."""
        return self.server.base_url + GHES_PREFIX

    def backend_config(self, *, style: str = "ghes", **overrides: Any) -> dict[str, Any]:
        """The config table for this fake (the token is read from ``$GH_TOKEN``)."""
        if style not in ("ghes", "root"):
            raise ValueError(f"style is 'ghes' or 'root', not {style!r}")
        config = {
            "type": "github",
            "url": self.api_url if style == "ghes" else self.base_url,
            "owner": self.fake.repo.owner,
            "repo": self.fake.repo.name,
            "token_env": TOKEN_ENV,
        }
        config.update(overrides)
        return config


class ToLoopback:
    """An httpx transport that takes every request, whatever its host (``https://api.github.com``),
    to the fake on 127.0.0.1, the ``Host`` header kept: with ``serve_as_github_com`` it lets a
    backend use github.com's own API root, no ``/api/v3``, against the fake."""

    def __init__(self, running: RunningGitHub) -> None:
        import httpx

        self._target = httpx.URL(running.base_url)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: Any) -> Any:
        target = self._target
        request.url = request.url.copy_with(
            scheme=target.scheme, host=target.host, port=target.port
        )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def serve_as_github_com(running: RunningGitHub) -> ToLoopback:
    """The fake names ``https://api.github.com`` in every URL it sends (links, redirects,
    bodies), as github.com does; the transport returned reaches it there."""
    running.fake.set_base_url("https://api.github.com")
    return ToLoopback(running)


def start_fake_github(
    *, contract: GitHubContract | None = None, fake: FakeGitHub | None = None, **options: Any
) -> RunningGitHub:
    """Start ``fake`` (or a new ``FakeGitHub(**options)``); the caller stops it."""
    fake = fake or FakeGitHub(**options)
    server, recorder = serve(fake, contract, _ALL_RECORDERS)
    return RunningGitHub(fake, server, recorder)


@pytest.fixture(scope="session")
def github_contract() -> GitHubContract:
    # Fail, never skip: without the official description the fake would go unchecked.
    if not github_openapi_path().is_file():
        pytest.fail(
            f"GitHub API description not found at {github_openapi_path()}; the contract data "
            "lives in tests/contracts (refresh it with `make contracts`)"
        )
    return GitHubContract.load()


@pytest.fixture(scope="session")
def github_contract_session() -> Iterator[None]:
    yield
    fail_on_violations(_ALL_RECORDERS, "GitHub")


@pytest.fixture
def github_options() -> dict[str, Any]:
    """Override in a test module (or parametrize indirectly) to configure the fake."""
    return {}


@pytest.fixture
def fake_github(
    github_contract: GitHubContract,
    github_contract_session: None,
    github_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RunningGitHub]:
    running = start_fake_github(contract=github_contract, **github_options)
    monkeypatch.setenv(TOKEN_ENV, OWNER_TOKEN)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    try:
        yield running
    finally:
        running.stop()
    running.recorder.assert_clean()
