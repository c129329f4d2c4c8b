"""``HttpClient``: the one HTTP layer every remote backend uses.

It adds to httpx what a forge client needs and nothing else: token auth (the header scheme is
the backend's choice), explicit timeouts, a ``User-Agent``, retries with backoff for idempotent
requests only, rate-limit handling, conditional GETs from a small disk cache, paging, typed
one-line errors, ``--debug`` logging with secrets masked, and request counters.

The public surface (kept stable for the Gitea, GitHub and GitLab backends)::

    client = HttpClient("https://gitea.example.com/api/v1", token=t, auth_scheme="token")
    client.get("/repos/o/r/issues/1").data         # ApiResponse(status, headers, data, url, ...)
    client.post("/repos/o/r/issues", json={...})   # never retried once it may have been sent
    client.patch(path, json=..., idempotent=True)  # a PATCH of absolute values may be retried
    client.create_once(path, json=..., find_existing=lambda: ...)  # POST without duplicates
    list(client.paginate("/repos/o/r/issues", params={...}, page_size=50))
    list(client.paginate_links("/projects/1/issues", params={"pagination": "keyset"}))
    client.stats.requests; client.rate_limiter.remaining; client.close()
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from issue_core._version import __version__
from issue_core.backends._http.cache import KEPT_HEADERS, ResponseCache
from issue_core.backends._http.errors import (
    AmbiguousWrite,
    content_type,
    error_for_status,
    error_for_transport,
    host_of,
)
from issue_core.backends._http.pacing import WritePacer
from issue_core.backends._http.pagination import (
    GITEA_PAGES,
    PageStyle,
    follow_next_links,
    paginate,
    paginate_stable,
)
from issue_core.backends._http.ratelimit import RateLimiter, RateLimitPolicy, is_rate_limited
from issue_core.backends._http.redact import Redactor, one_line
from issue_core.backends._http.retry import RETRYABLE_STATUSES, RetryPolicy, is_idempotent
from issue_core.core.errors import BackendUnavailable, ConfigError, IssueCoreError, RateLimited

logger = logging.getLogger("issue_core.http")

USER_AGENT = f"issue-core/{__version__}"
# A server answering 429 with "Retry-After: 0" forever must not loop forever.
MAX_RATE_LIMITED_ROUNDS = 5
# Redirects followed for one request (a renamed repository is one hop).
MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)


class AuthScheme(StrEnum):
    """How the token travels: Gitea ``token``, GitHub ``bearer``, GitLab ``private-token``."""

    TOKEN = "token"  # Authorization: token X
    BEARER = "bearer"  # Authorization: Bearer X
    PRIVATE_TOKEN = "private-token"  # PRIVATE-TOKEN: X
    NONE = "none"

    def headers(self, token: str | None) -> dict[str, str]:
        if not token or self is AuthScheme.NONE:
            return {}
        if self is AuthScheme.TOKEN:
            return {"Authorization": f"token {token}"}
        if self is AuthScheme.BEARER:
            return {"Authorization": f"Bearer {token}"}
        return {"PRIVATE-TOKEN": token}


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``read`` bounds each wait for data; ``connect`` the TCP+TLS handshake;
    ``total`` (when set) bounds one request with all its retries and waits between them, so a
    hung server costs ``total`` seconds, not attempts x read timeout."""

    connect: float = 10.0
    read: float = 30.0
    total: float | None = None

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.read, pool=self.read)

    def within(self, remaining: float) -> dict[str, float]:
        """httpx's per-request timeout extension, cut to what is left of the budget."""
        read = max(0.001, min(self.read, remaining))
        connect = max(0.001, min(self.connect, remaining))
        return {"connect": connect, "read": read, "write": read, "pool": read}


@dataclass
class RequestStats:
    """Counters for benchmarks and tests (thread-safe)."""

    requests: int = 0  # HTTP exchanges actually sent, retries included
    retries: int = 0
    not_modified: int = 0  # 304s answered from the disk cache
    rate_limit_waits: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_request(self, method: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def reset(self) -> None:
        with self._lock:
            self.requests = self.retries = self.not_modified = self.rate_limit_waits = 0
            self.by_method = {}


@dataclass
class ApiResponse:
    status: int
    headers: httpx.Headers
    data: Any  # decoded JSON (None for an empty body)
    url: str
    from_cache: bool = False  # a 304 answered from the disk cache


class HttpClient:
    """A JSON-over-HTTP client for one API base URL and one token."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        auth_scheme: AuthScheme | str = AuthScheme.TOKEN,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimitPolicy | None = None,
        cache: ResponseCache | None = None,
        auth_hint: str | None = None,
        verify: bool | str = True,  # a str names a CA bundle file
        headers: Mapping[str, str] | None = None,
        page_style: PageStyle = GITEA_PAGES,
        page_concurrency: int = 4,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        write_pacer: WritePacer | None = None,
        refine_error: Callable[[httpx.Response, IssueCoreError], IssueCoreError] | None = None,
        on_redirect: Callable[[str, str, str], None] | None = None,
    ) -> None:
        """``write_pacer`` paces creating requests (POST); ``refine_error`` lets a backend say
        more about a failed response from its headers (which scope is missing);
        ``on_redirect(method, from_url, to_url)``, when given, makes redirects within the
        configured origin followed (never to another host) and is told of each."""
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"invalid URL {base_url!r}", hint="use http:// or https:// and a host name"
            )
        self.base_url = base_url.strip().rstrip("/")
        self._origin = (parts.scheme, parts.netloc)
        self.host = host_of(self.base_url)
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.cache = cache
        self.auth_hint = auth_hint
        self.page_style = page_style
        self.page_concurrency = max(1, page_concurrency)
        self.stats = RequestStats()
        self.redactor = Redactor([token])
        self.write_pacer = write_pacer
        self._refine_error = refine_error
        self._on_redirect = on_redirect
        self._sleep = sleep
        self._date_watches: list[list[datetime]] = []
        self.rate_limiter = RateLimiter(
            rate_limit, sleep=self._counted_sleep, clock=clock, host=self.host
        )
        default_headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **AuthScheme(auth_scheme).headers(token),
            **dict(headers or {}),
        }
        tls: bool | ssl.SSLContext = _tls_context(verify) if isinstance(verify, str) else verify
        if self.base_url.startswith("http://"):
            # No TLS is spoken, and building the default context loads the CA bundle (~35 ms
            # per process); redirects are not followed, so no https request can follow.
            tls = False
        self._http = httpx.Client(
            headers=default_headers,
            timeout=self.timeouts.to_httpx(),
            verify=tls,
            transport=transport,
            follow_redirects=False,  # a redirect could carry the token to another host
            limits=httpx.Limits(max_connections=max(8, self.page_concurrency * 2)),
        )

    # -- lifecycle ------------------------------------------------------------------

    @contextmanager
    def server_dates(self) -> Iterator[list[datetime]]:
        """The ``Date`` of every response received inside the block: the server's own clock,
        so that a cursor taken from it never depends on this machine's."""
        seen: list[datetime] = []
        self._date_watches.append(seen)
        try:
            yield seen
        finally:
            self._date_watches.remove(seen)

    def _note_date(self, value: str | None) -> None:
        from email.utils import parsedate_to_datetime  # only while a block watches

        try:
            moment = parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            return
        if moment is not None and moment.tzinfo is not None:
            for seen in self._date_watches:
                seen.append(moment)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- URLs -------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """An absolute URL on this API. Absolute inputs (``Link`` headers) keep their path and
        query but always go to the configured origin, so the token never leaves for another host.
        """
        if "://" in path:
            parts = urlsplit(path)
            return urlunsplit((*self._origin, parts.path, parts.query, ""))
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- verbs ------------------------------------------------------------------------

    def get(
        self, path: str, *, params: Mapping[str, Any] | None = None, use_cache: bool = True
    ) -> ApiResponse:
        return self.request("GET", path, params=params, use_cache=use_cache)

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.get(path, params=params).data

    def post(self, path: str, *, json: Any = None, idempotent: bool = False) -> ApiResponse:
        return self.request("POST", path, json=json, idempotent=idempotent)

    def put(self, path: str, *, json: Any = None) -> ApiResponse:
        return self.request("PUT", path, json=json)

    def patch(self, path: str, *, json: Any = None, idempotent: bool = False) -> ApiResponse:
        """``idempotent=True`` when the body sets absolute values, so a retry is harmless."""
        return self.request("PATCH", path, json=json, idempotent=idempotent)

    def delete(self, path: str, *, params: Mapping[str, Any] | None = None) -> ApiResponse:
        return self.request("DELETE", path, params=params)

    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int,
        style: PageStyle | None = None,
        concurrency: int | None = None,
        wanted: int | None = None,
        stable_key: Callable[[Any], Any] | None = None,
        first: ApiResponse | None = None,
    ) -> Iterator[Any]:
        """Every item of a list; ``wanted`` bounds the pages read ahead, and ``stable_key``
        (an item's identity) reads a list others write to without duplicates or skips;
        ``first``: page 1, already fetched by the caller."""
        options: dict[str, Any] = {
            "params": params,
            "page_size": page_size,
            "style": style or self.page_style,
            "concurrency": concurrency or self.page_concurrency,
            "wanted": wanted,
            "first": first,
        }
        if stable_key is not None:
            return paginate_stable(self, path, key=stable_key, **options)
        return paginate(self, path, **options)

    def paginate_links(
        self, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Every item of a cursor-paged list (``Link rel="next"`` only, one page after another)."""
        return follow_next_links(self, path, params=params)

    def create_once(
        self,
        path: str,
        *,
        json: Any,
        find_existing: Callable[[], Any | None],
        attempts: int | None = None,
    ) -> Any:
        """POST a create without ever making two.

        A POST that failed before it could reach the server is re-sent by ``request``. One that
        failed ambiguously is looked for first (``find_existing()``: the backend looks for the
        marker it put in the body). It is re-sent only when the failure was ``settled`` (the
        server answered 500/503, so it was done) and nothing was found; after a timeout or a
        lost connection the server may still apply it after the look-up, so the error says the
        POST may have been applied instead. Returns the created object's JSON, or what
        ``find_existing`` found.
        """
        total = attempts or self.retry.attempts
        for attempt in range(1, total + 1):
            try:
                return self.request("POST", path, json=json, idempotent=False).data
            except AmbiguousWrite as error:
                self.stats.count("retries")
                self._sleep(self.retry.delay(attempt))
                try:
                    found = find_existing()
                except IssueCoreError as lookup:
                    raise AmbiguousWrite(
                        f"{error.message}; it may have been applied (looking for it failed: "
                        f"{lookup.message})",
                        hint="run the same command again: it looks for this create first",
                    ) from None
                if found is not None:
                    logger.debug("POST %s had been written; not sending it again", path)
                    return found
                if not error.settled or attempt >= total:
                    raise AmbiguousWrite(
                        f"{error.message}; it may have been applied (not found yet)",
                        hint="run the same command again: it looks for this create first",
                    ) from None
                logger.debug("POST %s was not written; sending it again", path)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the one request path -----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        use_cache: bool = True,
    ) -> ApiResponse:
        method = method.upper()
        safe = is_idempotent(method, flagged_safe=idempotent)
        clean_params = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        request = self._http.build_request(
            method, self.url(path), params=clean_params or None, json=json, headers=headers
        )
        url = str(request.url)
        cached = self.cache.get(url) if (self.cache and use_cache and method == "GET") else None
        if cached is not None:
            request.headers.update(cached.conditional_headers())

        attempt = 0
        limited_rounds = 0
        redirects = 0
        total = self.timeouts.total
        deadline = time.monotonic() + total if total else None

        def time_for(delay: float) -> bool:
            """Whether a retry after ``delay`` seconds still fits in the request's budget."""
            return deadline is None or time.monotonic() + delay < deadline - 0.05

        while True:
            attempt += 1
            self.rate_limiter.before_request()
            if method == "POST" and self.write_pacer is not None:
                self.write_pacer.before_write()
            if deadline is not None:
                request.extensions["timeout"] = self.timeouts.within(deadline - time.monotonic())
            delay = self.retry.delay(attempt)
            response = self._send(
                request,
                method,
                url,
                safe=safe,
                attempt=attempt,
                may_retry=partial(time_for, delay),
            )
            if response is None:  # a transport error that is worth another try
                self.stats.count("retries")
                self._sleep(delay)
                continue
            self.rate_limiter.observe(response.headers)
            if self._date_watches:
                self._note_date(response.headers.get("date"))
            if response.status_code in (403, 429) and is_rate_limited(
                response.status_code, response.headers, _safe_text(response)
            ):
                # A rate-limited request was refused, not processed: retrying is safe for POST too.
                limited_rounds += 1
                if limited_rounds > MAX_RATE_LIMITED_ROUNDS:
                    raise RateLimited(
                        f"still rate limited by {self.host} after {MAX_RATE_LIMITED_ROUNDS} waits",
                        hint="try again later",
                    )
                self.rate_limiter.wait_after_limited(response.headers)
                self.stats.count("retries")
                continue
            target = self._redirect_target(response, method)
            if target is not None and redirects < MAX_REDIRECTS:
                redirects += 1
                assert self._on_redirect is not None
                self._on_redirect(method, url, target)
                request = self._http.build_request(method, target, json=json, headers=headers)
                url = str(request.url)
                cached = (
                    self.cache.get(url) if (self.cache and use_cache and method == "GET") else None
                )
                if cached is not None:
                    request.headers.update(cached.conditional_headers())
                attempt -= 1  # a redirect is not a failed attempt
                continue
            if response.status_code in RETRYABLE_STATUSES:
                if safe and attempt < self.retry.attempts and time_for(delay):
                    self.stats.count("retries")
                    self._sleep(delay)
                    continue
                error = self._status_error(response, method, url, auth_hint=None)
                if not safe:
                    ambiguous = AmbiguousWrite(
                        error.message, hint="the request may have been applied; it was not re-sent"
                    )
                    ambiguous.settled = response.status_code in (500, 503)
                    raise ambiguous
                raise error
            return self._finish(request, response, method, url, cached)

    def _send(
        self,
        request: httpx.Request,
        method: str,
        url: str,
        *,
        safe: bool,
        attempt: int,
        may_retry: Callable[[], bool] = lambda: True,
    ) -> httpx.Response | None:
        started = time.perf_counter()
        self.stats.count_request(method)
        try:
            response = self._http.send(request)
            response.read()
        except httpx.TransportError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            error = error_for_transport(
                exc,
                url=url,
                read_timeout=self.timeouts.total or self.timeouts.read,
                redactor=self.redactor,
            )
            logger.debug(
                "%s %s -> %s (%.1f ms, attempt %d)",
                method,
                self.redactor.text(url),
                error.message,
                elapsed,
                attempt,
            )
            never_sent = isinstance(
                exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
            )
            retryable = not _is_permanent(error) and attempt < self.retry.attempts and may_retry()
            if retryable and (safe or never_sent):
                return None
            if not safe and not never_sent:
                raise AmbiguousWrite(
                    f"{method} {self.redactor.text(_path_of(url))}: {error.message}",
                    hint="the request may have reached the server; it was not re-sent blindly",
                ) from None
            raise error from None
        elapsed = (time.perf_counter() - started) * 1000
        logger.debug(
            "%s %s -> %d (%.1f ms%s)",
            method,
            self.redactor.text(url),
            response.status_code,
            elapsed,
            f", attempt {attempt}" if attempt > 1 else "",
        )
        return response

    def _finish(
        self,
        request: httpx.Request,
        response: httpx.Response,
        method: str,
        url: str,
        cached: Any,
    ) -> ApiResponse:
        if response.status_code == 304 and cached is not None:
            self.stats.count("not_modified")
            headers = httpx.Headers(cached.headers)
            # The 304's own paging headers win: an ETag covers the body only (Rack::ETag on
            # GitLab), so a page that did not change can stand in a list that grew, and its
            # cached X-Total / X-Next-Page / Link would end the listing early.
            fresh = ("x-ratelimit", "ratelimit", *(h for h in KEPT_HEADERS if h != "content-type"))
            headers.update(
                {k: v for k, v in response.headers.items() if k.lower().startswith(fresh)}
            )
            data = self._decode_text(cached.body, "application/json", method, url)
            return ApiResponse(304, headers, data, url, from_cache=True)
        if response.status_code >= 300:
            if response.status_code == 304 and self.cache is not None:
                self.cache.remove(url)
            raise self._status_error(response, method, url, auth_hint=self.auth_hint)
        data = self._decode(response, method, url)
        if self.cache is not None and method == "GET" and response.status_code == 200:
            self.cache.put(url, response.headers, response.text)
        return ApiResponse(response.status_code, response.headers, data, url)

    def _status_error(
        self, response: httpx.Response, method: str, url: str, *, auth_hint: str | None
    ) -> IssueCoreError:
        error = error_for_status(
            response,
            method=method,
            path=_path_of(url),
            redactor=self.redactor,
            auth_hint=auth_hint,
        )
        return self._refine_error(response, error) if self._refine_error else error

    def _redirect_target(self, response: httpx.Response, method: str) -> str | None:
        """Where to follow a redirect, or None: only when the backend asked, only within the
        configured origin (the token never leaves it), and a write only where the status
        keeps the method and body (307/308: the server did not process it)."""
        if self._on_redirect is None or response.status_code not in REDIRECTS:
            return None
        location = response.headers.get("location")
        if not location:
            return None
        target = response.url.join(location)
        if (target.scheme, target.netloc.decode("ascii", "replace")) != self._origin:
            return None
        if method not in ("GET", "HEAD") and response.status_code not in (307, 308):
            return None
        return str(target)

    def _decode(self, response: httpx.Response, method: str, url: str) -> Any:
        if response.status_code == 204 or not response.content.strip():
            return None
        return self._decode_text(_safe_text(response), content_type(response), method, url)

    def _decode_text(self, text: str, ctype: str, method: str, url: str) -> Any:
        import json

        where = f"{method} {self.redactor.text(_path_of(url))} on {self.host}"
        looks_json = text.lstrip()[:1] in ("{", "[", '"') or text.strip() in (
            "null",
            "true",
            "false",
        )
        if "json" not in ctype.lower() and not looks_json:
            snippet = self.redactor.text(one_line(text, 80))
            raise BackendUnavailable(
                f"server returned non-JSON ({ctype}) for {where}: {snippet}",
                hint="is the URL the API's base URL (not a web page or a proxy's login page)?",
            )
        try:
            return json.loads(text)
        except ValueError as exc:
            raise BackendUnavailable(
                f"server returned malformed JSON ({ctype}) for {where}: {one_line(str(exc), 80)}"
            ) from None

    def _counted_sleep(self, seconds: float) -> None:
        self.stats.count("rate_limit_waits")
        logger.debug("rate limit: waiting %.1fs", seconds)
        self._sleep(seconds)


def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use CA bundle {ca_bundle!r}: {exc}") from None


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _safe_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError):
        return response.content.decode("utf-8", "replace")


def _is_permanent(error: IssueCoreError) -> bool:
    """TLS and DNS failures do not heal in a second: retrying them only delays the error."""
    text = error.message
    return text.startswith(("TLS error", "cannot resolve host"))
