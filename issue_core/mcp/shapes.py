"""What the MCP tools answer with: the compact issue shape, ``fields``, and list pages.

A model pays for every character a tool returns, so an issue in a list carries only what an
agent needs to pick work (``COMPACT_FIELDS``); ``fields`` asks for others by the CLI's
``--json`` names (``ISSUE_FIELDS``). A list answers one page at a time, at most ``PAGE_CAP``
issues and about ``PAGE_BYTES`` of JSON, with an opaque ``next_cursor`` that repeats the same
question from where the page ended. Nothing here imports the SDK: the shapes are plain JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from issue_core.core.errors import UsageError
from issue_core.core.models import ISSUE_FIELDS, Issue

# An issue in a list: enough to choose one, then read it whole with issue_read.
COMPACT_FIELDS = ("number", "title", "state", "labels", "assignee", "priority", "updated_at")
PAGE_SIZE = 30
PAGE_CAP = 100
# A page ends early rather than grow past this many bytes of JSON (UTF-8: text that costs a
# tokenizer more per character costs more bytes too), so whatever ``fields`` and ``limit``
# ask, a page stays within what a client takes in one tool result and about 4,000 tokens
# (bench/mcp.py). One issue alone larger than this still comes, alone: the cursor moves on.
PAGE_BYTES = 10_000


def checked_fields(fields: Sequence[str] | None, default: Sequence[str]) -> tuple[str, ...]:
    """``fields`` as asked (each once, in order), or ``default``; an unknown name is the CLI's
    ``--json`` usage error, naming the valid ones."""
    if fields is None:
        return tuple(default)
    unknown = [name for name in fields if name not in ISSUE_FIELDS]
    if unknown or not fields:
        what = ", ".join(repr(n) for n in unknown) if unknown else "no field"
        raise UsageError(
            f"unknown field {what}" if unknown else "fields needs at least one field",
            hint=f"available fields: {', '.join(ISSUE_FIELDS)}",
        )
    return tuple(dict.fromkeys(fields))


def issue_shape(issue: Issue, fields: Sequence[str]) -> dict[str, Any]:
    """The issue's JSON (the CLI's shape) with only ``fields``."""
    whole = issue.to_dict()
    return {name: whole.get(name) for name in fields}


def _fingerprint(question: dict[str, Any]) -> str:
    text = json.dumps(question, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def cursor_offset(cursor: str | None, question: dict[str, Any]) -> int:
    """Where the page starts: 0 without a cursor; a cursor of another question (other filters)
    or one that was not ours is a usage error, never a silently wrong page."""
    if cursor is None:
        return 0
    offset, _, mark = cursor.partition(".")
    if not offset.isdigit() or mark != _fingerprint(question):
        raise UsageError(
            f"cursor {cursor!r} is not one of this list's",
            hint="pass next_cursor back with the same filters, or drop it to start again",
        )
    return int(offset)


def page(
    found: list[Issue], offset: int, size: int, question: dict[str, Any], fields: Sequence[str]
) -> dict[str, Any]:
    """One page of ``found`` (fetched with one issue more than the page, to know if more
    match): at most ``size`` issues and ``PAGE_BYTES``, ``{"issues": [...], "next_cursor":
    str | None}``."""
    rows: list[dict[str, Any]] = []
    used = 0
    for issue in found[offset : offset + size]:
        shaped = issue_shape(issue, fields)
        used += len(json.dumps(shaped, ensure_ascii=False, separators=(",", ":")).encode()) + 1
        if rows and used > PAGE_BYTES:
            break
        rows.append(shaped)
    end = offset + len(rows)
    return {
        "issues": rows,
        "next_cursor": f"{end}.{_fingerprint(question)}" if len(found) > end else None,
    }
