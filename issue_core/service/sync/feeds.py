"""Reading one side: its change feed since the pair's cursor, and an issue's current version.

The feed is read page by page until it stops moving (``changes_since``, oldest first, cursors
opaque); each backend's cursor already overlaps where its clock is coarse (a forge's whole
seconds), so nothing changed within the cursor's instant is missed. The cursor is the side's
own: no clock of another machine orders anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from issue_core.core.errors import NotFound
from issue_core.core.interfaces import Capability, IssueBackend, SyncableBackend
from issue_core.core.models import Issue

if TYPE_CHECKING:
    from issue_core.service.sync.state import Link

PAGE = 500


class Side:
    """One backend of the pair as a run sees it."""

    def __init__(self, key: str, name: str, backend: IssueBackend) -> None:
        self.key = key
        self.name = name
        self.backend = backend
        self.feed: dict[str, Issue] = {}
        self.gone: dict[str, int | None] = {}  # id -> number of issues the feed says are deleted
        self.cursor_before: str | None = None
        self.cursor_after: str | None = None
        # ids of issues whose comments changed (COMMENT_FEED), and that feed's cursors
        self.commented: set[str] = set()
        self.comment_cursor_after: str | None = None

    @property
    def syncable(self) -> SyncableBackend:
        return cast(SyncableBackend, self.backend)

    def read_feed(self, cursor: str | None) -> None:
        self.cursor_before = cursor
        while True:
            changes, after = self.syncable.changes_since(cursor, limit=PAGE)
            for change in changes:
                key = str(change.issue.id)
                if change.deleted:
                    self.feed.pop(key, None)
                    self.gone[key] = change.issue.number
                else:
                    self.gone.pop(key, None)
                    self.feed[key] = change.issue
            if not changes or after == cursor:
                break
            cursor = after
        self.cursor_after = cursor

    def read_comment_feed(self, cursor: str | None) -> None:
        """Which issues' comments changed since ``cursor`` (a comment edit does not move an
        issue on every forge's issue feed). Without ``COMMENT_FEED`` the issue feed alone
        decides which issues' comments are read."""
        self.comment_cursor_after = cursor
        if not self.backend.supports(Capability.COMMENT_FEED):
            return
        while True:
            changes, after = self.syncable.comments_since(cursor, limit=PAGE)
            for change in changes:
                if change.issue_id is not None:
                    self.commented.add(str(change.issue_id))
            if not changes or after == cursor:
                break
            cursor = after
        self.comment_cursor_after = cursor

    def read_again(self, issues: list[tuple[str, int | None]]) -> None:
        """Add to the feed issues an earlier one-way run left pending (by id, last number)."""
        for issue_id, number in issues:
            if issue_id in self.feed or issue_id in self.gone:
                continue
            found = self._fetch(issue_id, number)
            if found is None:
                self.gone[issue_id] = number
            else:
                self.feed[issue_id] = found

    def _fetch(self, issue_id: str, number: int | None) -> Issue | None:
        if number is not None:
            try:
                found = self.backend.get_issue_by_number(number)
                if str(found.id) == issue_id:
                    return found
            except NotFound:
                pass
        try:
            return self.syncable.get_issue_by_id(issue_id)
        except NotFound:
            return None

    def current(self, link: Link) -> Issue | None:
        """The linked issue as it is now (None: deleted): from this run's feed, else by its
        number (checked against its id: numbers can move), else by its id."""
        issue_id = str(link.id_of(self.key))
        if issue_id in self.feed:
            return self.feed[issue_id]
        if issue_id in self.gone:
            return None
        return self._fetch(issue_id, link.number_on(self.key))
