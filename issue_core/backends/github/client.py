"""GitHub REST wire calls (``https://api.github.com``, or ``<host>/api/v3`` on GitHub Enterprise
Server), as in GitHub's OpenAPI description. Returns wire JSON only; ``mapping`` turns it into
domain models.

Every list is read 100 a page (GitHub's largest), and GitHub's ``Link rel="last"`` lets the
pages after the first be fetched concurrently. Every answer passes ``seen`` (the backend learns a
renamed repository's new name from the URLs in it). What Gitea shares with GitHub's shape is
``forge.repo_api``'s; here: reading with ``seen``, labels by name, search, the repository-wide
comment list, scopes and ``/meta``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from issue_core.backends._http import GITHUB_PAGES, HttpClient, parse_link_header
from issue_core.backends.forge.repo_api import RepoApi, Wire
from issue_core.core.errors import NotFound

PAGE_SIZE = 100  # GitHub's per_page maximum
SEARCH_LIMIT = 1000  # GitHub's search answers at most this many results


class GitHubClient(RepoApi):
    def __init__(
        self,
        http: HttpClient,
        owner: str,
        repo: str,
        *,
        seen: Callable[[Any], None] = lambda data: None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.page_size = page_size
        self._seen = seen
        super().__init__(http, owner, repo)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        data = self.http.get_json(path, params=params)
        self._seen(data)
        return data

    def _pages(
        self, path: str, params: Mapping[str, Any], *, wanted: int | None = None
    ) -> Iterator[Any]:
        for item in self.http.paginate(
            path,
            params=params,
            page_size=self.page_size,
            style=GITHUB_PAGES,
            wanted=wanted,
            stable_key=lambda raw: raw.get("id") if isinstance(raw, dict) else None,
        ):
            self._seen(item)
            yield item

    # -- server -----------------------------------------------------------------------------

    def meta(self) -> Wire:
        """GitHub Enterprise Server's ``/meta`` (``installed_version``)."""
        # Never conditional: /meta is outside the issue API, and one GET a check is cheap.
        return dict(self.http.get("/meta", use_cache=False).data or {})

    def scopes(self) -> tuple[str | None, str | None]:
        """The token's ``X-OAuth-Scopes`` and what ``/user`` accepts (classic tokens send
        them; a fine-grained token sends no scope header)."""
        response = self.http.get("/user", use_cache=False)
        headers = response.headers
        return headers.get("x-oauth-scopes"), headers.get("x-accepted-oauth-scopes")

    # -- issues -----------------------------------------------------------------------------

    def iter_issues(
        self, params: Mapping[str, Any], *, wanted: int | None = None
    ) -> Iterator[Wire]:
        """Issues *and pull requests* (GitHub lists both; the caller drops the latter)."""
        return self._pages(f"{self._repo_path}/issues", params, wanted=wanted)

    def search_issues(self, query: str, *, wanted: int | None = None) -> Iterator[Wire]:
        """``/search/issues`` results for ``query`` (its own, lower rate limit; ``items``)."""
        page, count = 1, 0
        while count < SEARCH_LIMIT:
            response = self.http.get(
                "/search/issues",
                params={"q": query, "per_page": self.page_size, "page": page},
            )
            items = (response.data or {}).get("items") or []
            for item in items:
                self._seen(item)
                yield item
            count += len(items)
            if wanted is not None and count >= wanted:
                return
            if "next" not in parse_link_header(response.headers.get("link")):
                return
            page += 1

    def edit_issue(self, number: int, payload: Wire) -> Wire:
        """PATCH absolute values (labels and assignees are whole lists): a retry is harmless."""
        return dict(self._patch(f"{self._repo_path}/issues/{number}", payload))

    # -- dependencies and sub-issues (the other issue named by its global id) -----------------

    def list_related(self, number: int, which: str) -> list[Wire]:
        """Every page of ``which`` of issue ``number``: ``dependencies/blocked_by``,
        ``dependencies/blocking`` or ``sub_issues``."""
        return list(self._pages(f"{self._repo_path}/issues/{number}/{which}", {}))

    def parent(self, number: int) -> Wire | None:
        try:
            return dict(self._get(f"{self._repo_path}/issues/{number}/parent") or {})
        except NotFound:
            return None  # no parent

    def add_blocked_by(self, number: int, blocker_id: int) -> None:
        path = f"{self._repo_path}/issues/{number}/dependencies/blocked_by"
        self.http.post(path, json={"issue_id": blocker_id})

    def remove_blocked_by(self, number: int, blocker_id: int) -> None:
        self.http.delete(f"{self._repo_path}/issues/{number}/dependencies/blocked_by/{blocker_id}")

    def add_sub_issue(self, number: int, child_id: int) -> None:
        path = f"{self._repo_path}/issues/{number}/sub_issues"
        self.http.post(path, json={"sub_issue_id": child_id})

    def remove_sub_issue(self, number: int, child_id: int) -> None:
        path = f"{self._repo_path}/issues/{number}/sub_issue"
        self.http.request("DELETE", path, json={"sub_issue_id": child_id})

    # -- comments -----------------------------------------------------------------------------

    def list_comments(self, number: int, *, since: str | None = None) -> list[Wire]:
        params = {"since": since} if since else {}
        return list(self._pages(f"{self._repo_path}/issues/{number}/comments", params))

    def list_repo_comments(self, *, since: str | None = None) -> Iterator[Wire]:
        """Every issue comment of the repository (and of its pull requests), oldest update
        first: one list for comments of many issues instead of one per issue."""
        params: dict[str, Any] = {"sort": "updated", "direction": "asc"}
        if since:
            params["since"] = since
        return self._pages(f"{self._repo_path}/issues/comments", params)

    # -- events --------------------------------------------------------------------------------

    def iter_timeline(self, number: int) -> Iterator[Wire]:
        """Issue ``number``'s timeline (its events and comments), oldest first."""
        return self._pages(f"{self._repo_path}/issues/{number}/timeline", {})

    def iter_repo_events(self) -> Iterator[Wire]:
        """The repository's issue events (no comments), newest first, one page at a time as
        the caller reads on: a reader stops at the first page older than it needs."""
        return self.http.paginate_links(
            f"{self._repo_path}/issues/events", params={"per_page": self.page_size}
        )

    def rate_limit(self) -> Wire:
        """``/rate_limit``: free (it does not count against the budget)."""
        return dict(self.http.get("/rate_limit", use_cache=False).data or {})

    # -- labels (addressed by name) ---------------------------------------------------------------

    def _label_path(self, key: int | str) -> str:
        return f"{self._repo_path}/labels/{quote(str(key), safe='')}"

    # -- users ------------------------------------------------------------------------------------

    def list_assignees(self) -> list[Wire]:
        return list(self._pages(f"{self._repo_path}/assignees", {}))
