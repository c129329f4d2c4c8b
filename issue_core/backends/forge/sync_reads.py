"""What sync reads of a forge beyond the issue feed: the comment feed and the snapshot.

A mixin of ``ForgeBackend``; the forge says how it lists comments (``_raw_comments_since``):

- **Gitea**: the repository-wide ``GET /repos/{o}/{r}/issues/comments?since=`` (paged, with
  ``X-Total-Count``: pages after the first are fetched concurrently), one request per page of
  every comment updated since the cursor;
- **GitHub**: the repository-wide ``GET /repos/{o}/{r}/issues/comments?since=&sort=updated&
  direction=asc`` (100 a page, ``Link rel="last"``); pull requests' comments are in it too and
  are left out (their ``html_url`` names ``/pull/``);
- **GitLab** has no repository-wide list of notes: the issues updated since the cursor (saving
  a note touches its issue), then each one's notes newest update first, one request per
  changed issue (more only for an issue with over 100 notes changed).

The comment feed's cursor is ``feed.FeedPosition`` over comments (second of the last update,
fingerprints within it): the forge's ``since`` is whole seconds, inclusive on Gitea and GitHub,
so each read steps back a second and drops what the cursor already saw. No clock of this
machine is involved. Deleted comments are not in any forge's list: the feed cannot tell them
(``COMMENT_FEED_DELETIONS`` is the local store's).

``snapshot()`` reads every issue and every comment in the fewest requests the forge allows, and
its cursors come from the server's own ``Date`` of the first answer, less ``SNAPSHOT_OVERLAP``:
what changed while it was read is replayed by the feeds, never lost. An issue whose comment
count disagrees with the comments read (a list that moved under concurrent pages) has its
comments read again, alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from issue_core.backends.forge.feed import Entry, FeedPosition, digest, whole_second
from issue_core.core.errors import NotFound
from issue_core.core.interfaces import CommentChange, RepositorySnapshot, attach_comments
from issue_core.core.models import Comment, Issue

if TYPE_CHECKING:
    from issue_core.backends._http import HttpClient

# ``(issue number, wire comment)`` pairs, as a forge lists them.
RawComments = Iterator[tuple[int, Mapping[str, Any]]]

# How far before the server's time of a snapshot's first answer its cursors start: covers a
# forge whose API servers' clocks (or Date and updated_at) disagree by a few seconds.
SNAPSHOT_OVERLAP = timedelta(seconds=5)


def comment_entry(comment: Comment) -> Entry:
    data = comment.to_dict()
    return (str(comment.id), whole_second(comment.updated_at or comment.created_at), digest(data))


def comment_order(comment: Comment) -> tuple[datetime, int]:
    """The order of the feed: by second of the last update, then by id."""
    return (whole_second(comment.updated_at or comment.created_at), _number_of(comment))


def _creation_order(comment: Comment) -> tuple[datetime, int]:
    return (whole_second(comment.created_at), _number_of(comment))


def _number_of(comment: Comment) -> int:
    return int(comment.id) if comment.id is not None and comment.id.isdigit() else 0


class ForgeSyncReads:
    # -- wire hooks (the forge's backend.py) ---------------------------------------------------

    def _raw_comments_since(self, since: datetime | None) -> RawComments:
        """``(issue number, wire comment)`` of every user comment on an issue (no pull
        request, no system note) updated at or after ``since`` (``None``: every one)."""
        raise NotImplementedError

    def _raw_comments_of(self, issues: list[Issue]) -> RawComments:
        """Every comment of ``issues`` (a snapshot's): by default the repository-wide list;
        a forge without one (GitLab) reads the issues that have comments, one by one."""
        return self._raw_comments_since(None)

    def _read_comment(self, raw: Mapping[str, Any], number: int) -> Comment:
        raise NotImplementedError

    # -- from ForgeBackend ---------------------------------------------------------------------

    type_name: ClassVar[str]
    _number_by_id: dict[str, int]

    @property
    def http(self) -> HttpClient:
        raise NotImplementedError

    def _issues_since(self, since: datetime | None) -> Iterator[Issue]:
        raise NotImplementedError

    def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
        raise NotImplementedError

    def list_comments(self, number: int) -> list[Comment]:
        raise NotImplementedError

    # -- the comment feed ----------------------------------------------------------------------

    def comments_since(
        self, cursor: str | None, *, limit: int = 500
    ) -> tuple[list[CommentChange], str]:
        position = FeedPosition.parse(cursor, kind=self.type_name)
        # "since" may be exclusive and truncated to seconds: step back one, drop the seen.
        since = position.second - timedelta(seconds=1) if position.second is not None else None
        fresh = [
            comment
            for comment in (
                self._read_comment(raw, n) for n, raw in self._raw_comments_since(since)
            )
            if position.is_new_entry(comment_entry(comment))
        ]
        fresh.sort(key=comment_order)
        chosen = fresh[:limit]
        ids = self._issue_ids({c.issue_number or 0 for c in chosen}, since)
        changes: list[CommentChange] = []
        for comment in chosen:
            position = position.after_entry(comment_entry(comment))
            number = comment.issue_number or 0
            changes.append(
                CommentChange(
                    comment, issue_number=number, issue_id=ids.get(number), cursor=position.format()
                )
            )
        return changes, (changes[-1].cursor if changes else (cursor or ""))

    def _issue_ids(self, numbers: set[int], since: datetime | None) -> dict[int, str]:
        """The stable ids of the issues ``numbers``: those seen already, else the issues
        updated since ``since`` (one list: a new comment touches its issue), else one by one
        (an edited comment does not touch its issue on Gitea)."""
        known = {number: ident for ident, number in self._number_by_id.items()}
        if not numbers - set(known):
            return known
        for issue in self._issues_since(since):
            if issue.number is not None and issue.id is not None:
                known[issue.number] = issue.id
        for number in sorted(numbers - set(known)):
            try:
                issue = self.get_issue_by_number(number)
            except NotFound:
                continue  # deleted since: the issue feed will not show it either
            if issue.id is not None:
                known[number] = issue.id
        return known

    def iter_all_comments(self) -> Iterator[Comment]:
        for number, raw in self._raw_comments_since(None):
            yield self._read_comment(raw, number)

    # -- the first pull ------------------------------------------------------------------------

    def snapshot(self) -> RepositorySnapshot:
        with self.http.server_dates() as dates:
            issues = list(self._issues_since(None))
            comments = [self._read_comment(raw, n) for n, raw in self._raw_comments_of(issues)]
        cursor = ""
        if dates:
            cursor = FeedPosition(whole_second(min(dates) - SNAPSHOT_OVERLAP)).format()
        attach_comments(issues, _unique(comments))
        for issue in issues:
            if issue.number is not None and len(issue.comments or ()) != issue.comments_count:
                issue.comments = self.list_comments(issue.number)  # the list moved: read again
        return RepositorySnapshot(issues, issue_cursor=cursor, comment_cursor=cursor)


def _unique(comments: Iterable[Comment]) -> Iterator[Comment]:
    """Each comment once (a list that moved while its pages were read may repeat one), in
    the order of creation."""
    seen: set[str | None] = set()
    for comment in sorted(comments, key=_creation_order):
        if comment.id not in seen:
            seen.add(comment.id)
            yield comment
