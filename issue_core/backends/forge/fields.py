"""Issue fields every forge maps the same way, whatever its JSON calls them.

Timestamps as forges send them (a Go zero time, an empty string or garbage mean "none"), the
``version`` of an issue (its ``updated_at`` in epoch milliseconds: forges keep no revision
counter), and the fields a forge has no place for, carried in the hidden body block (``body``):
the priority, the exact instant of a due date the forge keeps only by the day, and the one-off
create token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from issue_core.backends.forge.body import DUE_KEY, PRIORITY_KEY, compose_body, split_body
from issue_core.core.errors import ValidationError
from issue_core.core.models import format_ts, parse_priority, parse_ts


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


def reserved_fields(due_at: datetime | None, priority: int | None) -> dict[str, Any]:
    return {DUE_KEY: format_ts(due_at) if due_at else None, PRIORITY_KEY: priority}


def issue_body(
    description: str,
    sync_metadata: dict[str, Any],
    *,
    create_token: str | None = None,
    due_at: datetime | None = None,
    priority: int | None = None,
) -> str:
    return compose_body(
        description,
        sync_metadata,
        create_token=create_token,
        reserved=reserved_fields(due_at, priority),
    )


def create_token_of(body: Any) -> str | None:
    return split_body(body if isinstance(body, str) else None)[2]
