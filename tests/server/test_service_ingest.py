"""``service.ingest.create_batch`` and ``record`` directly: a batch over a real local store (the
flaky one of these tests, switched down from outside), its outcomes, rows and records."""

from __future__ import annotations

from pathlib import Path

from issue_core.core.models import Issue
from issue_core.server.delivery import BackendPool
from issue_core.server.outbox import TaskRow
from issue_core.server.schema import TaskSpec
from issue_core.service.ingest import (
    Delivered,
    OutcomeKind,
    Pending,
    Record,
    Release,
    RequestContext,
    create_batch,
    prepare,
)
from tests.server.flaky_backend import FlakyBackend


def _pool(tmp_path: Path) -> tuple[BackendPool, Path]:
    fault = tmp_path / "fault"
    backend = FlakyBackend()
    backend.connect({"path": str(tmp_path / "store.db"), "fault_file": str(fault), "identity": "x"})
    pool = BackendPool({}, "x")
    pool._open["main"] = backend
    return pool, fault


def _items(*bodies: dict[str, object]) -> list[tuple[TaskRow, Issue]]:
    prepared = [
        prepare(TaskSpec.model_validate(body).to_input(), RequestContext("r", None), "main")
        for body in bodies
    ]
    return [(p.row, p.issue) for p in prepared]


def test_a_batch_is_created_in_order_and_recorded_as_delivered(tmp_path: Path) -> None:
    pool, _ = _pool(tmp_path)
    items = _items({"title": "one"}, {"title": "two"}, {"title": "three"})
    records: list[Record] = []
    outcomes = create_batch(pool, items, records)
    assert [o.kind for o in outcomes] == [OutcomeKind.CREATED] * 3
    assert [o.issue["title"] for o in outcomes if o.issue] == ["one", "two", "three"]
    assert [type(r) for r in records] == [Delivered] * 3
    assert [r.tracking_id for r in records] == [row.tracking_id for row, _ in items]
    assert all(row.status == "delivered" and row.issue_number for row, _ in items)
    pool.close()


def test_a_task_refused_for_good_releases_its_claim_and_the_rest_are_created(
    tmp_path: Path,
) -> None:
    pool, _ = _pool(tmp_path)
    items = _items({"title": "good"}, {"title": "bad", "milestone": "no such milestone"})
    records: list[Record] = []
    outcomes = create_batch(pool, items, records)
    assert [o.kind for o in outcomes] == [OutcomeKind.CREATED, OutcomeKind.REJECTED]
    assert outcomes[1].error is not None and outcomes[1].error.code != "internal"
    assert [type(r) for r in records] == [Delivered, Release]
    pool.close()


def test_an_outage_queues_the_batch_and_opens_the_circuit(tmp_path: Path) -> None:
    pool, fault = _pool(tmp_path)
    fault.write_text("unavailable")
    items = _items({"title": "one"}, {"title": "two"})
    records: list[Record] = []
    outcomes = create_batch(pool, items, records)
    assert [o.kind for o in outcomes] == [OutcomeKind.QUEUED] * 2
    assert all(o.error is not None and o.error.code == "unavailable" for o in outcomes)
    assert [type(r) for r in records] == [Pending] * 2
    assert all(isinstance(r, Pending) and r.attempted and r.error for r in records)
    assert all(row.status == "pending" and row.attempts == 1 for row, _ in items)
    circuit = pool.circuit("main")
    assert circuit.open_until > 0

    # While the circuit is open, the next batch is parked without an attempt.
    fault.unlink()
    more: list[Record] = []
    parked = create_batch(pool, _items({"title": "three"}), more)
    assert [o.kind for o in parked] == [OutcomeKind.QUEUED] and parked[0].error is None
    assert more == [Pending(parked[0].row.tracking_id, None, circuit.open_until, False)]


# --------------------------------------------------------------------------- prepare and the key


def test_prepare_takes_plain_data_and_derives_the_key_in_order(tmp_path: Path) -> None:
    """``service.ingest.prepare`` over a ``TaskInput`` (no pydantic): its own key first, then
    the source event's, then activity-core's four ids, then the transport's header key."""
    from issue_core.service.tasks import TaskInput

    def key(task: TaskInput, header: str | None = None) -> str | None:
        return prepare(task, RequestContext("r", None, header), "main").row.idempotency_key

    source = {"system": "ci", "event_id": "run-1"}
    assert key(TaskInput(title="t", idempotency_key="own", source=source)) == "own"
    assert key(TaskInput(title="t", source=source), "hdr") == 'source:["ci","run-1"]'
    assert (
        key(TaskInput(title="t", source_type="rule", triggering_event_id="e"), "hdr")
        == 'activity:["rule",null,"e",null]'
    )
    assert key(TaskInput(title="t"), "hdr") == "hdr"
    prepared = prepare(TaskInput(title="t", extra={"x": 1}), RequestContext("r", None), "main")
    assert prepared.row.idempotency_key is None
    assert any("no idempotency key" in w for w in prepared.warnings)
    assert prepared.issue.sync_metadata["extra_fields"] == {"x": 1}
    assert prepared.issue.sync_metadata["marker"] == prepared.row.marker


def test_the_older_key_form_is_taken_only_for_the_same_source_event(tmp_path: Path) -> None:
    from issue_core.server.outbox import StateStore
    from issue_core.service.tasks import TaskInput, legacy_source_key, stored_original_key

    store = StateStore(tmp_path / "server.db")
    old = prepare(
        TaskInput(
            title="old",
            idempotency_key=legacy_source_key("ci", "prod:42"),
            source={"system": "ci", "event_id": "prod:42"},
        ),
        RequestContext("r", None),
        "main",
    )
    with store.transaction() as conn:
        store.claim_many(conn, [old.row])
    same = TaskInput(title="again", source={"system": "ci", "event_id": "prod:42"})
    other = TaskInput(title="other", source={"system": "ci:prod", "event_id": "42"})
    keyed = TaskInput(
        title="own", idempotency_key="k", source={"system": "ci", "event_id": "prod:42"}
    )
    assert stored_original_key(store, same) == "ci:prod:42"
    assert stored_original_key(store, other) is None
    assert stored_original_key(store, keyed) is None
    store.close()
