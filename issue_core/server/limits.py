"""Per-connection limits of ``issue serve`` (enforced in ``http_protocol.py``).

Kept apart from the protocol so settings and the CLI can name them without importing uvicorn.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HEADER_LIMIT = 64 * 1024  # request line + all headers, bytes
DEFAULT_HEADER_TIMEOUT = 10.0  # seconds from the first byte of a request to the end of its headers
DEFAULT_BODY_TIMEOUT = 30.0  # seconds from the end of the headers to the end of the body
DEFAULT_KEEP_ALIVE = 5.0  # seconds an idle keep-alive connection is kept
DEFAULT_MAX_CONNECTIONS = 1000  # open connections; above it a new one gets 503 + close


@dataclass(frozen=True)
class ConnectionLimits:
    header_limit: int = DEFAULT_HEADER_LIMIT
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    keep_alive: float = DEFAULT_KEEP_ALIVE
    max_connections: int = DEFAULT_MAX_CONNECTIONS
