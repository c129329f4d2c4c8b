"""Requests and wall time of GiteaBackend against the fake Gitea with added per-request latency.

Lists N issues (default 5,000) twice through ``GiteaBackend`` against the in-process fake Gitea
(``tests/fakes``) with ``--latency`` seconds added to every request (default 50 ms) and ETags
switched on in the fake (Gitea itself sends none; a caching proxy would). Reported:

* requests and wall time of the first listing, and the ratio
  ``wall / (latency x ceil(pages / concurrency))`` -- the floor a client fetching ``concurrency``
  pages at a time cannot beat (target: <= 3);
* the same listing with no added latency (the CPU cost of client + fake, for reference);
* the second, identical listing: requests and how many were answered 304;
* requests for ``show`` (one issue) and ``show --comments``;
* requests for ``list --limit 51`` (2 pages) and for ``edit``/``close``/``reopen`` as the CLI runs
  them (read the issue, then write: the read is not repeated);
* with ``--hang``: the wall time of one ``list`` against a server that never answers, with the
  default budget (``timeout`` 15 s; it was 91 s with a 30 s read timeout and two retries).

The fake validates nothing here (contract checks cost CPU in the server thread and would
distort the timing); the test suite checks the same exchanges against the Swagger. Run:

    .venv/bin/python bench/gitea_requests.py [--issues 5000] [--latency 0.05] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _listing(running: Any, backend: Any) -> tuple[list[Any], list[Any], float]:
    from issue_core.core.models import IssueFilter

    running.reset_count()
    started = time.perf_counter()
    issues = backend.list_issues(IssueFilter(state=None, limit=None))
    wall = time.perf_counter() - started
    return issues, running.requests(), wall


def measure(issue_count: int, latency: float, *, hang: bool = False) -> dict[str, Any]:
    from issue_core.backends.gitea import GiteaBackend
    from issue_core.core.models import IssueFilter, IssueState
    from tests.fakes.fixtures import TOKEN_ENV, start_fake_gitea
    from tests.fakes.gitea import WRITE_TOKEN

    results: dict[str, Any] = {"issues": issue_count, "latency_s": latency}
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["ISSUE_CORE_CACHE_DIR"] = str(Path(scratch) / "cache")
        os.environ["ISSUE_CORE_CONFIG_DIR"] = str(Path(scratch) / "config")
        os.environ[TOKEN_ENV] = WRITE_TOKEN
        running = start_fake_gitea(contract=None, etags=True)
        try:
            fake = running.fake
            for index in range(issue_count):
                fake.add_issue(f"issue {index}", created=1_700_000_000 + index)
            target = fake.issues()[0].number
            fake.state.new_comment(fake.repo, fake.issue(target), fake.owner, "a comment")
            page_size = fake.max_response_items
            pages = math.ceil(issue_count / page_size)

            # Reference: no added latency, no cache (CPU cost of client and fake).
            backend = GiteaBackend()
            backend.connect(running.backend_config(http_cache=False))
            concurrency = int(backend.client.http.page_concurrency)
            _, _, cpu_wall = _listing(running, backend)
            backend.close()

            fake.faults.latency = latency
            backend = GiteaBackend()
            backend.connect(running.backend_config())
            first, first_requests, first_wall = _listing(running, backend)
            second, second_requests, second_wall = _listing(running, backend)
            assert len(first) == len(second) == issue_count

            running.reset_count()
            backend.get_issue_by_number(target)
            show_requests = len(running.requests())
            running.reset_count()
            backend.get_issue_by_number(target, with_comments=True)
            show_comments_requests = len(running.requests())
            running.reset_count()
            backend.list_issues(IssueFilter(limit=51))
            limit_51_requests = len(running.requests())
            writes: dict[str, int] = {}
            for verb, state in (("close", IssueState.CLOSED), ("reopen", IssueState.OPEN)):
                running.reset_count()
                issue = backend.get_issue(target)  # as `issue close N` does
                issue.state = state
                backend.update_issue(issue)
                writes[verb] = len(running.requests())
            running.reset_count()
            issue = backend.get_issue(target)  # as `issue edit N --title T` does
            issue.title = "edited"
            backend.update_issue(issue)
            writes["edit"] = len(running.requests())
            backend.close()
            hang_wall = None
            if hang:
                fake.faults.latency = 0
                fake.faults.hang(times=10, seconds=40)
                backend = GiteaBackend()
                backend.connect(running.backend_config())  # the default timeout
                started = time.perf_counter()
                try:
                    backend.list_issues(IssueFilter(limit=5))
                except Exception:
                    pass
                hang_wall = time.perf_counter() - started
                backend.close()
        finally:
            running.stop()

    floor = latency * math.ceil(pages / concurrency)
    results.update(
        page_size=page_size,
        pages=pages,
        concurrency=concurrency,
        first_requests=len(first_requests),
        request_budget=pages + 1,
        first_wall_s=first_wall,
        floor_s=floor,
        ratio=first_wall / floor if floor else None,
        no_latency_wall_s=cpu_wall,
        second_requests=len(second_requests),
        second_304=sum(1 for e in second_requests if e.status == 304),
        second_wall_s=second_wall,
        show_requests=show_requests,
        show_comments_requests=show_comments_requests,
        limit_51_requests=limit_51_requests,
        edit_requests=writes["edit"],
        close_requests=writes["close"],
        reopen_requests=writes["reopen"],
        hung_server_wall_s=hang_wall,
    )
    return results


def markdown(r: dict[str, Any]) -> str:
    rows = [
        ("issues listed", f"{r['issues']:,} ({r['pages']} pages of {r['page_size']})"),
        ("added latency per request", f"{r['latency_s'] * 1000:.0f} ms"),
        ("page concurrency", str(r["concurrency"])),
        (
            "1st listing: requests (budget pages+1)",
            f"{r['first_requests']} (<= {r['request_budget']})",
        ),
        ("1st listing: wall time", f"{r['first_wall_s']:.2f} s"),
        ("floor: latency x ceil(pages / concurrency)", f"{r['floor_s']:.2f} s"),
        ("ratio wall / floor (target <= 3)", f"{r['ratio']:.2f}"),
        ("same listing, no added latency, no cache", f"{r['no_latency_wall_s']:.2f} s"),
        ("2nd identical listing: requests / 304s", f"{r['second_requests']} / {r['second_304']}"),
        ("2nd identical listing: wall time", f"{r['second_wall_s']:.2f} s"),
        ("`show N`: requests", str(r["show_requests"])),
        ("`show N --comments`: requests", str(r["show_comments_requests"])),
        ("`list --limit 51`: requests", str(r["limit_51_requests"])),
        ("`edit N --title`: requests", str(r["edit_requests"])),
        ("`close N` / `reopen N`: requests", f"{r['close_requests']} / {r['reopen_requests']}"),
    ]
    if r.get("hung_server_wall_s") is not None:
        rows.append(
            ("hung server: one `list`, default timeout", f"{r['hung_server_wall_s']:.1f} s")
        )
    lines = ["| measure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--hang", action="store_true", help="also time a hung server (~15 s)")
    args = parser.parse_args()
    results = measure(args.issues, args.latency, hang=args.hang)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
