"""Run an ASGI app on 127.0.0.1 in a background thread, and check every exchange it serves.

``LiveServer`` binds a free port itself (no race with other xdist workers), runs uvicorn in a
daemon thread, and stops it cleanly (in-flight requests such as injected hangs are cancelled
after a short grace period). ``ContractRecorder`` is an ASGI middleware that records each
request and response and checks both against an API description: a fake that drifts from the
real server, or a client that sends what the real server would not accept, becomes a test
failure (``assert_clean()``), not a silent pass.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.fakes.faults import FAULT_SCOPE_KEY

ASGIApp = Callable[..., Any]
# Request headers worth keeping for assertions; Authorization is kept only as its scheme.
_KEPT_REQUEST_HEADERS = (
    "content-type",
    "if-none-match",
    "accept",
    "user-agent",
    "x-github-api-version",
)


class Contract(Protocol):
    def check_request(
        self, method: str, path: str, query: str, body: bytes, content_type: str | None
    ) -> list[str]: ...

    def check_response(
        self, method: str, path: str, status: int, body: bytes, content_type: str | None
    ) -> list[str]: ...


@dataclass
class Exchange:
    method: str
    path: str
    query: str
    status: int | None = None
    request_body: bytes = b""
    response_body: bytes = b""
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    auth_scheme: str | None = None
    fault: str | None = None
    started: float = 0.0
    duration: float = 0.0
    raw_path: str = ""  # as sent, still percent-encoded (GitLab's project paths are %2F)

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def __str__(self) -> str:
        return f"{self.method} {self.target} -> {self.status}"


class ContractRecorder:
    """ASGI middleware: keeps ``exchanges`` and ``violations`` (one sentence each)."""

    def __init__(self, app: ASGIApp, contract: Contract | None) -> None:
        self.app = app
        self.contract = contract
        self.exchanges: list[Exchange] = []
        self.violations: list[str] = []
        # Violations a test provokes on purpose (see ``expect_violation``) land here instead.
        self.expected: list[str] = []
        self._expected_patterns: list[str] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        exchange = Exchange(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            raw_path=(scope.get("raw_path") or b"").decode("latin-1") or scope["path"],
            request_headers={k: headers[k] for k in _KEPT_REQUEST_HEADERS if k in headers},
            auth_scheme=headers["authorization"].split(" ", 1)[0]
            if "authorization" in headers
            else None,
            started=time.monotonic(),
        )
        with self._lock:
            self.exchanges.append(exchange)
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []

        async def recording_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                request_chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                response_chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            exchange.duration = time.monotonic() - exchange.started
            exchange.request_body = b"".join(request_chunks)
            exchange.response_body = b"".join(response_chunks)
            exchange.fault = scope.get(FAULT_SCOPE_KEY)
            self._check(exchange)

    def _check(self, exchange: Exchange) -> None:
        if self.contract is None:
            return
        # A contract that routes on encoded segments says so (``wants_raw_path``).
        path = (
            exchange.raw_path if getattr(self.contract, "wants_raw_path", False) else exchange.path
        )
        problems = self.contract.check_request(
            exchange.method,
            path,
            exchange.query,
            exchange.request_body,
            exchange.request_headers.get("content-type"),
        )
        # An injected fault answers on purpose with what the description does not allow.
        if exchange.fault is None and exchange.status is not None:
            problems += self.contract.check_response(
                exchange.method,
                path,
                exchange.status,
                exchange.response_body,
                exchange.response_headers.get("content-type"),
            )
        if problems:
            with self._lock:
                for problem in problems:
                    line = f"[{exchange}] {problem}"
                    wanted = any(pattern in line for pattern in self._expected_patterns)
                    (self.expected if wanted else self.violations).append(line)

    # -- for tests ---------------------------------------------------------------------

    def expect_violation(self, pattern: str) -> None:
        """A test that sends an invalid request on purpose declares it (by a substring)."""
        with self._lock:
            self._expected_patterns.append(pattern)

    def mark(self) -> tuple[int, int]:
        """A position to count from: (exchanges so far, violations so far)."""
        with self._lock:
            return len(self.exchanges), len(self.violations)

    def since(self, mark: tuple[int, int]) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges[mark[0] :])

    def violations_since(self, mark: tuple[int, int]) -> list[str]:
        with self._lock:
            return list(self.violations[mark[1] :])

    def assert_clean(self, mark: tuple[int, int] = (0, 0)) -> None:
        found = self.violations_since(mark)
        if found:
            listed = "\n  ".join(found[:20])
            raise AssertionError(f"{len(found)} contract violation(s):\n  {listed}")


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(
        self, app: ASGIApp, *, grace_seconds: int = 1, port: int = 0, date_header: bool = True
    ) -> None:
        self.app = app
        self.grace_seconds = grace_seconds
        # False: the app sends its own ``Date`` (a fake whose clock a test moves).
        self.date_header = date_header
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = port  # 0: a free one; a port a stopped server used: "it is back up"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> LiveServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=self.grace_seconds,
            timeout_keep_alive=30,
            date_header=self.date_header,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"fake-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the fake server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def read_body(receive: Any) -> bytes:
    """The whole request body of an ASGI ``http`` request."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (for "server down" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerDate:
    """ASGI middleware: the ``Date`` header of every answer from the fake's own clock, as a
    forge's answers carry its clock (a test that moves the fake's clock moves its ``Date``).
    Claims judge leases by it (``forge.claims``)."""

    def __init__(self, app: ASGIApp, clock: Any) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                from email.utils import formatdate

                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                date = formatdate(self.clock(), usegmt=True).encode("latin-1")
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        await self.app(scope, receive, dated_send)
