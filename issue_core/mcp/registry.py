"""Which tools a server serves, and the function behind each name.

The order is ``schemas.TOOLS``' whatever ``--tools`` says, so a client's prompt cache sees the
same list every time; ``--read-only`` keeps the read tools only, and naming a write tool with
it is a usage error rather than a silently smaller server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from issue_core.core.errors import UsageError
from issue_core.mcp import coordination, reads, writes
from issue_core.mcp.schemas import TOOLS, ToolSpec
from issue_core.mcp.session import McpSession

Handler = Callable[[McpSession, dict[str, Any]], dict[str, Any]]

HANDLERS: dict[str, Handler] = {
    "issues_list": reads.issues_list,
    "issue_read": reads.issue_read,
    "issue_write": writes.issue_write,
    "work": coordination.work,
    "dependency": coordination.dependency,
    "catalog_read": coordination.catalog_read,
    "catalog_write": coordination.catalog_write,
}


def served(*, read_only: bool = False, names: Sequence[str] | None = None) -> tuple[ToolSpec, ...]:
    """The tools to serve: every one (the read ones with ``read_only``), or those ``names``."""
    known = [tool.name for tool in TOOLS]
    wanted = set(names) if names else set(known)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise UsageError(f"unknown tool {unknown[0]!r}", hint=f"tools: {', '.join(known)}")
    if read_only and names:
        writing = [t.name for t in TOOLS if t.name in wanted and not t.read_only]
        if writing:
            raise UsageError(f"--read-only serves read tools only, and {writing[0]} writes")
    return tuple(t for t in TOOLS if t.name in wanted and (t.read_only or not read_only))
