"""The change-feed cursor of a forge whose timestamps have whole seconds (Gitea's do).

A forge filters issues (and comments) by ``since`` but keeps ``updated_at`` to the second, so an
issue can change again within the cursor's second without its ``updated_at`` moving. The cursor
therefore remembers the last second reported and a fingerprint of each item reported within it;
an item of that second is new again when its fingerprint differs. Text form (opaque to
callers): ``<second>|<id>:<fingerprint>,...``. The issue feed and the comment feed
(``forge.sync_reads``) each keep a cursor of this form, over ``Entry`` values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from issue_core.core.errors import ValidationError
from issue_core.core.models import Issue, format_ts, parse_ts

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# What a cursor knows of an item: its id, the second of its last update, its fingerprint.
Entry = tuple[str, datetime, str]


def change_order(issue: Issue) -> tuple[datetime, int]:
    """The order of a feed: by second of the last update, then by the issue's id."""
    return (second_of(issue), int(issue.id or 0))


def second_of(issue: Issue) -> datetime:
    return whole_second(issue.updated_at)


def whole_second(moment: datetime | None) -> datetime:
    return (moment or _EPOCH).replace(microsecond=0)


def fingerprint(issue: Issue) -> str:
    data = issue.to_dict()
    data.pop("comments", None)
    return digest(data)


def digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def issue_entry(issue: Issue) -> Entry:
    return (str(issue.id), second_of(issue), fingerprint(issue))


@dataclass(frozen=True)
class FeedPosition:
    """Where a change feed stands: the last second reported and what was seen within it."""

    second: datetime | None = None
    seen: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, cursor: str | None, *, kind: str) -> FeedPosition:
        """``kind`` (the backend type) names the backend in the error for a foreign cursor."""
        if not cursor:
            return cls()
        stamp, _, rest = cursor.partition("|")
        try:
            second = parse_ts(stamp)
            seen = tuple(
                (ident, fp)
                for ident, _, fp in (entry.partition(":") for entry in rest.split(",") if entry)
            )
        except ValidationError:
            raise ValidationError(f"invalid {kind} change cursor {cursor!r}") from None
        return cls(second, seen)

    def is_new(self, issue: Issue) -> bool:
        return self.is_new_entry(issue_entry(issue))

    def after(self, issue: Issue) -> FeedPosition:
        return self.after_entry(issue_entry(issue))

    def is_new_entry(self, entry: Entry) -> bool:
        ident, second, fp = entry
        if self.second is None:
            return True
        if second != self.second:
            return second > self.second
        return (ident, fp) not in self.seen

    def after_entry(self, entry: Entry) -> FeedPosition:
        ident, second, fp = entry
        if second == self.second:
            kept = tuple(pair for pair in self.seen if pair[0] != ident)
            return FeedPosition(second, (*kept, (ident, fp)))
        return FeedPosition(second, ((ident, fp),))

    def format(self) -> str:
        seen = ",".join(f"{ident}:{fp}" for ident, fp in self.seen)
        return f"{format_ts(self.second)}|{seen}"
