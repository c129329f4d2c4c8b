"""Read the server's opt-in timings (``ISSUE_CORE_SERVER_TIMINGS``, ``server/timings.py``)
and say where the latency went: each stage's distribution, the collections, the loop's lag, and
what was happening around the slowest requests.

    ISSUE_CORE_SERVER_TIMINGS=/tmp/t .venv/bin/python bench/ingest_load.py ...   # or --timings
    .venv/bin/python bench/ingest_timings.py /tmp/t [--window 0.05]
"""

from __future__ import annotations

import argparse
import bisect
import json
from collections import defaultdict
from pathlib import Path
from typing import Any


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def ms(value: float) -> str:
    return f"{value * 1000:.2f}"


def dist(name: str, values: list[float]) -> str:
    if not values:
        return f"| {name} | 0 | - | - | - | - | - |"
    return (
        f"| {name} | {len(values):,} | {ms(pct(values, 0.5))} | {ms(pct(values, 0.9))} |"
        f" {ms(pct(values, 0.99))} | {ms(max(values))} | {sum(values):.2f} |"
    )


def load(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    by_process: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        by_process[data["process"]].extend(tuple(sample) for sample in data["samples"])
    return by_process


def report(folder: Path, window: float, slow_quantile: float) -> str:
    processes = load(folder)
    everything = [(process, s) for process, samples in processes.items() for s in samples]
    kinds: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for process, sample in everything:
        kinds[(process, sample[0])].append(sample)
    lines = [
        "| stage | n | p50 ms | p90 ms | p99 ms | max ms | total s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    requests = kinds[("server", "request")]
    lines.append(dist("request: parse + validate + prepare", [s[2] for s in requests]))
    lines.append(dist("request: wait for the pipeline", [s[3] for s in requests]))
    lines.append(dist("request: build the answer", [s[4] for s in requests]))
    lines.append(dist("loop → pipeline: send", [s[3] for s in kinds[("server", "send")]]))
    lines.append(dist("pipeline → loop: hand-over", [s[3] for s in kinds[("server", "resolve")]]))
    span = (requests[0][1], requests[-1][1]) if requests else (0.0, 0.0)
    lines.append(
        dist(
            "loop lag (> 0.5 ms) while POST /issues/ ran",
            [s[2] for s in kinds[("server", "lag")] if span[0] <= s[1] <= span[1]],
        )
    )
    for process in sorted(processes):
        cycles = kinds[(process, "cycle")]
        if not cycles:
            continue
        lines.append(dist(f"{process} cycle: wait for tasks", [s[2] for s in cycles]))
        lines.append(dist(f"{process} cycle: claim SQL", [s[4] for s in cycles]))
        lines.append(dist(f"{process} cycle: claim COMMIT (fsync)", [s[5] for s in cycles]))
        lines.append(dist(f"{process} cycle: backend create", [s[6] for s in cycles]))
        lines.append(dist(f"{process} cycle: answer", [s[7] for s in cycles]))
        lines.append(dist(f"{process} flush commit", [s[3] for s in kinds[(process, "flush")]]))
    for process in sorted(processes):
        by_file: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for sample in kinds[(process, "txn")]:
            by_file[sample[2]].append(sample)
        for name, txns in sorted(by_file.items()):
            # A checkpoint ran in the COMMIT before the WAL's checkpoint sequence moved.
            checkpointed = {i - 1 for i in range(1, len(txns)) if txns[i][5] != txns[i - 1][5]}
            lines.append(dist(f"{process} {name}: statements", [s[3] for s in txns]))
            lines.append(
                dist(
                    f"{process} {name}: COMMIT",
                    [s[4] for i, s in enumerate(txns) if i not in checkpointed],
                )
            )
            lines.append(
                dist(
                    f"{process} {name}: COMMIT + checkpoint",
                    [txns[i][4] for i in sorted(checkpointed)],
                )
            )
    for process in sorted(processes):
        for gen in (0, 1, 2):
            pauses = [s[3] for s in kinds[(process, "gc")] if s[2] == gen]
            lines.append(dist(f"{process} gc gen {gen}", pauses))
    out = ["\n".join(lines)]

    sizes = [s[3] for s in kinds[("writer", "cycle")] or kinds[("server", "cycle")]]
    if sizes:
        histogram: dict[int, int] = defaultdict(int)
        for size in sizes:
            histogram[min(size, 64) // 4 * 4] += 1
        out.append(
            "batch sizes (tasks per cycle, by 4): "
            + ", ".join(f"{k}-{k + 3}: {v}" for k, v in sorted(histogram.items()))
        )

    # The slowest requests: what overlapped them.
    if requests:
        total = [(s[1], s[2] + s[3] + s[4]) for s in requests]
        threshold = pct([t for _, t in total], slow_quantile)
        slow = [(start, t) for start, t in total if t >= threshold]
        events: list[tuple[float, float, str]] = []
        for process, sample in everything:
            kind = sample[0]
            if kind == "gc" and sample[3] > 0.002:
                events.append((sample[1], sample[3], f"{process} gc{sample[2]} {ms(sample[3])}"))
            elif kind == "lag" and sample[2] > 0.005:
                events.append((sample[1] - sample[2], sample[2], f"loop lag {ms(sample[2])}"))
            elif kind == "cycle":
                span = sum(sample[4:8])
                if span > 0.015:
                    parts = "/".join(ms(v) for v in sample[4:8])
                    events.append(
                        (
                            sample[1],
                            span,
                            f"{process} slow cycle n={sample[3]} sql/commit/create/answer {parts}",
                        )
                    )
            elif kind == "txn" and sample[4] > 0.010:
                events.append(
                    (
                        sample[1],
                        sample[3] + sample[4],
                        f"{process} slow-commit {sample[2]} {ms(sample[4])}",
                    )
                )
            elif kind == "resolve" and sample[3] > 0.005:
                events.append((sample[1] - sample[3], sample[3], f"hand-over {ms(sample[3])}"))
        events.sort()
        starts = [e[0] for e in events]
        out.append(
            f"\nslowest requests (>= p{slow_quantile * 100:g}, {ms(threshold)} ms): {len(slow)}"
        )
        explained: dict[str, int] = defaultdict(int)
        for start, spent in slow:
            lo = bisect.bisect_left(starts, start - window)
            hi = bisect.bisect_right(starts, start + spent)
            causes = {
                e[2].split(" ")[0] + " " + e[2].split(" ")[1]
                for e in events[lo:hi]
                if e[0] + e[1] >= start
            }
            for cause in causes or {"(nothing recorded)"}:
                explained[cause] += 1
        for cause, count in sorted(explained.items(), key=lambda item: -item[1]):
            out.append(f"  {cause}: overlaps {count} of them")
        out.append("\nlongest events:")
        for event in sorted(events, key=lambda e: -e[1])[:15]:
            out.append(f"  t={event[0] - requests[0][1]:8.3f}s  {event[2]}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--window", type=float, default=0.0, help="seconds before a request to look"
    )
    parser.add_argument("--slow", type=float, default=0.99, help="quantile of the slow requests")
    args = parser.parse_args()
    print(report(args.folder, args.window, args.slow))


if __name__ == "__main__":
    main()
