"""Dependencies between issues: the kinds of link, what a link looks like from one issue, and
the rules every backend applies before it stores one (no self-link, no cycle, one parent).

A link is ``(kind, source, target)``, numbers of two issues:

- ``blocks``: ``source`` blocks ``target`` (``target`` is not ready while ``source`` is open);
- ``parent``: ``source`` is the parent of ``target`` (a sub-issue has at most one parent);
- ``related``: the two are related; it has no direction, so it is kept as
  ``(related, lower, higher)``.

``blocks`` and ``parent`` links must not form a cycle (each kind on its own): adding
``source -> target`` is refused when ``target`` already reaches ``source``, and the message
shows the cycle: ``#3 blocks #5 blocks #3``. Backends call :func:`check_new_link` with their
own way to walk the existing links, inside the transaction that then writes (local store) or
right before the write (forges).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from issue_core.core.errors import Conflict, ValidationError


class LinkKind(StrEnum):
    BLOCKS = "blocks"
    PARENT = "parent"
    RELATED = "related"

    @classmethod
    def parse(cls, value: LinkKind | str) -> LinkKind:
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise ValidationError(f"unknown dependency kind {value!r} (known: {known})") from None


# How a link reads from each of its ends: (from source, from target).
RELATIONS: dict[LinkKind, tuple[str, str]] = {
    LinkKind.BLOCKS: ("blocks", "blocked_by"),
    LinkKind.PARENT: ("children", "parent"),
    LinkKind.RELATED: ("related", "related"),
}
# The keys of an issue's dependency listing, in the order they print.
RELATION_NAMES = ("blocked_by", "blocks", "parent", "children", "related")
_VERBS = {LinkKind.BLOCKS: "blocks", LinkKind.PARENT: "is the parent of"}


class Link:
    """One stored link (see the module docstring for what ``source`` and ``target`` mean)."""

    __slots__ = ("kind", "source", "target")

    def __init__(self, kind: LinkKind | str, source: int, target: int) -> None:
        self.kind = LinkKind.parse(kind)
        if self.kind is LinkKind.RELATED and source > target:
            source, target = target, source
        self.source = source
        self.target = target

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Link) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return f"Link({self.kind.value!r}, {self.source}, {self.target})"

    def key(self) -> tuple[str, int, int]:
        return (self.kind.value, self.source, self.target)

    def describe(self) -> str:
        if self.kind is LinkKind.RELATED:
            return f"#{self.source} is related to #{self.target}"
        return f"#{self.source} {_VERBS[self.kind]} #{self.target}"


class LinkedIssue:
    """An issue linked to another, as seen from that other: ``relation`` is one of
    ``RELATION_NAMES`` (``blocked_by``: this issue blocks the one asked about)."""

    __slots__ = ("number", "relation", "state", "title")

    def __init__(self, relation: str, number: int, title: str, state: str) -> None:
        self.relation = relation
        self.number = number
        self.title = title
        self.state = state

    def __repr__(self) -> str:
        return f"LinkedIssue({self.relation!r}, #{self.number}, {self.state!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "state": self.state}


def linked(link: Link, number: int) -> tuple[str, int]:
    """``(relation, other number)``: ``link`` as seen from issue ``number``, one of its ends."""
    from_source, from_target = RELATIONS[link.kind]
    if link.source == number:
        return from_source, link.target
    return from_target, link.source


def find_path(start: int, goal: int, successors: Callable[[int], Iterable[int]]) -> list[int]:
    """A shortest path ``start .. goal`` following ``successors`` ([] when there is none)."""
    came_from: dict[int, int] = {start: start}
    frontier = [start]
    while frontier:
        following: list[int] = []
        for node in frontier:
            for nxt in successors(node):
                if nxt in came_from:
                    continue
                came_from[nxt] = node
                if nxt == goal:
                    path = [goal]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                following.append(nxt)
        frontier = following
    return []


def check_new_link(
    link: Link,
    successors: Callable[[int], Iterable[int]],
    parent_of: Callable[[int], int | None] | None = None,
) -> None:
    """Refuse ``link`` if it links an issue to itself (``ValidationError``), gives a sub-issue
    a second parent or closes a cycle (``Conflict``, the cycle shown).

    ``successors(n)``: the targets of the existing links of ``link.kind`` from ``n``;
    ``parent_of(n)``: the parent ``n`` has now (for ``parent`` links).
    """
    if link.source == link.target:
        raise ValidationError(f"an issue cannot depend on itself (#{link.source})")
    if link.kind is LinkKind.RELATED:
        return
    if link.kind is LinkKind.PARENT and parent_of is not None:
        current = parent_of(link.target)
        if current is not None and current != link.source:
            raise Conflict(
                f"#{link.target} already has a parent, #{current}",
                hint=f"remove it first: issue dep remove {link.target} --parent {current}",
            )
    path = find_path(link.target, link.source, successors)
    if path:
        cycle = [link.source, *path]
        verb = f" {_VERBS[link.kind]} "
        raise Conflict(
            "that would make a cycle: " + verb.join(f"#{n}" for n in cycle),
            hint="remove one of its links first",
        )


def ready_order(issue: Any) -> tuple[int, float, int]:
    """The ready queue's order: priority (unset after backlog), then oldest, then number."""
    created = issue.created_at.timestamp() if issue.created_at is not None else 0.0
    priority = issue.priority if issue.priority is not None else 5
    return (priority, created, issue.number or 0)


def without_limit(flt: Any) -> Any:
    """A copy of the ready queue's filter ``flt`` without its limit (the queue's order is not
    the listing's, so the limit applies last)."""
    unlimited = flt.without_query() if flt.query is None else flt.with_query(flt.query)
    unlimited.limit = None
    return unlimited


def ready_among(backend: Any, flt: Any) -> list[Any]:
    """``IssueBackend.list_ready`` for a backend that cannot answer it in one query: the
    issues ``flt`` selects (its limit applied last) whose ``blocked_by`` are all closed."""
    from issue_core.core.interfaces import Capability

    limit = flt.limit
    candidates: list[Any] = list(backend.list_issues(without_limit(flt)))
    if backend.supports(Capability.DEPENDENCIES):
        candidates = [
            issue
            for issue in candidates
            if all(
                other.state == "closed"
                for other in backend.list_links(issue.number)
                if other.relation == "blocked_by"
            )
        ]
    candidates.sort(key=ready_order)
    return candidates[:limit] if limit is not None else candidates
