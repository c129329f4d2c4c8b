"""Reading the local store's event log (feed.py writes it, in the transaction of each change)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from issue_core.backends.local.timestamps import stored_ts
from issue_core.core.events import Event


def read(
    conn: sqlite3.Connection | None,
    *,
    number: int | None,
    after: int,
    since: datetime | None,
    limit: int,
) -> list[Event]:
    """Events after the cursor ``after`` (and at or after ``since``), oldest first."""
    if conn is None:
        return []
    where: list[str] = ["seq > ?"]
    params: list[object] = [after]
    if number is not None:
        where.append("number = ?")
        params.append(number)
    if since is not None:
        where.append("at >= ?")
        params.append(stored_ts(since))
    rows = conn.execute(
        "SELECT seq, number, uid, kind, actor, at, data FROM events "
        f"WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [
        Event(str(seq), issue, kind, actor, _short(at), json.loads(data), uid)
        for seq, issue, uid, kind, actor, at, data in rows
    ]


def _short(at: str) -> str:
    """Output keeps the short form of an instant, as everywhere (no ``.000000``)."""
    return at.replace(".000000Z", "Z")
