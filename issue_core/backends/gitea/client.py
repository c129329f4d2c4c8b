"""Gitea REST wire calls (``/api/v1``, as in Gitea 1.27's swagger). Returns wire JSON only;
``mapping`` turns it into domain models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from issue_core.backends._http import HttpClient
from issue_core.core.errors import NotFound

Wire = dict[str, Any]

# Gitea's default MAX_RESPONSE_ITEMS: the page size used until /settings/api says otherwise.
DEFAULT_PAGE_SIZE = 50
MAX_ITEMS = "max_response_items"  # /settings/api's name for it


class GiteaClient:
    def __init__(self, http: HttpClient, owner: str, repo: str, *, page_size: int | None = None):
        self.http = http
        self.owner = owner
        self.repo = repo
        self._repo_path = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
        self._max_page_size = page_size

    # -- server --------------------------------------------------------------------

    def version(self) -> Wire:
        return dict(self.http.get_json("/version") or {})

    def current_user(self) -> Wire:
        return dict(self.http.get_json("/user") or {})

    def repository(self) -> Wire:
        return dict(self.http.get_json(self._repo_path) or {})

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

    def _pages(
        self, path: str, params: Mapping[str, Any], wanted: int | None = None
    ) -> Iterator[Any]:
        return self.http.paginate(path, params=params, page_size=self.page_size_for(wanted))

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

    def get_issue(self, number: int) -> Wire:
        return dict(self.http.get_json(f"{self._repo_path}/issues/{number}"))

    def create_issue(self, payload: Wire, *, find_existing: Callable[[], Wire | None]) -> Wire:
        return dict(
            self.http.create_once(
                f"{self._repo_path}/issues", json=payload, find_existing=find_existing
            )
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

    def create_comment(
        self, number: int, body: str, *, find_existing: Callable[[], Wire | None]
    ) -> Wire:
        path = f"{self._repo_path}/issues/{number}/comments"
        return dict(self.http.create_once(path, json={"body": body}, find_existing=find_existing))

    def get_comment(self, comment_id: int) -> Wire:
        return dict(self.http.get_json(f"{self._repo_path}/issues/comments/{comment_id}") or {})

    def edit_comment(self, comment_id: int, body: str) -> Wire | None:
        """PATCH the body (an absolute value: a retry is harmless). None when Gitea answers 204,
        its answer for a comment without content (an event such as a label change)."""
        path = f"{self._repo_path}/issues/comments/{comment_id}"
        data = self.http.patch(path, json={"body": body}, idempotent=True).data
        return dict(data) if isinstance(data, dict) else None

    def delete_comment(self, comment_id: int) -> None:
        self.http.delete(f"{self._repo_path}/issues/comments/{comment_id}")

    # -- labels -------------------------------------------------------------------------

    def list_labels(self) -> list[Wire]:
        return list(self._pages(f"{self._repo_path}/labels", {}))

    def create_label(self, payload: Wire, *, find_existing: Callable[[], Wire | None]) -> Wire:
        path = f"{self._repo_path}/labels"
        return dict(self.http.create_once(path, json=payload, find_existing=find_existing))

    def edit_label(self, label_id: int, payload: Wire) -> Wire:
        path = f"{self._repo_path}/labels/{label_id}"
        return dict(self.http.patch(path, json=payload, idempotent=True).data)

    def delete_label(self, label_id: int) -> None:
        self.http.delete(f"{self._repo_path}/labels/{label_id}")

    # -- milestones -------------------------------------------------------------------------

    def list_milestones(self, state: str = "all") -> list[Wire]:
        return list(self._pages(f"{self._repo_path}/milestones", {"state": state}))

    def create_milestone(self, payload: Wire, *, find_existing: Callable[[], Wire | None]) -> Wire:
        path = f"{self._repo_path}/milestones"
        return dict(self.http.create_once(path, json=payload, find_existing=find_existing))

    def edit_milestone(self, milestone_id: int, payload: Wire) -> Wire:
        path = f"{self._repo_path}/milestones/{milestone_id}"
        return dict(self.http.patch(path, json=payload, idempotent=True).data)

    def delete_milestone(self, milestone_id: int) -> None:
        self.http.delete(f"{self._repo_path}/milestones/{milestone_id}")

    # -- users --------------------------------------------------------------------------------

    def list_assignees(self) -> list[Wire]:
        return list(self.http.get_json(f"{self._repo_path}/assignees") or [])
