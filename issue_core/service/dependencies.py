"""Dependency use cases (``issue dep add|remove|list|tree``) over any backend with the
``DEPENDENCIES`` capability; the rules (self-links, cycles, one parent) are
``core.dependencies``', applied by the backend where it writes.

The command line names links from the issue given first: ``A --blocks B``, ``A --blocked-by
B``, ``A --parent P`` (P is A's parent), ``A --related R``; ``link_for`` turns that into the
stored ``Link``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from issue_core.core.dependencies import RELATION_NAMES, Link, LinkedIssue, LinkKind
from issue_core.core.errors import ValidationError
from issue_core.core.interfaces import Capability

if TYPE_CHECKING:
    from issue_core.core.interfaces import IssueBackend

# option name -> (kind, whether the issue given first is the link's source)
FORMS: dict[str, tuple[LinkKind, bool]] = {
    "blocks": (LinkKind.BLOCKS, True),
    "blocked_by": (LinkKind.BLOCKS, False),
    "parent": (LinkKind.PARENT, False),
    "related": (LinkKind.RELATED, True),
}


def link_for(number: int, form: str, other: int) -> Link:
    """The link ``NUMBER --FORM OTHER`` names; linking an issue to itself is refused here,
    before any backend is opened."""
    kind, first_is_source = FORMS[form]
    if number == other:
        raise ValidationError(f"an issue cannot depend on itself (#{number})")
    return Link(kind, number, other) if first_is_source else Link(kind, other, number)


def add(backend: IssueBackend, link: Link) -> bool:
    """Store ``link``; False when it was there already (nothing changes)."""
    backend.require(Capability.DEPENDENCIES, "dependencies")
    return backend.add_link(link)


def remove(backend: IssueBackend, link: Link) -> None:
    backend.require(Capability.DEPENDENCIES, "dependencies")
    backend.remove_link(link)


class Dependencies:
    """Issue ``number``'s links grouped by relation (``RELATION_NAMES``; ``parent`` is one
    issue or None)."""

    def __init__(self, number: int, links: list[LinkedIssue]) -> None:
        self.number = number
        self.links = links

    def of(self, relation: str) -> list[LinkedIssue]:
        return [link for link in self.links if link.relation == relation]

    def to_dict(self) -> dict[str, Any]:
        shape: dict[str, Any] = {"number": self.number}
        for relation in RELATION_NAMES:
            found = [link.to_dict() for link in self.of(relation)]
            shape[relation] = (found[0] if found else None) if relation == "parent" else found
        return shape


def dependencies(backend: IssueBackend, number: int) -> Dependencies:
    backend.require(Capability.DEPENDENCIES, "dependencies")
    return Dependencies(number, backend.list_links(number))


class TreeNode:
    """One issue of ``issue dep tree``: what blocks it and its sub-issues, each a node; an
    issue met again further down is shown once more but not expanded (``repeated``)."""

    def __init__(self, relation: str | None, number: int, title: str, state: str) -> None:
        self.relation = relation
        self.number = number
        self.title = title
        self.state = state
        self.repeated = False
        self.children: list[TreeNode] = []

    def to_dict(self) -> dict[str, Any]:
        shape: dict[str, Any] = {"number": self.number, "title": self.title, "state": self.state}
        if self.relation is not None:
            shape["relation"] = self.relation
        if self.repeated:
            shape["repeated"] = True
        shape["children"] = [child.to_dict() for child in self.children]
        return shape


# What a tree expands under each issue: what it waits for, then what it is made of.
TREE_RELATIONS = ("blocked_by", "children")


def tree(backend: IssueBackend, number: int) -> TreeNode:
    """Issue ``number`` with, recursively, the issues that block it and its sub-issues."""
    backend.require(Capability.DEPENDENCIES, "dependencies")
    top = backend.get_issue(number)
    root = TreeNode(None, number, top.title, top.state.value)
    seen: set[int] = set()
    pending = [root]  # a stack, so issues expand in reading order (the first one met expands)
    while pending:
        node = pending.pop()
        if node.number in seen:
            node.repeated = True
            continue
        seen.add(node.number)
        links = backend.list_links(node.number)
        for relation in TREE_RELATIONS:
            node.children.extend(
                TreeNode(relation, link.number, link.title, link.state)
                for link in links
                if link.relation == relation
            )
        pending.extend(reversed(node.children))
    return root
