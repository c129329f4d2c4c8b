"""Creates whose answer was lost, remembered so that running the same create again finds them.

A create that timed out (or lost its connection) may still be applied by the server after the
client gave up, too late for the look-up made right away. The create token of such a create is
kept here, under a hash of the server, repository and request: the next identical create reuses
the token, looks for it first and returns what the first attempt made instead of a second copy.
Entries hold the token and a time only, expire with the recovery window, and go once resolved.
``kind`` (the backend type) names the folder: ``<cache>/../<kind>-pending/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from issue_core.backends._http.files import write_private

PENDING_TTL_SECONDS = 3600.0


def request_key(where: str, payload: dict[str, Any]) -> str:
    text = json.dumps({"where": where, "payload": payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _path(kind: str, key: str) -> Path:
    from issue_core.backends._http.cache import default_cache_dir

    return default_cache_dir().parent / f"{kind}-pending" / f"{key}.json"


def load(kind: str, key: str, *, now: float | None = None) -> tuple[str, float] | None:
    """``(token, started)`` of an unresolved create with this key, if recent."""
    try:
        data = json.loads(_path(kind, key).read_text(encoding="utf-8"))
        token, started = str(data["token"]), float(data["started"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    age = (time.time() if now is None else now) - started
    return (token, started) if 0 <= age <= PENDING_TTL_SECONDS else None


def remember(kind: str, key: str, token: str, started: float) -> None:
    path = _path(kind, key)
    with contextlib.suppress(OSError):  # without the disk, a rerun simply cannot find it
        write_private(path, json.dumps({"token": token, "started": started}))


def forget(kind: str, key: str) -> None:
    with contextlib.suppress(OSError):
        _path(kind, key).unlink()
