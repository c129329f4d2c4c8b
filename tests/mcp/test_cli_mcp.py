"""``issue mcp`` as a command: its option errors, the message without the extra, and the stdio
transport in a real subprocess driven by the SDK's client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from tests.mcp.conftest import Mcp


def issue(*args: str, code: str = "") -> subprocess.CompletedProcess[str]:
    program = (
        f"import sys\n{code}\nfrom issue_core.cli.main import main\n"
        "sys.argv = ['issue', *sys.argv[1:]]\nmain()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_without_the_extra_it_says_what_to_install(project):
    done = issue("mcp", code="sys.modules['mcp'] = None  # as if the extra were not installed")
    assert done.returncode == 7
    assert done.stderr == (
        "issue: error: `issue mcp` needs the mcp extra (mcp not installed) "
        "(install it with: pip install 'issue-core[mcp]')\n"
    )
    assert done.stdout == ""


def test_option_mistakes_are_usage_errors(project):
    for args, words in [
        (["--tools", "issues_lst"], "unknown tool 'issues_lst'"),
        (["--tools", ","], "--tools needs at least one tool name"),
        (["--read-only", "--tools", "issue_write"], "issue_write writes"),
        (["--transport", "http", "--host", "0.0.0.0"], "no authentication"),
        (["--transport", "carrier-pigeon"], "carrier-pigeon"),
    ]:
        done = issue("mcp", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and done.stderr.count("\n") == 1, (args, done.stderr)


def test_stdio_serves_a_client_in_a_subprocess(project: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "issue_core.cli.main", "--as", "worker-7", "mcp"],
        cwd=str(project),
        env=env,
    )

    async def main() -> None:
        async with Client(params) as client:
            mcp = Mcp(client)
            made = await mcp.call("issue_write", method="create", title="over stdio")
            assert made["issue"]["number"] == 1
            read = await mcp.call("issue_read", number=1, fields=["author"])
            assert read["issue"] == {"author": "worker-7"}  # the server's --as
            assert (await mcp.error("issue_read", number=5))["exit_code"] == 3

    anyio.run(main)
    shown = subprocess.run(
        [sys.executable, "-m", "issue_core.cli.main", "show", "1", "--json", "title"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shown.stdout.strip() == '{"title":"over stdio"}'


def test_stdio_ends_when_its_input_ends(project):
    done = issue("mcp")  # stdin is /dev/null: the client went away before it said anything
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_protocol_mistakes_over_stdio_are_answered_and_it_keeps_serving(project):
    """What a broken client may send on the wire: a line that is not JSON, a method the
    server does not have, arguments that are not an object (the SDK's protocol errors), a tool
    that does not exist (a tool error, exit 2). None stops the server: the next call works."""
    server = subprocess.Popen(
        [sys.executable, "-m", "issue_core.cli.main", "mcp"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None

    def send(message: dict[str, Any] | str) -> None:
        line = message if isinstance(message, str) else json.dumps(message)
        server.stdin.write(line + "\n")  # type: ignore[union-attr]
        server.stdin.flush()  # type: ignore[union-attr]

    def answer(request_id: int) -> dict[str, Any]:
        while True:
            message = json.loads(server.stdout.readline())  # type: ignore[union-attr]
            if message.get("id") == request_id:
                return dict(message)

    def call(request_id: int, name: str, arguments: Any) -> dict[str, Any]:
        send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
              "params": {"name": name, "arguments": arguments}})  # fmt: skip
        return answer(request_id)

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"}}})  # fmt: skip
        assert "result" in answer(1)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send("{this is not json")
        send({"jsonrpc": "2.0", "id": 2, "method": "issues/explode", "params": {}})
        assert answer(2)["error"]["code"] == -32601  # method not found
        not_an_object = call(3, "issues_list", "state=open")
        assert not_an_object["error"]["code"] == -32602  # invalid params: the SDK's own check
        unknown = call(4, "issues_destroy", {})
        error = json.loads(unknown["result"]["content"][0]["text"])["error"]
        assert unknown["result"]["isError"] and error["exit_code"] == 2
        made = call(5, "issue_write", {"method": "create", "title": "still serving"})
        assert made["result"]["structuredContent"]["issue"]["number"] == 1
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    assert server.returncode == 0
    assert "Traceback" not in server.stderr.read()  # type: ignore[union-attr]
