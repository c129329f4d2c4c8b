"""``GitLabBackend``: issue-core over one GitLab project (REST ``/api/v4``).

What every forge does (connect, caches, the in-progress label, create-once, the merge on update,
the change feed, ``test_connection``) is ``forge.base.ForgeBackend``'s; this module holds
GitLab's wire and its quirks only: the ``iid`` as the number, one ``PUT`` per edit (fields,
``add_labels``/``remove_labels`` and ``state_event`` together, so an edit is applied whole or
not at all), assignees by user id, project and group milestones, notes without the system
notes, comment search through the project's note search, milestone counts from
``issues_statistics``, the token's scopes from ``/personal_access_tokens/self``, and
``PRIVATE-TOKEN`` or ``Bearer`` auth.

Differences from the local store, all documented in ``docs/backends/gitlab.md``: ``in_progress``
is ``opened`` plus a label; ``sync_metadata`` lives in a hidden block at the end of the
description; due dates are days on GitLab (the exact instant rides in the block);
``version`` is ``updated_at``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from issue_core.backends.forge.base import (
    FORGE_CAPABILITIES,
    IN_PROGRESS_OPTION,
    RECOVERY_WINDOW,
    ForgeBackend,
    RepositoryNotFound,
    first_of,
    listed,
    reason_of,
    token_env_option,
)
from issue_core.backends.forge.body import comment_signature, sign_comment
from issue_core.backends.forge.edit import IssueEdit
from issue_core.backends.forge.fields import changed_body, create_token_of, issue_body, timestamp
from issue_core.backends.forge.links import NativeRefused
from issue_core.backends.forge.settings import number_setting
from issue_core.backends.gitlab import mapping
from issue_core.backends.gitlab.quick_actions import neutralise, restore, rewritten
from issue_core.core.dependencies import Link, LinkKind
from issue_core.core.errors import (
    AuthError,
    ConfigError,
    Conflict,
    IssueCoreError,
    NotFound,
    PermissionDenied,
    Unsupported,
    ValidationError,
)
from issue_core.core.interfaces import Capability, ConfigOption
from issue_core.core.models import (
    Comment,
    Issue,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    MilestoneState,
    User,
    close_reason_for,
    validate_comment,
    validate_description,
    validate_marker,
    validate_title,
)

if TYPE_CHECKING:
    from issue_core.backends._http import HttpClient
    from issue_core.backends.forge.events import ForgeItem
    from issue_core.backends.forge.sync_reads import RawComments
    from issue_core.backends.gitlab.client import GitLabClient

KIND = "gitlab"
DEFAULT_URL = "https://gitlab.com"
DEFAULT_TOKEN_ENV = "GITLAB_TOKEN"
AUTH_SCHEMES = {"private-token": "private-token", "bearer": "bearer"}
# Access levels (GitLab's roles): Planner (15) and up may label, assign and close any issue.
PLANNER = 15
WRITE_SCOPE = "api"


class GitLabBackend(ForgeBackend):
    """A ``ForgeBackend`` over GitLab's wire: only what GitLab does its own way is here."""

    type_name: ClassVar[str] = KIND
    forge_name: ClassVar[str] = "GitLab"
    token_help: ClassVar[str] = (
        "create a token in GitLab (Preferences > Access tokens) with the api scope"
    )
    auth_scheme: ClassVar[str] = "private-token"
    capabilities: ClassVar[frozenset[Capability]] = FORGE_CAPABILITIES | {Capability.EVENTS}
    body_key: ClassVar[str] = "description"
    # Issue links: relates_to on every tier; blocks on a paid tier only (Free refuses it, and
    # the link goes to the hidden block), so blocks are read from both places.
    native_link_kinds: ClassVar[frozenset[LinkKind]] = frozenset(
        {LinkKind.RELATED, LinkKind.BLOCKS}
    )
    mixed_link_kinds: ClassVar[frozenset[LinkKind]] = frozenset({LinkKind.BLOCKS})
    config_options: ClassVar[tuple[ConfigOption, ...]] = (
        ConfigOption(
            "url", "GitLab URL", default=DEFAULT_URL, help="gitlab.com or a self-hosted GitLab"
        ),
        ConfigOption(
            "project",
            "Project path or id",
            help="the full path with its groups (group/sub/repo) or the numeric id",
        ),
        token_env_option(DEFAULT_TOKEN_ENV),
        ConfigOption(
            "auth",
            "How the token is sent (private-token or bearer)",
            default="private-token",
            required=False,
            help="private-token for personal/project/group access tokens, bearer for OAuth",
        ),
        IN_PROGRESS_OPTION,
    )

    def _init_state(self) -> None:
        self._client: GitLabClient | None = None
        self._user_ids: dict[str, int] | None = None
        self._group_labels: set[str] = set()
        self._milestone_wire: dict[str, dict[str, Any]] = {}
        self._blocks_refused = False  # this project's tier refused a blocks link
        self._project_id: Any = None  # the project's numeric id, once an issue told it

    # -- lifecycle --------------------------------------------------------------------------

    def _api_base(self, url: str) -> str:
        base = url.strip().rstrip("/")
        return base if base.endswith("/api/v4") else f"{base}/api/v4"

    def _auth_scheme(self, config: Mapping[str, Any]) -> str:
        value = str(config.get("auth") or "private-token").strip().lower()
        if value not in AUTH_SCHEMES:
            raise ConfigError(
                f"gitlab setting 'auth' must be private-token or bearer, not {value!r}",
                hint="bearer for an OAuth token, private-token for access tokens",
            )
        return AUTH_SCHEMES[value]

    def _open_client(self, http: HttpClient, settings: Mapping[str, str], config: Any) -> None:
        from issue_core.backends.gitlab.client import MAX_PAGE_SIZE, PAGINATION_MODES, GitLabClient

        pagination = str(config.get("pagination") or "auto").strip().lower()
        if pagination not in PAGINATION_MODES:
            raise ConfigError(
                f"gitlab setting 'pagination' must be one of {', '.join(PAGINATION_MODES)}, "
                f"not {pagination!r}"
            )
        project = settings["project"].strip().strip("/")
        page_size = int(number_setting(config, "page_size", MAX_PAGE_SIZE, kind=KIND))
        self._client = GitLabClient(http, project, pagination=pagination, page_size=page_size)

    @property
    def client(self) -> GitLabClient:
        return self._connected(self._client)

    @property
    def _where(self) -> str:
        project = self.client.project
        return f"project {project}" if project.isdigit() else project

    @contextlib.contextmanager
    def _in_project(self) -> Iterator[None]:
        """GitLab answers a missing project (or one the token cannot see) with a 404
        ``Project Not Found`` on every path below it: say that, not "issue not found"."""
        try:
            yield
        except NotFound as error:
            if "project not found" not in error.message.lower():
                raise
            raise RepositoryNotFound(
                f"GitLab project {self.client.project} not found on {self.http.host} "
                "(or not visible to this token)",
                hint="check 'project' (the full path group/sub/repo, or the numeric id) and "
                f"that the token in ${self.token_env} can read it",
            ) from None

    # -- identity and health ----------------------------------------------------------------

    def _fetch_me(self) -> User:
        return mapping.user_from_wire(self.client.current_user())

    def _server_version(self) -> str:
        return str(self.client.version().get("version") or "unknown")

    def _repository(self) -> tuple[str | None, bool]:
        project = self.client.project_info()
        perms = project.get("permissions") or {}
        levels = [
            int((perms.get(key) or {}).get("access_level") or 0)
            for key in ("project_access", "group_access")
        ]
        name = project.get("path_with_namespace")
        return (str(name) if name else None), max(levels) >= PLANNER

    def _token_write_check(self) -> tuple[bool, str]:
        """The user may write; may the token? GitLab tells an access token its scopes."""
        try:
            record = self.client.token_self()
        except (NotFound, AuthError, PermissionDenied):
            return True, "write access (the token's scopes cannot be read: an OAuth token?)"
        except IssueCoreError as exc:
            return False, reason_of(exc, "could not check the token's scopes")
        scopes = [str(s) for s in record.get("scopes") or []]
        if WRITE_SCOPE not in scopes:
            return False, (
                f"the token has the scopes {', '.join(scopes) or 'none'}: writing needs the "
                f"{WRITE_SCOPE!r} scope (create a token with it)"
            )
        expires = record.get("expires_at")
        return True, "write access" + (f" (the token expires on {expires})" if expires else "")

    # -- issues: reading ----------------------------------------------------------------------

    def _to_issue(self, raw: Mapping[str, Any]) -> Issue:
        return self._note_number(
            mapping.issue_from_wire(raw, in_progress_label=self.in_progress_label), raw
        )

    def _is_pull_request(self, raw: Mapping[str, Any]) -> bool:
        return False  # merge requests have their own endpoints on GitLab

    def _raw_issues_since(self, since: datetime | None) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] = {"state": "all"}
        if since is not None:
            params["updated_after"] = mapping.time_param(since)
        with self._in_project():
            yield from self.client.iter_issues(params)

    def _search_marker(self, marker: str) -> Iterator[Issue]:
        return self._issues({"state": "all", "search": marker})

    def _issues(self, params: Mapping[str, Any], *, wanted: int | None = None) -> Iterator[Issue]:
        with self._in_project():
            for raw in self.client.iter_issues(params, wanted=wanted):
                yield self._to_issue(raw)

    def _visible_match(self, query: IssueFilter, issue: Issue) -> bool:
        """GitLab's search also reads the hidden block of the description: a match whose
        words are there but not in the title or the visible text is dropped."""
        if not query.text:
            return True
        visible = f"{issue.title}\n{issue.description}".lower()
        hidden = repr(issue.sync_metadata).lower()
        return not any(w in hidden and w not in visible for w in query.text.lower().split())

    def _comment_matches(self, query: IssueFilter, seen: set[int]) -> Iterator[Issue]:
        """Issues whose comments match ``query.text`` (GitLab's issue search reads only the
        title and description): the project's note search, then each issue it names."""
        iids: dict[int, None] = {}
        for note in self.client.search_notes(query.text or ""):
            iid = mapping.note_issue_iid(note)
            if iid is not None and iid not in seen and mapping.is_user_note(note):
                iids[iid] = None
        for iid in iids:
            try:
                issue = self._to_issue(self.client.get_issue(iid))
            except NotFound:
                continue  # deleted since the search index saw it
            if query.matches_fields(issue):
                yield issue

    def _matching(self, query: IssueFilter, *, wanted: int | None) -> Iterator[Issue]:
        params = mapping.filter_params(query, in_progress_label=self.in_progress_label)
        seen: set[int] = set()
        for issue in self._issues(params, wanted=wanted):
            if query.matches_fields(issue) and self._visible_match(query, issue):
                seen.add(issue.number or 0)
                yield issue
        if query.text:
            yield from self._comment_matches(query, seen)

    def iter_issues(self, filter: IssueFilter | None = None) -> Iterator[Issue]:
        query = filter or IssueFilter()
        if query.text or query.sort == "number":
            yield from self.list_issues(query)
            return
        yield from first_of(query, self._matching(query, wanted=query.limit))

    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
        query = filter or IssueFilter()
        # GitLab sorts by creation or update time itself: a limit is answered from the first
        # pages. By number (imports are created out of iid order), or with comment matches
        # joining in, every match is read before sorting.
        server_order = query.sort in ("created", "updated") and not query.text
        found = self._matching(query, wanted=query.limit if server_order else None)
        return listed(query, found, server_order=server_order)

    def _fetch_raw_issue(self, number: int) -> dict[str, Any]:
        with self._in_project():
            return self.client.get_issue(number)

    # -- issues: writing ----------------------------------------------------------------------

    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        title = validate_title(issue.title)
        description = validate_description(issue.description)
        state = IssueState.parse(issue.state)
        # Everything is checked before anything is written: milestone and assignees first (an
        # unknown one writes nothing), labels last (they may be created).
        milestone_id = self._milestone_id(issue.milestone) if issue.milestone else None
        assignee_ids = self._assignee_ids(issue.assignees)
        names = [lab.name for lab in self._resolve_labels(issue.labels, create=create_labels)]
        if state is IssueState.IN_PROGRESS:
            names.append(self._in_progress().name)

        def build(token: str | None) -> dict[str, Any]:
            payload: dict[str, Any] = {
                "title": title,
                "description": neutralise(
                    issue_body(
                        description,
                        issue.sync_metadata,
                        create_token=token,
                        due_at=issue.due_at,
                        priority=issue.priority,
                        close_reason=close_reason_for(state, issue.close_reason),
                    )
                ),
            }
            if names:
                payload["labels"] = ",".join(names)
            if assignee_ids:
                payload["assignee_ids"] = assignee_ids
            if milestone_id is not None:
                payload["milestone_id"] = milestone_id
            if issue.due_at is not None:
                payload["due_date"] = mapping.day_param(issue.due_at)
            return payload

        raw = self._create_once(build)
        created = self._to_issue(raw)
        if state is IssueState.CLOSED:
            # GitLab creates issues open: close it in a second request.
            raw = self.client.edit_issue(created.number or 0, {"state_event": "close"})
            created = self._to_issue(raw)
        self._refuse_dropped_on_create(issue, created, state)
        self._remember(created.number or 0, raw)
        return created

    def _create_token_of(self, raw: Mapping[str, Any]) -> str | None:
        return create_token_of(raw.get("description"))

    def _post_issue(
        self, payload: dict[str, Any], *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        return self.client.create_issue(payload, find_existing=find_existing)

    def _assignee_ids(self, names: list[str]) -> list[int]:
        """GitLab assigns by user id: the project's users, read once per backend. An unknown
        name is refused before anything is written (GitLab would drop it without a word)."""
        if not names:
            return []
        if self._user_ids is None:
            self._user_ids = {
                (mapping.username_of(raw) or "").lower(): int(raw["id"])
                for raw in self.client.list_users()
                if raw.get("id") is not None
            }
        unknown = [name for name in names if name.lower() not in self._user_ids]
        if unknown:
            raise ValidationError(
                f"cannot assign {', '.join(repr(n) for n in unknown)}: not a user who can be "
                f"assigned in {self._where}",
                hint="see 'issue user list' for the users who can be assigned",
            )
        return [self._user_ids[name.lower()] for name in names]

    def _write_update(self, edit: IssueEdit) -> Issue | None:
        # Work out and check every change, then send them in one PUT.
        raw, wanted = edit.raw, edit.wanted
        payload: dict[str, Any] = {}
        if edit.title is not None:
            payload["title"] = edit.title
        # GitLab keeps no reason for a close: not_planned and duplicate ride in the block.
        # Compared as written, before quick actions were neutralised (``quick_actions``).
        body = changed_body(wanted, edit.changed, restore(raw.get(self.body_key) or ""))
        if body is not None:
            payload[self.body_key] = neutralise(body)
        if edit.due_changes:
            payload["due_date"] = mapping.day_param(wanted.due_at)
        if edit.assignees_change:
            payload["assignee_ids"] = self._assignee_ids(wanted.assignees)
        if edit.milestone_changes:
            milestone = wanted.milestone
            payload["milestone_id"] = self._milestone_id(milestone) if milestone else 0
        on_issue = set(mapping.label_names(raw))
        labels = self._edited_labels(edit, {name: Label(name=name) for name in on_issue})
        if labels is not None:
            names = {lab.name for lab in labels}
            if names - on_issue:
                payload["add_labels"] = ",".join(sorted(names - on_issue))
            if on_issue - names:
                payload["remove_labels"] = ",".join(sorted(on_issue - names))
        closed = wanted.state is IssueState.CLOSED
        if closed != (raw.get("state") == "closed"):
            payload["state_event"] = "close" if closed else "reopen"
        if not payload:
            return None  # the server already has it
        self._recent.pop(edit.number, None)
        try:
            raw = self.client.edit_issue(edit.number, payload)
        except (ValidationError, NotFound, PermissionDenied, AuthError):
            raise  # refused before anything was written
        except IssueCoreError as error:
            # GitLab applies one PUT whole or not at all: say which it was.
            raise self._with_applied(edit.number, edit.current, error) from None
        return self._edited(edit, raw)

    # -- dependencies: issue links (relates_to; blocks on a paid tier), parent in the block --

    def _native_kinds(self) -> frozenset[LinkKind]:
        if self._blocks_refused or self._free_tier_remembered():
            return frozenset({LinkKind.RELATED})
        return self.native_link_kinds

    def _tier_key(self) -> str:
        return f"blocked_issues_refused {self.client.project}"

    def _free_tier_remembered(self) -> bool:
        from issue_core.backends.forge import settings_cache

        if settings_cache.load_number("gitlab", self.http.base_url, self._tier_key()):
            self._blocks_refused = True
        return self._blocks_refused

    def _native_links(
        self, number: int, relations: Iterable[str], *, everywhere: bool = False
    ) -> list[tuple[str, Mapping[str, Any]]]:
        wanted = set(relations)
        found: list[tuple[str, Mapping[str, Any]]] = []
        for other in self.client.list_links(number):
            relation = _RELATION_OF.get(str(other.get("link_type") or "relates_to"))
            here = everywhere or other.get("project_id") == self._own_project_id(number)
            if relation in wanted and here:
                found.append((relation, other))
        return found

    def _own_project_id(self, number: int) -> Any:
        """This project's numeric id (another project's issue has no number here: GitLab links
        across projects), from an issue read moments ago or issue ``number``: once."""
        if self._project_id is None:
            recent = next(iter(self._recent.values()), None)
            raw = recent[1] if recent else self._get_raw_issue(number, reuse=True)
            self._project_id = raw.get("project_id")
        return self._project_id

    def _add_native(self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        link_type = "relates_to" if link.kind is LinkKind.RELATED else "blocks"
        try:
            self.client.create_link(link.source, link.target, link_type)
        except PermissionDenied as error:
            if link_type != "blocks" or "not available for current license" not in error.message:
                raise
            self._refuse_blocks()
            raise NativeRefused from None
        except Conflict:
            raise Conflict(
                f"GitLab keeps one link between two issues, and #{link.source} and "
                f"#{link.target} are linked already",
                hint=f"see it with: issue dep list {link.source}",
            ) from None

    def _refuse_blocks(self) -> None:
        """GitLab Free has no blocking links: they go to the hidden block, said once."""
        from issue_core.backends.forge import settings_cache

        self._blocks_refused = True
        settings_cache.store_number("gitlab", self.http.base_url, self._tier_key(), 1)
        self._notice(
            f"GitLab refuses blocking links in {self._where} (they need a paid tier): "
            "they are kept in the issues' hidden metadata block instead"
        )

    def _remove_native(
        self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]
    ) -> None:
        wanted = "relates_to" if link.kind is LinkKind.RELATED else "blocks"
        for other in self.client.list_links(link.source):
            if other.get("iid") == link.target and other.get("link_type") == wanted:
                self.client.delete_link(link.source, int(other["issue_link_id"]))
                return
        raise NotFound(f"no such dependency: {link.describe()}")

    def _write_body(self, number: int, raw: Mapping[str, Any], body: str) -> None:
        self.client.edit_issue(number, {"description": rewritten(body)})

    def _send_delete_issue(self, number: int) -> None:
        self.client.delete_issue(number)

    def _delete_refused_hint(self, number: int) -> str:
        return (
            "GitLab lets only the project's owners (and administrators) delete issues; closing "
            f"needs the Planner role or higher: issue close {number}"
        )

    # -- labels -------------------------------------------------------------------------------

    def _fetch_labels(self) -> list[Label]:
        with self._in_project():
            raws = self.client.list_labels()
        self._group_labels = {str(raw["id"]) for raw in raws if mapping.is_group_label(raw)}
        return [mapping.label_from_wire(raw) for raw in raws]

    def _post_label(self, label: Label, *, find_existing: Callable[[], Label | None]) -> Label:
        def find() -> dict[str, Any] | None:
            found = find_existing()
            return {"id": int(found.id or 0), "name": found.name} if found else None

        raw = self.client.create_label(
            mapping.label_to_wire(label, for_create=True), find_existing=find
        )
        return mapping.label_from_wire(raw)

    def _project_label_id(self, stored: Label, action: str) -> int:
        if stored.id in self._group_labels:
            raise Unsupported(
                f"cannot {action} label {stored.name!r}: it belongs to a group of {self._where}",
                hint="change group labels in the group's settings on GitLab",
            )
        return int(stored.id or 0)

    def _patch_label(self, stored: Label, label: Label) -> Label:
        label_id = self._project_label_id(stored, "edit")
        payload = mapping.label_to_wire(label, for_create=False, rename_from=stored.name)
        return mapping.label_from_wire(self.client.edit_label(label_id, payload))

    def _remove_label(self, stored: Label) -> None:
        self.client.delete_label(self._project_label_id(stored, "delete"))

    # -- milestones ---------------------------------------------------------------------------

    def _fetch_milestones(self) -> list[Milestone]:
        with self._in_project():
            raws = self.client.list_milestones()
        self._milestone_wire = {str(raw["id"]): dict(raw) for raw in raws}
        return [mapping.milestone_from_wire(raw) for raw in raws]

    def list_milestones(self, state: MilestoneState | None = None) -> list[Milestone]:
        """GitLab's milestones carry no issue counts: one ``issues_statistics`` each."""
        milestones = super().list_milestones(state)
        for milestone in milestones:
            counts = self.client.milestone_counts(milestone.title)
            milestone.open_issues, milestone.closed_issues = counts
        return milestones

    def _milestone_id(self, title: str) -> int:
        return int(self._stored_milestone(title).id or 0)

    def _milestone_raw(self, stored: Milestone) -> dict[str, Any]:
        """The wire form (project or group milestone) of a milestone listed before."""
        return self._milestone_wire.get(stored.id or "") or {"id": int(stored.id or 0)}

    def _post_milestone(self, milestone: Milestone) -> Milestone:
        title = milestone.title

        def find() -> dict[str, Any] | None:
            return next((r for r in self.client.list_milestones() if r.get("title") == title), None)

        raw = self.client.create_milestone(
            mapping.milestone_to_wire(milestone, for_create=True), find_existing=find
        )
        if MilestoneState.parse(milestone.state) is MilestoneState.CLOSED:
            # GitLab creates milestones active: close it in a second request.
            raw = self.client.edit_milestone(raw, {"state_event": "close"})
        self._milestone_wire[str(raw["id"])] = dict(raw)
        return mapping.milestone_from_wire(raw)

    def _patch_milestone(self, stored: Milestone, milestone: Milestone) -> Milestone:
        raw = self.client.edit_milestone(
            self._milestone_raw(stored), mapping.milestone_to_wire(milestone, for_create=False)
        )
        self._milestone_wire[str(raw["id"])] = dict(raw)
        return mapping.milestone_from_wire(raw)

    def _remove_milestone(self, stored: Milestone) -> None:
        self.client.delete_milestone(self._milestone_raw(stored))

    # -- comments -----------------------------------------------------------------------------

    def list_comments(self, number: int) -> list[Comment]:
        self._get_raw_issue(number, reuse=True)
        try:
            notes = list(self.client.list_notes(number))
        except NotFound:
            raise NotFound(f"issue #{number} not found in {self._where}") from None
        return [self._read_comment(raw, number) for raw in notes if mapping.is_user_note(raw)]

    def _read_comment(self, raw: Mapping[str, Any], number: int) -> Comment:
        """The note with its hidden block (agent, marker; if any) taken out of the text."""
        comment = mapping.comment_from_wire(dict(raw), issue_number=number)
        comment.body, comment.agent, comment.marker = comment_signature(comment.body)
        if comment.marker is not None and comment.id is not None:
            self._comment_markers[comment.id] = comment.marker
        return comment

    def add_comment(self, number: int, body: str, *, marker: str | None = None) -> Comment:
        checked = validate_marker(marker) if marker is not None else None
        # Never run as quick actions (``quick_actions``): the hidden block is not at risk.
        text = neutralise(sign_comment(validate_comment(body), self.agent, checked))
        self._get_raw_issue(number, reuse=True)  # a clear NotFound
        started = datetime.fromtimestamp(self._clock(), UTC)

        def find() -> dict[str, Any] | None:
            me = self.whoami().username
            since = started - RECOVERY_WINDOW
            for raw in reversed(list(self.client.list_notes(number))):
                created = timestamp(raw.get("created_at"))
                if created is not None and created < since:
                    break
                if raw.get("body") == text and mapping.username_of(raw.get("author")) == me:
                    return dict(raw)
            return None

        raw = self.client.create_note(number, text, find_existing=find)
        self._recent.pop(number, None)
        if raw.get("id") is None:
            # GitLab's 202 for a note it ran as quick actions alone (``quick_actions`` writes
            # none): said in one line, never a note read from what is no note.
            raise ValidationError(
                f"GitLab ran the comment on #{number} as quick actions and stored no comment",
                hint="quote the lines that start with '/' in the comment",
            )
        return self._read_comment(raw, number)

    # -- the comment feed: no repository-wide list of notes, one request per changed issue ---

    def _raw_comments_since(self, since: datetime | None) -> RawComments:
        # Saving a note touches its issue (GitLab's Note#touch_noteable): the issues updated
        # since hold every note updated since. ``since`` is the cursor's second less the one
        # the feed steps back (for forges whose "since" is exclusive; GitLab's is not): an
        # issue last updated before the cursor's second has no note newer than it.
        changed = list(self._issues_since(since))
        if since is not None:
            cursor_second = since + timedelta(seconds=1)
            changed = [i for i in changed if i.updated_at is None or i.updated_at >= cursor_second]
        return self._notes_of(changed, since)

    def _raw_comments_of(self, issues: list[Issue]) -> RawComments:
        return self._notes_of([issue for issue in issues if issue.comments_count], None)

    def _notes_of(self, issues: list[Issue], since: datetime | None) -> RawComments:
        from issue_core.backends._http import fetch_concurrently

        def notes(number: int) -> list[tuple[int, Mapping[str, Any]]]:
            found: list[tuple[int, Mapping[str, Any]]] = []
            with self._in_project():
                for raw in self.client.iter_notes_by_update(number):
                    updated = timestamp(raw.get("updated_at"))
                    if since is not None and updated is not None and updated < since:
                        break  # newest update first: the rest is older still
                    if mapping.is_user_note(raw):
                        found.append((number, raw))
            return found

        numbers = [issue.number for issue in issues if issue.number is not None]
        return fetch_concurrently(notes, numbers, self.http.page_concurrency)

    def _note_id(self, number: int, comment_id: str) -> int:
        if not isinstance(number, int) or number < 1:
            raise ValidationError(f"invalid issue number {number!r}")
        text = str(comment_id).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise self._comment_missing(text, number)
        return int(text)

    def _user_note(self, number: int, note_id: int) -> dict[str, Any]:
        """Notes are addressed under their issue on GitLab (another issue's note is a 404);
        a system note is not a comment."""
        try:
            raw = self.client.get_note(number, note_id)
        except NotFound:
            raise self._comment_missing(note_id, number) from None
        if not mapping.is_user_note(raw):
            raise self._comment_missing(note_id, number)
        return raw

    def edit_comment(self, number: int, comment_id: str, body: str) -> Comment:
        body = validate_comment(body)
        note_id = self._note_id(number, comment_id)
        # The marker stays with the note (sync finds it by that).
        marker = self._read_comment(self._user_note(number, note_id), number).marker
        text = neutralise(sign_comment(body, self.agent, marker))  # never run as quick actions
        try:
            raw = self.client.edit_note(number, note_id, text)
        except PermissionDenied as error:
            raise self._comment_refused(error, "edit", note_id, number) from None
        except NotFound:
            raise self._comment_missing(note_id, number) from None
        self._recent.pop(number, None)
        return self._read_comment(raw, number)

    def delete_comment(self, number: int, comment_id: str) -> None:
        note_id = self._note_id(number, comment_id)
        self._user_note(number, note_id)
        try:
            self.client.delete_note(number, note_id)
        except PermissionDenied as error:
            raise self._comment_refused(error, "delete", note_id, number) from None
        except NotFound:
            raise self._comment_missing(note_id, number) from None
        self._recent.pop(number, None)

    def _comment_refused(
        self, error: PermissionDenied, action: str, note_id: int, number: int
    ) -> PermissionDenied:
        return PermissionDenied(
            f"cannot {action} comment {note_id} on #{number} in {self._where}: {error.message}",
            hint="GitLab lets only a comment's author edit it (and maintainers delete it)",
        )

    # -- claim markers (forge.claims): notes under their issue --------------------------------

    def _marker_comments(self, number: int) -> Sequence[Mapping[str, Any]]:
        return [raw for raw in self.client.list_notes(number) if mapping.is_user_note(raw)]

    def _post_marker(self, number: int, text: str) -> Mapping[str, Any]:
        def find() -> dict[str, Any] | None:  # an answer lost: the lease id is unique
            return next(
                (dict(n) for n in self.client.list_notes(number) if n.get("body") == text), None
            )

        return self.client.create_note(number, text, find_existing=find)

    def _drop_marker(self, number: int, note_id: int) -> None:
        self.client.delete_note(number, note_id)

    # -- events (``forge.event_stream``; the mapping is ``gitlab.events``) ----------------------

    def _event_items(self, number: int | None, since: datetime | None) -> list[ForgeItem]:
        """Issue ``number``'s history; or, for every issue, the issues updated since
        ``since`` (every resource event and note moves its issue's ``updated_at``) and then
        each one's history."""
        if number is not None:
            return self._issue_event_items(self._get_raw_issue(number), since)
        items: list[ForgeItem] = []
        for raw in list(self._raw_issues_since(since)):
            items.extend(self._issue_event_items(raw, since))
        return items

    def _issue_event_items(self, raw: Mapping[str, Any], since: datetime | None) -> list[ForgeItem]:
        """The issue's creation, its three resource-event lists and its notes (GitLab
        filters none of them by time: each is read whole, and what is older than ``since``
        dropped here, once the earliest rename has given the created event its title)."""
        from issue_core.backends.forge import events as forge_events
        from issue_core.backends.forge.event_stream import items_since
        from issue_core.backends.gitlab import events

        number = int(raw.get("iid") or 0)
        issue_id = str(raw["id"]) if raw.get("id") is not None else None
        created = events.created_of(raw, number)
        found = [created] if created is not None else []
        label = self.in_progress_label
        with self._in_project():
            for table in events.TABLES:
                rows = self.client.iter_resource_events(number, table)
                found += events.resource_items(
                    table, rows, number, issue_id, in_progress_label=label
                )
            found += events.note_items(self.client.list_notes(number), number, issue_id)
        return list(items_since(forge_events.with_original_title(found), since))

    def _newest_activity(self) -> datetime | None:
        """The server's time: the ``Date`` of a ``/version`` answer (``_server_now``)."""
        return self._server_now(self.client.version)

    # -- users --------------------------------------------------------------------------------

    def _fetch_users(self) -> list[User]:
        with self._in_project():
            return [mapping.user_from_wire(raw) for raw in self.client.list_users()]


# GitLab's link_type, seen from the issue asked about -> the relation of core.dependencies.
_RELATION_OF = {"relates_to": "related", "blocks": "blocks", "is_blocked_by": "blocked_by"}
