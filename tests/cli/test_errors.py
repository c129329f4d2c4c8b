"""The one error path: messages, streams and exit codes for every kind of failure."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from issue_core.cli import errors
from issue_core.cli.main import IssueCLI
from issue_core.cli.output import output_options
from issue_core.core.errors import (
    AuthError,
    BackendUnavailable,
    Conflict,
    IncompatibleStore,
    NotFound,
    StoreError,
    Unsupported,
    ValidationError,
)

FAILURES: dict[str, BaseException] = {
    "not_found": NotFound("issue #9 not found", hint="see: issue list"),
    "conflict": Conflict("label 'bug' already exists"),
    "auth": AuthError("token rejected"),
    "unavailable": BackendUnavailable("server timed out"),
    "unsupported": Unsupported("no milestones here"),
    "store": StoreError("store is read-only"),
    "incompatible": IncompatibleStore("schema 999 is newer"),
    "invalid": ValidationError("title must not be empty"),
    "bug": RuntimeError("boom\nsecond line"),
    "interrupt": KeyboardInterrupt(),
    "abort": click.Abort(),
}


@click.command()
@click.argument("kind")
@output_options(("x",))
def fail(kind: str) -> None:
    raise FAILURES[kind]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ISSUE_CORE_DEBUG", raising=False)

    @click.group(cls=IssueCLI, lazy={})
    @click.option("--debug", is_flag=True)
    def root(debug: bool) -> None:
        """Root."""

    root.add_command(fail)
    runner = CliRunner()
    return lambda *args: runner.invoke(root, list(args), prog_name="issue")


@pytest.mark.parametrize(
    ("kind", "code", "line"),
    [
        ("not_found", 3, "issue: error: issue #9 not found (see: issue list)"),
        ("conflict", 4, "issue: error: label 'bug' already exists"),
        ("auth", 5, "issue: error: token rejected"),
        ("unavailable", 6, "issue: error: server timed out"),
        ("unsupported", 7, "issue: error: no milestones here"),
        ("store", 8, "issue: error: store is read-only"),
        ("incompatible", 8, "issue: error: schema 999 is newer"),
        ("invalid", 2, "issue: error: title must not be empty"),
    ],
)
def test_typed_errors_are_one_line_with_their_exit_code(run, kind, code, line):
    result = run("fail", kind)
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr == line + "\n"


@pytest.mark.parametrize(
    "flag", [["--format", "json"], ["--format=jsonl"], ["--json", "x"], ["--jq", "."]]
)
def test_json_mode_errors_are_json_objects_on_stderr(run, flag):
    result = run("fail", "not_found", *flag)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert json.loads(result.stderr) == {
        "error": {
            "code": "not_found",
            "message": "issue #9 not found",
            "exit_code": 3,
            "hint": "see: issue list",
        }
    }


def test_usage_errors_exit_2_in_one_line_and_as_json(run):
    plain = run("fail", "x", "--bogus")
    assert plain.exit_code == 2
    assert plain.stderr.count("\n") == 1
    assert plain.stderr.startswith("issue: error: No such option")
    assert "see 'issue fail --help'" in plain.stderr
    as_json = run("fail", "--format", "json")  # missing argument
    assert as_json.exit_code == 2
    error = json.loads(as_json.stderr)["error"]
    assert error["code"] == "usage" and error["exit_code"] == 2
    assert "KIND" in error["message"]


def test_unexpected_exception_is_an_internal_error_without_traceback(run):
    result = run("fail", "bug")
    assert result.exit_code == 1
    assert result.stderr == (
        "issue: internal error: RuntimeError: boom second line "
        "(rerun with --debug for the traceback)\n"
    )


def test_debug_shows_the_traceback(run):
    result = run("--debug", "fail", "bug")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom" in result.stderr


def test_keyboard_interrupt_exits_130(run):
    result = run("fail", "interrupt")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def test_abort_exits_130(run):
    assert run("fail", "abort").exit_code == 130


def test_broken_pipe_is_silent_with_exit_141(monkeypatch, capsys):
    silenced = []
    monkeypatch.setattr(errors, "silence_stdout", lambda: silenced.append(True))
    assert errors.handle(BrokenPipeError(), ["list"]) == errors.BROKEN_PIPE == 141
    assert silenced == [True]
    assert capsys.readouterr() == ("", "")


def test_abort_from_end_of_input_exits_1(capsys):
    error = click.Abort()
    error.__cause__ = EOFError()
    assert errors.handle(error, []) == 1
    assert "end of input" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["list"], False),
        (["list", "--format", "table"], False),
        (["list", "--format", "json"], True),
        (["list", "--format=jsonl"], True),
        (["list", "--format=table", "--json", "a"], True),
        (["show", "1", "--json=title"], True),
        (["list", "--jq", ".[]"], True),
        (["comment", "1", "--", "--json"], False),
    ],
)
def test_wants_json_reads_raw_arguments(args, expected):
    assert errors.wants_json(args) is expected
