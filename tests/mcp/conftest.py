"""MCP tests: the server built in-process and driven by the SDK's own client (``Client``),
on a fresh local store (``project``) or on the fake Gitea."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from issue_core.core.config import Config
from issue_core.mcp import registry, server
from issue_core.mcp.session import McpSession
from tests.fakes.fixtures import (  # noqa: F401
    RunningGitea,
    fake_gitea,
    gitea_contract,
    gitea_contract_session,
    gitea_options,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("ISSUE_CORE_BACKEND", "ISSUE_CORE_AGENT", "ISSUE_CORE_BACKEND_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ISSUE_CORE_USER", "tester")
    monkeypatch.chdir(root)
    return root


def configure_gitea(config: Path, fake: RunningGitea, **settings: Any) -> None:
    """The user configuration ``config/config.toml``: the backend ``work`` on ``fake``, with
    ``settings`` on top of the fake's own (its token is read from $GITEA_API_TOKEN)."""
    lines = ["[backends.work]", 'type = "gitea"']
    every = fake.backend_config(**settings)
    lines += [f"{key} = {json.dumps(value)}" for key, value in every.items()]
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def gitea_project(
    project: Path,
    fake_gitea: RunningGitea,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> RunningGitea:
    configure_gitea(tmp_path / "config", fake_gitea)
    return fake_gitea


class Mcp:
    """A connected client: ``call(tool, **args)`` answers the structured content of a
    successful call, ``error(tool, **args)`` the error object of a failed one."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def result(self, tool: str, args: dict[str, Any]) -> Any:
        return await self.client.call_tool(tool, args)

    async def call(self, tool: str, **args: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, args)
        assert not result.is_error, result.content
        text = json.loads(result.content[0].text)
        assert text == result.structured_content  # the same JSON, as text
        return dict(result.structured_content)

    async def error(self, tool: str, **args: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, args)
        assert result.is_error, result.structured_content
        payload = json.loads(result.content[0].text)
        assert set(payload) == {"error"}
        return dict(payload["error"])


Steps = Callable[[Mcp], Awaitable[None]]


def built(
    *,
    agent: str | None = None,
    agents: tuple[str, ...] = (),
    backend: str | None = None,
    read_only: bool = False,
    tools: Sequence[str] | None = None,
) -> tuple[Any, McpSession]:
    session = McpSession(Config.load(), backend, agent, agents)
    return server.build(session, registry.served(read_only=read_only, names=tools)), session


def drive(steps: Steps, **options: Any) -> None:
    """Build a server (``built`` options), connect the SDK's client to it and run ``steps``."""
    srv, session = built(**options)

    async def main() -> None:
        async with Client(srv) as client:
            await steps(Mcp(client))

    try:
        anyio.run(main)
    finally:
        session.close()
