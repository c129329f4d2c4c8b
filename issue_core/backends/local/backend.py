"""The embedded local backend: issues in one SQLite file, fully offline.

Numbers are allocated from a counter row inside the creating transaction, so two processes
creating at once never share a number. Every change bumps the issue's ``version`` and a global
``change_seq`` (the change feed sync reads). Edits are merged field by field with concurrent
edits (``core.merge``); only a concurrent change of the same field is a ``Conflict``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from issue_core.backends.local.query import build_issue_query
from issue_core.backends.local.store import Store, read_only_reason
from issue_core.backends.local.timestamps import stored_ts
from issue_core.core.errors import Conflict, NotFound, ValidationError
from issue_core.core.interfaces import (
    BackendInfo,
    Capability,
    Change,
    ConfigOption,
    SyncableBackend,
)
from issue_core.core.merge import merge_issue
from issue_core.core.models import (
    Comment,
    Issue,
    IssueChanges,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    MilestoneState,
    User,
    parse_priority,
    parse_ts,
    utcnow,
    validate_color,
    validate_comment,
    validate_description,
    validate_label_name,
    validate_milestone_title,
    validate_title,
    validate_username,
)
from issue_core.storage.sqlite import insert_rows

DEFAULT_PATH = ".issue-core/issues.db"

_ISSUE_COLUMNS = (
    "i.id, i.uid, i.number, i.title, i.description, i.state, i.author, i.sync_metadata, "
    "i.version, i.comments_count, i.change_seq, i.created_at, i.updated_at, i.closed_at, "
    "i.due_at, i.priority, m.title AS milestone_title"
)


def _now() -> str:
    return stored_ts(utcnow()) or ""


def _new_uids(count: int) -> list[str]:
    """Fresh issue uids: 128 bits as 32 hex digits, the first 48 the time in milliseconds.

    Time-ordered like UUIDv7, so new uids land at the end of the uid index instead of on a
    random page of it: a batch of creates then rewrites one or two index pages, not one per
    issue (measured: a 14-issue batch wrote 54 pages to the WAL with random uids, ~40 with these).
    The 80 random bits keep uids unique across processes and machines.
    """
    prefix = f"{time.time_ns() // 1_000_000:012x}"
    entropy = os.urandom(10 * count).hex()  # one system call for the whole batch
    return [prefix + entropy[20 * n : 20 * n + 20] for n in range(count)]


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


class LocalBackend(SyncableBackend):
    type_name: ClassVar[str] = "local"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.LABELS,
            Capability.MILESTONES,
            Capability.COMMENTS,
            Capability.USERS,
            Capability.FULL_TEXT_SEARCH,
            Capability.NATIVE_IN_PROGRESS,
            Capability.OPTIMISTIC_CONCURRENCY,
            Capability.CHANGE_FEED,
            Capability.DELETE_ISSUES,
            Capability.EDIT_COMMENTS,
            Capability.BULK_CREATE,
            Capability.STORE_FILE,
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
        self.identity = "unknown"
        self.name: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def connect(self, config: Mapping[str, Any]) -> None:
        path = config.get("path") or DEFAULT_PATH
        if not isinstance(path, str):
            raise ValidationError("the local backend's 'path' must be a string")
        self._store = Store(path)
        self.name = config.get("name")
        identity = config.get("identity")
        if not identity:
            from issue_core.core.config import Config

            identity = Config.load().identity()
        self.identity = str(identity)

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
        if self._store is not None:
            self._store.close()

    def test_connection(self) -> BackendInfo:
        info = BackendInfo(
            type=self.type_name, name=self.name, location=self.path, user=self.identity
        )
        if not os.path.exists(self.path):
            info.checks["store"] = (True, "not created yet; the first write creates it")
            return info
        try:
            with self.store.reader() as conn:
                assert conn is not None
                count = conn.execute("SELECT COUNT(*) FROM issues").fetchone()[0]
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
            info.checks["store"] = (check == "ok", f"{count} issues, integrity {check}")
            unwritable = read_only_reason(self.path)
            info.checks["writable"] = (unwritable is None, unwritable or "writable")
        except Exception as exc:  # test_connection reports, never raises
            info.checks["store"] = (False, getattr(exc, "message", str(exc)))
        return info

    def whoami(self) -> User:
        with self.store.reader() as conn:
            if conn is not None:
                row = conn.execute(
                    "SELECT username, name, email FROM users WHERE username = ?", (self.identity,)
                ).fetchone()
                if row is not None:
                    return User(row["username"], row["name"], row["email"])
        return User(self.identity)

    # ------------------------------------------------------------------ reading issues

    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
        flt = filter or IssueFilter()
        with self.store.reader() as conn:
            if conn is None:
                return []
            label_ids = self._label_ids(conn, flt.labels)
            if label_ids is None:  # a wanted label does not exist: nothing can match
                return []
            sql, params = build_issue_query(_ISSUE_COLUMNS, flt, label_ids)
            rows = conn.execute(sql, params).fetchall()
            return self._hydrate(conn, rows)

    def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
        with self.store.reader() as conn:
            row = _issue_row(conn, "i.number = ?", number) if conn is not None else None
            if conn is None or row is None:
                raise NotFound(f"issue #{number} not found")
            issue = self._hydrate(conn, [row])[0]
            if with_comments:
                issue.comments = self._comments(conn, row["id"], number)
            return issue

    def get_issue_by_id(self, issue_id: str) -> Issue:
        with self.store.reader() as conn:
            row = _issue_row(conn, "i.uid = ?", issue_id) if conn is not None else None
            if conn is None or row is None:
                raise NotFound(f"no issue with id {issue_id!r}")
            return self._hydrate(conn, [row])[0]

    def find_issue_by_marker(self, marker: str) -> Issue | None:
        with self.store.reader() as conn:
            if conn is None:
                return None
            row = _issue_row(conn, "json_extract(i.sync_metadata, '$.marker') = ?", marker)
            return self._hydrate(conn, [row])[0] if row is not None else None

    def changes_since(self, cursor: str | None, *, limit: int = 500) -> tuple[list[Change], str]:
        try:
            after = int(cursor) if cursor else 0
        except ValueError:
            raise ValidationError(f"invalid change cursor {cursor!r}") from None
        with self.store.reader() as conn:
            if conn is None:
                return [], str(after)
            rows = conn.execute(
                f"SELECT {_ISSUE_COLUMNS} FROM issues i "
                "LEFT JOIN milestones m ON m.id = i.milestone_id "
                "WHERE i.change_seq > ? ORDER BY i.change_seq LIMIT ?",
                (after, limit),
            ).fetchall()
            changes = [
                Change(issue, str(row["change_seq"]))
                for issue, row in zip(self._hydrate(conn, rows), rows, strict=True)
            ]
            tombstones = conn.execute(
                "SELECT uid, number, change_seq FROM tombstones WHERE change_seq > ? "
                "ORDER BY change_seq LIMIT ?",
                (after, limit),
            ).fetchall()
        for tomb in tombstones:
            gone = Issue(title="(deleted)", number=tomb["number"], id=tomb["uid"])
            changes.append(Change(gone, str(tomb["change_seq"]), deleted=True))
        changes.sort(key=lambda change: int(change.cursor))
        changes = changes[:limit]
        return changes, changes[-1].cursor if changes else str(after)

    # ------------------------------------------------------------------ writing issues

    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        # The batch path with a batch of one: it returns the issue as stored, no read-back.
        with self.store.writer() as conn:
            return self._insert_batch(conn, [issue], create_labels=create_labels)[0]

    def bulk_create(self, issues: Iterable[Issue], *, create_labels: bool = False) -> list[Issue]:
        """Create many issues in one transaction (imports, the ingestion server): all or
        nothing. Returns the created issues as stored, without reading them back.

        Per batch, not per issue: label ids, milestones and known users are looked up once,
        numbers and change sequence values are taken from the counters in one statement each,
        and each table's rows go in with one multi-row INSERT (a few calls into SQLite per
        batch: cheaper, and each call releases the GIL, which a busy server waits to retake)."""
        batch = list(issues)
        if not batch:
            return []
        with self.store.writer() as conn:
            return self._insert_batch(conn, batch, create_labels=create_labels)

    def _insert_batch(
        self, conn: sqlite3.Connection, issues: list[Issue], *, create_labels: bool
    ) -> list[Issue]:
        now = _now()
        labels: dict[str, tuple[int, str]] = {}  # name key -> (id, stored name)
        milestones: dict[str, tuple[int, str]] = {}  # title key -> (id, stored title)
        users: dict[str, None] = {}
        rows: list[_NewRow] = []
        for issue in issues:
            state = IssueState.parse(issue.state)
            label_ids: dict[int, str] = {}
            for name in issue.labels:
                cleaned = validate_label_name(name)
                key = cleaned.lower()
                if key not in labels:
                    labels[key] = self._stored_label(conn, cleaned, create=create_labels)
                label_id, stored_name = labels[key]
                label_ids[label_id] = stored_name
            milestone = None
            if issue.milestone:
                key = issue.milestone.strip().lower()
                if key not in milestones:
                    milestones[key] = self._stored_milestone(conn, issue.milestone)
                milestone = milestones[key]
            author = issue.author or self.identity
            assignees = list(dict.fromkeys(validate_username(a) for a in issue.assignees))
            users.update(dict.fromkeys(name for name in (author, *assignees) if name))
            rows.append(
                _NewRow(
                    uid=issue.id,
                    title=validate_title(issue.title),
                    description=validate_description(issue.description),
                    state=state,
                    labels=sorted(label_ids.items(), key=lambda label: label[1].lower()),
                    assignees=assignees,
                    milestone=milestone,
                    author=author,
                    metadata=_metadata_json(issue.sync_metadata),
                    created_at=stored_ts(issue.created_at) or now,
                    updated_at=stored_ts(issue.updated_at) or now,
                    closed_at=(stored_ts(issue.closed_at) or now)
                    if state is IssueState.CLOSED
                    else None,
                    due_at=stored_ts(issue.due_at),
                    priority=issue.priority,
                )
            )
        self._touch_users(conn, users, now)
        first_number = _take(conn, "issue_number", len(rows))
        first_seq = _take(conn, "change_seq", len(rows))
        # Explicit row ids (what SQLite would pick: max + 1) let the rows go in with
        # multi-row statements and still be linked to their labels, assignees and search
        # entries.
        first_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM issues").fetchone()[0])
        fresh_uids = _new_uids(len(rows))
        for n, row in enumerate(rows):
            row.id, row.number, row.change_seq = first_id + n, first_number + n, first_seq + n
            row.uid = row.uid or fresh_uids[n]
        insert_rows(
            conn,
            "issues (id, uid, number, title, description, state, milestone_id, author, "
            "sync_metadata, change_seq, created_at, updated_at, closed_at, due_at, priority)",
            [
                (
                    row.id,
                    row.uid,
                    row.number,
                    row.title,
                    row.description,
                    row.state.value,
                    row.milestone[0] if row.milestone else None,
                    row.author,
                    row.metadata,
                    row.change_seq,
                    row.created_at,
                    row.updated_at,
                    row.closed_at,
                    row.due_at,
                    row.priority,
                )
                for row in rows
            ],
        )
        insert_rows(
            conn,
            "issue_labels (issue_id, label_id)",
            [(row.id, label_id) for row in rows for label_id, _ in row.labels],
        )
        insert_rows(
            conn,
            "issue_assignees (issue_id, username, position)",
            [(row.id, name, pos) for row in rows for pos, name in enumerate(row.assignees)],
        )
        insert_rows(
            conn,
            "issues_fts (rowid, title, description, comments)",
            [(row.id, row.title, row.description, "") for row in rows],
        )
        return [row.as_issue() for row in rows]

    def _stored_label(
        self, conn: sqlite3.Connection, name: str, *, create: bool
    ) -> tuple[int, str]:
        """The label's id and its name as stored (its case may differ from ``name``)."""
        row = _label_row(conn, name)
        if row is not None:
            return int(row["id"]), str(row["name"])
        return self._require_labels(conn, [name], create=create)[0], name

    def _stored_milestone(self, conn: sqlite3.Connection, title: str) -> tuple[int, str]:
        milestone_id = self._milestone_id(conn, title)  # NotFound when there is none
        assert milestone_id is not None  # only called with a title
        row = conn.execute("SELECT title FROM milestones WHERE id = ?", (milestone_id,))
        return milestone_id, str(row.fetchone()[0])

    def update_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        if issue.number is None:
            raise ValidationError("cannot update an issue without a number")
        changed = issue.changed_fields()
        if not changed:
            return issue.refresh_from(self.get_issue_by_number(issue.number))
        self._require_existing(f"issue #{issue.number}")
        with self.store.writer() as conn:
            current = self._load_for_update(conn, issue.number)
            values = _merge(issue, changed, current)
            self._apply(conn, current, values, create_labels=create_labels)
        # The caller's object becomes the stored issue, so reusing it is not a false Conflict.
        return issue.refresh_from(self.get_issue_by_number(issue.number))

    def edit_issue(
        self, number: int, changes: IssueChanges, *, create_labels: bool = False
    ) -> Issue:
        # Read and write under one write lock (BEGIN IMMEDIATE): the changes apply to the issue
        # as stored, so concurrent edits queue instead of conflicting, and replace replaces.
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            current = self._load_for_update(conn, number)
            values = changes.values_for(current)
            if values:
                self._apply(conn, current, values, create_labels=create_labels)
        return self.get_issue_by_number(number)

    def delete_issue(self, number: int) -> None:
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            row = conn.execute("SELECT id, uid FROM issues WHERE number = ?", (number,)).fetchone()
            if row is None:
                raise NotFound(f"issue #{number} not found")
            conn.execute(
                "INSERT INTO tombstones (uid, number, change_seq, deleted_at) VALUES (?, ?, ?, ?)",
                (row["uid"], number, _next(conn, "change_seq"), _now()),
            )
            conn.execute("DELETE FROM issues_fts WHERE rowid = ?", (row["id"],))
            conn.execute("DELETE FROM issues WHERE id = ?", (row["id"],))

    def _load_for_update(self, conn: sqlite3.Connection, number: int) -> Issue:
        row = _issue_row(conn, "i.number = ?", number)
        if row is None:
            raise NotFound(f"issue #{number} not found")
        return self._hydrate(conn, [row])[0]

    def _apply(
        self,
        conn: sqlite3.Connection,
        current: Issue,
        values: dict[str, Any],
        *,
        create_labels: bool,
    ) -> None:
        row = conn.execute("SELECT id FROM issues WHERE number = ?", (current.number,)).fetchone()
        row_id = row["id"]
        now = _now()
        sets: dict[str, Any] = {}
        if "title" in values:
            sets["title"] = validate_title(values["title"])
        if "description" in values:
            sets["description"] = validate_description(values["description"])
        if "state" in values:
            state = IssueState.parse(values["state"])
            sets["state"] = state.value
            if state is IssueState.CLOSED and current.state is not IssueState.CLOSED:
                sets["closed_at"] = now
            elif state is not IssueState.CLOSED:
                sets["closed_at"] = None
        if "milestone" in values:
            sets["milestone_id"] = self._milestone_id(conn, values["milestone"])
        if "sync_metadata" in values:
            sets["sync_metadata"] = _metadata_json(values["sync_metadata"])
        if "due_at" in values:
            sets["due_at"] = stored_ts(parse_ts(values["due_at"]))
        if "priority" in values:
            sets["priority"] = parse_priority(values["priority"])
        if "labels" in values:
            names = [validate_label_name(name) for name in values["labels"]]
            self._set_labels(conn, row_id, self._require_labels(conn, names, create=create_labels))
        if "assignees" in values:
            assignees = list(dict.fromkeys(validate_username(a) for a in values["assignees"]))
            self._touch_users(conn, assignees, now)
            self._set_assignees(conn, row_id, assignees)
        sets.update(updated_at=now, change_seq=_next(conn, "change_seq"))
        assignments = ", ".join(f"{column} = ?" for column in sets)
        conn.execute(
            f"UPDATE issues SET {assignments}, version = version + 1 WHERE id = ?",
            (*sets.values(), row_id),
        )
        if "title" in sets or "description" in sets:
            conn.execute(
                "UPDATE issues_fts SET title = ?, description = ? WHERE rowid = ?",
                (
                    sets.get("title", current.title),
                    sets.get("description", current.description),
                    row_id,
                ),
            )

    # ------------------------------------------------------------------ comments

    def list_comments(self, number: int) -> list[Comment]:
        with self.store.reader() as conn:
            row = None
            if conn is not None:
                row = conn.execute("SELECT id FROM issues WHERE number = ?", (number,)).fetchone()
            if conn is None or row is None:
                raise NotFound(f"issue #{number} not found")
            return self._comments(conn, row["id"], number)

    def add_comment(self, number: int, body: str) -> Comment:
        body = validate_comment(body)
        now = _now()
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            row = conn.execute("SELECT id FROM issues WHERE number = ?", (number,)).fetchone()
            if row is None:
                raise NotFound(f"issue #{number} not found")
            self._touch_users(conn, [self.identity], now)
            comment_id = _next(conn, "comment_id")  # never reused (schema v4)
            conn.execute(
                "INSERT INTO comments (id, issue_id, author, body, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (comment_id, row["id"], self.identity, body, now, now),
            )
            conn.execute(
                "UPDATE issues SET comments_count = comments_count + 1, version = version + 1, "
                "updated_at = ?, change_seq = ? WHERE id = ?",
                (now, _next(conn, "change_seq"), row["id"]),
            )
            conn.execute(
                "UPDATE issues_fts SET comments = comments || ' ' || ? WHERE rowid = ?",
                (body, row["id"]),
            )
        ts = parse_ts(now)
        return Comment(
            body=body,
            author=self.identity,
            id=str(comment_id),
            issue_number=number,
            created_at=ts,
            updated_at=ts,
        )

    def edit_comment(self, number: int, comment_id: str, body: str) -> Comment:
        body = validate_comment(body)
        now = _now()
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            issue_id, row = self._comment_row(conn, number, comment_id)
            if body != row["body"]:
                conn.execute(
                    "UPDATE comments SET body = ?, updated_at = ? WHERE id = ?",
                    (body, now, row["id"]),
                )
                self._comments_changed(conn, issue_id, now)
                updated_at = now
            else:
                updated_at = row["updated_at"]  # nothing changed: nothing is written
        return Comment(
            body=body,
            author=row["author"],
            id=str(row["id"]),
            issue_number=number,
            created_at=parse_ts(row["created_at"]),
            updated_at=parse_ts(updated_at),
        )

    def delete_comment(self, number: int, comment_id: str) -> None:
        self._require_existing(f"issue #{number}")
        with self.store.writer() as conn:
            issue_id, row = self._comment_row(conn, number, comment_id)
            conn.execute("DELETE FROM comments WHERE id = ?", (row["id"],))
            self._comments_changed(conn, issue_id, _now(), count_delta=-1)

    def _comment_row(
        self, conn: sqlite3.Connection, number: int, comment_id: str
    ) -> tuple[int, sqlite3.Row]:
        """The issue's row id and the comment's row; the comment must be *this* issue's."""
        issue = conn.execute("SELECT id FROM issues WHERE number = ?", (number,)).fetchone()
        if issue is None:
            raise NotFound(f"issue #{number} not found")
        key = _comment_key(comment_id)
        row: sqlite3.Row | None = None
        if key is not None:
            row = conn.execute(
                "SELECT id, author, body, created_at, updated_at FROM comments "
                "WHERE id = ? AND issue_id = ?",
                (key, issue["id"]),
            ).fetchone()
        if row is None:
            raise NotFound(
                f"comment {comment_id} not found on issue #{number}",
                hint=f"see the comment ids with: issue show {number} --comments",
            )
        return int(issue["id"]), row

    def _comments_changed(
        self, conn: sqlite3.Connection, issue_id: int, now: str, *, count_delta: int = 0
    ) -> None:
        """An edited or deleted comment changes its issue (version, updated_at, change feed),
        as adding one does, and the search index's copy of the comments is rebuilt."""
        conn.execute(
            "UPDATE issues SET comments_count = comments_count + ?, version = version + 1, "
            "updated_at = ?, change_seq = ? WHERE id = ?",
            (count_delta, now, _next(conn, "change_seq"), issue_id),
        )
        conn.execute(
            "UPDATE issues_fts SET comments = (SELECT COALESCE(group_concat(body, ' '), '') "
            "FROM comments WHERE issue_id = ?) WHERE rowid = ?",
            (issue_id, issue_id),
        )

    def _comments(self, conn: sqlite3.Connection, row_id: int, number: int) -> list[Comment]:
        rows = conn.execute(
            "SELECT id, author, body, created_at, updated_at FROM comments "
            "WHERE issue_id = ? ORDER BY id",
            (row_id,),
        ).fetchall()
        return [
            Comment(
                body=r["body"],
                author=r["author"],
                id=str(r["id"]),
                issue_number=number,
                created_at=parse_ts(r["created_at"]),
                updated_at=parse_ts(r["updated_at"]),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ labels

    def list_labels(self) -> list[Label]:
        with self.store.reader() as conn:
            if conn is None:
                return []
            rows = conn.execute(
                "SELECT id, name, color, description FROM labels ORDER BY name_key"
            ).fetchall()
        return [Label(r["name"], r["color"], r["description"], str(r["id"])) for r in rows]

    def create_label(self, label: Label) -> Label:
        name = validate_label_name(label.name)
        color = validate_color(label.color)
        with self.store.writer() as conn:
            if _label_row(conn, name) is not None:
                raise Conflict(f"label {name!r} already exists")
            cursor = conn.execute(
                "INSERT INTO labels (name, name_key, color, description, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, name.lower(), color, label.description, _now()),
            )
        return Label(name, color, label.description, str(cursor.lastrowid))

    def update_label(self, name: str, label: Label) -> Label:
        new_name = validate_label_name(label.name)
        self._require_existing(f"label {name!r}")
        with self.store.writer() as conn:
            row = _label_row(conn, name)
            if row is None:
                raise NotFound(f"label {name!r} not found")
            if new_name.lower() != row["name"].lower() and _label_row(conn, new_name) is not None:
                raise Conflict(f"label {new_name!r} already exists")
            color = validate_color(label.color) if label.color is not None else row["color"]
            description = label.description if label.description is not None else row["description"]
            conn.execute(
                "UPDATE labels SET name = ?, name_key = ?, color = ?, description = ? WHERE id = ?",
                (new_name, new_name.lower(), color, description, row["id"]),
            )
            if new_name != row["name"]:
                self._bump_issues_with_label(conn, row["id"])
        return Label(new_name, color, description, str(row["id"]))

    def delete_label(self, name: str) -> None:
        self._require_existing(f"label {name!r}")
        with self.store.writer() as conn:
            row = _label_row(conn, name)
            if row is None:
                raise NotFound(f"label {name!r} not found")
            self._bump_issues_with_label(conn, row["id"])
            conn.execute("DELETE FROM labels WHERE id = ?", (row["id"],))

    def _bump_issues_with_label(self, conn: sqlite3.Connection, label_id: int) -> None:
        """Issues whose labels change through a label rename/delete are changed issues."""
        issue_ids = [
            r[0]
            for r in conn.execute(
                "SELECT issue_id FROM issue_labels WHERE label_id = ?", (label_id,)
            ).fetchall()
        ]
        now = _now()
        for issue_id in issue_ids:
            conn.execute(
                "UPDATE issues SET version = version + 1, updated_at = ?, change_seq = ? "
                "WHERE id = ?",
                (now, _next(conn, "change_seq"), issue_id),
            )

    def _label_ids(self, conn: sqlite3.Connection, names: Sequence[str]) -> list[int] | None:
        """Ids of the named labels, or None when one of them does not exist."""
        if not names:
            return []
        keys = [name.lower() for name in names]
        rows = conn.execute(
            f"SELECT id, name_key FROM labels WHERE name_key IN ({_placeholders(len(keys))})", keys
        ).fetchall()
        found = {r["name_key"]: r["id"] for r in rows}
        if len(found) != len(set(keys)):
            return None
        return [found[key] for key in keys]

    def _require_labels(
        self, conn: sqlite3.Connection, names: Sequence[str], *, create: bool
    ) -> list[int]:
        ids: list[int] = []
        for name in names:
            row = _label_row(conn, name)
            if row is None:
                if not create:
                    raise NotFound(
                        f"label {name!r} does not exist",
                        hint=f"create it with: issue label create {_shell_quote(name)}, "
                        "or pass --create-labels (create_labels=True in Python)",
                    )
                cursor = conn.execute(
                    "INSERT INTO labels (name, name_key, created_at) VALUES (?, ?, ?)",
                    (name, name.lower(), _now()),
                )
                assert cursor.lastrowid is not None
                ids.append(cursor.lastrowid)
            else:
                ids.append(row["id"])
        return ids

    def _set_labels(self, conn: sqlite3.Connection, row_id: int, label_ids: Iterable[int]) -> None:
        conn.execute("DELETE FROM issue_labels WHERE issue_id = ?", (row_id,))
        conn.executemany(
            "INSERT OR IGNORE INTO issue_labels (issue_id, label_id) VALUES (?, ?)",
            [(row_id, label_id) for label_id in label_ids],
        )

    # ------------------------------------------------------------------ milestones

    def list_milestones(self, state: MilestoneState | None = None) -> list[Milestone]:
        with self.store.reader() as conn:
            if conn is None:
                return []
            sql = (
                "SELECT m.*, "
                "(SELECT COUNT(*) FROM issues i WHERE i.milestone_id = m.id "
                " AND i.state != 'closed') AS open_issues, "
                "(SELECT COUNT(*) FROM issues i WHERE i.milestone_id = m.id "
                " AND i.state = 'closed') AS closed_issues FROM milestones m"
            )
            params: tuple[Any, ...] = ()
            if state is not None:
                sql += " WHERE m.state = ?"
                params = (MilestoneState.parse(state).value,)
            rows = conn.execute(sql + " ORDER BY m.due_on IS NULL, m.due_on, m.title_key", params)
            return [_milestone(r) for r in rows.fetchall()]

    def create_milestone(self, milestone: Milestone) -> Milestone:
        title = validate_milestone_title(milestone.title)
        now = _now()
        state = MilestoneState.parse(milestone.state)
        with self.store.writer() as conn:
            if _milestone_row(conn, title) is not None:
                raise Conflict(f"milestone {title!r} already exists")
            conn.execute(
                "INSERT INTO milestones (id, title, title_key, description, state, due_on, "
                "created_at, updated_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _next(conn, "milestone_id"),  # never reused (schema v4)
                    title,
                    title.lower(),
                    milestone.description,
                    state.value,
                    stored_ts(milestone.due_on),
                    now,
                    now,
                    now if state is MilestoneState.CLOSED else None,
                ),
            )
        return self._milestone_by_title(title)

    def update_milestone(self, title: str, milestone: Milestone) -> Milestone:
        new_title = validate_milestone_title(milestone.title)
        now = _now()
        state = MilestoneState.parse(milestone.state)
        self._require_existing(f"milestone {title!r}")
        with self.store.writer() as conn:
            row = _milestone_row(conn, title)
            if row is None:
                raise NotFound(f"milestone {title!r} not found")
            if new_title.lower() != row["title_key"] and _milestone_row(conn, new_title):
                raise Conflict(f"milestone {new_title!r} already exists")
            closed_at = row["closed_at"]
            if state is MilestoneState.CLOSED and row["state"] != "closed":
                closed_at = now
            elif state is MilestoneState.OPEN:
                closed_at = None
            conn.execute(
                "UPDATE milestones SET title = ?, title_key = ?, description = ?, state = ?, "
                "due_on = ?, updated_at = ?, closed_at = ? WHERE id = ?",
                (
                    new_title,
                    new_title.lower(),
                    milestone.description,
                    state.value,
                    stored_ts(milestone.due_on),
                    now,
                    closed_at,
                    row["id"],
                ),
            )
        return self._milestone_by_title(new_title)

    def delete_milestone(self, title: str) -> None:
        self._require_existing(f"milestone {title!r}")
        with self.store.writer() as conn:
            row = _milestone_row(conn, title)
            if row is None:
                raise NotFound(
                    f"milestone {title!r} not found", hint="see: issue milestone list --state all"
                )
            # Its issues lose the milestone: each one is a changed issue (version, change feed),
            # as a deleted label's issues are.
            now = _now()
            issue_ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM issues WHERE milestone_id = ? ORDER BY id", (row["id"],)
                ).fetchall()
            ]
            for issue_id in issue_ids:
                conn.execute(
                    "UPDATE issues SET milestone_id = NULL, version = version + 1, "
                    "updated_at = ?, change_seq = ? WHERE id = ?",
                    (now, _next(conn, "change_seq"), issue_id),
                )
            conn.execute("DELETE FROM milestones WHERE id = ?", (row["id"],))

    def _milestone_by_title(self, title: str) -> Milestone:
        for milestone in self.list_milestones():
            if milestone.title.lower() == title.lower():
                return milestone
        raise NotFound(f"milestone {title!r} not found")

    def _milestone_id(self, conn: sqlite3.Connection, title: str | None) -> int | None:
        if title is None or title == "":
            return None
        row = _milestone_row(conn, title)
        if row is None:
            raise NotFound(
                f"milestone {title!r} does not exist",
                hint=f"create it with: issue milestone create {_shell_quote(title)}",
            )
        return int(row["id"])

    # ------------------------------------------------------------------ users

    def list_users(self) -> list[User]:
        with self.store.reader() as conn:
            if conn is None:
                return [User(self.identity)]
            rows = conn.execute("SELECT username, name, email FROM users ORDER BY username")
            users = [User(r["username"], r["name"], r["email"]) for r in rows.fetchall()]
        if all(user.username != self.identity for user in users):
            users.append(User(self.identity))
            users.sort(key=lambda user: user.username)
        return users

    def _touch_users(
        self, conn: sqlite3.Connection, usernames: Iterable[str | None], now: str
    ) -> None:
        conn.executemany(
            "INSERT INTO users (username, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(name, now) for name in dict.fromkeys(usernames) if name],
        )

    def _set_assignees(
        self, conn: sqlite3.Connection, row_id: int, usernames: Sequence[str]
    ) -> None:
        conn.execute("DELETE FROM issue_assignees WHERE issue_id = ?", (row_id,))
        conn.executemany(
            "INSERT INTO issue_assignees (issue_id, username, position) VALUES (?, ?, ?)",
            [(row_id, name, pos) for pos, name in enumerate(dict.fromkeys(usernames)) if name],
        )

    # ------------------------------------------------------------------ hydration

    def _hydrate(self, conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[Issue]:
        """Rows -> Issues, fetching labels and assignees for all rows in two queries."""
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        marks = _placeholders(len(ids))
        labels: dict[int, list[str]] = {}
        for r in conn.execute(
            f"SELECT il.issue_id, l.name FROM issue_labels il JOIN labels l ON l.id = il.label_id "
            f"WHERE il.issue_id IN ({marks}) ORDER BY l.name_key",
            ids,
        ):
            labels.setdefault(r[0], []).append(r[1])
        assignees: dict[int, list[str]] = {}
        for r in conn.execute(
            f"SELECT issue_id, username FROM issue_assignees WHERE issue_id IN ({marks}) "
            "ORDER BY position",
            ids,
        ):
            assignees.setdefault(r[0], []).append(r[1])
        return [
            Issue(
                number=row["number"],
                title=row["title"],
                description=row["description"],
                state=IssueState(row["state"]),
                labels=labels.get(row["id"], []),
                assignees=assignees.get(row["id"], []),
                milestone=row["milestone_title"],
                id=row["uid"],
                author=row["author"],
                comments_count=row["comments_count"],
                created_at=parse_ts(row["created_at"]),
                updated_at=parse_ts(row["updated_at"]),
                closed_at=parse_ts(row["closed_at"]),
                version=row["version"],
                sync_metadata=json.loads(row["sync_metadata"]),
                due_at=parse_ts(row["due_at"]),
                priority=row["priority"],
            ).mark_loaded()
            for row in rows
        ]


# ---------------------------------------------------------------------- helpers


class _NewRow:
    """One issue of a bulk insert: its validated values, then the numbers allocated for it.

    (A plain class: a dataclass here would cost every ``issue`` call ~1.5 ms of start-up.)
    """

    __slots__ = (
        "assignees",
        "author",
        "change_seq",
        "closed_at",
        "created_at",
        "description",
        "due_at",
        "id",
        "labels",
        "metadata",
        "milestone",
        "number",
        "priority",
        "state",
        "title",
        "uid",
        "updated_at",
    )

    def __init__(
        self,
        *,
        uid: str | None,
        title: str,
        description: str,
        state: IssueState,
        labels: list[tuple[int, str]],  # (label id, stored name), ordered like a read
        assignees: list[str],
        milestone: tuple[int, str] | None,  # (milestone id, stored title)
        author: str | None,
        metadata: str,
        created_at: str,
        updated_at: str,
        closed_at: str | None,
        due_at: str | None = None,
        priority: int | None = None,
    ) -> None:
        self.uid = uid
        self.title = title
        self.description = description
        self.state = state
        self.labels = labels
        self.assignees = assignees
        self.milestone = milestone
        self.author = author
        self.metadata = metadata
        self.created_at = created_at
        self.updated_at = updated_at
        self.closed_at = closed_at
        self.due_at = due_at
        self.priority = priority
        self.id = 0
        self.number = 0
        self.change_seq = 0

    def as_issue(self) -> Issue:
        """The issue as a read of this row would return it."""
        return Issue(
            number=self.number,
            title=self.title,
            description=self.description,
            state=self.state,
            labels=[name for _, name in self.labels],
            assignees=self.assignees,
            milestone=self.milestone[1] if self.milestone else None,
            id=self.uid,
            author=self.author,
            created_at=parse_ts(self.created_at),
            updated_at=parse_ts(self.updated_at),
            closed_at=parse_ts(self.closed_at),
            version=1,
            sync_metadata=json.loads(self.metadata),
            due_at=parse_ts(self.due_at),
            priority=self.priority,
        ).mark_loaded()


def _take(conn: sqlite3.Connection, counter: str, count: int) -> int:
    """Allocate ``count`` consecutive values of a counter; returns the first."""
    row = conn.execute(
        "UPDATE counters SET value = value + ? WHERE name = ? RETURNING value", (count, counter)
    ).fetchone()
    return int(row[0]) - count + 1


def _next(conn: sqlite3.Connection, counter: str) -> int:
    """Allocate the next value of a counter; atomic because it runs in the write transaction."""
    row = conn.execute(
        "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", (counter,)
    ).fetchone()
    return int(row[0])


def _comment_key(comment_id: Any) -> int | None:
    """A comment id as stored (a row id), or None for text that cannot be one."""
    text = str(comment_id).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def _issue_row(conn: sqlite3.Connection, condition: str, value: Any) -> sqlite3.Row | None:
    """The first issue row (with its milestone title) matching ``condition``."""
    row: sqlite3.Row | None = conn.execute(
        f"SELECT {_ISSUE_COLUMNS} FROM issues i LEFT JOIN milestones m "
        f"ON m.id = i.milestone_id WHERE {condition} LIMIT 1",
        (value,),
    ).fetchone()
    return row


def _label_row(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT id, name, color, description FROM labels WHERE name_key = ?",
        (name.strip().lower(),),
    ).fetchone()
    return row


def _milestone_row(conn: sqlite3.Connection, title: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM milestones WHERE title_key = ?", (title.strip().lower(),)
    ).fetchone()
    return row


def _milestone(row: sqlite3.Row) -> Milestone:
    return Milestone(
        title=row["title"],
        description=row["description"],
        state=MilestoneState(row["state"]),
        due_on=parse_ts(row["due_on"]),
        id=str(row["id"]),
        open_issues=row["open_issues"],
        closed_issues=row["closed_issues"],
        created_at=parse_ts(row["created_at"]),
        updated_at=parse_ts(row["updated_at"]),
        closed_at=parse_ts(row["closed_at"]),
    )


def _metadata_json(metadata: Any) -> str:
    if not isinstance(metadata, dict):
        raise ValidationError("sync_metadata must be a JSON object")
    try:
        return json.dumps(metadata, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"sync_metadata is not JSON-serialisable: {exc}") from exc


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _merge(issue: Issue, changed: list[str], current: Issue) -> dict[str, Any]:
    """The field values to write: the caller's changes merged onto the stored issue
    (``core.merge``); a field both sides changed differently is a ``Conflict``."""
    if issue.version is None or issue.version == current.version:
        # Nothing was written since the caller's read: its values are the merge.
        mine = issue.editable_snapshot()
        return {name: mine[name] for name in changed}
    merged = merge_issue(issue, changed, current)
    if merged.conflicts:
        raise Conflict(
            f"issue #{current.number} was changed by someone else since it was read "
            f"(version {issue.version} -> {current.version}); "
            f"conflicting: {', '.join(merged.conflicts)}",
            hint="re-read the issue and apply the change again",
        )
    return merged.values
