"""The one output path: commands return domain objects, this module prints them.

Every command that shows data is decorated with :func:`output_options`, which adds
``--format table|json|jsonl``, ``--json [FIELDS]`` and ``--jq EXPR`` and renders whatever the
command returns (colour follows the global ``--color/--no-color``, else the terminal and
``NO_COLOR``):

* a domain object (``Issue``, ``Label``, ``Milestone``, ``Comment``, ``User``, ``BackendInfo``),
  a list of them, or a plain ``dict`` / list of dicts;
* an :class:`Outcome`, which adds a one-line human message (``created #12 Fix the bug``) and
  optionally a failure that decides the exit code after the data is printed.

JSON is always ``to_dict()`` of the domain objects: lists are JSON arrays, single objects are
objects. ``--json FIELDS`` keeps only the named fields (in the order given); ``--jq`` runs a jq
program over the JSON document and prints strings raw, like ``gh --jq``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import click

from issue_core.core.errors import IssueCoreError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "jsonl")
META_KEY = "issue_core.output"


class Outcome:
    """A command's result with presentation hints.

    ``message`` replaces the rendered data in table mode (confirmation lines). ``failure`` is
    reported on stderr *after* the data was printed and decides the exit code (used by
    ``backend test``, whose report is useful output even when a check failed).
    """

    # Plain classes, not dataclasses: each @dataclass costs ~0.5 ms of start-up.
    __slots__ = ("data", "failure", "message")

    def __init__(
        self, data: Any, message: str | None = None, failure: IssueCoreError | None = None
    ) -> None:
        self.data = data
        self.message = message
        self.failure = failure


class Records:
    """Rows of plain dicts; ``columns`` picks what the table shows (JSON shows every key)."""

    __slots__ = ("columns", "rows")

    def __init__(self, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
        self.rows = rows
        self.columns = tuple(columns)


class OutputOptions:
    """What the user asked the output to look like."""

    __slots__ = ("color", "fields", "format", "jq")

    def __init__(
        self,
        format: str = "table",
        fields: tuple[str, ...] | None = None,
        jq: str | None = None,
        color: bool | None = None,  # None: decide from the terminal and NO_COLOR
    ) -> None:
        self.format = format
        self.fields = fields
        self.jq = jq
        self.color = color

    @property
    def is_json(self) -> bool:
        return self.format != "table" or self.fields is not None or self.jq is not None

    def use_color(self) -> bool:
        if self.color is not None:
            return self.color
        if os.environ.get("NO_COLOR"):
            return False
        try:
            return sys.stdout.isatty()
        except (AttributeError, ValueError):
            return False

    def wants_field(self, name: str) -> bool:
        return self.fields is not None and name in self.fields


def current_output() -> OutputOptions:
    """The output options of the running command (defaults outside a decorated command)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return OutputOptions()
    found = ctx.find_root().meta.get(META_KEY)
    return found if isinstance(found, OutputOptions) else OutputOptions()


# --------------------------------------------------------------------------- options


def parse_fields(raw: str, available: Sequence[str]) -> tuple[str, ...]:
    names = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        what = ", ".join(repr(n) for n in unknown) if unknown else "no field"
        raise UsageError(
            f"unknown JSON field {what}" if unknown else "--json needs at least one field",
            hint=f"available fields: {', '.join(available)}",
        )
    return tuple(dict.fromkeys(names))


def output_options(fields: Sequence[str], *, empty: str = "nothing to show") -> Callable[[F], F]:
    """Add the shared output options to a command and render what its callback returns.

    ``fields`` are the names ``--json`` accepts; ``empty`` is the stderr line printed in table
    mode when the result is an empty list.
    """

    def list_fields(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
        # `--json` with no value: print the selectable fields (before any argument is checked).
        if value == "" and not ctx.resilient_parsing:
            click.echo("\n".join(fields))
            ctx.exit(0)
        return value

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(
            *args: Any,
            output_format: str | None,
            json_fields: str | None,
            jq_expr: str | None,
            **kwargs: Any,
        ) -> None:
            selected = parse_fields(json_fields, fields) if json_fields is not None else None
            if output_format is None:
                output_format = "json" if selected is not None or jq_expr is not None else "table"
            if output_format == "table" and (selected is not None or jq_expr is not None):
                raise UsageError("--json and --jq print JSON", hint="drop --format table")
            root = click.get_current_context().find_root()
            color = root.obj.get("color") if isinstance(root.obj, dict) else None
            options = OutputOptions(output_format, selected, jq_expr, color)
            root.meta[META_KEY] = options
            result = command(*args, **kwargs)
            render(result, options, empty=empty)
            if isinstance(result, Outcome) and result.failure is not None:
                raise result.failure

        wrapped: Any = run
        for option in reversed(
            [
                click.option(
                    "--format",
                    "output_format",
                    type=click.Choice(FORMATS),
                    default=None,
                    help="Output format [default: table; json when --json or --jq is given].",
                ),
                click.option(
                    "--json",
                    "json_fields",
                    metavar="FIELDS",
                    is_flag=False,
                    flag_value="",
                    default=None,
                    is_eager=True,
                    expose_value=True,
                    callback=list_fields,
                    help="JSON with only these comma-separated fields; alone, list the fields.",
                ),
                click.option(
                    "--jq",
                    "jq_expr",
                    metavar="EXPR",
                    default=None,
                    help="Filter the JSON output with a jq expression (strings print raw).",
                ),
            ]
        ):
            wrapped = option(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate


# --------------------------------------------------------------------------- JSON


def to_jsonable(value: Any) -> Any:
    """Domain objects -> their documented ``to_dict()`` shape, recursively."""
    if isinstance(value, Outcome):
        return to_jsonable(value.data)
    if isinstance(value, Records):
        return [to_jsonable(row) for row in value.rows]
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        from issue_core.core.models import format_ts

        return format_ts(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def select_fields(document: Any, fields: Sequence[str]) -> Any:
    def pick(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        return {name: item.get(name) for name in fields}

    if isinstance(document, list):
        return [pick(item) for item in document]
    return pick(document)


def dumps(value: Any, *, indent: int | None = None) -> str:
    separators = None if indent else (",", ":")
    return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)


def apply_jq(expression: str, document: Any) -> list[Any]:
    import jq  # lazily: only `--jq` pays for it

    try:
        program = jq.compile(expression)
    except ValueError as exc:
        raise UsageError(f"invalid jq expression {expression!r}: {_first_line(exc)}") from None
    try:
        return list(program.input_value(document).all())
    except ValueError as exc:
        raise UsageError(f"jq expression failed: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- rendering


def render(result: Any, options: OutputOptions, *, empty: str = "nothing to show") -> None:
    if options.is_json:
        render_json(result, options)
        return
    if isinstance(result, Outcome) and result.message is not None:
        click.echo(result.message)
        return
    data = result.data if isinstance(result, Outcome) else result
    rows = data.rows if isinstance(data, Records) else data
    if isinstance(rows, list) and not rows:
        click.echo(empty, err=True)
        return
    from issue_core.cli import human  # lazily: JSON callers never format tables

    color = options.use_color()
    click.echo(human.format_human(data, color=color), color=color)


def render_json(result: Any, options: OutputOptions) -> None:
    document = to_jsonable(result)
    if options.fields is not None:
        document = select_fields(document, options.fields)
    if options.jq is not None:
        for value in apply_jq(options.jq, document):
            click.echo(value if isinstance(value, str) else dumps(value))
        return
    if options.format == "jsonl":
        items = document if isinstance(document, list) else [document]
        for item in items:
            click.echo(dumps(item))
        return
    # Pretty on a terminal, compact in a pipe (as gh does): the C encoder handles only compact
    # output, and agents parsing a pipe should not pay for indentation they never read.
    click.echo(dumps(document, indent=2 if _stdout_is_terminal() else None))


def _stdout_is_terminal() -> bool:
    import sys

    return sys.stdout.isatty()
