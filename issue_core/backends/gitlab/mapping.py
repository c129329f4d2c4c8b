"""GitLab wire JSON <-> issue-core domain models. No GitLab dict leaves this module.

Number: an issue's number is its project-scoped ``iid`` (what GitLab shows as ``#12``), never
the global ``id`` (kept as ``Issue.id``). State: GitLab says ``opened`` and ``closed``;
``in_progress`` is ``opened`` plus the configured label, which never shows in ``Issue.labels``.
Comments are the issue's notes without the system notes GitLab writes for every change. Dates:
GitLab keeps an issue's and a milestone's due date by the day; the exact instant rides in the
hidden block while it falls on that day (``forge.fields``), a milestone's in its description;
so does the reason of a close (``not_planned``, ``duplicate``), for which GitLab has no field.
A milestone has no ``closed_at`` on GitLab: a closed one reports its ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from issue_core.backends.forge.body import compose_body, split_body, take_reserved
from issue_core.backends.forge.fields import (
    WireNames,
    exact_due,
    label_from_wire,
    label_names,
    reserved_fields,
    state_and_labels,
    timestamp,
    user_name,
)
from issue_core.backends.forge.fields import comment_from_wire as forge_comment
from issue_core.backends.forge.fields import issue_from_wire as forge_issue
from issue_core.backends.gitlab.quick_actions import ZWSP, restore
from issue_core.core.models import (
    Comment,
    Issue,
    IssueFilter,
    Label,
    Milestone,
    MilestoneState,
    User,
    format_ts,
)

Wire = Mapping[str, Any]

DEFAULT_LABEL_COLOR = "ededed"
# Words GitLab's milestone filter reads as a keyword, not as a title.
MILESTONE_KEYWORDS = frozenset({"none", "any", "upcoming", "started"})


GITLAB_NAMES = WireNames(
    number="iid", body="description", author="author", comments="user_notes_count", url="web_url"
)
username_of = user_name


def issue_from_wire(raw: Wire, *, in_progress_label: str) -> Issue:
    """``node_id`` is the issue's GraphQL global id, which GitLab builds from its ``id``; the
    description as it was written (``quick_actions``)."""
    node_id = f"gid://gitlab/Issue/{raw['id']}" if raw.get("id") is not None else None
    raw = _restored(raw, "description")
    return forge_issue(raw, GITLAB_NAMES, in_progress_label=in_progress_label, node_id=node_id)


def create_token_free(body: str) -> str:
    """The description without its one-off create token: what identifies "the same create"."""
    description, block, _ = split_body(body)
    metadata, reserved = take_reserved(block)
    return compose_body(description, metadata, reserved=reserved)


def day_param(value: datetime | None) -> str | None:
    """GitLab's dates are days (``2026-12-24``), taken in UTC; ``None`` clears one."""
    return value.astimezone(UTC).date().isoformat() if value is not None else None


def is_group_label(raw: Wire) -> bool:
    """A label inherited from a group: the project cannot change or delete it."""
    return raw.get("is_project_label") is False


def label_to_wire(
    label: Label, *, for_create: bool, rename_from: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if for_create:
        body["name"] = label.name
    elif rename_from is not None and label.name != rename_from:
        body["new_name"] = label.name
    if label.color or for_create:
        body["color"] = "#" + (label.color or DEFAULT_LABEL_COLOR)
    if label.description is not None:
        body["description"] = label.description
    return body


def milestone_from_wire(raw: Wire) -> Milestone:
    description, block, _ = split_body(raw.get("description"))
    _, reserved = take_reserved(block)
    closed = raw.get("state") == "closed"
    updated_at = timestamp(raw.get("updated_at"))
    return Milestone(
        title=str(raw["title"]),
        description=description or None,
        state=MilestoneState.CLOSED if closed else MilestoneState.OPEN,
        due_on=exact_due(timestamp(raw.get("due_date")), reserved),
        id=str(raw["id"]) if raw.get("id") is not None else None,
        created_at=timestamp(raw.get("created_at")),
        updated_at=updated_at,
        closed_at=updated_at if closed else None,
    )


def milestone_to_wire(milestone: Milestone, *, for_create: bool) -> dict[str, Any]:
    """Title, description (with the exact due instant in the hidden block), due day and, on
    an edit, the state as a ``state_event``. A missing due date clears it on an edit."""
    reserved = reserved_fields(milestone.due_on, None)
    body: dict[str, Any] = {
        "title": milestone.title,
        "description": compose_body(milestone.description or "", {}, reserved=reserved),
    }
    due = day_param(milestone.due_on)
    if due is not None or not for_create:
        body["due_date"] = due
    if not for_create:
        closed = MilestoneState.parse(milestone.state) is MilestoneState.CLOSED
        body["state_event"] = "close" if closed else "activate"
    return body


def comment_from_wire(raw: Wire, *, issue_number: int) -> Comment:
    return forge_comment(_restored(raw, "body"), issue_number=issue_number, author_key="author")


def _restored(raw: Wire, key: str) -> Wire:
    """``raw`` with its text ``key`` as it was written, before ``quick_actions.neutralise``."""
    text = raw.get(key)
    if not isinstance(text, str) or ZWSP not in text:
        return raw
    return {**raw, key: restore(text)}


def is_user_note(raw: Wire) -> bool:
    """A comment someone wrote, not a system note ("changed milestone to %2", "closed")."""
    return not raw.get("system")


def note_issue_iid(raw: Wire) -> int | None:
    """The issue a note found by search is on (``None`` for merge requests and commits)."""
    if raw.get("noteable_type") != "Issue":
        return None
    iid = raw.get("noteable_iid")
    return int(iid) if isinstance(iid, int) else None


def user_from_wire(raw: Wire) -> User:
    return User(
        username=username_of(raw) or "",
        name=raw.get("name") or None,
        email=raw.get("public_email") or raw.get("email") or None,
    )


def time_param(value: datetime) -> str:
    """ISO 8601 in UTC (GitLab keeps milliseconds; ``updated_after`` is inclusive)."""
    return format_ts(value.astimezone(UTC)) or ""


def filter_params(query: IssueFilter, *, in_progress_label: str) -> dict[str, Any]:
    """The part of a filter GitLab applies itself; the rest is ``IssueFilter.matches``.

    GitLab ANDs ``labels``, matches ``milestone`` by title (project and group milestones alike)
    and has keywords for "nobody assigned" (``assignee_id=None``) and "no milestone"
    (``milestone=None``). ``opened`` includes in-progress issues: they are removed client-side
    when not wanted. A milestone titled like one of the keywords is matched client-side only.
    """
    state, labels = state_and_labels(
        query, in_progress_label=in_progress_label, open_state="opened"
    )
    params: dict[str, Any] = {"state": state}
    if labels:
        params["labels"] = ",".join(labels)
    if query.milestone and query.milestone.strip().lower() not in MILESTONE_KEYWORDS:
        params["milestone"] = query.milestone
    elif query.no_milestone:
        params["milestone"] = "None"
    if query.assignee:
        params["assignee_username"] = query.assignee
    elif query.no_assignee:
        params["assignee_id"] = "None"
    if query.author:
        params["author_username"] = query.author
    if query.text:
        params["search"] = query.text
    if isinstance(query.updated_since, datetime):
        params["updated_after"] = time_param(query.updated_since)
    if query.sort == "updated":
        params["order_by"] = "updated_at"  # created_at is GitLab's default order
    if query.sort in ("created", "updated"):
        params["sort"] = "asc" if query.direction == "asc" else "desc"
    return params


__all__ = ["label_from_wire", "label_names", "username_of"]
