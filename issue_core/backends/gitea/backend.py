"""``GiteaBackend``: issue-core over one Gitea repository (REST ``/api/v1``).

Differences from the local store, all documented in ``docs/backends/gitea.md``: ``in_progress`` is
``open`` plus a label; ``sync_metadata`` lives in a hidden block at the end of the body; labels and
milestones are addressed by name/title here and by id on the wire; ``version`` is ``updated_at``.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from issue_core.backends.forge.feed import FeedPosition, change_order
from issue_core.backends.forge.settings import bool_setting, number_setting, text_setting
from issue_core.backends.gitea import mapping
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
from issue_core.core.interfaces import (
    BackendInfo,
    Capability,
    Change,
    ConfigOption,
    SyncableBackend,
)
from issue_core.core.merge import applied_to, merge_issue
from issue_core.core.models import (
    Comment,
    Issue,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    MilestoneState,
    User,
    format_ts,
    validate_color,
    validate_comment,
    validate_description,
    validate_label_name,
    validate_title,
)

if TYPE_CHECKING:
    import httpx

    from issue_core.backends.gitea.client import GiteaClient

KIND = "gitea"  # the backend type: names it in setting and cursor errors
DEFAULT_TOKEN_ENV = "GITEA_API_TOKEN"
DEFAULT_TIMEOUT = 15.0  # seconds for one request, retries included
DEFAULT_IN_PROGRESS_LABEL = "status/in-progress"
IN_PROGRESS_COLOR = "fbca04"
# How far back a retried create looks for the copy an ambiguous attempt may have written.
# Generous, because the server's clock and ours may disagree.
RECOVERY_WINDOW = timedelta(hours=1)
# Marker lookups also scan this recent window, in case the search index lags behind.
MARKER_SCAN_WINDOW = timedelta(minutes=15)
# An issue read this recently is not read again before a write (edit/close/comment in one
# command). Gitea guards the body with content_version; other fields are sent only when changed.
REUSE_READ_SECONDS = 5.0


def _api_base(url: str) -> str:
    base = url.strip().rstrip("/")
    return base if base.endswith("/api/v1") else f"{base}/api/v1"


class GiteaBackend(SyncableBackend):
    type_name: ClassVar[str] = "gitea"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.LABELS,
            Capability.MILESTONES,
            Capability.COMMENTS,
            Capability.USERS,
            Capability.FULL_TEXT_SEARCH,
            Capability.CHANGE_FEED,
            Capability.DELETE_ISSUES,
            Capability.EDIT_COMMENTS,
        }
    )
    config_options: ClassVar[tuple[ConfigOption, ...]] = (
        ConfigOption("url", "Gitea URL", help="e.g. https://gitea.example.com"),
        ConfigOption("owner", "Repository owner", help="user or organisation owning the repo"),
        ConfigOption("repo", "Repository name"),
        ConfigOption(
            "token_env",
            "Environment variable holding the access token",
            default=DEFAULT_TOKEN_ENV,
            help="the variable's name is stored, never the token",
        ),
        ConfigOption(
            "in_progress_label",
            "Label that marks in-progress issues",
            default=DEFAULT_IN_PROGRESS_LABEL,
            required=False,
        ),
    )

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # transport/sleep/clock are injection points for tests (httpx.MockTransport, fake time).
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._client: GiteaClient | None = None
        self.in_progress_label = DEFAULT_IN_PROGRESS_LABEL
        self.token_env = DEFAULT_TOKEN_ENV
        self._labels: dict[str, Label] | None = None
        self._milestones: dict[str, Milestone] | None = None
        self._me: User | None = None
        self._number_by_id: dict[str, int] = {}
        self._assignable: set[str] | None = None
        # Issues read in the last moments: an edit/close/comment right after a read (one CLI
        # command) reuses it instead of reading the same issue again.
        self._recent: dict[int, tuple[float, dict[str, Any]]] = {}
        # Comment id -> issue number, for comments this backend listed: an edit or delete of
        # one of them (the CLI lists first for --delete and --edit-last) skips the check's GET.
        self._comment_issue: dict[str, int] = {}

    # -- lifecycle --------------------------------------------------------------------------------

    def connect(self, config: Mapping[str, Any]) -> None:
        from issue_core.backends._http import (
            HttpClient,
            RateLimitPolicy,
            ResponseCache,
            RetryPolicy,
            Timeouts,
        )
        from issue_core.backends.gitea.client import GiteaClient

        url = text_setting(config, "url")
        owner = text_setting(config, "owner")
        repo = text_setting(config, "repo")
        missing = [
            key for key, value in (("url", url), ("owner", owner), ("repo", repo)) if not value
        ]
        if missing:
            raise ConfigError(
                f"gitea backend needs {', '.join(missing)}",
                hint="issue backend add NAME gitea --url URL --owner OWNER --repo REPO",
            )
        assert url and owner and repo
        self.token_env = text_setting(config, "token_env", DEFAULT_TOKEN_ENV) or DEFAULT_TOKEN_ENV
        self.in_progress_label = validate_label_name(
            text_setting(config, "in_progress_label", DEFAULT_IN_PROGRESS_LABEL)
            or DEFAULT_IN_PROGRESS_LABEL
        )
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise AuthError(
                f"no Gitea token: environment variable {self.token_env} is not set",
                hint=f"create a token in Gitea (Settings > Applications) and export "
                f"{self.token_env}=<token>",
            )
        page_size = config.get("page_size")
        verify: bool | str = bool_setting(config, "verify_tls", True, kind=KIND)
        ca_bundle = text_setting(config, "ca_bundle")
        if ca_bundle and verify:
            verify = os.path.expanduser(ca_bundle)
        http = HttpClient(
            _api_base(url),
            token=token,
            auth_scheme="token",
            # ``timeout`` bounds a request with its retries: a hung server costs ~15 s, not
            # attempts x read timeout (91 s before).
            timeouts=Timeouts(
                connect=number_setting(config, "connect_timeout", 10.0, kind=KIND),
                read=number_setting(config, "timeout", DEFAULT_TIMEOUT, kind=KIND),
                total=number_setting(config, "timeout", DEFAULT_TIMEOUT, kind=KIND) or None,
            ),
            retry=RetryPolicy(
                attempts=1 + int(number_setting(config, "max_retries", 2, kind=KIND))
            ),
            rate_limit=RateLimitPolicy(
                max_wait=number_setting(config, "rate_limit_max_wait", 60.0, kind=KIND)
            ),
            cache=ResponseCache(token=token)
            if bool_setting(config, "http_cache", True, kind=KIND)
            else None,
            auth_hint=f"check the token in ${self.token_env}",
            verify=verify,
            page_concurrency=int(number_setting(config, "page_concurrency", 4, kind=KIND)),
            transport=self._transport,
            sleep=self._sleep,
            clock=self._clock,
        )
        self._client = GiteaClient(
            http, owner, repo, page_size=int(page_size) if page_size else None
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.http.close()

    @property
    def client(self) -> GiteaClient:
        if self._client is None:
            raise ConfigError("the gitea backend is not connected", hint="call connect(config)")
        return self._client

    @property
    def stats(self) -> Any:
        """Request counters of the HTTP layer (``stats.requests`` ...)."""
        return self.client.http.stats

    @property
    def _where(self) -> str:
        return f"{self.client.owner}/{self.client.repo}"

    # -- identity and health ---------------------------------------------------------------

    def whoami(self) -> User:
        if self._me is None:
            self._me = mapping.user_from_wire(self.client.current_user())
        return self._me

    def test_connection(self) -> BackendInfo:
        client = self.client
        info = BackendInfo(type=self.type_name, location=f"{client.http.base_url} {self._where}")
        try:
            version = str(client.version().get("version") or "unknown")
            info.server_version = version
            info.checks["server"] = (True, f"Gitea {version} at {client.http.host}")
        except AuthError:
            # Gitea refuses every call, /version included, when the token is invalid:
            # the server answered, so it is reachable; the auth check explains the rest.
            info.checks["server"] = (
                True,
                f"{client.http.host} answered (version needs a valid token)",
            )
        except IssueCoreError as exc:
            info.checks["server"] = (False, _reason(exc, f"cannot use {client.http.host}"))
            for name in ("authentication", "repository", "permissions"):
                info.checks[name] = (False, "skipped: server not reachable")
            return info
        try:
            me = self.whoami()
            info.user = me.username
            info.checks["authentication"] = (True, f"authenticated as {me.username}")
        except IssueCoreError as exc:
            info.checks["authentication"] = (
                False,
                _reason(exc, f"the token in ${self.token_env} was rejected"),
            )
        try:
            repo = client.repository()
            info.name = str(repo.get("full_name") or self._where)
            info.checks["repository"] = (True, f"{info.name} is accessible")
            perms = repo.get("permissions") or {}
            if perms.get("admin") or perms.get("push"):
                info.checks["permissions"] = self._token_write_check()
            else:
                info.checks["permissions"] = (
                    False,
                    "read-only access: editing issues, labels and milestones needs write access",
                )
        except NotFound:
            info.checks["repository"] = (
                False,
                f"repository {self._where} not found (or not visible to this token)",
            )
            info.checks["permissions"] = (False, "skipped: repository not accessible")
        except IssueCoreError as exc:
            info.checks["repository"] = (False, _reason(exc, f"cannot read {self._where}"))
            info.checks["permissions"] = (False, "skipped: repository not accessible")
        limiter = client.http.rate_limiter
        info.rate_limit_remaining = limiter.remaining
        info.checks["rate_limit"] = (
            (True, f"{limiter.remaining} requests left")
            if limiter.remaining is not None
            else (True, "no rate limit announced")
        )
        return info

    def _token_write_check(self) -> tuple[bool, str]:
        """The user may write; may the token? Gitea sends no scope header, and its scope check
        runs before the handler: an empty edit of issue #0 (which never exists) is a 404 for a
        token with write:issue and a 403 for a read-only one. Nothing is written either way."""
        try:
            self.client.probe_issue_write()
        except NotFound:
            return True, "write access"
        except AuthError as exc:
            return False, _reason(exc, "the token is read-only") + (
                " - the token is read-only: create one with the write:issue scope"
            )
        except IssueCoreError as exc:
            return False, _reason(exc, "could not check the token's scopes")
        return False, "could not check the token's scopes (unexpected answer)"

    # -- issues: reading -----------------------------------------------------------------------

    def _to_issue(self, raw: Mapping[str, Any]) -> Issue:
        issue = mapping.issue_from_wire(raw, in_progress_label=self.in_progress_label)
        if issue.id is not None and issue.number is not None:
            self._number_by_id[issue.id] = issue.number
        return issue

    def _issues(self, params: Mapping[str, Any], *, wanted: int | None = None) -> Iterator[Issue]:
        for raw in self.client.iter_issues(params, wanted=wanted):
            if not mapping.is_pull_request(raw):
                yield self._to_issue(raw)

    def _filter_can_match(self, query: IssueFilter) -> bool:
        """Gitea ignores unknown label/milestone names (returning *everything*): check first."""
        labels = set(query.labels)
        if query.state is IssueState.IN_PROGRESS:
            labels.add(self.in_progress_label)
        if labels and not labels <= set(self._label_map()):
            return False
        return not (query.milestone and query.milestone not in self._milestone_map())

    def _text_matches(self, query: IssueFilter, issue: Issue) -> bool:
        """Gitea's ``q`` also searches the hidden metadata block of the body. A match is kept
        when the words are in the visible text, or when they are not in the block (Gitea then
        matched a comment); only when they are in the block alone are the comments read."""
        if not query.text:
            return True
        words = query.text.lower().split()
        visible = f"{issue.title}\n{issue.description}".lower()
        if all(word in visible for word in words):
            return True
        hidden = json.dumps(issue.sync_metadata, ensure_ascii=False).lower()
        if not any(word in hidden for word in words):
            return True
        if issue.number is None or not issue.comments_count:
            return False
        comments = "\n".join(c.body for c in self.list_comments(issue.number)).lower()
        return all(word in visible or word in comments for word in words)

    def _names_unknown_user(self, query: IssueFilter) -> bool:
        """Whether a 404 on the issue list means "no such user" in an assignee/author filter
        (Gitea's answer to a login it does not know) rather than a missing repository."""
        if not (query.assignee or query.author):
            return False
        self.client.repository()  # a missing repository stays NotFound
        return True

    def iter_issues(self, filter: IssueFilter | None = None) -> Iterator[Issue]:
        query = filter or IssueFilter()
        if not self._filter_can_match(query):
            return
        params = mapping.filter_params(query, in_progress_label=self.in_progress_label)
        count = 0
        try:
            for issue in self._issues(params, wanted=query.limit):
                if query.matches_fields(issue) and self._text_matches(query, issue):
                    yield issue
                    count += 1
                    if query.limit is not None and count >= query.limit:
                        return
        except NotFound:
            if not self._names_unknown_user(query):
                raise

    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
        query = filter or IssueFilter()
        if not self._filter_can_match(query):
            return []
        params = mapping.filter_params(query, in_progress_label=self.in_progress_label)
        # Gitea lists by creation time, newest first: that answers "created desc" with a limit
        # from the first pages. Any other order, "number" included (migrated issues were
        # created out of number order), needs every match before sorting.
        server_order = query.sort == "created" and query.direction == "desc"
        found: list[Issue] = []
        try:
            wanted = query.limit if server_order else None
            for issue in self._issues(params, wanted=wanted):
                if not query.matches_fields(issue) or not self._text_matches(query, issue):
                    continue
                found.append(issue)
                if server_order and query.limit is not None and len(found) >= query.limit:
                    break
        except NotFound:
            if self._names_unknown_user(query):
                return []
            raise
        found.sort(key=_sort_key(query.sort), reverse=query.direction == "desc")
        return found[: query.limit] if query.limit is not None else found

    def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
        raw = self._get_raw_issue(number)
        issue = self._to_issue(raw)
        if with_comments:
            issue.comments = self.list_comments(number)
        return issue

    def _get_raw_issue(self, number: int, *, reuse: bool = False) -> dict[str, Any]:
        """The issue's wire JSON; ``reuse`` accepts a copy read moments ago by this backend."""
        if not isinstance(number, int) or number < 1:
            raise ValidationError(f"invalid issue number {number!r}")
        if reuse:
            seen = self._recent.get(number)
            if seen is not None and 0 <= self._clock() - seen[0] <= REUSE_READ_SECONDS:
                return seen[1]
        try:
            raw = self.client.get_issue(number)
        except NotFound:
            raise NotFound(f"issue #{number} not found in {self._where}") from None
        if mapping.is_pull_request(raw):
            raise NotFound(f"#{number} in {self._where} is a pull request, not an issue")
        self._remember(raw)
        return raw

    def _remember(self, raw: dict[str, Any]) -> None:
        self._recent[int(raw["number"])] = (self._clock(), raw)

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
        payload: dict[str, Any] = {"title": title}
        token = secrets.token_hex(8)
        payload["body"] = mapping.issue_body(
            description,
            issue.sync_metadata,
            create_token=token,
            due_at=issue.due_at,
            priority=issue.priority,
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
        # An identical create whose answer was lost earlier may have been applied since: reuse
        # its token and look for it first, so running the command again never duplicates.
        from issue_core.backends._http import AmbiguousWrite
        from issue_core.backends.forge import pending

        same_request = {**payload, "body": mapping.create_token_free(payload["body"])}
        key = pending.request_key(f"{self.client.http.base_url} {self._where}", same_request)
        started = datetime.fromtimestamp(self._clock(), UTC)
        earlier = pending.load(KIND, key)
        if earlier is not None:
            token, stamp = earlier
            started = datetime.fromtimestamp(stamp, UTC)
            payload["body"] = mapping.issue_body(
                description,
                issue.sync_metadata,
                create_token=token,
                due_at=issue.due_at,
                priority=issue.priority,
            )
        try:
            found = self._find_created_issue(token, started) if earlier else None
            raw = found or self.client.create_issue(
                payload, find_existing=lambda: self._find_created_issue(token, started)
            )
        except AmbiguousWrite:
            pending.remember(KIND, key, token, started.timestamp())
            raise
        pending.forget(KIND, key)
        created = self._to_issue(raw)
        if state is IssueState.CLOSED and created.state is not IssueState.CLOSED:
            # Servers older than the "closed" create option open it: close it now.
            raw = self.client.edit_issue(created.number or 0, {"state": "closed"}, retry_safe=True)
            created = self._to_issue(raw)
        dropped = _dropped_fields(issue, created, ["labels", "assignees", "milestone", "due_at"])
        if state is IssueState.IN_PROGRESS and created.state is not IssueState.IN_PROGRESS:
            dropped.append(f"state in_progress (label {self.in_progress_label!r})")
        if dropped:
            raise PermissionDenied(
                f"created #{created.number} {created.title!r}, but Gitea dropped "
                f"{'; '.join(dropped)}: the token's user cannot set them in {self._where} "
                "(no push access)",
                hint="ask for write access to the repository, or create without those fields",
                number=created.number,
            )
        self._remember(raw)
        return created

    def _find_created_issue(self, token: str, started: datetime) -> dict[str, Any] | None:
        params = {
            "state": "all",
            "type": "issues",
            "since": mapping.since_param(started - RECOVERY_WINDOW),
        }
        for raw in self.client.iter_issues(params):
            if mapping.create_token_of(raw) == token:
                return raw
        return None

    def _check_assignees(self, names: list[str]) -> None:
        """Gitea answers an unknown or unassignable login on edit with a 500 (after applying
        the title): check against the repository's assignees first (read once per backend)."""
        if not names:
            return
        if self._assignable is None:
            self._assignable = {
                (mapping.login_of(raw) or "").lower() for raw in self.client.list_assignees()
            }
        unknown = [name for name in names if name.lower() not in self._assignable]
        if unknown:
            raise ValidationError(
                f"cannot assign {', '.join(repr(n) for n in unknown)}: not a user who can be "
                f"assigned in {self._where}",
                hint="see 'issue user list' for the users who can be assigned",
            )

    def update_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        if issue.number is None:
            raise ValidationError(
                "cannot update an issue without a number", hint="load it from this backend first"
            )
        changed = issue.changed_fields()
        if not changed:
            return issue
        if "title" in changed:
            issue.title = validate_title(issue.title)
        if "description" in changed:
            validate_description(issue.description)
        number = issue.number
        raw = self._get_raw_issue(number, reuse=True)
        current = self._to_issue(raw)
        # What to write: the caller's change merged onto what the server holds now.
        merged = merge_issue(issue, changed, current)
        if merged.conflicts:
            raise Conflict(
                f"issue #{number} changed on the server since it was loaded "
                f"({', '.join(merged.conflicts)})",
                hint="reload the issue and apply the change again",
                fields=merged.conflicts,
            )
        wanted = applied_to(current, merged.values)
        changed = list(merged.values)

        # 1. Work out and check every write before making any.
        payload: dict[str, Any] = {}
        retry_safe = True
        if "title" in changed and wanted.title != current.title:
            payload["title"] = wanted.title
        body_fields = {"description", "sync_metadata", "priority", "due_at"}
        if body_fields & set(changed):
            body = mapping.issue_body(
                wanted.description,
                wanted.sync_metadata,
                due_at=wanted.due_at,
                priority=wanted.priority,
            )
            if body != raw.get("body"):
                payload["body"] = body
                version = mapping.content_version_of(raw)
                if version is not None:
                    # Gitea refuses the edit if the body changed since our read (HTTP 400).
                    payload["content_version"] = version
                    retry_safe = False  # a repeat would see its own edit as a conflict
        if "due_at" in changed and wanted.due_at != current.due_at:
            if wanted.due_at is None:
                payload["unset_due_date"] = True
            else:
                payload["due_date"] = mapping.due_date_param(wanted.due_at)
        if "assignees" in changed and sorted(wanted.assignees) != sorted(current.assignees):
            self._check_assignees(wanted.assignees)
            payload["assignees"] = list(wanted.assignees)
        if "milestone" in changed and wanted.milestone != current.milestone:
            payload["milestone"] = self._milestone_id(wanted.milestone) if wanted.milestone else 0
        new_state = wanted.state
        wire_state = "closed" if new_state is IssueState.CLOSED else "open"
        if wire_state != raw.get("state"):
            payload["state"] = wire_state
        label_ids: list[int] | None = None
        if "labels" in changed or "state" in changed:
            known = mapping.label_ids_by_name(raw)
            wanted_ids = self._label_ids(wanted.labels, create=create_labels, known=known)
            if new_state is IssueState.IN_PROGRESS:
                wanted_ids.append(self._in_progress_label_id(known=known))
            if set(wanted_ids) != set(known.values()):
                label_ids = sorted(set(wanted_ids))

        # 2. The fields, then the labels: a failure leaves the issue as it was, or says what
        # was applied.
        self._recent.pop(number, None)
        if payload:
            raw = self._patch_issue(number, payload, retry_safe=retry_safe, before=current)
        applied = _changed_names(current, self._to_issue(raw))
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
            return issue.refresh_from(current)  # nothing to send: the server already has it
        updated = self._to_issue(raw)
        wanted_fields = [f for f in ("assignees", "milestone", "due_at") if f in changed]
        dropped = _dropped_fields(wanted, updated, wanted_fields)
        if dropped:
            done = _changed_names(current, updated)
            raise PermissionDenied(
                f"Gitea dropped {'; '.join(dropped)} on #{number}: the token's user cannot set "
                f"them in {self._where} (no push access)"
                + (f"; applied: {', '.join(done)}" if done else "; nothing was changed"),
                hint="ask for write access to the repository",
            )
        self._remember(raw)
        # The caller's object becomes the stored issue (as the local backend does), so reusing
        # it for the next update compares against this version instead of a false Conflict.
        return issue.refresh_from(updated)

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

    def _with_applied(self, number: int, before: Issue, error: IssueCoreError) -> IssueCoreError:
        try:
            now = self._to_issue(self.client.get_issue(number))
        except IssueCoreError:
            error.message += f"; #{number} may have been changed in part (it could not be re-read)"
            return error
        applied = _changed_names(before, now)
        error.message += (
            f"; of this edit, {', '.join(applied)} had been applied to #{number}"
            if applied
            else f"; #{number} was not changed"
        )
        return error

    def delete_issue(self, number: int) -> None:
        self._get_raw_issue(number)  # a clear NotFound, and never delete a pull request
        try:
            self.client.delete_issue(number)
        except PermissionDenied as exc:
            # Gitea lets only repository admins delete (its route is guarded by reqAdmin): a
            # user who may write everything else gets a 403 here, which deserves saying so.
            raise PermissionDenied(
                f"cannot delete #{number} in {self._where}: {exc.message}",
                hint="Gitea lets only the repository's owner and admins delete issues (with a "
                f"token that has write:issue); closing needs write access only: issue close "
                f"{number}",
                number=number,
            ) from None
        self._recent.pop(number, None)

    # -- labels -----------------------------------------------------------------------------------

    def _label_map(self, *, refresh: bool = False) -> dict[str, Label]:
        if self._labels is None or refresh:
            labels = [mapping.label_from_wire(raw) for raw in self.client.list_labels()]
            self._labels = {label.name: label for label in labels}
        return self._labels

    def _label_id(self, name: str) -> int:
        label = self._label_map().get(name) or self._label_map(refresh=True).get(name)
        if label is None or label.id is None:
            raise NotFound(
                f"label {name!r} not found in {self._where}",
                hint="create it with 'issue label create' or pass --create-labels",
            )
        return int(label.id)

    def _label_ids(
        self, names: list[str], *, create: bool, known: Mapping[str, int] | None = None
    ) -> list[int]:
        ids: list[int] = []
        for raw_name in names:
            if known and raw_name in known and raw_name != self.in_progress_label:
                ids.append(known[raw_name])  # already on the issue: the server's own name
                continue
            name = validate_label_name(raw_name)
            if name == self.in_progress_label:
                raise ValidationError(
                    f"label {name!r} is the in-progress marker",
                    hint="set the state to in_progress instead",
                )
            try:
                ids.append(self._label_id(name))
            except NotFound:
                if not create:
                    raise
                ids.append(int(self._create_label(Label(name=name)).id or 0))
        return ids

    def _in_progress_label_id(self, known: Mapping[str, int] | None = None) -> int:
        """The state label is created on first use: it is the backend's, not the user's."""
        if known and self.in_progress_label in known:
            return known[self.in_progress_label]
        try:
            return self._label_id(self.in_progress_label)
        except NotFound:
            label = Label(
                name=self.in_progress_label,
                color=IN_PROGRESS_COLOR,
                description="issue-core: work in progress",
            )
            return int(self._create_label(label).id or 0)

    def _create_label(self, label: Label) -> Label:
        def find() -> dict[str, Any] | None:
            found = self._label_map(refresh=True).get(label.name)
            return (
                {"id": int(found.id or 0), "name": found.name, "color": found.color}
                if found
                else None
            )

        raw = self.client.create_label(
            mapping.label_to_wire(label, for_create=True), find_existing=find
        )
        created = mapping.label_from_wire(raw)
        self._label_map()[created.name] = created
        return created

    def list_labels(self) -> list[Label]:
        labels = self._label_map(refresh=True).values()
        return sorted(
            (lab for lab in labels if lab.name != self.in_progress_label),
            key=lambda lab: lab.name.lower(),
        )

    def create_label(self, label: Label) -> Label:
        name = validate_label_name(label.name)
        if name in self._label_map(refresh=True):
            raise Conflict(f"label {name!r} already exists in {self._where}")
        return self._create_label(
            Label(name=name, color=validate_color(label.color), description=label.description)
        )

    def update_label(self, name: str, label: Label) -> Label:
        new_name = validate_label_name(label.name or name)
        if new_name != name:
            self._refuse_marker(name, "rename")
        label_id = self._label_id(name)
        if new_name != name and new_name in self._label_map():
            raise Conflict(f"label {new_name!r} already exists in {self._where}")
        payload = mapping.label_to_wire(
            Label(name=new_name, color=validate_color(label.color), description=label.description),
            for_create=False,
        )
        updated = mapping.label_from_wire(self.client.edit_label(label_id, payload))
        labels = self._label_map()
        labels.pop(name, None)
        labels[updated.name] = updated
        return updated

    def _refuse_marker(self, name: str, action: str) -> None:
        if name == self.in_progress_label:
            raise ValidationError(
                f"cannot {action} label {name!r}: it is the in-progress marker (every "
                "in_progress issue carries it, and without it they would all read as open)",
                hint="set in_progress_label in the backend's config to use another label",
            )

    def delete_label(self, name: str) -> None:
        self._refuse_marker(name, "delete")
        label_id = self._label_id(name)
        self.client.delete_label(label_id)
        self._label_map().pop(name, None)

    # -- milestones -------------------------------------------------------------------------------

    def _milestone_map(self, *, refresh: bool = False) -> dict[str, Milestone]:
        if self._milestones is None or refresh:
            found = [mapping.milestone_from_wire(raw) for raw in self.client.list_milestones("all")]
            self._milestones = {m.title: m for m in found}
        return self._milestones

    def _milestone_id(self, title: str) -> int:
        milestone = self._milestone_map().get(title) or self._milestone_map(refresh=True).get(title)
        if milestone is None or milestone.id is None:
            raise NotFound(
                f"milestone {title!r} not found in {self._where}",
                hint="create it with 'issue milestone create'",
            )
        return int(milestone.id)

    def list_milestones(self, state: MilestoneState | None = None) -> list[Milestone]:
        # Copies: a caller editing what it got must not change the cache update_milestone reads.
        milestones = [copy.copy(m) for m in self._milestone_map(refresh=True).values()]
        if state is not None:
            wanted = MilestoneState.parse(state)
            milestones = [m for m in milestones if m.state is wanted]
        # The documented order on every backend: by due date (none last), then title.
        return sorted(
            milestones, key=lambda m: (m.due_on is None, m.due_on or _EPOCH, m.title.lower())
        )

    def create_milestone(self, milestone: Milestone) -> Milestone:
        title = (milestone.title or "").strip()
        if not title:
            raise ValidationError("milestone title must not be empty")
        if title in self._milestone_map(refresh=True):
            raise Conflict(f"milestone {title!r} already exists in {self._where}")
        milestone.title = title

        def find() -> dict[str, Any] | None:
            for raw in self.client.list_milestones("all"):
                if raw.get("title") == title:
                    return dict(raw)
            return None

        raw = self.client.create_milestone(mapping.milestone_to_wire(milestone), find_existing=find)
        created = mapping.milestone_from_wire(raw)
        self._milestone_map()[created.title] = created
        return created

    def update_milestone(self, title: str, milestone: Milestone) -> Milestone:
        milestone_id = self._milestone_id(title)
        new_title = (milestone.title or title).strip()
        if new_title != title and new_title in self._milestone_map():
            raise Conflict(f"milestone {new_title!r} already exists in {self._where}")
        current = self._milestone_map().get(title)
        if milestone.due_on is None and current is not None and current.due_on is not None:
            # Gitea ignores an empty due date on edit: refuse rather than silently keep it.
            raise Unsupported(
                "Gitea cannot remove a milestone's due date",
                hint="set another date with --due instead",
            )
        milestone.title = new_title
        raw = self.client.edit_milestone(milestone_id, mapping.milestone_to_wire(milestone))
        updated = mapping.milestone_from_wire(raw)
        milestones = self._milestone_map()
        milestones.pop(title, None)
        milestones[updated.title] = updated
        return updated

    def delete_milestone(self, title: str) -> None:
        # Gitea clears the milestone of its issues itself (without touching their updated_at).
        milestone_id = self._milestone_id(title)
        self.client.delete_milestone(milestone_id)
        self._milestone_map().pop(title, None)
        self._recent.clear()  # issues read earlier may have named it

    # -- comments ---------------------------------------------------------------------------------

    def list_comments(self, number: int) -> list[Comment]:
        # Gitea answers a missing issue here with a 500, not a 404: look at the issue first.
        self._get_raw_issue(number, reuse=True)
        raws = self.client.list_comments(number)
        comments = [mapping.comment_from_wire(raw, issue_number=number) for raw in raws]
        self._comment_issue.update((c.id or "", number) for c in comments)
        return comments

    def add_comment(self, number: int, body: str) -> Comment:
        text = validate_comment(body)
        # A missing issue is a 500 from Gitea (retried, then "unavailable"), and a pull request
        # number would comment on the pull request: check first, as show and edit do.
        self._get_raw_issue(number, reuse=True)
        started = datetime.fromtimestamp(self._clock(), UTC)

        def find() -> dict[str, Any] | None:
            since = mapping.since_param(started - RECOVERY_WINDOW)
            me = self.whoami().username
            for raw in reversed(self.client.list_comments(number, since=since)):
                if raw.get("body") == text and mapping.login_of(raw.get("user")) == me:
                    return dict(raw)
            return None

        raw = self.client.create_comment(number, text, find_existing=find)
        self._recent.pop(number, None)  # its updated_at moved
        return mapping.comment_from_wire(raw, issue_number=number)

    def edit_comment(self, number: int, comment_id: str, body: str) -> Comment:
        text = validate_comment(body)
        key = self._comment_of_issue(number, comment_id)
        try:
            raw = self.client.edit_comment(key, text)
        except PermissionDenied as error:
            raise self._comment_refused(error, "edit", key, number) from None
        except NotFound:  # deleted since it was listed
            self._comment_issue.pop(str(key), None)
            raise self._comment_missing(key, number) from None
        if raw is None:
            raise ValidationError(f"comment {key} on #{number} has no text to edit")
        self._recent.pop(number, None)
        return mapping.comment_from_wire(raw, issue_number=number)

    def delete_comment(self, number: int, comment_id: str) -> None:
        key = self._comment_of_issue(number, comment_id)
        try:
            self.client.delete_comment(key)
        except PermissionDenied as error:
            raise self._comment_refused(error, "delete", key, number) from None
        except NotFound:  # deleted since it was listed
            self._comment_issue.pop(str(key), None)
            raise self._comment_missing(key, number) from None
        self._comment_issue.pop(str(key), None)
        self._recent.pop(number, None)  # its comment count and updated_at moved

    def _comment_of_issue(self, number: int, comment_id: str) -> int:
        """The comment's id on the wire, once it is known to be a comment of issue ``number``.

        Gitea addresses comments by id alone (``/issues/comments/{id}``): without this check
        ``issue comment 5 --edit 123`` would edit a comment of #6, or of a pull request.
        """
        if not isinstance(number, int) or number < 1:
            raise ValidationError(f"invalid issue number {number!r}")
        text = str(comment_id).strip()
        missing = self._comment_missing(text, number)
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise missing
        if self._comment_issue.get(text) == number:
            return int(text)  # just listed as a comment of this issue (--delete, --edit-last)
        try:
            raw = self.client.get_comment(int(text))
        except NotFound:
            raise missing from None
        on = mapping.comment_issue_number(raw)
        if on != number:
            where = f"#{on}" if on is not None else "a pull request"
            missing.message += f" (it is a comment on {where})"
            raise missing
        return int(text)

    def _comment_missing(self, comment_id: object, number: int) -> NotFound:
        return NotFound(
            f"comment {comment_id} not found on issue #{number} in {self._where}",
            hint=f"see the comment ids with: issue show {number} --comments",
        )

    def _comment_refused(
        self, error: PermissionDenied, action: str, comment_id: int, number: int
    ) -> PermissionDenied:
        return PermissionDenied(
            f"cannot {action} comment {comment_id} on #{number} in {self._where}: {error.message}",
            hint="Gitea lets only a comment's author or a user with write access change it; "
            "the token also needs the write:issue scope",
        )

    # -- users ------------------------------------------------------------------------------------

    def list_users(self) -> list[User]:
        users = [mapping.user_from_wire(raw) for raw in self.client.list_assignees()]
        return sorted((u for u in users if u.username), key=lambda u: u.username)

    # -- sync -------------------------------------------------------------------------------------

    def changes_since(self, cursor: str | None, *, limit: int = 500) -> tuple[list[Change], str]:
        """Issues updated after ``cursor``, oldest first.

        Gitea filters by ``since`` but cannot sort by update time, so the (small) set updated
        since the cursor is read whole and ordered here. Gitea's timestamps have whole seconds,
        so an issue can change again within the cursor's second without its ``updated_at``
        moving: the cursor therefore remembers a fingerprint of each issue it reported in that
        second, and reports it again when the fingerprint differs. Deleted issues are not seen.
        """
        position = FeedPosition.parse(cursor, kind=KIND)
        params: dict[str, Any] = {"state": "all", "type": "issues"}
        if position.second is not None:
            # "since" may be exclusive and truncated to seconds: step back one, drop the seen.
            params["since"] = mapping.since_param(position.second - timedelta(seconds=1))
        fresh = sorted(
            (issue for issue in self._issues(params) if position.is_new(issue)), key=change_order
        )
        changes: list[Change] = []
        for issue in fresh[:limit]:
            position = position.after(issue)
            changes.append(Change(issue=issue, cursor=position.format()))
        return changes, (changes[-1].cursor if changes else (cursor or ""))

    def get_issue_by_id(self, issue_id: str) -> Issue:
        """Gitea's API has no lookup by global id: numbers seen so far are remembered, and a
        cold lookup reads the issue list once (which fills the memory for later calls)."""
        key = str(issue_id).strip()
        number = self._number_by_id.get(key)
        if number is not None:
            issue = self.get_issue_by_number(number)
            if issue.id == key:
                return issue
        for issue in self._issues({"state": "all", "type": "issues"}):
            if issue.id == key:
                return issue
        raise NotFound(f"no issue with id {key!r} in {self._where}")

    def find_issue_by_marker(self, marker: str) -> Issue | None:
        """Search (``q``) for the marker, then scan recent issues in case the index lags."""
        for issue in self._issues({"state": "all", "type": "issues", "q": marker}):
            if issue.sync_metadata.get("marker") == marker:
                return issue
        since = datetime.fromtimestamp(self._clock(), UTC) - MARKER_SCAN_WINDOW
        recent = {"state": "all", "type": "issues", "since": mapping.since_param(since)}
        for issue in self._issues(recent):
            if issue.sync_metadata.get("marker") == marker:
                return issue
        return None


# --------------------------------------------------------------------------- helpers

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _changed_names(before: Issue, after: Issue) -> list[str]:
    old, new = before.editable_snapshot(), after.editable_snapshot()
    return [name for name in old if old[name] != new[name]]


def _dropped_fields(wanted: Issue, got: Issue, fields: Sequence[str]) -> list[str]:
    """The fields a request asked for that the server silently left out."""
    dropped = []
    for name in fields:
        asked, kept = getattr(wanted, name), getattr(got, name)
        if name == "labels":
            missing = sorted(set(asked) - set(kept))
            if missing:
                dropped.append(f"labels {', '.join(missing)}")
        elif name == "assignees":
            missing = sorted({a.lower() for a in asked} - {k.lower() for k in kept})
            if missing:
                dropped.append(f"assignees {', '.join(missing)}")
        elif asked is not None and kept is None:
            shown = format_ts(asked) if isinstance(asked, datetime) else asked
            dropped.append(f"{name.replace('_', ' ')} {shown}")
    return dropped


def _reason(exc: IssueCoreError, fallback: str) -> str:
    return exc.one_line() or fallback


def _sort_key(sort: str) -> Callable[[Issue], tuple[Any, ...]]:
    if sort == "updated":
        return lambda i: (i.updated_at or _EPOCH, i.number or 0)
    if sort == "number":
        return lambda i: (i.number or 0,)
    return lambda i: (i.created_at or _EPOCH, i.number or 0)
