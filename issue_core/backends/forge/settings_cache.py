"""Numbers a forge server announces about itself, remembered per server for a day in the user
cache dir (Gitea's ``/settings/api`` ``max_response_items``, its largest page size).

Every command that lists labels or milestones, or more than one page of issues, needs the
server's largest page size; reading it once a day instead of once a command saves a request
each time. The file is named by a hash of the backend type and API URL and holds only numbers
and a time: never a token, a URL or anything else a reader could use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from issue_core.backends._http.files import write_private

SETTINGS_TTL_SECONDS = 24 * 3600


def _path(kind: str, base_url: str) -> Path:
    from issue_core.backends._http.cache import default_cache_dir

    name = hashlib.sha256(f"{kind}-settings:{base_url}".encode()).hexdigest()[:32]
    return default_cache_dir().parent / f"{kind}-settings" / f"{name}.json"


def _read(kind: str, base_url: str, now: float | None) -> dict[str, Any] | None:
    try:
        data = json.loads(_path(kind, base_url).read_text(encoding="utf-8"))
        fetched = float(data["fetched_at"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    age = (time.time() if now is None else now) - fetched
    return data if isinstance(data, dict) and 0 <= age <= SETTINGS_TTL_SECONDS else None


def load_number(kind: str, base_url: str, name: str, *, now: float | None = None) -> int | None:
    """The remembered positive number ``name``, unless missing, damaged or older than a day."""
    data = _read(kind, base_url, now)
    try:
        value = int(data[name]) if data is not None else 0
    except (ValueError, TypeError, KeyError):
        return None
    return value if value > 0 else None


def store_number(
    kind: str, base_url: str, name: str, value: int, *, now: float | None = None
) -> None:
    """Remember ``name`` (numbers already remembered for this server are kept)."""
    data = {k: v for k, v in (_read(kind, base_url, now) or {}).items() if k != "fetched_at"}
    data[name] = int(value)
    payload = json.dumps({"fetched_at": time.time() if now is None else now, **data})
    # A read-only or full disk only costs the request next time.
    with contextlib.suppress(OSError):
        write_private(_path(kind, base_url), payload)
