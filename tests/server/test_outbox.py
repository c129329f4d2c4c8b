"""Backend outages: 202 + durable outbox, delivery with backoff, crash healing, `issue outbox`."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from click.testing import CliRunner

from issue_core.cli.main import cli
from issue_core.server.outbox import StateStore
from tests.server.conftest import Project, error_of, issues_in, task, wait_for
from tests.server.flaky_backend import set_down


def status_of(client: Any, tracking_id: str) -> dict[str, Any]:
    response = client.get(f"/issues/ingest/{tracking_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_backend_down_answers_202_and_delivers_when_back(
    app_factory: Any, project: Project
) -> None:
    client = app_factory(backend="flaky")
    set_down(project.fault_file)
    response = client.post("/issues/", json=task(idempotency_key="down-1"))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "queued" and answer["delivery"] == "pending"
    assert answer["issue"] is None
    assert response.headers["location"] == answer["status_url"]
    assert any("unavailable" in w for w in answer["warnings"])
    # The attempt's bookkeeping is committed just after the answer: wait for it.
    pending = wait_for(lambda: (s := status_of(client, answer["tracking_id"]))["attempts"] and s)
    assert pending["status"] == "pending"
    assert pending["attempts"] == 1
    assert "down" in pending["last_error"]

    # While it waits, a repeat is a duplicate of the queued task, not a second task.
    again = client.post("/issues/", json=task(idempotency_key="down-1"))
    assert again.status_code == 200
    assert again.json()["tracking_id"] == answer["tracking_id"]
    assert again.json()["delivery"] == "pending"

    # Tasks arriving while the circuit is open go straight to the outbox.
    second = client.post("/issues/", json=task("second", idempotency_key="down-2"))
    assert second.status_code == 202

    set_down(project.fault_file, None)
    done = wait_for(
        lambda: (s := status_of(client, answer["tracking_id"]))["status"] == "delivered" and s
    )
    assert done["issue_number"] is not None
    wait_for(lambda: status_of(client, second.json()["tracking_id"])["status"] == "delivered")
    stored = issues_in(project.flaky_store)
    assert sorted(i["title"] for i in stored) == ["Nightly build failed", "second"]
    finally_dup = client.post("/issues/", json=task(idempotency_key="down-1"))
    assert finally_dup.status_code == 200
    assert finally_dup.json()["issue"]["number"] == done["issue_number"]


def test_rate_limited_is_queued_too(app_factory: Any, project: Project) -> None:
    client = app_factory(backend="flaky")
    set_down(project.fault_file, "rate_limited")
    response = client.post("/issues/", json=task())
    assert response.status_code == 202
    tracking = response.json()["tracking_id"]
    wait_for(lambda: "rate_limited" in (status_of(client, tracking)["last_error"] or ""))
    set_down(project.fault_file, None)
    wait_for(lambda: status_of(client, tracking)["status"] == "delivered")
    assert len(issues_in(project.flaky_store)) == 1


def test_unknown_tracking_id_is_404(client: Any) -> None:
    response = client.get("/issues/ingest/does-not-exist")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_queued_tasks_survive_a_restart(app_factory: Any, project: Project) -> None:
    set_down(project.fault_file)
    first = app_factory(backend="flaky")
    tracking = first.post("/issues/", json=task(idempotency_key="r-1")).json()["tracking_id"]
    first.__exit__(None, None, None)  # stop that server (graceful)
    set_down(project.fault_file, None)
    second = app_factory(backend="flaky")
    wait_for(lambda: status_of(second, tracking)["status"] == "delivered")
    assert len(issues_in(project.flaky_store)) == 1


def _claimed_row(project: Project, tracking_id: str, key: str, backend: str = "main") -> None:
    """What the state db holds when the server dies between claim and bookkeeping."""
    from issue_core.core.models import Issue
    from issue_core.server.outbox import TaskRow
    from issue_core.service.tasks import marker_for

    issue = Issue(title=f"task {key}", sync_metadata={"marker": marker_for(tracking_id)})
    store = StateStore(project.state_db)
    row = TaskRow(
        tracking_id=tracking_id,
        idempotency_key=key,
        backend=backend,
        status="claimed",
        marker=marker_for(tracking_id),
        issue_json=json.dumps(issue.to_dict()),
        request_id="r",
        received_at="2026-11-25T08:00:00Z",
        created_at=time.time(),
        updated_at=time.time(),
    )
    with store.transaction() as conn:
        assert store.claim(conn, row) is None
    store.close()


def test_crash_after_backend_write_is_healed_by_marker(app_factory: Any, project: Project) -> None:
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import Issue
    from issue_core.service.tasks import marker_for

    # Task A reached the backend before the crash; task B did not.
    _claimed_row(project, "a" * 32, "key-a")
    _claimed_row(project, "b" * 32, "key-b")
    backend = LocalBackend()
    backend.connect({"path": str(project.store), "identity": "x"})
    backend.create_issue(Issue(title="task key-a", sync_metadata={"marker": marker_for("a" * 32)}))
    backend.close()

    client = app_factory()
    wait_for(lambda: status_of(client, "a" * 32)["status"] == "delivered")
    wait_for(lambda: status_of(client, "b" * 32)["status"] == "delivered")
    assert sorted(i["title"] for i in issues_in(project.store)) == ["task key-a", "task key-b"]
    assert status_of(client, "a" * 32)["issue_number"] == 1
    assert client.post("/issues/", json=task(idempotency_key="key-a")).status_code == 200


def test_permanent_failure_in_outbox_is_parked_then_409(app_factory: Any, project: Project) -> None:
    set_down(project.fault_file)
    client = app_factory(backend="flaky")
    response = client.post("/issues/", json=task(milestone="missing", idempotency_key="p-1"))
    assert response.status_code == 202
    tracking = response.json()["tracking_id"]
    set_down(project.fault_file, None)
    failed = wait_for(lambda: (s := status_of(client, tracking))["status"] == "failed" and s)
    assert "missing" in failed["last_error"]
    again = client.post("/issues/", json=task(idempotency_key="p-1"))
    assert again.status_code == 409
    error = error_of(again)
    assert error["code"] == "task_failed" and error["tracking_id"] == tracking
    assert f"issue outbox retry {tracking}" in error["hint"]


# --------------------------------------------------------------------------- the CLI


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_outbox_cli_lists_and_retries_without_the_server(
    app_factory: Any, project: Project
) -> None:
    set_down(project.fault_file)
    client = app_factory(backend="flaky")
    trackings = [
        client.post("/issues/", json=task(f"t{n}", idempotency_key=f"c-{n}")).json()["tracking_id"]
        for n in range(3)
    ]
    client.__exit__(None, None, None)  # the server is gone; the outbox is on disk

    listed = run_cli("outbox", "list", "--status", "pending", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert sorted(r["tracking_id"] for r in rows) == sorted(trackings)
    assert all(r["status"] == "pending" for r in rows)
    assert sum(r["attempts"] for r in rows) >= 1  # later ones were parked, not attempted

    still_down = run_cli("outbox", "retry", trackings[0])
    assert still_down.exit_code == 6, still_down.output

    set_down(project.fault_file, None)
    one = run_cli("outbox", "retry", trackings[0], "--format", "json")
    assert one.exit_code == 0, one.output
    assert json.loads(one.output)[0]["status"] == "delivered"
    rest = run_cli("outbox", "retry")
    assert rest.exit_code == 0, rest.output
    assert "delivered 2 of 2" in rest.output
    assert len(issues_in(project.flaky_store)) == 3
    table = run_cli("outbox", "list")
    assert table.exit_code == 0 and "delivered" in table.output

    # Retrying a delivered task again is harmless: it says so and creates nothing.
    again = run_cli("outbox", "retry", trackings[0])
    assert again.exit_code == 0, again.output
    assert f"task {trackings[0]} was already delivered as #" in again.output
    assert len(issues_in(project.flaky_store)) == 3


def test_outbox_cli_heals_tasks_a_dead_server_left_in_flight(project: Project) -> None:
    _claimed_row(project, "c" * 32, "key-c")
    result = run_cli("outbox", "retry", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in json.loads(result.output)] == ["delivered"]
    assert len(issues_in(project.store)) == 1


def test_outbox_cli_without_a_state_db(project: Project) -> None:
    result = run_cli("outbox", "list")
    assert result.exit_code == 3
    assert "no server state db" in result.output


def test_a_dead_writer_process_is_replaced(app_factory: Any, project: Project) -> None:
    import os
    import signal

    client = app_factory(writer_process=True)
    assert client.post("/issues/", json=task("before")).status_code == 201
    worker = client.app.state.worker
    first_child = worker.stage._process
    os.kill(first_child.pid, signal.SIGKILL)
    first_child.join(10)
    wait_for(lambda: worker.stage._process is not first_child)
    response = client.post("/issues/", json=task("after", idempotency_key="after-1"))
    assert response.status_code in (201, 202), response.text
    tracking = response.json()["tracking_id"]
    wait_for(lambda: status_of(client, tracking)["status"] == "delivered")
    assert sorted(i["title"] for i in issues_in(project.store)) == ["after", "before"]


def test_batched_claims_find_every_duplicate_and_record_every_delivery(tmp_path: Any) -> None:
    from issue_core.server.outbox import TaskRow

    store = StateStore(tmp_path / "server.db")

    def row(tracking_id: str, key: str | None) -> TaskRow:
        return TaskRow(
            tracking_id=tracking_id,
            idempotency_key=key,
            backend="main",
            status="claimed",
            marker=f"m-{tracking_id}",
            issue_json="{}",
            request_id="r",
            received_at="2026-11-25T08:00:00Z",
        )

    with store.transaction() as conn:
        assert store.claim_many(conn, [row("t1", "k1"), row("t2", None)]) == {}
    batch = [row("t3", "k3"), row("t4", "k1"), row("t5", "k3"), row("t6", None)]
    with store.transaction() as conn:
        existing = store.claim_many(conn, batch)
    # t4 repeats an earlier task's key, t5 a key claimed earlier in the same batch.
    assert {index: found.tracking_id for index, found in existing.items()} == {1: "t1", 2: "t3"}
    assert store.get("t4") is None and store.get("t5") is None
    with store.transaction() as conn:
        store.mark_delivered_many(conn, [("t1", 7, '{"n":7}'), ("t6", 8, '{"n":8}')])
    delivered = {r.tracking_id: r for r in store.list(statuses=["delivered"])}
    assert sorted(delivered) == ["t1", "t6"]
    assert delivered["t6"].issue_number == 8 and delivered["t6"].snapshot == {"n": 8}
    assert delivered["t1"].attempts == 1
    assert store.get("t3").status == "claimed"  # type: ignore[union-attr]
    store.close()


def test_the_state_db_and_its_wal_are_private(tmp_path: Any) -> None:
    import os
    import stat

    store = StateStore(tmp_path / "state" / "server.db")
    store.conn.execute("CREATE TABLE IF NOT EXISTS probe (x)")  # forces the WAL into being
    for name in ("server.db", "server.db-wal"):
        assert stat.S_IMODE(os.stat(tmp_path / "state" / name).st_mode) == 0o600


# --------------------------------------------------------------------------- crash safety


class _Watching:
    """A local store that, as each create is sent, reads the task's row from the state db
    through a connection of its own: what a crash at that instant would leave on disk."""

    def __init__(self, project: Project) -> None:
        from issue_core.backends.local import LocalBackend

        self.project = project
        self.backend = LocalBackend()
        self.backend.connect({"path": str(project.store), "identity": "x"})
        self.seen: list[tuple[str, bool]] = []

    def _look(self, issue: Any) -> None:
        marker = issue.sync_metadata["marker"]
        store = StateStore(self.project.state_db)
        try:
            rows = [row for row in store.list(limit=None) if row.marker == marker]
        finally:
            store.close()
        self.seen.extend((row.status, row.maybe_written) for row in rows)

    def create_issue(self, issue: Any, *, create_labels: bool = False) -> Any:
        self._look(issue)
        return self.backend.create_issue(issue, create_labels=create_labels)

    def bulk_create(self, issues: Any, *, create_labels: bool = False) -> Any:
        for issue in issues:
            self._look(issue)
        return self.backend.bulk_create(issues, create_labels=create_labels)

    def find_issue_by_marker(self, marker: str) -> Any:
        return self.backend.find_issue_by_marker(marker)

    def supports(self, capability: Any) -> bool:
        return self.backend.supports(capability)

    def close(self) -> None:
        self.backend.close()


def _pool_with(backend: Any) -> Any:
    from issue_core.server.delivery import BackendPool

    pool = BackendPool({}, "x")
    pool._open["main"] = backend
    return pool


def test_an_outbox_delivery_is_marked_maybe_written_on_disk_before_its_create(
    project: Project,
) -> None:
    from issue_core.server.delivery import deliver_due
    from issue_core.server.outbox import LeaseHolder

    _claimed_row(project, "d" * 32, "key-d")
    store = StateStore(project.state_db)
    holder = LeaseHolder(project.state_dir)
    try:
        assert store.heal(server_gone=True, me=holder.token) == 1  # now pending, due
        with store.transaction() as conn:  # as if it had been parked: nothing was sent yet
            conn.execute("UPDATE tasks SET maybe_written=0")
        watching = _Watching(project)
        [result] = deliver_due(store, _pool_with(watching), owner=holder.token)
        assert result.issue is not None
        assert watching.seen == [("delivering", True)]
    finally:
        holder.release()
        store.close()


def test_a_claim_is_marked_maybe_written_on_disk_before_its_create(project: Project) -> None:
    from issue_core.server.outbox import LeaseHolder
    from issue_core.server.pipeline import Pipeline
    from issue_core.server.writer import BackendStage

    store = StateStore(project.state_db)
    watching = _Watching(project)
    pipeline = Pipeline(
        store, BackendStage(store, _pool_with(watching), LeaseHolder(project.state_dir))
    )
    rows = []
    for n in range(3):  # one batch: the local store's bulk path
        _claimed_row(project, f"{n}" * 32, f"key-{n}")
        rows.append(store.get(f"{n}" * 32))
    with store.transaction() as conn:
        conn.execute("DELETE FROM tasks")
    answers: list[Any] = []
    pipeline.cycle([(n, row, None) for n, row in enumerate(rows)], answers.append)
    pipeline.flush(answers.append)
    assert watching.seen == [("claimed", True)] * 3
    assert [store.get(row.tracking_id).status for row in rows] == ["delivered"] * 3  # type: ignore[union-attr]
    pipeline.close()


def test_an_expired_lease_is_looked_up_by_marker_before_another_create(
    project: Project,
) -> None:
    """A row an older version left `delivering` (no owner, no mark): taken over once its lease
    ran out, and found on the backend instead of created twice."""
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import Issue
    from issue_core.server.delivery import BackendPool, deliver_due
    from issue_core.server.outbox import LeaseHolder
    from issue_core.service.tasks import marker_for

    _claimed_row(project, "e" * 32, "key-e")
    store = StateStore(project.state_db)
    with store.transaction() as conn:
        conn.execute(
            "UPDATE tasks SET status='delivering', lease_until=?, maybe_written=0",
            (time.time() - 1,),
        )
    backend = LocalBackend()
    backend.connect({"path": str(project.store), "identity": "x"})
    backend.create_issue(Issue(title="task key-e", sync_metadata={"marker": marker_for("e" * 32)}))
    backend.close()
    from issue_core.server.settings import resolve_backends

    setup = resolve_backends(None, cwd=project.root)
    holder = LeaseHolder(project.state_dir)
    pool = BackendPool(setup.backends, setup.identity)
    try:
        [result] = deliver_due(store, pool, owner=holder.token)
    finally:
        pool.close()
        holder.release()
    assert result.issue is not None and result.issue.number == 1
    assert [i["title"] for i in issues_in(project.store)] == ["task key-e"]
    store.close()


def test_heal_takes_a_dead_workers_leases_and_leaves_a_live_ones(project: Project) -> None:
    from issue_core.server.outbox import LeaseHolder

    _claimed_row(project, "f" * 32, "key-f")
    _claimed_row(project, "g" * 32, "key-g")
    store = StateStore(project.state_db)
    store.heal(server_gone=True)
    live, dead = LeaseHolder(project.state_dir), LeaseHolder(project.state_dir)
    far = 10_000.0  # the leases are far from expiring: only the owner's lock can free them
    assert store.lease("f" * 32, seconds=far, statuses=("pending",), owner=live.token)
    assert store.lease("g" * 32, seconds=far, statuses=("pending",), owner=dead.token)
    dead_token = dead.token
    assert dead._fd is not None
    os.close(dead._fd)  # what the kernel does when that process dies: its lock is gone
    dead._fd = None
    assert LeaseHolder.is_alive(project.state_dir, live.token)
    assert not LeaseHolder.is_alive(project.state_dir, dead_token)
    assert store.heal(server_gone=False, me=None) == 1
    healed, kept = store.get("g" * 32), store.get("f" * 32)
    assert healed is not None and kept is not None
    assert (healed.status, healed.maybe_written, healed.lease_owner) == ("pending", True, None)
    assert healed.next_attempt_at is not None and healed.next_attempt_at <= time.time()
    assert (kept.status, kept.lease_owner) == ("delivering", live.token)
    assert not (project.state_dir / "leases" / f"{dead_token}.lock").exists()
    # A live owner's lease is never taken, not even once it ran out (a create that is slow).
    with store.transaction() as conn:
        conn.execute(
            "UPDATE tasks SET lease_until=? WHERE tracking_id=?", (time.time() - 1, "f" * 32)
        )
    assert store.lease("f" * 32, seconds=far, statuses=("pending",), owner="other") is None
    assert [row.tracking_id for row in store.due()] == ["g" * 32]  # the healed one only
    assert store.heal(server_gone=False) == 0
    live.release()
    assert store.heal(server_gone=False) == 1
    # A worker that died with no lease left still leaves no lock file behind after a start.
    idle, running = LeaseHolder(project.state_dir), LeaseHolder(project.state_dir)
    assert idle._fd is not None
    os.close(idle._fd)
    idle._fd = None
    store.heal(server_gone=True, me=running.token)
    names = sorted(path.name for path in (project.state_dir / "leases").iterdir())
    assert names == [f"{running.token}.lock"]
    running.release()
    assert not list((project.state_dir / "leases").iterdir())
    store.close()


def test_a_version_1_state_db_is_migrated_in_place(tmp_path: Any) -> None:
    import sqlite3

    from issue_core.server.outbox import SCHEMA

    path = tmp_path / "server.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA.replace(",\n    lease_owner     TEXT", ""))
    conn.execute(
        "INSERT INTO tasks (tracking_id, backend, status, marker, issue_json, received_at,"
        " created_at, updated_at) VALUES ('t', 'main', 'pending', 'm', '{}', 'now', 0, 0)"
    )
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    store = StateStore(path)
    row = store.get("t")
    assert row is not None and row.status == "pending" and row.lease_owner is None
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 2
    store.close()


def test_outbox_retry_reports_the_real_counts_while_the_backend_is_down(
    app_factory: Any, project: Project
) -> None:
    set_down(project.fault_file)
    client = app_factory(backend="flaky")
    trackings = [
        client.post("/issues/", json=task(f"t{n}", idempotency_key=f"n-{n}")).json()["tracking_id"]
        for n in range(3)
    ]
    failing = client.post("/issues/", json=task("bad", milestone="missing", idempotency_key="n-x"))
    client.__exit__(None, None, None)

    down = run_cli("outbox", "retry")
    assert down.exit_code == 6, down.output
    assert "delivered 0 of 4 task(s); 4 still pending, 0 failed" in down.output
    assert "4 of 4 task(s) still pending" in down.output

    as_json = CliRunner().invoke(cli, ["outbox", "retry", "--format", "json"])
    assert as_json.exit_code == 6
    rows = json.loads(as_json.stdout)
    assert sorted(r["tracking_id"] for r in rows) == sorted(
        [*trackings, failing.json()["tracking_id"]]
    )
    assert {r["status"] for r in rows} == {"pending"}
    error = json.loads(as_json.stderr)["error"]
    assert error["code"] == "unavailable" and error["exit_code"] == 6
    assert error["details"] == {
        "total": 4,
        "delivered": 0,
        "pending": 4,
        "failed": 0,
        "elsewhere": 0,
    }

    set_down(project.fault_file, None)
    back = run_cli("outbox", "retry")
    assert back.exit_code == 4, back.output  # the one with the missing milestone
    assert "delivered 3 of 4 task(s); 0 still pending, 1 failed" in back.output
    assert "1 of 4 task(s) failed permanently" in back.output
    assert len(issues_in(project.flaky_store)) == 3
