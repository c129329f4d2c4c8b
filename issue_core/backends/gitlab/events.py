"""GitLab's history of an issue as event items: its resource events and its notes.

GitLab (13 and later) keeps state, label and milestone changes in tables of their own, listed
per issue (``GET .../issues/:iid/resource_state_events``, ``resource_label_events``,
``resource_milestone_events``), and writes a system note (``system: true``) in words for the
other changes. The mapping (``forge.events`` builds the shared shapes):

===========================================  ===============================================
GitLab record                                event
===========================================  ===============================================
the issue itself                             ``created`` (``data.title``; the agent in its
                                             block)
a user note                                  ``commented``, and ``comment_edited`` at its last
                                             edit; a claim marker: ``claimed``/``heartbeat``/
                                             ``released``
state event ``closed`` / ``opened``          ``state`` (``changes.state``)
label event ``add`` / ``remove``             ``labeled`` (``changes.labels.added``/``removed``);
                                             the in-progress label: ``state`` to/from
                                             in_progress
milestone event ``add`` / ``remove``         ``edited`` (``changes.milestone`` before/after)
"changed title from **a** to **b**"          ``edited`` (``changes.title``; GitLab's inline-diff
                                             marks ``{-…-}``/``{+…+}`` taken out)
"assigned to @a and unassigned @b"           ``assigned`` (``changes.assignees``)
"changed due date to December 24, 2026"      ``edited`` (``changes.due_at``, a day)
"marked this issue as related to #n"         ``linked`` (``kind`` related; ``source`` this
                                             issue, ``target`` #n)
"... as blocking #n" / "... blocked by #n"   ``linked`` (``kind`` blocks, from the blocker)
"removed the relation with #n"               ``unlinked`` (the kind of the last link to #n)
===========================================  ===============================================

Other system notes ("changed the description", mentions, time tracking, confidentiality) are
not events of this log. Keys: ``i`` (the issue), ``n`` (notes), ``s``/``l``/``m`` (the three
resource-event tables, each numbered on its own) and the row's id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from issue_core.backends.forge import events
from issue_core.backends.forge.events import ForgeItem, login_of
from issue_core.backends.forge.fields import timestamp

TABLES = ("state", "label", "milestone")

_TITLE = re.compile(r"changed title from \*\*(.*?)\*\* to \*\*(.*)\*\*", re.DOTALL)
_MARKS = re.compile(r"\{[-+]|[-+]\}")
_USER = re.compile(r"@([\w.\-]+)")
_LINK = re.compile(r"marked this issue as (related to|blocking|blocked by) #(\d+)")
_UNLINK = re.compile(r"removed the relation with #(\d+)")
_DUE = re.compile(r"changed due date to (\w+ \d{1,2}, \d{4})")


def created_of(raw: Mapping[str, Any], number: int) -> ForgeItem | None:
    """The issue's ``created`` event (the agent named in its description, else its author)."""
    return events.created_of(raw, number, body_key="description", user_key="author")


def resource_items(
    table: str,
    rows: Iterable[Mapping[str, Any]],
    number: int,
    issue_id: str | None,
    *,
    in_progress_label: str,
) -> list[ForgeItem]:
    """The rows of one resource-event table (oldest first, as GitLab lists them)."""
    items: list[ForgeItem] = []
    milestone: Any = None  # the issue's milestone before each row
    for row in rows:
        at = timestamp(row.get("created_at"))
        if at is None or row.get("id") is None:
            continue
        mapped: tuple[str, dict[str, Any]] | None = None
        if table == "state":
            closed = row.get("state") == "closed"
            mapped = "state", events.state_change("closed" if closed else "open")
        elif table == "label":
            mapped = _label_event(row, in_progress_label)
        else:
            title = _field(row.get("milestone"), "title")
            now = title if row.get("action") == "add" else None
            before = milestone if row.get("action") == "add" else title
            mapped = "edited", events.change("milestone", before, now)
            milestone = now
        if mapped is not None:
            actor = login_of(row.get("user"))
            key = f"{table[0]}{row['id']}"
            items.append(ForgeItem(key, at, number, mapped[0], actor, mapped[1], issue_id))
    return items


def _label_event(
    row: Mapping[str, Any], in_progress_label: str
) -> tuple[str, dict[str, Any]] | None:
    name = _field(row.get("label"), "name")
    if not isinstance(name, str):
        return None  # the label was deleted since: GitLab no longer names it
    added = row.get("action") == "add"
    if name.lower() == in_progress_label.lower():
        before, after = ("open", "in_progress") if added else ("in_progress", "open")
        return "state", events.change("state", before, after)
    return "labeled", events.labels_change(name, added=added)


def note_items(
    notes: Iterable[Mapping[str, Any]], number: int, issue_id: str | None
) -> list[ForgeItem]:
    """An issue's notes (oldest first): user notes as comments, system notes as the changes
    they describe (the module docstring)."""
    items: list[ForgeItem] = []
    links: dict[int, dict[str, Any]] = {}  # the other issue -> its last link's data
    due: str | None = None
    for raw in notes:
        if raw.get("system") is not True:
            items.extend(events.comment_items(raw, number, issue_id, prefix="n"))
            continue
        at = timestamp(raw.get("created_at"))
        body = raw.get("body")
        if at is None or not isinstance(body, str) or raw.get("id") is None:
            continue
        mapped = _system_event(body.strip(), number, links, due)
        if mapped is None:
            continue
        kind, data = mapped
        if kind == "edited" and "due_at" in data["changes"]:
            due = data["changes"]["due_at"]["after"]
        actor = login_of(raw.get("author"))
        items.append(ForgeItem(f"n{raw['id']}", at, number, kind, actor, data, issue_id))
    return items


def _system_event(
    body: str, number: int, links: dict[int, dict[str, Any]], due: str | None
) -> tuple[str, dict[str, Any]] | None:
    title = _TITLE.fullmatch(body)
    if title:
        before, after = (_MARKS.sub("", part) for part in title.groups())
        return "edited", events.change("title", before, after)
    if body.startswith(("assigned to ", "unassigned ")):
        assigned, _, unassigned = body.partition("unassigned ")
        changes: dict[str, list[str]] = {}
        if _USER.findall(assigned):
            changes["added"] = _USER.findall(assigned)
        if _USER.findall(unassigned):
            changes["removed"] = _USER.findall(unassigned)
        return ("assigned", {"changes": {"assignees": changes}}) if changes else None
    if body == "removed due date":
        return "edited", events.change("due_at", due, None)
    found = _DUE.fullmatch(body)
    if found:
        try:
            day = datetime.strptime(found.group(1), "%B %d, %Y").date().isoformat()
        except ValueError:
            return None
        return "edited", events.change("due_at", due, day)
    link = _LINK.fullmatch(body)
    if link:
        how, other = link.group(1), int(link.group(2))
        if how == "related to":
            data = events.link_change("related", number, other)
        elif how == "blocking":
            data = events.link_change("blocks", number, other)
        else:
            data = events.link_change("blocks", other, number)
        links[other] = data
        return "linked", data
    unlink = _UNLINK.fullmatch(body)
    if unlink:
        other = int(unlink.group(1))
        data = links.pop(other, {}) or events.link_change("related", number, other)
        return "unlinked", dict(data)
    return None


def _field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None
