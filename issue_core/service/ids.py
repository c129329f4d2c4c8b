"""Tracking and request ids: 128 random bits, as 32 hex digits (like a uuid4's hex).

Unguessable, so holding a key does not let a client walk ``/issues/ingest/{id}``. The random
bytes are read from ``os.urandom`` in batches rather than once per id: each ``urandom`` call
releases the GIL, and on the event loop that hands it to the server's other threads in the
middle of a request. Nothing relies on ids being ordered (rows are ordered by their timestamps).
"""

from __future__ import annotations

import os
import threading

_BATCH = 256  # ids per os.urandom call
_ID_BYTES = 16
_lock = threading.Lock()
_pool: list[str] = []


def new_id() -> str:
    with _lock:
        if not _pool:
            raw = os.urandom(_BATCH * _ID_BYTES).hex()
            width = _ID_BYTES * 2
            _pool.extend(raw[i : i + width] for i in range(0, len(raw), width))
        return _pool.pop()
