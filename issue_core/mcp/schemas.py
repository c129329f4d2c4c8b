"""The MCP tools as a model sees them: names, one-line descriptions, input and output schemas
and annotations, in the fixed order ``tools/list`` gives them.

Few consolidated tools with small schemas: the whole default list costs a model under 2,000
tokens (bench/mcp.py measures it), where forge servers spend ten times that. Each tool's
``method`` picks one of a family of verbs; the words and codes are the CLI's, so the CLI's docs
hold for both. Plain data: nothing here imports the SDK or opens a backend.
"""

from __future__ import annotations

from typing import Any

STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer", "minimum": 1}
STRS: dict[str, Any] = {"type": "array", "items": STR}
NUMBER = {**INT, "description": "issue number"}
FIELDS = {**STRS, "description": "issue fields to return (the CLI's --json names)"}
OBJ: dict[str, Any] = {"type": "object"}
ARRAY: dict[str, Any] = {"type": "array"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _answer(properties: dict[str, Any]) -> dict[str, Any]:
    """An output schema: what the structured content may hold (a client validates it)."""
    return {"type": "object", "properties": properties}


def _method(*names: str, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"enum": list(names)}
    if default is not None:
        schema["default"] = default
    return schema


class ToolSpec:
    """One tool: what ``tools/list`` shows, and whether it writes (``read_only`` tools are the
    only ones ``--read-only`` registers)."""

    def __init__(
        self,
        name: str,
        description: str,
        input_schema: dict[str, Any],
        output_schema: dict[str, Any],
        *,
        read_only: bool,
        destructive: bool = False,
        idempotent: bool = False,
    ) -> None:
        self.name = name
        self.description = description
        self.input_schema = input_schema
        self.output_schema = output_schema
        self.read_only = read_only
        # The hints are only meaningful for a tool that writes (the MCP spec), so a read tool
        # states read-only alone.
        self.destructive = destructive
        self.idempotent = idempotent or read_only


ISSUES_OUT = _answer({"issues": {**ARRAY, "items": OBJ}, "next_cursor": {}})

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "issues_list",
        "List issues (not closed, newest first) or, with ready, the open unblocked unclaimed "
        "ones by priority. Pass next_cursor back as cursor for the next page.",
        _object(
            {
                "state": _method("open", "in_progress", "closed", "all"),
                "labels": {**STRS, "description": "all of these"},
                "assignee": {**STR, "description": "user, @me: you"},
                "query": {**STR, "description": "GitHub search syntax: label:bug updated:>7d"},
                "ready": {"type": "boolean"},
                "sort": _method("created", "updated", "number", "priority"),
                "fields": FIELDS,
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
                "cursor": STR,
            }
        ),
        ISSUES_OUT,
        read_only=True,
    ),
    ToolSpec(
        "issue_read",
        "Read one issue: its details, comments, dependencies or events.",
        _object(
            {
                "number": NUMBER,
                "method": _method(
                    "details", "comments", "dependencies", "events", default="details"
                ),
                "fields": FIELDS,
                "since": {**STR, "description": "events after this cursor"},
            },
            ("number",),
        ),
        _answer({"issue": OBJ, "comments": ARRAY, "dependencies": OBJ, "events": ARRAY}),
        read_only=True,
    ),
    ToolSpec(
        "issue_write",
        "Create, edit, close, reopen, comment on or delete (confirm: true) an issue. Returns "
        "the issue (a comment: the comment).",
        _object(
            {
                "method": _method("create", "edit", "close", "reopen", "comment", "delete"),
                "number": NUMBER,
                "title": STR,
                "body": {**STR, "description": "description, or the comment's text"},
                "labels": {**STRS, "description": "create: labels; edit: added"},
                "remove_labels": STRS,
                "assignees": {**STRS, "description": "replaces them; @me: you"},
                "state": _method("open", "in_progress", "closed"),
                "milestone": {"type": ["string", "null"]},
                "priority": {"type": ["integer", "string", "null"], "description": "0-4"},
                "due": {"type": ["string", "null"], "description": "ISO 8601 date"},
                "reason": _method("completed", "not_planned", "duplicate"),
                "comment": {**STR, "description": "close/reopen: add this comment"},
                "confirm": {"type": "boolean", "description": "delete: must be true"},
            },
            ("method",),
        ),
        _answer({"issue": OBJ, "comment": OBJ}),
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        "work",
        "Claim work as this agent: next (the most important ready issue, claimed at once), "
        "claim, heartbeat (renew the lease), release (force: another agent's).",
        _object(
            {
                "method": _method("next", "claim", "heartbeat", "release"),
                "number": NUMBER,
                "labels": {**STRS, "description": "next: only with all of these"},
                "ttl": {**STR, "description": "lease, e.g. 30m, 2h"},
                "force": {"type": "boolean"},
            },
            ("method",),
        ),
        _answer({"issue": {"type": ["object", "null"]}, "claim": {"type": ["object", "null"]}}),
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        "dependency",
        "Link two issues (number blocks/blocked_by/parent/related other) or remove a link.",
        _object(
            {
                "method": _method("add", "remove"),
                "number": NUMBER,
                "relation": _method("blocks", "blocked_by", "parent", "related"),
                "other": INT,
            },
            ("method", "number", "relation", "other"),
        ),
        _answer({"link": STR, "changed": {"type": "boolean"}}),
        read_only=False,
        destructive=True,
        idempotent=True,
    ),
    ToolSpec(
        "catalog_read",
        "The labels, milestones, users, or whoami (the acting user and agent).",
        _object({"method": _method("labels", "milestones", "users", "whoami")}, ("method",)),
        _answer({"labels": ARRAY, "milestones": ARRAY, "users": ARRAY, "whoami": OBJ}),
        read_only=True,
    ),
    ToolSpec(
        "catalog_write",
        "Create a label (name, color, description) or a milestone (name, description, due).",
        _object(
            {
                "method": _method("create_label", "create_milestone"),
                "name": STR,
                "color": {**STR, "description": "hex, e.g. d73a4a"},
                "description": STR,
                "due": STR,
            },
            ("method", "name"),
        ),
        _answer({"label": OBJ, "milestone": OBJ}),
        read_only=False,
    ),
)

BY_NAME = {tool.name: tool for tool in TOOLS}
