"""IssueFilter -> one SQL query (its ``query``, if any, compiled by ``query_sql``).

Label filters are ``EXISTS`` probes on the (issue_id, label_id) primary key, never
``id IN (SELECT ...)``, which measured 60-1,200x slower here. The ORDER BY always ends in
``number`` so that paging is stable, and every sort but ``priority`` (which sorts the matches,
unset last) has an index that covers it.
"""

from __future__ import annotations

from typing import Any

from issue_core.backends.local.timestamps import now, stored_ts
from issue_core.core.models import IssueFilter
from issue_core.storage.dialect import SQLiteDialect

_SORT_COLUMNS = {
    "created": "i.created_at",
    "updated": "i.updated_at",
    "number": "i.number",
    # unset sorts after backlog (4): "most urgent first" ends with the unprioritised
    "priority": "COALESCE(i.priority, 5)",
}


# The ready queue (``ready=True``): no issue that blocks it is still open (links.py writes
# ``issue_links``; its target index answers this probe) and no live lease holds it (a claim
# also sets in_progress, but an open issue with a lease not yet expired is still held), most
# important then oldest first.
NO_OPEN_BLOCKER = (
    "NOT EXISTS (SELECT 1 FROM issue_links bl JOIN issues b ON b.id = bl.source_id "
    "WHERE bl.target_id = i.id AND bl.kind = 'blocks' AND b.state <> 'closed')"
)
NO_LIVE_CLAIM = "NOT EXISTS (SELECT 1 FROM claims c WHERE c.issue_id = i.id AND c.expires_at > ?)"
READY_ORDER = "COALESCE(i.priority, 5) ASC, i.created_at ASC, i.number ASC"


def build_issue_query(
    columns: str,
    flt: IssueFilter,
    label_ids: list[int],
    dialect: SQLiteDialect,
    *,
    ready: bool = False,
) -> tuple[str, list[Any]]:
    where: list[str] = [NO_OPEN_BLOCKER, NO_LIVE_CLAIM] if ready else []
    params: list[Any] = [now()] if ready else []
    if flt.states is not None:
        where.append(f"i.state IN ({dialect.marks(len(flt.states))})")
        params.extend(state.value for state in flt.states)
    for label_id in label_ids:
        where.append(
            "EXISTS (SELECT 1 FROM issue_labels il WHERE il.issue_id = i.id AND il.label_id = ?)"
        )
        params.append(label_id)
    if flt.assignee is not None:
        where.append(
            "EXISTS (SELECT 1 FROM issue_assignees ia WHERE ia.issue_id = i.id AND ia.username = ?)"
        )
        params.append(flt.assignee)
    if flt.no_assignee:
        where.append("NOT EXISTS (SELECT 1 FROM issue_assignees ia WHERE ia.issue_id = i.id)")
    if flt.milestone is not None:
        where.append("m.title_key = ?")
        params.append(flt.milestone.strip().lower())
    if flt.no_milestone:
        where.append("i.milestone_id IS NULL")
    if flt.author is not None:
        where.append("i.author = ?")
        params.append(flt.author)
    if flt.updated_since is not None:
        where.append("i.updated_at >= ?")
        params.append(stored_ts(flt.updated_since))
    if flt.text:
        match = dialect.text_query(flt.text)
        if match is None:
            where.append("0")
        else:
            from issue_core.backends.local.search import INDEX  # only a search loads it

            where.append(f"i.id IN ({dialect.text_match(INDEX)})")
            params.append(match)
    if flt.query is not None and flt.query.root is not None:
        from issue_core.backends.local.query_sql import compile_query  # only -q pays for it

        walked = flt.sort if flt.limit is not None else None
        condition, values = compile_query(flt.query.root, dialect, flt.query.me, walked=walked)
        where.append(condition)
        params.extend(values)
    direction = "DESC" if flt.direction == "desc" else "ASC"
    column = _SORT_COLUMNS[flt.sort]
    order = (
        f"{column} {direction}"
        if column == "i.number"
        else f"{column} {direction}, i.number {direction}"
    )
    if ready:
        order = READY_ORDER
    sql = (
        f"SELECT {columns} FROM issues i LEFT JOIN milestones m ON m.id = i.milestone_id"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY {order}"
    )
    if flt.limit is not None:
        sql += " LIMIT ?"
        params.append(flt.limit)
    return sql, params
