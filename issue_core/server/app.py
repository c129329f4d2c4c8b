"""The server's ASGI application: routes, error bodies and the OpenAPI document.

``create_app`` returns an ``IngestionApp``: the checking middleware (``middleware.py``) as the
outermost layer, answering ``POST /issues/`` itself (a direct route, past the framework), in
front of the FastAPI application that serves every other path and the docs.

Handlers are ``async def`` and do only parsing and validation on the event loop; every write goes
through the ingestion pipeline (see ``worker.py``). Bodies are parsed by pydantic
straight from bytes (one pass, no intermediate ``dict``), and answers are serialised once with
``json.dumps``: on the hot path that is measurably cheaper than FastAPI's generic body and
response handling, and it lets every malformed input get the same JSON error shape.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import ValidationError as PydanticValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from issue_core._version import __version__
from issue_core.core.errors import IssueCoreError, UsageError
from issue_core.server import timings
from issue_core.server.auth import is_loopback
from issue_core.server.delivery import public_error
from issue_core.server.ingest import PreparedTask, RequestContext, prepare_task
from issue_core.server.json_keys import duplicate_key_in
from issue_core.server.keys import stored_original_key
from issue_core.server.logs import flush_access_log
from issue_core.server.messages import OutcomeKind
from issue_core.server.middleware import (
    ASGIApp,
    ClientDisconnected,
    Receive,
    Scope,
    Send,
    ServerMiddleware,
    error_bytes,
    read_body,
)
from issue_core.server.outbox import StateStore, issue_id_of, public_status
from issue_core.server.routing import Router, UnknownTargetRepo
from issue_core.server.schema import (
    ErrorBody,
    Health,
    IngestResult,
    Readiness,
    TaskSpec,
    TrackingStatus,
    describe_free_json,
)
from issue_core.server.settings import ServerSettings
from issue_core.server.worker import IngestWorker, Outcome

log = logging.getLogger("issue_core.server")

READINESS_CACHE_SECONDS = 2.0
READINESS_TIMEOUT_SECONDS = 5.0
JSON = "application/json"

_ERROR_RESPONSE = {"model": ErrorBody}
_STR = {"type": "string"}
REQUEST_ID_HEADER = {
    "description": "The request's id: the client's `X-Request-ID` if it is 1-128 characters of"
    " `A-Za-z0-9._:-`, else a new one. Also in the access log and the issue's"
    " `sync_metadata.ingest.request_id`.",
    "required": True,
    "schema": _STR,
}
UNAUTHORIZED = {
    **_ERROR_RESPONSE,
    "description": "Missing or invalid API key, or ambiguous key headers.",
    "headers": {"WWW-Authenticate": {"required": True, "schema": _STR}},
}
RETRY_AFTER = {"Retry-After": {"required": True, "schema": _STR, "description": "Seconds."}}
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The task's idempotency key when the body gives none (neither"
    " `idempotency_key`, nor `source.system` + `source.event_id`, nor activity-core's"
    " `source_type`/`source_id`/`triggering_event_id`/`activity_definition_id`). At most 200"
    " characters; empty means none.",
    "schema": {"type": "string", "maxLength": 200},
}
_SINK_ANSWER = {
    "tracking_id": "3f2a9c0d5e6b47a8b9c0d1e2f3a4b5c6",
    "idempotency_key": 'activity:["rule","flag-stale-sbom","event-or-schedule-key",'
    '"activity-definition-uuid"]',
    "backend": "gitea-prod",
    "status_url": "/issues/ingest/3f2a9c0d5e6b47a8b9c0d1e2f3a4b5c6",
    "request_id": "7d1e0c9b8a7f46e5a4b3c2d1e0f9a8b7",
    "warnings": [],
}
_SINK_ISSUE = {
    "issue_id": "gitea-prod#42",
    "issue_url": "https://gitea.example.com/acme/activity-core/issues/42",
    "issue_number": 42,
    "delivery": "delivered",
}


_SINK_ISSUE_OUT = {
    "number": 42,
    "title": "Run SBOM rescan for activity-core",
    "description": "",
    "state": "open",
    "labels": ["automated", "priority:medium", "sbom", "security"],
    "assignee": None,
    "assignees": [],
    "milestone": None,
    "author": "ingest-bot",
    "comments_count": 0,
    "created_at": "2026-12-03T06:00:00.000Z",
    "updated_at": "2026-12-03T06:00:00.000Z",
    "closed_at": None,
    "url": "https://gitea.example.com/acme/activity-core/issues/42",
    "id": "1337",
    "version": None,
    "priority": 2,
    "due_at": None,
    "sync_metadata": {"target_repo": "activity-core"},
}
# Added after FastAPI has built the document: it drops every null from what it is given, and
# these answers have required null fields (a 202's issue_id).
INGEST_EXAMPLES = {
    201: {
        "created": {
            "summary": "activity-core's task, created",
            "value": {"status": "created", **_SINK_ANSWER, **_SINK_ISSUE, "issue": _SINK_ISSUE_OUT},
        }
    },
    200: {
        "duplicate": {
            "summary": "A retry of a delivered task",
            "value": {
                "status": "duplicate",
                **_SINK_ANSWER,
                **_SINK_ISSUE,
                "issue": _SINK_ISSUE_OUT,
                "warnings": [
                    "duplicate of task 3f2a9c0d5e6b47a8b9c0d1e2f3a4b5c6 (idempotency"
                    " key ...); nothing new was created"
                ],
            },
        }
    },
    202: {
        "queued": {
            "summary": "Backend down: kept in the outbox",
            "value": {
                "status": "queued",
                **_SINK_ANSWER,
                "issue_id": None,
                "issue_url": None,
                "issue_number": None,
                "issue": None,
                "delivery": "pending",
                "warnings": ["backend unavailable, will retry: connection refused"],
            },
        }
    },
}


INGEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": IngestResult,
        "description": "Duplicate: the idempotency key was seen before; the original task's"
        " `tracking_id`, `issue_id` and issue (`issue_id` and `issue` are `null` while that task"
        " is still queued).",
    },
    201: {
        "model": IngestResult,
        "description": "Created: the issue exists on the backend (`issue_id`, `issue_url` where"
        " the backend has one, `backend`: the backend it was routed to).",
    },
    202: {
        "model": IngestResult,
        "description": "Queued in the durable outbox (backend unavailable or rate-limited):"
        " `status: queued`, `delivery: pending`, `issue_id`/`issue_url`/`issue_number`/`issue`"
        " `null`, `tracking_id`, `status_url` (also the `Location` header). Once the outbox"
        " delivers the task, `GET status_url` and any repeat of the POST carry its `issue_id`.",
        "headers": {
            "Location": {
                "required": True,
                "schema": _STR,
                "description": "`/issues/ingest/{tracking_id}`, the task's status.",
            }
        },
    },
    400: {
        **_ERROR_RESPONSE,
        "description": "Malformed JSON, not UTF-8, a repeated key or a bad Content-Length.",
    },
    401: UNAUTHORIZED,
    409: {**_ERROR_RESPONSE, "description": "The key's earlier task failed permanently."},
    413: {**_ERROR_RESPONSE, "description": "Body larger than the server's limit."},
    422: {
        **_ERROR_RESPONSE,
        "description": "Invalid task (`field_errors` lists each field), an unknown `backend`, a"
        " `target_repo` no route covers, or a task the backend refused.",
    },
    503: {
        **_ERROR_RESPONSE,
        "description": "Server overloaded or its state db failed; nothing was stored.",
        "headers": RETRY_AFTER,
    },
}
STATUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": TrackingStatus},
    401: UNAUTHORIZED,
    404: {**_ERROR_RESPONSE, "description": "No task with this tracking id."},
    422: {**_ERROR_RESPONSE, "description": "Invalid tracking id."},
}
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def json_response(
    status: int, data: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    return Response(
        error_bytes(code, message, request_id, **extra),
        status_code=status,
        media_type=JSON,
        headers=headers,
    )


def request_id_in(scope: Scope) -> str:
    """The id the middleware gave this request ("" outside it)."""
    return str(scope.get("state", {}).get("request_id", ""))


def request_id_of(request: Request) -> str:
    return request_id_in(request.scope)


def validation_error_response(exc: PydanticValidationError, request_id: str) -> Response:
    """400 for bytes that are not JSON (or not UTF-8), 422 for JSON that is not a TaskSpec."""
    errors = exc.errors(include_url=False, include_input=False)
    if any(error["type"] == "json_invalid" for error in errors):
        message = errors[0]["msg"]
        return error_response(
            400,
            "bad_request",
            f"the body is not valid UTF-8 JSON: {message}",
            request_id,
            hint="send a JSON object, UTF-8 encoded",
        )
    fields = [
        {
            "field": _field_path(error),
            "message": _clean(error["msg"]),
            "type": error["type"],
        }
        for error in errors
    ]
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields[:5])
    return error_response(
        422, "invalid", f"invalid task: {summary}", request_id, field_errors=fields
    )


def _field_error(name: str, message: str, kind: str) -> dict[str, str]:
    return {"field": name, "message": message, "type": kind}


def _field_path(error: Any) -> str:
    """``source.system``; inside free JSON, down to the offending key or item
    (``metadata.job["a\\nb"]``), which the schema's check puts in the error's context."""
    field = ".".join(str(part) for part in error["loc"])
    inner = str((error.get("ctx") or {}).get("path", ""))
    if inner:
        field = f"{field}{inner}" if field else inner.lstrip(".")
    return field or "(body)"


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


# The outcomes answered with the task's record; the others are errors (below).
ACCEPTED_STATUS = {OutcomeKind.CREATED: 201, OutcomeKind.DUPLICATE: 200, OutcomeKind.QUEUED: 202}


def outcome_response(outcome: Outcome, prepared: PreparedTask, request_id: str) -> Response:
    row = outcome.row
    status = ACCEPTED_STATUS.get(outcome.kind)
    if status is not None:
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
        headers = {"Location": status_url} if status == 202 else None
        return json_response(status, body, headers)
    if outcome.kind is OutcomeKind.REJECTED and outcome.error is not None:
        detail = public_error(outcome.error)
        return error_response(
            422, detail["code"], detail["message"], request_id, hint=detail.get("hint")
        )
    if outcome.kind is OutcomeKind.FAILED_BEFORE:
        return error_response(
            409,
            "task_failed",
            f"an earlier task with idempotency key {row.idempotency_key!r} failed:"
            f" {row.last_error}",
            request_id,
            hint=f"see GET /issues/ingest/{row.tracking_id}; re-queue with"
            f" `issue outbox retry {row.tracking_id}`",
            tracking_id=row.tracking_id,
        )
    message = public_error(outcome.error)["message"] if outcome.error else "internal error"
    return error_response(503, "unavailable", message, request_id, headers={"Retry-After": "1"})


class IngestionApp(ServerMiddleware):
    """What ``issue serve`` runs: ``ServerMiddleware`` (request ids, limits, keys, access log and
    the direct routes) in front of the FastAPI application ``api``, which serves the rest."""

    @property
    def api(self) -> FastAPI:
        assert isinstance(self.app, FastAPI)
        return self.app

    @property
    def state(self) -> Any:
        return self.api.state


def create_app(settings: ServerSettings) -> IngestionApp:
    worker = IngestWorker(
        settings.state_db,
        settings.backends,
        settings.identity,
        process=settings.writer_process,
        max_queue=settings.max_queue,
    )
    readiness: dict[str, Any] = {"at": 0.0, "value": None}
    router = Router(settings.routes, settings.backends, settings.default_backend)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        app.state.reader = StateStore(settings.state_db)
        # What exists now (the app, its routes and schemas, imported modules) lives as long as
        # the server: out of the collector's sight, a full collection no longer walks it.
        # Measured: it halves the p99 latency of POST /issues/ under load.
        gc.freeze()
        recorder = timings.start("server")
        if recorder is not None:
            recorder.watch_loop()
        try:
            yield
        finally:
            # uvicorn has finished in-flight requests by now; drain what the worker holds.
            await asyncio.to_thread(worker.stop)
            app.state.reader.close()
            flush_access_log()  # before uvicorn re-raises the stopping signal
            timings.stop()

    app = FastAPI(
        title="issue-core ingestion API",
        version=__version__,
        description=(
            "Turns tasks emitted by upstream systems into issues on the configured backend,"
            " idempotently and durably. See docs/ingestion.md."
        ),
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.worker = worker
    app.state.settings = settings

    async def accept(scope: Scope, receive: Receive, *, store: bool) -> Response:
        """The answer to one POST /issues/ request (``store=False``: the bench's echo)."""
        state = scope["state"]
        request_id = request_id_in(scope)
        started = timings.clock()
        body = await read_body(receive)
        # The middleware has decoded the headers once already.
        header_key = state.get("headers", {}).get("idempotency-key") or None
        try:
            task = TaskSpec.model_validate_json(body)
        except PydanticValidationError as exc:
            return validation_error_response(exc, request_id)
        duplicate = duplicate_key_in(body)
        if duplicate is not None:
            return error_response(
                400,
                "bad_request",
                f"ambiguous JSON: {duplicate}",
                request_id,
                hint="send each key once per object",
            )
        if task.backend is not None:
            backend = task.backend
            if backend not in settings.backends:
                message = f"no backend named {backend!r} is configured on this server"
                return error_response(
                    422,
                    "unknown_backend",
                    message,
                    request_id,
                    hint=f"configured: {', '.join(sorted(settings.backends))}",
                    field_errors=[_field_error("backend", message, "unknown_backend")],
                )
        else:
            try:
                backend = router.backend_for(task.target_repo)
            except UnknownTargetRepo as exc:
                return error_response(
                    422,
                    exc.code,
                    exc.message,
                    request_id,
                    hint=exc.hint,
                    field_errors=[_field_error("target_repo", exc.message, exc.code)],
                )
        if header_key is not None and len(header_key) > 200:
            return error_response(
                422, "invalid", "the Idempotency-Key header is longer than 200", request_id
            )
        # A task keyed by its source may have its original stored under the older key form.
        stored_key = (
            None if task.idempotency_key else stored_original_key(app.state.reader, task.source)
        )
        context = RequestContext(request_id, state.get("key_fingerprint"), header_key, stored_key)
        try:
            prepared = prepare_task(task, context, backend)
        except IssueCoreError as exc:
            return error_response(422, exc.code, exc.message, request_id, hint=exc.hint)
        if not store:
            return outcome_response(
                Outcome(OutcomeKind.CREATED, prepared.row, issue=prepared.row.issue_data),
                prepared,
                request_id,
            )
        if worker.backlog >= settings.max_queue:
            return error_response(
                503,
                "busy",
                "the server is overloaded; retry shortly",
                request_id,
                headers={"Retry-After": "1"},
            )
        recorder = timings.recorder
        if recorder is None:
            outcome = await worker.submit(prepared.row, prepared.issue)
            return outcome_response(outcome, prepared, request_id)
        submitted = timings.clock()
        outcome = await worker.submit(prepared.row, prepared.issue)
        answered = timings.clock()
        response = outcome_response(outcome, prepared, request_id)
        recorder.add(
            (
                "request",
                started,
                submitted - started,
                answered - submitted,
                timings.clock() - answered,
            )
        )
        return response

    @app.post(
        "/issues/",
        status_code=201,
        summary="Create an issue from an upstream task",
        responses=INGEST_RESPONSES,
        openapi_extra={
            "parameters": [IDEMPOTENCY_KEY_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/TaskSpec"}}},
            },
        },
        tags=["ingestion"],
    )
    async def create_issue(request: Request) -> Response:
        """Validate the TaskSpec, claim its idempotency key, create the issue.

        201: created on the backend. 200: a repeat of an earlier idempotency key. 202: the backend
        is unavailable, the task is safe in the outbox; follow `status_url`.
        """
        return await accept(request.scope, request.receive, store=True)

    @app.get(
        "/issues/ingest/{tracking_id}",
        summary="Delivery status of an ingested task",
        responses=STATUS_RESPONSES,
        response_model=TrackingStatus,
        tags=["ingestion"],
    )
    async def ingest_status(tracking_id: str, request: Request) -> Response:
        row = app.state.reader.get(tracking_id)
        if row is None:
            return error_response(
                404,
                "not_found",
                f"no ingested task with tracking id {tracking_id!r}",
                request_id_of(request),
            )
        return json_response(200, row.to_public())

    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> Response:
        """The process is up and serving (no backend check)."""
        return json_response(200, {"status": "ok", "version": __version__})

    @app.get(
        "/readyz",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Backend not reachable."}},
        tags=["operations"],
    )
    async def readyz() -> Response:
        """The default backend answers (cached for two seconds); 503 otherwise."""
        now = time.monotonic()
        if readiness["value"] is None or now - readiness["at"] > READINESS_CACHE_SECONDS:
            readiness["value"] = await _probe(worker, settings.default_backend)
            readiness["at"] = time.monotonic()
        ok, detail = readiness["value"]
        body = {
            "status": "ready" if ok else "unavailable",
            "backend": settings.default_backend,
            "detail": detail,
            "outbox": {k: v for k, v in app.state.reader.counts().items() if k != "delivered"},
        }
        return json_response(200 if ok else 503, body)

    _install_error_handlers(app)
    app.openapi = lambda: _openapi(app, settings, router)  # type: ignore[method-assign]

    def lane(store: bool) -> ASGIApp:
        """``accept`` as a bare ASGI endpoint, for the middleware's direct routes."""

        async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                response = await accept(scope, receive, store=store)
            except ClientDisconnected:
                return
            except Exception:
                log.exception("%s %s failed", scope["method"], scope["path"])
                response = error_response(
                    500,
                    "internal",
                    "internal server error; see the server log",
                    request_id_in(scope),
                )
            await response(scope, receive, send)

        return endpoint

    # The hot path skips the framework: POST /issues/ is answered by the outermost middleware,
    # which has just checked the request (the FastAPI route above describes it in the OpenAPI
    # document and answers the same way). Measured: about 40 % of the event loop's time per
    # request went to the router and the framework's own middleware.
    direct_routes = {("POST", "/issues/"): lane(store=True)}
    if settings.bench_routes:
        # The same parsing, auth and answer without storage, to show storage's cost apart.
        direct_routes[("POST", "/_bench/echo")] = lane(store=False)
    if not settings.keys.enabled and not is_loopback(settings.host):  # pragma: no cover
        raise UsageError("refusing to serve without authentication on a non-loopback address")
    return IngestionApp(
        app, keys=settings.keys, body_limit=settings.body_limit, direct_routes=direct_routes
    )


async def _probe(worker: IngestWorker, backend: str) -> tuple[bool, str]:
    try:
        return await asyncio.wait_for(worker.probe(backend), READINESS_TIMEOUT_SECONDS)
    except TimeoutError:
        return False, f"backend did not answer within {READINESS_TIMEOUT_SECONDS:.0f}s"


def _install_error_handlers(app: FastAPI) -> None:
    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = [
            {
                "field": ".".join(str(p) for p in error.get("loc", ())),
                "message": _clean(str(error.get("msg", ""))),
                "type": str(error.get("type", "")),
            }
            for error in exc.errors()
        ]
        return error_response(
            422, "invalid", "invalid request", request_id_of(request), field_errors=fields
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = ERROR_CODES.get(exc.status_code, "error")
        return error_response(
            exc.status_code,
            code,
            str(exc.detail),
            request_id_of(request),
            headers=dict(exc.headers or {}),
        )

    async def on_crash(request: Request, exc: Exception) -> Response:
        # The traceback goes to the server log (uvicorn logs it); the client gets no internals.
        return error_response(
            500, "internal", "internal server error; see the server log", request_id_of(request)
        )

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


def _only(prop: dict[str, Any], names: list[str]) -> None:
    """Restrict a nullable string property of the TaskSpec schema to ``names``."""
    for branch in prop.get("anyOf", []):
        if branch.get("type") == "string":
            branch["enum"] = names


def _openapi(app: FastAPI, settings: ServerSettings, router: Router) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    task_schema = TaskSpec.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in task_schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas["TaskSpec"] = task_schema
    describe_free_json(schemas)
    # This server's document says which values it takes: its configured backends and, once
    # routes exist without a default route, its routed repositories (others are a 422).
    _only(task_schema["properties"]["backend"], sorted(settings.backends))
    if router.configured and router.fallback is None:
        _only(task_schema["properties"]["target_repo"], router.known_repositories())
    ingest_responses = schema["paths"]["/issues/"]["post"]["responses"]
    for status, examples in INGEST_EXAMPLES.items():
        ingest_responses[str(status)]["content"][JSON]["examples"] = examples
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
    if settings.keys.enabled:
        components["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        for path, operations in schema.get("paths", {}).items():
            if path in ("/healthz", "/readyz"):
                continue
            for operation in operations.values():
                operation["security"] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
    app.openapi_schema = schema
    return schema
