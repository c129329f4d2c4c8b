"""How long a change on the local store takes to reach ``issue watch --follow``'s output.

One ``issue watch --follow --json cursor,data`` process watches a store; a writer process (the
Python API, ``LocalBackend.add_comment``, as an agent's other process would) makes one change
at a time when told to, and says when its call started and when it returned (committed). This
process reads the watcher's stdout line by line and takes the time each line arrives; the
clock is ``time.monotonic`` (CLOCK_MONOTONIC: one clock for every process on the machine).
Between changes it waits a random 50-150 ms so a change never lands just as the watcher wakes
from the previous one. Reported: median, p90 and max of commit->printed (the target) and of
call->printed (the write's own commit, fsync included, on top), and the 1-minute load average.

    .venv/bin/python bench/watch.py [--changes 100]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def writer(path: str, orders, replies) -> None:
    from issue_core.backends.local import LocalBackend

    backend = LocalBackend()
    backend.connect({"path": path, "identity": "bench-writer"})
    while (n := orders.get()) is not None:
        started = time.monotonic()
        backend.add_comment(1, f"change {n}")
        replies.put((n, started, time.monotonic()))
    backend.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    store = root / ".issue-core" / "issues.db"
    env = {**os.environ, "HOME": str(root), "ISSUE_CORE_CONFIG_DIR": str(root / "config")}
    env.pop("ISSUE_CORE_BACKEND", None)
    issue = str(Path(sys.executable).parent / "issue")
    subprocess.run([issue, "create", "watched"], cwd=root, env=env, check=True, capture_output=True)

    orders: multiprocessing.Queue = multiprocessing.Queue()
    replies: multiprocessing.Queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=writer, args=(str(store), orders, replies))
    worker.start()
    watcher = subprocess.Popen(
        # From the create's cursor: every change after it is printed, however soon it comes.
        [issue, "watch", "--follow", "--since", "1", "--json", "cursor,data"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    load_before = os.getloadavg()[0]
    commit_to_line: list[float] = []
    call_to_line: list[float] = []
    try:
        for n in range(-1, args.changes):  # change -1 warms up (the watcher's start-up)
            orders.put(n)
            line = watcher.stdout.readline()  # type: ignore[union-attr]
            arrived = time.monotonic()
            done, started, committed = replies.get(timeout=30)
            event = json.loads(line)
            assert done == n and event["data"]["body"] == f"change {n}", (n, line)
            if n >= 0:
                commit_to_line.append((arrived - committed) * 1000)
                call_to_line.append((arrived - started) * 1000)
            time.sleep(random.uniform(0.05, 0.15))
    finally:
        orders.put(None)
        worker.join(timeout=30)
        watcher.terminate()
        watcher.wait(timeout=30)
    load_after = os.getloadavg()[0]
    print(f"{args.changes} changes; load average {load_before:.1f} -> {load_after:.1f}")
    for name, values in (("commit -> printed", commit_to_line), ("call -> printed", call_to_line)):
        print(
            f"{name:18} median {statistics.median(values):7.1f} ms   "
            f"p90 {percentile(values, 0.9):7.1f} ms   max {max(values):7.1f} ms"
        )


if __name__ == "__main__":
    main()
