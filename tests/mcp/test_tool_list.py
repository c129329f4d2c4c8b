"""``tools/list`` as a client receives it: a snapshot of every name, description, schema and
annotation (a change to what models see must be deliberate: regenerate with
``ISSUE_CORE_MCP_SNAPSHOT=write .venv/bin/pytest tests/mcp/test_tool_list.py``), the fixed
order, truthful annotations, ``--read-only`` and ``--tools``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from issue_core.core.errors import UsageError
from issue_core.mcp import registry
from issue_core.mcp.schemas import TOOLS
from tests.mcp.conftest import Mcp, drive

SNAPSHOT = Path(__file__).with_name("tool_list.json")


def listed(**options: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def steps(mcp: Mcp) -> None:
        result = await mcp.client.list_tools()
        found.extend(
            t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in result.tools
        )

    drive(steps, **options)
    return found


def test_the_tool_list_matches_its_snapshot(project):
    tools = listed()
    if os.environ.get("ISSUE_CORE_MCP_SNAPSHOT") == "write":
        SNAPSHOT.write_text(json.dumps(tools, indent=1, ensure_ascii=False) + "\n")
    assert tools == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_tools_come_in_the_fixed_order_whatever_was_asked(project):
    assert [t["name"] for t in listed()] == [tool.name for tool in TOOLS]
    asked = listed(tools=["issue_write", "issues_list"])
    assert [t["name"] for t in asked] == ["issues_list", "issue_write"]


def test_annotations_say_what_each_tool_does(project):
    for tool in listed():
        hints = tool["annotations"]
        assert hints["openWorldHint"] is False  # the local store: nothing beyond this machine
        if tool["name"] in ("issues_list", "issue_read", "catalog_read"):
            assert hints == {"readOnlyHint": True, "openWorldHint": False}
        else:
            assert hints["readOnlyHint"] is False
        # Only what can delete or take over is destructive; creating labels adds only.
        destructive = {"issue_write", "work", "dependency"}
        assert hints.get("destructiveHint", False) is (tool["name"] in destructive)


def test_read_only_serves_the_read_tools_and_refuses_a_write(project):
    tools = listed(read_only=True)
    assert all(t["annotations"]["readOnlyHint"] for t in tools)
    assert {t["name"] for t in tools} == {t.name for t in TOOLS if t.read_only}

    async def steps(mcp: Mcp) -> None:
        error = await mcp.error("issue_write", method="create", title="x")
        assert error["exit_code"] == 2 and "unknown tool 'issue_write'" in error["message"]
        assert (await mcp.call("issues_list"))["issues"] == []

    drive(steps, read_only=True)


def test_unknown_or_writing_tool_names_are_usage_errors():
    with pytest.raises(UsageError, match="unknown tool 'issues_lst'"):
        registry.served(names=["issues_lst"])
    with pytest.raises(UsageError, match="issue_write writes"):
        registry.served(read_only=True, names=["issues_list", "issue_write"])
