"""``POST /issues/`` apart from HTTP: ``IngestEndpoint`` takes a task's bytes to its answer.

It holds what the server runs ingestion with: the pipeline (``worker.IngestWorker``), the
configuration (``ServerSettings``, the ``Router``) and the state db's reader. One task goes
``parse`` (the TaskSpec, repeated keys refused) → ``prepare`` (backend chosen, the use case's
``service.ingest.prepare``) → ``ingest`` (the pipeline claims, creates and records it) →
``answer`` (status and JSON body); ``accept`` runs all four. A refusal at any step is a
``Refused`` (status, code, message), never an HTTP object, so another front end — a NATS
consumer (docs/nats-task-ingestion.md) — calls the same steps, and ``ingest_many`` hands a
batch of prepared tasks to the pipeline as one message.

The HTTP lane and the documented route (``app.py``) turn an ``Answer`` or a ``Refused`` into a
response; nothing here imports the web framework.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from issue_core._version import __version__
from issue_core.core.errors import IssueCoreError
from issue_core.server import timings
from issue_core.server.delivery import public_error
from issue_core.server.json_keys import duplicate_key_in
from issue_core.server.messages import OutcomeKind
from issue_core.server.outbox import StateStore
from issue_core.server.routing import Router, UnknownTargetRepo
from issue_core.server.schema import TaskSpec
from issue_core.server.settings import ServerSettings
from issue_core.server.worker import IngestWorker, Outcome
from issue_core.service.ingest import PreparedTask, RequestContext, prepare
from issue_core.service.tasks import issue_id_of, public_status, stored_original_key

READINESS_CACHE_SECONDS = 2.0
READINESS_TIMEOUT_SECONDS = 5.0
HEADER_KEY_MAX = 200
# The outcomes answered with the task's record; the others are errors (``answer``).
ACCEPTED_STATUS = {OutcomeKind.CREATED: 201, OutcomeKind.DUPLICATE: 200, OutcomeKind.QUEUED: 202}
RETRY_SOON = {"Retry-After": "1"}


@dataclass
class Refused(Exception):
    """A task not taken, or taken and failed: the error answer's status and fields."""

    status: int
    code: str
    message: str
    hint: str | None = None
    headers: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # field_errors, tracking_id


@dataclass
class Answer:
    """A task's record as answered (201 created, 200 duplicate, 202 queued)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] | None = None


def field_error(name: str, message: str, kind: str) -> dict[str, str]:
    return {"field": name, "message": message, "type": kind}


def clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")


def invalid_body(exc: PydanticValidationError) -> Refused:
    """400 for bytes that are not JSON (or not UTF-8), 422 for JSON that is not a TaskSpec."""
    errors = exc.errors(include_url=False, include_input=False)
    if any(error["type"] == "json_invalid" for error in errors):
        return Refused(
            400,
            "bad_request",
            f"the body is not valid UTF-8 JSON: {errors[0]['msg']}",
            hint="send a JSON object, UTF-8 encoded",
        )
    fields = [
        field_error(_field_path(error), clean_message(error["msg"]), error["type"])
        for error in errors
    ]
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields[:5])
    return Refused(422, "invalid", f"invalid task: {summary}", extra={"field_errors": fields})


def _field_path(error: Any) -> str:
    """``source.system``; inside free JSON, down to the offending key or item
    (``metadata.job["a\\nb"]``), which the schema's check puts in the error's context."""
    path = ".".join(str(part) for part in error["loc"])
    inner = str((error.get("ctx") or {}).get("path", ""))
    if inner:
        path = f"{path}{inner}" if path else inner.lstrip(".")
    return path or "(body)"


class IngestEndpoint:
    """Ingestion as the server runs it: the pipeline, the configuration and the state."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.worker = IngestWorker(
            settings.state_db,
            settings.backends,
            settings.identity,
            process=settings.writer_process,
            max_queue=settings.max_queue,
            synchronous=settings.synchronous,
        )
        self.router = Router(settings.routes, settings.backends, settings.default_backend)
        self.reader: StateStore | None = None
        self._readiness: tuple[float, tuple[bool, str]] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the pipeline (healing the state db first) and open the reader."""
        self.worker.start()
        if self.reader is None:
            self.reader = StateStore(self.settings.state_db)

    def stop(self) -> None:
        """Finish every submitted task, then close (call off the event loop: it waits)."""
        self.worker.stop()
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    @property
    def state(self) -> StateStore:
        assert self.reader is not None, "the endpoint is not started"
        return self.reader

    # -- one task's steps ---------------------------------------------------------------

    def parse(self, body: bytes) -> TaskSpec:
        try:
            task = TaskSpec.model_validate_json(body)
        except PydanticValidationError as exc:
            raise invalid_body(exc) from None
        duplicate = duplicate_key_in(body)
        if duplicate is not None:
            raise Refused(
                400,
                "bad_request",
                f"ambiguous JSON: {duplicate}",
                hint="send each key once per object",
            )
        return task

    def prepare(
        self,
        spec: TaskSpec,
        *,
        request_id: str,
        key_fingerprint: str | None = None,
        header_key: str | None = None,
    ) -> PreparedTask:
        """The backend ``spec`` goes to (its own, else routed by ``target_repo``), then the use
        case's ``prepare``."""
        task = spec.to_input()
        if task.backend is not None:
            backend = task.backend
            if backend not in self.settings.backends:
                message = f"no backend named {backend!r} is configured on this server"
                raise Refused(
                    422,
                    "unknown_backend",
                    message,
                    hint=f"configured: {', '.join(sorted(self.settings.backends))}",
                    extra={"field_errors": [field_error("backend", message, "unknown_backend")]},
                )
        else:
            try:
                backend = self.router.backend_for(task.target_repo)
            except UnknownTargetRepo as exc:
                raise Refused(
                    422,
                    exc.code,
                    exc.message,
                    hint=exc.hint,
                    extra={"field_errors": [field_error("target_repo", exc.message, exc.code)]},
                ) from None
        if header_key is not None and len(header_key) > HEADER_KEY_MAX:
            raise Refused(422, "invalid", "the Idempotency-Key header is longer than 200")
        # A task keyed by its source may have its original stored under the older key form.
        context = RequestContext(
            request_id, key_fingerprint, header_key, stored_original_key(self.state, task)
        )
        try:
            return prepare(task, context, backend)
        except IssueCoreError as exc:
            raise Refused(422, exc.code, exc.message, hint=exc.hint) from None

    async def ingest(self, prepared: PreparedTask) -> Outcome:
        """Hand a prepared task to the pipeline; its outcome once created (or queued)."""
        if self.worker.backlog >= self.settings.max_queue:
            raise Refused(
                503, "busy", "the server is overloaded; retry shortly", headers=RETRY_SOON
            )
        return await self.worker.submit(prepared.row, prepared.issue)

    async def ingest_many(self, prepared: list[PreparedTask]) -> list[Outcome | Refused]:
        """A batch of prepared tasks, handed to the pipeline as one message (they are submitted
        in one turn of the event loop) and claimed in one transaction."""
        results = await asyncio.gather(
            *(self.ingest(task) for task in prepared), return_exceptions=True
        )
        out: list[Outcome | Refused] = []
        for result in results:
            if isinstance(result, Outcome | Refused):
                out.append(result)
            else:
                raise result
        return out

    def answer(self, outcome: Outcome, prepared: PreparedTask, request_id: str) -> Answer:
        """The answer to a task's outcome; raises ``Refused`` for the outcomes that are errors
        (422 refused by the backend, 409 its key's task failed, 503 not claimed)."""
        row = outcome.row
        status = ACCEPTED_STATUS.get(outcome.kind)
        if status is None:
            raise _refusal(outcome)
        warnings = list(prepared.warnings)
        if outcome.kind is OutcomeKind.DUPLICATE:
            warnings.append(
                f"duplicate of task {row.tracking_id} (idempotency key {row.idempotency_key!r});"
                " nothing new was created"
            )
        if outcome.kind is OutcomeKind.QUEUED and outcome.error is not None:
            warnings.append(
                f"backend unavailable, will retry: {public_error(outcome.error)['message']}"
            )
        status_url = f"/issues/ingest/{row.tracking_id}"
        body = {
            "status": outcome.kind,
            "tracking_id": row.tracking_id,
            "idempotency_key": row.idempotency_key,
            "backend": row.backend,
            "issue_id": issue_id_of(row.backend, row.issue_number),
            "issue_url": (outcome.issue or {}).get("url"),
            "issue_number": row.issue_number,
            "issue": outcome.issue,
            "delivery": public_status(row.status),
            "status_url": status_url,
            "request_id": request_id,
            "warnings": warnings,
        }
        return Answer(status, body, {"Location": status_url} if status == 202 else None)

    async def accept(
        self,
        body: bytes,
        *,
        request_id: str,
        key_fingerprint: str | None = None,
        header_key: str | None = None,
        store: bool = True,
    ) -> Answer:
        """One task, end to end (``store=False``: the bench's echo, answered as created without
        the pipeline). Raises ``Refused``."""
        started = timings.clock()
        spec = self.parse(body)
        prepared = self.prepare(
            spec, request_id=request_id, key_fingerprint=key_fingerprint, header_key=header_key
        )
        if not store:
            echo = Outcome(OutcomeKind.CREATED, prepared.row, issue=prepared.row.issue_data)
            return self.answer(echo, prepared, request_id)
        recorder = timings.recorder
        if recorder is None:
            return self.answer(await self.ingest(prepared), prepared, request_id)
        submitted = timings.clock()
        outcome = await self.ingest(prepared)
        answered = timings.clock()
        try:
            return self.answer(outcome, prepared, request_id)
        finally:
            recorder.add(
                (
                    "request",
                    started,
                    submitted - started,
                    answered - submitted,
                    timings.clock() - answered,
                )
            )

    # -- status and readiness -----------------------------------------------------------

    def tracking_status(self, tracking_id: str) -> dict[str, Any]:
        row = self.state.get(tracking_id)
        if row is None:
            raise Refused(404, "not_found", f"no ingested task with tracking id {tracking_id!r}")
        return row.to_public()

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        """The default backend answers (cached for two seconds): 200, else 503."""
        default = self.settings.default_backend
        now = time.monotonic()
        if self._readiness is None or now - self._readiness[0] > READINESS_CACHE_SECONDS:
            probed = await self._probe(default)
            self._readiness = (time.monotonic(), probed)
        ok, detail = self._readiness[1]
        body = {
            "status": "ready" if ok else "unavailable",
            "backend": default,
            "detail": detail,
            "outbox": {k: v for k, v in self.state.counts().items() if k != "delivered"},
        }
        return (200 if ok else 503), body

    async def _probe(self, backend: str) -> tuple[bool, str]:
        try:
            return await asyncio.wait_for(self.worker.probe(backend), READINESS_TIMEOUT_SECONDS)
        except TimeoutError:
            return False, f"backend did not answer within {READINESS_TIMEOUT_SECONDS:.0f}s"

    @property
    def health(self) -> dict[str, Any]:
        return {"status": "ok", "version": __version__}


def _refusal(outcome: Outcome) -> Refused:
    row = outcome.row
    if outcome.kind is OutcomeKind.REJECTED and outcome.error is not None:
        detail = public_error(outcome.error)
        return Refused(422, detail["code"], detail["message"], hint=detail.get("hint"))
    if outcome.kind is OutcomeKind.FAILED_BEFORE:
        return Refused(
            409,
            "task_failed",
            f"an earlier task with idempotency key {row.idempotency_key!r} failed:"
            f" {row.last_error}",
            hint=f"see GET /issues/ingest/{row.tracking_id}; re-queue with"
            f" `issue outbox retry {row.tracking_id}`",
            extra={"tracking_id": row.tracking_id},
        )
    message = public_error(outcome.error)["message"] if outcome.error else "internal error"
    return Refused(503, "unavailable", message, headers=RETRY_SOON)
