"""GitHub wire JSON <-> issue-core domain models. No GitHub dict leaves this module.

State: GitHub knows ``open`` and ``closed`` with a ``state_reason`` (``completed``,
``not_planned``, ``duplicate``; ``reopened`` or ``null`` on an open issue): ``close_reason`` is
that reason (an issue closed before reasons existed has none: ``completed``).
``in_progress`` is ``open`` plus the configured label, which never shows in ``Issue.labels``.
Ids: ``Issue.id`` is GitHub's numeric ``id`` and ``node_id`` its GraphQL id -- what dependency
and sub-issue writes take, never the number. Version: ``updated_at`` in epoch milliseconds.
Priority, due date and ``sync_metadata`` have no GitHub field: they ride in the hidden block at
the end of the body (``forge.body``), which GitHub's Markdown does not show.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from issue_core.backends.forge import fields
from issue_core.backends.forge.body import DUE_KEY, compose_body, split_body, take_reserved
from issue_core.backends.forge.fields import label_from_wire as label_from_wire
from issue_core.backends.forge.fields import timestamp as wire_ts
from issue_core.backends.forge.fields import user_name as login_of
from issue_core.core.models import (
    CloseReason,
    Comment,
    Issue,
    IssueFilter,
    IssueState,
    Label,
    Milestone,
    User,
    format_ts,
)

Wire = Mapping[str, Any]

DEFAULT_LABEL_COLOR = "ededed"
_REASONS = {reason.value for reason in CloseReason}


def is_pull_request(raw: Wire) -> bool:
    """The issues endpoints return pull requests too; only they carry ``pull_request``."""
    return raw.get("pull_request") is not None


def close_reason_of(raw: Wire) -> CloseReason | None:
    if raw.get("state") != "closed":
        return None
    reason = raw.get("state_reason")
    return CloseReason(reason) if reason in _REASONS else CloseReason.COMPLETED


NAMES = fields.WireNames(
    number="number", body="body", author="user", comments="comments", url="html_url"
)


def issue_from_wire(raw: Wire, *, in_progress_label: str) -> Issue:
    issue = fields.issue_from_wire(raw, NAMES, in_progress_label=in_progress_label)
    issue.node_id = str(raw["node_id"]) if raw.get("node_id") else None
    issue.close_reason = close_reason_of(raw)  # GitHub's own field, not the hidden block
    # GitHub issues have no due date of their own: the block's instant is the due date.
    _, block, _ = split_body(raw.get("body"))
    issue.due_at = wire_ts(take_reserved(block)[1].get(DUE_KEY))
    return issue.mark_loaded()


def state_fields(
    state: IssueState, reason: CloseReason | None, *, reopening: bool = False
) -> dict[str, Any]:
    """``state`` and ``state_reason`` as GitHub's PATCH takes them (a reopened issue's reason
    is ``reopened``, as GitHub's own UI sets it)."""
    if state is IssueState.CLOSED:
        return {"state": "closed", "state_reason": (reason or CloseReason.COMPLETED).value}
    return {"state": "open", "state_reason": "reopened"} if reopening else {"state": "open"}


def label_to_wire(label: Label, *, for_create: bool, old_name: str | None = None) -> dict[str, Any]:
    """GitHub's colour has no ``#``; a rename is ``new_name`` on the label's old name."""
    body: dict[str, Any] = {}
    if for_create:
        body["name"] = label.name
    elif old_name is not None and label.name != old_name:
        body["new_name"] = label.name
    if label.color or for_create:
        body["color"] = label.color or DEFAULT_LABEL_COLOR
    if label.description is not None:
        body["description"] = label.description
    return body


def milestone_from_wire(raw: Wire) -> Milestone:
    """``Milestone.id`` is GitHub's milestone *number*: what its API addresses them by. GitHub
    keeps a due date by the day; the exact instant rides in the description's hidden block and
    is used while it falls on GitHub's day."""
    milestone = fields.milestone_from_wire(raw, id_key="number")
    description, block, _ = split_body(raw.get("description"))
    _, reserved = take_reserved(block)
    milestone.description = description or None
    milestone.due_on = fields.exact_due(milestone.due_on, reserved)
    return milestone


def milestone_to_wire(milestone: Milestone) -> dict[str, Any]:
    reserved = fields.reserved_fields(milestone.due_on, None)
    description = compose_body(milestone.description or "", {}, reserved=reserved)
    body: dict[str, Any] = {"title": milestone.title, "state": str(milestone.state)}
    if description or milestone.description is not None:
        body["description"] = description
    if milestone.due_on is not None:
        body["due_on"] = format_ts(milestone.due_on.replace(microsecond=0))
    return body


def comment_from_wire(raw: Wire, *, issue_number: int) -> Comment:
    return fields.comment_from_wire(raw, issue_number=issue_number, author_key="user")


def user_from_wire(raw: Wire) -> User:
    return User(
        username=login_of(raw) or "",
        name=raw.get("name") or None,
        email=raw.get("email") or None,
    )


def repository_of(data: Any) -> str | None:
    """``owner/repo`` named by a wire object's own URLs (``full_name``, ``repository_url``,
    ``url``, ``issue_url``): how a renamed repository's new name is learned from any answer."""
    item = data[0] if isinstance(data, list) and data else data
    if not isinstance(item, Mapping):
        return None
    name = item.get("full_name")
    if isinstance(name, str) and "/" in name and isinstance(item.get("owner"), Mapping):
        return name  # a repository

    for key in ("repository_url", "issue_url", "url"):
        value = item.get(key)
        if isinstance(value, str) and "/repos/" in value:
            parts = value.split("/repos/", 1)[1].split("/")
            if len(parts) >= 2 and parts[0] and parts[1]:
                return f"{parts[0]}/{parts[1]}"
    return None


def filter_params(
    query: IssueFilter, *, in_progress_label: str, milestone_number: str | None
) -> dict[str, Any]:
    """The part of a filter GitHub's issue list applies itself; ``IssueFilter.matches`` does
    the rest (``open`` on GitHub includes in-progress issues; several states; the text, which
    goes to the search API instead).

    GitHub ANDs ``labels`` and answers a label it does not know with nothing, as issue-core
    means it; ``milestone`` takes a number (``none``: without one); ``assignee=none`` is
    "nobody assigned".
    """
    state, labels = fields.state_and_labels(
        query, in_progress_label=in_progress_label, open_state="open"
    )
    params: dict[str, Any] = {"state": state}
    if labels:
        params["labels"] = ",".join(labels)
    if query.milestone:
        params["milestone"] = milestone_number
    elif query.no_milestone:
        params["milestone"] = "none"
    if query.assignee:
        params["assignee"] = query.assignee
    elif query.no_assignee:
        params["assignee"] = "none"
    if query.author:
        params["creator"] = query.author
    if isinstance(query.updated_since, datetime):
        params["since"] = format_ts(query.updated_since.replace(microsecond=0))
    if query.sort in ("created", "updated"):
        params["sort"] = query.sort
        params["direction"] = query.direction
    return params


def comment_on_pull_request(raw: Mapping[str, Any]) -> bool | None:
    """Whether a comment of the repository-wide list is on a pull request: its ``html_url``
    is the pull request's page (``.../pull/7#issuecomment-1``); None when it has none."""
    url = raw.get("html_url")
    if not isinstance(url, str) or not url:
        return None
    return "/pull/" in urlsplit(url).path
