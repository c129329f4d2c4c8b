"""Tool arguments checked before anything runs: against the tool's input schema (types,
enums, bounds, unknown names), then against the chosen ``method`` (what it needs, what it
does not take). A mistake is the CLI's usage error (exit 2) naming the argument, so a model
can fix its call; nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from issue_core.mcp.errors import bad_arguments
from issue_core.mcp.schemas import ToolSpec

_VALIDATORS: dict[str, Any] = {}


def _validator(tool: ToolSpec) -> Any:
    found = _VALIDATORS.get(tool.name)
    if found is None:
        from jsonschema import Draft202012Validator

        found = _VALIDATORS[tool.name] = Draft202012Validator(tool.input_schema)
    return found


def checked(tool: ToolSpec, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """``arguments`` as given, once they fit ``tool``'s input schema."""
    given = dict(arguments or {})
    errors = sorted(_validator(tool).iter_errors(given), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first.path)
        raise bad_arguments(tool.name, first.message, where)
    return given


def for_method(
    tool: str,
    method: str,
    args: Mapping[str, Any],
    *,
    needs: Iterable[str] = (),
    takes: Iterable[str] = (),
) -> None:
    """``method`` needs every one of ``needs`` and takes nothing beyond ``needs``, ``takes``
    and ``method`` itself."""
    for name in needs:
        if args.get(name) in (None, ""):
            raise bad_arguments(tool, f"{method} needs {name!r}", name)
    allowed = {"method", *needs, *takes}
    extra = sorted(name for name in args if name not in allowed)
    if extra:
        raise bad_arguments(tool, f"{method} does not take {extra[0]!r}", extra[0])
