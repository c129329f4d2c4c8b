"""``GiteaBackend``: issue-core over one Gitea repository (REST ``/api/v1``).

What every forge does (connect, caches, the in-progress label, create-once, the merge on update,
the change feed, ``test_connection``) is ``forge.base.ForgeBackend``'s; this module holds Gitea's
wire and its quirks only: ``content_version`` on body edits, labels replaced by id after the
fields, assignees checked first (Gitea answers an unknown one with a 500 after applying the
title), comments addressed by id alone, the token-scope probe, a milestone due date that cannot
be removed, admin-only deletes, and ``q`` also searching the hidden block.

Differences from the local store, all documented in ``docs/backends/gitea.md``: ``in_progress`` is
``open`` plus a label; ``sync_metadata`` lives in a hidden block at the end of the body; labels and
milestones are addressed by name/title here and by id on the wire; ``version`` is ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from issue_core.backends.forge.base import (
    FORGE_CAPABILITIES,
    IN_PROGRESS_OPTION,
    changed_names,
    first_of,
    listed,
    reason_of,
    token_env_option,
)
from issue_core.backends.forge.edit import IssueEdit
from issue_core.backends.forge.fields import comment_issue_number, since_param
from issue_core.backends.forge.repo_backend import RepoApiBackend, RepoMapping
from issue_core.backends.gitea import mapping
from issue_core.core.dependencies import Link, LinkKind
from issue_core.core.errors import (
    AuthError,
    Conflict,
    IssueCoreError,
    NotFound,
    Unsupported,
    ValidationError,
)
from issue_core.core.interfaces import Capability, ConfigOption
from issue_core.core.models import (
    Issue,
    IssueFilter,
    IssueState,
    Label,
    close_reason_for,
    validate_description,
    validate_title,
)

if TYPE_CHECKING:
    from issue_core.backends._http import HttpClient
    from issue_core.backends.forge.events import ForgeItem
    from issue_core.backends.forge.sync_reads import RawComments
    from issue_core.backends.gitea.client import GiteaClient

KIND = "gitea"  # the backend type: names it in setting and cursor errors
DEFAULT_TOKEN_ENV = "GITEA_API_TOKEN"


class GiteaBackend(RepoApiBackend):
    """A ``ForgeBackend`` over Gitea's wire: only what Gitea does its own way is here."""

    type_name: ClassVar[str] = KIND
    forge_name: ClassVar[str] = "Gitea"
    token_help: ClassVar[str] = "create a token in Gitea (Settings > Applications)"
    comment_permission_hint: ClassVar[str] = (
        "Gitea lets only a comment's author or a user with write access change it; "
        "the token also needs the write:issue scope"
    )
    # Gitea ignores an empty due date on edit: refused rather than silently kept.
    milestone_due_unremovable: ClassVar[str] = "Gitea cannot remove a milestone's due date"
    capabilities: ClassVar[frozenset[Capability]] = FORGE_CAPABILITIES | {Capability.EVENTS}
    config_options: ClassVar[tuple[ConfigOption, ...]] = (
        ConfigOption("url", "Gitea URL", help="e.g. https://gitea.example.com"),
        ConfigOption("owner", "Repository owner", help="user or organisation owning the repo"),
        ConfigOption("repo", "Repository name"),
        token_env_option(DEFAULT_TOKEN_ENV),
        IN_PROGRESS_OPTION,
    )

    native_link_kinds: ClassVar[frozenset[LinkKind]] = frozenset({LinkKind.BLOCKS})

    def _init_state(self) -> None:
        self._client: GiteaClient | None = None
        self._dependencies_enabled: bool | None = None  # the repository's setting, read once

    # -- lifecycle --------------------------------------------------------------------------------

    def _api_base(self, url: str) -> str:
        base = url.strip().rstrip("/")
        return base if base.endswith("/api/v1") else f"{base}/api/v1"

    def _open_client(self, http: HttpClient, settings: Mapping[str, str], config: Any) -> None:
        from issue_core.backends.gitea.client import GiteaClient

        page_size = config.get("page_size")
        self._client = GiteaClient(
            http,
            settings["owner"],
            settings["repo"],
            page_size=int(page_size) if page_size else None,
        )

    @property
    def client(self) -> GiteaClient:
        return self._connected(self._client)

    @property
    def wire(self) -> RepoMapping:
        return mapping

    # -- identity and health ---------------------------------------------------------------

    def _server_version(self) -> str:
        # Gitea refuses /version too when the token is invalid (the base reports it as reached).
        return str(self.client.version().get("version") or "unknown")

    def _repository(self) -> tuple[str | None, bool]:
        repo = self.client.repository()
        perms = repo.get("permissions") or {}
        name = repo.get("full_name")
        return (str(name) if name else None), bool(perms.get("admin") or perms.get("push"))

    def _token_write_check(self) -> tuple[bool, str]:
        """The user may write; may the token? Gitea sends no scope header, and its scope check
        runs before the handler: an empty edit of issue #0 (which never exists) is a 404 for a
        token with write:issue and a 403 for a read-only one. Nothing is written either way."""
        try:
            self.client.probe_issue_write()
        except NotFound:
            return True, "write access"
        except AuthError as exc:
            return False, reason_of(exc, "the token is read-only") + (
                " - the token is read-only: create one with the write:issue scope"
            )
        except IssueCoreError as exc:
            return False, reason_of(exc, "could not check the token's scopes")
        return False, "could not check the token's scopes (unexpected answer)"

    # -- issues: reading -----------------------------------------------------------------------

    def _raw_issues_since(self, since: datetime | None) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] = {"state": "all", "type": "issues"}
        if since is not None:
            params["since"] = since_param(since)
        return self.client.iter_issues(params)

    def _search_marker(self, marker: str) -> Iterator[Issue]:
        return self._issues({"state": "all", "type": "issues", "q": marker})

    def _filter_can_match(self, query: IssueFilter) -> bool:
        """Gitea ignores unknown label/milestone names (returning *everything*): check first."""
        labels = set(query.labels)
        if query.state is IssueState.IN_PROGRESS:
            labels.add(self.in_progress_label)
        if labels and not labels <= set(self._label_map()):
            return False
        return not (query.milestone and query.milestone not in self._milestone_map())

    def _names_unknown_user(self, query: IssueFilter) -> bool:
        """Whether a 404 on the issue list means "no such user" in an assignee/author filter
        (Gitea's answer to a login it does not know) rather than a missing repository."""
        if not (query.assignee or query.author):
            return False
        self.client.repository()  # a missing repository stays NotFound
        return True

    def _matching(self, query: IssueFilter, *, wanted: int | None) -> Iterator[Issue]:
        params = mapping.filter_params(query, in_progress_label=self.in_progress_label)
        for issue in self._issues(params, wanted=wanted):
            if query.matches_fields(issue) and self._text_matches(query, issue):
                yield issue

    def iter_issues(self, filter: IssueFilter | None = None) -> Iterator[Issue]:
        query = filter or IssueFilter()
        if not self._filter_can_match(query):
            return
        try:
            yield from first_of(query, self._matching(query, wanted=query.limit))
        except NotFound:
            if not self._names_unknown_user(query):
                raise

    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
        query = filter or IssueFilter()
        if not self._filter_can_match(query):
            return []
        # Gitea lists by creation time, newest first: that answers "created desc" with a limit
        # from the first pages. Any other order, "number" included (migrated issues were
        # created out of number order), needs every match before sorting.
        server_order = query.sort == "created" and query.direction == "desc"
        wanted = query.limit if server_order else None
        try:
            return listed(query, self._matching(query, wanted=wanted), server_order=server_order)
        except NotFound:
            if self._names_unknown_user(query):
                return []
            raise

    def _fetch_raw_issue(self, number: int) -> dict[str, Any]:
        return self.client.get_issue(number)

    # -- issues: writing -------------------------------------------------------------------------

    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        title = validate_title(issue.title)
        description = validate_description(issue.description)
        state = IssueState.parse(issue.state)
        # Everything is checked before anything is written: the milestone and the assignees
        # first (an unknown one writes nothing), labels last (they may be created).
        milestone_id = self._milestone_id(issue.milestone) if issue.milestone else None
        self._check_assignees(issue.assignees)
        label_ids = self._label_ids(issue.labels, create=create_labels)
        if state is IssueState.IN_PROGRESS:
            label_ids.append(self._in_progress_label_id())

        def build(token: str | None) -> dict[str, Any]:
            payload: dict[str, Any] = {"title": title}
            payload["body"] = mapping.issue_body(
                description,
                issue.sync_metadata,
                create_token=token,
                due_at=issue.due_at,
                priority=issue.priority,
                close_reason=close_reason_for(state, issue.close_reason),
            )
            if label_ids:
                payload["labels"] = label_ids
            if issue.assignees:
                payload["assignees"] = list(issue.assignees)
            if milestone_id is not None:
                payload["milestone"] = milestone_id
            if issue.due_at is not None:
                payload["due_date"] = mapping.due_date_param(issue.due_at)
            if state is IssueState.CLOSED:
                payload["closed"] = True
            return payload

        raw = self._create_once(build)
        created = self._to_issue(raw)
        if state is IssueState.CLOSED and created.state is not IssueState.CLOSED:
            # Servers older than the "closed" create option open it: close it now.
            raw = self.client.edit_issue(created.number or 0, {"state": "closed"}, retry_safe=True)
            created = self._to_issue(raw)
        self._refuse_dropped_on_create(issue, created, state)
        self._remember(int(raw["number"]), raw)
        return created

    def _create_token_of(self, raw: Mapping[str, Any]) -> str | None:
        return mapping.create_token_of(raw)

    def _write_update(self, edit: IssueEdit) -> Issue | None:
        number, raw, current, wanted = edit.number, edit.raw, edit.current, edit.wanted
        # 1. Work out and check every write before making any.
        payload: dict[str, Any] = {}
        retry_safe = True
        if edit.title is not None:
            payload["title"] = edit.title
        body = edit.body(self.body_key)
        if body is not None:
            payload["body"] = body
            version = mapping.content_version_of(raw)
            if version is not None:
                # Gitea refuses the edit if the body changed since our read (HTTP 400).
                payload["content_version"] = version
                retry_safe = False  # a repeat would see its own edit as a conflict
        if edit.due_changes:
            if wanted.due_at is None:
                payload["unset_due_date"] = True
            else:
                payload["due_date"] = mapping.due_date_param(wanted.due_at)
        if edit.assignees_change:
            self._check_assignees(wanted.assignees)
            payload["assignees"] = list(wanted.assignees)
        if edit.milestone_changes:
            payload["milestone"] = self._milestone_id(wanted.milestone) if wanted.milestone else 0
        wire_state = "closed" if wanted.state is IssueState.CLOSED else "open"
        if wire_state != raw.get("state"):
            payload["state"] = wire_state
        known = mapping.label_ids_by_name(raw)
        labels = self._edited_labels(edit, _labels_by_name(known))
        label_ids: list[int] | None = None
        if labels is not None and {int(lab.id or 0) for lab in labels} != set(known.values()):
            label_ids = sorted({int(lab.id or 0) for lab in labels})

        # 2. The fields, then the labels: a failure leaves the issue as it was, or says what
        # was applied.
        self._recent.pop(number, None)
        if payload:
            raw = self._patch_issue(number, payload, retry_safe=retry_safe, before=current)
        applied = changed_names(current, self._to_issue(raw))
        if label_ids is not None:
            try:
                self.client.replace_issue_labels(number, label_ids)
            except IssueCoreError as error:
                if applied:
                    error.message = (
                        f"{error.message}; the labels of #{number} were not changed, but "
                        f"{', '.join(applied)} had been applied"
                    )
                raise
            raw = self.client.get_issue(number)
        elif not payload:
            return None  # nothing to send: the server already has it
        return self._edited(edit, raw)

    def _patch_issue(
        self, number: int, payload: dict[str, Any], *, retry_safe: bool, before: Issue
    ) -> dict[str, Any]:
        """PATCH the issue. Gitea applies title, body, due date, assignees, milestone and state
        one after the other: when it fails part-way, undo the title (the field a stale body
        leaves behind) or say exactly what was applied."""
        try:
            return self.client.edit_issue(number, payload, retry_safe=retry_safe)
        except (Conflict, ValidationError) as error:
            # Gitea answers a stale content_version with 400 "the issue is already changed".
            if isinstance(error, Conflict) and "open dependencies" in error.message:
                # Gitea refuses to close an issue while one that blocks it is open (412).
                raise Conflict(
                    f"#{number} cannot be closed while an issue that blocks it is open",
                    hint=f"see its blockers: issue dep list {number}",
                ) from None
            if isinstance(error, ValidationError) and "already changed" not in error.message:
                raise self._with_applied(number, before, error) from None
            if "title" in payload:
                # The title was written before the body was refused: put it back.
                self.client.edit_issue(number, {"title": before.title}, retry_safe=True)
            raise Conflict(
                f"issue #{number} was edited on the server while this change was written; "
                "nothing was changed",
                hint="reload the issue and apply the change again",
            ) from None
        except IssueCoreError as error:
            raise self._with_applied(number, before, error) from None

    def _can_seal(self, raw: Mapping[str, Any]) -> bool:
        # ChangeContent updates WHERE content_version = the one sent (Gitea 1.27's API takes
        # it): a real compare-and-set, so a claim's lease is sealed in the body (forge.claims).
        return mapping.content_version_of(raw) is not None

    def _write_body(self, number: int, raw: Mapping[str, Any], body: str) -> None:
        payload: dict[str, Any] = {"body": body}
        version = mapping.content_version_of(raw)
        if version is not None:
            payload["content_version"] = version  # a body edited meanwhile is a Conflict
        self._patch_issue(number, payload, retry_safe=version is None, before=self._to_issue(raw))

    def _send_delete_issue(self, number: int) -> None:
        self.client.delete_issue(number)

    def _delete_refused_hint(self, number: int) -> str:
        # Gitea lets only repository admins delete (its route is guarded by reqAdmin): a user
        # who may write everything else gets a 403 here, which deserves saying so.
        return (
            "Gitea lets only the repository's owner and admins delete issues (with a token "
            f"that has write:issue); closing needs write access only: issue close {number}"
        )

    # -- dependencies: ``blocks`` natively, the other kinds in the hidden block ---------------

    def _native_kinds(self) -> frozenset[LinkKind]:
        """``blocks`` natively unless the repository has issue dependencies disabled (its
        ``internal_tracker`` says; read once): Gitea then refuses them, and they are kept in
        the hidden block like the other kinds, which is said once."""
        if self._dependencies_enabled is None:
            tracker = self.client.repository().get("internal_tracker")
            enabled = (
                not isinstance(tracker, Mapping)
                or tracker.get("enable_issue_dependencies", True) is not False
            )
            self._dependencies_enabled = enabled
            if not enabled:
                self._notice(
                    f"issue dependencies are disabled in {self._where}'s settings: blocking "
                    "links are kept in the issues' hidden metadata block instead"
                )
        return self.native_link_kinds if self._dependencies_enabled else frozenset()

    def _native_links(
        self, number: int, relations: Iterable[str], *, everywhere: bool = False
    ) -> list[tuple[str, Mapping[str, Any]]]:
        found: list[tuple[str, Mapping[str, Any]]] = []
        for relation in relations:
            which = {"blocked_by": "dependencies", "blocks": "blocks"}.get(relation)
            if which is None:
                continue
            for other in self.client.list_related(number, which):
                if everywhere or self._in_this_repository(other):
                    found.append((relation, other))
        return found

    def _in_this_repository(self, raw: Mapping[str, Any]) -> bool:
        repo = raw.get("repository")
        name = repo.get("full_name") if isinstance(repo, Mapping) else None
        return not mapping.is_pull_request(raw) and str(name or "").lower() == self._where.lower()

    def _add_native(self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        self.client.change_dependency(link.target, link.source, add=True)

    def _remove_native(
        self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]
    ) -> None:
        self.client.change_dependency(link.target, link.source, add=False)

    # -- labels -----------------------------------------------------------------------------------

    def _label_ids(self, names: list[str], *, create: bool) -> list[int]:
        """Gitea addresses labels by id on the wire."""
        return [int(label.id or 0) for label in self._resolve_labels(names, create=create)]

    def _in_progress_label_id(self) -> int:
        return int(self._in_progress().id or 0)

    def _post_label(self, label: Label, *, find_existing: Callable[[], Label | None]) -> Label:
        def find() -> dict[str, Any] | None:
            found = find_existing()
            return (
                {"id": int(found.id or 0), "name": found.name, "color": found.color}
                if found
                else None
            )

        raw = self.client.create_label(
            mapping.label_to_wire(label, for_create=True), find_existing=find
        )
        return mapping.label_from_wire(raw)

    def _patch_label(self, stored: Label, label: Label) -> Label:
        payload = mapping.label_to_wire(label, for_create=False)
        return mapping.label_from_wire(self.client.edit_label(int(stored.id or 0), payload))

    def _remove_label(self, stored: Label) -> None:
        self.client.delete_label(int(stored.id or 0))

    # -- comments ---------------------------------------------------------------------------------

    def _raw_comments_since(self, since: datetime | None) -> RawComments:
        for raw in self.client.iter_repo_comments(since=since_param(since) if since else None):
            number = comment_issue_number(raw)
            if number is not None:  # None: a pull request's comment
                yield number, raw

    # -- events (``forge.event_stream``; the mapping is ``gitea.events``) -----------------------

    def _event_items(self, number: int | None, since: datetime | None) -> list[ForgeItem]:
        """Issue ``number``'s timeline; or, for every issue, the issues updated since
        ``since`` (every timeline row touches its issue) and then each one's timeline."""
        if number is not None:
            return self._issue_event_items(self._get_raw_issue(number), since)
        items: list[ForgeItem] = []
        for raw in self._raw_issues_since(since):
            if not self._is_pull_request(raw):
                items.extend(self._issue_event_items(raw, since))
        return items

    def _issue_event_items(self, raw: Mapping[str, Any], since: datetime | None) -> list[ForgeItem]:
        from issue_core.backends.forge import events as forge_events
        from issue_core.backends.gitea import events

        number = int(raw.get("number") or 0)
        issue_id = str(raw["id"]) if raw.get("id") is not None else None
        created = events.created_of(raw, number)
        try:
            rows = list(
                self.client.iter_timeline(number, since=since_param(since) if since else None)
            )
        except NotFound:
            # The issue was just read: a 404 here is a server without the timeline API.
            raise Unsupported(
                f"this Gitea server has no issue timeline (GET .../issues/{number}/timeline "
                "answered 404), so it has no event log",
                hint="Gitea 1.15 or later has it; issue events works there",
            ) from None
        found = events.timeline_items(
            rows, number, issue_id, in_progress_label=self.in_progress_label
        )
        return forge_events.with_original_title([created, *found] if created else found)

    def _newest_activity(self) -> datetime | None:
        """The server's time: the ``Date`` of a ``/version`` answer (``_server_now``)."""
        return self._server_now(self.client.version)


# --------------------------------------------------------------------------- helpers


def _labels_by_name(ids: Mapping[str, int] | None) -> dict[str, Label]:
    """The labels an issue carries, from their ids by name (what Gitea's answer lists)."""
    return {name: Label(name=name, id=str(ident)) for name, ident in (ids or {}).items()}
