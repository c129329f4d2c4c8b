"""The client configurations in AGENT_INTEGRATION.md's MCP section work as written. Each
``mcpServers`` JSON block there is what a client is handed: the stdio one's command is started
by the SDK's stdio client; for the HTTP one, the server is started as the section says
(``issue mcp --transport http --port N``, on a free port here) in a subprocess, and the SDK's
HTTP client reaches it at the documented URL. Both serve the tools and act as the CLI does,
and the HTTP server ends on SIGTERM without a word."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from tests.mcp.conftest import Mcp

DOC = Path(__file__).resolve().parents[2] / "AGENT_INTEGRATION.md"
BIN = Path(sys.executable).parent


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## MCP\n")
    return text[start : text.index("\n## ", start + 1)]


def _configs() -> dict[str, dict[str, Any]]:
    """The documented server entries, by transport (``type`` absent: stdio)."""
    found: dict[str, dict[str, Any]] = {}
    for block in re.findall(r"```json\n(.*?)\n```", _section(), re.S):
        for entry in json.loads(block)["mcpServers"].values():
            found[entry.get("type", "stdio")] = entry
    assert set(found) == {"stdio", "http"}, found
    return found


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli_author(number: int) -> str:
    shown = subprocess.run(
        [str(BIN / "issue"), "show", str(number), "--json", "author"],
        capture_output=True, text=True, check=True, env=_env(),
    )  # fmt: skip
    return str(json.loads(shown.stdout)["author"])


def test_the_documented_stdio_configuration(project: Path):
    entry = _configs()["stdio"]
    assert entry["command"] == "issue"
    params = StdioServerParameters(
        command=str(BIN / "issue"), args=entry["args"], cwd=str(project), env=_env()
    )

    async def main() -> None:
        async with Client(params) as client:
            mcp = Mcp(client)
            names = [t.name for t in (await client.list_tools()).tools]
            assert names[0] == "issues_list" and len(names) == 7
            made = await mcp.call("issue_write", method="create", title="over stdio")
            read = await mcp.call("issue_read", number=made["issue"]["number"], fields=["author"])
            assert read["issue"]["author"] == entry["args"][entry["args"].index("--as") + 1]

    anyio.run(main)
    assert _cli_author(1) == "worker-1"


def test_the_documented_http_configuration_in_a_subprocess(project: Path):
    entry = _configs()["http"]
    command = re.search(r"`(issue mcp --transport\s+http --port (\d+))`", _section())
    assert command, "the section names the command that starts the HTTP server"
    documented_port = command.group(2)
    assert f"127.0.0.1:{documented_port}/" in entry["url"]  # the command and the URL agree
    port = _free_port()
    args = [*command.group(1).split()[1:-1], str(port)]
    url = entry["url"].replace(f":{documented_port}/", f":{port}/")
    server = subprocess.Popen(
        [str(BIN / "issue"), *args], cwd=project, env=_env(),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(port, server)

        async def first(mcp: Mcp) -> None:
            assert len((await mcp.client.list_tools()).tools) == 7
            made = await mcp.call("issue_write", method="create", title="over HTTP")
            assert made["issue"]["number"] == 1
            assert (await mcp.error("issue_read", number=5))["exit_code"] == 3

        async def second(mcp: Mcp) -> None:  # another client, the same store
            page = await mcp.call("issues_list", fields=["number", "title", "author"])
            assert page["issues"] == [{"number": 1, "title": "over HTTP", "author": _cli_author(1)}]

        for steps in (first, second):
            anyio.run(_over_http, url, steps)
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    # uvicorn stops serving, then ends by the signal it was sent (as `issue serve` does).
    assert server.returncode == -signal.SIGTERM, err
    assert out == "" and "Traceback" not in err, (out, err)


async def _over_http(url: str, steps: Any) -> None:
    async with Client(url) as client:
        await steps(Mcp(client))


def _wait_for(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the HTTP server did not start listening")
