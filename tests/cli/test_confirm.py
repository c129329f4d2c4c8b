"""Deleting asks first at a terminal and needs --yes elsewhere (cli/confirm.py).

The terminal cases run the real CLI on a pseudo-terminal, as a person would meet it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.terminal import run_on_terminal

GUARD_SECONDS = 60  # against a hang, not a performance check


def on_a_terminal(args: list[str], answer: str | None, cwd: Path) -> tuple[int, str]:
    """Run ``issue ARGS`` with stdin/stdout/stderr on a pty; type ``answer`` at the prompt."""
    run = run_on_terminal(
        args,
        stdin=True,
        stderr=True,
        answer=None if answer is None else (b"[y/N]", answer),
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return run.code, run.screen


@pytest.fixture
def store(issue, git_project: Path) -> Path:
    for args in (
        ("milestone", "create", "v1"),
        ("create", "in v1", "--milestone", "v1"),
        ("comment", "1", "first"),
    ):
        assert issue(*args).exit_code == 0
    return git_project


def milestones(issue) -> list[str]:
    return [m["title"] for m in json.loads(issue("milestone", "list", "--format", "json").stdout)]


def test_yes_at_the_prompt_deletes(issue, store: Path) -> None:
    code, screen = on_a_terminal(["milestone", "delete", "v1"], "y", store)
    assert code == 0, screen
    assert "Delete milestone 'v1' (1 issue will have no milestone)? [y/N]" in screen
    assert "deleted milestone v1" in screen
    assert milestones(issue) == []


@pytest.mark.parametrize("answer", ["n", ""])
def test_anything_but_yes_deletes_nothing(issue, store: Path, answer: str) -> None:
    code, screen = on_a_terminal(["comment", "1", "--delete", "1"], answer, store)
    assert code == 0, screen  # as a declined `issue delete`
    assert "Delete comment 1 on #1 by tester ('first')? [y/N]" in screen
    assert "not deleted: comment 1 on #1" in screen
    comments = json.loads(issue("show", "1", "--comments", "--format", "json").stdout)["comments"]
    assert [c["body"] for c in comments] == ["first"]


def test_yes_flag_does_not_ask_even_at_a_terminal(issue, store: Path) -> None:
    code, screen = on_a_terminal(["milestone", "delete", "v1", "--yes"], None, store)
    assert code == 0 and "[y/N]" not in screen, screen
    assert milestones(issue) == []


def test_off_a_terminal_without_yes_is_exit_2_naming_yes(issue, store: Path) -> None:
    result = issue("milestone", "delete", "v1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [  # the same line as `issue delete` gives
        "issue: error: --yes required when not running interactively (deleting cannot be "
        "undone; pass --yes to delete without being asked)"
    ]
    assert milestones(issue) == ["v1"]


def test_a_hostile_title_in_the_prompt_is_shown_not_obeyed(issue, store: Path) -> None:
    import sqlite3

    # As a forge could send it (the CLI refuses to make such a title): put in the store as is.
    title = "v2\x1b]0;pwned\x07"
    with sqlite3.connect(store / ".issue-core" / "issues.db") as conn:
        conn.execute(
            "INSERT INTO milestones (title, title_key, created_at, updated_at) "
            "VALUES (?, ?, '2026-12-01T00:00:00.000000Z', '2026-12-01T00:00:00.000000Z')",
            (title, title.lower()),
        )
    code, screen = on_a_terminal(["milestone", "delete", title], "n", store)
    assert code == 0, screen
    assert "\x1b]0;" not in screen and "\\x1b]0;pwned\\x07" in screen
