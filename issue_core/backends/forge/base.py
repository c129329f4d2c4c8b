"""``ForgeBackend``: what a backend over one forge repository does whatever the forge's wire.

A forge (Gitea and GitLab today; GitHub next) subclasses it and fills in the template methods
marked "wire" below with its own requests and mapping; everything else is shared:

- connecting from the config table, as ``config_options`` declares it (the options without a
  default are required; ``token_env`` names the variable holding the token; timeouts, retries,
  rate-limit waits, TLS, the HTTP cache);
- the ``test_connection`` report (server, authentication, repository, permissions, rate limit),
  each failed check saying what failed (``BackendInfo.check``), never left to its wording;
- label and milestone caches by name/title, and ``in_progress`` as open plus a label the
  backend creates on first use and never shows;
- create-once: a one-off token in the hidden body block, so a create whose answer was lost is
  found again (right away, and by the next identical create through ``pending``);
- updates as a three-way merge (``core.merge``) onto the issue as the server holds it now;
- the dropped-field check: forges silently drop what a user without push access may not set;
- the change feed over ``since`` with a second-granular cursor (``feed``), and marker lookups;
  the comment feed and the snapshot are ``sync_reads``'.

Wire hooks raise ``NotImplementedError`` here; the forge's ``backend.py`` overrides them.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from issue_core.backends.forge.claims import ForgeClaims
from issue_core.backends.forge.comments import CommentsById
from issue_core.backends.forge.edit import IssueEdit
from issue_core.backends.forge.event_stream import ForgeEvents
from issue_core.backends.forge.feed import FeedPosition, change_order
from issue_core.backends.forge.links import ForgeLinks
from issue_core.backends.forge.settings import bool_setting, number_setting, text_setting
from issue_core.backends.forge.sync_reads import ForgeSyncReads
from issue_core.core.errors import (
    AuthError,
    ConfigError,
    Conflict,
    IssueCoreError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from issue_core.core.interfaces import (
    BackendInfo,
    Capability,
    Change,
    CheckFailure,
    ConfigOption,
    SyncableBackend,
)
from issue_core.core.merge import applied_to, merge_issue
from issue_core.core.models import (
    Issue,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    MilestoneState,
    User,
    close_reason_for,
    format_ts,
    validate_color,
    validate_description,
    validate_label_name,
    validate_title,
)

if TYPE_CHECKING:
    import httpx

    from issue_core.backends._http import HttpClient

DEFAULT_TIMEOUT = 15.0  # seconds for one request, retries included
DEFAULT_IN_PROGRESS_LABEL = "status/in-progress"
IN_PROGRESS_COLOR = "fbca04"
# How far back a retried create looks for the copy an ambiguous attempt may have written.
# Generous, because the server's clock and ours may disagree.
RECOVERY_WINDOW = timedelta(hours=1)
# Marker lookups also scan this recent window, in case the search index lags behind.
MARKER_SCAN_WINDOW = timedelta(minutes=15)

# An issue read this recently is not read again before a write (show, then edit, close or
# comment in one command): the merge and the forge's own checks guard what changed meanwhile.
REUSE_READ_SECONDS = 5.0

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_Client = TypeVar("_Client")

#: What a forge backend does beyond the basics (a forge without one of these removes it).
FORGE_CAPABILITIES = frozenset(
    {
        Capability.LABELS,
        Capability.MILESTONES,
        Capability.COMMENTS,
        Capability.USERS,
        Capability.FULL_TEXT_SEARCH,
        Capability.CHANGE_FEED,
        Capability.COMMENT_FEED,
        Capability.DELETE_ISSUES,
        Capability.EDIT_COMMENTS,
        Capability.DEPENDENCIES,
        Capability.CLAIMS,  # the marker protocol of forge.claims (no transaction)
    }
)


def token_env_option(default: str) -> ConfigOption:
    """The ``token_env`` setting of a forge whose usual variable is ``default``."""
    return ConfigOption(
        "token_env",
        "Environment variable holding the access token",
        default=default,
        help="the variable's name is stored, never the token",
    )


IN_PROGRESS_OPTION = ConfigOption(
    "in_progress_label",
    "Label that marks in-progress issues",
    default=DEFAULT_IN_PROGRESS_LABEL,
    required=False,
)


class RepositoryNotFound(NotFound):
    """The repository (project) itself is missing or invisible to the token: said as such,
    never as "issue #N not found"."""


class ForgeBackend(
    ForgeClaims, CommentsById, ForgeLinks, ForgeSyncReads, ForgeEvents, SyncableBackend
):
    #: The forge's name in messages ("Gitea dropped ...", "no Gitea token").
    forge_name: ClassVar[str] = ""
    #: Where to get a token, for the error when the variable is not set.
    token_help: ClassVar[str] = ""
    #: How the token is sent (``HttpClient``'s auth schemes).
    auth_scheme: ClassVar[str] = "token"
    #: Content-creating writes allowed per window, ``((count, seconds), ...)``; empty: unpaced.
    write_windows: ClassVar[tuple[tuple[int, float], ...]] = ()
    #: Seconds to wait on a rate-limited answer that does not say how long.
    unannounced_rate_limit_wait: ClassVar[float] = 5.0
    #: Follow redirects within the configured origin (``_redirected`` is told of each).
    follows_redirects: ClassVar[bool] = False
    #: What a user without push access may send but the forge drops without a word, on update.
    silently_dropped_on_update: ClassVar[tuple[str, ...]] = ("assignees", "milestone", "due_at")

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
        self._http: HttpClient | None = None
        self.in_progress_label = self._default_in_progress_label()
        self.token_env = self._default_token_env()
        self._labels: dict[str, Label] | None = None
        self._milestones: dict[str, Milestone] | None = None
        self._me: User | None = None
        # Global id -> number for issues seen (no forge looks an issue up by global id).
        self._number_by_id: dict[str, int] = {}
        # Issues read in the last moments: number -> (when, wire form).
        self._recent: dict[int, tuple[float, dict[str, Any]]] = {}
        # Comment id -> issue number, for comments this backend listed (forges that address
        # comments by id alone: ``forge.comments``).
        self._comment_issue: dict[str, int] = {}
        # Comment id -> the marker it carries (an edit keeps it: ``forge.comments``).
        self._comment_markers: dict[str, str] = {}
        self._notices: list[str] = []
        self._assignable: set[str] | None = None  # logins that may be assigned, read once
        self._block_seen: dict[int, dict[str, list[int]]] = {}  # number -> its block's links
        self._open_blockers_seen: dict[int, int | None] = {}  # number -> open blockers, if told
        self._init_state()

    def _init_state(self) -> None:
        """The forge's own per-connection state (its wire client, its caches)."""

    # -- settings, from ``config_options`` (what ``issue backend add`` asks for) -------------

    @classmethod
    def required_settings(cls) -> tuple[str, ...]:
        """What ``connect`` cannot do without: the options asked for that have no default
        (Gitea: url, owner, repo), in the order the error names them."""
        return tuple(o.key for o in cls.config_options if o.required and o.default is None)

    @classmethod
    def _option_default(cls, key: str) -> str | None:
        return next((o.default for o in cls.config_options if o.key == key), None)

    @classmethod
    def _default_token_env(cls) -> str:
        return cls._option_default("token_env") or ""

    @classmethod
    def _default_in_progress_label(cls) -> str:
        return cls._option_default("in_progress_label") or DEFAULT_IN_PROGRESS_LABEL

    # -- wire hooks (the forge's backend.py) -----------------------------------------------

    def _http_options(self) -> dict[str, Any]:
        """Extra ``HttpClient`` arguments of the forge (headers, page style)."""
        return {}

    def _refine_error(self, response: httpx.Response, error: IssueCoreError) -> IssueCoreError:
        """Say more about a failed response from what the forge sends with it."""
        return error

    def _redirected(self, method: str, from_url: str, to_url: str) -> None:
        """A followed redirect (``follows_redirects``): e.g. a renamed repository."""

    @property
    def notices(self) -> list[str]:
        """Things worth telling the user once (the CLI prints them on stderr at the end)."""
        return list(self._notices)

    def _notice(self, text: str) -> None:
        if text not in self._notices:
            self._notices.append(text)

    def _api_base(self, url: str) -> str:
        """The API root for the configured ``url``."""
        raise NotImplementedError

    def _auth_scheme(self, config: Mapping[str, Any]) -> str:
        """How the token is sent; a forge with more than one way reads it from ``config``."""
        return self.auth_scheme

    def _open_client(self, http: HttpClient, settings: Mapping[str, str], config: Any) -> None:
        """Build the forge's wire client over ``http`` (``settings``: the required ones)."""
        raise NotImplementedError

    @property
    def _where(self) -> str:
        """The repository as messages name it (``owner/repo``)."""
        raise NotImplementedError

    def _fetch_me(self) -> User:
        raise NotImplementedError

    def _server_version(self) -> str:
        raise NotImplementedError

    def _repository(self) -> tuple[str | None, bool]:
        """``(full name, whether the user may write)``; ``NotFound`` when not visible."""
        raise NotImplementedError

    def _token_write_check(self) -> tuple[bool, str]:
        """The user may write; may the token? (A forge that can tell overrides this.)"""
        return True, "write access"

    def _to_issue(self, raw: Mapping[str, Any]) -> Issue:
        raise NotImplementedError

    def _is_pull_request(self, raw: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def _raw_issues_since(self, since: datetime | None) -> Iterator[Mapping[str, Any]]:
        """Every issue (any state) updated at or after ``since`` (``None``: all), as wire."""
        raise NotImplementedError

    def _search_marker(self, marker: str) -> Iterator[Issue]:
        """Issues the forge's search finds for ``marker`` (any state)."""
        raise NotImplementedError

    def _create_token_of(self, raw: Mapping[str, Any]) -> str | None:
        raise NotImplementedError

    def _post_issue(
        self, payload: dict[str, Any], *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _fetch_raw_issue(self, number: int) -> dict[str, Any]:
        """GET the issue ``number`` (``NotFound`` when there is none)."""
        raise NotImplementedError

    def _refuse_raw(self, number: int, raw: Mapping[str, Any]) -> None:
        """Raise when what the number names is no issue (a forge's pull request)."""

    def _send_delete_issue(self, number: int) -> None:
        raise NotImplementedError

    def _delete_refused_hint(self, number: int) -> str:
        """Who may delete issues on this forge, for a refused delete."""
        return f"closing needs less: issue close {number}"

    def _patch_milestone(self, stored: Milestone, milestone: Milestone) -> Milestone:
        """Write ``milestone`` (its title already checked) over ``stored``."""
        raise NotImplementedError

    def _remove_milestone(self, stored: Milestone) -> None:
        raise NotImplementedError

    def _fetch_users(self) -> list[User]:
        raise NotImplementedError

    def _read_for_update(self, number: int) -> tuple[dict[str, Any], Issue]:
        """The issue's wire form and model, as the server holds it now (or moments ago)."""
        raw = self._get_raw_issue(number, reuse=True)
        return raw, self._to_issue(raw)

    def _write_update(self, edit: IssueEdit) -> Issue | None:
        """Write ``edit.wanted`` over ``edit.current``; returns the stored issue, or ``None``
        when the server already held it."""
        raise NotImplementedError

    def _fetch_labels(self) -> list[Label]:
        raise NotImplementedError

    def _post_label(self, label: Label, *, find_existing: Callable[[], Label | None]) -> Label:
        raise NotImplementedError

    def _patch_label(self, stored: Label, label: Label) -> Label:
        raise NotImplementedError

    def _remove_label(self, stored: Label) -> None:
        raise NotImplementedError

    def _fetch_milestones(self) -> list[Milestone]:
        raise NotImplementedError

    def _post_milestone(self, milestone: Milestone) -> Milestone:
        """Create it once (an ambiguous failure looks for a milestone of that title)."""
        raise NotImplementedError

    # -- lifecycle --------------------------------------------------------------------------

    def connect(self, config: Mapping[str, Any]) -> None:
        from issue_core.backends._http import (
            HttpClient,
            RateLimitPolicy,
            ResponseCache,
            RetryPolicy,
            Timeouts,
        )
        from issue_core.backends._http.cache import token_fingerprint
        from issue_core.backends._http.pacing import WritePacer

        kind = self.type_name
        required = self.required_settings()
        settings = {key: text_setting(config, key) for key in required}
        missing = [key for key, value in settings.items() if not value]
        if missing:
            flags = " ".join(f"--{key} {key.upper()}" for key in required)
            raise ConfigError(
                f"{kind} backend needs {', '.join(missing)}",
                hint=f"issue backend add NAME {kind} {flags}",
            )
        default_env = self._default_token_env()
        self.token_env = text_setting(config, "token_env", default_env) or default_env
        default_label = self._default_in_progress_label()
        self.in_progress_label = validate_label_name(
            text_setting(config, "in_progress_label", default_label) or default_label
        )
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise AuthError(
                f"no {self.forge_name} token: environment variable {self.token_env} is not set",
                hint=f"{self.token_help} and export {self.token_env}=<token>",
            )
        verify: bool | str = bool_setting(config, "verify_tls", True, kind=kind)
        ca_bundle = text_setting(config, "ca_bundle")
        if ca_bundle and verify:
            verify = os.path.expanduser(ca_bundle)
        # Read in this order, so that of two bad settings the same one is named every time.
        connect_timeout = number_setting(config, "connect_timeout", 10.0, kind=kind)
        timeout = number_setting(config, "timeout", DEFAULT_TIMEOUT, kind=kind)
        base_url = self._api_base(text_setting(config, "url", self._option_default("url")) or "")
        max_wait = number_setting(config, "rate_limit_max_wait", 60.0, kind=kind)
        pacer = None
        if self.write_windows:
            names = ("minute", "hour")
            windows = tuple(
                (int(number_setting(config, f"writes_per_{name}", count, kind=kind)), seconds)
                for (count, seconds), name in zip(self.write_windows, names, strict=False)
            )
            pacer = WritePacer(
                f"{kind} {base_url} {token_fingerprint(token)}",
                windows=windows,
                sleep=self._sleep,
                clock=self._clock,
                max_wait=number_setting(config, "write_pacing_max_wait", 600.0, kind=kind),
            )
        http = HttpClient(
            base_url,
            token=token,
            auth_scheme=self._auth_scheme(config),
            # ``timeout`` bounds a request with its retries: a hung server costs ~15 s, not
            # attempts x read timeout (91 s before).
            timeouts=Timeouts(
                connect=connect_timeout,
                read=timeout,
                total=timeout or None,
            ),
            retry=RetryPolicy(
                attempts=1 + int(number_setting(config, "max_retries", 2, kind=kind))
            ),
            rate_limit=RateLimitPolicy(
                max_wait=max_wait, unannounced_wait=self.unannounced_rate_limit_wait
            ),
            cache=(
                ResponseCache(token=token)
                if bool_setting(config, "http_cache", True, kind=kind)
                else None
            ),
            auth_hint=f"check the token in ${self.token_env}",
            verify=verify,
            page_concurrency=int(number_setting(config, "page_concurrency", 4, kind=kind)),
            transport=self._transport,
            sleep=self._sleep,
            clock=self._clock,
            write_pacer=pacer,
            refine_error=self._refine_error,
            on_redirect=self._redirected if self.follows_redirects else None,
            **self._http_options(),
        )
        self._http = http
        self._read_event_settings(config)
        self._open_client(http, {k: str(v) for k, v in settings.items()}, config)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    @property
    def http(self) -> HttpClient:
        return self._connected(self._http)

    def _connected(self, client: _Client | None) -> _Client:
        """``client`` (the HTTP client, the forge's wire client) once ``connect`` made it."""
        if client is None:
            raise ConfigError(
                f"the {self.type_name} backend is not connected", hint="call connect(config)"
            )
        return client

    @property
    def stats(self) -> Any:
        """Request counters of the HTTP layer (``stats.requests`` ...)."""
        return self.http.stats

    # -- identity and health ----------------------------------------------------------------

    def whoami(self) -> User:
        if self._me is None:
            self._me = self._fetch_me()
        return self._me

    def test_connection(self) -> BackendInfo:
        http = self.http
        info = BackendInfo(type=self.type_name, location=f"{http.base_url} {self._where}")
        try:
            version = self._server_version()
            info.server_version = version
            info.check("server", True, f"{self.forge_name} {version} at {http.host}")
        except AuthError:
            # A forge may refuse every call, its version included, when the token is invalid:
            # the server answered, so it is reachable; the auth check explains the rest.
            info.check("server", True, f"{http.host} answered (version needs a valid token)")
        except IssueCoreError as exc:
            info.check("server", False, reason_of(exc, f"cannot use {http.host}"), "server")
            for name in ("authentication", "repository", "permissions"):
                info.check(name, False, "skipped: server not reachable", "server")
            return info
        try:
            me = self.whoami()
            info.user = me.username
            info.check("authentication", True, f"authenticated as {me.username}")
        except IssueCoreError as exc:
            rejected = reason_of(exc, f"the token in ${self.token_env} was rejected")
            info.check("authentication", False, rejected, "auth")
        try:
            full_name, writable = self._repository()
            info.name = full_name or self._where
            info.check("repository", True, f"{info.name} is accessible")
            if writable:
                ok, detail = self._token_write_check()
                info.check("permissions", ok, detail, "permission")
            else:
                info.check(
                    "permissions",
                    False,
                    "read-only access: editing issues, labels and milestones needs write access",
                    "permission",
                )
        except NotFound:
            info.check(
                "repository",
                False,
                f"repository {self._where} not found (or not visible to this token)",
                "repository",
            )
            info.check("permissions", False, "skipped: repository not accessible", "repository")
        except IssueCoreError as exc:
            what: CheckFailure = "auth" if isinstance(exc, AuthError) else "server"
            info.check("repository", False, reason_of(exc, f"cannot read {self._where}"), what)
            info.check("permissions", False, "skipped: repository not accessible", what)
        limiter = http.rate_limiter
        info.rate_limit_remaining = limiter.remaining
        if limiter.remaining is not None:
            info.check("rate_limit", True, f"{limiter.remaining} requests left")
        else:
            info.check("rate_limit", True, "no rate limit announced")
        return info

    # -- issues -----------------------------------------------------------------------------

    def _issues_since(self, since: datetime | None) -> Iterator[Issue]:
        for raw in self._raw_issues_since(since):
            if not self._is_pull_request(raw):
                yield self._to_issue(raw)

    def _text_matches(self, query: IssueFilter, issue: Issue) -> bool:
        """A forge's text search also searches the hidden metadata block of the body. A match
        is kept when the words are in the visible text, or when they are not in the block (the
        forge then matched a comment); only when they are in the block alone are the comments
        read."""
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

    def _get_raw_issue(self, number: int, *, reuse: bool = False) -> dict[str, Any]:
        """The issue's wire JSON; ``reuse`` accepts a copy read moments ago by this backend."""
        if not isinstance(number, int) or number < 1:
            raise ValidationError(f"invalid issue number {number!r}")
        if reuse:
            seen = self._recent.get(number)
            if seen is not None and 0 <= self._clock() - seen[0] <= REUSE_READ_SECONDS:
                return seen[1]
        try:
            raw = self._fetch_raw_issue(number)
        except RepositoryNotFound:
            raise
        except NotFound:
            raise NotFound(f"issue #{number} not found in {self._where}") from None
        self._refuse_raw(number, raw)
        self._remember(number, raw)
        return raw

    def _remember(self, number: int, raw: dict[str, Any]) -> None:
        self._recent[number] = (self._clock(), raw)

    def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
        issue = self._to_issue(self._get_raw_issue(number))
        if with_comments:
            issue.comments = self.list_comments(number)
        return issue

    def get_issue_by_id(self, issue_id: str) -> Issue:
        """No forge's API looks an issue up by its global id for everyone: numbers seen so far
        are remembered (``_to_issue`` notes them), and a cold lookup reads the list once."""
        key = str(issue_id).strip()
        number = self._number_by_id.get(key)
        if number is not None:
            issue = self.get_issue_by_number(number)
            if issue.id == key:
                return issue
        for issue in self._issues_since(None):
            if issue.id == key:
                return issue
        raise NotFound(f"no issue with id {key!r} in {self._where}")

    def _note_number(self, issue: Issue, raw: Mapping[str, Any] | None = None) -> Issue:
        """Remember the number of an issue just mapped (for ``get_issue_by_id``) and the
        links its body block holds (for ``list_ready``, which then reads no issue again)."""
        if issue.id is not None and issue.number is not None:
            self._number_by_id[issue.id] = issue.number
        if raw is not None and issue.number is not None:
            self._note_block_links(issue.number, raw)
        return issue

    def delete_issue(self, number: int) -> None:
        self._get_raw_issue(number)  # a clear NotFound (and never a pull request)
        try:
            self._send_delete_issue(number)
        except PermissionDenied as exc:
            raise PermissionDenied(
                f"cannot delete #{number} in {self._where}: {exc.message}",
                hint=self._delete_refused_hint(number),
                number=number,
            ) from None
        self._recent.pop(number, None)

    def _with_applied(self, number: int, before: Issue, error: IssueCoreError) -> IssueCoreError:
        """After a failed write, say what of it the issue shows now (re-read once)."""
        try:
            now = self._to_issue(self._fetch_raw_issue(number))
        except IssueCoreError:
            error.message += f"; #{number} may have been changed in part (it could not be re-read)"
            return error
        applied = changed_names(before, now)
        error.message += (
            f"; of this edit, {', '.join(applied)} had been applied to #{number}"
            if applied
            else f"; #{number} was not changed"
        )
        return error

    def _comment_missing(self, comment_id: object, number: int) -> NotFound:
        return NotFound(
            f"comment {comment_id} not found on issue #{number} in {self._where}",
            hint=f"see the comment ids with: issue show {number} --comments",
        )

    def _create_once(self, build: Callable[[str | None], dict[str, Any]]) -> dict[str, Any]:
        """POST the issue ``build(token)`` makes, at most once.

        ``build(None)`` is the request without its one-off token: what identifies "the same
        create". An identical create whose answer was lost earlier may have been applied since:
        its token is reused and looked for first, so running the command again never
        duplicates; a create whose answer is lost now leaves its token for the next one.
        """
        from issue_core.backends._http import AmbiguousWrite
        from issue_core.backends.forge import pending

        token = secrets.token_hex(8)
        key = pending.request_key(f"{self.http.base_url} {self._where}", build(None))
        started = datetime.fromtimestamp(self._clock(), UTC)
        earlier = pending.load(self.type_name, key)
        if earlier is not None:
            token, stamp = earlier
            started = datetime.fromtimestamp(stamp, UTC)
        payload = build(token)
        try:
            found = self._find_created_issue(token, started) if earlier else None
            raw = found or self._post_issue(
                payload, find_existing=lambda: self._find_created_issue(token, started)
            )
        except AmbiguousWrite:
            pending.remember(self.type_name, key, token, started.timestamp())
            raise
        pending.forget(self.type_name, key)
        return raw

    def _find_created_issue(self, token: str, started: datetime) -> dict[str, Any] | None:
        for raw in self._raw_issues_since(started - RECOVERY_WINDOW):
            if self._create_token_of(raw) == token:
                return dict(raw)
        return None

    def _refuse_dropped_on_create(self, issue: Issue, created: Issue, state: IssueState) -> None:
        """A user without push access may create, but the forge drops labels, assignees,
        milestone and due date without a word: say so (the issue exists: its number is told)."""
        dropped = dropped_fields(issue, created, ["labels", "assignees", "milestone", "due_at"])
        if state is IssueState.IN_PROGRESS and created.state is not IssueState.IN_PROGRESS:
            dropped.append(f"state in_progress (label {self.in_progress_label!r})")
        if dropped:
            raise PermissionDenied(
                f"created #{created.number} {created.title!r}, but {self.forge_name} dropped "
                f"{'; '.join(dropped)}: the token's user cannot set them in {self._where} "
                "(no push access)",
                hint="ask for write access to the repository, or create without those fields",
                number=created.number,
            )

    def _edited(self, edit: IssueEdit, raw: dict[str, Any]) -> Issue:
        """The issue the forge answered ``edit`` with (``raw``): checked for fields it dropped
        without a word, and remembered for the next read."""
        updated = self._to_issue(raw)
        self._refuse_dropped_on_update(edit, updated)
        self._remember(edit.number, raw)
        return updated

    def _refuse_dropped_on_update(self, edit: IssueEdit, updated: Issue) -> None:
        number, current, wanted, changed = edit.number, edit.current, edit.wanted, edit.changed
        wanted_fields = [f for f in self.silently_dropped_on_update if f in changed]
        dropped = dropped_fields(wanted, updated, wanted_fields)
        in_progress = wanted.state is IssueState.IN_PROGRESS
        if "state" in changed and in_progress and updated.state is not IssueState.IN_PROGRESS:
            dropped.append(f"state in_progress (label {self.in_progress_label!r})")
        if dropped:
            done = changed_names(current, updated)
            raise PermissionDenied(
                f"{self.forge_name} dropped {'; '.join(dropped)} on #{number}: the token's user "
                f"cannot set them in {self._where} (no push access)"
                + (f"; applied: {', '.join(done)}" if done else "; nothing was changed"),
                hint="ask for write access to the repository",
            )

    def update_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        return self._update(issue, create_labels=create_labels, fence=True)

    def _update(self, issue: Issue, *, create_labels: bool, fence: bool) -> Issue:
        """``update_issue``; ``fence``: refuse a change of the state or assignees of an issue
        another agent holds (``forge.claims``), and end the holder's lease when it moves the
        issue out of in_progress."""
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
        raw, current = self._read_for_update(number)
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
        fields = list(merged.values)
        lease = self._fence(number, current, set(fields)) if fence else None
        # The reason a close stores (none once open; ``completed`` for a plain close), and a
        # change of it written like any other field.
        wanted.close_reason = close_reason_for(wanted.state, wanted.close_reason)
        if wanted.close_reason is not current.close_reason and "close_reason" not in fields:
            fields.append("close_reason")
        edit = IssueEdit(number, raw, current, wanted, fields, create_labels)
        updated = self._write_update(edit)
        self._after_fenced_edit(number, lease, updated if updated is not None else current)
        # The caller's object becomes the stored issue (as the local backend does), so reusing
        # it for the next update compares against this version instead of a false Conflict.
        return issue.refresh_from(updated if updated is not None else current)

    # -- labels -----------------------------------------------------------------------------

    def _label_map(self, *, refresh: bool = False) -> dict[str, Label]:
        if self._labels is None or refresh:
            self._labels = {label.name: label for label in self._fetch_labels()}
        return self._labels

    def _stored_label(self, name: str) -> Label:
        label = self._label_map().get(name) or self._label_map(refresh=True).get(name)
        if label is None or label.id is None:
            raise NotFound(
                f"label {name!r} not found in {self._where}",
                hint="create it with 'issue label create' or pass --create-labels",
            )
        return label

    def _resolve_labels(
        self, names: list[str], *, create: bool, known: Mapping[str, Label] | None = None
    ) -> list[Label]:
        """The stored labels called ``names`` (``known``: those already on the issue, as the
        server spells them); missing ones are created when ``create``, else ``NotFound``."""
        found: list[Label] = []
        for raw_name in names:
            if known and raw_name in known and raw_name != self.in_progress_label:
                found.append(known[raw_name])  # already on the issue: the server's own name
                continue
            name = validate_label_name(raw_name)
            if name == self.in_progress_label:
                raise ValidationError(
                    f"label {name!r} is the in-progress marker",
                    hint="set the state to in_progress instead",
                )
            try:
                found.append(self._stored_label(name))
            except NotFound:
                if not create:
                    raise
                found.append(self._create_label(Label(name=name)))
        return found

    def _edited_labels(self, edit: IssueEdit, known: Mapping[str, Label]) -> list[Label] | None:
        """The labels the edited issue carries, the in-progress marker among them when it is
        in progress (``known``: those on the issue now); ``None`` when neither its labels nor
        its state change."""
        if not edit.labels_may_change:
            return None
        wanted = edit.wanted
        labels = self._resolve_labels(wanted.labels, create=edit.create_labels, known=known)
        if wanted.state is IssueState.IN_PROGRESS:
            labels.append(self._in_progress(known))
        return labels

    def _in_progress(self, known: Mapping[str, Label] | None = None) -> Label:
        """The state label is created on first use: it is the backend's, not the user's."""
        if known and self.in_progress_label in known:
            return known[self.in_progress_label]
        try:
            return self._stored_label(self.in_progress_label)
        except NotFound:
            label = Label(
                name=self.in_progress_label,
                color=IN_PROGRESS_COLOR,
                description="issue-core: work in progress",
            )
            return self._create_label(label)

    def _create_label(self, label: Label) -> Label:
        created = self._post_label(
            label, find_existing=lambda: self._label_map(refresh=True).get(label.name)
        )
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
        stored = self._stored_label(name)
        if new_name != name and new_name in self._label_map():
            raise Conflict(f"label {new_name!r} already exists in {self._where}")
        change = Label(
            name=new_name, color=validate_color(label.color), description=label.description
        )
        updated = self._patch_label(stored, change)
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
        self._remove_label(self._stored_label(name))
        self._label_map().pop(name, None)

    # -- milestones -------------------------------------------------------------------------

    def _milestone_map(self, *, refresh: bool = False) -> dict[str, Milestone]:
        if self._milestones is None or refresh:
            self._milestones = {m.title: m for m in self._fetch_milestones()}
        return self._milestones

    def _stored_milestone(self, title: str) -> Milestone:
        milestone = self._milestone_map().get(title) or self._milestone_map(refresh=True).get(title)
        if milestone is None or milestone.id is None:
            raise NotFound(
                f"milestone {title!r} not found in {self._where}",
                hint="create it with 'issue milestone create'",
            )
        return milestone

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
        created = self._post_milestone(milestone)
        self._milestone_map()[created.title] = created
        return created

    def update_milestone(self, title: str, milestone: Milestone) -> Milestone:
        stored = self._stored_milestone(title)
        new_title = (milestone.title or title).strip()
        if new_title != title and new_title in self._milestone_map():
            raise Conflict(f"milestone {new_title!r} already exists in {self._where}")
        milestone.title = new_title
        updated = self._patch_milestone(stored, milestone)
        milestones = self._milestone_map()
        milestones.pop(title, None)
        milestones[updated.title] = updated
        self._recent.clear()  # issues read earlier name it by its old title
        return updated

    def delete_milestone(self, title: str) -> None:
        # Forges clear the milestone of its issues themselves.
        self._remove_milestone(self._stored_milestone(title))
        self._milestone_map().pop(title, None)
        self._recent.clear()  # issues read earlier may have named it

    # -- users ------------------------------------------------------------------------------

    def _check_assignees(self, names: list[str]) -> None:
        """Check logins against the users who may be assigned (read once per backend) before
        writing: a forge answers an unassignable one badly (Gitea: a 500 after applying the
        title; GitHub: a 422 naming no one, or silence for a user without push access)."""
        if not names:
            return
        if self._assignable is None:
            self._assignable = {user.username.lower() for user in self._fetch_users()}
        unknown = [name for name in names if name.lower() not in self._assignable]
        if unknown:
            raise ValidationError(
                f"cannot assign {', '.join(repr(n) for n in unknown)}: not a user who can be "
                f"assigned in {self._where}",
                hint="see 'issue user list' for the users who can be assigned",
            )

    def list_users(self) -> list[User]:
        return sorted((u for u in self._fetch_users() if u.username), key=lambda u: u.username)

    # -- sync -------------------------------------------------------------------------------

    def changes_since(self, cursor: str | None, *, limit: int = 500) -> tuple[list[Change], str]:
        """Issues updated after ``cursor``, oldest first.

        A forge filters by ``since`` but may not sort by update time, so the (small) set
        updated since the cursor is read whole and ordered here; the cursor (``feed``) copes
        with timestamps of whole seconds. Deleted issues are not seen.
        """
        position = FeedPosition.parse(cursor, kind=self.type_name)
        # "since" may be exclusive and truncated to seconds: step back one, drop the seen.
        since = position.second - timedelta(seconds=1) if position.second is not None else None
        fresh = sorted(
            (issue for issue in self._issues_since(since) if position.is_new(issue)),
            key=change_order,
        )
        changes: list[Change] = []
        for issue in fresh[:limit]:
            position = position.after(issue)
            changes.append(Change(issue=issue, cursor=position.format()))
        return changes, (changes[-1].cursor if changes else (cursor or ""))

    def find_issue_by_marker(self, marker: str) -> Issue | None:
        """Search for the marker, then scan recent issues in case the index lags."""
        for issue in self._search_marker(marker):
            if issue.sync_metadata.get("marker") == marker:
                return issue
        since = datetime.fromtimestamp(self._clock(), UTC) - MARKER_SCAN_WINDOW
        for issue in self._issues_since(since):
            if issue.sync_metadata.get("marker") == marker:
                return issue
        return None


# --------------------------------------------------------------------------- helpers


def changed_names(before: Issue, after: Issue) -> list[str]:
    old, new = before.editable_snapshot(), after.editable_snapshot()
    return [name for name in old if old[name] != new[name]]


def dropped_fields(wanted: Issue, got: Issue, fields: Sequence[str]) -> list[str]:
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


def issue_sort_key(sort: str) -> Callable[[Issue], tuple[Any, ...]]:
    """The documented orders of ``issue list --sort`` (ties broken by number)."""
    if sort == "updated":
        return lambda i: (i.updated_at or _EPOCH, i.number or 0)
    if sort == "number":
        return lambda i: (i.number or 0,)
    if sort == "priority":  # unset after backlog (4), as the local store orders
        return lambda i: (5 if i.priority is None else i.priority, i.number or 0)
    return lambda i: (i.created_at or _EPOCH, i.number or 0)


def first_of(query: IssueFilter, issues: Iterable[Issue]) -> Iterator[Issue]:
    """``issues`` up to ``query.limit``, none read beyond it (``issue list`` streamed)."""
    return itertools.islice(issues, query.limit)


def listed(query: IssueFilter, issues: Iterable[Issue], *, server_order: bool) -> list[Issue]:
    """``issues`` in the documented order of ``query``, up to its limit. ``server_order``: the
    forge lists them in that order already, so reading stops at the limit; otherwise every
    match is read before sorting."""
    found = list(itertools.islice(issues, query.limit) if server_order else issues)
    found.sort(key=issue_sort_key(query.sort), reverse=query.direction == "desc")
    return found[: query.limit] if query.limit is not None else found


def reason_of(exc: IssueCoreError, fallback: str) -> str:
    return exc.one_line() or fallback
