"""The one error path: every failure becomes one line on stderr and a documented exit code.

* ``IssueCoreError``: ``issue: error: <message> (<hint>)`` and the error's ``exit_code``; an
  error about several rows of an input (``details["problems"]``) adds one line per bad row.
* Click usage errors (unknown option, bad value, missing argument): the same one-line form,
  exit 2.
* When JSON output was asked for (``--format json|jsonl``, ``--json``, ``--jq``) the error is
  a JSON object ``{"error": {"code", "message", "exit_code", "hint"?, "details"?}}`` on
  **stderr**; stdout stays empty so a parser of stdout never sees half a result.
* Anything else is a bug: ``issue: internal error: ...`` and exit 1; ``--debug`` prints the
  traceback.
* Ctrl-C exits 130; a closed stdout pipe (``issue list | head``) exits 141 silently.
* Output that cannot be printed after a committed write exits 9 (``OutputFailed``, raised by
  ``cli/output.py``), saying the change is done; a too-large number or undecodable bytes that
  slipped past the options' own checks are usage errors (exit 2), not internal ones.
* The one-line form passes through the terminal sanitiser (``cli/sanitize.py``): messages
  quote user input. The JSON form is data and is left as it is.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from issue_core.core.errors import ExitCode, IssueCoreError, as_usage_error, internal_error

PROG = "issue"
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe

JSON_FLAGS = ("--json", "--jq", "-q")
# Commands whose ``-q`` is their query, not ``--jq``.
QUERY_COMMANDS = ("list",)
_VALUED_GLOBALS = ("--backend",)


def _command_of(tokens: Sequence[str]) -> str | None:
    """The subcommand: the first word that is neither an option nor a global option's value."""
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in _VALUED_GLOBALS:
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asked for JSON output (checked on the raw arguments, because
    a usage error can happen before the options are parsed)."""
    tokens = list(args)
    short_jq = _command_of(tokens) not in QUERY_COMMANDS
    for index, token in enumerate(tokens):
        if token == "--":
            break
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if (
            (token in JSON_FLAGS and (short_jq or token != "-q"))
            or token.startswith(("--json=", "--jq=", "--format=json"))
            or (short_jq and token.startswith("-q") and not token.startswith("--"))  # -q.number
            or (token == "--format" and following.startswith("json"))
        ):
            return True
    return False


def wants_debug(args: Sequence[str]) -> bool:
    return "--debug" in args or os.environ.get("ISSUE_CORE_DEBUG", "") not in ("", "0")


def report(payload: dict[str, Any], line: str, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": payload}, ensure_ascii=False), err=True)
    else:
        from issue_core.cli.sanitize import for_terminal

        # Messages quote user input (titles, names, arguments): never let it drive the terminal.
        click.echo(f"{PROG}: {for_terminal(line)}", err=True)


def report_error(error: IssueCoreError, *, as_json: bool) -> int:
    pointed = _pointed(error) if not as_json else None
    if pointed is not None:
        click.echo(pointed, err=True)
    else:
        report(error.to_dict(), f"error: {error.one_line()}", as_json=as_json)
        problems = error.details.get("problems")
        if not as_json and isinstance(problems, list) and len(problems) > 1:
            # An input of many rows (a mapping file): one line for each bad row.
            from issue_core.cli.sanitize import for_terminal

            for problem in problems:
                click.echo(f"{PROG}: error: {for_terminal(str(problem))}", err=True)
    return int(error.exit_code)


def _pointed(error: IssueCoreError) -> str | None:
    """An error about a place in a text the user typed (a query), as two lines: the text, and
    a caret under the place followed by what is wrong there."""
    text, position = error.details.get("query"), error.details.get("position")
    if not isinstance(text, str) or not isinstance(position, int) or "\n" in text:
        return None
    from issue_core.cli.human import display_width
    from issue_core.cli.sanitize import for_terminal

    lead = f"{PROG}: error: query: "
    column = display_width(lead + for_terminal(text[:position]))
    reason = getattr(error, "reason", error.message)
    what = " ".join((f"{reason} ({error.hint})" if error.hint else reason).split())
    return f"{lead}{for_terminal(text)}\n{' ' * column}^ {for_terminal(what)}"


def report_click_error(error: click.ClickException, *, as_json: bool) -> int:
    message = " ".join(error.format_message().split())
    hint = None
    ctx = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and ctx is not None:
        hint = f"see '{ctx.command_path} --help'"
    code = "usage" if isinstance(error, click.UsageError) else "error"
    payload: dict[str, Any] = {"code": code, "message": message, "exit_code": error.exit_code}
    if hint:
        payload["hint"] = hint
    line = f"error: {message}" + (f" ({hint})" if hint else "")
    report(payload, line, as_json=as_json)
    return int(error.exit_code)


def report_internal(error: BaseException, *, as_json: bool, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    internal = internal_error(error, debug=debug)
    report(internal.to_dict(), internal.one_line(), as_json=as_json)
    return ExitCode.ERROR


def stdout_closed() -> bool:
    """Whether the reader of stdout went away (so a broken pipe is ours, not a backend's)."""
    try:
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return True  # no poll() (Windows) or no real file: trust the error


def silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def handle(error: BaseException, args: Sequence[str]) -> int:
    """Report ``error`` once, in the requested form, and return the exit code."""
    as_json = wants_json(args)
    if type(error).__name__ == "EscapedPipeError" and error.__cause__ is not None:
        error = error.__cause__
    if isinstance(error, BrokenPipeError) and stdout_closed():
        silence_stdout()
        return BROKEN_PIPE
    if isinstance(error, IssueCoreError):
        return report_error(error, as_json=as_json)
    clean = as_usage_error(error)
    if clean is not None:
        return report_error(clean, as_json=as_json)
    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        error.show()
        return int(error.exit_code)
    if isinstance(error, click.ClickException):
        return report_click_error(error, as_json=as_json)
    if isinstance(error, click.Abort | KeyboardInterrupt):
        # Click's prompts raise Abort "from None": the EOFError is then the context only.
        if isinstance(error.__cause__ or error.__context__, EOFError):
            report(
                {"code": "aborted", "message": "aborted: end of input", "exit_code": 1},
                "aborted: end of input",
                as_json=as_json,
            )
            return ExitCode.ERROR
        report(
            {"code": "interrupted", "message": "interrupted", "exit_code": INTERRUPTED},
            "interrupted",
            as_json=as_json,
        )
        return INTERRUPTED
    return report_internal(error, as_json=as_json, debug=wants_debug(args))
