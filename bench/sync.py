"""Requests and wall time of sync's reads of a forge, against its fake with added latency.

A repository of N issues (default 5,000) with C comments (default 20,000, spread evenly) is
seeded straight into the fake of ``--forge`` (``gitea``, ``github``, ``gitlab``; the subjects of
``bench/forge_requests.py``), seeded with the fake's clock an hour back; every request then
carries ``--latency`` seconds (default 50 ms). Measured:

* **first pull** -- the reads: ``snapshot()`` (every issue and every comment, pages fetched
  ``page_concurrency`` at a time once the first page gives the total). Requests against the
  minimum the API allows -- ``ceil(N / page) + ceil(C / page)`` where the forge lists the
  repository's comments (Gitea, GitHub), ``ceil(N / page) + issues with comments`` where it
  does not (GitLab) -- target within 10 %; wall time as a ratio to the floor
  ``latency x (ceil(issue pages / concurrency) + ceil(comment requests / concurrency))``;
* **incremental** after 10 issues changed (title edited, a comment added, by another client):
  the feeds read as a pull reads them (``changes_since`` then ``comments_since``, each until it
  answers nothing new) -- target <= 5 requests (plus the pull's own writes);
* **no change**: the same reads once more: only the cursor reads;
* with ``--engine``: the real ``issue sync pull FORGE local`` (``service.sync.pairs.sync``) on a
  smaller repository (``--engine-issues``, ``--engine-comments``): first pull, incremental and
  no-change, forge requests and wall time (the local store's writes included).

The fake validates nothing here (contract checks cost CPU in the server thread); the test
suite checks the same exchanges. Run:

    .venv/bin/python bench/sync.py [--forge gitea|github|gitlab] [--issues 5000]
        [--comments 20000] [--latency 0.05] [--engine] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.forge_requests import SUBJECTS, Subject, running, table  # noqa: E402

CHANGED = 10
SEEDED_AT = time.time() - 3600  # the seeding's time on the fake's clock: clear of any overlap


def seed(subject: Subject, issues: int, comments: int) -> None:
    """``issues`` issues and ``comments`` comments, round-robin (``add_issues`` adds one)."""
    subject.set_clock(lambda: SEEDED_AT)
    subject.add_issues(issues)
    for index in range(comments - 1):
        subject.add_comment(1 + (index + 1) % issues, f"comment {index}")
    subject.set_clock(time.time)


def drain(read: Any, cursor: str | None) -> tuple[list[Any], str | None]:
    """Every change after ``cursor``, read as the engine reads a feed (until nothing new)."""
    seen: list[Any] = []
    while True:
        changes, after = read(cursor, limit=500)
        seen.extend(changes)
        if not changes or after == cursor:
            return seen, cursor
        cursor = after


def change_some(subject: Subject, numbers: list[int]) -> None:
    """Another client edits ``numbers`` and comments on them (its requests are not counted)."""
    from issue_core.core.models import IssueChanges

    writer = subject.backend(http_cache=False)
    try:
        for number in numbers:
            writer.edit_issue(number, IssueChanges(title=f"changed #{number}"))
            writer.add_comment(number, f"new on #{number}")
    finally:
        writer.close()


def _timed(subject: Subject, action: Any) -> tuple[Any, int, float]:
    mark = subject.mark()
    started = time.perf_counter()
    result = action()
    return result, len(subject.since(mark)), time.perf_counter() - started


def measure_reads(
    subject: Subject, issue_count: int, comment_count: int, latency: float
) -> dict[str, Any]:
    seed(subject, issue_count, comment_count)
    subject.set_latency(latency)
    backend = subject.backend(http_cache=False)
    concurrency = int(backend.http.page_concurrency)
    snap, first_requests, first_wall = _timed(subject, backend.snapshot)
    assert len(snap.issues) == issue_count, len(snap.issues)
    read_comments = sum(len(issue.comments) for issue in snap.issues)
    assert read_comments == comment_count, read_comments

    page = subject.page_size()
    issue_pages = math.ceil(issue_count / page)
    if subject.name == "gitlab":  # no repository-wide list: one request per issue with notes
        comment_requests = sum(1 for issue in snap.issues if issue.comments)
    else:
        comment_requests = math.ceil(comment_count / page)
    minimum = issue_pages + comment_requests
    floor = latency * (
        math.ceil(issue_pages / concurrency) + math.ceil(comment_requests / concurrency)
    )

    def feeds(issue_cursor: str | None, comment_cursor: str | None) -> Any:
        issues, issue_after = drain(backend.changes_since, issue_cursor)
        comments, comment_after = drain(backend.comments_since, comment_cursor)
        return issues, comments, issue_after, comment_after

    changed = list(range(1, issue_count + 1, max(1, issue_count // CHANGED)))[:CHANGED]
    change_some(subject, changed)
    (issues, comments, issue_cursor, comment_cursor), incremental, incremental_wall = _timed(
        subject, lambda: feeds(snap.issue_cursor, snap.comment_cursor)
    )
    assert {c.issue.number for c in issues} >= set(changed), sorted(c.issue.number for c in issues)
    new = {c.issue_number for c in comments if c.comment.body.startswith("new on")}
    assert new == set(changed), sorted(new)
    (again_issues, again_comments, _, _), unchanged, _ = _timed(
        subject, lambda: feeds(issue_cursor, comment_cursor)
    )
    assert not again_issues and not again_comments
    backend.close()
    return {
        "page_size": page,
        "concurrency": concurrency,
        "first_requests": first_requests,
        "minimum_requests": minimum,
        "request_ratio": first_requests / minimum,
        "issue_pages": issue_pages,
        "comment_requests": comment_requests,
        "first_wall_s": first_wall,
        "floor_s": floor,
        "wall_ratio": first_wall / floor if floor else None,
        "incremental_requests": incremental,
        "incremental_wall_s": incremental_wall,
        "incremental_issues_seen": len(issues),
        "no_change_requests": unchanged,
    }


def measure_engine(
    subject: Subject, scratch: Path, issue_count: int, comment_count: int, latency: float
) -> dict[str, Any]:
    """``issue sync pull FORGE local`` through the service the CLI calls."""
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import IssueFilter
    from issue_core.service.sync.pairs import sync
    from issue_core.service.sync.settings import SyncSettings
    from issue_core.service.sync.users import UserMap

    seed(subject, issue_count, comment_count)
    subject.set_latency(latency)
    local = LocalBackend()
    local.connect({"path": str(scratch / "local" / "issues.db"), "identity": "bench"})
    forge = subject.backend(http_cache=False)
    settings = SyncSettings(bulk_threshold=10**9, on_delete="report", users=UserMap())

    def pull() -> Any:
        return sync(
            "pull", (subject.name, forge), ("local", local), settings=settings, state_dir=scratch
        )

    _, first, first_wall = _timed(subject, pull)
    copied = local.list_issues(IssueFilter(state=None, limit=None))
    assert len(copied) == issue_count, len(copied)
    change_some(subject, list(range(1, min(CHANGED, issue_count) + 1)))
    _, incremental, incremental_wall = _timed(subject, pull)
    _, unchanged, unchanged_wall = _timed(subject, pull)
    forge.close()
    local.close()
    return {
        "issues": issue_count,
        "comments": comment_count,
        "first_requests": first,
        "first_wall_s": first_wall,
        "incremental_requests": incremental,
        "incremental_wall_s": incremental_wall,
        "no_change_requests": unchanged,
        "no_change_wall_s": unchanged_wall,
    }


def measure(forge: str, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "forge": forge,
        "issues": args.issues,
        "comments": args.comments,
        "latency_s": args.latency,
    }
    for part in ("reads", "engine"):
        if part == "engine" and not args.engine:
            continue
        with running(forge) as subject:
            if part == "reads":
                results["reads"] = measure_reads(subject, args.issues, args.comments, args.latency)
            else:
                results["engine"] = measure_engine(
                    subject, subject.scratch, args.engine_issues, args.engine_comments, args.latency
                )
    return results


def markdown(r: dict[str, Any]) -> str:
    reads = r["reads"]
    rows = [
        ("forge", r["forge"]),
        ("repository", f"{r['issues']:,} issues, {r['comments']:,} comments"),
        ("added latency per request", f"{r['latency_s'] * 1000:.0f} ms"),
        ("page size / page concurrency", f"{reads['page_size']} / {reads['concurrency']}"),
        (
            "first pull (snapshot): requests / API minimum",
            f"{reads['first_requests']} / {reads['minimum_requests']} "
            f"({reads['issue_pages']} issue pages + {reads['comment_requests']} comment "
            f"requests): x{reads['request_ratio']:.3f} (target <= 1.10)",
        ),
        (
            "first pull: wall / floor",
            f"{reads['first_wall_s']:.2f} s / {reads['floor_s']:.2f} s: x{reads['wall_ratio']:.2f}",
        ),
        (
            f"incremental after {CHANGED} changed issues: requests (target <= 5)",
            f"{reads['incremental_requests']} ({reads['incremental_wall_s']:.2f} s)",
        ),
        ("no change: requests", str(reads["no_change_requests"])),
    ]
    engine = r.get("engine")
    if engine:
        rows += [
            (
                f"engine `sync pull {r['forge']} local`, {engine['issues']:,} issues / "
                f"{engine['comments']:,} comments: first pull requests / wall",
                f"{engine['first_requests']} / {engine['first_wall_s']:.1f} s",
            ),
            (
                f"engine: incremental after {CHANGED} changed issues: requests / wall",
                f"{engine['incremental_requests']} / {engine['incremental_wall_s']:.2f} s",
            ),
            (
                "engine: no change: requests / wall",
                f"{engine['no_change_requests']} / {engine['no_change_wall_s']:.2f} s",
            ),
        ]
    return table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forge", choices=sorted(SUBJECTS), default="gitea")
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=20000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--engine", action="store_true", help="also run `sync pull` itself")
    parser.add_argument("--engine-issues", type=int, default=500)
    parser.add_argument("--engine-comments", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = measure(args.forge, args)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
