"""How the local store writes instants: one fixed-width UTC form, so text order is time order.

``2026-12-02T06:23:13.000000Z`` and ``2026-12-02T06:23:13.577000Z`` compare (and sort, and use
the ``updated_at`` indexes) correctly as strings; the display form (``format_ts``) drops zero
microseconds, and mixing the two forms made ``13Z`` sort after ``13.577Z`` ('Z' > '.').
Migration v3 rewrites rows stored before this form.
"""

from __future__ import annotations

from datetime import UTC, datetime

from issue_core.core.models import utcnow


def stored_ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> str:
    """This instant, as stored."""
    return stored_ts(utcnow()) or ""
