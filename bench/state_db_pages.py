"""Pages the ingestion pipeline writes to the state db per commit: a count, not a timing.

Each pipeline cycle commits one transaction on ``server.db``: the previous cycle's deliveries
(``service.ingest.record``) and this cycle's claims (``service.ingest.claim``). Every page it
dirties is one WAL frame that the commit's fsync must write, so frames per commit is what the
disk's latency is multiplied by. This replays the bench's tasks (14 per cycle, as under load)
with checkpoints off and reports the WAL's growth per commit, and the commit's wall time with
checkpoints on (noisy on a shared machine; the page count is not).

    .venv/bin/python bench/state_db_pages.py [--cycles 2500] [--per-cycle 14] [--random-ids]

``--random-ids``: tracking ids of 128 random bits, as before they were time-ordered
(``service/ids.py``), to show what the order saves.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import issue_core.service.ingest as ingest
from issue_core.server.outbox import StateStore
from issue_core.service.ingest import Delivered, RequestContext, prepare, record
from issue_core.service.tasks import TaskInput

FRAME = 4096 + 24  # a WAL frame: the page and its header


def run(cycles: int, per_cycle: int, *, checkpoints: bool) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="state-db-pages-") as scratch:
        store = StateStore(Path(scratch) / "server.db")
        if not checkpoints:
            store.conn.execute("PRAGMA wal_autocheckpoint = 0")
        wal = Path(scratch) / "server.db-wal"
        frames: list[float] = []
        times: list[float] = []
        previous: list[ingest.PreparedTask] = []
        number = 0
        for cycle in range(cycles):
            batch = []
            for worker in range(per_cycle):
                number += 1
                key = f"bench-{worker}-{number}"
                task = TaskInput(
                    title=f"Load test task {worker}/{number}",
                    description="Created by bench/ingest_load.py",
                    labels=["bench"],
                    priority="p2",
                    idempotency_key=key,
                    source={"system": "bench", "event_id": key, "trace_id": key},
                )
                batch.append(prepare(task, RequestContext(os.urandom(16).hex(), "fp"), "local"))
            delivered = [
                Delivered(p.row.tracking_id, n, json.dumps(p.issue.to_dict()))
                for n, p in enumerate(previous, start=number)
            ]
            before = wal.stat().st_size if wal.exists() else 0
            started = time.perf_counter()
            with store.transaction() as conn:
                record(store, conn, delivered)
                ingest.claim(store, conn, [p.row for p in batch])
            spent = time.perf_counter() - started
            if cycle >= 50:  # past the first pages of a fresh file
                frames.append((wal.stat().st_size - before) / FRAME)
                times.append(spent)
            previous = batch
        store.close()
    return frames, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2500)
    parser.add_argument("--per-cycle", type=int, default=14)
    parser.add_argument("--random-ids", action="store_true")
    args = parser.parse_args()
    if args.random_ids:
        ingest.new_id = lambda: os.urandom(16).hex()
    frames, _ = run(args.cycles, args.per_cycle, checkpoints=False)
    _, times = run(args.cycles, args.per_cycle, checkpoints=True)
    times.sort()
    ids = "random" if args.random_ids else "time-ordered"
    print(
        f"{ids} tracking ids, {args.per_cycle} tasks per commit, {args.cycles} commits:"
        f" {statistics.mean(frames):.1f} WAL frames per commit (median"
        f" {statistics.median(frames):.0f}); commit p50 {times[len(times) // 2] * 1000:.2f} ms,"
        f" p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
