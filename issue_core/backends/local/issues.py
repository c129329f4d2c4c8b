"""Issue rows: the batch insert, applying merged changes, deletion, and hydration (rows ->
``Issue`` with labels and assignees in two queries). Every change of an existing issue goes
through ``feed.touch``; numbers and uids are allocated here. Functions over a connection inside
the backend's transaction; the backend opens it (and checks what must exist first). The
writing functions import the modules only writes need, so reading issues loads just this one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from issue_core.backends.local import timestamps
from issue_core.backends.local.timestamps import stored_ts
from issue_core.core.errors import Conflict, NotFound, ValidationError
from issue_core.core.models import (
    Issue,
    IssueState,
    close_reason_for,
    format_ts,
    parse_priority,
    parse_ts,
    validate_description,
    validate_label_name,
    validate_title,
    validate_username,
)
from issue_core.storage.batches import insert_rows
from issue_core.storage.dialect import dialect_of

ISSUE_COLUMNS = (
    "i.id, i.uid, i.number, i.title, i.description, i.state, i.author, i.sync_metadata, "
    "i.version, i.comments_count, i.change_seq, i.created_at, i.updated_at, i.closed_at, "
    "i.due_at, i.priority, i.close_reason, m.title AS milestone_title"
)


def new_uids(count: int) -> list[str]:
    """Fresh issue uids: 128 bits as 32 hex digits, the first 48 the time in milliseconds.

    Time-ordered like UUIDv7, so new uids land at the end of the uid index instead of on a
    random page of it: a batch of creates then rewrites one or two index pages, not one per
    issue (measured: a 14-issue batch wrote 54 pages to the WAL with random uids, ~40 with these).
    The 80 random bits keep uids unique across processes and machines.
    """
    prefix = f"{time.time_ns() // 1_000_000:012x}"
    entropy = os.urandom(10 * count).hex()  # one system call for the whole batch
    return [prefix + entropy[20 * n : 20 * n + 20] for n in range(count)]


def row_of(conn: sqlite3.Connection, condition: str, value: Any) -> sqlite3.Row | None:
    """The first issue row (with its milestone title) matching ``condition``."""
    row: sqlite3.Row | None = conn.execute(
        f"SELECT {ISSUE_COLUMNS} FROM issues i LEFT JOIN milestones m "
        f"ON m.id = i.milestone_id WHERE {condition} LIMIT 1",
        (value,),
    ).fetchone()
    return row


def by_marker(conn: sqlite3.Connection, marker: str) -> Issue | None:
    """The issue whose ``sync_metadata`` holds ``marker`` (the ingestion server's key)."""
    marker_of = dialect_of(conn).json_text("i.sync_metadata", "marker")
    row = row_of(conn, f"{marker_of} = ?", marker)
    return hydrate(conn, [row])[0] if row is not None else None


def load_for_update(conn: sqlite3.Connection, number: int) -> Issue:
    row = row_of(conn, "i.number = ?", number)
    if row is None:
        raise NotFound(f"issue #{number} not found")
    return hydrate(conn, [row])[0]


def insert_batch(
    conn: sqlite3.Connection, issues: list[Issue], *, identity: str, create_labels: bool
) -> list[Issue]:
    """Insert ``issues`` (validated here), returning them as stored, without a read-back.

    Per batch, not per issue: label ids, milestones and known users are looked up once, numbers
    and change sequence values are taken from the counters in one statement each, and each
    table's rows go in with one multi-row INSERT."""
    from issue_core.backends.local import users as users_rows

    now = timestamps.now()
    rows, users = _prepare(conn, issues, identity=identity, create_labels=create_labels, now=now)
    users_rows.record(conn, users, now)
    _write(conn, rows)
    return [row.as_issue() for row in rows]


def _prepare(
    conn: sqlite3.Connection, issues: list[Issue], *, identity: str, create_labels: bool, now: str
) -> tuple[list[NewRow], dict[str, None]]:
    """Validate each issue and resolve its labels and milestone (each looked up once per
    batch): the rows to insert, and the users they name."""
    from issue_core.backends.local import labels as label_rows
    from issue_core.backends.local import milestones as milestone_rows

    labels: dict[str, tuple[int, str]] = {}  # name key -> (id, stored name)
    milestones: dict[str, tuple[int, str]] = {}  # title key -> (id, stored title)
    users: dict[str, None] = {}
    rows: list[NewRow] = []
    for issue in issues:
        state = IssueState.parse(issue.state)
        label_ids: dict[int, str] = {}
        for name in issue.labels:
            cleaned = validate_label_name(name)
            key = cleaned.lower()
            if key not in labels:
                labels[key] = label_rows.stored(conn, cleaned, create=create_labels)
            label_id, stored_name = labels[key]
            label_ids[label_id] = stored_name
        milestone = None
        if issue.milestone:
            key = issue.milestone.strip().lower()
            if key not in milestones:
                milestones[key] = milestone_rows.stored(conn, issue.milestone)
            milestone = milestones[key]
        author = issue.author or identity
        assignees = list(dict.fromkeys(validate_username(a) for a in issue.assignees))
        users.update(dict.fromkeys(name for name in (author, *assignees) if name))
        rows.append(
            NewRow(
                uid=issue.id,
                title=validate_title(issue.title),
                description=validate_description(issue.description),
                state=state,
                labels=sorted(label_ids.items(), key=lambda label: label[1].lower()),
                assignees=assignees,
                milestone=milestone,
                author=author,
                metadata=metadata_json(issue.sync_metadata),
                created_at=stored_ts(issue.created_at) or now,
                updated_at=stored_ts(issue.updated_at) or now,
                closed_at=(stored_ts(issue.closed_at) or now)
                if state is IssueState.CLOSED
                else None,
                due_at=stored_ts(issue.due_at),
                priority=issue.priority,
                close_reason=_reason_value(state, issue.close_reason),
            )
        )
    return rows, users


def _reason_value(state: IssueState, reason: Any) -> str | None:
    stored = close_reason_for(state, reason)
    return stored.value if stored is not None else None


def _write(conn: sqlite3.Connection, rows: list[NewRow]) -> None:
    """Number the rows (numbers, change sequence values, row ids and uids allocated for the
    whole batch at once) and insert them with one multi-row INSERT per table."""
    from issue_core.backends.local import counters, feed, search

    first_number = counters.take(conn, "issue_number", len(rows))
    first_seq = feed.sequence(conn, len(rows))
    # Explicit row ids (what SQLite would pick: max + 1) let the rows go in with
    # multi-row statements and still be linked to their labels, assignees and search
    # entries.
    first_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM issues").fetchone()[0])
    fresh_uids = new_uids(len(rows))
    for n, row in enumerate(rows):
        row.id, row.number, row.change_seq = first_id + n, first_number + n, first_seq + n
        row.uid = row.uid or fresh_uids[n]
    insert_rows(
        conn,
        "issues (id, uid, number, title, description, state, milestone_id, author, "
        "sync_metadata, change_seq, created_at, updated_at, closed_at, due_at, priority, "
        "close_reason)",
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
                row.close_reason,
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
    search.add(conn, [(row.id, row.title, row.description) for row in rows])
    feed.created(conn, [(row.change_seq, row.id, row.number, row.uid, row.title) for row in rows])


def apply(
    conn: sqlite3.Connection, current: Issue, values: dict[str, Any], *, create_labels: bool
) -> None:
    """Write merged field ``values`` onto the stored issue ``current`` (validated here)."""
    from issue_core.backends.local import claims, feed, search
    from issue_core.backends.local import labels as label_rows
    from issue_core.backends.local import milestones as milestone_rows
    from issue_core.backends.local import users as users_rows

    row = conn.execute("SELECT id FROM issues WHERE number = ?", (current.number,)).fetchone()
    row_id = row["id"]
    now = timestamps.now()
    # A live lease fences the state and assignees: only its holder changes them; the holder
    # moving the issue out of in_progress (closing it) ends the lease with that change.
    claims.fence(conn, row_id, current.number or 0, feed.actor_of(conn), set(values), now)
    if "state" in values and IssueState.parse(values["state"]) is not IssueState.IN_PROGRESS:
        claims.end_on_close(conn, row_id)
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
    if "state" in values or "close_reason" in values:
        state = IssueState.parse(values.get("state", current.state))
        # A change of state alone keeps the reason an issue that stays closed had.
        kept = current.close_reason if current.state is IssueState.CLOSED else None
        sets["close_reason"] = _reason_value(state, values.get("close_reason", kept))
    if "milestone" in values:
        sets["milestone_id"] = milestone_rows.id_of(conn, values["milestone"])
    if "sync_metadata" in values:
        sets["sync_metadata"] = metadata_json(values["sync_metadata"])
    if "due_at" in values:
        sets["due_at"] = stored_ts(parse_ts(values["due_at"]))
    if "priority" in values:
        sets["priority"] = parse_priority(values["priority"])
    if "labels" in values:
        names = [validate_label_name(name) for name in values["labels"]]
        label_ids = label_rows.require(conn, names, create=create_labels)
        label_rows.set_on_issue(conn, row_id, label_ids)
    if "assignees" in values:
        assignees = list(dict.fromkeys(validate_username(a) for a in values["assignees"]))
        users_rows.record(conn, assignees, now)
        set_assignees(conn, row_id, assignees)
    kind, changes = _event_of(current, sets, values)
    feed.touch(conn, [row_id], now, sets, kind=kind, data={"changes": changes})
    if "title" in sets or "description" in sets:
        title = sets.get("title", current.title)
        search.set_text(conn, row_id, title, sets.get("description", current.description))


# Event kinds of an edit, by the fields it changed (anything wider is "edited").
_KINDS = (
    ({"state", "close_reason"}, "state"),
    ({"labels"}, "labeled"),
    ({"assignees"}, "assigned"),
    ({"sync_metadata"}, "metadata"),
)


def _event_of(
    current: Issue, sets: dict[str, Any], values: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The event of an edit: its kind and ``{field: {"before", "after"}}`` for each field whose
    value moved, in the issue's JSON form."""
    before = current.to_dict()
    after = dict(before)
    for field in ("title", "description", "state", "close_reason", "priority"):
        if field in sets:
            after[field] = sets[field]
    for field in ("milestone", "sync_metadata"):
        if field in values:
            after[field] = values[field]
    if "due_at" in sets:
        after["due_at"] = format_ts(parse_ts(sets["due_at"]))
    if "labels" in values:
        after["labels"] = sorted(values["labels"], key=str.lower)
        before["labels"] = sorted(before["labels"], key=str.lower)
    if "assignees" in values:
        after["assignees"] = list(dict.fromkeys(values["assignees"]))
    fields = (
        "title",
        "description",
        "state",
        "close_reason",
        "priority",
        "milestone",
        "sync_metadata",
        "due_at",
        "labels",
        "assignees",
    )
    changes = {f: {"before": before[f], "after": after[f]} for f in fields if before[f] != after[f]}
    kind = next((k for keys, k in _KINDS if changes and set(changes) <= keys), "edited")
    return kind, changes


def delete(conn: sqlite3.Connection, number: int) -> None:
    """Remove issue ``number``, leaving a tombstone for the change feed."""
    from issue_core.backends.local import feed, search

    row = conn.execute("SELECT id, uid FROM issues WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise NotFound(f"issue #{number} not found")
    feed.record_deletion(conn, row["id"], row["uid"], number, timestamps.now())
    search.remove(conn, row["id"])
    conn.execute("DELETE FROM issues WHERE id = ?", (row["id"],))


def set_assignees(conn: sqlite3.Connection, row_id: int, usernames: Sequence[str]) -> None:
    conn.execute("DELETE FROM issue_assignees WHERE issue_id = ?", (row_id,))
    conn.executemany(
        "INSERT INTO issue_assignees (issue_id, username, position) VALUES (?, ?, ?)",
        [(row_id, name, pos) for pos, name in enumerate(dict.fromkeys(usernames)) if name],
    )


def merged_values(issue: Issue, changed: list[str], current: Issue) -> dict[str, Any]:
    """The field values to write: the caller's changes merged onto the stored issue
    (``core.merge``); a field both sides changed differently is a ``Conflict``."""
    if issue.version is None or issue.version == current.version:
        # Nothing was written since the caller's read: its values are the merge.
        mine = issue.editable_snapshot()
        return {name: mine[name] for name in changed}
    from issue_core.core.merge import merge_issue  # only a stale copy is merged

    merged = merge_issue(issue, changed, current)
    if merged.conflicts:
        raise Conflict(
            f"issue #{current.number} was changed by someone else since it was read "
            f"(version {issue.version} -> {current.version}); "
            f"conflicting: {', '.join(merged.conflicts)}",
            hint="re-read the issue and apply the change again",
        )
    return merged.values


def metadata_json(metadata: Any) -> str:
    if not isinstance(metadata, dict):
        raise ValidationError("sync_metadata must be a JSON object")
    try:
        return json.dumps(metadata, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"sync_metadata is not JSON-serialisable: {exc}") from exc


def hydrate(conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[Issue]:
    """Rows -> Issues, fetching labels and assignees for all rows in two queries."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    marks = dialect_of(conn).marks(len(ids))
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
            close_reason=row["close_reason"],
        ).mark_loaded()
        for row in rows
    ]


class NewRow:
    """One issue of a bulk insert: its validated values, then the numbers allocated for it.

    (A plain class: a dataclass here would cost every ``issue`` call ~1.5 ms of start-up.)
    """

    __slots__ = (
        "assignees",
        "author",
        "change_seq",
        "close_reason",
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
        close_reason: str | None = None,
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
        self.close_reason = close_reason
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
            close_reason=self.close_reason,
        ).mark_loaded()
