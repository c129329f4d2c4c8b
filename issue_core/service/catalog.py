"""Catalog use cases: labels and milestones found by name or title as people type them, edited
keeping their stored spelling; users and who acts.

A label is matched in any case, and an edit that does not rename it keeps the stored spelling
(``label edit API --color f00`` must not rename "api" to "API"). A milestone is named by its
title in any case, else by its id (a title wins, since a milestone may be called "3"). The
functions take a connected backend and return domain models; wording is the front end's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from issue_core.core.errors import NotFound
from issue_core.core.models import KEEP, Label, MilestoneState

if TYPE_CHECKING:
    from issue_core.core.interfaces import IssueBackend
    from issue_core.core.models import Milestone, User

# -- labels ------------------------------------------------------------------------------


def list_labels(backend: IssueBackend) -> list[Label]:
    return backend.list_labels()


def create_label(backend: IssueBackend, label: Label) -> Label:
    """Create ``label`` (``Conflict`` if one of that name exists)."""
    return backend.create_label(label)


def stored_label_name(backend: IssueBackend, name: str) -> str:
    """The label's name as stored when ``name`` matches it in another case; else ``name``."""
    stored = [lb.name for lb in backend.list_labels() if lb.name.lower() == name.lower()]
    return name if name in stored or not stored else stored[0]


def edit_label(
    backend: IssueBackend,
    name: str,
    *,
    new_name: str | None = None,
    color: str | None = None,
    description: str | None = None,
) -> Label:
    """Rename label ``name`` or change its colour or description (``None``: unchanged)."""
    if new_name is None:
        new_name = stored_label_name(backend, name)
    return backend.update_label(name, Label(new_name, color, description))


# -- milestones ----------------------------------------------------------------------------


def list_milestones(backend: IssueBackend, state: MilestoneState | None = None) -> list[Milestone]:
    """The milestones in ``state`` (None: every state)."""
    return backend.list_milestones(state)


def create_milestone(backend: IssueBackend, milestone: Milestone) -> Milestone:
    """Create ``milestone`` (``Conflict`` if one of that title exists)."""
    return backend.create_milestone(milestone)


def find_milestone(backend: IssueBackend, title: str) -> Milestone:
    """The milestone called ``title`` (in any case), else the one whose id it is: a title
    wins, since a milestone may be called "3"."""
    milestones = backend.list_milestones(None)
    key = title.strip()
    for milestone in milestones:
        if milestone.title.lower() == key.lower():
            return milestone
    for milestone in milestones:
        if milestone.id is not None and milestone.id == key:
            return milestone
    raise NotFound(
        f"milestone {title!r} not found",
        hint="see: issue milestone list --state all --json title,id",
    )


def edit_milestone(
    backend: IssueBackend,
    title: str,
    *,
    new_title: str | None = None,
    description: str | None = None,
    due_on: Any = KEEP,
    state: MilestoneState | None = None,
) -> Milestone:
    """Change milestone ``title`` (a title in any case, or an id); ``None`` (``KEEP`` for
    ``due_on``, where ``None`` clears) leaves a field alone."""
    current = find_milestone(backend, title)
    stored_title = current.title  # `title` may be an id, or spelt in another case
    if new_title is not None:
        current.title = new_title
    if description is not None:
        current.description = description
    if due_on is not KEEP:
        current.due_on = due_on
    if state is not None:
        current.state = state
    return backend.update_milestone(stored_title, current)


def close_milestone(backend: IssueBackend, title: str) -> Milestone:
    """Close a milestone (its issues are left as they are)."""
    return edit_milestone(backend, title, state=MilestoneState.CLOSED)


def milestone_issue_count(milestone: Milestone) -> int:
    """How many issues lose their milestone when ``milestone`` is deleted."""
    return milestone.open_issues + milestone.closed_issues


def delete_milestone(backend: IssueBackend, milestone: Milestone) -> None:
    """Delete a milestone found with ``find_milestone``; its issues keep no milestone."""
    backend.delete_milestone(milestone.title)


# -- users ---------------------------------------------------------------------------------


def list_users(backend: IssueBackend) -> list[User]:
    """The users the backend knows (on the local store: everyone who wrote or was assigned)."""
    return backend.list_users()


def whoami(backend: IssueBackend) -> User:
    """The identity the backend acts as (what ``@me`` means)."""
    return backend.whoami()


def identity(backend: IssueBackend) -> dict[str, Any]:
    """``issue whoami``'s record: the backend's user and the acting agent (the named agent,
    else that user) -- on a forge the token's account and the agent sharing it."""
    user = backend.whoami()
    return {**user.to_dict(), "agent": backend.agent or user.username}
