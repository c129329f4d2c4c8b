"""`issue edit` processes racing on one local store: an edit reads and writes in one write
transaction, so nobody gets a conflict for a copy they never held, and replace replaces."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git_init

ISSUE = str(Path(sys.executable).parent / "issue")
ROUNDS = 3  # edits per process, back to back, so the processes overlap


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_init(tmp_path / "repo")


def env_for(tmp_path: Path, user: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUE_CORE_")}
    env.update(ISSUE_CORE_CONFIG_DIR=str(tmp_path / "config"), ISSUE_CORE_USER=user)
    return env


ROUND = "{round}"  # in an argument: replaced by the round's number (1..ROUNDS)


def _loop(args: list[str]) -> str:
    """A shell loop running ``issue ARGS`` ROUNDS times, ``{round}`` standing for the round."""
    quoted = [shlex.quote(arg).replace(ROUND, "'\"$i\"'") for arg in [ISSUE, *args]]
    return f"for i in $(seq {ROUNDS}); do {' '.join(quoted)} || exit $?; done"


def run_all(repo: Path, commands: list[tuple[list[str], dict[str, str]]]) -> list[tuple]:
    """Start every command at once; each runs its `issue` arguments ROUNDS times in a row."""
    procs = [
        subprocess.Popen(
            ["sh", "-c", _loop(args)],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args, env in commands
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]


def show(repo: Path, env: dict[str, str], number: int) -> dict:
    shown = subprocess.run(
        [ISSUE, "show", str(number), "--format", "json"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(shown.stdout)


def test_sixteen_title_edits_at_once_never_conflict(repo, tmp_path):
    env = env_for(tmp_path, "seed")
    for title in ("one", "two"):
        subprocess.run([ISSUE, "create", title], cwd=repo, env=env, check=True)
    # Every edit sets a title nobody else sets, so every one of them is a real change.
    edits = [(["edit", "2", "--title", f"by {n} #{ROUND}"], env) for n in range(16)]
    results = run_all(repo, edits)
    failures = [(code, err) for code, _, err in results if code != 0]
    assert failures == [], failures[:3]
    stored = show(repo, env, 2)
    assert stored["title"] in {f"by {n} #{r}" for n in range(16) for r in range(1, ROUNDS + 1)}
    assert stored["version"] == 1 + 16 * ROUNDS


def test_eight_agents_assigning_themselves_leave_one_assignee(repo, tmp_path):
    seed = env_for(tmp_path, "seed")
    subprocess.run([ISSUE, "create", "up for grabs"], cwd=repo, env=seed, check=True)
    agents = [
        (["edit", "1", "--assignee", "@me"], env_for(tmp_path, f"agent-{n}")) for n in range(8)
    ]
    results = run_all(repo, agents)
    assert [code for code, _, _ in results] == [0] * 8, results[:2]
    assignees = show(repo, seed, 1)["assignees"]
    assert len(assignees) == 1 and assignees[0].startswith("agent-")
