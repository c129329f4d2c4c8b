"""Failures as MCP tool errors: the CLI's JSON error object, so a model reads the same code,
exit code, message and hint an agent driving the CLI would, and can correct its call.

The mapping from an exception to that object is the one the CLI uses
(``core.errors.as_issue_core_error``); a bad argument is the CLI's usage error (exit 2).
"""

from __future__ import annotations

from typing import Any

from issue_core.core.errors import UsageError, as_issue_core_error


def error_payload(error: BaseException) -> dict[str, Any]:
    """``{"error": {"code", "message", "exit_code", "hint"?, "details"?}}``, as the CLI prints
    it on stderr with JSON output."""
    return {"error": as_issue_core_error(error).to_dict()}


def bad_arguments(tool: str, problem: str, where: str) -> UsageError:
    """A tool argument that does not fit the tool's input schema."""
    place = f"argument {where!r}" if where else "arguments"
    return UsageError(f"{tool}: {place}: {problem}", hint=f"see {tool}'s input schema")
