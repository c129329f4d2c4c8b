"""Gitea's ``/settings/api`` answer, remembered per server for a day in the user cache dir.

Every command that lists labels or milestones, or more than one page of issues, needs the
server's largest page size; reading it once a day instead of once a command saves a request
each time. The file is named by a hash of the API URL and holds only numbers and a time:
never a token, a URL or anything else a reader could use.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path

from issue_core.backends._http.files import write_private

SETTINGS_TTL_SECONDS = 24 * 3600


def _path(base_url: str) -> Path:
    from issue_core.backends._http.cache import default_cache_dir

    name = hashlib.sha256(("gitea-settings:" + base_url).encode()).hexdigest()[:32]
    return default_cache_dir().parent / "gitea-settings" / f"{name}.json"


def load_max_page_size(base_url: str, *, now: float | None = None) -> int | None:
    """The remembered ``max_response_items``, unless missing, damaged or older than a day."""
    try:
        data = json.loads(_path(base_url).read_text(encoding="utf-8"))
        fetched = float(data["fetched_at"])
        value = int(data["max_response_items"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    age = (time.time() if now is None else now) - fetched
    return value if 0 <= age <= SETTINGS_TTL_SECONDS and value > 0 else None


def store_max_page_size(base_url: str, value: int, *, now: float | None = None) -> None:
    path = _path(base_url)
    payload = json.dumps(
        {"fetched_at": time.time() if now is None else now, "max_response_items": value}
    )
    # A read-only or full disk only costs the request next time.
    with contextlib.suppress(OSError):
        write_private(path, payload)
