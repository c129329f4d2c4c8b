"""Fault injection for fake servers: an ASGI middleware driven by knobs a test sets.

Each rule fires for the next ``times`` requests that match its method and path pattern. Faults
can strike *before* the request reaches the fake (the server never saw it) or *after* it was
processed (the write happened but the client never learns so: the ambiguous case that makes
naive retries duplicate issues). ``hold`` is the moment in between a crash test needs: the
fake has applied the request (Gitea committed the create) and holds its real answer until the
test releases it (``rule.reached`` tells the test when that point is reached). A response
produced by a fault is marked in the ASGI scope (``scope["fake.fault"]``) so the contract
recorder does not hold it to the API description (a held answer is the real one: not marked).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FAULT_SCOPE_KEY = "fake.fault"
JSON_TYPE = "application/json;charset=utf-8"
KINDS = ("status", "html", "malformed_json", "drop", "hang", "rate_limit", "delay", "hold")

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n"
    "<body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center>\n"
    "</body></html>\n"
)
_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class DroppedConnection(Exception):
    """Raised inside the server after a partial response so that it closes the connection."""


@dataclass
class FaultRule:
    kind: str
    times: int = 1
    method: str | None = None  # e.g. "POST"; None matches every method
    path: str | None = None  # regex searched in the request path; None matches every path
    status: int = 503
    seconds: float = 30.0  # how long "hang" holds the request
    retry_after: int = 1
    after_processing: bool = False
    fired: int = 0
    # "hold": set once a request was applied and its answer is held; set ``released`` to
    # send that answer (to whoever is still listening). ``seconds`` bounds the hold.
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


class Faults:
    """Knobs for one fake server. Thread-safe: tests set them while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency = 0.0  # seconds added to every request
        self.rules: list[FaultRule] = []

    def add(self, kind: str, times: int = 1, **options: Any) -> FaultRule:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {KINDS}")
        rule = FaultRule(kind, times, **options)
        with self._lock:
            self.rules.append(rule)
        return rule

    # Readable shorthands for the common cases.
    def server_errors(self, times: int, status: int = 503, **options: Any) -> FaultRule:
        return self.add("status", times, status=status, **options)

    def html_page(self, times: int = 1, status: int = 502, **options: Any) -> FaultRule:
        return self.add("html", times, status=status, **options)

    def malformed_json(self, times: int = 1, **options: Any) -> FaultRule:
        return self.add("malformed_json", times, **options)

    def drop(self, times: int = 1, **options: Any) -> FaultRule:
        return self.add("drop", times, **options)

    def hang(self, times: int = 1, seconds: float = 30.0, **options: Any) -> FaultRule:
        return self.add("hang", times, seconds=seconds, **options)

    def rate_limit(self, times: int = 1, retry_after: int = 1, **options: Any) -> FaultRule:
        return self.add("rate_limit", times, retry_after=retry_after, status=429, **options)

    def hold(self, times: int = 1, seconds: float = 60.0, **options: Any) -> FaultRule:
        """Apply the request, then hold its real answer until ``rule.released`` is set."""
        return self.add("hold", times, seconds=seconds, after_processing=True, **options)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.latency = 0.0

    def take(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.fired < rule.times and rule.matches(method, path):
                    rule.fired += 1
                    return rule
        return None


class FaultMiddleware:
    """Applies ``faults`` in front of ``app``; ``base_url`` feeds Gitea-style error bodies."""

    def __init__(self, app: ASGIApp, faults: Faults, error_url: Callable[[], str]) -> None:
        self.app = app
        self.faults = faults
        self.error_url = error_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        rule = self.faults.take(scope["method"], scope["path"])
        if rule is not None and rule.kind == "delay":
            # A slow server: the request (read in full first, as a server does) is applied
            # after ``seconds``, perhaps after the client gave up waiting.
            messages = [await receive()]
            while messages[-1].get("more_body"):
                messages.append(await receive())

            async def replay() -> Message:
                return messages.pop(0) if messages else {"type": "http.disconnect"}

            await asyncio.sleep(rule.seconds)
            receive, rule = replay, None
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.kind != "hold":  # a held answer is the real one: still checked
            scope[FAULT_SCOPE_KEY] = rule.kind
        captured: list[Message] = []
        if not rule.after_processing:
            # Read the request in full before failing it, as a server does (and so the contract
            # recorder checks the body that was sent, not an empty one).
            message = await receive()
            while message.get("more_body"):
                message = await receive()
        if rule.after_processing:
            # Let the fake do the work, then lose or spoil its answer.
            async def capture(message: Message) -> None:
                captured.append(message)

            await self.app(scope, receive, capture)
        await self._strike(rule, captured, send)

    async def _strike(self, rule: FaultRule, captured: list[Message], send: Send) -> None:
        kind = rule.kind
        if kind == "hold":
            rule.reached.set()
            waited = 0.0
            while not rule.released.is_set() and waited < rule.seconds:
                await asyncio.sleep(0.01)
                waited += 0.01
            for message in captured:  # the client may be gone: then nobody reads it
                await send(message)
        elif kind == "hang":
            await asyncio.sleep(rule.seconds)
            await _send(send, 504, b"", "text/plain")
        elif kind == "drop":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json;charset=utf-8"),
                        (b"content-length", b"4096"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'[{"id":', "more_body": True})
            raise DroppedConnection("fault injection: connection dropped mid-response")
        elif kind == "html":
            reason = _REASONS.get(rule.status, "Error")
            page = HTML_PAGE.format(status=rule.status, reason=reason).encode()
            await _send(send, rule.status, page, "text/html")
        elif kind == "rate_limit":
            body = json.dumps({"message": "rate limit exceeded", "url": self.error_url()}).encode()
            extra = [
                (b"retry-after", str(rule.retry_after).encode()),
                (b"x-ratelimit-remaining", b"0"),
            ]
            await _send(send, 429, body, "application/json;charset=utf-8", extra)
        elif kind == "status":
            error = {"message": "fault injection: internal error", "url": self.error_url()}
            await _send(send, rule.status, json.dumps(error).encode(), JSON_TYPE)
        elif kind == "malformed_json":
            status, body = 200, b'[{"id":1,"number":1,"title":"trunc'
            if captured:
                status = next(m["status"] for m in captured if m["type"] == "http.response.start")
                full = b"".join(
                    m.get("body", b"") for m in captured if m["type"] == "http.response.body"
                )
                body = full[: max(1, len(full) // 2)] if len(full) > 1 else b"{"
            await _send(send, status, body, "application/json;charset=utf-8")


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
