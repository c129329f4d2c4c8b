"""16 workers looping "pick the most important ready issue and claim it" over 2,000 ready issues
on the local store, three ways in one run, so the figures compare on a shared, noisy machine:

* ``sqlite``: the floor -- each worker a process with a raw ``sqlite3`` connection (WAL,
  ``synchronous=FULL``, as the store) looping ``BEGIN IMMEDIATE``; one conditional UPDATE of the
  best unclaimed row; ``COMMIT``;
* ``api``: each worker a process with ``LocalBackend.next_ready(claim_ttl_s=...)`` (what
  ``issue_core.open_backend()`` gives), the store's real transaction: sweep, pick, claim, event;
* ``cli``: each worker a process looping ``issue --as wN next --claim --json number``, one
  whole ``issue`` process per claim.

Each mode checks that every issue was claimed exactly once (none lost, none twice) and reports
claims per second over the wall time from the start signal to the last worker's end, with the
1-minute load average before and after. Run with the venv's python:

    .venv/bin/python bench/claims.py [--issues 2000] [--workers 16] [--modes sqlite,api,cli]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TTL_S = 7200


def build(path: Path, count: int) -> None:
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import Issue

    backend = LocalBackend()
    backend.connect({"path": str(path), "identity": "bench"})
    backend.bulk_create([Issue(title=f"task {n}", priority=n % 5) for n in range(count)])
    backend.close()


def build_floor(path: Path, count: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, priority INTEGER, created TEXT, holder TEXT)"
    )
    conn.execute("CREATE INDEX tasks_ready ON tasks (holder, priority, created, id)")
    conn.executemany(
        "INSERT INTO tasks (priority, created, holder) VALUES (?, ?, NULL)",
        [(n % 5, f"{n:08d}") for n in range(count)],
    )
    conn.close()


def floor_worker(path: str, who: str, start, results) -> None:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA synchronous = FULL")
    start.wait()
    taken = []
    while True:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "UPDATE tasks SET holder = ? WHERE id = (SELECT id FROM tasks WHERE holder IS NULL "
            "ORDER BY priority, created, id LIMIT 1) AND holder IS NULL RETURNING id",
            (who,),
        ).fetchone()
        conn.execute("COMMIT")
        if row is None:
            break
        taken.append(row[0])
    conn.close()
    results.put(taken)


def api_worker(path: str, who: str, start, results) -> None:
    from issue_core.backends.local import LocalBackend

    backend = LocalBackend()
    backend.connect({"path": path, "identity": who})
    start.wait()
    taken = []
    while True:
        issue, _claim = backend.next_ready(claim_ttl_s=TTL_S)
        if issue is None:
            break
        taken.append(issue.number)
    backend.close()
    results.put(taken)


def cli_worker(path: str, who: str, start, results) -> None:
    folder = str(Path(path).parent.parent)  # the project folder of .issue-core/issues.db
    env = {**os.environ, "ISSUE_CORE_USER": "bench", "ISSUE_CORE_CONFIG_DIR": folder + "/cfg"}
    issue = str(Path(sys.executable).with_name("issue"))
    start.wait()
    taken = []
    while True:
        done = subprocess.run(
            [issue, "--as", who, "next", "--claim", "--json", "number"],
            capture_output=True,
            text=True,
            cwd=folder,
            env=env,
            check=True,
        )
        picked = json.loads(done.stdout)
        if picked is None:
            break
        taken.append(picked["number"])
    results.put(taken)


def run_mode(mode: str, count: int, workers: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix=f"claims-{mode}-"))
    try:
        if mode == "sqlite":
            path = folder / "floor.db"
            build_floor(path, count)
            target = floor_worker
        else:
            path = folder / ".issue-core" / "issues.db"
            path.parent.mkdir()
            build(path, count)
            target = api_worker if mode == "api" else cli_worker
        ctx = multiprocessing.get_context("spawn")
        start, results = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=target, args=(str(path), f"w{n}", start, results))
            for n in range(workers)
        ]
        for proc in procs:
            proc.start()
        time.sleep(1.0)  # let every worker import and open its connection before the start
        began = time.perf_counter()
        start.set()
        taken = [n for _ in procs for n in results.get(timeout=3600)]
        elapsed = time.perf_counter() - began
        for proc in procs:
            proc.join()
        exactly_once = sorted(taken) == list(range(1, count + 1))
        return {
            "mode": mode,
            "claims": len(taken),
            "exactly_once": exactly_once,
            "seconds": round(elapsed, 2),
            "claims_per_s": round(len(taken) / elapsed, 1),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--modes", default="sqlite,api,cli")
    parser.add_argument("--json", metavar="FILE", help="Also write the results here.")
    args = parser.parse_args()
    report = {"issues": args.issues, "workers": args.workers, "load_before": os.getloadavg()[0]}
    rows = [run_mode(mode, args.issues, args.workers) for mode in args.modes.split(",")]
    report["load_after"] = os.getloadavg()[0]
    report["results"] = rows
    for row in rows:
        print(
            f"{row['mode']:>6}: {row['claims']} claims in {row['seconds']} s = "
            f"{row['claims_per_s']} claims/s; each issue exactly once: {row['exactly_once']}"
        )
    print(
        f"load average (1 min): {report['load_before']:.1f} before, "
        f"{report['load_after']:.1f} after"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    if not all(row["exactly_once"] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
