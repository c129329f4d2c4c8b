"""``IssueEdit``: one update of an issue, as a forge backend writes it.

``ForgeBackend.update_issue`` merges the caller's change onto the issue as the server holds it
now and hands the result to the forge's ``_write_update`` as one ``IssueEdit``: the issue as read
(its wire form and its model), the issue wanted, and the fields the merge changed. The questions
every forge asks before building its request (does the title change? the assignees? must the
body be written again?) are answered here once; each forge only says how it sends the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from issue_core.backends.forge.fields import changed_body
from issue_core.core.models import Issue


@dataclass(frozen=True)
class IssueEdit:
    number: int
    raw: dict[str, Any]  # the issue's wire form, as read for this edit
    current: Issue  # ``raw`` as a model
    wanted: Issue  # ``current`` with the merged change applied
    changed: list[str]  # the fields the merge changed (a field may change back to its value)
    create_labels: bool  # labels that do not exist yet are created

    @property
    def title(self) -> str | None:
        """The new title, or ``None`` when it stays."""
        if "title" in self.changed and self.wanted.title != self.current.title:
            return self.wanted.title
        return None

    def body(self, key: str, *, close_reason: bool = True) -> str | None:
        """The body to write (the wire's ``key``: ``body`` or ``description``) when the
        description or a field kept in the hidden block changes, else ``None``
        (``close_reason``: whether the block holds the close reason, see ``fields``)."""
        return changed_body(self.wanted, self.changed, self.raw.get(key), close_reason=close_reason)

    @property
    def assignees_change(self) -> bool:
        return "assignees" in self.changed and sorted(self.wanted.assignees) != sorted(
            self.current.assignees
        )

    @property
    def milestone_changes(self) -> bool:
        return "milestone" in self.changed and self.wanted.milestone != self.current.milestone

    @property
    def due_changes(self) -> bool:
        return "due_at" in self.changed and self.wanted.due_at != self.current.due_at

    @property
    def labels_may_change(self) -> bool:
        """Labels, or the state (``in_progress`` is a label on forges), were changed."""
        return "labels" in self.changed or "state" in self.changed
