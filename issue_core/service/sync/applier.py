"""The writes of a run, each recorded as an intent before it is sent.

Every write goes through here: it is recorded (``sync_intents``, committed) under the id the
written object carries -- the link id in a created issue's ``sync_metadata``, the marker of a
copied comment -- then sent, then its result is committed with the link and the bases in one
transaction, which also removes the intent. A crash in between leaves the intent and a
pending link; the next run finds the object by its id (``engine``'s recovery) and completes
the record instead of writing it again. Updates set fields to values, so sending one again is
harmless; the bases move only after both sides hold the result.

``ISSUE_CORE_SYNC_FAULT=before:N`` or ``after:N`` ends the process (exit 86, no clean-up, as a
kill would) just before or just after the Nth write a run sends: the crash tests' hook.
"""

from __future__ import annotations

import os
from typing import Any

from issue_core.core.dependencies import Link
from issue_core.core.interfaces import Capability, IssueBackend
from issue_core.core.models import Comment, Issue, Milestone
from issue_core.service.sync.state import SyncState

FAULT_ENV = "ISSUE_CORE_SYNC_FAULT"
FAULT_EXIT = 86


class FaultHook:
    """Counts the writes sent and ends the process at the configured one (tests only)."""

    def __init__(self, spec: str | None) -> None:
        self.stage, self.at = None, 0
        if spec:
            stage, _, number = spec.partition(":")
            if stage in ("before", "after") and number.isdigit():
                self.stage, self.at = stage, int(number)
        self.sent = 0

    def before(self) -> None:
        self.sent += 1
        if self.stage == "before" and self.sent == self.at:
            os._exit(FAULT_EXIT)

    def after(self) -> None:
        if self.stage == "after" and self.sent == self.at:
            os._exit(FAULT_EXIT)


class Applier:
    def __init__(self, state: SyncState, pair_id: str) -> None:
        self.state = state
        self.pair_id = pair_id
        self.fault = FaultHook(os.environ.get(FAULT_ENV))
        self.milestones: dict[int, set[str]] = {}

    def intend(self, intent_id: str, link_id: str, side: str, action: str, payload: Any) -> None:
        with self.state.writing():
            self.state.record_intent(intent_id, self.pair_id, link_id, side, action, payload)

    def create_issue(self, backend: IssueBackend, issue: Issue) -> Issue:
        self._ensure_milestone(backend, issue.milestone)
        self.fault.before()
        created = backend.create_issue(issue, create_labels=True)
        self.fault.after()
        return created

    def update_issue(self, backend: IssueBackend, issue: Issue) -> Issue:
        self._ensure_milestone(backend, issue.milestone)
        self.fault.before()
        updated = backend.update_issue(issue, create_labels=True)
        self.fault.after()
        return updated

    def add_comment(self, backend: IssueBackend, number: int, body: str, mark: str) -> Comment:
        """The copy carries ``mark`` in its text and, where the backend keeps comment markers
        (``COMMENT_FEED``), as its marker too: a retried add then returns the first."""
        marker = mark if backend.supports(Capability.COMMENT_FEED) else None
        self.fault.before()
        comment = backend.add_comment(number, body, marker=marker)
        self.fault.after()
        return comment

    def edit_comment(self, backend: IssueBackend, number: int, cid: str, body: str) -> Comment:
        self.fault.before()
        comment = backend.edit_comment(number, cid, body)
        self.fault.after()
        return comment

    def change_link(self, backend: IssueBackend, link: Link, *, add: bool) -> None:
        """Add or remove a dependency: both are idempotent by value, so a run that crashed
        after one finds it done, and its base records it then."""
        self.fault.before()
        if add:
            backend.add_link(link)
        else:
            backend.remove_link(link)
        self.fault.after()

    def _ensure_milestone(self, backend: IssueBackend, title: str | None) -> None:
        """A milestone the issue names is created on the target first (labels are created by
        the write itself, ``create_labels``)."""
        if not title:
            return
        known = self.milestones.get(id(backend))
        if known is None:
            known = {m.title for m in backend.list_milestones()}
            self.milestones[id(backend)] = known
        if title not in known:
            self.fault.before()
            backend.create_milestone(Milestone(title))
            self.fault.after()
            known.add(title)
