"""HttpClient: auth headers, retries with backoff for idempotent requests only, no blind POST
retry, create_once, origin pinning, counters."""

from __future__ import annotations

import json

import httpx
import pytest

from issue_core import __version__
from issue_core.backends._http import (
    AmbiguousWrite,
    HttpClient,
    RateLimitPolicy,
    RetryPolicy,
    Timeouts,
)
from issue_core.core.errors import BackendUnavailable

BASE = "https://forge.test/api/v1"


class Recorder:
    """A MockTransport handler answering from a script; records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def make_client(handler, *, sleeps=None, **kwargs) -> HttpClient:
    slept = sleeps if sleeps is not None else []
    kwargs.setdefault(
        "retry", RetryPolicy(attempts=3, base_delay=0.5, max_delay=8, rand=lambda: 1.0)
    )
    return HttpClient(
        BASE,
        token="s3cr3t-token-value",
        transport=httpx.MockTransport(handler),
        sleep=slept.append,
        **kwargs,
    )


def ok(data=None, status=200, headers=None):
    return httpx.Response(status, json=data if data is not None else {}, headers=headers)


@pytest.mark.parametrize(
    ("scheme", "header", "value"),
    [
        ("token", "authorization", "token s3cr3t-token-value"),
        ("bearer", "authorization", "Bearer s3cr3t-token-value"),
        ("private-token", "private-token", "s3cr3t-token-value"),
    ],
)
def test_auth_header_scheme_and_user_agent(scheme, header, value):
    handler = Recorder(ok({"a": 1}))
    client = make_client(handler, auth_scheme=scheme)
    assert client.get("/thing").data == {"a": 1}
    sent = handler.requests[0]
    assert sent.headers[header] == value
    assert sent.headers["user-agent"] == f"issue-core/{__version__}"
    assert str(sent.url) == f"{BASE}/thing"


def test_timeouts_are_explicit():
    seen = {}

    def handler(request):
        seen.update(request.extensions["timeout"])
        return ok()

    make_client(handler, timeouts=Timeouts(connect=3, read=7)).get("/x")
    assert seen["connect"] == 3 and seen["read"] == 7


def test_get_is_retried_on_5xx_with_exponential_backoff():
    handler = Recorder(ok(status=503), ok(status=502), ok({"done": True}))
    sleeps: list[float] = []
    client = make_client(handler, sleeps=sleeps)
    assert client.get("/x").data == {"done": True}
    assert len(handler.requests) == 3
    assert sleeps == [0.5, 1.0]  # rand=1.0: the full ceiling, doubling
    assert client.stats.requests == 3 and client.stats.retries == 2


def test_backoff_has_jitter_and_a_ceiling():
    policy = RetryPolicy(base_delay=1, max_delay=4, rand=lambda: 0.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 2.0, 2.0]
    randomised = RetryPolicy(base_delay=1, max_delay=4)
    assert all(0.5 <= randomised.delay(1) <= 1.0 for _ in range(50))


def test_get_gives_up_after_the_attempts_with_backend_unavailable():
    handler = Recorder(ok({"message": "boom"}, status=500))
    client = make_client(handler)
    with pytest.raises(BackendUnavailable) as caught:
        client.get("/x")
    assert len(handler.requests) == 3
    assert "HTTP 500" in caught.value.message and "forge.test" in caught.value.message


def test_get_is_retried_on_connection_errors_and_timeouts():
    handler = Recorder(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok({"x": 1}))
    assert make_client(handler).get("/x").data == {"x": 1}
    assert len(handler.requests) == 3


def test_post_is_never_retried_after_a_5xx():
    handler = Recorder(ok(status=503), ok({"id": 1}, status=201))
    client = make_client(handler)
    with pytest.raises(AmbiguousWrite):
        client.post("/issues", json={"title": "t"})
    assert len(handler.requests) == 1


def test_post_is_never_retried_after_a_read_timeout():
    handler = Recorder(httpx.ReadTimeout("slow"), ok({"id": 1}, status=201))
    with pytest.raises(AmbiguousWrite) as caught:
        make_client(handler).post("/issues", json={"title": "t"})
    assert len(handler.requests) == 1
    assert caught.value.exit_code == 6


def test_post_that_never_connected_is_sent_again():
    handler = Recorder(
        httpx.ConnectError("[Errno 111] Connection refused"), ok({"id": 1}, status=201)
    )
    assert make_client(handler).post("/issues", json={}).data == {"id": 1}
    assert len(handler.requests) == 2


def test_patch_is_retried_only_when_flagged_safe():
    handler = Recorder(ok(status=503), ok({"v": 2}))
    with pytest.raises(AmbiguousWrite):
        make_client(handler).patch("/issues/1", json={"state": "closed"})
    assert len(handler.requests) == 1
    handler = Recorder(ok(status=503), ok({"v": 2}))
    assert make_client(handler).patch("/issues/1", json={}, idempotent=True).data == {"v": 2}
    assert len(handler.requests) == 2


def test_put_and_delete_are_retried():
    handler = Recorder(ok(status=504), httpx.Response(204))
    assert make_client(handler).delete("/labels/1").data is None
    assert len(handler.requests) == 2


def test_create_once_does_not_duplicate_when_the_first_post_was_written():
    created: list[dict] = []

    def handler(request):
        created.append(json.loads(request.content))
        raise httpx.ReadTimeout("the server wrote it but the answer never came")

    client = make_client(handler)
    found = client.create_once(
        "/issues", json={"title": "t"}, find_existing=lambda: {"id": 7, "found": True}
    )
    assert found == {"id": 7, "found": True}
    assert len(created) == 1


def test_create_once_sends_again_when_the_first_post_was_not_written():
    # 503 from the server itself: it was done with the request; the look-up found nothing.
    handler = Recorder(ok(status=503), ok({"id": 8}, status=201))
    lookups: list[int] = []
    client = make_client(handler)
    result = client.create_once("/issues", json={}, find_existing=lambda: lookups.append(1))
    assert result == {"id": 8}
    assert len(handler.requests) == 2 and lookups == [1]


def test_create_once_gives_up_after_the_attempts():
    handler = Recorder(ok(status=503))
    client = make_client(handler, retry=RetryPolicy(attempts=2, rand=lambda: 0.0))
    with pytest.raises(AmbiguousWrite):
        client.create_once("/issues", json={}, find_existing=lambda: None)
    assert len(handler.requests) == 2


def test_create_once_never_resends_after_a_gateway_error():
    # A 502/504 (or a timeout) leaves open whether the server will still apply the POST.
    handler = Recorder(ok(status=502), ok({"id": 8}, status=201))
    client = make_client(handler)
    with pytest.raises(AmbiguousWrite) as caught:
        client.create_once("/issues", json={}, find_existing=lambda: None)
    assert "may have been applied" in caught.value.message
    assert len(handler.requests) == 1


def test_absolute_urls_keep_the_configured_origin():
    handler = Recorder(ok([]))
    client = make_client(handler)
    client.get("https://evil.example/api/v1/repos/o/r/issues?page=2")
    sent = handler.requests[0]
    assert sent.url.host == "forge.test"
    assert sent.url.path == "/api/v1/repos/o/r/issues" and sent.url.params["page"] == "2"


def test_redirects_are_not_followed():
    handler = Recorder(httpx.Response(302, headers={"location": "https://other.example/"}))
    from issue_core.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_client(handler).get("/x")
    assert "redirected GET /api/v1/x to https://other.example/" in caught.value.message
    assert len(handler.requests) == 1


def test_params_drop_none_and_join_lists():
    handler = Recorder(ok([]))
    make_client(handler).get("/x", params={"a": None, "labels": ["x", "y"], "flag": True})
    params = handler.requests[0].url.params
    assert "a" not in params and params["labels"] == "x,y" and params["flag"] == "true"


def test_stats_count_requests_by_method():
    handler = Recorder(ok({}))
    client = make_client(handler, rate_limit=RateLimitPolicy())
    client.get("/a")
    client.put("/b", json={})
    assert client.stats.requests == 2
    assert client.stats.by_method == {"GET": 1, "PUT": 1}
    client.stats.reset()
    assert client.stats.requests == 0


def test_invalid_base_url_is_a_config_error():
    from issue_core.core.errors import ConfigError

    with pytest.raises(ConfigError):
        HttpClient("ftp://x")


def test_missing_ca_bundle_is_a_config_error(tmp_path):
    from issue_core.core.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        HttpClient(BASE, verify=str(tmp_path / "missing.pem"))
    assert "CA bundle" in caught.value.message


def test_server_dates_collects_the_servers_own_clock_only_inside_the_block():
    from datetime import UTC, datetime

    handler = Recorder(
        ok(headers={"Date": "Tue, 01 Dec 2026 10:00:05 GMT"}),
        ok(headers={"Date": "Tue, 01 Dec 2026 10:00:03 GMT"}),
        ok(headers={"Date": "not a date"}),
        ok(),  # no Date at all
        ok(headers={"Date": "Tue, 01 Dec 2026 09:00:00 GMT"}),
    )
    client = make_client(handler)
    with client.server_dates() as dates:
        for _ in range(4):
            client.get("/thing")
    client.get("/thing")  # after the block: not collected
    assert dates == [
        datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC),
        datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC),
    ]
