"""The workflow guide the server offers is AGENT_INTEGRATION.md's *Workflow* section, word for
word, and the resource serves it."""

from __future__ import annotations

from pathlib import Path

from issue_core.mcp.guide import WORKFLOW
from issue_core.mcp.resources import WORKFLOW_URI
from tests.mcp.conftest import Mcp, drive

DOC = Path(__file__).resolve().parents[2] / "AGENT_INTEGRATION.md"


def test_the_guide_is_the_workflow_section_of_the_agent_docs():
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Workflow\n")
    section = text[start : text.index("\n## ", start + 1)]
    assert section == WORKFLOW, "copy AGENT_INTEGRATION.md's Workflow section to mcp/guide.py"


def test_the_guide_is_a_resource(project):
    async def steps(mcp: Mcp) -> None:
        listed = await mcp.client.list_resources()
        assert [str(r.uri) for r in listed.resources] == [WORKFLOW_URI]
        read = await mcp.client.read_resource(WORKFLOW_URI)
        assert read.contents[0].text == WORKFLOW

    drive(steps)
