"""What a run did or, with ``--dry-run``, would do: the plan, as stable JSON.

``Report.to_dict()`` is the documented shape (docs/sync.md, *JSON output*)::

    {"pair": ["local", "work"], "direction": "pull", "from": "local", "to": "work",
     "dry_run": false,
     "actions": [{"action": "create", "on": "work", "number": 7, "from": "local",
                  "source": 3, "title": "...", "fields": []}, ...],
     "conflicts": [{"field": "title", "a": "local", "a_number": 3, "a_value": "...",
                    "b": "work", "b_number": 7, "b_value": "..."}],
     "notes": ["..."],
     "summary": {"created": 1, "updated": 0, ...}}

``action`` is one of ``create``, ``update``, ``close``, ``reopen``, ``link``, ``recover``,
``comment``, ``edit_comment``, ``deleted``, ``comment_deleted``, ``add_dependency``,
``remove_dependency``, ``failed``; ``on`` is the
backend written (or where a deletion was seen), ``number`` the issue's number there (None for
a create not made yet); ``from``/``source`` the backend and number the change came from.
"""

from __future__ import annotations

from typing import Any

from issue_core.core.errors import IssueCoreError

SUMMARY_KEYS = (
    "created",
    "updated",
    "closed",
    "reopened",
    "linked",
    "recovered",
    "comments_added",
    "comments_edited",
    "deleted",
    "comments_deleted",
    "dependencies_added",
    "dependencies_removed",
    "conflicts",
    "failed",
)
_COUNTED = {
    "create": "created",
    "update": "updated",
    "close": "closed",
    "reopen": "reopened",
    "link": "linked",
    "recover": "recovered",
    "comment": "comments_added",
    "edit_comment": "comments_edited",
    "deleted": "deleted",
    "comment_deleted": "comments_deleted",
    "add_dependency": "dependencies_added",
    "remove_dependency": "dependencies_removed",
    "failed": "failed",
}
WRITES = frozenset(
    {"create", "update", "close", "reopen", "comment", "edit_comment", "add_dependency",
     "remove_dependency"}
)  # fmt: skip


class Report:
    def __init__(self, names: dict[str, str], direction: str, source: str | None, dry_run: bool):
        self.names = names  # side key ("a"/"b") -> backend name
        self.direction = direction
        self.source = source
        self.dry_run = dry_run
        self.actions: list[dict[str, Any]] = []
        self.conflicts: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.failure: IssueCoreError | None = None

    def act(
        self,
        action: str,
        on: str,
        number: int | None,
        *,
        source: tuple[str, int | None] | None = None,
        title: str | None = None,
        fields: list[str] | None = None,
        detail: str | None = None,
    ) -> None:
        self.actions.append(
            {
                "action": action,
                "on": self.names[on],
                "number": number,
                "from": self.names[source[0]] if source else None,
                "source": source[1] if source else None,
                "title": title,
                "fields": sorted(fields or []),
                "detail": detail,
            }
        )

    def conflict(self, field: str, numbers: dict[str, int | None], values: dict[str, Any]) -> None:
        self.conflicts.append(
            {
                "field": field,
                "a": self.names["a"],
                "a_number": numbers["a"],
                "a_value": values["a"],
                "b": self.names["b"],
                "b_number": numbers["b"],
                "b_value": values["b"],
            }
        )

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    @property
    def writes(self) -> int:
        return sum(1 for action in self.actions if action["action"] in WRITES)

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SUMMARY_KEYS, 0)
        for action in self.actions:
            key = _COUNTED.get(action["action"])
            if key:
                counts[key] += 1
        counts["conflicts"] = len(self.conflicts)
        return counts

    def to_dict(self) -> dict[str, Any]:
        target = None
        if self.source is not None:
            target = self.names["b" if self.names["a"] == self.source else "a"]
        return {
            "pair": [self.names["a"], self.names["b"]],
            "direction": self.direction,
            "from": self.source,
            "to": target,
            "dry_run": self.dry_run,
            "actions": self.actions,
            "conflicts": self.conflicts,
            "notes": self.notes,
            "summary": self.summary(),
        }
