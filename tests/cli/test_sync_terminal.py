"""`issue sync` on a real terminal (a pty): the bulk guard asks, and a run shows its progress
on stderr -- never in JSON mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli.test_sync import CONFIG, issues_of, ok
from tests.terminal import run_on_terminal


@pytest.fixture
def guarded(issue, git_project: Path) -> Path:
    folder = git_project / ".issue-core"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text(CONFIG + "\n[sync]\nbulk_threshold = 2\n")
    for title in ("a", "b", "c"):
        ok(issue("--backend", "mine", "create", title))
    return git_project


def on_a_terminal(args: list[str], answer: str | None, cwd: Path):
    return run_on_terminal(
        ["sync", *args],
        stdin=True,
        stderr=True,
        answer=None if answer is None else (b"[y/N]", answer),
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_the_bulk_guard_asks_and_no_writes_nothing(issue, guarded: Path) -> None:
    run = on_a_terminal(["pull", "mine", "team"], "n", guarded)
    assert run.code == 2, run.screen
    assert "would create or change 3 issues on team (more than 2). Go on? [y/N]" in run.screen
    assert "nothing was written" in run.screen
    assert not (guarded / "team.db").exists() or issues_of(issue, "team") == []


def test_yes_at_the_bulk_guard_syncs_and_shows_progress(issue, guarded: Path) -> None:
    run = on_a_terminal(["pull", "mine", "team"], "y", guarded)
    assert run.code == 0, run.screen
    assert "syncing 3/3 issues" in run.screen
    assert [i["title"] for i in issues_of(issue, "team")] == ["a", "b", "c"]


def test_json_on_a_terminal_shows_no_progress(issue, guarded: Path) -> None:
    run = on_a_terminal(["pull", "mine", "team", "--yes", "--format", "json"], None, guarded)
    assert run.code == 0, run.screen
    assert "syncing" not in run.screen
    report, _ = json.JSONDecoder().raw_decode(run.screen[run.screen.index("{") :])
    assert report["summary"]["created"] == 3
