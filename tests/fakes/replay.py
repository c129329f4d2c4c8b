"""Serve recorded real Gitea responses from a local ASGI app, and note what was asked.

A request is answered from the recording with the same method and path whose query matches,
once parameters the API description does not declare for that operation are ignored (Gitea
ignores them too: its own migration client sent ``limit``/``page`` to the unpaged comments
endpoint). ``https://gitea.com`` in bodies and ``Link`` headers becomes the replay server's URL.
Anything not recorded is a 404 and is listed in ``unmatched``.

``derived`` responses are built from recorded ones (for example one issue from the recorded
list, or the list cut into smaller pages); each is registered explicitly by the test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.contracts import GiteaContract
from tests.fakes.recorded import LIVE_BASE_URL, RecordedExchange, rewrite_live_urls

JSON_TYPE = "application/json;charset=utf-8"
# Headers the recording has but that a local server must compute itself.
_DROPPED = {"content-length", "alt-svc"}


@dataclass
class Canned:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    source: str


class ReplayApp:
    """``contract`` tells which query parameters an operation declares (the others are ignored
    in matching, as Gitea ignores them); without one (GitLab has no API description here) every
    parameter is compared except those named in ``ignored``, each a parameter the test states
    the server ignores or defaults. ``live_base_url`` is the recorded host."""

    def __init__(
        self,
        contract: GiteaContract | None,
        *,
        live_base_url: str = LIVE_BASE_URL,
        ignored: Iterable[str] = (),
    ) -> None:
        self.contract = contract
        self.live_base_url = live_base_url
        self.ignored = frozenset(ignored)
        self.base_url = "http://127.0.0.1"
        self.canned: list[Canned] = []
        self.served: list[tuple[str, str, str]] = []  # (method, path, source file)
        self.unmatched: list[str] = []
        self._lock = threading.Lock()

    # -- what to serve ---------------------------------------------------------------------

    def add_recorded(self, exchanges: Iterable[RecordedExchange]) -> None:
        for ex in exchanges:
            headers = tuple((k, v) for k, v in ex.headers if k.lower() not in _DROPPED)
            self.canned.append(
                Canned(ex.method, ex.path, tuple(ex.query), 200, headers, ex.body, ex.file_name)
            )

    def add_derived(
        self,
        method: str,
        target: str,
        body: Any,
        *,
        headers: Iterable[tuple[str, str]] = (),
        status: int = 200,
        source: str,
        content_type: str = JSON_TYPE,
    ) -> None:
        """``body`` is sent as JSON, or as it is when it is ``bytes`` (an HTML page, JSON cut
        short: what a broken server or proxy sends)."""
        path, _, query = target.partition("?")
        raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        all_headers = (("Content-Type", content_type), *headers)
        self.canned.append(
            Canned(
                method,
                path,
                tuple(parse_qsl(query)),
                status,
                all_headers,
                raw,
                f"derived: {source}",
            )
        )

    # -- matching --------------------------------------------------------------------------

    def _declared_query(self, method: str, path: str) -> set[str] | None:
        if self.contract is None:
            return None
        op, _, _ = self.contract.find(method, path)
        return None if op is None else set(op.parameters("query"))

    def _comparable(
        self, method: str, path: str, pairs: Iterable[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        declared = self._declared_query(method, path)
        return sorted(
            p for p in pairs if (declared is None or p[0] in declared) and p[0] not in self.ignored
        )

    def find(self, method: str, path: str, query: list[tuple[str, str]]) -> Canned | None:
        wanted = self._comparable(method, path, query)
        for canned in self.canned:
            same_target = canned.method == method and canned.path == path
            if same_target and self._comparable(method, path, canned.query) == wanted:
                return canned
        return None

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        # The path as sent: GitLab addresses a project by its URL-encoded path in one segment
        # (``gitea%2Ftest_repo``), which the decoded ``path`` would hide.
        raw_path = scope.get("raw_path") or scope["path"].encode()
        method, path = scope["method"], raw_path.decode("latin-1").partition("?")[0]
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        canned = self.find(method, path, query)
        if canned is None:
            with self._lock:
                target = path + (
                    "?" + scope["query_string"].decode() if scope["query_string"] else ""
                )
                self.unmatched.append(f"{method} {target}")
            body = json.dumps(
                {"errors": None, "message": "not recorded", "url": self.base_url}
            ).encode()
            await _respond(send, 404, [("Content-Type", JSON_TYPE)], body)
            return
        with self._lock:
            self.served.append((method, path, canned.source))
        live = self.live_base_url
        body = rewrite_live_urls(canned.body.decode("utf-8"), self.base_url, live).encode()
        headers = [(k, rewrite_live_urls(v, self.base_url, live)) for k, v in canned.headers]
        await _respond(send, canned.status, headers, body)


async def _respond(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
