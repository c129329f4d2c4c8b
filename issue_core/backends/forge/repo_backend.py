"""``RepoApiBackend``: the wire hooks Gitea's and GitHub's backends fill in the same way.

Both speak GitHub's REST shape (``forge.repo_api``): an issue list that also holds pull
requests, comments addressed by id, labels and milestones as plain lists, the assignable users
of the repository. What is the same in their mapping (``RepoMapping``, which each forge's
``mapping`` module satisfies) and their client (``RepoApi``) makes these hooks the same too;
each backend keeps only its quirks (labels by id or by name, the milestone due date neither can
remove, issue edits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from issue_core.backends.forge.base import ForgeBackend
from issue_core.core.errors import NotFound, Unsupported
from issue_core.core.models import Comment, Issue, Label, Milestone, User

if TYPE_CHECKING:
    from issue_core.backends.forge.repo_api import RepoApi


class RepoMapping(Protocol):
    """What a forge's ``mapping`` module offers these hooks."""

    def issue_from_wire(self, raw: Mapping[str, Any], *, in_progress_label: str) -> Issue: ...

    def is_pull_request(self, raw: Mapping[str, Any]) -> bool: ...

    def user_from_wire(self, raw: Mapping[str, Any]) -> User: ...

    def label_from_wire(self, raw: Mapping[str, Any]) -> Label: ...

    def milestone_from_wire(self, raw: Mapping[str, Any]) -> Milestone: ...

    def milestone_to_wire(self, milestone: Milestone) -> dict[str, Any]: ...

    def comment_from_wire(self, raw: Mapping[str, Any], *, issue_number: int) -> Comment: ...


class RepoApiBackend(ForgeBackend):
    #: Why the forge cannot remove a milestone's due date (both ignore or refuse it).
    milestone_due_unremovable: ClassVar[str] = ""

    @property
    def client(self) -> RepoApi:
        raise NotImplementedError

    @property
    def wire(self) -> RepoMapping:
        """The forge's ``mapping`` module."""
        raise NotImplementedError

    @property
    def _where(self) -> str:
        return f"{self.client.owner}/{self.client.repo}"

    def _fetch_me(self) -> User:
        return self.wire.user_from_wire(self.client.current_user())

    # -- issues -------------------------------------------------------------------------------

    def _to_issue(self, raw: Mapping[str, Any]) -> Issue:
        return self._note_number(
            self.wire.issue_from_wire(raw, in_progress_label=self.in_progress_label), raw
        )

    def _is_pull_request(self, raw: Mapping[str, Any]) -> bool:
        return self.wire.is_pull_request(raw)

    def _issues(self, params: Mapping[str, Any], *, wanted: int | None = None) -> Iterator[Issue]:
        """The issues of a listing, its pull requests left out."""
        for raw in self.client.iter_issues(params, wanted=wanted):
            if not self.wire.is_pull_request(raw):
                yield self._to_issue(raw)

    def _refuse_raw(self, number: int, raw: Mapping[str, Any]) -> None:
        if self.wire.is_pull_request(raw):
            raise NotFound(f"#{number} in {self._where} is a pull request, not an issue")

    def _post_issue(
        self, payload: dict[str, Any], *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        return self.client.create_issue(payload, find_existing=find_existing)

    # -- labels -------------------------------------------------------------------------------

    def _fetch_labels(self) -> list[Label]:
        return [self.wire.label_from_wire(raw) for raw in self.client.list_labels()]

    # -- milestones (an id on Gitea, a number on GitHub: ``Milestone.id`` either way) -------

    def _fetch_milestones(self) -> list[Milestone]:
        return [self.wire.milestone_from_wire(raw) for raw in self.client.list_milestones("all")]

    def _milestone_id(self, title: str) -> int:
        return int(self._stored_milestone(title).id or 0)

    def _post_milestone(self, milestone: Milestone) -> Milestone:
        title = milestone.title

        def find() -> dict[str, Any] | None:
            for raw in self.client.list_milestones("all"):
                if raw.get("title") == title:
                    return dict(raw)
            return None

        payload = self.wire.milestone_to_wire(milestone)
        return self.wire.milestone_from_wire(
            self.client.create_milestone(payload, find_existing=find)
        )

    def _patch_milestone(self, stored: Milestone, milestone: Milestone) -> Milestone:
        if milestone.due_on is None and stored.due_on is not None:
            # Refused rather than the date silently kept (see ``milestone_due_unremovable``).
            raise Unsupported(
                self.milestone_due_unremovable, hint="set another date with --due instead"
            )
        payload = self.wire.milestone_to_wire(milestone)
        raw = self.client.edit_milestone(int(stored.id or 0), payload)
        return self.wire.milestone_from_wire(raw)

    def _remove_milestone(self, stored: Milestone) -> None:
        # The forge clears the milestone of its issues itself.
        self.client.delete_milestone(int(stored.id or 0))

    # -- comments -----------------------------------------------------------------------------

    def _fetch_comments(self, number: int, *, since: str | None = None) -> list[dict[str, Any]]:
        return self.client.list_comments(number, since=since)

    def _fetch_comment(self, comment_id: int) -> dict[str, Any]:
        return self.client.get_comment(comment_id)

    def _post_comment(
        self, number: int, text: str, *, find_existing: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        return self.client.create_comment(number, text, find_existing=find_existing)

    def _patch_comment(self, comment_id: int, text: str) -> dict[str, Any] | None:
        return self.client.edit_comment(comment_id, text)

    def _remove_comment(self, comment_id: int) -> None:
        self.client.delete_comment(comment_id)

    def _comment_from_wire(self, raw: Mapping[str, Any], number: int) -> Comment:
        return self.wire.comment_from_wire(raw, issue_number=number)

    # -- users --------------------------------------------------------------------------------

    def _fetch_users(self) -> list[User]:
        return [self.wire.user_from_wire(raw) for raw in self.client.list_assignees()]
