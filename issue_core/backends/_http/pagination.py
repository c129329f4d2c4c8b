"""Read every page of a list: page/limit parameters, ``Link`` headers and total counts.

When the first page says how many items or pages there are (``X-Total-Count``, GitLab's
``X-Total``/``X-Total-Pages``, a ``Link rel="last"``), the other pages are fetched concurrently
(bounded) and still yielded in order. Otherwise the ``next`` links (or GitLab's
``X-Next-Page``) are followed one by one; ``follow_next_links`` reads a cursor-paged list.
Items are yielded lazily: a caller that stops early (a ``--limit``) stops the fetching too.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from issue_core.core.errors import BackendUnavailable

if TYPE_CHECKING:
    from issue_core.backends._http.client import ApiResponse, HttpClient

T = TypeVar("T")

# A bound on runaway pagination (a server that always says "next").
MAX_PAGES = 10_000

_LINK_PART = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r'rel\s*=\s*"?([^";]+)"?')


@dataclass(frozen=True)
class PageStyle:
    """How a server names its paging parameters."""

    page_param: str = "page"
    size_param: str = "limit"
    first_page: int = 1


GITEA_PAGES = PageStyle(page_param="page", size_param="limit")
GITHUB_PAGES = PageStyle(page_param="page", size_param="per_page")
GITLAB_PAGES = PageStyle(page_param="page", size_param="per_page")


def parse_link_header(value: str | None) -> dict[str, str]:
    """``<url>; rel="next", <url>; rel="last"`` -> ``{"next": url, "last": url}``."""
    links: dict[str, str] = {}
    if not value:
        return links
    for match in _LINK_PART.finditer(value):
        url, params = match.group(1), match.group(2)
        rel = _REL.search(params or "")
        if rel:
            for name in rel.group(1).split():
                links.setdefault(name.strip().lower(), url)
    return links


def _page_of(url: str, style: PageStyle) -> int | None:
    values = parse_qs(urlsplit(url).query).get(style.page_param)
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def total_count(headers: Mapping[str, str]) -> int | None:
    """The list's length, if the server says (Gitea ``X-Total-Count``, GitLab ``X-Total``;
    GitLab leaves it out above 10,000 items)."""
    total = _int_header(headers, "x-total-count")
    return total if total is not None else _int_header(headers, "x-total")


def total_pages(
    headers: Mapping[str, str], *, page_size: int, first_count: int, style: PageStyle
) -> int | None:
    """How many pages the list has, if the first response tells."""
    pages = _int_header(headers, "x-total-pages")
    if pages is not None:
        return pages
    total = total_count(headers)
    if total is not None:
        # A server may cap the page size below what was asked: trust what page 1 held.
        size = first_count if 0 < first_count < min(page_size, total) else page_size
        return max(1, math.ceil(total / max(1, size)))
    last = parse_link_header(headers.get("link")).get("last")
    if last:
        return _page_of(last, style)
    return None


def _items(response: ApiResponse, path: str) -> list[Any]:
    data = response.data
    if data is None:  # Gitea answers an empty list with null on some endpoints
        return []
    if not isinstance(data, list):
        raise BackendUnavailable(
            f"expected a list from {path}, got {type(data).__name__}",
            hint="is the URL the API's base URL?",
        )
    return data


def paginate(
    client: HttpClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    page_size: int,
    style: PageStyle = GITEA_PAGES,
    concurrency: int = 4,
    wanted: int | None = None,
    on_page: Callable[[ApiResponse], None] | None = None,
    first: ApiResponse | None = None,
) -> Iterator[Any]:
    """Yield every item of a paged list, in the server's order.

    ``wanted`` (a caller's limit) bounds the pages fetched ahead: only the pages that many items
    need are fetched concurrently, any further page only when the caller asks for more (a
    caller that filters client-side may). ``on_page`` sees every page's response. ``first`` is
    the first page when the caller already fetched it (to look at its headers first).
    """
    base = {k: v for k, v in (params or {}).items() if v is not None}
    base[style.size_param] = page_size

    def fetch_response(page: int) -> ApiResponse:
        response = client.get(path, params={**base, style.page_param: page})
        if on_page is not None:
            on_page(response)
        return response

    def fetch(page: int) -> list[Any]:
        return _items(fetch_response(page), path)

    if first is None:
        first = fetch_response(style.first_page)
    elif on_page is not None:
        on_page(first)
    items = _items(first, path)
    yield from items
    if not items:
        return
    pages = total_pages(first.headers, page_size=page_size, first_count=len(items), style=style)
    if pages is not None:
        later = range(style.first_page + 1, style.first_page + pages)
        eager = len(later) if wanted is None else max(0, math.ceil(wanted / page_size) - 1)
        yield from fetch_concurrently(fetch, later[:eager], concurrency)
        for page in later[eager:]:  # only when the caller still wants more
            yield from fetch(page)
        return
    yield from _sequential_pages(client, path, first, fetch_response, style, page_size)


def paginate_stable(
    client: HttpClient,
    path: str,
    *,
    key: Callable[[Any], Any],
    rounds: int = 3,
    **options: Any,
) -> Iterator[Any]:
    """``paginate`` for a list others write to while it is read.

    Page/limit paging shifts when items are added or removed between pages: an item can come
    twice (dropped here, by ``key``) or not at all. A page whose total count differs from the
    first page's shows that the list moved: the list is read again from the start (up to
    ``rounds`` times) and what an earlier round missed is yielded then.
    """
    seen: set[Any] = set()
    for round_number in range(rounds):
        if round_number:
            options.pop("first", None)  # a new round reads page 1 again
        totals: set[int | None] = set()

        def note(response: ApiResponse, totals: set[int | None] = totals) -> None:
            totals.add(total_count(response.headers))

        for item in paginate(client, path, on_page=note, **options):
            ident = key(item)
            if ident in seen:
                continue
            seen.add(ident)
            yield item
        if len(totals) <= 1:
            return


def follow_next_links(
    client: HttpClient, path: str, *, params: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    """Yield every item of a cursor-paged list (GitLab's keyset pagination): the first page
    from ``path`` and ``params``, each further one from the ``Link rel="next"`` it names.

    A cursor page cannot be asked for before the one naming it, so this is sequential; in
    exchange the list cannot shift under the reader (no item twice, none skipped).
    """
    response = client.get(path, params={k: v for k, v in (params or {}).items() if v is not None})
    for _ in range(MAX_PAGES):
        items = _items(response, path)
        yield from items
        next_link = parse_link_header(response.headers.get("link")).get("next")
        if not items or not next_link:
            return
        response = client.get(next_link)


def fetch_concurrently(
    fetch: Callable[[T], list[Any]], pages: Sequence[T], concurrency: int
) -> Iterator[Any]:
    """The items of ``fetch(page)`` for every page, in order, ``concurrency`` requests at a
    time kept ahead of the caller (pages of a list, or one list per issue)."""
    if len(pages) == 0:
        return
    if concurrency <= 1 or len(pages) == 1:
        for page in pages:
            yield from fetch(page)
        return
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(pages)), thread_name_prefix="page")
    pending: deque[Future[list[Any]]] = deque()
    upcoming = iter(pages)
    try:
        for page in upcoming:
            pending.append(pool.submit(fetch, page))
            if len(pending) >= concurrency:
                break
        while pending:
            batch = pending.popleft().result()
            for page in upcoming:  # keep the window full while the caller consumes
                pending.append(pool.submit(fetch, page))
                break
            yield from batch
    finally:
        # The caller may stop early (a limit was reached): drop pages not yet started.
        pool.shutdown(wait=False, cancel_futures=True)


def _sequential_pages(
    client: HttpClient,
    path: str,
    first: ApiResponse,
    fetch_response: Callable[[int], ApiResponse],
    style: PageStyle,
    page_size: int,
) -> Iterator[Any]:
    response = first
    page = style.first_page
    count = len(_items(first, path))
    # Once a server has spoken in paging headers, their absence means "last page".
    has_paging_headers = False
    for _ in range(MAX_PAGES):
        headers = response.headers
        has_paging_headers = has_paging_headers or "link" in headers or "x-next-page" in headers
        next_link = parse_link_header(headers.get("link")).get("next")
        next_page = _int_header(headers, "x-next-page")
        if next_link:
            response = client.get(next_link)
        elif next_page:
            page = next_page
            response = fetch_response(page)
        elif not has_paging_headers and count >= page_size:
            page += 1  # no paging headers at all: keep asking until a short page
            response = fetch_response(page)
        else:
            return
        items = _items(response, path)
        if not items:
            return
        count = len(items)
        yield from items
