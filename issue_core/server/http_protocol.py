"""uvicorn's httptools protocol with the limits a hostile client needs: sizes, times, connections.

uvicorn accumulates the request line and headers without a bound (``self.url += chunk``:
quadratic in the size, a 64 MiB header stalls the event loop for seconds), never times out a
request whose headers or body trickle in, and accepts connections until file descriptors run out.
Here, per connection:

- the request line plus all headers may take at most ``header_limit`` bytes: 414 (URL) or 431
  (headers) and the connection is closed, before anything more is kept (a single header that
  streams without end, which httptools holds until it ends, is cut off by its raw bytes: at
  most the limit plus one read);
- headers must arrive within ``header_timeout`` seconds (408 + close) and the body within
  ``body_timeout`` seconds of the headers (the connection is closed; the handler sees a
  disconnect, logged as 499);
- above ``max_connections`` open connections a new one is answered 503 and closed at once, so
  fds stay bounded and the client is told rather than reset;
- bytes that are no HTTP request, after complete requests on the same connection (pipelined, or
  in the same packet), are answered 400 only *after* those requests' answers: uvicorn writes the
  400 and closes at once, so a request it had already started was executed (its issue created,
  201 in the access log) while the client read only the 400. A request whose own bytes are broken
  (say its chunked body) never completed, so nothing acted on it: it gets the 400 right away.

The keep-alive idle timeout is uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from issue_core.server.limits import ConnectionLimits


class _TooLarge(Exception):
    """Aborts parsing a request whose head exceeds the limit."""


def _plain_response(status: int, reason: str, message: str) -> bytes:
    body = message.encode("ascii")
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode("ascii") + body


def bounded_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` enforcing ``limits``."""

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        _head_bytes = 0
        _in_head = False  # between a request's first byte and the end of its headers
        _began = False  # a request began during the current data_received
        _streamed_head = 0  # raw bytes of chunks that arrived wholly inside one request's head
        _timer: asyncio.TimerHandle | None = None
        _running: Any = None  # the cycle whose handler runs (uvicorn keeps only the newest)
        _deferred_400: str | None = None  # a parse error answered once earlier answers are out

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                message = "too many connections; retry shortly"
                transport.write(_plain_response(503, "Service Unavailable", message))
                transport.close()
                return
            # A client that connects and sends nothing is held no longer than the header timeout.
            self._arm(limits.header_timeout, self._header_timed_out)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            if self.transport.is_closing():  # after our own 414/431, or already answered
                return
            broken: Any = self.cycle
            if broken is not None and broken.more_body and not broken.response_complete:
                # The error is in this request's own bytes: it never completed, and its handler
                # (waiting for the body) sees the disconnect. One queued behind others is dropped.
                if any(queued is broken for queued, _ in self.pipeline):
                    self.pipeline = type(self.pipeline)(
                        (cycle, app) for cycle, app in self.pipeline if cycle is not broken
                    )
            else:
                broken = None
            running = self._running
            owed = bool(self.pipeline) or (
                running is not None and running is not broken and not running.response_complete
            )
            if owed:
                self._deferred_400 = msg
                self.flow.pause_reading()
                return
            super().send_400_response(msg)

        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            self._running = cycle
            super()._start_asgi_task(cycle, app)

        def on_response_complete(self) -> None:
            super().on_response_complete()  # starts the next pipelined request, if any
            running = self._running
            if (
                self._deferred_400 is not None
                and not self.pipeline
                and (running is None or running.response_complete)
            ):
                msg, self._deferred_400 = self._deferred_400, None
                if not self.transport.is_closing():
                    super().send_400_response(msg)

        def data_received(self, data: bytes) -> None:
            self._began = False
            super().data_received(data)
            if not self._in_head or self.transport.is_closing():
                return
            # httptools keeps a header's name and value to itself (``bytes +=``, quadratic) until
            # the header ends, so ``on_header`` never sees one that streams without end: count
            # the raw bytes of every chunk that fell wholly inside this head instead. (The chunk
            # in which the request began is not counted: it may hold an earlier request's end.)
            if not self._began:
                self._streamed_head += len(data)
                if self._streamed_head > limits.header_limit:
                    what = f"headers too large: more than {limits.header_limit} bytes"
                    self._refuse(431, "Request Header Fields Too Large", what)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0
            self._streamed_head = 0
            self._in_head = self._began = True
            self._arm(limits.header_timeout, self._header_timed_out)

        def on_url(self, url: bytes) -> None:
            self._count(len(url), 414, "URI Too Long", "request line too long")
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(
                len(name) + len(value) + 4,
                431,
                "Request Header Fields Too Large",
                "headers too large",
            )
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._arm(limits.body_timeout, self._body_timed_out)
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        # ------------------------------------------------------------------ helpers

        def _count(self, size: int, status: int, reason: str, what: str) -> None:
            self._head_bytes += size
            if self._head_bytes > limits.header_limit:
                self._refuse(status, reason, f"{what}: more than {limits.header_limit} bytes")
                # Stops the parser: httptools re-raises it from feed_data as a parser error,
                # which uvicorn answers with a 400 unless the transport is closing (above).
                raise _TooLarge(what)

        def _refuse(self, status: int, reason: str, message: str) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(_plain_response(status, reason, message))
                self.transport.close()

        def _arm(self, delay: float, callback: Any) -> None:
            self._disarm()
            self._timer = self.loop.call_later(delay, callback)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _header_timed_out(self) -> None:
            self._timer = None
            if self.cycle is None or self.cycle.response_complete:
                self._refuse(408, "Request Timeout", "request headers not received in time")

        def _body_timed_out(self) -> None:
            self._timer = None
            cycle = self.cycle
            if cycle is not None and cycle.more_body and not cycle.response_complete:
                self.transport.close()  # the handler sees a disconnect (logged as 499)

    return BoundedHttpToolsProtocol
