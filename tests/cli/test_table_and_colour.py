"""Tables that fit the terminal, colour that follows the environment, and the note that a
list was cut at its limit (shown to a person on a terminal only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from issue_core.cli import human
from issue_core.cli.output import OutputOptions
from issue_core.core.models import Issue
from tests.terminal import run_on_terminal

ISSUE = str(Path(sys.executable).with_name("issue"))
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def wide_issues() -> list[Issue]:
    return [
        Issue(
            number=1234,
            title="A title that is much longer than any terminal line could ever hold " * 3,
            labels=["bug", "priority:high", "needs-triage", "area/authentication"],
            assignees=["agent-with-a-long-name", "another-agent"],
            state="in_progress",  # type: ignore[arg-type]
            updated_at=NOW,
        ),
        Issue(number=7, title="日本語のタイトル" * 8, labels=["ui"], updated_at=NOW),
    ]


@pytest.mark.parametrize("columns", [20, 32, 40, 60, 80, 100, 120, 200])
def test_every_line_fits_columns_and_the_title_ends_in_an_ellipsis(columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(columns))
    for colour in (False, True):
        text = human.issues_table(wide_issues(), color=colour)
        import click

        lines = click.unstyle(text).splitlines()
        assert all(human.display_width(line) <= columns for line in lines), lines
    lines = human.issues_table(wide_issues(), color=False).splitlines()
    assert "…" in lines[1] and "…" in lines[2]
    if columns >= 80:
        # At a usual width only the title gives way: numbers and states stay whole.
        assert lines[1].split()[:4] == ["#1234", "in_progress", "A", "title"]
        assert lines[0].split()[:3] == ["NUMBER", "STATE", "TITLE"]


def test_a_table_that_fits_is_left_alone(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    short = [Issue(number=1, title="Short", updated_at=NOW)]
    assert "…" not in human.issues_table(short, color=False)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),  # a pipe
        ({"CLICOLOR_FORCE": "1"}, True),
        ({"CLICOLOR_FORCE": "0"}, False),
        ({"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, False),
        ({"CLICOLOR_FORCE": "1", "TERM": "dumb"}, True),
    ],
)
def test_colour_follows_the_environment_in_a_pipe(monkeypatch, env, expected):
    for name in ("NO_COLOR", "CLICOLOR_FORCE", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert OutputOptions().use_color() is expected
    assert OutputOptions(color=False).use_color() is False  # --no-color wins


def test_term_dumb_disables_colour_on_a_terminal(monkeypatch):
    from issue_core.cli import output

    monkeypatch.setattr(output, "_stdout_is_terminal", lambda: True)
    for name in ("NO_COLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert OutputOptions().use_color() is True
    monkeypatch.setenv("TERM", "dumb")
    assert OutputOptions().use_color() is False


# --------------------------------------------------------------------------- real processes


@pytest.fixture
def env(git_project: Path) -> dict[str, str]:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CLICOLOR_FORCE", "COLUMNS")
    }
    environ["TERM"] = "xterm-256color"
    return environ


def create_issues(env: dict[str, str], count: int) -> None:
    from issue_core.backends.local import LocalBackend

    subprocess.run([ISSUE, "init"], env=env, check=True, capture_output=True)
    backend = LocalBackend()
    backend.connect({"path": ".issue-core/issues.db", "identity": "tester"})
    try:
        for n in range(count):
            backend.create_issue(Issue(title=f"issue {n}"))
    finally:
        backend.close()


def on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[str, str]:
    """Run ``issue ARGS`` with stdout on a pseudo-terminal; (terminal text, stderr)."""
    run = run_on_terminal(args, env=env)
    return run.screen, run.err


def test_cut_list_on_a_terminal_says_so(env):
    create_issues(env, 31)
    out, err = on_a_terminal(["list"], env)
    assert err == "showing 30 issues; more match (--limit N shows more, --limit 0 shows all)\n"
    assert len(out.strip().splitlines()) == 1 + 30
    out, err = on_a_terminal(["list", "--limit", "5"], env)
    assert "showing 5 issues; more match" in err and len(out.strip().splitlines()) == 6
    _, err = on_a_terminal(["list", "--limit", "31"], env)
    assert err == ""  # everything shown: no note
    _, err = on_a_terminal(["list", "--limit", "0"], env)
    assert err == ""


def test_no_note_when_nothing_was_cut_or_nobody_reads_a_terminal(env):
    create_issues(env, 30)
    _, err = on_a_terminal(["list"], env)
    assert err == ""
    create_issues(env, 1)
    piped = subprocess.run([ISSUE, "list"], env=env, capture_output=True, text=True)
    assert piped.stderr == "" and len(piped.stdout.splitlines()) == 31
    as_json = subprocess.run(
        [ISSUE, "list", "--format", "json"], env=env, capture_output=True, text=True
    )
    assert len(json.loads(as_json.stdout)) == 30 and as_json.stderr == ""
    out, err = on_a_terminal(["list", "--format", "json"], env)
    assert len(json.loads(out)) == 30 and err == ""


def test_colour_on_a_terminal_but_not_with_term_dumb_and_forced_in_a_pipe(env):
    create_issues(env, 1)
    out, _ = on_a_terminal(["list"], env)
    assert "\x1b[" in out
    out, _ = on_a_terminal(["list"], {**env, "TERM": "dumb"})
    assert "\x1b[" not in out
    out, _ = on_a_terminal(["list"], {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in out
    piped = subprocess.run([ISSUE, "list"], env=env, capture_output=True, text=True)
    assert "\x1b[" not in piped.stdout
    forced = subprocess.run(
        [ISSUE, "list"], env={**env, "CLICOLOR_FORCE": "1"}, capture_output=True, text=True
    )
    assert "\x1b[" in forced.stdout


def test_the_table_fits_the_terminal_columns(env):
    create_issues(env, 0)
    subprocess.run(
        [ISSUE, "create", "x" * 200, "--label", "a-very-long-label-name"],
        env=env,
        check=True,
        capture_output=True,
    )
    piped = subprocess.run(
        [ISSUE, "list"], env={**env, "COLUMNS": "50"}, capture_output=True, text=True
    )
    lines = piped.stdout.splitlines()
    assert lines and all(len(line) <= 50 for line in lines), lines
    assert lines[1].split()[:2] == ["#1", "open"] and "x…" in lines[1]
