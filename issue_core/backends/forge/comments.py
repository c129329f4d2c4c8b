"""Comments on a forge that addresses them by id alone (``/issues/comments/{id}``: Gitea and
GitHub): listing, adding once, and editing or deleting only after the id is known to be a
comment of *that* issue -- without the check ``issue comment 5 --edit 123`` would edit a comment
of #6, or of a pull request. A mixin of ``ForgeBackend``; the wire hooks are the forge's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from issue_core.backends.forge.body import comment_signature, sign_comment
from issue_core.backends.forge.fields import comment_issue_number, since_param, user_name
from issue_core.core.errors import NotFound, PermissionDenied, ValidationError
from issue_core.core.models import Comment, validate_comment, validate_marker


class CommentsById:
    #: Who may change a comment, for the error when the forge refuses.
    comment_permission_hint: ClassVar[str] = ""
    #: A pull request's comments name it like an issue (GitHub: ``/issues/N``): the issue
    #: itself is checked before a comment is changed by id.
    pull_comments_look_like_issue_comments: ClassVar[bool] = False

    #: How far back a retried create looks for the copy an ambiguous attempt may have written.
    recovery_window: ClassVar[timedelta] = timedelta(hours=1)

    agent: str | None
    _comment_issue: dict[str, int]
    _comment_markers: dict[str, str]
    _recent: dict[int, Any]
    _clock: Callable[[], float]

    # -- wire hooks ---------------------------------------------------------------------------

    def _fetch_comments(self, number: int, *, since: str | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _fetch_comment(self, comment_id: int) -> dict[str, Any]:
        raise NotImplementedError

    def _post_comment(
        self, number: int, text: str, *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _patch_comment(self, comment_id: int, text: str) -> dict[str, Any] | None:
        """The edited comment, or None when the forge says it has no text to edit."""
        raise NotImplementedError

    def _remove_comment(self, comment_id: int) -> None:
        raise NotImplementedError

    def _comment_from_wire(self, raw: Mapping[str, Any], number: int) -> Comment:
        raise NotImplementedError

    # -- from ForgeBackend ----------------------------------------------------------------------

    @property
    def _where(self) -> str:
        raise NotImplementedError

    def _get_raw_issue(self, number: int, *, reuse: bool = False) -> dict[str, Any]:
        raise NotImplementedError

    def whoami(self) -> Any:
        raise NotImplementedError

    def _comment_missing(self, comment_id: object, number: int) -> NotFound:
        raise NotImplementedError

    # -- comments -----------------------------------------------------------------------------

    def list_comments(self, number: int) -> list[Comment]:
        # The issue first: a pull request's number lists the pull request's comments (and
        # Gitea answers a missing issue here with a 500, not a 404).
        self._get_raw_issue(number, reuse=True)
        comments = [self._read_comment(raw, number) for raw in self._fetch_comments(number)]
        self._comment_issue.update((c.id or "", number) for c in comments)
        return comments

    def add_comment(self, number: int, body: str, *, marker: str | None = None) -> Comment:
        # A named agent signs its comment (the hidden agent block): agents sharing a token;
        # a marker rides in the same block.
        checked = validate_marker(marker) if marker is not None else None
        text = sign_comment(validate_comment(body), self.agent, checked)
        # A missing issue may be a 500 (Gitea), and a pull request number would comment on
        # the pull request: check first, as show and edit do.
        self._get_raw_issue(number, reuse=True)
        started = datetime.fromtimestamp(self._clock(), UTC)

        def find() -> dict[str, Any] | None:
            since = since_param(started - self.recovery_window)
            me = self.whoami().username
            for raw in reversed(self._fetch_comments(number, since=since)):
                if raw.get("body") == text and user_name(raw.get("user")) == me:
                    return dict(raw)
            return None

        raw = self._post_comment(number, text, find_existing=find)
        self._recent.pop(number, None)  # its updated_at moved
        return self._read_comment(raw, number)

    def edit_comment(self, number: int, comment_id: str, body: str) -> Comment:
        body = validate_comment(body)
        key = self._comment_of_issue(number, comment_id)
        # The marker stays with the comment (sync finds it by that): it was read with the id.
        text = sign_comment(body, self.agent, self._comment_markers.get(str(key)))
        try:
            raw = self._patch_comment(key, text)
        except PermissionDenied as error:
            raise self._comment_refused(error, "edit", key, number) from None
        except NotFound:  # deleted since it was listed
            self._comment_issue.pop(str(key), None)
            raise self._comment_missing(key, number) from None
        if raw is None:
            raise ValidationError(f"comment {key} on #{number} has no text to edit")
        self._recent.pop(number, None)
        return self._read_comment(raw, number)

    def _read_comment(self, raw: Mapping[str, Any], number: int) -> Comment:
        """The comment with its agent block (if any) taken out of the text into ``agent``."""
        comment = self._comment_from_wire(raw, number)
        comment.body, comment.agent, comment.marker = comment_signature(comment.body)
        if comment.marker is not None and comment.id is not None:
            self._comment_markers[comment.id] = comment.marker
        return comment

    def delete_comment(self, number: int, comment_id: str) -> None:
        key = self._comment_of_issue(number, comment_id)
        try:
            self._remove_comment(key)
        except PermissionDenied as error:
            raise self._comment_refused(error, "delete", key, number) from None
        except NotFound:  # deleted since it was listed
            self._comment_issue.pop(str(key), None)
            raise self._comment_missing(key, number) from None
        self._comment_issue.pop(str(key), None)
        self._recent.pop(number, None)  # its comment count and updated_at moved

    def _comment_of_issue(self, number: int, comment_id: str) -> int:
        """The comment's id on the wire, once it is known to be a comment of issue ``number``."""
        if not isinstance(number, int) or number < 1:
            raise ValidationError(f"invalid issue number {number!r}")
        text = str(comment_id).strip()
        missing = self._comment_missing(text, number)
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise missing
        if self._comment_issue.get(text) == number:
            return int(text)  # just listed as a comment of this issue (--delete, --edit-last)
        try:
            raw = self._fetch_comment(int(text))
        except NotFound:
            raise missing from None
        on = comment_issue_number(raw)
        self._read_comment(raw, on or 0)  # remembers its marker, which an edit keeps
        if on != number:
            where = f"#{on}" if on is not None else "a pull request"
            missing.message += f" (it is a comment on {where})"
            raise missing
        if self.pull_comments_look_like_issue_comments:
            self._get_raw_issue(number, reuse=True)  # NotFound for a pull request
        self._comment_issue[text] = number  # checked: a later change of it needs no GET
        return int(text)

    def _comment_refused(
        self, error: PermissionDenied, action: str, comment_id: int, number: int
    ) -> PermissionDenied:
        return PermissionDenied(
            f"cannot {action} comment {comment_id} on #{number} in {self._where}: {error.message}",
            hint=self.comment_permission_hint or None,
        )
