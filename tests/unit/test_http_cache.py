"""Conditional GETs: unchanged lists come back as 304s answered from a private disk cache."""

from __future__ import annotations

import os
import stat

import httpx

from issue_core.backends._http import HttpClient, ResponseCache, default_cache_dir

TOKEN = "cache-token-0123456789"


class EtagServer:
    def __init__(self):
        self.body = [{"id": 1}]
        self.etag = '"v1"'
        self.seen_if_none_match: list[str | None] = []

    def __call__(self, request):
        self.seen_if_none_match.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == self.etag:
            return httpx.Response(304, headers={"ETag": self.etag})
        return httpx.Response(
            200,
            json=self.body,
            headers={"ETag": self.etag, "X-Total-Count": "1", "Set-Cookie": "sid=abc"},
        )


def make_client(server, cache_dir, token=TOKEN):
    return HttpClient(
        "https://forge.test/api/v1",
        token=token,
        transport=httpx.MockTransport(server),
        cache=ResponseCache(cache_dir, token=token),
    )


def test_unchanged_list_is_a_304_from_the_cache(tmp_path):
    server = EtagServer()
    client = make_client(server, tmp_path)
    first = client.get("/repos/o/r/issues", params={"page": 1})
    second = client.get("/repos/o/r/issues", params={"page": 1})
    assert first.data == second.data == [{"id": 1}]
    assert second.from_cache and second.status == 304
    assert second.headers["x-total-count"] == "1"  # paging headers survive a 304
    assert server.seen_if_none_match == [None, '"v1"']
    assert client.stats.not_modified == 1 and client.stats.requests == 2


def test_a_304_s_own_paging_headers_win(tmp_path):
    """GitLab's ETag covers the body only: page 1 of a list that grew is unchanged (a 304),
    but its X-Total / X-Next-Page / Link say there is a page 2 now; the cached ones did not."""
    totals = {"X-Total": "3", "X-Next-Page": ""}

    def server(request):
        headers = {"ETag": 'W/"p1"', **totals}
        if request.headers.get("if-none-match") == 'W/"p1"':
            return httpx.Response(304, headers=headers)
        return httpx.Response(200, json=[1, 2, 3], headers=headers)

    client = make_client(server, tmp_path)
    assert client.get("/notes").headers["x-next-page"] == ""
    totals.update({"X-Total": "4", "X-Next-Page": "2"})
    again = client.get("/notes")
    assert again.from_cache and again.data == [1, 2, 3]
    assert (again.headers["x-total"], again.headers["x-next-page"]) == ("4", "2")


def test_changed_list_replaces_the_entry(tmp_path):
    server = EtagServer()
    client = make_client(server, tmp_path)
    client.get("/x")
    server.body, server.etag = [{"id": 2}], '"v2"'
    assert client.get("/x").data == [{"id": 2}]
    assert client.get("/x").from_cache


def test_cache_files_are_private_and_hold_no_credentials(tmp_path):
    client = make_client(EtagServer(), tmp_path)
    client.get("/x")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    content = files[0].read_text()
    assert TOKEN not in content and "uthorization" not in content and "sid=abc" not in content
    assert TOKEN not in str(files[0])


def test_another_token_never_sees_the_entry(tmp_path):
    server = EtagServer()
    make_client(server, tmp_path).get("/x")
    other = make_client(server, tmp_path, token="someone-else-token")
    other.get("/x")
    assert server.seen_if_none_match == [None, None]
    assert len({p.parent for p in tmp_path.rglob("*.json")}) == 2


def test_last_modified_is_used_too(tmp_path):
    seen = []

    def server(request):
        seen.append(request.headers.get("if-modified-since"))
        if request.headers.get("if-modified-since"):
            return httpx.Response(304)
        return httpx.Response(
            200, json={"a": 1}, headers={"Last-Modified": "Wed, 25 Nov 2026 08:00:00 GMT"}
        )

    client = make_client(server, tmp_path)
    client.get("/x")
    assert client.get("/x").data == {"a": 1}
    assert seen == [None, "Wed, 25 Nov 2026 08:00:00 GMT"]


def test_responses_without_validators_are_not_stored(tmp_path):
    client = make_client(lambda r: httpx.Response(200, json=[1]), tmp_path)
    client.get("/x")
    assert list(tmp_path.rglob("*.json")) == []


def test_cache_is_bounded(tmp_path):
    cache = ResponseCache(tmp_path, token=TOKEN, max_entries=3)
    for n in range(6):
        path = f"https://forge.test/x{n}"
        cache.put(path, httpx.Headers({"etag": f'"{n}"'}), "[]")
        os.utime(cache._path(path), (n, n))  # deterministic ages
    remaining = list(tmp_path.rglob("*.json"))
    assert len(remaining) == 3
    assert cache.get("https://forge.test/x5") is not None
    assert cache.get("https://forge.test/x0") is None


def test_a_damaged_entry_is_a_miss(tmp_path):
    cache = ResponseCache(tmp_path, token=TOKEN)
    cache.put("https://forge.test/x", httpx.Headers({"etag": '"1"'}), "[]")
    cache._path("https://forge.test/x").write_text("{not json")
    assert cache.get("https://forge.test/x") is None


def test_default_dir_follows_xdg_and_the_override(monkeypatch, tmp_path):
    monkeypatch.delenv("ISSUE_CORE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "issue-core" / "http"
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine" / "http"


def test_unwritable_cache_never_breaks_a_request(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    client = make_client(EtagServer(), blocker / "sub")
    assert client.get("/x").data == [{"id": 1}]
    assert client.get("/x").data == [{"id": 1}]  # and the cache is off, not retried each time
    assert client.cache is not None and client.cache._disabled
