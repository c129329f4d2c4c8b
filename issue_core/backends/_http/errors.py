"""Map HTTP failures to issue-core's typed errors: one line each, secrets masked.

Every message names the host (or the method and path) so a user can tell *which* server failed
and why, without a traceback.
"""

from __future__ import annotations

import json
import re
import ssl
from typing import TYPE_CHECKING, Any

from issue_core.backends._http.redact import Redactor, one_line
from issue_core.core.errors import (
    AuthError,
    BackendUnavailable,
    ConfigError,
    Conflict,
    IssueCoreError,
    NotFound,
    PermissionDenied,
    UsageError,
    ValidationError,
)

if TYPE_CHECKING:
    import httpx


class AmbiguousWrite(BackendUnavailable):
    """A non-idempotent request failed after it may have reached the server.

    The write may or may not have happened: the caller must look for it before sending again
    (``HttpClient.create_once`` does that). ``settled`` is true when the server answered with
    a status of its own (500, 503): it had finished with the request, so a look-up that finds
    nothing proves it was not applied. After a timeout, a dropped connection or a gateway's
    502/504 the server may still apply it later.
    """

    code = "unavailable"
    settled = False


def host_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or url


def server_message(response: httpx.Response, redactor: Redactor) -> str:
    """The server's own explanation (``message``/``error``/``errors``), else a short body."""
    text = response.text or ""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    parts: list[str] = []
    if isinstance(data, dict):
        for key in ("message", "error", "error_description"):
            value = data.get(key)
            if isinstance(value, str) and value:
                parts.append(value)
            elif isinstance(value, list | dict) and value:
                parts.append(json.dumps(value, ensure_ascii=False))
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts.append("; ".join(_describe_error_item(item) for item in errors[:5]))
    elif _looks_like_html(response):
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", text)
        parts.append(f"HTML page{': ' + title.group(1).strip() if title else ''}")
    elif text:
        parts.append(text)
    return redactor.text(one_line(" - ".join(p for p in parts if p), 200))


def _describe_error_item(item: Any) -> str:
    if isinstance(item, dict):
        described = item.get("message") or " ".join(
            str(item[k]) for k in ("resource", "field", "code") if item.get(k)
        )
        return str(described)
    return str(item)


def _looks_like_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    return "html" in ctype or response.text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def bearer_error(response: httpx.Response) -> tuple[str, str]:
    """``(error, scope)`` of an OAuth 2.0 bearer-token refusal (RFC 6750), from the JSON body
    GitLab sends (``{"error": "insufficient_scope", "scope": "api"}``) or the
    ``WWW-Authenticate`` header; empty strings when the answer is not one."""
    try:
        data = json.loads(response.text or "null")
    except ValueError:
        data = None
    error = scope = ""
    if isinstance(data, dict):
        error = str(data.get("error") or "") if isinstance(data.get("error"), str) else ""
        scope = str(data.get("scope") or "") if isinstance(data.get("scope"), str) else ""
    header = response.headers.get("www-authenticate", "")
    if not error:
        found = re.search(r'error="([^"]*)"', header)
        error = found.group(1) if found else ""
    if not scope:
        found = re.search(r'scope="([^"]*)"', header)
        scope = found.group(1) if found else ""
    return error, scope


def content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip() or "no content type"


def error_for_status(
    response: httpx.Response,
    *,
    method: str,
    path: str,
    redactor: Redactor,
    auth_hint: str | None = None,
) -> IssueCoreError:
    """The typed error for a 4xx/5xx response (rate limits are handled before this)."""
    status = response.status_code
    message = server_message(response, redactor)
    where = f"{method} {redactor.text(path)}"
    detail = f": {message}" if message else ""
    html_hint = (
        "the server answered with an HTML page: is the URL the API's base URL?"
        if _looks_like_html(response)
        else None
    )
    if status in (301, 302, 303, 307, 308):
        target = redactor.text(response.headers.get("location", "another address"))
        return ConfigError(
            f"{host_of(str(response.url))} redirected {where} to {target}",
            hint="set the backend URL to where the server redirects (https:// or another path); "
            "redirects are not followed so the token never goes elsewhere",
        )
    error, scope = bearer_error(response) if status in (401, 403) else ("", "")
    if error == "insufficient_scope":
        # The token is valid but was made without the scope this call needs: name it.
        needed = f"the {scope!r} scope" if scope else "a scope this call needs"
        return PermissionDenied(
            f"the token lacks {needed} (HTTP {status}) for {where}",
            hint=f"create a token with {needed}" + (f"; {auth_hint}" if auth_hint else ""),
        )
    if status == 401 and error == "invalid_token":
        return AuthError(
            f"the token was refused as invalid (expired or revoked) for {where}{detail}",
            hint="create a new token" + (f"; {auth_hint}" if auth_hint else ""),
        )
    if status == 401:
        return AuthError(
            f"authentication failed (HTTP 401) for {where}{detail}",
            hint=auth_hint or "check the access token",
        )
    if status == 403:
        return PermissionDenied(
            f"permission denied (HTTP 403) for {where}{detail}",
            hint="the token's user lacks access to this resource or the token lacks a scope",
        )
    if status == 404:
        return NotFound(f"not found (HTTP 404): {where}{detail}", hint=html_hint)
    if status in (409, 412, 423):
        reason = {409: "conflict", 412: "precondition failed", 423: "locked"}[status]
        return Conflict(f"{reason} (HTTP {status}) for {where}{detail}")
    if status == 422:
        return ValidationError(f"the server rejected {where} (HTTP 422){detail}")
    if status == 400:
        return ValidationError(f"bad request (HTTP 400) for {where}{detail}")
    if status >= 500:
        return BackendUnavailable(
            f"server error (HTTP {status}) from {host_of(str(response.url))} for {where}{detail}",
            hint="the server failed; try again later",
        )
    return UsageError(f"unexpected HTTP {status} for {where}{detail}", hint=html_hint)


def error_for_transport(
    exc: Exception, *, url: str, read_timeout: float, redactor: Redactor
) -> BackendUnavailable:
    """Connection refused, DNS, TLS and timeouts, in words a user can act on."""
    import httpx

    host = host_of(url)
    reason = redactor.text(one_line(_root_reason(exc), 160))
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ConnectTimeout):
            return BackendUnavailable(
                f"connecting to {host} timed out",
                hint="check the URL and your network, or raise connect_timeout",
            )
        if isinstance(exc, httpx.PoolTimeout):
            return BackendUnavailable(f"no free connection to {host} (pool timed out)")
        return BackendUnavailable(
            f"request to {host} timed out after {read_timeout:g}s",
            hint="the server is slow or stuck; try again or raise the backend's 'timeout'",
        )
    if _is_tls_error(exc):
        return BackendUnavailable(
            f"TLS error talking to {host}: {reason}",
            hint="check the URL's scheme (http/https) and the server's certificate "
            "(set ca_bundle for a private CA)",
        )
    if isinstance(exc, httpx.ConnectError):
        lowered = reason.lower()
        if any(
            word in lowered
            for word in (
                "name or service",
                "nodename",
                "getaddrinfo",
                "name resolution",
                "no address",
            )
        ):
            return BackendUnavailable(
                f"cannot resolve host {host}: {reason}", hint="check the backend URL"
            )
        if "refused" in lowered:
            return BackendUnavailable(
                f"cannot connect to {host}: connection refused",
                hint="is the server running and the URL's port right?",
            )
        return BackendUnavailable(f"cannot connect to {host}: {reason}")
    return BackendUnavailable(f"connection to {host} failed: {reason}")


def _root_reason(exc: BaseException) -> str:
    seen: set[int] = set()
    current: BaseException | None = exc
    last_text = str(exc) or type(exc).__name__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if text:
            last_text = text
        current = current.__cause__ or current.__context__
    return last_text


def _is_tls_error(exc: BaseException) -> bool:
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return True
        text = str(current).upper()
        if "SSL" in text or "CERTIFICATE" in text or "TLS" in text:
            return True
        current = current.__cause__ or current.__context__
    return False
