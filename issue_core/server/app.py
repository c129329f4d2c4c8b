"""The server's ASGI application: routes, error bodies and the OpenAPI document.

``create_app`` returns an ``IngestionApp``: the checking middleware (``middleware.py``) as the
outermost layer, answering ``POST /issues/`` itself (a direct route, past the framework), in
front of the FastAPI application that serves every other path and the docs.

This module is HTTP only: what a task's request does is ``endpoint.IngestEndpoint``'s (parse,
prepare, ingest through the pipeline, answer), and the handlers turn its ``Answer`` or
``Refused`` into a response. Handlers are ``async def`` and do only parsing and validation on the
event loop; every write goes through the ingestion pipeline (see ``worker.py``). Bodies are
parsed by pydantic
straight from bytes (one pass, no intermediate ``dict``), and answers are serialised once with
``json.dumps``: on the hot path that is measurably cheaper than FastAPI's generic body and
response handling, and it lets every malformed input get the same JSON error shape.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from issue_core._version import __version__
from issue_core.core.config_checks import is_loopback
from issue_core.core.errors import UsageError
from issue_core.server import timings
from issue_core.server.endpoint import Answer, IngestEndpoint, Refused, clean_message
from issue_core.server.logs import flush_access_log
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
from issue_core.server.routing import Router
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

log = logging.getLogger("issue_core.server")

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
        "description": "Server overloaded or its state db failed (nothing was stored), or shutting"
        " down while the request still ran (retry with the same key).",
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


def refused_response(refusal: Refused, request_id: str) -> Response:
    return error_response(
        refusal.status,
        refusal.code,
        refusal.message,
        request_id,
        headers=refusal.headers,
        hint=refusal.hint,
        **refusal.extra,
    )


def answer_response(answer: Answer) -> Response:
    return json_response(answer.status, answer.body, answer.headers)


async def accept(
    endpoint: IngestEndpoint, scope: Scope, receive: Receive, *, store: bool
) -> Response:
    """The answer to one POST /issues/ request (``store=False``: the bench's echo)."""
    state = scope["state"]
    request_id = request_id_in(scope)
    body = await read_body(receive)
    try:
        answer = await endpoint.accept(
            body,
            request_id=request_id,
            key_fingerprint=state.get("key_fingerprint"),
            # The middleware has decoded the headers once already.
            header_key=state.get("headers", {}).get("idempotency-key") or None,
            store=store,
        )
    except Refused as refusal:
        return refused_response(refusal, request_id)
    return answer_response(answer)


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
    endpoint = IngestEndpoint(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        endpoint.start()
        app.state.reader = endpoint.state
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
            await asyncio.to_thread(endpoint.stop)
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
    app.state.endpoint = endpoint
    app.state.worker = endpoint.worker
    app.state.settings = settings
    _add_routes(app, endpoint)
    _install_error_handlers(app)
    app.openapi = lambda: _openapi(app, settings, endpoint.router)  # type: ignore[method-assign]

    # The hot path skips the framework: POST /issues/ is answered by the outermost middleware,
    # which has just checked the request (the FastAPI route in _add_routes describes it in the
    # OpenAPI document and answers the same way). Measured: about 40 % of the event loop's time
    # per request went to the router and the framework's own middleware.
    ingest = _lane(endpoint, store=True)
    # Without its slash too: the framework would answer 307 with no body, which a client that
    # does not follow redirects on a POST (httpx, by default) takes as the answer.
    direct_routes = {("POST", "/issues/"): ingest, ("POST", "/issues"): ingest}
    if settings.bench_routes:
        # The same parsing, auth and answer without storage, to show storage's cost apart.
        direct_routes[("POST", "/_bench/echo")] = _lane(endpoint, store=False)
    if not settings.keys.enabled and not is_loopback(settings.host):  # pragma: no cover
        raise UsageError("refusing to serve without authentication on a non-loopback address")
    return IngestionApp(
        app, keys=settings.keys, body_limit=settings.body_limit, direct_routes=direct_routes
    )


def _lane(endpoint: IngestEndpoint, *, store: bool) -> ASGIApp:
    """``accept`` as a bare ASGI endpoint, for the middleware's direct routes."""

    async def lane(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await accept(endpoint, scope, receive, store=store)
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

    return lane


def _add_routes(app: FastAPI, endpoint: IngestEndpoint) -> None:
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
        return await accept(endpoint, request.scope, request.receive, store=True)

    @app.get(
        "/issues/ingest/{tracking_id}",
        summary="Delivery status of an ingested task",
        responses=STATUS_RESPONSES,
        response_model=TrackingStatus,
        tags=["ingestion"],
    )
    async def ingest_status(tracking_id: str, request: Request) -> Response:
        try:
            return json_response(200, endpoint.tracking_status(tracking_id))
        except Refused as refusal:
            return refused_response(refusal, request_id_of(request))

    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> Response:
        """The process is up and serving (no backend check)."""
        return json_response(200, endpoint.health)

    @app.get(
        "/readyz",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Backend not reachable."}},
        tags=["operations"],
    )
    async def readyz() -> Response:
        """The default backend answers (cached for two seconds); 503 otherwise."""
        status, body = await endpoint.readiness()
        return json_response(status, body)


def _install_error_handlers(app: FastAPI) -> None:
    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = [
            {
                "field": ".".join(str(p) for p in error.get("loc", ())),
                "message": clean_message(str(error.get("msg", ""))),
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
