"""Issue 14's bad input on every tool, derived from the schemas a model sees: each argument
given a value of the wrong type, each required argument left out, an unknown argument. Every
one is a tool error with the CLI's usage code (exit 2) naming the argument; nothing is written
and the server keeps serving."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from issue_core.mcp.schemas import TOOLS
from tests.mcp.conftest import Mcp, drive

# Values of every JSON type: for each argument, the first one its schema refuses is sent.
CANDIDATES: tuple[Any, ...] = ("text", 7, True, ["a"], {"a": 1}, None, 0)


def _wrong_value(schema: dict[str, Any]) -> Any:
    checker = Draft202012Validator(schema)
    return next(value for value in CANDIDATES if not checker.is_valid(value))


def _good_arguments(tool: str) -> dict[str, Any]:
    """Arguments that pass the schema (the method's own checks come after)."""
    spec = next(t for t in TOOLS if t.name == tool)
    chosen: dict[str, Any] = {}
    for name in spec.input_schema.get("required", ()):
        schema = spec.input_schema["properties"][name]
        if "enum" in schema:
            chosen[name] = schema["enum"][0]
        else:
            chosen[name] = 1 if schema.get("type") == "integer" else "x"
    return chosen


def test_every_argument_of_every_tool_refuses_a_wrong_type(project):
    async def steps(mcp: Mcp) -> None:
        checked = 0
        for tool in TOOLS:
            for name, schema in tool.input_schema["properties"].items():
                args = {**_good_arguments(tool.name), name: _wrong_value(schema)}
                error = await mcp.error(tool.name, **args)
                assert error["exit_code"] == 2 and error["code"] == "usage", (tool.name, args)
                assert f"argument {name!r}" in error["message"], (tool.name, name, error)
                checked += 1
        assert checked == sum(len(t.input_schema["properties"]) for t in TOOLS)
        assert (await mcp.call("issues_list", state="all"))["issues"] == []  # nothing written

    drive(steps)


def test_every_required_argument_and_no_unknown_one(project):
    async def steps(mcp: Mcp) -> None:
        for tool in TOOLS:
            good = _good_arguments(tool.name)
            for name in good:
                left_out = {k: v for k, v in good.items() if k != name}
                error = await mcp.error(tool.name, **left_out)
                assert error["exit_code"] == 2, (tool.name, name)
                assert f"{name!r} is a required property" in error["message"], error
            error = await mcp.error(tool.name, **good, colour="red")
            assert error["exit_code"] == 2 and "'colour' was unexpected" in error["message"]
        assert (await mcp.call("issues_list", state="all"))["issues"] == []

    drive(steps)
