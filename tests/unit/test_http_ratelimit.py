"""Rate limits: Retry-After and reset headers are honoured with an injected sleep; waits past
the maximum raise RateLimited (exit 6) saying when to retry."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from issue_core.backends._http import HttpClient, RateLimitPolicy, RetryPolicy
from issue_core.backends._http.ratelimit import is_rate_limited, parse_retry_after
from issue_core.core.errors import PermissionDenied, RateLimited

NOW = 1_800_000_000.0


class Clock:
    def __init__(self):
        self.now = NOW
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(answers, clock, **policy):
    sent: list[httpx.Request] = []

    def handler(request):
        sent.append(request)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    client = HttpClient(
        "https://forge.test/api/v1",
        token="tok-123456",
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock.time,
        retry=RetryPolicy(rand=lambda: 0.0),
        rate_limit=RateLimitPolicy(**policy),
    )
    return client, sent


def test_429_with_retry_after_waits_then_succeeds():
    clock = Clock()
    answers = [httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=[1])]
    client, sent = client_for(answers, clock)
    assert client.get("/x").data == [1]
    assert clock.sleeps == [3.0]
    assert len(sent) == 2 and client.stats.rate_limit_waits == 1


def test_429_on_a_post_is_retried_because_it_was_refused():
    clock = Clock()
    answers = [
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(201, json={"id": 1}),
    ]
    client, sent = client_for(answers, clock)
    assert client.post("/issues", json={}).data == {"id": 1}
    assert len(sent) == 2


def test_retry_after_as_http_date():
    when = datetime.fromtimestamp(NOW + 20, UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == pytest.approx(20)


def test_403_with_exhausted_budget_waits_for_the_reset():
    clock = Clock()
    limited = httpx.Response(
        403,
        json={"message": "API rate limit exceeded"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 10))},
    )
    client, sent = client_for([limited, httpx.Response(200, json={})], clock)
    client.get("/x")
    assert clock.sleeps == [11.0]  # until the reset, plus a second of slack
    assert len(sent) == 2


def test_plain_403_is_permission_denied_not_a_rate_limit():
    clock = Clock()
    client, _ = client_for([httpx.Response(403, json={"message": "no access"})], clock)
    with pytest.raises(PermissionDenied) as caught:
        client.get("/x")
    assert "no access" in caught.value.message
    assert clock.sleeps == []


def test_wait_longer_than_the_maximum_raises_rate_limited_with_the_retry_time():
    clock = Clock()
    limited = httpx.Response(429, headers={"Retry-After": "3600"})
    client, sent = client_for([limited], clock, max_wait=60)
    with pytest.raises(RateLimited) as caught:
        client.get("/x")
    assert caught.value.exit_code == 6
    assert caught.value.details["retry_at"] == "2027-01-15T09:00:00Z"
    assert "retry after 2027-01-15T09:00:00Z" in caught.value.message
    assert clock.sleeps == [] and len(sent) == 1


def test_nearly_spent_budget_waits_before_the_next_request():
    clock = Clock()
    low = httpx.Response(
        200,
        json={},
        headers={"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": str(int(NOW + 30))},
    )
    client, sent = client_for([low, httpx.Response(200, json={})], clock)
    client.get("/a")
    assert clock.sleeps == []
    client.get("/b")
    assert clock.sleeps == [31.0]
    assert len(sent) == 2


def test_plenty_of_budget_means_no_wait():
    clock = Clock()
    fine = httpx.Response(
        200,
        json={},
        headers={"X-RateLimit-Remaining": "4000", "X-RateLimit-Reset": str(int(NOW + 30))},
    )
    client, _ = client_for([fine], clock)
    client.get("/a")
    client.get("/b")
    assert clock.sleeps == []
    assert client.rate_limiter.remaining == 4000


def test_gitlab_ratelimit_headers_are_understood():
    clock = Clock()
    low = httpx.Response(
        200, json={}, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW + 5))}
    )
    client, _ = client_for([low, httpx.Response(200, json={})], clock)
    client.get("/a")
    client.get("/b")
    assert clock.sleeps == [6.0]


def test_nearly_spent_budget_with_a_distant_reset_raises():
    clock = Clock()
    low = httpx.Response(
        200,
        json={},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 3000))},
    )
    client, sent = client_for([low], clock, max_wait=60)
    client.get("/a")
    with pytest.raises(RateLimited):
        client.get("/b")
    assert len(sent) == 1


def test_total_waiting_is_bounded():
    clock = Clock()
    limited = httpx.Response(429, headers={"Retry-After": "50"})
    client, sent = client_for([limited], clock, max_wait=60, max_total_wait=120)
    with pytest.raises(RateLimited):
        client.get("/x")
    assert sum(clock.sleeps) <= 120
    assert len(sent) == 3


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (429, {}, "", True),
        (403, {"x-ratelimit-remaining": "0"}, "", True),
        (403, {"retry-after": "5"}, "", True),
        (403, {}, '{"message": "You have exceeded a secondary rate limit"}', True),
        (403, {"x-ratelimit-remaining": "10"}, "forbidden", False),
        (404, {"x-ratelimit-remaining": "0"}, "", False),
    ],
)
def test_rate_limit_detection(status, headers, body, expected):
    assert is_rate_limited(status, httpx.Headers(headers), body) is expected


def test_endless_zero_retry_after_is_bounded():
    clock = Clock()
    client, sent = client_for([httpx.Response(429, headers={"Retry-After": "0"})], clock)
    with pytest.raises(RateLimited):
        client.get("/x")
    assert len(sent) == 6
