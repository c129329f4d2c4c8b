"""Milestone rows and their issue counts: titles unique without regard to case (``title_key``),
ids from a counter (never reused), and what deleting one does to its issues. Functions over a
connection inside the backend's transaction; the backend validates input before it opens one."""

from __future__ import annotations

import sqlite3
from typing import Any

from issue_core.backends.local import counters, feed
from issue_core.backends.local.timestamps import now, stored_ts
from issue_core.core.errors import Conflict, NotFound
from issue_core.core.models import Milestone, MilestoneState, parse_ts

_WITH_COUNTS = (
    "SELECT m.*, "
    "(SELECT COUNT(*) FROM issues i WHERE i.milestone_id = m.id "
    " AND i.state != 'closed') AS open_issues, "
    "(SELECT COUNT(*) FROM issues i WHERE i.milestone_id = m.id "
    " AND i.state = 'closed') AS closed_issues FROM milestones m"
)


def list_all(conn: sqlite3.Connection, state: MilestoneState | str | None) -> list[Milestone]:
    sql = _WITH_COUNTS
    params: tuple[Any, ...] = ()
    if state is not None:
        sql += " WHERE m.state = ?"
        params = (MilestoneState.parse(state).value,)
    rows = conn.execute(sql + " ORDER BY m.due_on IS NULL, m.due_on, m.title_key", params)
    return [_milestone(r) for r in rows.fetchall()]


def by_title(conn: sqlite3.Connection, title: str) -> Milestone:
    """One milestone, by title without regard to case, with its counts."""
    row = conn.execute(_WITH_COUNTS + " WHERE m.title_key = ?", (title.strip().lower(),))
    found = row.fetchone()
    if found is None:
        raise NotFound(f"milestone {title!r} not found")
    return _milestone(found)


def row_of(conn: sqlite3.Connection, title: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM milestones WHERE title_key = ?", (title.strip().lower(),)
    ).fetchone()
    return row


def create(conn: sqlite3.Connection, title: str, milestone: Milestone) -> None:
    """A new milestone titled ``title`` (validated); Conflict when the title is taken."""
    state = MilestoneState.parse(milestone.state)
    at = now()
    if row_of(conn, title) is not None:
        raise Conflict(f"milestone {title!r} already exists")
    conn.execute(
        "INSERT INTO milestones (id, title, title_key, description, state, due_on, "
        "created_at, updated_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            counters.next_value(conn, "milestone_id"),  # never reused (schema v4)
            title,
            title.lower(),
            milestone.description,
            state.value,
            stored_ts(milestone.due_on),
            at,
            at,
            at if state is MilestoneState.CLOSED else None,
        ),
    )


def update(conn: sqlite3.Connection, title: str, new_title: str, milestone: Milestone) -> None:
    state = MilestoneState.parse(milestone.state)
    at = now()
    row = row_of(conn, title)
    if row is None:
        raise NotFound(f"milestone {title!r} not found")
    if new_title.lower() != row["title_key"] and row_of(conn, new_title):
        raise Conflict(f"milestone {new_title!r} already exists")
    closed_at = row["closed_at"]
    if state is MilestoneState.CLOSED and row["state"] != "closed":
        closed_at = at
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
            at,
            closed_at,
            row["id"],
        ),
    )


def delete(conn: sqlite3.Connection, title: str) -> None:
    row = row_of(conn, title)
    if row is None:
        raise NotFound(
            f"milestone {title!r} not found", hint="see: issue milestone list --state all"
        )
    # Its issues lose the milestone: each one is a changed issue (version, change feed),
    # as a deleted label's issues are.
    issue_ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM issues WHERE milestone_id = ? ORDER BY id", (row["id"],)
        ).fetchall()
    ]
    feed.touch(
        conn,
        issue_ids,
        now(),
        {"milestone_id": None},
        data={"changes": {"milestone": {"before": row["title"], "after": None}}},
    )
    conn.execute("DELETE FROM milestones WHERE id = ?", (row["id"],))


def id_of(conn: sqlite3.Connection, title: str | None) -> int | None:
    """The id of the milestone titled ``title`` (None for none); NotFound with a hint."""
    if title is None or title == "":
        return None
    row = row_of(conn, title)
    if row is None:
        raise NotFound(
            f"milestone {title!r} does not exist",
            hint=f"create it with: issue milestone create {_shell_quote(title)}",
        )
    return int(row["id"])


def stored(conn: sqlite3.Connection, title: str) -> tuple[int, str]:
    """The milestone's id and its title as stored; NotFound when there is none."""
    milestone_id = id_of(conn, title)
    assert milestone_id is not None  # only called with a title
    row = conn.execute("SELECT title FROM milestones WHERE id = ?", (milestone_id,))
    return milestone_id, str(row.fetchone()[0])


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


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
