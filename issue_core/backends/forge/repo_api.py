"""``RepoApi``: the wire calls Gitea and GitHub make the same way.

Gitea's REST API follows GitHub's shape: a repository at ``/repos/OWNER/REPO``, its issues by
number, comments by id under ``/issues/comments``, labels and milestones as lists with the same
create, edit and delete. This module owns those shared paths and calls; a forge's client
subclass says how it reads (``_get``, ``_pages``: GitHub watches every answer for a moved
repository, Gitea sizes pages from its settings), how labels are addressed (``_label_path``:
by id on Gitea, by name on GitHub), and the calls that differ. GitLab's API has another shape.
Returns wire JSON only; a forge's ``mapping`` turns it into domain models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from issue_core.backends._http import HttpClient

Wire = dict[str, Any]
FindExisting = Callable[[], Wire | None]


class RepoApi:
    def __init__(self, http: HttpClient, owner: str, repo: str) -> None:
        self.http = http
        self.move_to(owner, repo)

    def move_to(self, owner: str, repo: str) -> None:
        """Address another repository (a renamed one's new name)."""
        self.owner = owner
        self.repo = repo
        self._repo_path = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"

    # -- how the forge reads (hooks) ----------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.http.get_json(path, params=params)

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[Any]:
        raise NotImplementedError

    def _label_path(self, key: int | str) -> str:
        raise NotImplementedError

    # -- the calls each forge makes its own way -------------------------------------------------

    def iter_issues(
        self, params: Mapping[str, Any], *, wanted: int | None = None
    ) -> Iterator[Wire]:
        """Issues *and pull requests* (both forges list both; the caller drops the latter)."""
        raise NotImplementedError

    def list_comments(self, number: int, *, since: str | None = None) -> list[Wire]:
        raise NotImplementedError

    def list_assignees(self) -> list[Wire]:
        raise NotImplementedError

    def _create(self, path: str, payload: Wire, find_existing: FindExisting) -> Wire:
        """POST once (``HttpClient.create_once``: an ambiguous failure looks for the copy)."""
        return dict(self.http.create_once(path, json=payload, find_existing=find_existing))

    def _patch(self, path: str, payload: Wire) -> Any:
        """PATCH absolute values: a retry is harmless."""
        return self.http.patch(path, json=payload, idempotent=True).data

    # -- server -------------------------------------------------------------------------------

    def current_user(self) -> Wire:
        return dict(self._get("/user") or {})

    def repository(self) -> Wire:
        return dict(self._get(self._repo_path) or {})

    # -- issues -------------------------------------------------------------------------------

    def get_issue(self, number: int) -> Wire:
        return dict(self._get(f"{self._repo_path}/issues/{number}") or {})

    def create_issue(self, payload: Wire, *, find_existing: FindExisting) -> Wire:
        return self._create(f"{self._repo_path}/issues", payload, find_existing)

    # -- comments -----------------------------------------------------------------------------

    def create_comment(self, number: int, body: str, *, find_existing: FindExisting) -> Wire:
        path = f"{self._repo_path}/issues/{number}/comments"
        return self._create(path, {"body": body}, find_existing)

    def get_comment(self, comment_id: int) -> Wire:
        return dict(self._get(f"{self._repo_path}/issues/comments/{comment_id}") or {})

    def edit_comment(self, comment_id: int, body: str) -> Wire | None:
        """PATCH the body. ``None`` when the answer has none (Gitea's 204 for a comment without
        content, an event such as a label change)."""
        data = self._patch(f"{self._repo_path}/issues/comments/{comment_id}", {"body": body})
        return dict(data) if isinstance(data, dict) else None

    def delete_comment(self, comment_id: int) -> None:
        self.http.delete(f"{self._repo_path}/issues/comments/{comment_id}")

    # -- labels -------------------------------------------------------------------------------

    def list_labels(self) -> list[Wire]:
        return list(self._pages(f"{self._repo_path}/labels", {}))

    def create_label(self, payload: Wire, *, find_existing: FindExisting) -> Wire:
        return self._create(f"{self._repo_path}/labels", payload, find_existing)

    def edit_label(self, key: int | str, payload: Wire) -> Wire:
        return dict(self._patch(self._label_path(key), payload))

    def delete_label(self, key: int | str) -> None:
        self.http.delete(self._label_path(key))

    # -- milestones (by id on Gitea, by number on GitHub: the same path) ---------------------

    def list_milestones(self, state: str = "all") -> list[Wire]:
        return list(self._pages(f"{self._repo_path}/milestones", {"state": state}))

    def create_milestone(self, payload: Wire, *, find_existing: FindExisting) -> Wire:
        return self._create(f"{self._repo_path}/milestones", payload, find_existing)

    def edit_milestone(self, milestone: int, payload: Wire) -> Wire:
        return dict(self._patch(f"{self._repo_path}/milestones/{milestone}", payload))

    def delete_milestone(self, milestone: int) -> None:
        self.http.delete(f"{self._repo_path}/milestones/{milestone}")
