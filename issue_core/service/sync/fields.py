"""The fields sync carries, as plain snapshots, and the key a copy carries.

A snapshot is ``Issue.editable_snapshot()`` (title, description, state, close reason, labels,
assignees, milestone, due date, priority, ``sync_metadata``) with sync's own key taken out of
``sync_metadata``: that key is each side's own bookkeeping, never merged or copied.

``SYNC_KEY`` maps a pair's id to the link id of the copy: an issue sync created on a side
carries ``sync_metadata["issue-core-sync"] = {PAIR: {"link": LINK_ID, "from": ORIGINAL_ID}}``,
written in the same request as the issue itself, so after a crash the next run finds the copy
by that id instead of creating a second one, and a copy whose link was lost is linked to its
original again. (Not under the ``issue-core:`` prefix: forges reserve that for their own keys
in the hidden body block.)
"""

from __future__ import annotations

from typing import Any

from issue_core.core.models import Issue

SYNC_KEY = "issue-core-sync"
SCALAR_FIELDS = (
    "title",
    "description",
    "state",
    "close_reason",
    "milestone",
    "due_at",
    "priority",
)
SET_FIELDS = ("labels", "assignees")
KEYED_FIELD = "sync_metadata"
FIELDS = (*SCALAR_FIELDS, *SET_FIELDS, KEYED_FIELD)

Snapshot = dict[str, Any]


def snapshot(issue: Issue) -> Snapshot:
    """The synced fields of ``issue``, JSON-ready (sets sorted, sync's own key removed)."""
    snap = issue.editable_snapshot()
    snap["sync_metadata"] = content_metadata(snap["sync_metadata"])
    if snap["state"] != "closed":
        snap["close_reason"] = None
    return {name: snap[name] for name in FIELDS}


def content_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """``sync_metadata`` without sync's own key: what the two sides share."""
    return {key: value for key, value in metadata.items() if key != SYNC_KEY}


def carried_link(issue: Issue, pair_id: str) -> tuple[str, str] | None:
    """``(link id, id of the original)`` that ``issue`` carries for ``pair_id`` when it is a
    copy sync made, else None."""
    carried = issue.sync_metadata.get(SYNC_KEY)
    value = carried.get(pair_id) if isinstance(carried, dict) else None
    if isinstance(value, dict) and isinstance(value.get("link"), str):
        return value["link"], str(value.get("from") or "")
    return None


def with_link(metadata: dict[str, Any], pair_id: str, link: str, origin: str) -> dict[str, Any]:
    """``metadata`` (the shared keys) with the copy's link id and its original's id."""
    return {**metadata, SYNC_KEY: {pair_id: {"link": link, "from": origin}}}


def apply_snapshot(issue: Issue, values: Snapshot) -> None:
    """Set ``values`` (snapshot-shaped, possibly partial) on ``issue``; sync's own key of the
    side is kept as it is."""
    for name, value in values.items():
        if name == KEYED_FIELD:
            own = issue.sync_metadata.get(SYNC_KEY)
            issue.sync_metadata = {**value, **({SYNC_KEY: own} if own is not None else {})}
        elif name in SET_FIELDS:
            setattr(issue, name, list(value))
        else:
            setattr(issue, name, value)
    if "state" in values and values["state"] != "closed":
        issue.close_reason = None


def new_issue(values: Snapshot, pair_id: str, link: str, origin: str) -> Issue:
    """The issue to create on the other side: ``values`` and the link id to find it by."""
    issue = Issue(values["title"])
    apply_snapshot(issue, {k: v for k, v in values.items() if k != KEYED_FIELD})
    issue.sync_metadata = with_link(values[KEYED_FIELD], pair_id, link, origin)
    return issue


def parse_value(name: str, text: str) -> Any:
    """A value given on the command line (``issue sync resolve N FIELD=VALUE``) as the
    snapshot holds it: lists comma-separated, ``sync_metadata.KEY`` as JSON (else text)."""
    import json

    from issue_core.core.errors import UsageError
    from issue_core.core.models import (
        CloseReason,
        IssueState,
        format_ts,
        parse_priority,
        parse_ts,
    )

    if name in SET_FIELDS:
        return sorted({part.strip() for part in text.split(",") if part.strip()})
    if name == "state":
        return IssueState.parse(text).value
    if name == "close_reason":
        reason = CloseReason.parse(text or None)
        return reason.value if reason else None
    if name == "priority":
        return parse_priority(text or None)
    if name == "due_at":
        return format_ts(parse_ts(text or None))
    if name in ("milestone",):
        return text or None
    if name.startswith(f"{KEYED_FIELD}."):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if name in SCALAR_FIELDS or name.startswith("comment."):
        return text
    raise UsageError(f"unknown field {name!r}", hint=f"fields: {', '.join(FIELDS)}")
