"""The one error path: every failure becomes one line on stderr and a documented exit code.

* ``IssueCoreError``: ``issue: error: <message> (<hint>)`` and the error's ``exit_code``.
* Click usage errors (unknown option, bad value, missing argument): the same one-line form,
  exit 2.
* When JSON output was asked for (``--format json|jsonl``, ``--json``, ``--jq``) the error is
  a JSON object ``{"error": {"code", "message", "exit_code", "hint"?, "details"?}}`` on
  **stderr**; stdout stays empty so a parser of stdout never sees half a result.
* Anything else is a bug: ``issue: internal error: ...`` and exit 1; ``--debug`` prints the
  traceback.
* Ctrl-C exits 130; a closed stdout pipe (``issue list | head``) exits 141 silently.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from issue_core.core.errors import ExitCode, IssueCoreError

PROG = "issue"
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe

JSON_FLAGS = ("--json", "--jq")


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asked for JSON output (checked on the raw arguments, because
    a usage error can happen before the options are parsed)."""
    tokens = list(args)
    for index, token in enumerate(tokens):
        if token == "--":
            break
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if (
            token in JSON_FLAGS
            or token.startswith(("--json=", "--jq=", "--format=json"))
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
        click.echo(f"{PROG}: {line}", err=True)


def report_error(error: IssueCoreError, *, as_json: bool) -> int:
    report(error.to_dict(), f"error: {error.one_line()}", as_json=as_json)
    return int(error.exit_code)


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
    detail = " ".join(f"{type(error).__name__}: {error}".split())
    message = f"internal error: {detail}"
    hint = None if debug else "rerun with --debug for the traceback"
    payload: dict[str, Any] = {"code": "internal", "message": message, "exit_code": 1}
    if hint:
        payload["hint"] = hint
    report(payload, message + (f" ({hint})" if hint else ""), as_json=as_json)
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
    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        error.show()
        return int(error.exit_code)
    if isinstance(error, click.ClickException):
        return report_click_error(error, as_json=as_json)
    if isinstance(error, click.Abort | KeyboardInterrupt):
        if isinstance(error.__cause__, EOFError):
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
