"""``issue mcp``: serve issue-core's tools to an MCP client (the ``mcp`` extra).

The SDK is imported only once the options are good and the command runs, so neither the
CLI's start-up nor ``issue mcp --help`` pays for it; without the extra the command says what
to install (exit 7, as ``issue serve`` without its extra).
"""

from __future__ import annotations

import click

from issue_core.core.errors import Unsupported, UsageError

INSTALL_HINT = "pip install 'issue-core[mcp]'"


def _require_mcp_extra() -> None:
    try:
        import mcp.server  # noqa: F401  (the command needs it next anyway)
    except ImportError:
        raise Unsupported(
            "`issue mcp` needs the mcp extra (mcp not installed)",
            hint=f"install it with: {INSTALL_HINT}",
        ) from None


@click.command("mcp")
@click.option("--read-only", is_flag=True, help="Serve the read tools only.")
@click.option(
    "--tools",
    "tool_names",
    metavar="LIST",
    help="Serve only these tools (comma-separated names) [default: all].",
)
@click.option(
    "--agents",
    "agent_names",
    metavar="LIST",
    help="Let a write name one of these agents (comma-separated) in its 'as' argument "
    "[default: every write is made as the server's agent].",
)
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio for a client that starts the server; http: streamable HTTP at /mcp.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP: loopback address.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8766, show_default=True, help="HTTP: port."
)
def mcp_cmd(
    read_only: bool,
    tool_names: str | None,
    agent_names: str | None,
    transport: str,
    host: str,
    port: int,
) -> None:
    """Serve issue-core to an MCP client: few tools, small schemas, the CLI's errors.

    Writes are made as the agent the server runs as (--as NAME, $ISSUE_CORE_AGENT), on the
    backend --backend names (else the default one). Tools: issues_list, issue_read,
    issue_write, work, dependency, catalog_read, catalog_write (AGENT_INTEGRATION.md, "MCP").
    The HTTP transport has no authentication, so it listens on loopback only.

    \b
    Examples:
      issue mcp
      issue --as worker-1 mcp --backend local
      issue mcp --read-only --tools issues_list,issue_read
      issue --as planner mcp --agents worker-1,worker-2
    """
    from issue_core.core.config import checked_identity
    from issue_core.core.config_checks import is_loopback
    from issue_core.mcp.registry import served

    names = _listed(tool_names, "--tools", "tool name")
    tools = served(read_only=read_only, names=names)
    agents = tuple(
        checked_identity(n, "--agents") for n in _listed(agent_names, "--agents", "agent") or ()
    )
    if transport == "http" and not is_loopback(host):
        raise UsageError(
            f"--host {host}: the MCP HTTP transport has no authentication",
            hint="listen on 127.0.0.1 and put an authenticating proxy in front of it",
        )
    _require_mcp_extra()
    from issue_core.cli.session import get_session

    session = get_session()
    from issue_core.mcp.main import run

    session.announce_created_store = False  # stdout is the protocol's; stderr stays quiet
    run(session.config, session.backend_name, session.agent, agents, tools, transport, host, port)


def _listed(value: str | None, option: str, what: str) -> list[str] | None:
    names = [n.strip() for n in value.split(",") if n.strip()] if value is not None else None
    if names is not None and not names:
        raise UsageError(f"{option} needs at least one {what}")
    return names
