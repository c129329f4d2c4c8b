"""Dependencies on the local store: the ``issue_links`` rows (rules in ``core.dependencies``).

A link is checked and written in the caller's write transaction, so the cycle check sees
exactly the links the insert joins; both issues are ``touch``ed (a link is a change of each,
which the change feed and the event log report).
"""

from __future__ import annotations

import sqlite3

from issue_core.backends.local import feed
from issue_core.backends.local.timestamps import now
from issue_core.core.dependencies import Link, LinkedIssue, LinkKind, check_new_link, linked
from issue_core.core.errors import NotFound


def _row_id(conn: sqlite3.Connection, number: int) -> int:
    row = conn.execute("SELECT id FROM issues WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise NotFound(f"issue #{number} not found")
    return int(row[0])


def add(conn: sqlite3.Connection, link: Link) -> bool:
    """Store ``link``; False when it is stored already."""
    source, target = _row_id(conn, link.source), _row_id(conn, link.target)
    exists = conn.execute(
        "SELECT 1 FROM issue_links WHERE source_id = ? AND kind = ? AND target_id = ?",
        (source, link.kind.value, target),
    ).fetchone()
    if exists is not None:
        return False

    def successors(number: int) -> list[int]:
        return [
            row[0]
            for row in conn.execute(
                "SELECT t.number FROM issue_links l JOIN issues s ON s.id = l.source_id "
                "JOIN issues t ON t.id = l.target_id WHERE s.number = ? AND l.kind = ?",
                (number, link.kind.value),
            )
        ]

    def parent_of(number: int) -> int | None:
        row = conn.execute(
            "SELECT s.number FROM issue_links l JOIN issues s ON s.id = l.source_id "
            "JOIN issues t ON t.id = l.target_id WHERE t.number = ? AND l.kind = 'parent'",
            (number,),
        ).fetchone()
        return None if row is None else int(row[0])

    check_new_link(link, successors, parent_of)
    at = now()
    conn.execute(
        "INSERT INTO issue_links (kind, source_id, target_id, created_at) VALUES (?, ?, ?, ?)",
        (link.kind.value, source, target, at),
    )
    feed.touch(conn, [source, target], at, kind="linked", data=_event(link))
    return True


def remove(conn: sqlite3.Connection, link: Link) -> None:
    source, target = _row_id(conn, link.source), _row_id(conn, link.target)
    gone = conn.execute(
        "DELETE FROM issue_links WHERE source_id = ? AND kind = ? AND target_id = ?",
        (source, link.kind.value, target),
    ).rowcount
    if not gone:
        raise NotFound(f"no such dependency: {link.describe()}")
    feed.touch(conn, [source, target], now(), kind="unlinked", data=_event(link))


def _event(link: Link) -> dict[str, object]:
    return {"kind": link.kind.value, "source": link.source, "target": link.target}


def of_issue(conn: sqlite3.Connection, number: int) -> list[LinkedIssue]:
    """Every issue linked to ``number``, by relation then number."""
    row_id = _row_id(conn, number)
    rows = conn.execute(
        "SELECT l.kind, s.number AS source, t.number AS target, "
        "o.number AS other, o.title, o.state FROM issue_links l "
        "JOIN issues s ON s.id = l.source_id JOIN issues t ON t.id = l.target_id "
        "JOIN issues o ON o.id = CASE WHEN l.source_id = ? THEN l.target_id "
        "ELSE l.source_id END "
        "WHERE l.source_id = ? OR l.target_id = ? ORDER BY o.number",
        (row_id, row_id, row_id),
    ).fetchall()
    found = []
    for row in rows:
        relation, _ = linked(Link(LinkKind(row["kind"]), row["source"], row["target"]), number)
        found.append(LinkedIssue(relation, row["other"], row["title"], row["state"]))
    return found
