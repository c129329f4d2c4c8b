"""A server on 127.0.0.1 that accepts connections and never answers them (a hung forge, or a
proxy in front of one): for tests that a client's request budget bounds a call to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SilentServer:
    port: int
    held: list[socket.socket] = field(default_factory=list)  # every connection it accepted

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.1)
        server = SilentServer(listener.getsockname()[1])

        def take() -> None:
            while not stop.is_set():
                try:
                    server.held.append(listener.accept()[0])
                except OSError:
                    continue

        taker = threading.Thread(target=take, daemon=True)
        taker.start()
        try:
            yield server
        finally:
            stop.set()
            taker.join(timeout=2)
            for connection in server.held:
                connection.close()
