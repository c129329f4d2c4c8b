"""Claims with leases on the local store: functions over a connection inside the caller's
write transaction (``BEGIN IMMEDIATE``: writers queue, so each call sees and leaves one state).

At most one live lease per issue is the ``claims`` table's primary key; taking one is a single
conditional upsert (insert, or extend only when the holder is the caller) whose row count says
who won, so any number of processes racing for an issue get exactly one winner. A claim makes
the issue ``in_progress`` with the holder as its assignee; every step is an event through
``feed.touch()``. A lease that ran out is swept by the next write that looks at it (claim,
heartbeat, release, next, a fenced edit): the issue goes back to ``open`` without the holder,
recorded as ``lease_expired`` at the sweep's time with the lease's ``expires_at``.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from issue_core.backends.local import feed
from issue_core.backends.local.query import NO_OPEN_BLOCKER
from issue_core.backends.local.timestamps import stored_ts
from issue_core.core.claims import Claim
from issue_core.core.errors import ClaimConflict, Conflict, NotFound
from issue_core.core.models import parse_ts

_FENCED_FIELDS = ("state", "assignees")


def _later(now: str, seconds: int) -> str:
    instant = parse_ts(now)
    assert instant is not None
    return stored_ts(instant + timedelta(seconds=seconds)) or ""


def _short(at: str) -> str:
    return at.replace(".000000Z", "Z")


def _issue(conn: sqlite3.Connection, number: int) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT id, state FROM issues WHERE number = ?", (number,)
    ).fetchone()
    if row is None:
        raise NotFound(f"issue #{number} not found")
    return row


def _assignees(conn: sqlite3.Connection, issue_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT username FROM issue_assignees WHERE issue_id = ? ORDER BY position", (issue_id,)
    ).fetchall()
    return [r[0] for r in rows]


def _held(conn: sqlite3.Connection, number: int, holder: str, expires_at: str) -> ClaimConflict:
    return ClaimConflict(
        f"issue #{number} is claimed by {holder} until {_short(expires_at)}",
        hint="pick another issue (issue next --claim), or wait for the lease to run out",
        holder=holder,
        expires_at=_short(expires_at),
    )


def expire(conn: sqlite3.Connection, now: str, issue_id: int | None = None) -> None:
    """Sweep leases that ran out by ``now`` (of one issue, or all): the issue is open again,
    without the holder as assignee, and a ``lease_expired`` event says so."""
    where, params = "expires_at <= ?", [now]
    if issue_id is not None:
        where += " AND issue_id = ?"
        params.append(issue_id)  # type: ignore[arg-type]
    due = conn.execute(
        f"SELECT issue_id, holder, expires_at FROM claims WHERE {where}", params
    ).fetchall()
    for row_id, holder, expires_at in due:
        conn.execute("DELETE FROM claims WHERE issue_id = ?", (row_id,))
        _let_go(conn, row_id, holder, now, "lease_expired", {"expires_at": _short(expires_at)})


def _let_go(
    conn: sqlite3.Connection,
    row_id: int,
    holder: str,
    now: str,
    kind: str,
    data: dict[str, object],
) -> None:
    """The issue a lease ended on: open again (if still in progress), the holder unassigned."""
    from issue_core.backends.local.issues import set_assignees

    state = conn.execute("SELECT state FROM issues WHERE id = ?", (row_id,)).fetchone()[0]
    before = _assignees(conn, row_id)
    after = [name for name in before if name != holder]
    changes: dict[str, object] = {}
    columns: dict[str, object] = {}
    if state == "in_progress":
        columns["state"] = "open"
        changes["state"] = {"before": state, "after": "open"}
    if after != before:
        set_assignees(conn, row_id, after)
        changes["assignees"] = {"before": before, "after": after}
    feed.touch(
        conn, [row_id], now, columns, kind=kind, data={"holder": holder, **data, "changes": changes}
    )


def claim(conn: sqlite3.Connection, number: int, holder: str, now: str, ttl_s: int) -> Claim:
    """Claim issue ``number`` for ``holder`` for ``ttl_s`` seconds, or extend the holder's own
    lease. Another holder's live lease is a ``ClaimConflict``; a closed issue a ``Conflict``."""
    from issue_core.backends.local.issues import set_assignees

    issue = _issue(conn, number)
    row_id = issue["id"]
    expire(conn, now, row_id)
    if issue["state"] == "closed":
        raise Conflict(
            f"issue #{number} is closed: there is nothing to claim", hint=f"issue reopen {number}"
        )
    expires_at = _later(now, ttl_s)
    # The one conditional write: a new lease, or the holder's own extended; another holder's
    # live lease is left alone and the row count is 0.
    taken = conn.execute(
        "INSERT INTO claims (issue_id, holder, claimed_at, expires_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (issue_id) DO UPDATE SET expires_at = excluded.expires_at "
        "WHERE claims.holder = excluded.holder",
        (row_id, holder, now, expires_at),
    ).rowcount
    if taken != 1:
        other, until = conn.execute(
            "SELECT holder, expires_at FROM claims WHERE issue_id = ?", (row_id,)
        ).fetchone()
        raise _held(conn, number, other, until)
    claimed_at = conn.execute(
        "SELECT claimed_at FROM claims WHERE issue_id = ?", (row_id,)
    ).fetchone()[0]
    extended = claimed_at != now
    before = _assignees(conn, row_id)
    after = [holder, *(name for name in before if name != holder)]
    changes: dict[str, object] = {}
    columns: dict[str, object] = {}
    if issue["state"] != "in_progress":
        columns["state"] = "in_progress"
        changes["state"] = {"before": issue["state"], "after": "in_progress"}
    if after != before:
        set_assignees(conn, row_id, after)
        changes["assignees"] = {"before": before, "after": after}
    data = {"holder": holder, "expires_at": _short(expires_at), "extended": extended}
    feed.touch(conn, [row_id], now, columns, kind="claimed", data={**data, "changes": changes})
    return Claim(number, holder, _short(claimed_at), _short(expires_at), extended)


def _live_lease(
    conn: sqlite3.Connection, number: int, now: str
) -> tuple[int, tuple[str, str, str] | None]:
    """The issue's row id and its live lease ``(holder, claimed_at, expires_at)`` once leases
    that ran out are swept, or None."""
    row_id = _issue(conn, number)["id"]
    expire(conn, now, row_id)
    row = conn.execute(
        "SELECT holder, claimed_at, expires_at FROM claims WHERE issue_id = ?", (row_id,)
    ).fetchone()
    return row_id, tuple(row) if row is not None else None


def live_claim(conn: sqlite3.Connection, number: int, now: str) -> Claim | None:
    """The live lease on issue ``number`` at ``now``, read without sweeping (a look)."""
    row = conn.execute(
        "SELECT c.holder, c.claimed_at, c.expires_at FROM claims c JOIN issues i "
        "ON i.id = c.issue_id WHERE i.number = ? AND c.expires_at > ?",
        (number, now),
    ).fetchone()
    return Claim(number, row[0], _short(row[1]), _short(row[2])) if row is not None else None


def heartbeat(conn: sqlite3.Connection, number: int, holder: str, now: str, ttl_s: int) -> Claim:
    """Extend the holder's live lease; a lease that ran out (or another's) is a ClaimConflict."""
    row_id, row = _live_lease(conn, number, now)
    if row is None:
        raise ClaimConflict(
            f"issue #{number} is not claimed by {holder}: no live lease to renew "
            "(it ran out, was released, or was never taken)",
            hint=f"claim it again: issue claim {number}",
        )
    if row[0] != holder:
        raise _held(conn, number, row[0], row[2])
    expires_at = _later(now, ttl_s)
    conn.execute("UPDATE claims SET expires_at = ? WHERE issue_id = ?", (expires_at, row_id))
    feed.touch(
        conn,
        [row_id],
        now,
        kind="heartbeat",
        data={"holder": holder, "expires_at": _short(expires_at)},
    )
    return Claim(number, holder, _short(row[1]), _short(expires_at), True)


def release(conn: sqlite3.Connection, number: int, holder: str, now: str, *, force: bool) -> Claim:
    """End the lease: the holder's, or anyone's with ``force`` (recorded as forced)."""
    row_id, row = _live_lease(conn, number, now)
    if row is None:
        raise ClaimConflict(
            f"issue #{number} is not claimed: there is no lease to release",
            hint=f"see its events: issue events {number}",
        )
    if row[0] != holder and not force:
        raise _held(conn, number, row[0], row[2])
    conn.execute("DELETE FROM claims WHERE issue_id = ?", (row_id,))
    data: dict[str, object] = {"forced": row[0] != holder}
    if row[0] != holder:
        data["by"] = holder
    _let_go(conn, row_id, row[0], now, "released", data)
    return Claim(number, row[0], _short(row[1]), _short(now))


def fence(
    conn: sqlite3.Connection, row_id: int, number: int, actor: str, fields: set[str], now: str
) -> None:
    """A plain edit of the state or assignees of an issue another agent holds is a
    ClaimConflict; the holder closing it ends the lease (the close is the hand-back)."""
    if not fields & set(_FENCED_FIELDS):
        return
    expire(conn, now, row_id)
    row = conn.execute(
        "SELECT holder, expires_at FROM claims WHERE issue_id = ?", (row_id,)
    ).fetchone()
    if row is None:
        return
    if row[0] != actor:
        raise ClaimConflict(
            f"issue #{number} is claimed by {row[0]} until {_short(row[1])}: its "
            f"{' and '.join(sorted(fields & set(_FENCED_FIELDS)))} cannot change under the lease",
            hint=f"ask the holder, or take it over: issue release {number} --force",
            holder=row[0],
            expires_at=_short(row[1]),
        )


def end_on_close(conn: sqlite3.Connection, row_id: int) -> None:
    """The holder closed (or reopened) the issue it holds: its lease ends with that change."""
    conn.execute("DELETE FROM claims WHERE issue_id = ?", (row_id,))


def next_ready(
    conn: sqlite3.Connection, now: str, labels: list[int] | None, *, sweep: bool = True
) -> int | None:
    """The most important ready issue: open, unclaimed; priority (0 first, none last), then
    the oldest; every blocker closed. Leases that ran out are swept first (``sweep``, in a
    write transaction), so their issues are ready again; a read-only look (``sweep=False``)
    counts them as ready without writing, so it works on a read-only store and picks the same
    issue the sweep would free."""
    if sweep:
        expire(conn, now)
    joins, params = "", []
    for n, label_id in enumerate(labels or []):
        joins += f" JOIN issue_labels l{n} ON l{n}.issue_id = i.id AND l{n}.label_id = ?"
        params.append(label_id)
    row = conn.execute(
        f"SELECT i.number FROM issues i{joins} "
        # An issue under a lease that ran out is ready again (what the sweep makes of it).
        "WHERE (i.state = 'open' OR EXISTS (SELECT 1 FROM claims e WHERE e.issue_id = i.id "
        "AND e.expires_at <= ?)) "
        "AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.issue_id = i.id AND c.expires_at > ?) "
        f"AND {NO_OPEN_BLOCKER} "  # blocked issues are not ready (the ready queue's rule)
        "ORDER BY COALESCE(i.priority, 5), i.created_at, i.number LIMIT 1",
        [*params, now, now],
    ).fetchone()
    return int(row[0]) if row else None
