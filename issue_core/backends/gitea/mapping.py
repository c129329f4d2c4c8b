"""Gitea wire JSON <-> issue-core domain models. No Gitea dict leaves this module.

State: Gitea knows ``open`` and ``closed``; ``in_progress`` is ``open`` plus the configured
in-progress label, and that label never shows in ``Issue.labels``.
Version: Gitea issues have no revision counter, so ``Issue.version`` is ``updated_at`` in epoch
milliseconds (second precision on Gitea: two edits in one second share a version). The fields
every forge maps alike (timestamps, priority, the exact due instant, the body) are
``forge.fields``'.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from issue_core.backends.forge import fields
from issue_core.backends.forge.body import compose_body, split_body, take_reserved
from issue_core.backends.forge.fields import (  # noqa: F401 - comment_issue_number, since_param
    WireNames,
    comment_issue_number,
    issue_body,
    label_from_wire,
    reserved_fields,
    since_param,
    user_name,
    version_of,
)
from issue_core.backends.forge.fields import comment_from_wire as forge_comment
from issue_core.backends.forge.fields import create_token_of as _token_in
from issue_core.backends.forge.fields import issue_from_wire as forge_issue
from issue_core.core.models import (
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


def is_pull_request(raw: Wire) -> bool:
    return bool(raw.get("pull_request"))


login_of = user_name
GITEA_NAMES = WireNames(
    number="number", body="body", author="user", comments="comments", url="html_url"
)


def label_ids_by_name(raw: Wire) -> dict[str, int]:
    return {
        str(lab["name"]): int(lab["id"])
        for lab in (raw.get("labels") or [])
        if isinstance(lab, Mapping) and "id" in lab
    }


def issue_from_wire(raw: Wire, *, in_progress_label: str) -> Issue:
    """Gitea keeps only the day of an edited due date (23:59:59): the exact instant kept in
    the hidden block is used while it still falls on Gitea's day."""
    return forge_issue(raw, GITEA_NAMES, in_progress_label=in_progress_label)


def due_date_param(value: datetime) -> str:
    return format_ts(value.astimezone(UTC).replace(microsecond=0)) or ""


def create_token_free(body: str) -> str:
    """The body without its one-off create token: what identifies "the same create"."""
    description, block, _ = split_body(body)
    metadata, reserved = take_reserved(block)
    return compose_body(description, metadata, reserved=reserved)


def create_token_of(raw: Wire) -> str | None:
    return _token_in(raw.get("body"))


def content_version_of(raw: Wire) -> int | None:
    value = raw.get("content_version")
    return int(value) if isinstance(value, int) else None


def label_to_wire(label: Label, *, for_create: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"name": label.name}
    if label.color or for_create:
        body["color"] = "#" + (label.color or DEFAULT_LABEL_COLOR)
    if label.description is not None:
        body["description"] = label.description
    return body


def milestone_from_wire(raw: Wire) -> Milestone:
    return fields.milestone_from_wire(raw, id_key="id")


def milestone_to_wire(milestone: Milestone) -> dict[str, Any]:
    body: dict[str, Any] = {"title": milestone.title, "state": str(milestone.state)}
    if milestone.description is not None:
        body["description"] = milestone.description
    if milestone.due_on is not None:
        body["due_on"] = format_ts(milestone.due_on)
    return body


def comment_from_wire(raw: Wire, *, issue_number: int) -> Comment:
    return forge_comment(raw, issue_number=issue_number, author_key="user")


def user_from_wire(raw: Wire) -> User:
    return User(
        username=login_of(raw) or "",
        name=raw.get("full_name") or None,
        email=raw.get("email") or None,
    )


def filter_params(query: IssueFilter, *, in_progress_label: str) -> dict[str, Any]:
    """The part of a filter Gitea applies itself; the rest is ``IssueFilter.matches``.

    Gitea 1.27's issue list has no "nobody assigned" or "no milestone" parameter (its Swagger
    declares none; ``milestones`` ignores ids that do not exist), so ``no_assignee`` and
    ``no_milestone`` are applied client-side, on every page until the limit is filled.

    Gitea drops label names it does not know from the ``labels`` filter (and with none left,
    drops the filter), so the AND of ``IssueFilter.labels`` is re-checked client-side;
    ``open`` on Gitea includes in-progress issues, removed client-side when not wanted.
    """
    params: dict[str, Any] = {"type": "issues"}
    state = query.state
    labels = list(query.labels)
    if state is None:
        params["state"] = "open" if query.excludes_closed else "all"
    elif state is IssueState.CLOSED:
        params["state"] = "closed"
    else:
        params["state"] = "open"
        if state is IssueState.IN_PROGRESS and not labels:
            labels = [in_progress_label]
    if labels:
        params["labels"] = ",".join(labels)
    if query.milestone:
        params["milestones"] = query.milestone
    if query.assignee:
        params["assigned_by"] = query.assignee
    if query.author:
        params["created_by"] = query.author
    if query.text:
        params["q"] = query.text
    if isinstance(query.updated_since, datetime):
        params["since"] = since_param(query.updated_since)
    return params


# Re-exported from ``forge.fields``; with what ``forge.repo_backend.RepoMapping`` reads.
__all__ = [
    "comment_from_wire",
    "is_pull_request",
    "issue_body",
    "issue_from_wire",
    "label_from_wire",
    "milestone_from_wire",
    "milestone_to_wire",
    "reserved_fields",
    "user_from_wire",
    "version_of",
]
