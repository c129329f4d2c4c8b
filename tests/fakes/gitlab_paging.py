"""GitLab's two ways of paging a list, as the fake GitLab answers them.

Offset (``Gitlab::Pagination::OffsetPagination``, seen in tests/contracts/gitlab/recorded):
``page`` (from 1) and ``per_page`` (default 20, at most 100); ``X-Page``, ``X-Per-Page``,
``X-Next-Page`` and ``X-Prev-Page`` (empty when there is none; a page past the end has neither),
``X-Total`` and ``X-Total-Pages`` (1 for an empty list), and a ``Link`` with rel prev, next,
first and last in that order, whose URLs carry the route's ``id`` and the query sorted by name.
Above ``count_limit`` items GitLab does not count: no ``X-Total``, ``X-Total-Pages`` or
``rel="last"``; whether there is a next page is learnt by reading one item more.

Keyset (``Gitlab::Pagination::Keyset``): ordered by one column and the id, the next page is a
``Link: <...&cursor=...>; rel="next"`` (the cursor is opaque: base64 of the last row's keys);
no totals and no page numbers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode

from tests.fakes.gitea import Reply
from tests.fakes.gitlab_request import ApiError

if TYPE_CHECKING:
    from tests.fakes.gitlab_request import Request


def _link_url(request: Request, pairs: dict[str, str]) -> str:
    # GitLab puts the route's parameters in the links too (``id`` for the project).
    route = {k: unquote(v) for k, v in request.ctx.params.items() if k != "project"}
    if "project" in request.ctx.params:
        route["id"] = unquote(request.ctx.params["project"])
    query = {k: v for k, v in request.ctx.query if k not in ("page", "cursor", "private_token")}
    merged = {**{k: str(v) for k, v in route.items()}, **query, **pairs}
    encoded = urlencode(sorted(merged.items()), quote_via=quote, safe="")
    return f"<{request.fake.base_url}{request.ctx.path}?{encoded}>"


def per_page(request: Request) -> int:
    size = request.int_arg("per_page")
    if size is None or size <= 0:
        return request.fake.default_per_page
    return min(size, request.fake.max_per_page)


def offset_page(request: Request, items: Sequence[Any], render: Callable[[Any], Any]) -> Reply:
    size = per_page(request)
    page = request.int_arg("page") or 1
    if page < 1:
        page = 1
    window = list(items[(page - 1) * size : page * size + 1])
    has_next = len(window) > size
    window = window[:size]
    total = len(items)
    counted = total <= request.fake.count_limit
    total_pages = max(1, -(-total // size))
    headers = {"X-Page": str(page), "X-Per-Page": str(size)}
    if counted:
        headers["X-Next-Page"] = str(page + 1) if page < total_pages else ""
        headers["X-Prev-Page"] = str(page - 1) if 1 < page <= total_pages else ""
        headers["X-Total"] = str(total)
        headers["X-Total-Pages"] = str(total_pages)
    else:
        headers["X-Next-Page"] = str(page + 1) if has_next else ""
        headers["X-Prev-Page"] = str(page - 1) if page > 1 else ""
    links = []
    keep = {"per_page": str(size)}
    if headers["X-Prev-Page"]:
        links.append(f'{_link_url(request, {**keep, "page": str(page - 1)})}; rel="prev"')
    if headers["X-Next-Page"]:
        links.append(f'{_link_url(request, {**keep, "page": str(page + 1)})}; rel="next"')
    links.append(f'{_link_url(request, {**keep, "page": "1"})}; rel="first"')
    if counted:
        links.append(f'{_link_url(request, {**keep, "page": str(total_pages)})}; rel="last"')
    headers["Link"] = ", ".join(links)
    return Reply(200, [render(item) for item in window], headers)


def encode_cursor(keys: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(keys).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise ApiError(400, error="cursor is invalid") from None
    if not isinstance(data, dict):
        raise ApiError(400, error="cursor is invalid")
    return data


def keyset_page(
    request: Request,
    items: Sequence[Any],
    key: Callable[[Any], tuple[Any, int]],
    *,
    descending: bool,
    render: Callable[[Any], Any],
) -> Reply:
    """``items`` already sorted by ``key`` (column value, id) in the requested direction."""
    size = per_page(request)
    cursor = request.arg("cursor")
    rows = list(items)
    if cursor:
        after = decode_cursor(cursor)
        last = (after.get("value"), int(after.get("id") or 0))

        def beyond(item: Any) -> bool:
            here = _comparable(key(item))
            there = _comparable(last)
            return here < there if descending else here > there

        rows = [item for item in rows if beyond(item)]
    window = rows[: size + 1]
    headers: dict[str, str] = {"X-Per-Page": str(size)}
    if len(window) > size:
        value, ident = key(window[size - 1])
        next_cursor = encode_cursor({"value": value, "id": ident})
        url = _link_url(request, {"per_page": str(size), "cursor": next_cursor})
        headers["Link"] = f'{url}; rel="next"'
    return Reply(200, [render(item) for item in window[:size]], headers)


def _comparable(pair: tuple[Any, int]) -> tuple[Any, ...]:
    # None (no due date) sorts last ascending, as PostgreSQL's NULLS LAST does.
    value, ident = pair
    return (value is None, value if value is not None else "", ident)
