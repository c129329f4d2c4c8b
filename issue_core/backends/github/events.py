"""GitHub's issue events and timeline (``/issues/events``, ``/issues/{n}/timeline``) as event
items (``forge.events``).

=======================================================  ========================================
GitHub                                                   event
=======================================================  ========================================
the issue itself                                         ``created`` (``data.title``)
a comment (``commented`` in a timeline; the comments     ``commented``, ``comment_edited`` at
list in the repository's stream)                         its last edit; a claim marker:
                                                         ``claimed``/``heartbeat``/``released``
``closed`` (``state_reason``) / ``reopened``             ``state`` (``changes.state``, and
                                                         ``changes.close_reason``)
``labeled`` / ``unlabeled``                              ``labeled`` (``changes.labels``); the
                                                         in-progress label: ``state``
``assigned`` / ``unassigned``                            ``assigned`` (``changes.assignees``)
``renamed``                                              ``edited`` (``changes.title``)
``milestoned`` / ``demilestoned``                        ``edited`` (``changes.milestone``)
``blocked_by_added``/``_removed``, ``blocking_...``      ``linked``/``unlinked`` (``blocks``)
``sub_issue_added``/``_removed``, ``parent_issue_...``   ``linked``/``unlinked`` (``parent``)
=======================================================  ========================================

An event's key is ``e`` and GitHub's event id, a comment's ``c`` and its id (GitHub numbers
the two apart). Other events (references, commits, locks, projects, pins, issue types) are not
events of this log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from issue_core.backends.forge import events
from issue_core.backends.forge.events import ForgeItem, login_of
from issue_core.backends.forge.fields import timestamp

_LINKS = {
    # GitHub's event: (link kind, whether this issue is the link's source, linked?)
    "blocked_by_added": ("blocks", False, True, "blocked_by"),
    "blocked_by_removed": ("blocks", False, False, "blocked_by"),
    "blocking_added": ("blocks", True, True, "blocking"),
    "blocking_removed": ("blocks", True, False, "blocking"),
    "sub_issue_added": ("parent", True, True, "sub_issue"),
    "sub_issue_removed": ("parent", True, False, "sub_issue"),
    "parent_issue_added": ("parent", False, True, "parent_issue"),
    "parent_issue_removed": ("parent", False, False, "parent_issue"),
}


def event_items(
    raws: Iterable[Mapping[str, Any]],
    number: int,
    issue_id: str | None,
    *,
    in_progress_label: str,
) -> list[ForgeItem]:
    """A timeline (events and ``commented`` items) or events of issue ``number``."""
    items: list[ForgeItem] = []
    for raw in raws:
        if raw.get("event") == "commented":
            items.extend(events.comment_items(raw, number, issue_id))
            continue
        item = event_item(raw, number, issue_id, in_progress_label=in_progress_label)
        if item is not None:
            items.append(item)
    return items


def event_item(
    raw: Mapping[str, Any], number: int, issue_id: str | None, *, in_progress_label: str
) -> ForgeItem | None:
    at = timestamp(raw.get("created_at"))
    ident = raw.get("id")
    mapped = _event_of(raw, number, in_progress_label)
    if at is None or ident is None or mapped is None:
        return None
    kind, data = mapped
    return ForgeItem(f"e{ident}", at, number, kind, login_of(raw.get("actor")), data, issue_id)


def _event_of(
    raw: Mapping[str, Any], number: int, in_progress_label: str
) -> tuple[str, dict[str, Any]] | None:
    name = raw.get("event")
    if name == "closed":
        reason = raw.get("state_reason")
        return "state", events.state_change("closed", reason if isinstance(reason, str) else None)
    if name == "reopened":
        return "state", events.state_change("open")
    if name in ("labeled", "unlabeled"):
        label = _field(raw.get("label"), "name")
        if not isinstance(label, str):
            return None
        added = name == "labeled"
        if label == in_progress_label:
            before, after = ("open", "in_progress") if added else ("in_progress", "open")
            return "state", events.change("state", before, after)
        return "labeled", events.labels_change(label, added=added)
    if name in ("assigned", "unassigned"):
        login = login_of(raw.get("assignee"))
        return "assigned", events.assignees_change(login, added=name == "assigned")
    if name == "renamed":
        rename = raw.get("rename")
        return "edited", events.change("title", _field(rename, "from"), _field(rename, "to"))
    if name in ("milestoned", "demilestoned"):
        title = _field(raw.get("milestone"), "title")
        pair = (None, title) if name == "milestoned" else (title, None)
        return "edited", events.change("milestone", *pair)
    if isinstance(name, str) and name in _LINKS:
        kind, is_source, added, field = _LINKS[name]
        other = _field(raw.get(field), "number")
        source, target = (number, other) if is_source else (other, number)
        return ("linked" if added else "unlinked"), events.link_change(kind, source, target)
    return None


def _field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def created_of(raw: Mapping[str, Any], number: int) -> ForgeItem | None:
    at = timestamp(raw.get("created_at"))
    if at is None:
        return None
    ident = raw.get("id")
    title = str(raw.get("title") or "")
    actor = events.agent_or(raw.get("body"), login_of(raw.get("user")))
    return events.created_item(number, str(ident) if ident is not None else None, at, actor, title)
