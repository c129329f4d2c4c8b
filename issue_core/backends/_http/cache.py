"""A small on-disk cache for conditional GETs (ETag / Last-Modified).

Re-reading an unchanged list then costs a 304 with no body, and many servers (GitHub) do not
count 304s against the rate limit. Entries live under ``$ISSUE_CORE_CACHE_DIR`` or
``$XDG_CACHE_HOME/issue-core/http/`` (``~/.cache/...``), one folder per token fingerprint and one
file per URL, both named by hashes: users of one machine never read each other's responses, and
neither URLs nor tokens appear in file names. Files are mode 0600 and hold only the body and a
short allow-list of response headers -- never a request header, so never a credential.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issue_core.backends._http.files import write_private

# Response headers a cached answer needs to be used like a fresh one (pagination, type).
KEPT_HEADERS = (
    "content-type",
    "etag",
    "last-modified",
    "link",
    "x-total-count",
    "x-total",
    "x-total-pages",
    "x-next-page",
    "x-page",
    "x-per-page",
)


def default_cache_dir() -> Path:
    from issue_core.core.config import user_cache_dir

    return Path(user_cache_dir()) / "http"


def token_fingerprint(token: str | None) -> str:
    return hashlib.sha256(("issue-core-cache:" + (token or "")).encode()).hexdigest()[:32]


@dataclass
class CachedResponse:
    url: str
    headers: dict[str, str]
    body: str

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def conditional_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class ResponseCache:
    """Bounded: past ``max_entries`` files or ``max_bytes``, the least recently used go."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        token: str | None = None,
        max_entries: int = 512,
        max_bytes: int = 32 * 1024 * 1024,
        max_entry_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.root = directory or default_cache_dir()
        self.directory = self.root / token_fingerprint(token)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._lock = threading.Lock()
        self._disabled = False

    def _path(self, url: str) -> Path:
        return self.directory / (hashlib.sha256(url.encode()).hexdigest()[:40] + ".json")

    def get(self, url: str) -> CachedResponse | None:
        if self._disabled:
            return None
        path = self._path(url)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("url") != url:
            return None  # a hash collision or a damaged file: treat as a miss
        with contextlib.suppress(OSError):
            os.utime(path)  # mark as recently used for eviction
        headers = data.get("headers")
        body = data.get("body")
        if not isinstance(headers, dict) or not isinstance(body, str):
            return None
        return CachedResponse(
            url=url, headers={str(k): str(v) for k, v in headers.items()}, body=body
        )

    def put(self, url: str, headers: Any, body: str) -> None:
        """Store a 200 response that carries a validator (ETag or Last-Modified)."""
        if self._disabled or len(body) > self.max_entry_bytes:
            return
        kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name) is not None}
        if "etag" not in kept and "last-modified" not in kept:
            return
        payload = json.dumps({"url": url, "headers": kept, "body": body}, ensure_ascii=False)
        path = self._path(url)
        try:
            write_private(path, payload)
        except OSError:
            # A read-only or full disk must never break a command: run without the cache.
            self._disabled = True
            return
        self._evict()

    def remove(self, url: str) -> None:
        with contextlib.suppress(OSError):
            self._path(url).unlink()

    def _evict(self) -> None:
        with self._lock:
            try:
                entries = [
                    (entry.stat().st_mtime, entry.stat().st_size, entry.path)
                    for entry in os.scandir(self.directory)
                    if entry.name.endswith(".json")
                ]
            except OSError:
                return
            total = sum(size for _, size, _ in entries)
            if len(entries) <= self.max_entries and total <= self.max_bytes:
                return
            entries.sort()  # oldest use first
            while entries and (len(entries) > self.max_entries or total > self.max_bytes):
                _, size, path = entries.pop(0)
                with contextlib.suppress(OSError):
                    os.unlink(path)
                total -= size
