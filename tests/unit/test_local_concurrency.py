"""Several processes creating and editing one store at once: no duplicate numbers, no lost edit,
and no "database is locked" reaching the caller."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from issue_core.backends.local import LocalBackend
from issue_core.core.errors import Conflict
from issue_core.core.models import Issue, IssueFilter

WORKERS = 4
CREATES_PER_WORKER = 30


_start_together = None


def _init(barrier) -> None:
    global _start_together
    _start_together = barrier


def _worker(args: tuple[str, int]) -> dict:
    path, worker = args
    backend = LocalBackend()
    backend.connect({"path": path, "identity": f"worker-{worker}"})
    backend.list_issues()  # open before the start line, so all begin writing at once
    _start_together.wait(timeout=60)
    numbers = []
    conflicts = 0
    for i in range(CREATES_PER_WORKER):
        numbers.append(backend.create_issue(Issue(title=f"w{worker} #{i}")).number)
        # Everyone adds a label to issue 1 and sets their own metadata key, concurrently: both
        # merge, so each attempt must succeed first time (no conflict, nothing lost).
        shared = backend.get_issue_by_number(1)
        shared.labels.append(f"w{worker}-{i}")
        shared.sync_metadata[f"w{worker}"] = i
        backend.update_issue(shared, create_labels=True)
        # Everyone also rewrites the title of issue 2 from a stale read: same field, so the
        # loser of each race gets a Conflict and retries from a fresh read.
        while True:
            contended = backend.get_issue_by_number(2)
            contended.title = f"title by w{worker} step {i}"
            try:
                backend.update_issue(contended)
                break
            except Conflict:
                conflicts += 1
    backend.close()
    return {"numbers": numbers, "conflicts": conflicts}


def test_processes_creating_and_editing_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "issues.db")
    seed = LocalBackend()
    seed.connect({"path": path, "identity": "seed"})
    seed.create_issue(Issue(title="shared labels"))
    seed.create_issue(Issue(title="contended title"))
    seed.close()

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    with ctx.Pool(WORKERS, initializer=_init, initargs=(barrier,)) as pool:
        results = pool.map(_worker, [(path, w) for w in range(WORKERS)])

    print("conflicts retried:", sum(r["conflicts"] for r in results))
    created = [n for r in results for n in r["numbers"]]
    assert len(created) == len(set(created)) == WORKERS * CREATES_PER_WORKER
    check = LocalBackend()
    check.connect({"path": path, "identity": "check"})
    every = check.list_issues(IssueFilter(state="all", limit=None))
    assert sorted(i.number for i in every) == list(range(1, 3 + WORKERS * CREATES_PER_WORKER))
    shared = check.get_issue_by_number(1)
    expected_labels = {f"w{w}-{i}" for w in range(WORKERS) for i in range(CREATES_PER_WORKER)}
    assert set(shared.labels) == expected_labels  # no lost edit
    assert shared.sync_metadata == {f"w{w}": CREATES_PER_WORKER - 1 for w in range(WORKERS)}
    assert check.get_issue_by_number(2).title.startswith("title by w")
