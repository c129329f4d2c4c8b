"""One pure-ASGI middleware for what every request needs before the router sees it.

Request ids (``X-Request-ID`` echoed, or generated), the body-size limit (413), API-key checks on
protected paths (401) and the structured access log. Written against raw ASGI rather than
Starlette's ``BaseHTTPMiddleware`` because that wrapper costs a task and a stream per request on
the ingestion hot path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from issue_core.server.auth import AMBIGUOUS, ApiKeys, presented_key
from issue_core.server.logs import log_access
from issue_core.service.ids import new_id

log = logging.getLogger("issue_core.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
CLIENT_CLOSED = 499
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json", "/docs/oauth2-redirect"})


def error_bytes(code: str, message: str, request_id: str, **extra: Any) -> bytes:
    detail: dict[str, Any] = {"code": code, "message": message}
    detail.update({k: v for k, v in extra.items() if v is not None})
    return json.dumps({"error": detail, "request_id": request_id}).encode()


class ClientDisconnected(Exception):
    """The client went away before its request body arrived."""


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class ServerMiddleware:
    """``direct_routes``: (method, path) -> ASGI endpoint answered here, past the checks,
    without the router."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: ApiKeys,
        body_limit: int,
        direct_routes: dict[tuple[str, str], ASGIApp] | None = None,
    ) -> None:
        self.app = app
        self.keys = keys
        self.body_limit = body_limit
        self.direct_routes = direct_routes or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _headers(scope)
        request_id = headers.get("x-request-id", "")
        if not REQUEST_ID_PATTERN.match(request_id):
            request_id = new_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["headers"] = headers  # decoded once, for the handlers (lower-case names)
        request_id_header = (b"x-request-id", request_id.encode())
        # No response started when the handler returns: the client went away first (499,
        # nginx's "client closed request"); an exception escaping the handler is a 500.
        status_seen = CLIENT_CLOSED

        async def send_with_id(message: Message) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = message["status"]
                message["headers"] = [*message.get("headers", []), request_id_header]
            await send(message)

        try:
            rejection = self._check(scope, headers, state, request_id)
            if rejection is not None:
                status, body, extra_headers = rejection
                await _send_json(send_with_id, status, body, extra_headers)
            else:
                body_source: Receive | None = receive
                if "content-length" not in headers and scope["method"] in ("POST", "PUT", "PATCH"):
                    body_source = await self._buffer_chunked(receive)
                if body_source is None:
                    await _send_json(send_with_id, 413, self._too_large(request_id), [])
                else:
                    endpoint = self.direct_routes.get((scope["method"], scope["path"]), self.app)
                    await endpoint(scope, body_source, send_with_id)
        except asyncio.CancelledError:
            # The graceful timeout ran out at shutdown: one line, not uvicorn's traceback.
            log.warning(
                "request cancelled at shutdown",
                extra={"fields": {"request_id": request_id, "path": scope["path"]}},
            )
            if status_seen == CLIENT_CLOSED:
                status_seen = 503
                # Answer what the access log says, so uvicorn has no half-answered request to
                # report as an error line of its own; retrying is safe (keys are idempotent).
                body = error_bytes(
                    "shutting_down", "the server is shutting down; retry shortly", request_id
                )
                try:
                    await _send_json(
                        send_with_id, 503, body, [(b"retry-after", b"1"), (b"connection", b"close")]
                    )
                except Exception:  # the connection is already gone: nothing to answer
                    pass
        except BaseException:
            if status_seen == CLIENT_CLOSED:
                status_seen = 500
            raise
        finally:
            log_access(
                {
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status_seen,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "client": (scope.get("client") or ("", 0))[0],
                    "key_fingerprint": state.get("key_fingerprint"),
                }
            )

    def _check(
        self, scope: Scope, headers: dict[str, str], state: dict[str, Any], request_id: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]] | None:
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, error_bytes("bad_request", "invalid Content-Length", request_id), []
            if int(length) > self.body_limit:
                return 413, self._too_large(request_id), []
        if not self.keys.enabled or scope["path"] in PUBLIC_PATHS:
            return None
        key = presented_key(scope["headers"])
        fingerprint = None if key == AMBIGUOUS else self.keys.match(key)
        if fingerprint is None:
            if key is None:
                message = (
                    "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
                )
            elif key == AMBIGUOUS:
                message = "conflicting API key headers: send one key, in one header"
            else:
                message = "invalid API key"
            return (
                401,
                error_bytes("unauthorized", message, request_id),
                [(b"www-authenticate", b'Bearer realm="issue-core"')],
            )
        state["key_fingerprint"] = fingerprint
        return None

    def _too_large(self, request_id: str) -> bytes:
        return error_bytes(
            "payload_too_large",
            f"request body is larger than the limit of {self.body_limit} bytes",
            request_id,
        )

    async def _buffer_chunked(self, receive: Receive) -> Receive | None:
        """Read a body sent without Content-Length, stopping at the limit (None: too large)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.body_limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def _send_json(
    send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra_headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
