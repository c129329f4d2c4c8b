"""The MCP server: the SDK's low-level ``Server`` with issue-core's tools and guide.

The SDK is imported here and in nothing the CLI loads at start-up (``issue mcp`` imports this
module when it runs). Tools are listed from ``schemas`` (hand-written, small schemas rather
than ones derived from signatures), arguments are checked (``arguments``), the handler runs a
use case, and the answer is structured content plus the same JSON as text. Any failure is a
tool error carrying the CLI's error object (``errors``); the server keeps serving.

Handlers run on the event loop's thread, one at a time: the backends are synchronous, and one
agent's server has one caller.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import mcp_types as types
from mcp.server import Server

from issue_core._version import __version__
from issue_core.core.errors import UsageError
from issue_core.mcp import arguments, resources
from issue_core.mcp.errors import error_payload
from issue_core.mcp.registry import HANDLERS
from issue_core.mcp.schemas import ToolSpec
from issue_core.mcp.session import McpSession

NAME = "issue-core"
INSTRUCTIONS = (
    f"Issue tracker tools. Read {resources.WORKFLOW_URI} first: how to pick, claim, "
    "report and hand over work."
)


def tool_definition(tool: ToolSpec, *, open_world: bool, agents: Sequence[str] = ()) -> types.Tool:
    """What ``tools/list`` shows of ``tool``; ``open_world``: the backend is a forge;
    ``agents``: the names a write may be made as (``as``), when the server was given some."""
    hints: dict[str, Any] = {"read_only_hint": tool.read_only, "open_world_hint": open_world}
    schema = tool.input_schema
    if not tool.read_only:
        hints.update(destructive_hint=tool.destructive, idempotent_hint=tool.idempotent)
        if agents:
            acting = {"enum": list(agents), "description": "act as this agent"}
            schema = {**schema, "properties": {**schema["properties"], "as": acting}}
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=schema,
        output_schema=tool.output_schema,
        annotations=types.ToolAnnotations(**hints),
    )


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def call(
    session: McpSession, tools: dict[str, ToolSpec], name: str, given: Any
) -> types.CallToolResult:
    """Run tool ``name``: its structured answer, or a tool error (never an exception)."""
    try:
        tool = tools.get(name)
        if tool is None:
            raise UsageError(f"unknown tool {name!r}", hint=f"tools: {', '.join(tools)}")
        args = dict(given or {})
        acting = args.pop("as", None) if not tool.read_only else None
        data = HANDLERS[name](session.acting_as(acting), arguments.checked(tool, args))
    except Exception as error:
        payload = error_payload(error)
        return types.CallToolResult(
            content=[types.TextContent(text=_json(payload))],
            structured_content=payload,
            is_error=True,
        )
    return types.CallToolResult(
        content=[types.TextContent(text=_json(data))], structured_content=data
    )


def build(session: McpSession, tools: Sequence[ToolSpec]) -> Server[Any]:
    """The server for ``session``'s backend, serving ``tools`` (``registry.served``)."""
    open_world = not session.is_local()
    listed = [tool_definition(tool, open_world=open_world, agents=session.agents) for tool in tools]
    by_name = {tool.name: tool for tool in tools}

    async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(_ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return call(session, by_name, params.name, params.arguments)

    async def list_resources(_ctx: Any, _params: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=resources.listed())

    async def read_resource(
        _ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return types.ReadResourceResult(contents=resources.read(str(params.uri)))

    return Server(
        NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


async def serve_stdio(server: Server[Any]) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def serve_http(server: Server[Any], host: str, port: int) -> None:
    """Streamable HTTP at ``http://HOST:PORT/mcp``, stateless (each request stands alone)."""
    import uvicorn

    app = server.streamable_http_app(stateless_http=True, host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()
