"""Sync killed at every kind of point, many times, then run to the end: both sides agree, as
an uninterrupted run leaves them, with no duplicate issue, comment, link or dependency.

The kill is the applier's fault hook (``ISSUE_CORE_SYNC_FAULT=before:N|after:N``: the process
ends as a SIGKILL would, just before or just after its Nth write), so every window between an
intent, its write and its record is hit; a few runs are also SIGKILLed at random delays."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.dependencies import Link
from issue_core.core.models import Issue
from tests.conftest import git_init, subprocess_env

pytestmark = pytest.mark.e2e

ISSUE = str(Path(sys.executable).parent / "issue")
CONFIG = """
[backends.mine]
type = "local"
path = "mine.db"

[backends.team]
type = "local"
path = "team.db"

[sync]
bulk_threshold = 1000
"""
FAULT_EXIT = 86


class Pair:
    def __init__(self, root: Path) -> None:
        self.repo = git_init(root)
        (self.repo / ".issue-core").mkdir()
        (self.repo / ".issue-core" / "config.toml").write_text(CONFIG)
        self.env = subprocess_env(root / "config", "crash")
        self.stores = {name: self._open(name) for name in ("mine", "team")}

    def _open(self, name: str) -> LocalBackend:
        backend = LocalBackend()
        backend.connect({"path": str(self.repo / f"{name}.db"), "identity": name})
        return backend

    def sync(self, fault: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if fault:
            env["ISSUE_CORE_SYNC_FAULT"] = fault
        return subprocess.run(
            [ISSUE, "sync", "bidirectional", "mine", "team", "--format", "json"],
            cwd=self.repo, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [ISSUE, "sync", "bidirectional", "mine", "team", "--format", "json"],
            cwd=self.repo, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip

    def view(self, name: str) -> dict[str, Any]:
        """Every issue by title: its shared fields and its comments' texts (marker off)."""
        backend = self.stores[name]
        seen: dict[str, Any] = {}
        for issue in backend.list_issues_all():
            texts = [
                c.body.split("\n\n<!-- issue-core:sync-comment")[0]
                for c in backend.list_comments(issue.number)
            ]
            snap = issue.editable_snapshot()
            snap["sync_metadata"].pop("issue-core-sync", None)
            assert issue.title not in seen, f"duplicate issue {issue.title!r} on {name}"
            titles = {i.number: i.title for i in backend.list_issues_all()}
            deps = sorted((d.relation, titles[d.number]) for d in backend.list_links(issue.number))
            seen[issue.title] = {**snap, "comments": texts, "deps": deps}
        return seen

    def links(self) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.repo / "mine.db")
        try:
            return conn.execute("SELECT a_id, b_id FROM sync_links").fetchall()
        finally:
            conn.close()


def _all(backend: LocalBackend) -> list[Issue]:
    from issue_core.core.models import IssueFilter

    return backend.list_issues(IssueFilter(state="all", limit=None))


LocalBackend.list_issues_all = _all  # type: ignore[attr-defined]


def seed(pair: Pair, rng: random.Random) -> None:
    mine, team = pair.stores["mine"], pair.stores["team"]
    for n in range(8):
        issue = mine.create_issue(
            Issue(f"mine {n}", labels=["bug"] if n % 2 else [], description=f"d{n}"),
            create_labels=True,
        )
        for k in range(n % 3):
            mine.add_comment(issue.number, f"mine {n} comment {k}")
    for n in range(4):
        issue = team.create_issue(Issue(f"team {n}", assignees=["bob"]))
        team.add_comment(issue.number, f"team {n} says hi")
    mine.add_link(Link("blocks", 2, 3))
    mine.add_link(Link("parent", 4, 5))
    team.add_link(Link("related", 1, 2))


def edit(pair: Pair, rng: random.Random, round_: int) -> None:
    """Edits on both sides that never conflict (each side edits its own fields)."""
    mine, team = pair.stores["mine"], pair.stores["team"]
    for backend, field in ((mine, "title"), (team, "description")):
        issues = backend.list_issues_all()
        target = rng.choice(issues)
        if field == "title":
            continue  # titles name issues in this test's views: edit labels instead
        target.description = f"{target.description} r{round_}"
        backend.update_issue(target)
    target = rng.choice(mine.list_issues_all())
    target.labels = sorted(set(target.labels) | {f"l{round_}"})
    mine.update_issue(target, create_labels=True)
    target = rng.choice(team.list_issues_all())
    team.add_comment(target.number, f"late comment {round_}")


def converge(pair: Pair) -> None:
    final = pair.sync()
    assert final.returncode == 0, final.stderr
    again = pair.sync()
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["actions"] == []


def check(pair: Pair, reference: Pair) -> None:
    mine, team = pair.view("mine"), pair.view("team")
    assert mine == team
    assert mine == reference.view("mine")
    links = pair.links()
    assert len(links) == len(mine)
    assert len({a for a, _ in links}) == len(links) == len({b for _, b in links})
    for name in ("mine", "team"):
        for title, shown in pair.view(name).items():
            assert len(shown["comments"]) == len(set(shown["comments"])), (name, title)


def test_a_sync_killed_at_every_kind_of_point_converges_without_duplicates(tmp_path):
    rng = random.Random(13)
    pair, reference = Pair(tmp_path / "crashed"), Pair(tmp_path / "reference")
    for target in (pair, reference):
        seed(target, random.Random(1))
    crashes = 0
    for round_ in range(3):
        # many kills in a row, each at another write, before or after it is sent
        for _ in range(10):
            point = f"{rng.choice(['before', 'after'])}:{rng.randint(1, 4)}"
            result = pair.sync(point)
            assert result.returncode in (0, FAULT_EXIT), result.stderr
            crashes += result.returncode == FAULT_EXIT
        converge(pair)
        converge(reference)
        check(pair, reference)
        edit(pair, random.Random(round_), round_)
        edit(reference, random.Random(round_), round_)
    converge(pair)
    converge(reference)
    check(pair, reference)
    assert crashes >= 10  # the kills really happened


def test_a_sync_killed_at_random_moments_converges_without_duplicates(tmp_path):
    rng = random.Random(7)
    pair, reference = Pair(tmp_path / "killed"), Pair(tmp_path / "reference")
    for target in (pair, reference):
        seed(target, random.Random(2))
    for _ in range(6):
        process = pair.start()
        time.sleep(rng.uniform(0.2, 1.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    converge(pair)
    converge(reference)
    check(pair, reference)
