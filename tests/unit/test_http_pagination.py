"""Pagination: totals from the first page lead to concurrent fetches returned in order; Link
headers are followed otherwise; a caller stopping early stops the fetching."""

from __future__ import annotations

import threading

import httpx
import pytest

from issue_core.backends._http import GITHUB_PAGES, GITLAB_PAGES, HttpClient, parse_link_header
from issue_core.backends._http.pagination import total_pages

BASE = "https://forge.test/api/v1"


def make_client(handler, **kwargs):
    return HttpClient(BASE, token="t0ken-abc", transport=httpx.MockTransport(handler), **kwargs)


def items(page: int, size: int, total: int):
    start = (page - 1) * size
    return [{"n": n} for n in range(start, min(start + size, total))]


def test_parse_link_header():
    header = (
        '<https://h/api?page=4&limit=2>; rel="next",<https://h/api?page=9&limit=2>; rel="last",'
        '<https://h/api?page=1&limit=2>; rel="first"'
    )
    links = parse_link_header(header)
    assert links["next"].endswith("page=4&limit=2") and links["last"].endswith("page=9&limit=2")
    assert parse_link_header(None) == {}


def test_total_count_pages_are_fetched_concurrently_and_returned_in_order():
    total, size = 230, 50
    page3_started = threading.Event()
    waited_for_page3: list[bool] = []
    pages_seen: list[int] = []
    lock = threading.Lock()

    def handler(request):
        page = int(request.url.params["page"])
        assert int(request.url.params["limit"]) == size
        with lock:
            pages_seen.append(page)
        if page == 3:
            page3_started.set()
        if page == 2:
            # Only a concurrent client can start page 3 while page 2 is still unanswered.
            waited_for_page3.append(page3_started.wait(timeout=5))
        return httpx.Response(
            200, json=items(page, size, total), headers={"X-Total-Count": str(total)}
        )

    client = make_client(handler, page_concurrency=4)
    result = list(client.paginate("/issues", params={"state": "all"}, page_size=size))
    assert [row["n"] for row in result] == list(range(total))
    assert waited_for_page3 == [True]
    assert sorted(pages_seen) == [1, 2, 3, 4, 5]
    assert client.stats.requests == 5


def test_page_size_capped_by_the_server_is_detected():
    total, server_cap = 45, 20

    def handler(request):
        page = int(request.url.params["page"])
        return httpx.Response(
            200, json=items(page, server_cap, total), headers={"X-Total-Count": str(total)}
        )

    client = make_client(handler)
    result = list(client.paginate("/issues", page_size=50))
    assert [row["n"] for row in result] == list(range(total))
    assert client.stats.requests == 3


def test_link_next_is_followed_when_no_total_is_given():
    def handler(request):
        page = int(request.url.params.get("page", 1))
        headers = {}
        if page < 3:
            nxt = f"https://public.example/api/v1/issues?page={page + 1}&per_page=2"
            headers["Link"] = f'<{nxt}>; rel="next"'
        return httpx.Response(200, json=items(page, 2, 6), headers=headers)

    client = make_client(handler)
    result = list(client.paginate("/issues", page_size=2, style=GITHUB_PAGES, concurrency=1))
    assert [row["n"] for row in result] == list(range(6))
    assert client.stats.requests == 3


def test_link_last_gives_the_page_count():
    headers = httpx.Headers({"link": '<https://h/x?page=7&per_page=30>; rel="last"'})
    assert total_pages(headers, page_size=30, first_count=30, style=GITHUB_PAGES) == 7


def test_gitlab_total_pages_and_next_page_headers():
    assert (
        total_pages(
            httpx.Headers({"x-total-pages": "4"}), page_size=20, first_count=20, style=GITLAB_PAGES
        )
        == 4
    )

    def handler(request):
        page = int(request.url.params["page"])
        headers = {"X-Next-Page": str(page + 1)} if page < 2 else {"X-Next-Page": ""}
        return httpx.Response(200, json=items(page, 3, 6), headers=headers)

    client = make_client(handler)
    assert len(list(client.paginate("/x", page_size=3, style=GITLAB_PAGES))) == 6


def test_no_paging_headers_reads_until_a_short_page():
    def handler(request):
        page = int(request.url.params["page"])
        return httpx.Response(200, json=items(page, 10, 25))

    client = make_client(handler)
    assert len(list(client.paginate("/x", page_size=10))) == 25
    assert client.stats.requests == 3


def test_stopping_early_does_not_fetch_every_page():
    def handler(request):
        page = int(request.url.params["page"])
        return httpx.Response(200, json=items(page, 10, 1000), headers={"X-Total-Count": "1000"})

    client = make_client(handler, page_concurrency=2)
    iterator = client.paginate("/x", page_size=10)
    first = [next(iterator) for _ in range(15)]
    iterator.close()
    assert [row["n"] for row in first] == list(range(15))
    assert client.stats.requests <= 4  # page 1 plus a window of at most concurrency+1


def test_null_list_is_empty():
    client = make_client(
        lambda request: httpx.Response(
            200, content=b"null", headers={"content-type": "application/json"}
        )
    )
    assert list(client.paginate("/reactions", page_size=50)) == []


def test_a_non_list_answer_is_an_error():
    from issue_core.core.errors import BackendUnavailable

    client = make_client(lambda request: httpx.Response(200, json={"not": "a list"}))
    with pytest.raises(BackendUnavailable):
        list(client.paginate("/x", page_size=50))


def test_keyset_pages_follow_next_links_one_after_another():
    """GitLab's keyset pagination: no page numbers, no total; each page names the next."""
    asked: list[str] = []

    def handler(request):
        asked.append(str(request.url))
        cursor = request.url.params.get("cursor", "0")
        start = int(cursor)
        headers = {}
        if start + 3 < 7:
            headers["Link"] = (
                f'<{BASE}/x?pagination=keyset&per_page=3&cursor={start + 3}>; rel="next"'
            )
        return httpx.Response(
            200, json=[{"n": n} for n in range(start, min(start + 3, 7))], headers=headers
        )

    client = make_client(handler)
    rows = list(client.paginate_links("/x", params={"pagination": "keyset", "per_page": 3}))
    assert [row["n"] for row in rows] == list(range(7))
    assert len(asked) == 3 and "page" not in httpx.URL(asked[0]).params  # no offset page


def test_gitlab_x_total_is_a_total_count_for_stable_paging():
    """Stable paging notices a GitLab list that moved (X-Total changed) as it does Gitea's."""
    from issue_core.backends._http.pagination import total_count

    assert total_count(httpx.Headers({"x-total": "7"})) == 7
    assert total_count(httpx.Headers({"x-total-count": "5", "x-total": "7"})) == 5
    assert total_count(httpx.Headers({})) is None
    rounds: list[int] = []

    def handler(request):
        page = int(request.url.params["page"])
        if page == 1:
            rounds.append(1)
        total = 4 if len(rounds) == 1 and page == 2 else 3  # an issue appeared meanwhile
        return httpx.Response(200, json=items(page, 2, 3), headers={"X-Total": str(total)})

    client = make_client(handler, page_concurrency=1)
    rows = list(client.paginate("/x", page_size=2, style=GITLAB_PAGES, stable_key=lambda r: r["n"]))
    assert [row["n"] for row in rows] == [0, 1, 2] and len(rounds) == 2  # read again, no dupes
