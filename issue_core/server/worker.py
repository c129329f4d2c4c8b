"""The event loop's side of the ingestion pipeline: hand tasks over, await their outcomes.

Request handlers call ``IngestWorker.submit`` and await the future it returns. Tasks submitted
during one turn of the event loop go to the pipeline (``pipeline.py``, on a thread or in the
writer child process: ``transport.py``) as one message, so a burst of requests costs one
hand-over, and the pipeline claims them with one fsync. The pipeline's answers come back in
batches too and resolve their futures on the loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issue_core.core.config import BackendConfig
from issue_core.core.errors import BackendUnavailable, IssueCoreError
from issue_core.core.models import Issue
from issue_core.server import timings
from issue_core.server.messages import (
    Answers,
    Claimed,
    Died,
    OutcomeData,
    OutcomeKind,
    OutMessage,
    Probe,
    ProbeResult,
    Task,
    Tasks,
)
from issue_core.server.transport import ProcessTransport, StageConfig, ThreadTransport
from issue_core.service.tasks import TaskRow

log = logging.getLogger("issue_core.server")


@dataclass
class Outcome:
    """What happened to one submitted task (``OutcomeKind``), its error as an exception."""

    kind: OutcomeKind
    row: TaskRow
    issue: dict[str, Any] | None = None
    error: BaseException | None = None


@dataclass
class _Pending:
    row: TaskRow
    future: asyncio.Future[Outcome]
    loop: asyncio.AbstractEventLoop
    claimed: bool = False  # durable in the state db (a dead writer's task is then queued)


@dataclass
class IngestWorker:
    state_path: Path
    backends: Mapping[str, BackendConfig]
    identity: str
    process: bool = False  # run the pipeline in a child process
    max_queue: int = 10_000
    synchronous: str = "full"  # the pipeline's commits (issue serve --synchronous)
    stage: ThreadTransport | ProcessTransport | None = None
    _pending: dict[int, _Pending] = field(default_factory=dict)
    _unsent: list[Task] = field(default_factory=list)
    _probes: dict[int, tuple[asyncio.Future[Any], asyncio.AbstractEventLoop]] = field(
        default_factory=dict
    )
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # -- lifecycle (event-loop side) ----------------------------------------------------

    def start(self) -> None:
        """Open the state db, heal interrupted tasks, start the pipeline (idempotent)."""
        if self.stage is None:
            self.stage = self._start_stage()

    def stop(self, timeout: float = 60.0) -> None:
        """Finish everything submitted so far (claims and backend writes), then stop."""
        if self.stage is None:
            return
        self._send_unsent()
        self.stage.stop(timeout)
        self.stage = None

    def _start_stage(self) -> ThreadTransport | ProcessTransport:
        from issue_core.backends import BUILTIN_BACKENDS

        config = StageConfig(
            self.state_path,
            dict(self.backends),
            self.identity,
            dict(BUILTIN_BACKENDS),
            self.synchronous,
        )
        transport_class = ProcessTransport if self.process else ThreadTransport
        transport = transport_class(config, self._on_message)
        transport.start()
        return transport

    @property
    def backlog(self) -> int:
        """Tasks submitted and not answered yet."""
        return len(self._pending)

    def submit(self, row: TaskRow, issue: Issue | None = None) -> asyncio.Future[Outcome]:
        """Queue a prepared task (``issue``: its issue, saving a JSON parse; not sent to a
        writer process, which parses ``row.issue_json`` on its own core instead)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        task_id = next(self._ids)
        self._pending[task_id] = _Pending(row, future, loop)
        if not self._unsent:
            loop.call_soon(self._send_unsent)  # after this turn's other requests
        self._unsent.append((task_id, row, None if self.process else issue))
        return future

    def _send_unsent(self) -> None:
        tasks, self._unsent = self._unsent, []
        if not tasks:
            return
        try:
            assert self.stage is not None, "submit() after stop()"
            recorder = timings.recorder
            if recorder is None:
                self.stage.send(Tasks(tasks))
            else:
                started = timings.clock()
                self.stage.send(Tasks(tasks))
                recorder.add(("send", started, len(tasks), timings.clock() - started))
        except (OSError, AssertionError) as exc:
            # The writer process just died (its replacement is starting): nothing was claimed.
            error = BackendUnavailable(f"the backend writer is restarting ({exc}); retry")
            self._resolve(
                [
                    (item, Outcome(OutcomeKind.ERROR, item.row, error=error))
                    for task_id, _, _ in tasks
                    if (item := self._pending.pop(task_id, None)) is not None
                ]
            )

    def probe(self, backend: str) -> asyncio.Future[tuple[bool, str]]:
        """Ask the pipeline whether ``backend`` answers: ``(ok, detail)``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[bool, str]] = loop.create_future()
        probe_id = next(self._ids)
        self._probes[probe_id] = (future, loop)
        assert self.stage is not None
        self.stage.send(Probe(probe_id, backend))
        return future

    # -- answers (on the pipeline's thread, or the writer pipe's receiver thread) --------

    def _on_message(self, message: OutMessage) -> None:
        if isinstance(message, Answers):
            self._resolve(
                [(self._pending.pop(task_id), _outcome(data)) for task_id, data in message.answers]
            )
        elif isinstance(message, Claimed):
            for task_id in message.task_ids:
                self._pending[task_id].claimed = True
        elif isinstance(message, ProbeResult):
            future, loop = self._probes.pop(message.probe_id)
            loop.call_soon_threadsafe(_set_result, future, (message.ok, message.detail))
        elif isinstance(message, Died):
            self._stage_died()

    def _stage_died(self) -> None:
        """The writer process died. Its claimed tasks are durable in the state db: they go to
        the outbox (delivery checks their markers first; the new writer heals them). The
        others were never claimed: refused (503), a retry is safe. A new writer starts."""
        log.error("the backend writer process died; restarting it")
        error = BackendUnavailable("the backend writer restarted; the task will be retried")
        pending, self._pending = self._pending, {}
        answers = []
        for item in pending.values():
            if item.claimed:
                item.row.status = "pending"
                answers.append((item, Outcome(OutcomeKind.QUEUED, item.row, error=error)))
            else:
                answers.append((item, Outcome(OutcomeKind.ERROR, item.row, error=error)))
        self._resolve(answers)
        for future, loop in self._probes.values():
            loop.call_soon_threadsafe(_set_result, future, (False, error.message))
        self._probes.clear()
        self.stage = self._start_stage()

    def _resolve(self, answers: list[tuple[_Pending, Outcome]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Outcome], Outcome]]]
        by_loop = {}
        for item, outcome in answers:
            by_loop.setdefault(item.loop, []).append((item.future, outcome))
        handed = timings.clock() if timings.recorder is not None else None
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, pairs, handed)
            except RuntimeError:  # pragma: no cover - the loop closed under us
                log.warning("event loop closed before %d answer(s) were sent", len(pairs))


def _outcome(data: OutcomeData) -> Outcome:
    error: IssueCoreError | None = data.error.as_error() if data.error is not None else None
    return Outcome(data.kind, data.row, issue=data.issue, error=error)


def _resolve_all(
    pairs: list[tuple[asyncio.Future[Outcome], Outcome]], handed: float | None = None
) -> None:
    recorder = timings.recorder
    if recorder is not None and handed is not None:
        now = timings.clock()
        recorder.add(("resolve", now, len(pairs), now - handed))
    for future, outcome in pairs:
        if not future.done():
            future.set_result(outcome)


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)
