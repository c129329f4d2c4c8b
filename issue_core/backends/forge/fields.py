"""Issue fields every forge maps the same way, whatever its JSON calls them.

``issue_from_wire`` reads the issue JSON Gitea, GitLab and GitHub share in shape (title, body,
state, labels, assignees, milestone, author, timestamps), told the forge's key names
(``WireNames``). Timestamps as forges send them (a Go zero time, an empty string or garbage mean
"none"), the ``version`` of an issue (its ``updated_at`` in epoch milliseconds: forges keep no
revision counter), and the fields a forge has no place for, carried in the hidden body block
(``body``): the priority, the exact instant of a due date the forge keeps only by the day, the
reason of a close where the forge keeps none, and the one-off create token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from issue_core.backends.forge.body import (
    CLOSE_REASON_KEY,
    DUE_KEY,
    PRIORITY_KEY,
    close_reason_of,
    compose_body,
    kept_reserved,
    split_body,
    take_reserved,
)
from issue_core.core.errors import ValidationError
from issue_core.core.models import (
    CloseReason,
    Comment,
    Issue,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    MilestoneState,
    format_ts,
    parse_priority,
    parse_ts,
)


class WireNames(NamedTuple):
    """What a forge's issue JSON calls the fields whose names differ between forges."""

    number: str  # Gitea/GitHub "number", GitLab "iid" (never the global "id")
    body: str  # "body", GitLab "description"
    author: str  # "user", GitLab "author"
    comments: str  # "comments", GitLab "user_notes_count"
    url: str  # "html_url", GitLab "web_url"


def user_name(user: Any) -> str | None:
    """A user object's login (``login`` on Gitea/GitHub, ``username`` on Gitea/GitLab)."""
    if isinstance(user, Mapping):
        login = user.get("login") or user.get("username")
        return str(login) if login else None
    return None


def label_names(raw: Mapping[str, Any]) -> list[str]:
    """An issue's label names (label objects, or GitLab's plain names)."""
    names = []
    for label in raw.get("labels") or []:
        name = label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str) and name:
            names.append(name)
    return names


def issue_from_wire(
    raw: Mapping[str, Any],
    names: WireNames,
    *,
    in_progress_label: str,
    node_id: str | None = None,
) -> Issue:
    """The issue a forge's JSON describes: ``in_progress`` is open plus ``in_progress_label``
    (never listed among the labels); the hidden body block gives ``sync_metadata`` and the
    fields the forge has no place for."""
    labels = label_names(raw)
    description, block, _ = split_body(raw.get(names.body))
    metadata, reserved = take_reserved(block)
    if raw.get("state") == "closed":
        state = IssueState.CLOSED
    elif in_progress_label in labels:
        state = IssueState.IN_PROGRESS
    else:
        state = IssueState.OPEN
    assignees = [login for login in map(user_name, raw.get("assignees") or []) if login]
    if not assignees and user_name(raw.get("assignee")):
        assignees = [user_name(raw.get("assignee")) or ""]
    milestone = raw.get("milestone")
    updated_at = timestamp(raw.get("updated_at"))
    issue = Issue(
        number=int(raw[names.number]),
        id=str(raw["id"]),
        title=str(raw.get("title") or ""),
        description=description,
        state=state,
        # Sorted by name, case-insensitively, as on every backend (forges send them by id).
        labels=sorted((name for name in labels if name != in_progress_label), key=str.lower),
        assignees=assignees,
        milestone=str(milestone["title"]) if isinstance(milestone, Mapping) else None,
        author=user_name(raw.get(names.author)),
        comments_count=int(raw.get(names.comments) or 0),
        url=raw.get(names.url) or None,
        created_at=timestamp(raw.get("created_at")),
        updated_at=updated_at,
        closed_at=timestamp(raw.get("closed_at")),
        version=version_of(updated_at),
        due_at=exact_due(timestamp(raw.get("due_date")), reserved),
        priority=priority_of(reserved),
        sync_metadata=metadata,
        close_reason=close_reason_of(reserved, closed=state is IssueState.CLOSED),
        node_id=node_id,
    )
    return issue.mark_loaded()


def timestamp(value: Any) -> datetime | None:
    """A forge's timestamp (or date), or ``None`` for nothing, Go's zero time and garbage."""
    if not value or not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    try:
        return parse_ts(value)
    except ValidationError:
        return None


def version_of(updated_at: datetime | None) -> int | None:
    return int(updated_at.timestamp() * 1000) if updated_at else None


def priority_of(reserved: Mapping[str, Any]) -> int | None:
    value = reserved.get(PRIORITY_KEY)
    try:
        return parse_priority(value) if value is not None else None
    except ValidationError:
        return None  # a hand-edited block with a nonsense priority: no priority, not a crash


def exact_due(native: datetime | None, reserved: Mapping[str, Any]) -> datetime | None:
    """The forge's due date is the truth (a person may change it in the web UI); a forge that
    keeps only the day gets the exact instant from the hidden block while it still falls on
    the forge's day (in UTC)."""
    exact = timestamp(reserved.get(DUE_KEY))
    if native is None:
        return None
    if exact is not None and exact.astimezone(UTC).date() == native.astimezone(UTC).date():
        return exact
    return native


def reserved_fields(
    due_at: datetime | None, priority: int | None, close_reason: CloseReason | None = None
) -> dict[str, Any]:
    return {
        DUE_KEY: format_ts(due_at) if due_at else None,
        PRIORITY_KEY: priority,
        # A plain close is what a block without a reason reads as: the body stays unchanged.
        CLOSE_REASON_KEY: (
            close_reason.value
            if close_reason and close_reason is not CloseReason.COMPLETED
            else None
        ),
    }


def issue_body(
    description: str,
    sync_metadata: dict[str, Any],
    *,
    create_token: str | None = None,
    due_at: datetime | None = None,
    priority: int | None = None,
    close_reason: CloseReason | None = None,
    kept: dict[str, Any] | None = None,
) -> str:
    """``kept``: the reserved keys no field carries, as the stored body has them."""
    return compose_body(
        description,
        sync_metadata,
        create_token=create_token,
        reserved={**(kept or {}), **reserved_fields(due_at, priority, close_reason)},
    )


def state_and_labels(
    query: IssueFilter, *, in_progress_label: str, open_state: str
) -> tuple[str, list[str]]:
    """The wire ``state`` and the labels to ask for, for a forge that ANDs its label filter:
    ``in_progress`` is the open state plus the in-progress label (the open state also holds
    in-progress issues; ``IssueFilter.matches`` removes them where they are not wanted)."""
    state = query.state
    labels = list(query.labels)
    if state is None:
        wire = open_state if query.excludes_closed else "all"
    elif state is IssueState.CLOSED:
        wire = "closed"
    else:
        wire = open_state
        if state is IssueState.IN_PROGRESS:
            labels.append(in_progress_label)
    return wire, list(dict.fromkeys(labels))


# The fields of an issue that travel in its body (the description and the hidden block).
BODY_FIELDS = frozenset({"description", "sync_metadata", "priority", "due_at", "close_reason"})


def changed_body(
    wanted: Issue, changed: Iterable[str], stored: Any, *, close_reason: bool = True
) -> str | None:
    """The body an update sends: ``None`` when none of the fields it carries changed, or the
    server holds it already. ``close_reason=False`` for a forge that keeps the reason itself."""
    carried = BODY_FIELDS if close_reason else BODY_FIELDS - {"close_reason"}
    if not carried & set(changed):
        return None
    body = issue_body(
        wanted.description,
        wanted.sync_metadata,
        due_at=wanted.due_at,
        priority=wanted.priority,
        close_reason=wanted.close_reason if close_reason else None,
        kept=kept_reserved(stored if isinstance(stored, str) else None),
    )
    return None if body == (stored if isinstance(stored, str) else "") else body


def create_token_of(body: Any) -> str | None:
    return split_body(body if isinstance(body, str) else None)[2]


def label_from_wire(raw: Mapping[str, Any]) -> Label:
    """A label as Gitea, GitLab and GitHub send it (colour with or without ``#``)."""
    color = str(raw.get("color") or "").lstrip("#").lower() or None
    return Label(
        name=str(raw["name"]),
        color=color,
        description=raw.get("description") or None,
        id=str(raw["id"]) if raw.get("id") is not None else None,
    )


def comment_from_wire(raw: Mapping[str, Any], *, issue_number: int, author_key: str) -> Comment:
    return Comment(
        id=str(raw["id"]),
        issue_number=issue_number,
        author=user_name(raw.get(author_key)),
        body=str(raw.get("body") or ""),
        created_at=timestamp(raw.get("created_at")),
        updated_at=timestamp(raw.get("updated_at")),
    )


def comment_issue_number(raw: Mapping[str, Any]) -> int | None:
    """The issue a comment is on, from its ``issue_url`` (``.../issues/6``). None when it names
    none: Gitea leaves ``issue_url`` empty on a pull request's comment (GitHub does not)."""
    url = str(raw.get("issue_url") or "").rstrip("/")
    head, _, tail = url.rpartition("/")
    if not head.endswith("/issues") or not (tail.isascii() and tail.isdigit()):
        return None
    return int(tail)


def since_param(value: datetime) -> str:
    """RFC 3339 in UTC, whole seconds (what Gitea and GitHub parse)."""
    return format_ts(value.replace(microsecond=0)) or ""


def milestone_from_wire(raw: Mapping[str, Any], *, id_key: str = "id") -> Milestone:
    """A milestone as Gitea and GitHub send it; ``Milestone.id`` is what the forge addresses
    it by (Gitea its ``id``, GitHub its ``number``)."""
    return Milestone(
        title=str(raw["title"]),
        description=raw.get("description") or None,
        state=MilestoneState.CLOSED if raw.get("state") == "closed" else MilestoneState.OPEN,
        due_on=timestamp(raw.get("due_on")),
        id=str(raw[id_key]) if raw.get(id_key) is not None else None,
        open_issues=int(raw.get("open_issues") or 0),
        closed_issues=int(raw.get("closed_issues") or 0),
        created_at=timestamp(raw.get("created_at")),
        updated_at=timestamp(raw.get("updated_at")),
        closed_at=timestamp(raw.get("closed_at")),
    )
