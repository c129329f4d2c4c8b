"""The server's resources: the workflow guide (``guide.WORKFLOW``) an agent reads first."""

from __future__ import annotations

import mcp_types as types

from issue_core.mcp.guide import WORKFLOW

WORKFLOW_URI = "issue-core://guide/workflow"


def listed() -> list[types.Resource]:
    return [
        types.Resource(
            name="workflow",
            uri=WORKFLOW_URI,
            description="Read first: how to pick, claim, report and hand over work.",
            mime_type="text/markdown",
        )
    ]


def read(uri: str) -> list[types.TextResourceContents | types.BlobResourceContents]:
    if uri != WORKFLOW_URI:
        from mcp.shared.exceptions import MCPError

        raise MCPError(code=types.INVALID_PARAMS, message=f"no resource {uri!r}", data={"uri": uri})
    return [types.TextResourceContents(uri=uri, text=WORKFLOW, mime_type="text/markdown")]
