"""Tracking and request ids: a random per-process prefix and a counter.

32 hex digits, like a uuid4's hex, and unique across processes and restarts, without a system
call per request: ``uuid4`` reads ``os.urandom``, which releases the GIL, and on the event loop
that hands the GIL to the server's other threads in the middle of a request.
"""

from __future__ import annotations

import itertools
import os

_PREFIX = os.urandom(8).hex()
_COUNTER = itertools.count(1)


def new_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):016x}"
