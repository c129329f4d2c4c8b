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
1-minute load average before and after.

The forge modes (``gitea``, ``github``, ``gitlab``) run the same race against the fake forge of
tests/fakes, served over HTTP on 127.0.0.1 by this process (one uvicorn thread, contract checks
off as in bench/forge_requests.py), with ``--forge-issues`` ready issues (200: each claim is a
dozen requests, and the fake is one thread): each worker a process with its own backend and
agent name looping ``next_ready(claim_ttl_s=...)`` under the marker protocol (forge.claims).
Reported: the *double-claim rate* (claims of an issue some other worker had also been told it
won, over all claims) beside claims/s; a double claim does not fail the run, it is the figure.
Run with the venv's python:

    .venv/bin/python bench/claims.py [--issues 2000] [--workers 16] [--modes sqlite,api,cli]
    .venv/bin/python bench/claims.py --modes gitea,github,gitlab [--forge-issues 200]
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
FORGES = ("gitea", "github", "gitlab")
ROOT = Path(__file__).resolve().parents[1]


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


def claim_until_none_ready(backend, start, results) -> None:
    """From the start signal, ``next_ready(claim_ttl_s=...)`` until nothing is ready; the
    numbers taken go to ``results``."""
    start.wait()
    taken = []
    while True:
        issue, _claim = backend.next_ready(claim_ttl_s=TTL_S)
        if issue is None:
            break
        taken.append(issue.number)
    backend.close()
    results.put(taken)


def api_worker(path: str, who: str, start, results) -> None:
    from issue_core.backends.local import LocalBackend

    backend = LocalBackend()
    backend.connect({"path": path, "identity": who})
    claim_until_none_ready(backend, start, results)


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


def forge_worker(setup: dict, who: str, start, results) -> None:
    """One agent on the fake forge: ``next --claim`` until nothing is ready."""
    os.environ.update(setup["env"])
    backend = _forge_backend(setup["forge"])
    backend.connect(setup["config"])
    backend.agent = who
    claim_until_none_ready(backend, start, results)


def _forge_backend(forge: str):
    if forge == "gitea":
        from issue_core.backends.gitea import GiteaBackend

        return GiteaBackend()
    if forge == "github":
        from issue_core.backends.github import GitHubBackend

        return GitHubBackend()
    from issue_core.backends.gitlab import GitLabBackend

    return GitLabBackend()


def start_forge(forge: str, count: int, scratch: Path) -> tuple[object, dict]:
    """The fake ``forge`` with ``count`` open issues, and what a worker needs to reach it."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    env = {"ISSUE_CORE_CACHE_DIR": str(scratch / "http-cache")}
    if forge == "gitea":
        from tests.fakes.fixtures import TOKEN_ENV, start_fake_gitea
        from tests.fakes.gitea import WRITE_TOKEN

        running = start_fake_gitea(contract=None)
        env[TOKEN_ENV] = WRITE_TOKEN
        for n in range(count):
            running.fake.add_issue(f"task {n}", created=1_700_000_000 + n)
    elif forge == "github":
        from tests.fakes.github import OWNER_TOKEN
        from tests.fakes.github_fixtures import TOKEN_ENV, start_fake_github

        running = start_fake_github(contract=None, rate_limit=10_000_000)
        env[TOKEN_ENV] = OWNER_TOKEN
        for n in range(count):
            running.fake.add_issue(f"task {n}")
    else:
        from tests.fakes.gitlab import OWNER_TOKEN
        from tests.fakes.gitlab_fixtures import TOKEN_ENV, start_fake_gitlab

        running = start_fake_gitlab(contract=None, rate_limit=10_000_000)
        env[TOKEN_ENV] = OWNER_TOKEN
        for n in range(count):
            running.fake.add_issue(f"task {n}", created=1_700_000_000_000 + n)
    # GitHub's write pacing (80 a minute per token) would measure the pacer, not the protocol.
    config = {k: v for k, v in running.backend_config().items() if k != "type"}
    config.update(writes_per_minute=1_000_000, writes_per_hour=1_000_000, verify_tls=False)
    return running, {"forge": forge, "config": config, "env": env}


def run_forge(forge: str, count: int, workers: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix=f"claims-{forge}-"))
    running, setup = start_forge(forge, count, folder)
    try:
        ctx = multiprocessing.get_context("spawn")
        start, results = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=forge_worker, args=(setup, f"w{n}", start, results))
            for n in range(workers)
        ]
        for proc in procs:
            proc.start()
        time.sleep(2.0)  # every worker imported and connected before the start
        began = time.perf_counter()
        start.set()
        per_worker = [results.get(timeout=3600) for _ in procs]
        elapsed = time.perf_counter() - began
        for proc in procs:
            proc.join()
        taken = [n for numbers in per_worker for n in numbers]
        counts: dict[int, int] = {}
        for number in taken:
            counts[number] = counts.get(number, 0) + 1
        doubled = sum(c for c in counts.values() if c > 1)
        return {
            "mode": forge,
            "claims": len(taken),
            "issues": count,
            "every_issue_claimed": len(counts) == count,
            "double_claims": doubled,
            "double_claim_rate": round(doubled / len(taken), 4) if taken else 0.0,
            "exactly_once": doubled == 0 and len(counts) == count,
            "seconds": round(elapsed, 2),
            "claims_per_s": round(len(taken) / elapsed, 1),
            "requests": len(running.recorder.exchanges),
        }
    finally:
        running.stop()
        shutil.rmtree(folder, ignore_errors=True)


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
    parser.add_argument("--forge-issues", type=int, default=200)
    parser.add_argument("--json", metavar="FILE", help="Also write the results here.")
    args = parser.parse_args()
    report = {"issues": args.issues, "workers": args.workers, "load_before": os.getloadavg()[0]}
    rows = [
        run_forge(mode, args.forge_issues, args.workers)
        if mode in FORGES
        else run_mode(mode, args.issues, args.workers)
        for mode in args.modes.split(",")
    ]
    report["load_after"] = os.getloadavg()[0]
    report["results"] = rows
    for row in rows:
        print(
            f"{row['mode']:>6}: {row['claims']} claims in {row['seconds']} s = "
            f"{row['claims_per_s']} claims/s; each issue exactly once: {row['exactly_once']}"
            + (
                f"; double claims {row['double_claims']} (rate {row['double_claim_rate']}), "
                f"{row['requests']} requests"
                if row["mode"] in FORGES
                else ""
            )
        )
    print(
        f"load average (1 min): {report['load_before']:.1f} before, "
        f"{report['load_after']:.1f} after"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    # A forge's double claims are the figure it reports, not a failed run.
    if not all(row["exactly_once"] for row in rows if row["mode"] not in FORGES):
        sys.exit(1)


if __name__ == "__main__":
    main()
