"""GitLab REST wire calls (``/api/v4``). Returns wire JSON only; ``mapping`` turns it into models.

The project is addressed by its numeric id or by its full path (``group/sub/repo``), URL-encoded
into one path segment as GitLab asks (``group%2Fsub%2Frepo``). Issues are addressed by their
project-scoped ``iid``, never by the global ``id``.

Lists are paged with ``per_page=100`` (GitLab's largest page): offset pages with ``X-Total``
are fetched concurrently; above 10,000 items GitLab leaves ``X-Total`` out and ``X-Next-Page``
is followed. Project issues that many continue by keyset pagination (``pagination=keyset``, a
``Link`` to the next page) where the server offers it: GitLab 18.3 and later, learnt from
``/version`` and remembered a day per server (``forge.settings_cache``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from issue_core.backends._http import GITLAB_PAGES, HttpClient
from issue_core.core.errors import NotFound

Wire = dict[str, Any]

MAX_PAGE_SIZE = 100  # GitLab's largest per_page
KEYSET_SINCE = (18, 3)  # the first GitLab whose project issues list offers keyset pagination
VERSION_KEY = "version"  # settings_cache: major * 1000 + minor
# Orders keyset pagination accepts for project issues (others fall back to offset on GitLab).
KEYSET_ORDERS = frozenset({"created_at", "updated_at", "id", "title", "due_date"})
PAGINATION_MODES = ("auto", "offset", "keyset")


def parse_version(text: str) -> tuple[int, int] | None:
    """``"18.3.1-ee"`` -> ``(18, 3)``; ``None`` for what is not a version."""
    parts = str(text or "").split(".")
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or "x")
    except (IndexError, ValueError):
        return None


class GitLabClient:
    def __init__(
        self,
        http: HttpClient,
        project: str,
        *,
        pagination: str = "auto",
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        self.http = http
        self.project = project
        self.pagination = pagination
        self.page_size = max(1, min(MAX_PAGE_SIZE, page_size))
        self._project_path = f"/projects/{quote(project, safe='')}"
        self._version: tuple[int, int] | None = None

    # -- server ----------------------------------------------------------------------

    def version(self) -> Wire:
        return dict(self.http.get_json("/version") or {})

    def current_user(self) -> Wire:
        return dict(self.http.get_json("/user") or {})

    def token_self(self) -> Wire:
        """The token's own record (scopes, expiry): GitLab 15.5+, personal/project/group
        access tokens (an OAuth token gets a 404 or 401)."""
        return dict(self.http.get_json("/personal_access_tokens/self") or {})

    def project_info(self) -> Wire:
        return dict(self.http.get_json(self._project_path) or {})

    def server_version(self) -> tuple[int, int] | None:
        """``(major, minor)``, from the day's remembered value or ``/version``."""
        if self._version is None:
            from issue_core.backends.forge import settings_cache

            remembered = settings_cache.load_number("gitlab", self.http.base_url, VERSION_KEY)
            if remembered is not None:
                self._version = divmod(remembered, 1000)
            else:
                try:
                    found = parse_version(str(self.version().get("version") or ""))
                except NotFound:
                    found = None  # a proxy that hides /version: offset pages work everywhere
                if found is None:
                    return None
                self._version = found
                settings_cache.store_number(
                    "gitlab", self.http.base_url, VERSION_KEY, found[0] * 1000 + found[1]
                )
        return self._version

    def uses_keyset(self, params: Mapping[str, Any]) -> bool:
        if self.pagination == "offset" or params.get("order_by", "created_at") not in KEYSET_ORDERS:
            return False
        if self.pagination == "keyset":
            return True
        version = self.server_version()
        return version is not None and version >= KEYSET_SINCE

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        return self.http.paginate(
            path, params=params or {}, page_size=self.page_size, style=GITLAB_PAGES
        )

    # -- issues ----------------------------------------------------------------------

    def iter_issues(
        self, params: Mapping[str, Any], *, wanted: int | None = None
    ) -> Iterator[Wire]:
        """Project issues matching ``params``.

        Offset pages first: with ``X-Total`` the other pages are fetched concurrently (and
        read again if the list moved meanwhile). Above 10,000 items GitLab sends no total,
        and offset pages could only be followed one by one, ever slower on the server: there
        the list continues by keyset where the server offers it (GitLab >= 18.3), skipping
        the issues page 1 already gave. ``pagination = "keyset"`` reads by keyset from the
        start, ``"offset"`` never does.
        """
        path = f"{self._project_path}/issues"
        unbounded = wanted is None or wanted > self.page_size
        if self.pagination == "keyset" and unbounded and self.uses_keyset(params):
            return self._keyset(path, params, seen=set())
        first = self.http.get(path, params={**params, "page": 1, "per_page": self.page_size})
        offset = self.http.paginate(
            path,
            params=params,
            page_size=self.page_size,
            style=GITLAB_PAGES,
            wanted=wanted,
            stable_key=_issue_id,
            first=first,
        )
        counted = "x-total" in first.headers or not first.headers.get("x-next-page")
        if counted or self.pagination == "offset" or not unbounded:
            return offset
        if not self.uses_keyset(params):
            return offset
        return self._keyset(path, params, seen=set(), first=first)

    def _keyset(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        seen: set[Any],
        first: Any = None,
    ) -> Iterator[Wire]:
        if first is not None:
            for raw in first.data or []:
                seen.add(_issue_id(raw))
                yield raw
        keyset = {**params, "pagination": "keyset", "per_page": self.page_size}
        keyset.setdefault("order_by", "created_at")
        keyset.setdefault("sort", "desc")
        for raw in self.http.paginate_links(path, params=keyset):
            if _issue_id(raw) not in seen:
                yield raw

    def milestone_counts(self, title: str) -> tuple[int, int]:
        """``(open, closed)`` issues of the milestone ``title`` (GitLab's milestones carry no
        counts): ``issues_statistics``, one request."""
        path = f"{self._project_path}/issues_statistics"
        data = self.http.get_json(path, params={"milestone": title}) or {}
        counts = (data.get("statistics") or {}).get("counts") or {}
        return int(counts.get("opened") or 0), int(counts.get("closed") or 0)

    def get_issue(self, iid: int) -> Wire:
        return dict(self.http.get_json(f"{self._project_path}/issues/{iid}"))

    def create_issue(self, payload: Wire, *, find_existing: Callable[[], Wire | None]) -> Wire:
        path = f"{self._project_path}/issues"
        return dict(self.http.create_once(path, json=payload, find_existing=find_existing))

    def edit_issue(self, iid: int, payload: Wire) -> Wire:
        """PUT the changes. Every field GitLab takes is an absolute value or an idempotent
        change (``add_labels`` of a label the issue has, ``state_event`` to the state it is
        in), so a repeat is harmless."""
        response = self.http.put(f"{self._project_path}/issues/{iid}", json=payload)
        return dict(response.data)

    def delete_issue(self, iid: int) -> None:
        self.http.delete(f"{self._project_path}/issues/{iid}")

    # -- issue links ----------------------------------------------------------------------

    def list_links(self, iid: int) -> list[Wire]:
        """Every link of issue ``iid``, each the other issue with its ``issue_link_id`` and
        ``link_type`` as seen from ``iid``. GitLab answers the whole list at once (the
        endpoint takes no paging parameters), so one request reads all of it."""
        return list(self.http.get_json(f"{self._project_path}/issues/{iid}/links") or [])

    def create_link(self, iid: int, target_iid: int, link_type: str) -> None:
        payload = {
            "target_project_id": self.project,
            "target_issue_iid": target_iid,
            "link_type": link_type,
        }
        self.http.post(f"{self._project_path}/issues/{iid}/links", json=payload)

    def delete_link(self, iid: int, link_id: int) -> None:
        self.http.delete(f"{self._project_path}/issues/{iid}/links/{link_id}")

    # -- notes (comments) -------------------------------------------------------------

    def list_notes(self, iid: int) -> Iterator[Wire]:
        """Every note of the issue, oldest first, system notes ("changed the milestone")
        included: the mapping leaves them out."""
        return self._pages(
            f"{self._project_path}/issues/{iid}/notes",
            {"sort": "asc", "order_by": "created_at"},
        )

    def iter_notes_by_update(self, iid: int) -> Iterator[Wire]:
        """The issue's notes, the last updated first, system notes included; pages after the
        first only as the caller reads on (it stops at the first note older than its cursor)."""
        return self.http.paginate(
            f"{self._project_path}/issues/{iid}/notes",
            params={"sort": "desc", "order_by": "updated_at"},
            page_size=self.page_size,
            style=GITLAB_PAGES,
            wanted=self.page_size,
        )

    def iter_resource_events(self, iid: int, table: str) -> Iterator[Wire]:
        """Every row of one of the issue's resource-event tables (``state``, ``label``,
        ``milestone``), oldest first; GitLab takes no time filter there."""
        return self._pages(f"{self._project_path}/issues/{iid}/resource_{table}_events")

    def get_note(self, iid: int, note_id: int) -> Wire:
        return dict(self.http.get_json(f"{self._project_path}/issues/{iid}/notes/{note_id}"))

    def create_note(self, iid: int, body: str, *, find_existing: Callable[[], Wire | None]) -> Wire:
        path = f"{self._project_path}/issues/{iid}/notes"
        return dict(self.http.create_once(path, json={"body": body}, find_existing=find_existing))

    def edit_note(self, iid: int, note_id: int, body: str) -> Wire:
        path = f"{self._project_path}/issues/{iid}/notes/{note_id}"
        return dict(self.http.put(path, json={"body": body}).data)

    def delete_note(self, iid: int, note_id: int) -> None:
        self.http.delete(f"{self._project_path}/issues/{iid}/notes/{note_id}")

    def search_notes(self, text: str) -> Iterator[Wire]:
        """Notes of the project whose text matches (GitLab's project search, scope ``notes``:
        issues, merge requests and commits alike; the caller keeps the issues' notes)."""
        return self._pages(f"{self._project_path}/search", {"scope": "notes", "search": text})

    # -- labels ---------------------------------------------------------------------------

    def list_labels(self) -> list[Wire]:
        """The project's labels and those of its groups (``include_ancestor_groups`` is true by
        default): its issues may carry either."""
        return list(self._pages(f"{self._project_path}/labels"))

    def create_label(self, payload: Wire, *, find_existing: Callable[[], Wire | None]) -> Wire:
        path = f"{self._project_path}/labels"
        return dict(self.http.create_once(path, json=payload, find_existing=find_existing))

    def edit_label(self, label_id: int, payload: Wire) -> Wire:
        return dict(self.http.put(f"{self._project_path}/labels/{label_id}", json=payload).data)

    def delete_label(self, label_id: int) -> None:
        self.http.delete(f"{self._project_path}/labels/{label_id}")

    # -- milestones -----------------------------------------------------------------------

    def list_milestones(self) -> list[Wire]:
        """Project milestones and those of its parent groups (issues may use either)."""
        path = f"{self._project_path}/milestones"
        return list(self._pages(path, {"include_ancestors": True}))

    def _milestone_path(self, raw: Mapping[str, Any]) -> str:
        """A group milestone is changed through its group, a project one through the project."""
        group = raw.get("group_id")
        if group is not None and raw.get("project_id") is None:
            return f"/groups/{int(group)}/milestones/{int(raw['id'])}"
        return f"{self._project_path}/milestones/{int(raw['id'])}"

    def create_milestone(self, payload: Wire, *, find_existing: Callable[[], Wire | None]) -> Wire:
        path = f"{self._project_path}/milestones"
        return dict(self.http.create_once(path, json=payload, find_existing=find_existing))

    def edit_milestone(self, raw: Mapping[str, Any], payload: Wire) -> Wire:
        return dict(self.http.put(self._milestone_path(raw), json=payload).data)

    def delete_milestone(self, raw: Mapping[str, Any]) -> None:
        self.http.delete(self._milestone_path(raw))

    # -- users ----------------------------------------------------------------------------

    def list_users(self) -> list[Wire]:
        """The users who can be assigned in the project (members, inherited ones included)."""
        return list(self._pages(f"{self._project_path}/users"))


def _issue_id(raw: Any) -> Any:
    return raw.get("id") if isinstance(raw, dict) else None
