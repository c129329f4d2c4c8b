"""Label rows and what a label change does to issues: names are unique without regard to case
(``name_key``) and keep the spelling they were created with. Functions over a connection inside
the backend's transaction; the backend validates input before it opens one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from issue_core.backends.local import feed
from issue_core.backends.local.timestamps import now
from issue_core.core.errors import Conflict, NotFound
from issue_core.core.models import Label, validate_color
from issue_core.storage.dialect import dialect_of


def list_all(conn: sqlite3.Connection) -> list[Label]:
    rows = conn.execute(
        "SELECT id, name, color, description FROM labels ORDER BY name_key"
    ).fetchall()
    return [Label(r["name"], r["color"], r["description"], str(r["id"])) for r in rows]


def row_of(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT id, name, color, description FROM labels WHERE name_key = ?",
        (name.strip().lower(),),
    ).fetchone()
    return row


def create(
    conn: sqlite3.Connection, name: str, color: str | None, description: str | None
) -> Label:
    """A new label (``name`` and ``color`` validated); Conflict when the name is taken."""
    if row_of(conn, name) is not None:
        raise Conflict(f"label {name!r} already exists")
    cursor = conn.execute(
        "INSERT INTO labels (name, name_key, color, description, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (name, name.lower(), color, description, now()),
    )
    return Label(name, color, description, str(cursor.lastrowid))


def update(conn: sqlite3.Connection, name: str, new_name: str, label: Label) -> Label:
    """Rename or recolour ``name``; issues carrying it change with a rename (change feed)."""
    row = row_of(conn, name)
    if row is None:
        raise NotFound(f"label {name!r} not found")
    if new_name.lower() != row["name"].lower() and row_of(conn, new_name) is not None:
        raise Conflict(f"label {new_name!r} already exists")
    color = validate_color(label.color) if label.color is not None else row["color"]
    description = label.description if label.description is not None else row["description"]
    conn.execute(
        "UPDATE labels SET name = ?, name_key = ?, color = ?, description = ? WHERE id = ?",
        (new_name, new_name.lower(), color, description, row["id"]),
    )
    if new_name != row["name"]:
        _touch_issues_with(
            conn, row["id"], {"label_renamed": {"before": row["name"], "after": new_name}}
        )
    return Label(new_name, color, description, str(row["id"]))


def delete(conn: sqlite3.Connection, name: str) -> None:
    row = row_of(conn, name)
    if row is None:
        raise NotFound(f"label {name!r} not found")
    _touch_issues_with(conn, row["id"], {"label_deleted": row["name"]})
    conn.execute("DELETE FROM labels WHERE id = ?", (row["id"],))


def _touch_issues_with(conn: sqlite3.Connection, label_id: int, data: dict[str, Any]) -> None:
    """Issues whose labels change through a label rename/delete are changed issues."""
    issue_ids = [
        r[0]
        for r in conn.execute(
            "SELECT issue_id FROM issue_labels WHERE label_id = ?", (label_id,)
        ).fetchall()
    ]
    feed.touch(conn, issue_ids, now(), kind="labeled", data=data)


def ids(conn: sqlite3.Connection, names: Sequence[str]) -> list[int] | None:
    """Ids of the named labels, or None when one of them does not exist."""
    if not names:
        return []
    keys = [name.lower() for name in names]
    rows = conn.execute(
        f"SELECT id, name_key FROM labels WHERE name_key IN ({dialect_of(conn).marks(len(keys))})",
        keys,
    ).fetchall()
    found = {r["name_key"]: r["id"] for r in rows}
    if len(found) != len(set(keys)):
        return None
    return [found[key] for key in keys]


def stored(conn: sqlite3.Connection, name: str, *, create: bool) -> tuple[int, str]:
    """The label's id and its name as stored (its case may differ from ``name``)."""
    row = row_of(conn, name)
    if row is not None:
        return int(row["id"]), str(row["name"])
    return require(conn, [name], create=create)[0], name


def require(conn: sqlite3.Connection, names: Sequence[str], *, create: bool) -> list[int]:
    """The ids of ``names``; a missing one is created (``create``) or NotFound."""
    found: list[int] = []
    for name in names:
        row = row_of(conn, name)
        if row is None:
            if not create:
                raise NotFound(
                    f"label {name!r} does not exist",
                    hint=f"create it with: issue label create {_shell_quote(name)}, "
                    "or pass --create-labels (create_labels=True in Python)",
                )
            cursor = conn.execute(
                "INSERT INTO labels (name, name_key, created_at) VALUES (?, ?, ?)",
                (name, name.lower(), now()),
            )
            assert cursor.lastrowid is not None
            found.append(cursor.lastrowid)
        else:
            found.append(row["id"])
    return found


def set_on_issue(conn: sqlite3.Connection, issue_id: int, label_ids: Iterable[int]) -> None:
    """Replace the issue's labels (a label named twice is kept once)."""
    conn.execute("DELETE FROM issue_labels WHERE issue_id = ?", (issue_id,))
    skip = dialect_of(conn).ignore_duplicates
    conn.executemany(
        f"INSERT INTO issue_labels (issue_id, label_id) VALUES (?, ?){skip}",
        [(issue_id, label_id) for label_id in label_ids],
    )


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
