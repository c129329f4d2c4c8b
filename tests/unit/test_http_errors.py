"""Every failure becomes one typed, one-line error that names the host or the request."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from issue_core.backends._http import HttpClient, RetryPolicy, Timeouts
from issue_core.core.errors import (
    AuthError,
    BackendUnavailable,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sign in - Corp SSO</title></head><body>..</body></html>"
)


def fail_with(answer, **kwargs):
    def handler(request):
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = HttpClient(
        "https://gitea.example.com/api/v1",
        token="tkn-abcdef",
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        retry=RetryPolicy(attempts=2, rand=lambda: 0.0),
        auth_hint="check the token in $GITEA_API_TOKEN",
        **kwargs,
    )
    with pytest.raises(Exception) as caught:
        client.get("/repos/o/r/issues")
    error = caught.value
    assert "\n" not in error.one_line()
    return error


def test_connection_refused_names_the_host():
    error = fail_with(httpx.ConnectError("[Errno 111] Connection refused"))
    assert isinstance(error, BackendUnavailable)
    assert error.message == "cannot connect to gitea.example.com: connection refused"


def test_dns_failure_names_the_host():
    error = fail_with(httpx.ConnectError("[Errno -2] Name or service not known"))
    assert isinstance(error, BackendUnavailable)
    assert error.message.startswith("cannot resolve host gitea.example.com")


def test_tls_failure_says_tls():
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
    exc = httpx.ConnectError("handshake failed")
    exc.__cause__ = cause
    error = fail_with(exc)
    assert isinstance(error, BackendUnavailable)
    assert error.message.startswith("TLS error talking to gitea.example.com")
    assert "ca_bundle" in (error.hint or "")


def test_read_timeout_says_how_long():
    error = fail_with(httpx.ReadTimeout("timed out"), timeouts=Timeouts(connect=2, read=7))
    assert isinstance(error, BackendUnavailable)
    assert error.message == "request to gitea.example.com timed out after 7s"


def test_real_refused_connection_on_localhost():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens
    client = HttpClient(
        f"http://127.0.0.1:{port}/api/v1",
        token="x-token",
        retry=RetryPolicy(attempts=1),
        timeouts=Timeouts(connect=2, read=2),
    )
    with pytest.raises(BackendUnavailable) as caught:
        client.get("/version")
    assert f"127.0.0.1:{port}" in caught.value.message


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, AuthError, "authentication failed (HTTP 401)"),
        (403, PermissionDenied, "permission denied (HTTP 403)"),
        (404, NotFound, "not found (HTTP 404): GET /api/v1/repos/o/r/issues"),
        (409, Conflict, "conflict (HTTP 409)"),
        (422, ValidationError, "rejected GET /api/v1/repos/o/r/issues (HTTP 422)"),
    ],
)
def test_status_codes_map_to_typed_errors_with_the_servers_message(status, kind, words):
    error = fail_with(httpx.Response(status, json={"message": "the server says\nwhy", "url": "u"}))
    assert type(error) is kind
    assert words in error.message
    assert "the server says why" in error.one_line()


def test_401_carries_the_backends_hint():
    error = fail_with(httpx.Response(401, json={"message": "token is required"}))
    assert error.hint == "check the token in $GITEA_API_TOKEN"
    assert error.exit_code == 5


def test_5xx_after_retries_is_unavailable():
    error = fail_with(httpx.Response(503, text="upstream down"))
    assert isinstance(error, BackendUnavailable) and error.exit_code == 6
    assert "HTTP 503" in error.message and "upstream down" in error.message


def test_html_page_instead_of_json():
    error = fail_with(
        httpx.Response(200, text=HTML_PAGE, headers={"content-type": "text/html; charset=utf-8"})
    )
    assert isinstance(error, BackendUnavailable)
    assert error.message.startswith(
        "server returned non-JSON (text/html) for GET /api/v1/repos/o/r/issues"
    )


def test_html_404_hints_at_the_url():
    error = fail_with(httpx.Response(404, text=HTML_PAGE, headers={"content-type": "text/html"}))
    assert isinstance(error, NotFound)
    assert "HTML page: Sign in - Corp SSO" in error.message
    assert "base URL" in (error.hint or "")


def test_malformed_json():
    error = fail_with(
        httpx.Response(200, content=b'{"id": 1,', headers={"content-type": "application/json"})
    )
    assert isinstance(error, BackendUnavailable)
    assert error.message.startswith("server returned malformed JSON (application/json)")


def test_long_server_messages_are_cut():
    error = fail_with(httpx.Response(422, json={"message": "x" * 5000}))
    assert len(error.one_line()) < 400


def test_an_under_scoped_token_names_the_scope_it_lacks():
    """GitLab's 403 for a read_api token on a write: RFC 6750's insufficient_scope body."""
    body = {
        "error": "insufficient_scope",
        "error_description": "The request requires higher privileges than provided by the "
        "access token.",
        "scope": "api",
    }
    error = fail_with(httpx.Response(403, json=body))
    assert isinstance(error, PermissionDenied)
    assert "lacks the 'api' scope" in error.message and error.exit_code == 5
    assert "'api' scope" in (error.hint or "")


def test_a_scope_named_only_in_www_authenticate_is_named_too():
    header = 'Bearer realm="", error="insufficient_scope", scope="write_repository"'
    error = fail_with(httpx.Response(403, json={}, headers={"WWW-Authenticate": header}))
    assert isinstance(error, PermissionDenied) and "'write_repository' scope" in error.message


def test_an_expired_token_says_so():
    body = {
        "error": "invalid_token",
        "error_description": "Token is expired. You can either "
        "do re-authorization or token refresh.",
    }
    error = fail_with(httpx.Response(401, json=body))
    assert isinstance(error, AuthError) and error.exit_code == 5
    assert "expired or revoked" in error.message and "Token is expired" in error.message
    assert "$GITEA_API_TOKEN" in (error.hint or "")
