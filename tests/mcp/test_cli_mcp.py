"""``issue mcp`` as a command: its option errors, the message without the extra, and the stdio
transport in a real subprocess driven by the SDK's client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
