"""``GitHubBackend``: issue-core over one GitHub repository (REST, github.com or Enterprise).

What every forge does (connect, caches, the in-progress label, create-once, the merge on update,
the change feed, the comment-id check, ``test_connection``) is ``forge.base.ForgeBackend``'s;
this module holds GitHub's wire and its quirks only: pull requests in the issue lists, labels by
name and milestones by number, one PATCH for every field (labels and assignees included),
``state_reason`` as the close reason, the search API for text, token scopes from
``X-OAuth-Scopes``, a renamed repository's redirects, archived repositories, content-creation
pacing, and no issue deletion over REST.

Differences from the local store, all documented in ``docs/backends/github.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from issue_core.backends.forge import fields
from issue_core.backends.forge.base import (
    FORGE_CAPABILITIES,
    IN_PROGRESS_OPTION,
    RepositoryNotFound,
    first_of,
    listed,
    reason_of,
)
from issue_core.backends.forge.edit import IssueEdit
from issue_core.backends.forge.repo_backend import RepoApiBackend, RepoMapping
from issue_core.backends.github import mapping
from issue_core.core.dependencies import Link, LinkKind
from issue_core.core.errors import (
    IssueCoreError,
    NotFound,
    PermissionDenied,
    Unsupported,
)
from issue_core.core.interfaces import BackendInfo, Capability, ConfigOption
from issue_core.core.models import (
    Issue,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    close_reason_for,
    validate_description,
    validate_title,
)

if TYPE_CHECKING:
    import httpx

    from issue_core.backends._http import HttpClient
    from issue_core.backends.forge.events import ForgeItem
    from issue_core.backends.forge.sync_reads import RawComments
    from issue_core.backends.github.client import GitHubClient

KIND = "github"
DEFAULT_URL = "https://api.github.com"
DEFAULT_TOKEN_ENV = "GH_TOKEN"
FALLBACK_TOKEN_ENV = "GITHUB_TOKEN"  # what gh reads when GH_TOKEN is not set
API_VERSION = "2022-11-28"
# Scopes of a classic token that allow writing issues (public_repo: public repositories only).
WRITE_SCOPES = {"repo", "public_repo"}


class GitHubBackend(RepoApiBackend):
    """A ``ForgeBackend`` over GitHub's REST API: only what GitHub does its own way is here."""

    type_name: ClassVar[str] = KIND
    forge_name: ClassVar[str] = "GitHub"
    token_help: ClassVar[str] = (
        "create a token on GitHub (Settings > Developer settings: a fine-grained token with "
        "Issues read and write, or a classic one with the repo scope)"
    )
    auth_scheme: ClassVar[str] = "bearer"
    # GitHub's documented content-creation limits: 80 a minute, 500 an hour.
    write_windows: ClassVar[tuple[tuple[int, float], ...]] = ((80, 60.0), (500, 3600.0))
    # GitHub: on a secondary limit without retry-after, "wait at least one minute".
    unannounced_rate_limit_wait: ClassVar[float] = 60.0
    follows_redirects: ClassVar[bool] = True
    pull_comments_look_like_issue_comments: ClassVar[bool] = True
    comment_permission_hint: ClassVar[str] = (
        "GitHub lets a comment's author, and users with write access, change it"
    )
    # One PATCH carries everything; a user without push access keeps only title, body, state.
    silently_dropped_on_update: ClassVar[tuple[str, ...]] = ("labels", "assignees", "milestone")
    # GitHub's description types due_on as a string, never null: refused rather than sending
    # what its API does not define (or silently keeping the date).
    milestone_due_unremovable: ClassVar[str] = "GitHub's API cannot remove a milestone's due date"
    # GitHub's REST API cannot delete an issue (only GraphQL's deleteIssue, for admins).
    capabilities: ClassVar[frozenset[Capability]] = (
        FORGE_CAPABILITIES - {Capability.DELETE_ISSUES}
    ) | {Capability.EVENTS}
    # Issue dependencies and sub-issues; ``related`` has no GitHub form: the hidden block.
    native_link_kinds: ClassVar[frozenset[LinkKind]] = frozenset({LinkKind.BLOCKS, LinkKind.PARENT})
    config_options: ClassVar[tuple[ConfigOption, ...]] = (
        ConfigOption(
            "url",
            "GitHub API URL",
            default=DEFAULT_URL,
            required=False,
            help="https://api.github.com, or your GitHub Enterprise Server's https://HOST",
        ),
        ConfigOption("owner", "Repository owner", help="user or organisation owning the repo"),
        ConfigOption("repo", "Repository name"),
        ConfigOption(
            "token_env",
            "Environment variable holding the access token",
            default=DEFAULT_TOKEN_ENV,
            help="the variable's name is stored, never the token (GITHUB_TOKEN is tried "
            "when GH_TOKEN is not set, as gh does)",
        ),
        IN_PROGRESS_OPTION,
    )

    def _init_state(self) -> None:
        self._client: GitHubClient | None = None
        self._configured_repo = ""
        self._moved = False  # a redirect was followed: the next answer names the new repository
        self._search_missing = False  # the server has no search API (404): scan instead

    # -- lifecycle --------------------------------------------------------------------------------

    def connect(self, config: Mapping[str, Any]) -> None:
        import os

        named = str(config.get("token_env") or DEFAULT_TOKEN_ENV).strip()
        if (
            named == DEFAULT_TOKEN_ENV
            and not os.environ.get(DEFAULT_TOKEN_ENV, "").strip()
            and os.environ.get(FALLBACK_TOKEN_ENV, "").strip()
        ):
            config = {**config, "token_env": FALLBACK_TOKEN_ENV}  # gh's fallback
        super().connect(config)

    def _api_base(self, url: str) -> str:
        """github.com's API is its own host, and so is GitHub Enterprise Cloud's with data
        residency (``SUBDOMAIN.ghe.com`` answers at ``api.SUBDOMAIN.ghe.com``); a GitHub
        Enterprise Server's is ``/api/v3`` under its host."""
        base = (url or DEFAULT_URL).strip().rstrip("/")
        parts = urlsplit(base)
        host = parts.netloc.lower()
        if host in ("github.com", "www.github.com"):
            return DEFAULT_URL
        if host.endswith(".ghe.com") and not parts.path.strip("/"):
            return base if host.startswith("api.") else f"{parts.scheme}://api.{host}"
        if host == "api.github.com" or base.endswith("/api/v3"):
            return base
        return f"{base}/api/v3"

    def _http_options(self) -> dict[str, Any]:
        from issue_core.backends._http import GITHUB_PAGES

        return {
            "headers": {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            "page_style": GITHUB_PAGES,
        }

    def _open_client(self, http: HttpClient, settings: Mapping[str, str], config: Any) -> None:
        from issue_core.backends.github.client import PAGE_SIZE, GitHubClient

        page_size = config.get("page_size")
        self._configured_repo = f"{settings['owner']}/{settings['repo']}"
        self._client = GitHubClient(
            http,
            settings["owner"],
            settings["repo"],
            seen=self._seen,
            page_size=int(page_size) if page_size else PAGE_SIZE,
        )

    @property
    def client(self) -> GitHubClient:
        return self._connected(self._client)

    @property
    def wire(self) -> RepoMapping:
        return mapping

    # -- a renamed or moved repository ------------------------------------------------------------

    def _redirected(self, method: str, from_url: str, to_url: str) -> None:
        """GitHub answers a renamed or transferred repository's old name with a redirect to
        ``/repositories/ID/...`` (followed within the API's host): the answer names the new
        repository, which is then used for every later request."""
        self._moved = True

    def _seen(self, data: Any) -> None:
        if not self._moved:
            return
        name = mapping.repository_of(data)
        if not name or name.lower() == self._where.lower():
            return
        self._moved = False
        owner, _, repo = name.partition("/")
        self.client.move_to(owner, repo)
        self._notice(
            f"GitHub repository {self._configured_repo} was renamed or moved to {name}; "
            f"update the backend's config (owner = {owner!r}, repo = {repo!r})"
        )

    # -- errors GitHub explains in its headers ----------------------------------------------------

    def _refine_error(self, response: httpx.Response, error: IssueCoreError) -> IssueCoreError:
        status = response.status_code
        text = (response.text or "")[:2000].lower()
        method = response.request.method
        if status in (301, 302, 307, 308) and method not in ("GET", "HEAD"):
            return NotFound(
                f"{self._where} has moved (GitHub answered {status} to {method}); the write "
                "was not sent again",
                hint="read it once (issue list) to learn the new name, then update the "
                "backend's owner/repo",
            )
        if status == 403 and "archived" in text:
            return PermissionDenied(
                f"{self._where} is archived, so it is read-only: nothing was written",
                hint="unarchive the repository on GitHub to change its issues",
            )
        if status in (403, 404):
            scopes = response.headers.get("x-oauth-scopes")
            accepted = response.headers.get("x-accepted-oauth-scopes")
            missing = _missing_scopes(scopes, accepted)
            if missing:
                has = scopes.strip() if scopes and scopes.strip() else "none"
                return PermissionDenied(
                    f"{error.message}; the token lacks the scope {' or '.join(missing)} "
                    f"(it has: {has})",
                    hint=f"create a token with the {missing[0]} scope and export {self.token_env}",
                )
            if status == 403 and "personal access token" in text:
                return PermissionDenied(
                    f"{error.message}; a fine-grained token needs access to {self._where} "
                    "with the Issues permission (read and write to change anything)",
                    hint="edit the token on GitHub (Settings > Developer settings)",
                )
        return error

    # -- identity and health ----------------------------------------------------------------------

    def _server_version(self) -> str:
        if self.http.host == "api.github.com":
            return "github.com"
        meta = self.client.meta()  # GitHub Enterprise Server says its version here
        return str(meta.get("installed_version") or "Enterprise Server")

    def _repository(self) -> tuple[str | None, bool]:
        repo = self.client.repository()
        perms = repo.get("permissions") or {}
        name = repo.get("full_name")
        if repo.get("archived"):
            raise PermissionDenied(f"{name or self._where} is archived (read-only)")
        writable = bool(perms.get("admin") or perms.get("maintain") or perms.get("push"))
        writable = writable or bool(perms.get("triage"))  # triage may label and close
        return (str(name) if name else None), writable

    def _token_write_check(self) -> tuple[bool, str]:
        """The user may write; may the token? A classic token's scopes are in every answer;
        a fine-grained token sends none, and what it may do shows only when it tries."""
        try:
            scopes, _ = self.client.scopes()
        except IssueCoreError as exc:
            return False, reason_of(exc, "could not check the token's scopes")
        if scopes is None:
            return True, "write access (a fine-grained token: its Issues permission decides)"
        have = {s.strip() for s in scopes.split(",") if s.strip()}
        if have & WRITE_SCOPES:
            return True, f"write access (token scopes: {', '.join(sorted(have))})"
        return False, (
            f"the token's scopes ({', '.join(sorted(have)) or 'none'}) do not allow writing "
            "issues: create one with the repo scope (public_repo for a public repository)"
        )

    def test_connection(self) -> BackendInfo:
        info = super().test_connection()
        repo = info.checks.get("repository")
        if repo and not repo[0] and "archived" in repo[1]:
            # Readable, but nothing may be written: a permission failure, not the server's.
            info.check("repository", True, f"{self._where} is accessible (archived)")
            info.check("permissions", False, "archived: the repository is read-only", "permission")
        return info

    # -- issues: reading -------------------------------------------------------------------------

    def _raw_issues_since(self, since: datetime | None) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc"}
        if since is not None:
            params["since"] = fields.since_param(since)
        return self.client.iter_issues(params)

    def _search_marker(self, marker: str) -> Iterator[Issue]:
        if self._search_missing:
            return iter(())  # the base scans recent updates next
        return self._searched(f'"{_quoted(marker)}" in:body', state=None)

    def _searched(self, words: str, *, state: str | None) -> Iterator[Issue]:
        """Issues of this repository that GitHub's search finds (its index may lag a write)."""
        query = f"repo:{self._where} is:issue {words}"
        if state:
            query += f" is:{state}"
        mine = f"/repos/{self._where}".lower()
        try:
            found = list(self.client.search_issues(query))
        except NotFound:
            # A GitHub Enterprise Server without its search index answers 404 here.
            self._check_repository()
            self._search_missing = True
            return
        for raw in found:
            if mapping.is_pull_request(raw):
                continue
            if str(raw.get("repository_url") or "").lower().endswith(mine):
                yield self._to_issue(raw)

    def _matching(self, query: IssueFilter, *, wanted: int | None) -> Iterator[Issue]:
        """The issues ``query`` selects, in GitHub's order (or the search's)."""
        if query.text:
            words = " ".join(f'"{_quoted(w)}"' for w in query.text.split())
            state = "closed" if query.state is IssueState.CLOSED else None
            state = "open" if state is None and query.excludes_closed else state
            # A server seen without the search API (a 404) is not asked again: scanned.
            candidates: Iterator[Issue] = iter(
                [] if self._search_missing else list(self._searched(words, state=state))
            )
            if self._search_missing:
                candidates = self._scanned_for_text(query)
        else:
            milestone_number = None
            if query.milestone:
                found = self._find_milestone(query.milestone)
                if found is None:
                    return  # GitHub would answer an unknown milestone with a 422
                milestone_number = found.id
            params = mapping.filter_params(
                query, in_progress_label=self.in_progress_label, milestone_number=milestone_number
            )
            candidates = self._issues(params, wanted=wanted)
        for issue in candidates:
            if query.matches_fields(issue) and self._text_matches(query, issue):
                yield issue

    def _scanned_for_text(self, query: IssueFilter) -> Iterator[Issue]:
        """Without the search API: every issue the rest of the filter selects, the text looked
        for in its title, description and (when it has any) comments, as the local store does.
        One request per 100 issues, plus one per issue with comments that the title and
        description do not already match."""
        from issue_core.core.search import text_matches

        listing = IssueFilter(
            state=query.states if query.states is not None else "all",
            labels=query.labels,
            assignee=query.assignee,
            no_assignee=query.no_assignee,
            milestone=query.milestone,
            no_milestone=query.no_milestone,
            author=query.author,
            updated_since=query.updated_since,
        )
        for issue in self._matching(listing, wanted=None):
            text = query.text or ""
            if text_matches(text, (issue.title, issue.description)):
                yield issue
            elif issue.comments_count and issue.number is not None:
                comments = "\n".join(c.body for c in self.list_comments(issue.number))
                if text_matches(text, (issue.title, issue.description, comments)):
                    yield issue

    def _find_milestone(self, title: str) -> Milestone | None:
        # The exact name, as create and edit take it (names are exact on the forges).
        for refresh in (False, True):
            found = self._milestone_map(refresh=refresh).get(title)
            if found is not None:
                return found
        return None

    def _matching_checked(self, query: IssueFilter, *, wanted: int | None) -> Iterator[Issue]:
        try:
            yield from self._matching(query, wanted=wanted)
        except NotFound:
            self._check_repository()
            raise

    def iter_issues(self, filter: IssueFilter | None = None) -> Iterator[Issue]:
        query = filter or IssueFilter()
        yield from first_of(query, self._matching_checked(query, wanted=query.limit))

    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
        query = filter or IssueFilter()
        # GitHub sorts by created or updated time either way: a limit is answered from the
        # first pages. "number" (issues moved in keep no number order) needs every match.
        server_order = query.sort in ("created", "updated") and not query.text
        wanted = query.limit if server_order else None
        found = self._matching_checked(query, wanted=wanted)
        return listed(query, found, server_order=server_order)

    def _fetch_raw_issue(self, number: int) -> dict[str, Any]:
        try:
            return self.client.get_issue(number)
        except NotFound:
            self._check_repository()
            raise

    def _check_repository(self) -> None:
        """After a 404: GitHub answers a missing (or hidden) repository like a missing issue,
        so the repository is read once to say which it was."""
        try:
            self.client.repository()
        except NotFound:
            raise RepositoryNotFound(
                f"GitHub repository {self._where} not found on {self.http.host} (or not "
                "visible to this token)",
                hint=f"check owner and repo, and that the token in ${self.token_env} can read it",
            ) from None

    # -- issues: writing -----------------------------------------------------------------------

    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        title = validate_title(issue.title)
        description = validate_description(issue.description)
        state = IssueState.parse(issue.state)
        reason = close_reason_for(state, issue.close_reason)
        milestone = self._milestone_id(issue.milestone) if issue.milestone else None
        self._check_assignees(issue.assignees)
        labels = self._label_names(issue.labels, create=create_labels)
        if state is IssueState.IN_PROGRESS:
            labels.append(self._in_progress().name)

        def build(token: str | None) -> dict[str, Any]:
            payload: dict[str, Any] = {"title": title}
            payload["body"] = fields.issue_body(
                description,
                issue.sync_metadata,
                create_token=token,
                due_at=issue.due_at,
                priority=issue.priority,
            )
            if labels:
                payload["labels"] = labels
            if issue.assignees:
                payload["assignees"] = list(issue.assignees)
            if milestone is not None:
                payload["milestone"] = milestone
            return payload

        raw = self._create_once(build)
        if state is IssueState.CLOSED:
            # GitHub creates issues open: close it with its reason right after.
            raw = self.client.edit_issue(int(raw["number"]), mapping.state_fields(state, reason))
        created = self._to_issue(raw)
        self._refuse_dropped_on_create(issue, created, state)
        self._remember(int(raw["number"]), raw)
        return created

    def _create_token_of(self, raw: Mapping[str, Any]) -> str | None:
        return fields.create_token_of(raw.get("body"))

    def _write_update(self, edit: IssueEdit) -> Issue | None:
        raw, current, wanted = edit.raw, edit.current, edit.wanted
        payload: dict[str, Any] = {}
        if edit.title is not None:
            payload["title"] = edit.title
        # GitHub keeps the close reason itself (state_reason): not in the block.
        body = edit.body(self.body_key, close_reason=False)
        if body is not None:
            payload["body"] = body
        if edit.assignees_change:
            self._check_assignees(wanted.assignees)
            payload["assignees"] = list(wanted.assignees)
        if edit.milestone_changes:
            payload["milestone"] = (
                self._milestone_id(wanted.milestone) if wanted.milestone else None
            )
        if {"state", "close_reason"} & set(edit.changed):
            wire_state = mapping.state_fields(
                wanted.state, wanted.close_reason, reopening=raw.get("state") == "closed"
            )
            if raw.get("state") != wire_state["state"] or (
                wanted.close_reason is not current.close_reason
            ):
                payload.update(wire_state)
        known = {name: Label(name=name) for name in fields.label_names(raw)}
        labels = self._edited_labels(edit, known)
        if labels is not None and {lab.name for lab in labels} != set(known):
            payload["labels"] = sorted({lab.name for lab in labels}, key=str.lower)
        if not payload:
            return None  # the server already holds it
        self._recent.pop(edit.number, None)
        return self._edited(edit, self.client.edit_issue(edit.number, payload))

    # -- labels (GitHub addresses them by name) ---------------------------------------------------

    def _label_names(self, names: list[str], *, create: bool) -> list[str]:
        return [label.name for label in self._resolve_labels(names, create=create)]

    def _post_label(self, label: Label, *, find_existing: Callable[[], Label | None]) -> Label:
        def find() -> dict[str, Any] | None:
            found = find_existing()
            return {"id": found.id, "name": found.name, "color": found.color} if found else None

        raw = self.client.create_label(
            mapping.label_to_wire(label, for_create=True), find_existing=find
        )
        return mapping.label_from_wire(raw)

    def _patch_label(self, stored: Label, label: Label) -> Label:
        payload = mapping.label_to_wire(label, for_create=False, old_name=stored.name)
        return mapping.label_from_wire(self.client.edit_label(stored.name, payload))

    def _remove_label(self, stored: Label) -> None:
        self.client.delete_label(stored.name)

    # -- dependencies: issue dependencies (blocks) and sub-issues (parent) -------------------

    _RELATED_PATHS: ClassVar[dict[str, str]] = {
        "blocked_by": "dependencies/blocked_by",
        "blocks": "dependencies/blocking",
        "children": "sub_issues",
    }

    def _native_links(
        self, number: int, relations: Iterable[str], *, everywhere: bool = False
    ) -> list[tuple[str, Mapping[str, Any]]]:
        found: list[tuple[str, Mapping[str, Any]]] = []
        for relation in relations:
            if relation == "parent":
                parent = self.client.parent(number)
                others = [parent] if parent else []
            elif relation in self._RELATED_PATHS:
                others = self.client.list_related(number, self._RELATED_PATHS[relation])
            else:
                continue
            found.extend(
                (relation, other) for other in others if everywhere or self._in_this_repo(other)
            )
        return found

    def _in_this_repo(self, raw: Mapping[str, Any]) -> bool:
        """Another repository's issue has no number here (GitHub links across repositories)."""
        url = str(raw.get("repository_url") or "").lower()
        return not mapping.is_pull_request(raw) and url.endswith(f"/repos/{self._where.lower()}")

    def _open_blockers_of(self, raw: Mapping[str, Any]) -> int | None:
        summary = raw.get("issue_dependencies_summary")
        count = summary.get("blocked_by") if isinstance(summary, Mapping) else None
        return count if isinstance(count, int) else None

    def _add_native(self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        # GitHub takes the other issue's global id: a number would name another issue.
        if link.kind is LinkKind.PARENT:
            self.client.add_sub_issue(link.source, int(target["id"]))
        else:
            self.client.add_blocked_by(link.target, int(source["id"]))

    def _remove_native(
        self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]
    ) -> None:
        if link.kind is LinkKind.PARENT:
            self.client.remove_sub_issue(link.source, int(target["id"]))
        else:
            self.client.remove_blocked_by(link.target, int(source["id"]))

    def _write_body(self, number: int, raw: Mapping[str, Any], body: str) -> None:
        self.client.edit_issue(number, {"body": body})

    def delete_issue(self, number: int) -> None:
        raise Unsupported(
            "GitHub's REST API cannot delete issues",
            hint=f"close it instead: issue close {number} --reason not_planned",
        )

    # -- comments -----------------------------------------------------------------------------

    # -- events (``forge.event_stream``; the mapping is ``github.events``) ----------------------

    def _event_items(self, number: int | None, since: datetime | None) -> list[ForgeItem]:
        """Issue ``number``'s timeline; or the repository's stream: the issues updated since
        ``since`` (their creation), its issue events back to ``since`` (newest first, so the
        pages stop there) and the comments updated since (GitHub's events have none)."""
        from issue_core.backends.forge import events as forge_events
        from issue_core.backends.github import events

        label = self.in_progress_label
        if number is not None:
            wire = self._get_raw_issue(number)
            issue_id = str(wire["id"]) if wire.get("id") is not None else None
            found = events.event_items(
                self.client.iter_timeline(number), number, issue_id, in_progress_label=label
            )
            created = events.created_of(wire, number)
            return forge_events.with_original_title([created, *found] if created else found)
        items: list[ForgeItem] = []
        ids = {n: ident for ident, n in self._number_by_id.items()}
        for listed_issue in self._raw_issues_since(since):
            created = events.created_of(listed_issue, int(listed_issue.get("number") or 0))
            if created is not None and not self._is_pull_request(listed_issue):
                ids[created.number] = created.issue_id or ""
                items.append(created)
        for event in self.client.iter_repo_events():
            at = fields.timestamp(event.get("created_at"))
            if since is not None and at is not None and at < since:
                break  # newest first: the rest is older still
            issue = event.get("issue")
            if not isinstance(issue, Mapping) or self._is_pull_request(issue):
                continue
            n, ident = int(issue.get("number") or 0), issue.get("id")
            item = events.event_item(
                event, n, str(ident) if ident else None, in_progress_label=label
            )
            if item is not None:
                items.append(item)
        for n, comment in self._raw_comments_since(since):
            items.extend(forge_events.comment_items(comment, n, ids.get(n) or None))
        return forge_events.with_original_title(items)

    def _newest_activity(self) -> datetime | None:
        """The server's time: the ``Date`` of ``/rate_limit`` (free of the budget)."""
        return self._server_now(self.client.rate_limit)

    def _raw_comments_since(self, since: datetime | None) -> RawComments:
        """GitHub's repository-wide list (a request per 100 comments instead of one per issue),
        oldest update first; comments on pull requests are left out: their ``html_url`` names
        the pull request (asked of the issue only when a comment has no ``html_url``)."""
        pulls: set[int] = set()
        issues = set(self._number_by_id.values())
        for raw in self.client.list_repo_comments(
            since=fields.since_param(since) if since else None
        ):
            number = fields.comment_issue_number(raw)
            if number is None or number in pulls:
                continue
            on_pull = mapping.comment_on_pull_request(raw)
            if on_pull is None and number not in issues:
                on_pull = self._number_is_pull_request(number)
            if on_pull:
                pulls.add(number)
                continue
            issues.add(number)
            yield number, raw

    def _number_is_pull_request(self, number: int) -> bool:
        try:
            self._get_raw_issue(number, reuse=True)
        except NotFound:
            return True
        return False


# --------------------------------------------------------------------------- helpers

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _quoted(text: str) -> str:
    """A word for GitHub's search as a phrase: quotes dropped, so user text stays text (never
    a qualifier such as ``repo:other/repo``)."""
    return text.replace('"', " ").strip()


def _missing_scopes(scopes: str | None, accepted: str | None) -> list[str]:
    """The scopes GitHub accepts for a request that the token does not have (classic tokens
    only: a fine-grained token sends no ``X-OAuth-Scopes``)."""
    if scopes is None or not accepted:
        return []
    have = {s.strip() for s in scopes.split(",") if s.strip()}
    wanted = [s.strip() for s in accepted.split(",") if s.strip()]
    return [] if have & set(wanted) else wanted


__all__ = ["GitHubBackend"]
