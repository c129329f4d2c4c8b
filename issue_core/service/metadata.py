"""Metadata use cases (``issue meta set|get|unset``): user keys in an issue's ``sync_metadata``.

The rules of keys and values are ``core.metadata``'s. Writes go through ``update_issue``, whose
merge takes ``sync_metadata`` key by key: two agents setting different keys at once both land,
the same key set to different values at once is a ``Conflict``. Setting a key to the value it
has, or unsetting a key that is not there, writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from issue_core.core.errors import NotFound
from issue_core.core.metadata import RESERVED_PREFIX, parse_assignment, validate_key

if TYPE_CHECKING:
    from issue_core.core.interfaces import IssueBackend


class MetadataResult:
    """An issue's user metadata after a command, and whether the command changed it."""

    __slots__ = ("changed", "metadata", "number")

    def __init__(self, number: int, metadata: dict[str, Any], changed: bool) -> None:
        self.number = number
        self.metadata = metadata
        self.changed = changed

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "metadata": self.metadata}


def user_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """``sync_metadata`` without issue-core's own keys, sorted by key."""
    return {k: metadata[k] for k in sorted(metadata) if not k.startswith(RESERVED_PREFIX)}


def parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    """``key=value`` arguments -> {key: value}; all checked before anything is opened."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, value = parse_assignment(assignment)
        values[key] = value
    return values


def set_metadata(backend: IssueBackend, number: int, values: dict[str, Any]) -> MetadataResult:
    issue = backend.get_issue(number)
    changed = any(issue.sync_metadata.get(k, _ABSENT) != v for k, v in values.items())
    if changed:
        issue.sync_metadata = {**issue.sync_metadata, **values}
        issue = backend.update_issue(issue)
    return MetadataResult(number, user_metadata(issue.sync_metadata), changed)


def unset_metadata(backend: IssueBackend, number: int, keys: Iterable[str]) -> MetadataResult:
    wanted = [validate_key(key) for key in keys]
    issue = backend.get_issue(number)
    present = [key for key in wanted if key in issue.sync_metadata]
    if present:
        issue.sync_metadata = {k: v for k, v in issue.sync_metadata.items() if k not in present}
        issue = backend.update_issue(issue)
    return MetadataResult(number, user_metadata(issue.sync_metadata), bool(present))


def get_metadata(backend: IssueBackend, number: int) -> MetadataResult:
    issue = backend.get_issue(number)
    return MetadataResult(number, user_metadata(issue.sync_metadata), changed=False)


def get_value(backend: IssueBackend, number: int, key: str) -> Any:
    """The value of ``key`` on issue ``number``; ``NotFound`` when it has none."""
    metadata = get_metadata(backend, number).metadata
    if validate_key(key) not in metadata:
        raise NotFound(
            f"issue #{number} has no metadata key {key!r}",
            hint=f"see its keys with: issue meta get {number}",
        )
    return metadata[key]


_ABSENT: Any = object()
