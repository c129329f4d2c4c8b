"""The one contract every backend implements.

``IssueBackend`` is what the CLI, the Python API and the server use. ``SyncableBackend`` adds
what sync needs: listing changes since an opaque cursor, and stable ids that survive renames.

Backends declare what they can do in ``capabilities``; callers ask ``backend.supports(cap)``
(never ``isinstance``), and a backend that lacks a capability raises ``Unsupported`` with a
clear message from the method concerned (``require()`` does that in one line).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from issue_core.core.errors import Unsupported
from issue_core.core.models import (
    Comment,
    Issue,
    IssueChanges,
    IssueFilter,
    Label,
    Milestone,
    MilestoneState,
    User,
)

if TYPE_CHECKING:
    from issue_core.core.dependencies import Link, LinkedIssue

# Re-exported: the original tool's examples import both from here
# (``from issue_core.core.interfaces import IssueState, IssueFilter``).
from issue_core.core.models import IssueState as IssueState


class Capability(StrEnum):
    """Optional abilities. Everything not listed here every backend must support."""

    LABELS = "labels"  # label CRUD (list/create/edit/delete)
    MILESTONES = "milestones"  # milestone CRUD
    COMMENTS = "comments"
    USERS = "users"  # listing users
    FULL_TEXT_SEARCH = "full_text_search"  # IssueFilter.text
    QUERY_LANGUAGE = "query_language"  # list_issues runs IssueFilter.query itself (else: service)
    NATIVE_IN_PROGRESS = "native_in_progress"  # stores in_progress as a real state (not a label)
    OPTIMISTIC_CONCURRENCY = "optimistic_concurrency"  # update_issue detects concurrent edits
    CHANGE_FEED = "change_feed"  # SyncableBackend.changes_since
    # SyncableBackend.comments_since, iter_all_comments, snapshot, and comments carrying a
    # client-generated marker (add_comment(marker=...), find_comment_by_marker)
    COMMENT_FEED = "comment_feed"
    COMMENT_FEED_DELETIONS = "comment_feed_deletions"  # comments_since reports deleted ones
    # claims with leases and the ready queue's next (core.claims): claim, heartbeat, release,
    # next_ready, fenced edits; how strong a claim is, is the backend's (AGENT_INTEGRATION.md)
    CLAIMS = "claims"
    ATOMIC_CLAIMS = "atomic_claims"  # a claim is one transaction (the local store)
    # the event log (core.events): list_events, event_cursor, wait_for_events
    EVENTS = "events"
    # add_link/remove_link/list_links: blocks, parent and related links (core.dependencies);
    # a backend without it has no links, and every open issue is ready
    DEPENDENCIES = "dependencies"
    DELETE_ISSUES = "delete_issues"
    EDIT_COMMENTS = "edit_comments"  # edit_comment/delete_comment (an append-only log lacks it)
    BULK_CREATE = "bulk_create"  # bulk_create writes a batch all or nothing (one transaction)
    STORE_FILE = "store_file"  # a store in a file of its own: init_store, created_store_path


# What a failed check of ``test_connection`` says is wrong, so that a caller can act on it
# (the CLI maps it to an exit code) without reading the detail's words:
# - "server": the backend is not reachable or not working (also: a check without a failure);
# - "auth": the credentials were rejected;
# - "repository": the repository is missing or not visible to these credentials;
# - "permission": the credentials (or the process, for a file) may not write;
# - "store": a local store is unreadable or damaged.
CheckFailure = Literal["server", "auth", "repository", "permission", "store"]


class BackendInfo:
    """What ``issue backend test`` reports. ``checks`` maps a check name to (ok, detail);
    ``check()`` records one and, for a failed one, what failed (``failure_of``).

    (Plain classes here, not dataclasses: this module is on every command's start-up path.)
    """

    def __init__(
        self,
        type: str,
        name: str | None = None,
        server_version: str | None = None,
        user: str | None = None,
        location: str | None = None,
        rate_limit_remaining: int | None = None,
        checks: dict[str, tuple[bool, str]] | None = None,
    ) -> None:
        self.type = type
        self.name = name
        self.server_version = server_version
        self.user = user
        self.location = location
        self.rate_limit_remaining = rate_limit_remaining
        self.checks: dict[str, tuple[bool, str]] = checks if checks is not None else {}
        self.failure_of: dict[str, CheckFailure] = {}

    def __repr__(self) -> str:
        return f"BackendInfo({self.to_dict()!r})"

    def check(self, name: str, ok: bool, detail: str, failure: CheckFailure = "server") -> None:
        """Record check ``name``; ``failure`` says what is wrong when it did not pass."""
        self.checks[name] = (ok, detail)
        if ok:
            self.failure_of.pop(name, None)
        else:
            self.failure_of[name] = failure

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.checks.values())

    @property
    def failed_check(self) -> tuple[str, str, CheckFailure] | None:
        """The first check that failed, its detail and what failed; None when all passed."""
        for name, (ok, detail) in self.checks.items():
            if not ok:
                return name, detail, self.failure_of.get(name, "server")
        return None

    @property
    def failed(self) -> CheckFailure | None:
        """What the first failed check says is wrong (None when every check passed)."""
        first = self.failed_check
        return first[2] if first is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "ok": self.ok,
            "server_version": self.server_version,
            "user": self.user,
            "location": self.location,
            "rate_limit_remaining": self.rate_limit_remaining,
            "checks": {k: {"ok": ok, "detail": detail} for k, (ok, detail) in self.checks.items()},
        }


class ConfigOption:
    """One setting ``issue backend add`` asks for (as a prompt on a TTY, or as ``--<flag>``).

    ``key`` is the key in the backend's config table (``url``); ``prompt`` is shown on a TTY.
    A ``token_env`` option stores the *name* of an environment variable: the secret itself is
    never written anywhere.
    """

    __slots__ = ("default", "help", "key", "prompt", "required")

    def __init__(
        self,
        key: str,
        prompt: str,
        default: str | None = None,
        required: bool = True,
        help: str = "",
    ) -> None:
        self.key = key
        self.prompt = prompt
        self.default = default
        self.required = required
        self.help = help

    def __repr__(self) -> str:
        return f"ConfigOption({self.key!r}, {self.prompt!r}, default={self.default!r})"


class IssueBackend(ABC):
    """CRUD over issues, labels, milestones, comments and users.

    Lifecycle: construct with no arguments, then ``connect(config)`` with the backend's
    configuration mapping (for the local store: ``{"path": ...}``), then use, then ``close()``.
    Backends are also context managers.
    """

    #: The ``type`` name used in configuration (``local``, ``gitea`` ...).
    type_name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: What ``issue backend add NAME TYPE`` asks for, in order.
    config_options: ClassVar[tuple[ConfigOption, ...]] = ()
    #: The named agent acting through this backend (``--as NAME``, ``$ISSUE_CORE_AGENT``,
    #: config ``agent``), or None: set by ``service.runtime`` before ``connect``. Forges
    #: carry it on what they write (their token's user is often shared by many agents).
    agent: str | None = None

    # -- lifecycle ---------------------------------------------------------------

    @abstractmethod
    def connect(self, config: Mapping[str, Any]) -> None:
        """Open the backend. Raises ``ConfigError``, ``AuthError``, ``BackendUnavailable`` ..."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections. Safe to call twice."""

    def __enter__(self) -> IssueBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability, what: str) -> None:
        if not self.supports(capability):
            raise Unsupported(f"the {self.type_name or 'current'} backend does not support {what}")

    def test_connection(self) -> BackendInfo:
        """Check that the backend is usable; never raises for an expected failure."""
        return BackendInfo(type=self.type_name, checks={"connect": (True, "ok")})

    def whoami(self) -> User:
        """The identity this backend acts as."""
        raise Unsupported(f"the {self.type_name} backend has no notion of a current user")

    def list_events(
        self,
        number: int | None = None,
        *,
        since: str | None = None,
        limit: int = 500,
        until: str | None = None,
        wanted: Any = None,
    ) -> list[Any]:
        """The event log (``issue_core.core.events.Event``), oldest first: every change of
        issue ``number`` (None: of every issue) after ``since`` (a cursor or an ISO instant)
        up to the cursor ``until`` that ``wanted`` (``core.events.EventFilter``) matches."""
        raise Unsupported(f"the {self.type_name or 'current'} backend keeps no event log")

    def event_cursor(self) -> str:
        """The cursor of the newest event (a watcher starting now reads on from it)."""
        raise Unsupported(f"the {self.type_name or 'current'} backend keeps no event log")

    def wait_for_events(
        self, after: str, timeout_s: float, *, interval: float | None = None
    ) -> bool:
        """Block until the log may hold events after the cursor ``after`` (True) or
        ``timeout_s`` passed (False); ``interval``: how often to look when nothing says."""
        raise Unsupported(f"the {self.type_name or 'current'} backend keeps no event log")

    # -- claims with leases (CLAIMS) -----------------------------------------------------------

    def claim(self, number: int, *, ttl_s: int) -> Any:
        """Claim issue ``number`` for the acting agent (``core.claims.Claim``), or extend its
        own lease; another agent's live lease is ``ClaimConflict`` (exit 10)."""
        raise Unsupported(f"the {self.type_name or 'current'} backend has no claims")

    def heartbeat(self, number: int, *, ttl_s: int) -> Any:
        """Extend the acting agent's live lease on ``number`` by ``ttl_s`` from now."""
        raise Unsupported(f"the {self.type_name or 'current'} backend has no claims")

    def release(self, number: int, *, force: bool = False) -> Any:
        """End the acting agent's lease on ``number`` (``force``: anyone's, recorded)."""
        raise Unsupported(f"the {self.type_name or 'current'} backend has no claims")

    def live_claim(self, number: int) -> Any:
        """The live lease on ``number`` (``core.claims.Claim``), or None: a look, no write."""
        return None

    def next_ready(
        self, *, labels: list[str] | None = None, claim_ttl_s: int | None = None
    ) -> tuple[Issue | None, Any]:
        """The most important ready issue (open, unclaimed; priority, then age) and, with
        ``claim_ttl_s``, its claim taken in the same atomic step: ``(issue, claim)``."""
        raise Unsupported(f"the {self.type_name or 'current'} backend has no ready queue")

    def acting_agent(self) -> str:
        """Who acts, by name: the named agent, else the backend's user."""
        return self.agent or self.whoami().username

    # -- the store file (STORE_FILE) ------------------------------------------------------

    @property
    def created_store_path(self) -> str | None:
        """The store file this backend created since it was opened (``None``: it created none,
        or it keeps no file). The CLI says so once, on stderr, when it closes the backend."""
        return None

    @property
    def notices(self) -> list[str]:
        """Things the user should hear once (a renamed repository): the CLI prints each on
        stderr when it closes the backend."""
        return []

    def init_store(self) -> str:
        """Create the store file if it does not exist yet; returns its path (``issue init``)."""
        self.require(Capability.STORE_FILE, "creating a local store")
        raise NotImplementedError

    # -- issues ------------------------------------------------------------------

    @abstractmethod
    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]: ...

    def iter_issues(self, filter: IssueFilter | None = None) -> Iterator[Issue]:
        """Stream issues; backends with paging override this to avoid holding everything."""
        yield from self.list_issues(filter)

    @abstractmethod
    def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
        """Raises ``NotFound``."""

    def get_issue(self, number: int, *, with_comments: bool = False) -> Issue:
        return self.get_issue_by_number(number, with_comments=with_comments)

    @abstractmethod
    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        """Create and return the stored issue (number, id, timestamps filled in).

        Unknown labels or milestone raise ``NotFound`` unless ``create_labels`` is true (labels
        only). ``issue.number`` is ignored: numbers are allocated by the backend.
        """

    def bulk_create(self, issues: Iterable[Issue], *, create_labels: bool = False) -> list[Issue]:
        """Create many issues; returns them as stored, in order.

        With ``BULK_CREATE`` the batch is written all or nothing. This default creates them one
        by one, so a failure part-way leaves the earlier ones created: callers that retry a
        failed batch item by item (the ingestion server) use it only with ``BULK_CREATE``.
        """
        return [self.create_issue(issue, create_labels=create_labels) for issue in issues]

    def find_issue_by_marker(self, marker: str) -> Issue | None:
        """The issue created with ``sync_metadata["marker"] == marker``, if any (idempotent
        writes: a retried create looks for what an interrupted attempt made).

        This default scans every issue; backends that can look it up override it.
        """
        for issue in self.iter_issues(IssueFilter(state=None, limit=None)):
            if issue.sync_metadata.get("marker") == marker:
                return issue
        return None

    @abstractmethod
    def update_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        """Store the changes made to ``issue`` since it was loaded and return the result.

        ``issue`` itself is refreshed to the stored result (the same object is returned), so
        the caller can change and update it again without a false ``Conflict``. Concurrent
        edits of *other* fields are merged; a concurrent edit of the same field raises
        ``Conflict`` (where ``OPTIMISTIC_CONCURRENCY`` is supported).
        """

    def edit_issue(
        self, number: int, changes: IssueChanges, *, create_labels: bool = False
    ) -> Issue:
        """Apply ``changes`` (what ``issue edit`` asks for) to issue ``number``; return it.

        The changes apply to the issue as it is when written: replacing the assignees replaces
        them, and two edits never conflict. This default reads, then writes through
        ``update_issue``; a backend that can read and write in one transaction (the local
        store) overrides it to do so.
        """
        issue = self.get_issue(number)
        changes.apply_to(issue)
        return self.update_issue(issue, create_labels=create_labels)

    def delete_issue(self, number: int) -> None:
        self.require(Capability.DELETE_ISSUES, "deleting issues")
        raise NotImplementedError

    # -- comments ----------------------------------------------------------------

    def list_comments(self, number: int) -> list[Comment]:
        self.require(Capability.COMMENTS, "comments")
        raise NotImplementedError

    def add_comment(self, number: int, body: str, *, marker: str | None = None) -> Comment:
        """Add a comment to issue ``number``. ``marker`` (``COMMENT_FEED``): a client-generated
        id stored with the comment (``Comment.marker``; on a forge hidden in its text), so a
        write whose answer was lost is found again by ``find_comment_by_marker``."""
        self.require(Capability.COMMENTS, "comments")
        raise NotImplementedError

    def find_comment_by_marker(self, number: int, marker: str) -> Comment | None:
        """The comment of issue ``number`` added with ``marker``, if any (``NotFound`` for a
        missing issue). This default reads the issue's comments."""
        self.require(Capability.COMMENT_FEED, "comment markers")
        for comment in self.list_comments(number):
            if comment.marker == marker:
                return comment
        return None

    def edit_comment(self, number: int, comment_id: str, body: str) -> Comment:
        """Replace the body of comment ``comment_id`` of issue ``number``; returns the comment.

        ``created_at`` is kept and ``updated_at`` moves. A comment id that exists but belongs to
        another issue is ``NotFound``, as a missing one is: the number is part of the address.
        A forge refuses users who are neither the comment's author nor writers
        (``PermissionDenied``).
        """
        self.require(Capability.EDIT_COMMENTS, "editing comments")
        raise NotImplementedError

    def delete_comment(self, number: int, comment_id: str) -> None:
        """Delete comment ``comment_id`` of issue ``number`` (``NotFound`` as ``edit_comment``)."""
        self.require(Capability.EDIT_COMMENTS, "deleting comments")
        raise NotImplementedError

    # -- labels ------------------------------------------------------------------

    def list_labels(self) -> list[Label]:
        self.require(Capability.LABELS, "labels")
        raise NotImplementedError

    def create_label(self, label: Label) -> Label:
        self.require(Capability.LABELS, "labels")
        raise NotImplementedError

    def update_label(self, name: str, label: Label) -> Label:
        """Rename/recolour/redescribe the label called ``name``; returns the stored label."""
        self.require(Capability.LABELS, "labels")
        raise NotImplementedError

    def delete_label(self, name: str) -> None:
        self.require(Capability.LABELS, "labels")
        raise NotImplementedError

    # -- milestones ----------------------------------------------------------------

    def list_milestones(self, state: MilestoneState | None = None) -> list[Milestone]:
        self.require(Capability.MILESTONES, "milestones")
        raise NotImplementedError

    def create_milestone(self, milestone: Milestone) -> Milestone:
        self.require(Capability.MILESTONES, "milestones")
        raise NotImplementedError

    def update_milestone(self, title: str, milestone: Milestone) -> Milestone:
        """Change the milestone called ``title`` (closing is ``state=closed``)."""
        self.require(Capability.MILESTONES, "milestones")
        raise NotImplementedError

    def delete_milestone(self, title: str) -> None:
        """Delete the milestone called ``title``; its issues are left without a milestone.

        Raises ``NotFound`` for an unknown title. (The CLI also accepts a milestone's ``id``
        and resolves it to the title through ``list_milestones`` first.)
        """
        self.require(Capability.MILESTONES, "milestones")
        raise NotImplementedError

    # -- users ---------------------------------------------------------------------

    def list_users(self) -> list[User]:
        self.require(Capability.USERS, "listing users")
        raise NotImplementedError

    # -- dependencies (DEPENDENCIES) ----------------------------------------------------

    def add_link(self, link: Link) -> bool:
        """Store ``link`` after ``core.dependencies.check_new_link`` (no self-link, no cycle,
        one parent); ``False`` when it was stored already. ``NotFound`` for a missing issue;
        on any error nothing is written."""
        self.require(Capability.DEPENDENCIES, "dependencies")
        raise NotImplementedError

    def remove_link(self, link: Link) -> None:
        """Remove ``link``; ``NotFound`` when there is no such link (or issue)."""
        self.require(Capability.DEPENDENCIES, "dependencies")
        raise NotImplementedError

    def list_links(self, number: int) -> list[LinkedIssue]:
        """Every issue linked to ``number``, as seen from it (``NotFound`` if it is missing)."""
        self.require(Capability.DEPENDENCIES, "dependencies")
        raise NotImplementedError

    def list_ready(self, filter: IssueFilter) -> list[Issue]:
        """Open issues ``filter`` selects whose blockers are all closed, most important
        (priority, then oldest) first. This default asks every candidate for its links; the
        local store answers with one query."""
        from issue_core.core.dependencies import ready_among

        return ready_among(self, filter)


class Change:
    """One entry of a change feed: the issue as it is now, and the cursor after it."""

    __slots__ = ("cursor", "deleted", "issue")

    def __init__(self, issue: Issue, cursor: str, deleted: bool = False) -> None:
        self.issue = issue
        self.cursor = cursor
        self.deleted = deleted

    def __repr__(self) -> str:
        return f"Change(#{self.issue.number}, cursor={self.cursor!r}, deleted={self.deleted})"


class CommentChange:
    """One entry of a comment feed: the comment as it is now (for a deleted one: its id, an
    empty body), the issue it belongs to (number and stable id), and the cursor after it."""

    __slots__ = ("comment", "cursor", "deleted", "issue_id", "issue_number")

    def __init__(
        self,
        comment: Comment,
        *,
        issue_number: int,
        issue_id: str | None,
        cursor: str,
        deleted: bool = False,
    ) -> None:
        self.comment = comment
        self.issue_number = issue_number
        self.issue_id = issue_id
        self.cursor = cursor
        self.deleted = deleted

    def __repr__(self) -> str:
        return (
            f"CommentChange(#{self.issue_number} comment {self.comment.id}, "
            f"cursor={self.cursor!r}, deleted={self.deleted})"
        )


class RepositorySnapshot:
    """Everything of a repository at once (``SyncableBackend.snapshot``): every issue, any
    state, each with its ``comments`` filled in, and the cursors of both feeds to continue
    from. The cursors were taken before the first read, so the feeds replay whatever changed
    while the snapshot was read (a change may come twice, never not at all)."""

    __slots__ = ("comment_cursor", "issue_cursor", "issues")

    def __init__(self, issues: list[Issue], *, issue_cursor: str, comment_cursor: str) -> None:
        self.issues = issues
        self.issue_cursor = issue_cursor
        self.comment_cursor = comment_cursor

    def __repr__(self) -> str:
        count = sum(len(issue.comments or ()) for issue in self.issues)
        return f"RepositorySnapshot({len(self.issues)} issues, {count} comments)"


def attach_comments(issues: list[Issue], comments: Iterable[Comment]) -> list[Issue]:
    """``issues``, each with its ``comments`` from ``comments`` (any order, ``issue_number``
    set); a comment of an issue not among them (created after the list was read) is left
    out: the feeds bring both later."""
    by_number = {issue.number: issue for issue in issues}
    for issue in issues:
        issue.comments = []
    for comment in comments:
        owner = by_number.get(comment.issue_number)
        if owner is not None and owner.comments is not None:
            owner.comments.append(comment)
    return issues


class SyncableBackend(IssueBackend):
    """A backend that sync can read incrementally and write idempotently."""

    @abstractmethod
    def changes_since(self, cursor: str | None, *, limit: int = 500) -> tuple[list[Change], str]:
        """Issues changed after ``cursor`` (``None``: from the start), oldest first.

        Returns the changes and the cursor to pass next time. Cursors are opaque strings.
        """

    @abstractmethod
    def get_issue_by_id(self, issue_id: str) -> Issue:
        """Look an issue up by its stable ``id``. Raises ``NotFound``."""

    # -- comments (COMMENT_FEED) -------------------------------------------------------------

    def comments_since(
        self, cursor: str | None, *, limit: int = 500
    ) -> tuple[list[CommentChange], str]:
        """Comments added or edited after ``cursor`` (``None``: from the start), oldest change
        first, each comment once, and the cursor to pass next time (opaque; it may replay a
        few changes already seen, never skip one). Deleted comments come with
        ``deleted=True`` where ``COMMENT_FEED_DELETIONS`` is supported; elsewhere a deletion
        is seen only by listing the issue's comments."""
        self.require(Capability.COMMENT_FEED, "a comment change feed")
        raise NotImplementedError

    def iter_all_comments(self) -> Iterator[Comment]:
        """Every comment of every issue (``issue_number`` set), in as few requests as the
        backend allows."""
        self.require(Capability.COMMENT_FEED, "reading every comment")
        raise NotImplementedError

    def snapshot(self) -> RepositorySnapshot:
        """Every issue with its comments and both feeds' cursors (a first pull)."""
        self.require(Capability.COMMENT_FEED, "snapshots")
        raise NotImplementedError
