"""Requests and wall time of a forge backend against its fake with added per-request latency.

Lists N issues (default 5,000) twice through the backend of ``--forge`` (``gitea``, ``github``,
``gitlab``) against its in-process fake (``tests/fakes``) with ``--latency`` seconds added to
every request (default 50 ms); ETags are on (GitHub and GitLab send them; Gitea sends none, so
its fake is told to, as a caching proxy would). Reported:

* requests and wall time of the first listing, and the ratio
  ``wall / (latency x ceil(pages / concurrency))`` -- the floor a client fetching ``concurrency``
  pages at a time cannot beat (target: <= 3);
* the same listing with no added latency (the CPU cost of client + fake, for reference);
* the second, identical listing: requests and how many were answered 304;
* requests for ``show`` (one issue) and ``show --comments``;
* requests for ``list --limit`` one more than a page (2 pages) and for ``edit``/``close``/
  ``reopen`` as the CLI runs them (read the issue, then write: the read is not repeated);
* other ways a forge lists, apart (GitLab's keyset pages, which cannot be fetched ahead);
* with ``--hang``: the wall time of one ``list`` against a server that never answers, with the
  default budget (``timeout`` 15 s; it was 91 s with a 30 s read timeout and two retries).

The fake validates nothing here (contract checks cost CPU in the server thread and would
distort the timing); the test suite checks the same exchanges against the Swagger. Run:

    .venv/bin/python bench/forge_requests.py [--forge gitea|github|gitlab] [--issues 5000]
        [--latency 0.05] [--json out.json] [--hang]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Subject:
    """One forge's fake and backend, as the measurements need them."""

    name = ""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.running: Any = None

    def start(self) -> None:
        raise NotImplementedError

    def add_issues(self, count: int) -> int:
        """Seed ``count`` issues and a comment on one; returns that issue's number."""
        raise NotImplementedError

    def page_size(self) -> int:
        raise NotImplementedError

    def add_comment(self, number: int, body: str) -> None:
        """A comment on issue ``number``, written straight into the fake's state."""
        raise NotImplementedError

    def set_clock(self, clock: Any) -> None:
        """The fake's clock (``time.time`` by default): seed in the past with a fixed one."""
        self.running.fake.state.clock = clock

    def backend(self, **settings: Any) -> Any:
        raise NotImplementedError

    def set_latency(self, seconds: float) -> None:
        self.running.fake.faults.latency = seconds

    def hang(self) -> None:
        self.running.fake.faults.latency = 0
        self.running.fake.faults.hang(times=10, seconds=40)

    def mark(self) -> Any:
        return self.running.recorder.mark()

    def since(self, mark: Any) -> list[Any]:
        return list(self.running.recorder.since(mark))

    def stop(self) -> None:
        self.running.stop()

    def extra_listings(self) -> dict[str, dict[str, Any]]:
        """Other ways this forge lists, measured apart: name -> backend settings."""
        return {}


class GiteaSubject(Subject):
    name = "gitea"

    def start(self) -> None:
        from tests.fakes.fixtures import TOKEN_ENV, start_fake_gitea
        from tests.fakes.gitea import WRITE_TOKEN

        os.environ[TOKEN_ENV] = WRITE_TOKEN
        self.running = start_fake_gitea(contract=None, etags=True)

    def add_issues(self, count: int) -> int:
        fake = self.running.fake
        for index in range(count):
            fake.add_issue(f"issue {index}", created=1_700_000_000 + index)
        target = int(fake.issues()[0].number)
        fake.state.new_comment(fake.repo, fake.issue(target), fake.owner, "a comment")
        return target

    def page_size(self) -> int:
        return int(self.running.fake.max_response_items)

    def add_comment(self, number: int, body: str) -> None:
        fake = self.running.fake
        fake.state.new_comment(fake.repo, fake.issue(number), fake.owner, body)

    def backend(self, **settings: Any) -> Any:
        from issue_core.backends.gitea import GiteaBackend

        backend = GiteaBackend()
        backend.connect(self.running.backend_config(**settings))
        return backend


class GitHubSubject(Subject):
    name = "github"

    def start(self) -> None:
        from tests.fakes.github import OWNER_TOKEN
        from tests.fakes.github_fixtures import TOKEN_ENV, start_fake_github

        os.environ[TOKEN_ENV] = OWNER_TOKEN
        # The budget of a real token is 5,000 an hour; the bench reads 5,000 issues twice.
        self.running = start_fake_github(contract=None, rate_limit=1_000_000)

    def add_issues(self, count: int) -> int:
        fake = self.running.fake
        for index in range(count):
            fake.add_issue(f"issue {index}")
        fake.add_comment(1, "a comment")
        return 1

    def page_size(self) -> int:
        from issue_core.backends.github.client import PAGE_SIZE

        return PAGE_SIZE

    def add_comment(self, number: int, body: str) -> None:
        self.running.fake.add_comment(number, body)

    def backend(self, **settings: Any) -> Any:
        from issue_core.backends.github import GitHubBackend

        backend = GitHubBackend()
        backend.connect(self.running.backend_config(**settings))
        return backend


class GitLabSubject(Subject):
    name = "gitlab"

    def start(self) -> None:
        from tests.fakes.gitlab import OWNER_TOKEN
        from tests.fakes.gitlab_fixtures import TOKEN_ENV, start_fake_gitlab

        os.environ[TOKEN_ENV] = OWNER_TOKEN
        # gitlab.com allows 2,000 requests a minute; the bench reads 5,000 issues four times.
        self.running = start_fake_gitlab(contract=None, rate_limit=1_000_000)

    def add_issues(self, count: int) -> int:
        fake = self.running.fake
        for index in range(count):
            fake.add_issue(f"issue {index}", created=1_700_000_000_000 + index)
        fake.add_note(1, "a comment")
        return 1

    def page_size(self) -> int:
        from issue_core.backends.gitlab.client import MAX_PAGE_SIZE

        return MAX_PAGE_SIZE

    def add_comment(self, number: int, body: str) -> None:
        self.running.fake.add_note(number, body)

    def set_clock(self, clock: Any) -> None:
        # The fake's milliseconds never go back (two writes always order): moving its clock
        # back restarts that count, which only the set-up's own writes had used.
        state = self.running.fake.state
        state.clock = clock
        state._last_ms = 0

    def backend(self, **settings: Any) -> Any:
        from issue_core.backends.gitlab import GitLabBackend

        backend = GitLabBackend()
        backend.connect(self.running.backend_config(**settings))
        return backend

    def extra_listings(self) -> dict[str, dict[str, Any]]:
        # Keyset pages cannot be fetched ahead: reported apart from the concurrent listing.
        return {"keyset": {"pagination": "keyset", "http_cache": False}}


SUBJECTS: dict[str, type[Subject]] = {
    "gitea": GiteaSubject,
    "github": GitHubSubject,
    "gitlab": GitLabSubject,
}


def _listing(subject: Subject, backend: Any) -> tuple[list[Any], list[Any], float]:
    from issue_core.core.models import IssueFilter

    mark = subject.mark()
    started = time.perf_counter()
    issues = backend.list_issues(IssueFilter(state=None, limit=None))
    wall = time.perf_counter() - started
    return issues, subject.since(mark), wall


def _count(subject: Subject, action: Any) -> int:
    mark = subject.mark()
    action()
    return len(subject.since(mark))


@contextmanager
def running(forge: str) -> Iterator[Subject]:
    """The started subject of ``forge``, with its caches and config in a scratch directory."""
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["ISSUE_CORE_CACHE_DIR"] = str(Path(scratch) / "cache")
        os.environ["ISSUE_CORE_CONFIG_DIR"] = str(Path(scratch) / "config")
        subject = SUBJECTS[forge](Path(scratch))
        subject.start()
        try:
            yield subject
        finally:
            subject.stop()


def measure(forge: str, issue_count: int, latency: float, *, hang: bool = False) -> dict[str, Any]:
    from issue_core.core.models import IssueFilter, IssueState

    results: dict[str, Any] = {"forge": forge, "issues": issue_count, "latency_s": latency}
    with running(forge) as subject:
        target = subject.add_issues(issue_count)
        page_size = subject.page_size()
        pages = math.ceil(issue_count / page_size)

        # Reference: no added latency, no cache (CPU cost of client and fake).
        backend = subject.backend(http_cache=False)
        concurrency = int(backend.http.page_concurrency)
        _, _, cpu_wall = _listing(subject, backend)
        backend.close()

        subject.set_latency(latency)
        backend = subject.backend()
        first, first_requests, first_wall = _listing(subject, backend)
        second, second_requests, second_wall = _listing(subject, backend)
        assert len(first) == len(second) == issue_count

        show = _count(subject, lambda: backend.get_issue_by_number(target))
        show_comments = _count(
            subject, lambda: backend.get_issue_by_number(target, with_comments=True)
        )
        beyond_a_page = _count(
            subject, lambda: backend.list_issues(IssueFilter(limit=page_size + 1))
        )
        extra: dict[str, dict[str, float]] = {}
        for name, settings in subject.extra_listings().items():
            other = subject.backend(**settings)
            listed, asked, took = _listing(subject, other)
            assert len(listed) == issue_count
            extra[name] = {"requests": len(asked), "wall_s": took}
            other.close()
        writes: dict[str, int] = {}

        def write(change: Any) -> None:
            issue = backend.get_issue(target)  # as `issue close N` / `edit N` do
            change(issue)
            backend.update_issue(issue)

        writes["close"] = _count(subject, lambda: write(_set(state=IssueState.CLOSED)))
        writes["reopen"] = _count(subject, lambda: write(_set(state=IssueState.OPEN)))
        writes["edit"] = _count(subject, lambda: write(_set(title="edited")))
        backend.close()
        hang_wall = None
        if hang:
            subject.hang()
            backend = subject.backend()  # the default timeout
            started = time.perf_counter()
            try:
                backend.list_issues(IssueFilter(limit=5))
            except Exception:
                pass
            hang_wall = time.perf_counter() - started
            backend.close()

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
        show_requests=show,
        show_comments_requests=show_comments,
        limit_page_plus_1_requests=beyond_a_page,
        edit_requests=writes["edit"],
        close_requests=writes["close"],
        reopen_requests=writes["reopen"],
        hung_server_wall_s=hang_wall,
        extra_listings=extra,
    )
    return results


def _set(**values: Any) -> Any:
    def change(issue: Any) -> None:
        for name, value in values.items():
            setattr(issue, name, value)

    return change


def markdown(r: dict[str, Any]) -> str:
    rows = [
        ("forge", r["forge"]),
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
        (f"`list --limit {r['page_size'] + 1}`: requests", str(r["limit_page_plus_1_requests"])),
        ("`edit N --title`: requests", str(r["edit_requests"])),
        ("`close N` / `reopen N`: requests", f"{r['close_requests']} / {r['reopen_requests']}"),
    ]
    for name, figures in (r.get("extra_listings") or {}).items():
        floor = r["latency_s"] * r["pages"]
        rows.append(
            (
                f"{name} listing (one page after another): requests / wall",
                f"{figures['requests']:.0f} / {figures['wall_s']:.2f} s "
                f"(floor latency x pages {floor:.2f} s)",
            )
        )
    if r.get("hung_server_wall_s") is not None:
        rows.append(
            ("hung server: one `list`, default timeout", f"{r['hung_server_wall_s']:.1f} s")
        )
    return table(rows)


def table(rows: list[tuple[str, str]]) -> str:
    """``(measure, value)`` rows as the Markdown table performance.md keeps."""
    lines = ["| measure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forge", choices=sorted(SUBJECTS), default="gitea")
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--hang", action="store_true", help="also time a hung server (~15 s)")
    args = parser.parse_args()
    results = measure(args.forge, args.issues, args.latency, hang=args.hang)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
