"""Gitea REST wire calls (``/api/v1``, as in Gitea 1.27's swagger). Returns wire JSON only;
``mapping`` turns it into domain models. What Gitea shares with GitHub's shape is
``forge.repo_api``'s; here: page sizes from ``/settings/api``, labels by id, the edits Gitea
makes its own way, the token-scope probe and deletes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from issue_core.backends._http import HttpClient
from issue_core.backends.forge.repo_api import RepoApi, Wire
from issue_core.core.errors import NotFound

# Gitea's default MAX_RESPONSE_ITEMS: the page size used until /settings/api says otherwise.
DEFAULT_PAGE_SIZE = 50
MAX_ITEMS = "max_response_items"  # /settings/api's name for it


class GiteaClient(RepoApi):
    def __init__(self, http: HttpClient, owner: str, repo: str, *, page_size: int | None = None):
        super().__init__(http, owner, repo)
        self._max_page_size = page_size

    # -- server --------------------------------------------------------------------

    def version(self) -> Wire:
        return dict(self.http.get_json("/version") or {})

    def max_page_size(self) -> int:
        """The largest page the server allows: from /settings/api, remembered a day per server
        in the user cache dir (settings_cache)."""
        if self._max_page_size is None:
            from issue_core.backends.forge import settings_cache

            remembered = settings_cache.load_number("gitea", self.http.base_url, MAX_ITEMS)
            if remembered is not None:
                self._max_page_size = remembered
                return remembered
            try:
                settings = self.http.get_json("/settings/api") or {}
                value = int(settings.get(MAX_ITEMS) or DEFAULT_PAGE_SIZE)
            except (NotFound, ValueError, TypeError, AttributeError):
                value = DEFAULT_PAGE_SIZE
            self._max_page_size = max(1, value)
            settings_cache.store_number("gitea", self.http.base_url, MAX_ITEMS, self._max_page_size)
        return self._max_page_size

    def page_size_for(self, wanted: int | None) -> int:
        """A small, known count needs no settings lookup: Gitea allows 50 by default."""
        if self._max_page_size is None and wanted is not None and wanted <= DEFAULT_PAGE_SIZE:
            return DEFAULT_PAGE_SIZE
        return self.max_page_size()

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Any]:
        return self.http.paginate(path, params=params, page_size=self.page_size_for(None))

    def _label_path(self, key: int | str) -> str:
        return f"{self._repo_path}/labels/{key}"

    # -- issues ----------------------------------------------------------------------

    def iter_issues(
        self, params: Mapping[str, Any], *, wanted: int | None = None
    ) -> Iterator[Wire]:
        # Others create and close issues while we page: de-duplicate by id, re-read on a move.
        return self.http.paginate(
            f"{self._repo_path}/issues",
            params=params,
            page_size=self.page_size_for(wanted),
            wanted=wanted,
            stable_key=lambda raw: raw.get("id") if isinstance(raw, dict) else None,
        )

    def edit_issue(self, number: int, payload: Wire, *, retry_safe: bool) -> Wire:
        response = self.http.patch(
            f"{self._repo_path}/issues/{number}", json=payload, idempotent=retry_safe
        )
        return dict(response.data)

    def replace_issue_labels(self, number: int, label_ids: list[int]) -> list[Wire]:
        response = self.http.put(
            f"{self._repo_path}/issues/{number}/labels", json={"labels": label_ids}
        )
        return list(response.data or [])

    def probe_issue_write(self) -> None:
        """PATCH issue #0 with nothing: Gitea checks the token's scopes first (403), then looks
        the issue up (404). Never changes anything."""
        self.http.patch(f"{self._repo_path}/issues/0", json={}, idempotent=True)

    def delete_issue(self, number: int) -> None:
        self.http.delete(f"{self._repo_path}/issues/{number}")

    # -- dependencies (``/dependencies``: the blockers; ``/blocks``: what it blocks) ---------

    def list_related(self, number: int, which: str) -> list[Wire]:
        """Every page of ``which`` ("dependencies" or "blocks") of issue ``number``. Gitea
        sends neither a Link header nor a total here: pages are read until a short one."""
        path = f"{self._repo_path}/issues/{number}/{which}"
        return list(self.http.paginate(path, params={}, page_size=self.max_page_size()))

    def change_dependency(self, blocked: int, blocker: int, *, add: bool) -> None:
        """Make issue ``blocked`` depend on ``blocker`` (or no longer), both of this repo."""
        path = f"{self._repo_path}/issues/{blocked}/dependencies"
        meta = {"owner": self.owner, "repo": self.repo, "index": blocker}
        self.http.request("POST" if add else "DELETE", path, json=meta)

    # -- comments ---------------------------------------------------------------------

    def list_comments(self, number: int, *, since: str | None = None) -> list[Wire]:
        params = {"since": since} if since else None
        path = f"{self._repo_path}/issues/{number}/comments"
        return list(self.http.get_json(path, params=params) or [])

    def iter_repo_comments(self, *, since: str | None = None) -> Iterator[Wire]:
        """Every comment of the repository's issues and pull requests (a pull request's has
        an empty ``issue_url``), updated at or after ``since``, oldest first: one request per
        page instead of one per issue."""
        return self.http.paginate(
            f"{self._repo_path}/issues/comments",
            params={"since": since},
            page_size=self.max_page_size(),
            stable_key=lambda raw: raw.get("id") if isinstance(raw, dict) else None,
        )

    def iter_timeline(self, number: int, *, since: str | None = None) -> Iterator[Wire]:
        """Every row of issue ``number``'s timeline (its comments and events) updated at or
        after ``since``, oldest first; paged by page/limit with ``X-Total-Count``."""
        return self.http.paginate(
            f"{self._repo_path}/issues/{number}/timeline",
            params={"since": since},
            page_size=self.max_page_size(),
            stable_key=lambda raw: raw.get("id") if isinstance(raw, dict) else None,
        )

    # -- users --------------------------------------------------------------------------------

    def list_assignees(self) -> list[Wire]:
        return list(self.http.get_json(f"{self._repo_path}/assignees") or [])
