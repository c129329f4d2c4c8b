"""Cold-process start-up of the `issue` CLI, reported as ratios to the interpreter floor.

Every figure is the median of N whole-process runs (after one warm-up run that fills the OS
cache), taken round-robin across the commands. The floor is this virtual environment's
`python -I -c pass`, measured in the same run, so the ratios stay comparable on a shared, noisy
machine. Run with the venv's python:

    .venv/bin/python bench/startup.py [--runs 15] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LABELS = ["bug", "ui", "docs", "backend", "p1", "p2"]
# The query-language case: five qualifiers, one of them negated, a range and a relative date.
QUERY = "is:open label:bug -label:ui priority:<=2 updated:>30d"


def build_store(folder: Path, count: int, *, seed: int = 7) -> None:
    """A git-less project folder whose zero-config store holds ``count`` varied issues."""
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import Issue, IssueState

    rng = random.Random(seed)
    # Priorities from a generator of their own, so the other fields stay as they always were.
    priorities = random.Random(seed + 1)
    backend = LocalBackend()
    backend.connect({"path": str(folder / ".issue-core" / "issues.db"), "identity": "bench"})
    states = [IssueState.OPEN] * 6 + [IssueState.IN_PROGRESS] + [IssueState.CLOSED] * 3
    batch: list[Issue] = []
    for i in range(count):
        labels = [name for name in LABELS if rng.random() < 0.15]
        batch.append(
            Issue(
                title=f"Issue {i}: {rng.choice(['fix', 'add', 'drop'])} the {rng.choice(LABELS)}",
                description="Some words about the problem. " * rng.randint(1, 8),
                state=rng.choice(states),
                labels=labels,
                assignees=[f"agent-{rng.randint(1, 20)}"] if rng.random() < 0.5 else [],
                priority=priorities.choice([None, 0, 1, 2, 2, 3, 3, 4]),
            )
        )
        if len(batch) == 5_000:
            backend.bulk_create(batch, create_labels=True)
            batch = []
    if batch:
        backend.bulk_create(batch, create_labels=True)
    for _ in range(5):
        backend.add_comment(count // 2, "A comment with some text in it.")
    backend.close()


def add_links(folder: Path, count: int, *, seed: int = 11) -> None:
    """``count`` random "blocks" links between the store's issues, always from a lower number
    to a higher one (so there is no cycle), written in one transaction: the fixture, not the
    cost of ``issue dep add`` (each of which checks for a cycle first)."""
    from issue_core.backends.local import LocalBackend

    rng = random.Random(seed)
    backend = LocalBackend()
    backend.connect({"path": str(folder / ".issue-core" / "issues.db"), "identity": "bench"})
    with backend.store.writer() as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM issues ORDER BY number")]
        links: set[tuple[int, int]] = set()
        while len(links) < count:
            a, b = sorted(rng.sample(range(len(ids)), 2))
            links.add((ids[a], ids[b]))
        conn.executemany(
            "INSERT INTO issue_links (kind, source_id, target_id, created_at) "
            "VALUES ('blocks', ?, ?, '2026-01-01T00:00:00.000000Z')",
            sorted(links),
        )
    backend.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--large", type=int, default=100_000, help="issues in the large store")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--only",
        help="run only the floor and the commands whose name contains this text",
    )
    args = parser.parse_args()

    python = sys.executable
    # Measure what an installed package does: with bytecode, never recompiling per process.
    subprocess.run(
        [python, "-m", "compileall", "-q", str(Path(__file__).parents[1] / "issue_core")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    issue = str(Path(python).with_name("issue"))
    work = Path(tempfile.mkdtemp(prefix="issue-core-bench-"))
    small, large, on_forge = work / "small", work / "large", work / "on-forge"
    linked = work / "linked"
    small.mkdir()
    large.mkdir()
    linked.mkdir()
    # A repository on github.com with nothing configured: the local store, plus reading
    # .git/config for the once-only "connect your forge" note (said in the warm-up run).
    subprocess.run(["git", "init", "-q", str(on_forge)], check=True)
    subprocess.run(["git", "-C", str(on_forge), "remote", "add", "origin",
                    "git@github.com:acme/widgets.git"], check=True)  # fmt: skip
    t0 = time.perf_counter()
    build_store(small, 1_000)
    build_store(on_forge, 1_000)
    build_store(large, args.large)
    build_store(linked, 10_000)
    add_links(linked, 20_000)
    print(f"built stores in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    env = {
        **os.environ,
        "ISSUE_CORE_CONFIG_DIR": str(work / "config"),
        "ISSUE_CORE_USER": "bench",
        "ISSUE_CORE_CACHE_DIR": str(work / "cache"),
        "NO_COLOR": "1",
    }
    env.pop("ISSUE_CORE_BACKEND", None)

    n = f"{args.large:,}"
    cases: list[tuple[str, list[str], Path, float | None]] = [
        ("python -I -c pass (floor)", [python, "-I", "-c", "pass"], small, None),
        (
            "python -I -c 'import click' (Click floor)",
            [python, "-I", "-c", "import click"],
            small,
            None,
        ),
        ("issue --version", [issue, "--version"], small, None),
        (
            "issue list --format json (1,000 issues)",
            [issue, "list", "--format", "json"],
            small,
            5.0,
        ),
        (
            "issue list --format json (1,000 issues, git remote on github.com, unconfigured)",
            [issue, "list", "--format", "json"],
            on_forge,
            5.0,
        ),
        (
            "issue list --format json --limit 1000 (1,000 issues)",
            [issue, "list", "--format", "json", "--limit", "1000"],
            small,
            None,
        ),
        (
            f"issue list --state open --label bug --limit 50 --format json ({n} issues)",
            [
                issue,
                "list",
                "--state",
                "open",
                "--label",
                "bug",
                "--limit",
                "50",
                "--format",
                "json",
            ],
            large,
            6.0,
        ),
        (
            f"issue list --search problem --limit 50 --format json ({n} issues)",
            [issue, "list", "--search", "problem", "--limit", "50", "--format", "json"],
            large,
            None,
        ),
        (
            f"issue list -q (five qualifiers) --limit 50 --format json ({n} issues)",
            [issue, "list", "-q", QUERY, "--limit", "50", "--format", "json"],
            large,
            6.0,
        ),
        (
            "issue ready --format json (10,000 issues, 20,000 dependency links)",
            [issue, "ready", "--format", "json"],
            linked,
            6.0,
        ),
        (
            "issue create TITLE --label bug (1,000 issues)",
            [issue, "create", "Bench", "--label", "bug"],
            small,
            5.0,
        ),
        (
            "issue show 500 --comments (1,000 issues)",
            [issue, "show", "500", "--comments"],
            small,
            5.0,
        ),
        (
            "issue show 500 --comments --format json",
            [issue, "show", "500", "--comments", "--format", "json"],
            small,
            5.0,
        ),
    ]
    if args.only:
        cases = [cases[0], *(case for case in cases[1:] if args.only in case[0])]
    # Round-robin: every round runs each command once, so drift in the machine's load hits all
    # of them alike instead of whichever happened to run during a busy spell.
    samples: dict[str, list[float]] = {name: [] for name, *_ in cases}
    for _, cmd, cwd, _ in cases:
        subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)  # warm-up
    for _ in range(args.runs):
        for name, cmd, cwd, _ in cases:
            start = time.perf_counter()
            subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
            samples[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians[cases[0][0]]
    rows = [(name, medians[name], target) for name, _, _, target in cases]

    print("| command | median ms | x floor | target |\n|---|---:|---:|---|")
    results = []
    for name, seconds, target in rows:
        ratio = seconds / floor
        verdict = "" if target is None else (f"≤ {target:g}x {'✅' if ratio <= target else '❌'}")
        print(f"| `{name}` | {seconds * 1000:.1f} | {ratio:.2f} | {verdict} |")
        results.append(
            {
                "command": name,
                "median_ms": round(seconds * 1000, 2),
                "ratio": round(ratio, 3),
                "target": target,
            }
        )
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "results": results}, indent=2))
    return 0 if all(r["target"] is None or r["ratio"] <= r["target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
