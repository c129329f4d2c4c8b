"""Running a server: open the session, serve over the chosen transport, close the backend."""

from __future__ import annotations

from collections.abc import Sequence

from issue_core.core.config import Config
from issue_core.mcp.schemas import ToolSpec
from issue_core.mcp.session import McpSession


def run(
    config: Config,
    backend_name: str | None,
    agent: str | None,
    agents: tuple[str, ...],
    tools: Sequence[ToolSpec],
    transport: str,
    host: str = "127.0.0.1",
    port: int = 8766,
) -> None:
    import anyio

    from issue_core.mcp import server

    session = McpSession(config, backend_name, agent, agents)
    built = server.build(session, tools)
    try:
        if transport == "http":
            anyio.run(server.serve_http, built, host, port)
        else:
            anyio.run(server.serve_stdio, built)
    finally:
        session.close()
