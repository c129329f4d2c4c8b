"""``issue sync status``: which pairs have state, and where each stands.

The pairs are found where their state lives: every configured local store's file (and the
implicit ``local`` store) holding sync tables, and the sync state db. For each, the backends are
opened to count the changes each side's feed holds past its cursor (what the next run will
read) -- the only requests status makes.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from issue_core.core.config import IMPLICIT_BACKEND, Config
from issue_core.core.interfaces import IssueBackend
from issue_core.service.sync.feeds import Side
from issue_core.service.sync.fields import carried_link, snapshot
from issue_core.service.sync.pairs import pair_id, sides_of, state_for
from issue_core.service.sync.state import STATE_DB_NAME, Link


def recorded_pairs(config: Config, state_dir: Path) -> list[tuple[str, str]]:
    """Pairs with recorded runs, as (first, second) in sorted order."""
    files = {str(state_dir / STATE_DB_NAME)}
    names = set(config.backends()) | {IMPLICIT_BACKEND}
    for name in names:
        try:
            chosen = config.resolve(name)
        except Exception:  # a broken entry is reported when it is used, not here
            continue
        path = chosen.settings.get("path")
        if chosen.type == "local" and isinstance(path, str):
            files.add(path)
    pairs: set[tuple[str, str]] = set()
    for path in sorted(files):
        if not os.path.isfile(path):
            continue
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = conn.execute("SELECT a_name, b_name FROM sync_runs").fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            continue  # no sync tables there
        pairs.update((str(a), str(b)) for a, b in rows)
    return sorted(pairs)


def pair_status(backends: dict[str, IssueBackend], state_dir: Path) -> dict[str, Any]:
    a, b = sides_of(backends)
    pid = pair_id(a.name, b.name)
    state = state_for(backends, state_dir)
    assert state is not None
    try:
        run = next((r for r in state.runs() if r["pair"] == pid), None)
        links = state.links(pid)
        pending = {
            side.name: _pending(side, state.cursor(pid, side.key), links, pid) for side in (a, b)
        }
        return {
            "pair": [a.name, b.name],
            "last_sync": run["finished_at"] if run else None,
            "direction": run["summary"].get("direction") if run else None,
            "links": state.count("sync_links", pid),
            "pending": pending,
            "conflicts": len(state.conflicts(pid)),
        }
    finally:
        state.close()


def _pending(side: Side, cursor: str | None, links: list[Link], pid: str) -> int:
    """Changes the next run will carry from ``side``: issues past its cursor that are new or
    differ from their base (the echo of sync's own writes is not a change), and deletions."""
    side.read_feed(cursor)
    by_id = {link.id_of(side.key): link for link in links}
    count = len([i for i in side.gone if i in by_id])
    for issue_id, issue in side.feed.items():
        link = by_id.get(issue_id)
        if link is None:
            count += carried_link(issue, pid) is None
        elif snapshot(issue) != link.base_on(side.key):
            count += 1
    return count
