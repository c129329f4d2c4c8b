"""The pipeline's typed messages (``server/messages.py``): a real pipeline over a real state db
and local store, driven through its loop with ``Tasks``/``Probe``/``Stop`` and answering with
``Claimed``/``Answers``/``ProbeResult``; the outcomes carry an ``OutcomeKind`` that survives the
writer process's pickling."""

from __future__ import annotations

import json
import pickle
import queue
import time
from typing import Any

from issue_core.backends.local import LocalBackend
from issue_core.server.delivery import BackendPool
from issue_core.server.messages import (
    Answers,
    Claimed,
    Delivered,
    ErrorInfo,
    InMessage,
    OutcomeData,
    OutcomeKind,
    Pending,
    Probe,
    ProbeResult,
    Release,
    Stop,
    Tasks,
)
from issue_core.server.outbox import LeaseHolder, StateStore, TaskRow
from issue_core.server.pipeline import Pipeline, pipeline_loop
from issue_core.server.schema import TaskSpec
from issue_core.server.writer import BackendStage
from issue_core.service.ingest import RequestContext, prepare, record
from tests.server.conftest import Project


def _row(key: str) -> TaskRow:
    task = TaskSpec.model_validate({"title": f"task {key}", "idempotency_key": key})
    return prepare(task.to_input(), RequestContext("req-1", None), "main").row


def _pipeline(project: Project) -> Pipeline:
    backend = LocalBackend()
    backend.connect({"path": str(project.store), "identity": "x"})
    pool = BackendPool({}, "x")
    pool._open["main"] = backend
    store = StateStore(project.state_db)
    return Pipeline(store, BackendStage(store, pool, LeaseHolder(project.state_dir)))


def _run(project: Project, *messages: InMessage) -> list[Any]:
    inbox: queue.SimpleQueue[InMessage] = queue.SimpleQueue()
    for message in (*messages, Stop()):
        inbox.put(message)
    emitted: list[Any] = []
    pipeline = _pipeline(project)
    try:
        pipeline_loop(inbox, emitted.append, pipeline)
    finally:
        pipeline.close()
    return emitted


def test_tasks_are_claimed_then_answered_with_typed_outcomes(project: Project) -> None:
    first, second = _row("key-1"), _row("key-2")
    emitted = _run(project, Tasks([(0, first, None), (1, second, None)]), Probe(7, "main"))
    claimed = [m for m in emitted if isinstance(m, Claimed)]
    answers = [pair for m in emitted if isinstance(m, Answers) for pair in m.answers]
    probes = [m for m in emitted if isinstance(m, ProbeResult)]
    assert claimed == [Claimed([0, 1])]
    assert [(task_id, data.kind) for task_id, data in answers] == [
        (0, OutcomeKind.CREATED),
        (1, OutcomeKind.CREATED),
    ]
    assert all(data.issue is not None and data.issue["number"] for _, data in answers)
    assert probes == [ProbeResult(7, True, "ok")]
    assert {type(m) for m in emitted} <= {Claimed, Answers, ProbeResult}

    # A repeat of a delivered key: a duplicate, claimed by nobody.
    again = _run(project, Tasks([(5, _row("key-1"), None)]))
    assert not any(isinstance(m, Claimed) for m in again)
    [(task_id, data)] = [pair for m in again if isinstance(m, Answers) for pair in m.answers]
    assert (task_id, data.kind) == (5, OutcomeKind.DUPLICATE)
    assert data.row.tracking_id == first.tracking_id


def test_an_outcome_kind_survives_the_writer_pipe() -> None:
    row = _row("key-p")
    message = Answers([(3, OutcomeData(OutcomeKind.QUEUED, row, error=ErrorInfo("c", "m")))])
    copy = pickle.loads(pickle.dumps(message))
    [(task_id, data)] = copy.answers
    assert task_id == 3 and data.kind is OutcomeKind.QUEUED and data.error == ErrorInfo("c", "m")
    assert json.dumps({"status": data.kind}) == '{"status": "queued"}'  # the answer


def test_records_are_applied_in_one_transaction(project: Project) -> None:
    store = StateStore(project.state_db)
    try:
        rows = [_row(f"key-r{n}") for n in range(3)]
        with store.transaction() as conn:
            store.claim_many(conn, rows)
        with store.transaction() as conn:
            record(
                store,
                conn,
                [
                    Delivered(rows[0].tracking_id, 12, '{"number":12}'),
                    Pending(rows[1].tracking_id, "backend_unavailable: down", 123.0, True),
                    Release(rows[2].tracking_id),
                ],
            )
        delivered, pending = store.get(rows[0].tracking_id), store.get(rows[1].tracking_id)
        assert delivered is not None and (delivered.status, delivered.issue_number) == (
            "delivered",
            12,
        )
        assert pending is not None and (pending.status, pending.next_attempt_at) == (
            "pending",
            123.0,
        )
        assert store.get(rows[2].tracking_id) is None and store.by_key("key-r2") is None
    finally:
        store.close()


class _RecordingStore(StateStore):
    """The real state db, noting whether each transaction was durable (fsynced)."""

    def __init__(self, *args: Any) -> None:
        self.durable: list[bool] = []
        super().__init__(*args)
        self.durable.clear()  # the schema's own transaction

    def transaction(self, *, durable: bool = True) -> Any:
        self.durable.append(durable)
        return super().transaction(durable=durable)


def _recorded_run(project: Project, *, circuit_open: bool) -> tuple[list[bool], StateStore]:
    backend = LocalBackend()
    backend.connect({"path": str(project.store), "identity": "x"})
    pool = BackendPool({}, "x")
    pool._open["main"] = backend
    if circuit_open:
        pool.circuit("main").open_until = time.time() + 600
    store = _RecordingStore(project.state_db)
    pipeline = Pipeline(store, BackendStage(store, pool, LeaseHolder(project.state_dir)))
    pipeline.stage.next_outbox_check = time.time() + 600  # no outbox round in between
    emitted: list[Any] = []
    pipeline.cycle([(0, _row("flush-1"), None), (1, _row("flush-2"), None)], emitted.append)
    assert pipeline.unsettled  # the records wait for the next commit
    pipeline.flush(emitted.append)
    durable = store.durable
    kinds = [data.kind for m in emitted if isinstance(m, Answers) for _, data in m.answers]
    pipeline.close()
    return durable, kinds  # type: ignore[return-value]


def test_deliveries_alone_are_committed_without_fsync_and_claims_always_with(
    project: Project,
) -> None:
    durable, kinds = _recorded_run(project, circuit_open=False)
    assert kinds == [OutcomeKind.CREATED, OutcomeKind.CREATED]
    # The claim (with the last cycle's records) is durable; the flush of deliveries is not:
    # a lost delivery record is rebuilt from the marker.
    assert durable == [True, False]
    store = StateStore(project.state_db)
    try:
        assert {row.status for row in store.list()} == {"delivered"}
    finally:
        store.close()


def test_a_flush_holding_an_outbox_entry_is_durable(project: Project) -> None:
    durable, kinds = _recorded_run(project, circuit_open=True)
    assert kinds == [OutcomeKind.QUEUED, OutcomeKind.QUEUED]
    assert durable == [True, True]
