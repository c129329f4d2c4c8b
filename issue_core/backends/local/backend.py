"""The embedded local backend: issues in one SQLite file, fully offline.

This class is the façade: it validates input, opens the store's read or write transaction (one
``with self.store.writer()`` per write, so each call is all or nothing), and calls the
repository module of the aggregate concerned, each a set of functions over the connection:
``issues`` (insert batch, merged updates, deletion, hydration), ``labels``, ``milestones``,
``comments``, ``users`` and ``feed`` (the change feed and ``touch()``, the one place an issue's
change is recorded). Numbers come from counters inside the writing transaction, so two processes
never share one; edits are merged field by field with concurrent edits (``core.merge``), and
only a concurrent change of the same field is a ``Conflict``. The repositories for labels,
milestones, comments and the search index (``search``) are imported by the methods that use
them: reading issues loads none. Who acts (``identity``) is handed in by ``connect``'s caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from issue_core.backends.local import issues as issue_rows
from issue_core.backends.local.query import build_issue_query
from issue_core.backends.local.store import READ_ONLY_FILESYSTEM, Store, read_only_reason
from issue_core.backends.local.timestamps import now
from issue_core.core.errors import ConfigError, NotFound, ValidationError
from issue_core.core.interfaces import (
    BackendInfo,
    Capability,
    Change,
    CheckFailure,
    CommentChange,
    ConfigOption,
    RepositorySnapshot,
    SyncableBackend,
    attach_comments,
)
from issue_core.core.models import (
    Comment,
    Issue,
    IssueChanges,
    IssueFilter,
    Label,
    Milestone,
    MilestoneState,
    User,
    validate_color,
    validate_comment,
    validate_label_name,
    validate_marker,
    validate_milestone_title,
)
from issue_core.storage.dialect import dialect_of

if TYPE_CHECKING:
    from issue_core.backends.local.watching import StoreWaiter
    from issue_core.core.claims import Claim
    from issue_core.core.dependencies import Link, LinkedIssue
    from issue_core.core.events import Event, EventFilter

DEFAULT_PATH = ".issue-core/issues.db"


class LocalBackend(SyncableBackend):
    type_name: ClassVar[str] = "local"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.LABELS,
            Capability.MILESTONES,
            Capability.COMMENTS,
            Capability.USERS,
            Capability.FULL_TEXT_SEARCH,
            Capability.QUERY_LANGUAGE,
            Capability.NATIVE_IN_PROGRESS,
            Capability.OPTIMISTIC_CONCURRENCY,
            Capability.CHANGE_FEED,
            Capability.COMMENT_FEED,
            Capability.COMMENT_FEED_DELETIONS,
            Capability.CLAIMS,
            Capability.ATOMIC_CLAIMS,
            Capability.EVENTS,
            Capability.DELETE_ISSUES,
            Capability.EDIT_COMMENTS,
            Capability.BULK_CREATE,
            Capability.STORE_FILE,
            Capability.DEPENDENCIES,
        }
    )
    config_options: ClassVar[tuple[ConfigOption, ...]] = (
        ConfigOption(
            "path",
            "Database path",
            default=DEFAULT_PATH,
            help="SQLite file; relative paths are relative to the project root",
        ),
    )

    def __init__(self) -> None:
        self._store: Store | None = None
        self._waiter: StoreWaiter | None = None  # issue watch's, made on its first wait
        self.identity = "unknown"
        self.name: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def connect(self, config: Mapping[str, Any]) -> None:
        path = config.get("path") or DEFAULT_PATH
        if not isinstance(path, str):
            raise ValidationError("the local backend's 'path' must be a string")
        # Who acts is resolved once, by whoever opens the backend (service.runtime for every
        # front end, the acting agent included); the store never reads the configuration.
        identity = config.get("identity")
        if not isinstance(identity, str) or not identity:
            raise ConfigError(
                "the local backend needs the acting identity ('identity')",
                hint="open it with issue_core.open_backend(), which resolves who acts",
            )
        # "normal" only where `issue serve --synchronous normal` asked for it (server/delivery.py):
        # commits then survive a killed process, not a power cut (docs/ingestion.md).
        self._store = Store(path, actor=identity, synchronous=config.get("synchronous") or "full")
        self.name = config.get("name")
        self.identity = identity

    @property
    def store(self) -> Store:
        if self._store is None:
            raise ValidationError("the local backend is not connected; call connect() first")
        return self._store

    @property
    def path(self) -> str:
        return self.store.path

    @property
    def created_store_path(self) -> str | None:
        return self.store.created_path

    def init_store(self) -> str:
        return self.store.ensure()

    def _require_existing(self, what: str) -> None:
        """Writes to something that must already exist never create an empty store first."""
        if not os.path.exists(self.path):
            raise NotFound(f"{what} not found")

    def close(self) -> None:
        if self._waiter is not None:
            self._waiter.close()
        if self._store is not None:
            self._store.close()

    def test_connection(self) -> BackendInfo:
        info = BackendInfo(
            type=self.type_name, name=self.name, location=self.path, user=self.identity
        )
        if not os.path.exists(self.path):
            info.check("store", True, "not created yet; the first write creates it")
            return info
        try:
            with self.store.reader() as conn:
                assert conn is not None
                count = conn.execute("SELECT COUNT(*) FROM issues").fetchone()[0]
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
            info.check("store", check == "ok", f"{count} issues, integrity {check}", "store")
            unwritable = read_only_reason(self.path)
            # A file or folder this process may not write is a permission, a read-only
            # filesystem is the store's state.
            failure: CheckFailure = "store" if unwritable == READ_ONLY_FILESYSTEM else "permission"
            info.check("writable", unwritable is None, unwritable or "writable", failure)
        except Exception as exc:  # test_connection reports, never raises
            info.check("store", False, getattr(exc, "message", str(exc)), "store")
        return info

    def whoami(self) -> User:
        from issue_core.backends.local import users

        with self.store.reader() as conn:
            found = users.find(conn, self.identity) if conn is not None else None
        return found or User(self.identity)

    # ------------------------------------------------------------------ reading issues

    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
        return self._select(filter or IssueFilter())

    def list_ready(self, filter: IssueFilter) -> list[Issue]:
        # One query: the filter's conditions, no open blocker, priority then age.
        return self._select(filter, ready=True)

    def _select(self, flt: IssueFilter, *, ready: bool = False) -> list[Issue]:
        if flt.query is not None and flt.query.uses_me and flt.query.me is None:
            flt = flt.with_query(flt.query.with_me(lambda: self.whoami().username))
        with self.store.reader() as conn:
            if conn is None:
                return []
            label_ids: list[int] | None = []
            if flt.labels:
                from issue_core.backends.local import labels

                label_ids = labels.ids(conn, flt.labels)
            if label_ids is None:  # a wanted label does not exist: nothing can match
                return []
            sql, params = build_issue_query(
                issue_rows.ISSUE_COLUMNS, flt, label_ids, dialect_of(conn), ready=ready
            )
            return issue_rows.hydrate(conn, conn.execute(sql, params).fetchall())

    def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
        with self.store.reader() as conn:
            row = issue_rows.row_of(conn, "i.number = ?", number) if conn is not None else None
            if conn is None or row is None:
                raise NotFound(f"issue #{number} not found")
            issue = issue_rows.hydrate(conn, [row])[0]
            if with_comments:
                from issue_core.backends.local import comments

                issue.comments = comments.list_for(conn, row["id"], number)
            return issue

    def get_issue_by_id(self, issue_id: str) -> Issue:
        with self.store.reader() as conn:
            row = issue_rows.row_of(conn, "i.uid = ?", issue_id) if conn is not None else None
            if conn is None or row is None:
                raise NotFound(f"no issue with id {issue_id!r}")
            return issue_rows.hydrate(conn, [row])[0]

    def find_issue_by_marker(self, marker: str) -> Issue | None:
        with self.store.reader() as conn:
            return issue_rows.by_marker(conn, marker) if conn is not None else None

    def changes_since(self, cursor: str | None, *, limit: int = 500) -> tuple[list[Change], str]:
        from issue_core.backends.local import feed

        with self.store.reader() as conn:
            return feed.changes_since(conn, cursor, limit=limit)

    def comments_since(
        self, cursor: str | None, *, limit: int = 500
    ) -> tuple[list[CommentChange], str]:
        from issue_core.backends.local import comment_feed

        with self.store.reader() as conn:
            return comment_feed.comments_since(conn, cursor, limit=limit)

    def iter_all_comments(self) -> Iterator[Comment]:
        from issue_core.backends.local import comment_feed

        with self.store.reader() as conn:
            yield from comment_feed.all_comments(conn)

    def snapshot(self) -> RepositorySnapshot:
        """Every issue and comment in two queries; the cursor is read first, so a change made
        meanwhile is replayed by the feeds."""
        from issue_core.backends.local import comment_feed

        with self.store.reader() as conn:
            cursor = comment_feed.current_cursor(conn)
        issues = self.list_issues(IssueFilter(state=None, limit=None, sort="number"))
        return RepositorySnapshot(
            attach_comments(issues, self.iter_all_comments()),
            issue_cursor=cursor,
            comment_cursor=cursor,
        )

    def list_events(
        self,
        number: int | None = None,
        *,
        since: str | None = None,
        limit: int = 500,
        until: str | None = None,
        wanted: EventFilter | None = None,
    ) -> list[Event]:
        from issue_core.backends.local import events
        from issue_core.core.events import parse_since

        cursor, instant = parse_since(since)
        if cursor is not None and not cursor.isdigit():
            raise ValidationError(
                f"cursor {cursor[:40]!r} is not a cursor of the local store",
                hint="a cursor of another backend: pass back one this store printed",
            )
        with self.store.reader() as conn:
            if cursor is not None and int(cursor) > events.latest(conn):
                raise ValidationError(
                    f"cursor {cursor} is past the newest event ({events.latest(conn)})",
                    hint="a cursor from another store, or from before it was recreated",
                )
            found = events.read(
                conn,
                number=number,
                after=int(cursor or 0),
                since=instant,
                limit=limit,
                until=int(until) if until is not None else None,
                wanted=wanted,
            )
            if number is not None and not found and not cursor and instant is None:
                exists = conn is not None and issue_rows.row_of(conn, "i.number = ?", number)
                if not exists:
                    raise NotFound(f"issue #{number} not found")
            return found

    def event_cursor(self) -> str:
        from issue_core.backends.local import events

        with self.store.reader() as conn:
            return str(events.latest(conn))

    def wait_for_events(
        self, after: str, timeout_s: float, *, interval: float | None = None
    ) -> bool:
        """Sleeps until another process commits an event after ``after`` (``watching``: a
        change of the store's files wakes it, then one look at the log's newest entry)."""
        import time

        from issue_core.backends.local import events, watching

        if self._waiter is None:  # before the first look below, so no write falls between
            self._waiter = watching.StoreWaiter(self.store.path, interval=interval or 0.05)
        target = int(after)

        def grown() -> bool:
            with self.store.reader() as conn:
                return events.latest(conn) > target

        deadline = time.monotonic() + timeout_s
        while not grown():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._waiter.wait(left) and watching.settle(grown):
                return True
        return True

    # ------------------------------------------------------------------ writing issues

    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        # The batch path with a batch of one: it returns the issue as stored, no read-back.
        with self.store.writer() as conn:
            return issue_rows.insert_batch(
                conn, [issue], identity=self.identity, create_labels=create_labels
            )[0]

    def bulk_create(self, issues: Iterable[Issue], *, create_labels: bool = False) -> list[Issue]:
        """Create many issues in one transaction (imports, the ingestion server): all or
        nothing. Returns the created issues as stored, without reading them back.

        One batch, not one per issue (``issue_rows.insert_batch``): a few calls into SQLite per
        batch, cheaper, and each call releases the GIL, which a busy server waits to retake."""
        batch = list(issues)
        if not batch:
            return []
        with self.store.writer() as conn:
            return issue_rows.insert_batch(
                conn, batch, identity=self.identity, create_labels=create_labels
            )

    def update_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        if issue.number is None:
            raise ValidationError("cannot update an issue without a number")
        changed = issue.changed_fields()
        if not changed:
            return issue.refresh_from(self.get_issue_by_number(issue.number))
        self._require_existing(f"issue #{issue.number}")
        with self.store.writer() as conn:
            current = issue_rows.load_for_update(conn, issue.number)
            values = issue_rows.merged_values(issue, changed, current)
            issue_rows.apply(conn, current, values, create_labels=create_labels)
        # The caller's object becomes the stored issue, so reusing it is not a false Conflict.
        return issue.refresh_from(self.get_issue_by_number(issue.number))

    def edit_issue(
        self, number: int, changes: IssueChanges, *, create_labels: bool = False
    ) -> Issue:
        # Read and write under one write lock (BEGIN IMMEDIATE): the changes apply to the issue
        # as stored, so concurrent edits queue instead of conflicting, and replace replaces.
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            current = issue_rows.load_for_update(conn, number)
            values = changes.values_for(current)
            if values:
                issue_rows.apply(conn, current, values, create_labels=create_labels)
        return self.get_issue_by_number(number)

    def delete_issue(self, number: int) -> None:
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            issue_rows.delete(conn, number)

    # ------------------------------------------------------------------ claims

    def claim(self, number: int, *, ttl_s: int) -> Claim:
        from issue_core.backends.local import claims

        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            return claims.claim(conn, number, self.identity, now(), ttl_s)

    def heartbeat(self, number: int, *, ttl_s: int) -> Claim:
        from issue_core.backends.local import claims

        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            return claims.heartbeat(conn, number, self.identity, now(), ttl_s)

    def release(self, number: int, *, force: bool = False) -> Claim:
        from issue_core.backends.local import claims

        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            return claims.release(conn, number, self.identity, now(), force=force)

    def live_claim(self, number: int) -> Claim | None:
        from issue_core.backends.local import claims

        with self.store.reader() as reader:
            return claims.live_claim(reader, number, now()) if reader is not None else None

    def next_ready(
        self, *, labels: list[str] | None = None, claim_ttl_s: int | None = None
    ) -> tuple[Issue | None, Claim | None]:
        from issue_core.backends.local import claims
        from issue_core.backends.local import labels as label_rows

        if not os.path.exists(self.path):
            return None, None
        taken = None
        if claim_ttl_s is None:  # only looking: a read, which also works on a read-only store
            with self.store.reader() as reader:
                if reader is None:
                    return None, None
                label_ids = label_rows.ids(reader, labels) if labels else []
                if label_ids is None:
                    return None, None
                number = claims.next_ready(reader, now(), label_ids, sweep=False)
        else:
            # Pick and claim under one write lock: no other worker can take it in between.
            with self.store.writer() as conn:
                label_ids = label_rows.ids(conn, labels) if labels else []
                if label_ids is None:
                    return None, None
                at = now()
                number = claims.next_ready(conn, at, label_ids)
                if number is not None:
                    taken = claims.claim(conn, number, self.identity, at, claim_ttl_s)
        if number is None:
            return None, None
        return self.get_issue_by_number(number), taken

    # ------------------------------------------------------------------ comments

    def list_comments(self, number: int) -> list[Comment]:
        from issue_core.backends.local import comments

        with self.store.reader() as conn:
            if conn is None:
                raise NotFound(f"issue #{number} not found")
            return comments.list_for(conn, comments.issue_row_id(conn, number), number)

    def add_comment(self, number: int, body: str, *, marker: str | None = None) -> Comment:
        from issue_core.backends.local import comments

        body = validate_comment(body)
        if marker is not None:
            marker = validate_marker(marker)
        at = now()
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            return comments.add(conn, number, body, self.identity, at, marker=marker)

    def find_comment_by_marker(self, number: int, marker: str) -> Comment | None:
        from issue_core.backends.local import comments

        with self.store.reader() as conn:
            if conn is None:
                raise NotFound(f"issue #{number} not found")
            return comments.by_marker(conn, comments.issue_row_id(conn, number), number, marker)

    def edit_comment(self, number: int, comment_id: str, body: str) -> Comment:
        from issue_core.backends.local import comments

        body = validate_comment(body)
        at = now()
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            return comments.edit(conn, number, comment_id, body, at)

    def delete_comment(self, number: int, comment_id: str) -> None:
        from issue_core.backends.local import comments

        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            comments.delete(conn, number, comment_id, now())

    # ------------------------------------------------------------------ labels

    def list_labels(self) -> list[Label]:
        from issue_core.backends.local import labels

        with self.store.reader() as conn:
            return labels.list_all(conn) if conn is not None else []

    def create_label(self, label: Label) -> Label:
        from issue_core.backends.local import labels

        name = validate_label_name(label.name)
        color = validate_color(label.color)
        with self.store.writer() as conn:
            return labels.create(conn, name, color, label.description)

    def update_label(self, name: str, label: Label) -> Label:
        from issue_core.backends.local import labels

        new_name = validate_label_name(label.name)
        self._require_existing(f"label {name!r}")
        with self.store.writer() as conn:
            return labels.update(conn, name, new_name, label)

    def delete_label(self, name: str) -> None:
        from issue_core.backends.local import labels

        self._require_existing(f"label {name!r}")
        with self.store.writer() as conn:
            labels.delete(conn, name)

    # ------------------------------------------------------------------ milestones

    def list_milestones(self, state: MilestoneState | None = None) -> list[Milestone]:
        from issue_core.backends.local import milestones

        with self.store.reader() as conn:
            return milestones.list_all(conn, state) if conn is not None else []

    def create_milestone(self, milestone: Milestone) -> Milestone:
        from issue_core.backends.local import milestones

        title = validate_milestone_title(milestone.title)
        MilestoneState.parse(milestone.state)  # checked before the store is opened
        with self.store.writer() as conn:
            milestones.create(conn, title, milestone)
        return self._milestone_by_title(title)

    def update_milestone(self, title: str, milestone: Milestone) -> Milestone:
        from issue_core.backends.local import milestones

        new_title = validate_milestone_title(milestone.title)
        MilestoneState.parse(milestone.state)
        self._require_existing(f"milestone {title!r}")
        with self.store.writer() as conn:
            milestones.update(conn, title, new_title, milestone)
        return self._milestone_by_title(new_title)

    def delete_milestone(self, title: str) -> None:
        from issue_core.backends.local import milestones

        self._require_existing(f"milestone {title!r}")
        with self.store.writer() as conn:
            milestones.delete(conn, title)

    def _milestone_by_title(self, title: str) -> Milestone:
        from issue_core.backends.local import milestones

        with self.store.reader() as conn:
            if conn is None:
                raise NotFound(f"milestone {title!r} not found")
            return milestones.by_title(conn, title)

    # ------------------------------------------------------------------ dependencies

    def add_link(self, link: Link) -> bool:
        from issue_core.backends.local import links

        self._require_existing(f"issue #{link.source}")
        with self.store.writer() as conn:
            return links.add(conn, link)

    def remove_link(self, link: Link) -> None:
        from issue_core.backends.local import links

        self._require_existing(f"issue #{link.source}")
        with self.store.writer() as conn:
            links.remove(conn, link)

    def list_links(self, number: int) -> list[LinkedIssue]:
        from issue_core.backends.local import links

        with self.store.reader() as conn:
            if conn is None:
                raise NotFound(f"issue #{number} not found")
            return links.of_issue(conn, number)

    # ------------------------------------------------------------------ users

    def list_users(self) -> list[User]:
        from issue_core.backends.local import users as user_rows

        with self.store.reader() as conn:
            users = user_rows.list_all(conn) if conn is not None else []
        if all(user.username != self.identity for user in users):
            users.append(User(self.identity))
            users.sort(key=lambda user: user.username)
        return users
