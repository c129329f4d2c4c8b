"""Gitea's issue timeline (``GET /repos/{o}/{r}/issues/{index}/timeline``) as event items.

Gitea keeps every change of an issue as a typed row of its comment table, so the timeline is
the issue's history: ``comment`` rows are comments (claim markers among them), the others
events. The mapping (``forge.events`` builds the shared shapes):

=====================================  =====================================================
Gitea row                              event
=====================================  =====================================================
the issue itself                       ``created`` (``data.title``; the agent in its block)
``comment``                            ``commented``, and ``comment_edited`` at its last edit;
                                       a claim marker: ``claimed``/``heartbeat``/``released``
``close`` / ``reopen``                 ``state`` (``changes.state``)
``label``                              ``labeled`` (``changes.labels.added``/``removed``);
                                       the in-progress label: ``state`` to/from in_progress
``assignees``                          ``assigned`` (``changes.assignees.added``/``removed``)
``change_title``                       ``edited`` (``changes.title`` before/after)
``milestone``                          ``edited`` (``changes.milestone`` before/after)
``added_/modified_/removed_deadline``  ``edited`` (``changes.due_at`` before/after)
``add_dependency`` / ``remove_...``    ``linked`` / ``unlinked`` (``kind`` blocks, ``issues``)
=====================================  =====================================================

Gitea writes a dependency row on both issues without saying which one blocks the other, so
those events name the two issues (``issues``) rather than ``source`` and ``target``. Other
rows (pull-request references, time tracking, projects, pins) are not events of this log.
A row's key is ``c`` and its id (comments and events share Gitea's id sequence).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from issue_core.backends.forge import events
from issue_core.backends.forge.events import ForgeItem, login_of
from issue_core.backends.forge.fields import timestamp


def created_of(raw: Mapping[str, Any], number: int) -> ForgeItem | None:
    """The issue's ``created`` event (the agent named in its block, else its author)."""
    at = timestamp(raw.get("created_at"))
    if at is None:
        return None
    actor = events.agent_or(raw.get("body"), login_of(raw.get("user")))
    title = str(raw.get("title") or "")
    return events.created_item(number, _issue_id(raw), at, actor, title)


def timeline_items(
    rows: Iterable[Mapping[str, Any]],
    number: int,
    issue_id: str | None,
    *,
    in_progress_label: str,
) -> list[ForgeItem]:
    items: list[ForgeItem] = []
    for row in rows:
        kind = row.get("type")
        if kind == "comment":
            items.extend(events.comment_items(row, number, issue_id))
            continue
        at = timestamp(row.get("created_at"))
        mapped = _event_of(row, number, in_progress_label) if at is not None else None
        if at is not None and mapped is not None:
            name, data = mapped
            actor = login_of(row.get("user"))
            items.append(ForgeItem(f"c{row.get('id')}", at, number, name, actor, data, issue_id))
    return items


def _event_of(
    row: Mapping[str, Any], number: int, in_progress_label: str
) -> tuple[str, dict[str, Any]] | None:
    kind = row.get("type")
    if kind in ("close", "reopen"):
        return "state", events.state_change("closed" if kind == "close" else "open")
    if kind == "label":
        name = _field(row.get("label"), "name")
        added = row.get("body") == "1"
        if name is None:
            return None
        if name == in_progress_label:
            before, after = ("open", "in_progress") if added else ("in_progress", "open")
            return "state", events.change("state", before, after)
        return "labeled", events.labels_change(name, added=added)
    if kind == "assignees":
        login = login_of(row.get("assignee"))
        return "assigned", events.assignees_change(login, added=not row.get("removed_assignee"))
    if kind == "change_title":
        return "edited", events.change("title", row.get("old_title"), row.get("new_title"))
    if kind == "milestone":
        before = _field(row.get("old_milestone"), "title")
        after = _field(row.get("milestone"), "title")
        return "edited", events.change("milestone", before, after)
    if kind in ("added_deadline", "modified_deadline", "removed_deadline"):
        # Gitea's content: the new date; the old one (removed); "new|old" (modified).
        body = str(row.get("body") or "")
        if kind == "removed_deadline":
            return "edited", events.change("due_at", body or None, None)
        new, _, old = body.partition("|")
        return "edited", events.change("due_at", old or None, new or None)
    if kind in ("add_dependency", "remove_dependency"):
        other = row.get("dependent_issue")
        other_number = _field(other, "number")
        name = "linked" if kind == "add_dependency" else "unlinked"
        return name, {"kind": "blocks", "issues": [number, other_number]}
    return None


def _field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _issue_id(raw: Mapping[str, Any]) -> str | None:
    ident = raw.get("id")
    return str(ident) if ident is not None else None
