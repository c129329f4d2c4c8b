"""The one output path: commands return domain objects, this module prints them.

Every command that shows data is decorated with :func:`output_options`, which adds
``--format table|json|jsonl``, ``--json [FIELDS]`` and ``--jq EXPR`` and renders whatever the
command returns (colour follows the global ``--color/--no-color``, else ``NO_COLOR``,
``CLICOLOR_FORCE``, ``TERM=dumb`` and whether stdout is a terminal):

* a domain object (``Issue``, ``Label``, ``Milestone``, ``Comment``, ``User``, ``BackendInfo``),
  a list of them, or a plain ``dict`` / list of dicts;
* an :class:`Outcome`, which adds a one-line human message (``created #12 Fix the bug``) and
  optionally a failure that decides the exit code after the data is printed;
* a :class:`Page`, a list fetched one item past its limit so that a reader on a terminal is
  told more items exist (``showing 30 issues; more match``).

Every output option is checked (``--json`` field names, the ``--jq`` program compiled) before
the command runs, so a mistyped option never follows a committed write. When printing fails
after a write was committed (``--jq`` failing on the result, a closed pipe, a full disk) the
error says so and exits 9 (:class:`~issue_core.core.errors.OutputFailed`): the caller must not
repeat the write.

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

from issue_core.core.errors import IssueCoreError, OutputFailed, UsageError

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "jsonl")
META_KEY = "issue_core.output"


class Outcome:
    """A command's result with presentation hints.

    ``message`` replaces the rendered data in table mode (confirmation lines; ``lines``, when
    given, are more lines printed after it, each made terminal-safe). ``failure`` is
    reported on stderr *after* the data was printed and decides the exit code (used by
    ``backend test``, whose report is useful output even when a check failed).
    """

    # Plain classes, not dataclasses: each @dataclass costs ~0.5 ms of start-up.
    __slots__ = ("committed", "data", "failure", "lines", "message")

    def __init__(
        self,
        data: Any,
        message: str | None = None,
        failure: IssueCoreError | None = None,
        *,
        committed: bool = True,
        lines: tuple[str, ...] = (),
    ) -> None:
        self.data = data
        self.message = message
        self.lines = lines
        self.failure = failure
        # Whether the command changed something before printing: a failing output must then
        # say the change is done. Commands that only read (whoami, backend test) pass False.
        self.committed = committed


class Page:
    """The items of a list command, fetched with :meth:`OutputOptions.fetch_limit`.

    When the fetch returned more than ``limit`` items the extra one only proves that more
    exist: it is never printed, and in table mode a note on stderr says the list was cut.
    """

    __slots__ = ("items", "limit", "noun")

    def __init__(self, items: list[Any], limit: int | None, noun: str = "items") -> None:
        self.items = items
        self.limit = limit
        self.noun = noun

    @property
    def shown(self) -> list[Any]:
        return self.items if self.limit is None else self.items[: self.limit]

    @property
    def truncated(self) -> bool:
        return self.limit is not None and len(self.items) > self.limit


class Records:
    """Rows of plain dicts; ``columns`` picks what the table shows (JSON shows every key)."""

    __slots__ = ("columns", "rows")

    def __init__(self, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
        self.rows = rows
        self.columns = tuple(columns)


class OutputOptions:
    """What the user asked the output to look like."""

    __slots__ = ("color", "fields", "format", "jq", "program")

    def __init__(
        self,
        format: str = "table",
        fields: tuple[str, ...] | None = None,
        jq: str | None = None,
        color: bool | None = None,  # None: decide from the environment and the terminal
    ) -> None:
        self.format = format
        self.fields = fields
        self.jq = jq
        self.color = color
        self.program: Any = None  # the compiled --jq program (compile_jq), set before the run

    @property
    def is_json(self) -> bool:
        return self.format != "table" or self.fields is not None or self.jq is not None

    def use_color(self) -> bool:
        """--color/--no-color, else NO_COLOR (any value) disables, CLICOLOR_FORCE (not 0)
        forces colour even in a pipe, TERM=dumb disables, else colour on a terminal only."""
        if self.color is not None:
            return self.color
        environ = os.environ
        if environ.get("NO_COLOR"):
            return False
        if environ.get("CLICOLOR_FORCE", "0") not in ("", "0"):
            return True
        if environ.get("TERM") == "dumb":
            return False
        return _stdout_is_terminal()

    def fetch_limit(self, limit: int | None) -> int | None:
        """How many items a list command should fetch to show ``limit`` (None: all).

        One more when a person reads a table on a terminal, so :class:`Page` can tell them
        the list was cut; programs reading JSON or a pipe pay nothing.
        """
        from issue_core.cli.params import MAX_INT

        if limit is None or limit >= MAX_INT or self.is_json or not _stdout_is_terminal():
            return limit
        return limit + 1

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


def output_options(
    fields: Sequence[str], *, empty: str = "nothing to show", jq_short: bool = True
) -> Callable[[F], F]:
    """Add the shared output options to a command and render what its callback returns.

    ``fields`` are the names ``--json`` accepts; ``empty`` is the stderr line printed in table
    mode when the result is an empty list. ``jq_short=False`` leaves ``-q`` to the command
    (``issue list -q`` is the query, so there ``--jq`` has only its long form).
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
            if jq_expr is not None:
                options.program = compile_jq(jq_expr)
            if sys.stdout is None:  # started with stdout closed (`issue list >&-`)
                raise UsageError(
                    "stdout is closed; nothing was done",
                    hint="run it with stdout open; >/dev/null discards the output",
                )
            root.meta[META_KEY] = options
            result = command(*args, **kwargs)
            deliver(result, options, empty=empty)
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
                    *(("-q", "--jq") if jq_short else ("--jq",)),
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
    if isinstance(value, Page):
        return to_jsonable(value.shown)
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
    # Non-ASCII stays as it is on a UTF-8 stdout; any other encoding (PYTHONIOENCODING=latin-1)
    # gets \uXXXX escapes, which every JSON parser reads back as the same text.
    ascii_only = not _stdout_is_utf8()
    return json.dumps(value, ensure_ascii=ascii_only, indent=indent, separators=separators)


def compile_jq(expression: str) -> Any:
    """The compiled ``--jq`` program; a syntax error is a usage error before anything runs."""
    import jq  # lazily: only `--jq` pays for it

    try:
        return jq.compile(expression)
    except ValueError as exc:
        raise UsageError(f"invalid jq expression {expression!r}: {_first_line(exc)}") from None


def apply_jq(expression: str, document: Any, program: Any = None) -> list[Any]:
    program = program if program is not None else compile_jq(expression)
    try:
        return list(program.input_value(document).all())
    except ValueError as exc:
        raise UsageError(f"jq expression failed: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- rendering


def deliver(result: Any, options: OutputOptions, *, empty: str = "nothing to show") -> None:
    """Render ``result`` and flush it, turning a failure to print into a clear error.

    Output is flushed here, not at exit, so a closed pipe or a full disk is seen while we still
    know what the command did: after a committed write that is :class:`OutputFailed` (exit 9,
    "do not repeat"); after a read, a closed pipe stays the quiet exit 141 of ``| head``.
    """
    committed = isinstance(result, Outcome) and result.committed
    try:
        render(result, options, empty=empty)
        sys.stdout.flush()
    except UsageError as exc:  # --jq failed on the data: the command itself succeeded
        if not committed:
            raise
        raise _committed_failure(result, exc.message) from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, BrokenPipeError) and not committed:
            raise
        if not isinstance(exc, OSError) and not getattr(sys.stdout, "closed", False):
            raise  # a ValueError that is not "I/O operation on closed file" is a bug
        from issue_core.cli.errors import silence_stdout

        silence_stdout()  # what is still buffered must not fail again at exit
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if committed:
            raise _committed_failure(result, reason) from None
        raise OutputFailed(f"cannot write the output: {reason}") from None


def _committed_failure(result: Outcome, reason: str) -> OutputFailed:
    done = f" ({result.message})" if result.message else ""
    return OutputFailed(
        f"the change was committed{done}, but printing its output failed: {reason}",
        hint="do not repeat the command; read the result back instead",
        committed=True,
    )


def note(text: str) -> None:
    """A one-line note for the person at the terminal, on stderr (issue text made safe)."""
    from issue_core.cli.sanitize import for_terminal

    click.echo(for_terminal(text), err=True)


def render(result: Any, options: OutputOptions, *, empty: str = "nothing to show") -> None:
    if options.is_json:
        render_json(result, options)
        return
    if isinstance(result, Outcome) and result.message is not None:
        from issue_core.cli.sanitize import for_terminal

        click.echo(for_terminal(result.message))
        for line in result.lines:
            click.echo(for_terminal(line))
        return
    data = result.data if isinstance(result, Outcome) else result
    page = data if isinstance(data, Page) else None
    if page is not None:
        data = page.shown
    rows = data.rows if isinstance(data, Records) else data
    if isinstance(rows, list) and not rows:
        click.echo(empty, err=True)
        return
    from issue_core.cli import human  # lazily: JSON callers never format tables

    color = options.use_color()
    click.echo(human.format_human(data, color=color), color=color)
    if page is not None and page.truncated:
        note(
            f"showing {page.limit} {page.noun}; more match "
            "(--limit N shows more, --limit 0 shows all)"
        )


def render_json(result: Any, options: OutputOptions) -> None:
    document = to_jsonable(result)
    if options.fields is not None:
        document = select_fields(document, options.fields)
    terminal = _stdout_is_terminal()
    if terminal:
        from issue_core.cli.sanitize import for_terminal, json_for_terminal
    if options.jq is not None:
        for value in apply_jq(options.jq, document, options.program):
            if isinstance(value, str):
                # Raw strings are data in a pipe (kept byte for byte: color=True stops Click
                # from stripping what looks like colour); a person on a terminal sees them safe.
                text = for_terminal(value, multiline=True) if terminal else value
            else:
                text = json_for_terminal(dumps(value)) if terminal else dumps(value)
            click.echo(text, color=True)
        return
    if options.format == "jsonl":
        items = document if isinstance(document, list) else [document]
        for item in items:
            line = dumps(item)
            click.echo(json_for_terminal(line) if terminal else line)
        return
    # Pretty on a terminal, compact in a pipe (as gh does): the C encoder handles only compact
    # output, and agents parsing a pipe should not pay for indentation they never read.
    if terminal:
        click.echo(json_for_terminal(dumps(document, indent=2)))
    else:
        click.echo(dumps(document))


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # no stdout, or a closed one
        return False


def _stdout_is_utf8() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")
