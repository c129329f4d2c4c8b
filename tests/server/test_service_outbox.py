"""service.outbox called directly, without Click: listing and retrying the server's outbox over
a real state db, its real locks and a real delivery pass."""

from __future__ import annotations

from functools import partial
from typing import Any

from issue_core.server.delivery import BackendPool, deliver_due
from issue_core.server.outbox import LeaseHolder, ServerLock, StateStore
from issue_core.server.settings import resolve_backends
from issue_core.service import outbox
from tests.server.conftest import Project, issues_in
from tests.server.flaky_backend import set_down
from tests.server.test_outbox import _claimed_row


def _retry(project: Project, tracking_id: str | None = None) -> outbox.Retried:
    setup = resolve_backends(None, cwd=project.root)
    store = StateStore.open_existing(project.state_db)
    pool = BackendPool(setup.backends, setup.identity)
    try:
        return outbox.retry(
            store,
            tracking_id,
            lock=ServerLock,
            lease=LeaseHolder,
            deliver_due=partial(deliver_due, store, pool),
        )
    finally:
        pool.close()
        store.close()


def _listed(project: Project, status: str) -> list[str]:
    store = StateStore.open_existing(project.state_db)
    try:
        return sorted(row.tracking_id for row in outbox.list_tasks(store, status))
    finally:
        store.close()


def test_a_retry_heals_what_a_dead_server_left_and_reports_the_real_counts(
    project: Project,
) -> None:
    a, b = "a" * 32, "b" * 32
    _claimed_row(project, a, "key-a")
    _claimed_row(project, b, "key-b")
    assert _listed(project, "pending") == [a, b] and _listed(project, "delivered") == []

    done = _retry(project)
    assert done.already is None
    assert sorted(row.tracking_id for row in done.rows) == [a, b]
    assert done.counts() == {"delivered": 2, "pending": 0, "failed": 0, "elsewhere": 0}
    assert sorted(i["title"] for i in issues_in(project.store)) == ["task key-a", "task key-b"]
    assert _listed(project, "delivered") == [a, b] and _listed(project, "all") == [a, b]

    again = _retry(project, a)
    assert again.already is not None and again.already.tracking_id == a
    assert len(issues_in(project.store)) == 2  # a repeated retry is harmless


def test_a_task_for_a_backend_that_is_down_stays_pending(project: Project) -> None:
    c = "c" * 32
    _claimed_row(project, c, "key-c", backend="flaky")
    set_down(project.fault_file)
    stuck = _retry(project, c)
    assert stuck.counts() == {"delivered": 0, "pending": 1, "failed": 0, "elsewhere": 0}
    assert stuck.rows[0].last_error and "down" in stuck.rows[0].last_error
    set_down(project.fault_file, None)
    assert _retry(project, c).counts()["delivered"] == 1
    assert len(issues_in(project.flaky_store)) == 1


def test_deliver_until_done_stops_once_a_pass_brings_nothing_new() -> None:
    class Result:
        def __init__(self, tracking_id: str) -> None:
            self.row: Any = type("Row", (), {"tracking_id": tracking_id})()

    passes: list[dict[str, Any]] = []
    # Pass one delivers two tasks, pass two finds one it already saw (a backend skipped by
    # its open circuit stays due), pass three is not needed.
    answers = [[Result("x"), Result("y")], [Result("y")], [Result("z")]]

    def one_pass(**kwargs: Any) -> list[Result]:
        passes.append(kwargs)
        return answers[len(passes) - 1]

    outbox.deliver_until_done(one_pass, "me", None)
    assert passes == [{"owner": "me", "limit": outbox.PASS_SIZE}] * 2
    passes.clear()
    outbox.deliver_until_done(one_pass, "me", "x")
    assert passes == [{"owner": "me", "only": "x"}]
