"""The pipeline's typed messages (``server/messages.py``): a real pipeline over a real state db
and local store, driven through its loop with ``Tasks``/``Probe``/``Stop`` and answering with
``Claimed``/``Answers``/``ProbeResult``; the outcomes carry an ``OutcomeKind`` that survives the
writer process's pickling."""

from __future__ import annotations

import json
import pickle
import queue
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
