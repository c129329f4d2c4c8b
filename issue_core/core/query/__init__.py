"""The query language of ``issue list -q``: GitHub's issue-search syntax over issue-core's
fields (docs/query-language.md is the reference).

``parse(text)`` -> ``Query``: the tree (``nodes``, positions kept), the ``sort:`` order if
any, and what a backend needs to run it: ``matches(issue)`` (``matching``) for backends that
filter in Python, the tree for the local store's SQL (``backends/local/query_sql.py``), and
``pushdown`` for the plain ``IssueFilter`` conditions a forge can apply first. Pure: nothing
here imports outside ``core/``; this package is loaded only when a query is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from issue_core.core.models import Issue
from issue_core.core.query.nodes import ME, And, Node, Not, Or, Person, QueryError, StateIn
from issue_core.core.query.parser import parse as _parse

__all__ = ["Query", "QueryError", "parse"]


class Query:
    """A parsed query. ``me`` is who ``@me`` stands for, set by ``with_me`` once known."""

    __slots__ = ("me", "root", "sort", "text")

    def __init__(
        self, text: str, root: Node | None, sort: tuple[str, str] | None, me: str | None = None
    ) -> None:
        self.text = text
        self.root = root
        self.sort = sort
        self.me = me

    def __repr__(self) -> str:
        return f"Query({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return (self.text, self.me) == (other.text, other.me)

    __hash__ = None  # type: ignore[assignment]

    def nodes(self) -> Iterator[Node]:
        stack = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, And | Or):
                stack.extend(node.children)
            elif isinstance(node, Not):
                stack.append(node.child)

    @property
    def names_state(self) -> bool:
        """Whether the query says which states (``is:``/``state:``): then ``issue list``'s
        default, "not closed", does not apply."""
        return any(isinstance(node, StateIn) for node in self.nodes())

    @property
    def uses_me(self) -> bool:
        return any(isinstance(node, Person) and node.user == ME for node in self.nodes())

    def with_me(self, whoami: Callable[[], str]) -> Query:
        """This query with ``@me`` bound (``whoami`` is asked only if the query uses it)."""
        if self.me is not None or not self.uses_me:
            return self
        return Query(self.text, self.root, self.sort, whoami())

    def matches(self, issue: Issue, comments: Callable[[], str] | None = None) -> bool:
        """Whether ``issue`` is selected. ``comments`` gives the text of its comments when a
        word is not in the title or description (default: the comments loaded on it)."""
        if self.root is None:
            return True
        from issue_core.core.query.matching import matches

        cache: list[str] = []

        def comment_text() -> str:
            if not cache:
                if comments is not None:
                    cache.append(comments())
                else:
                    cache.append("\n".join(c.body for c in issue.comments or ()))
            return cache[0]

        return matches(self.root, issue, self.me, comment_text)


def parse(text: str, *, now: datetime | None = None) -> Query:
    """Parse ``text``; ages (``7d``) count back from ``now`` (default: this instant, UTC).
    Raises ``QueryError`` (a usage error, exit 2) naming the offset that is wrong."""
    parsed = _parse(text, now if now is not None else datetime.now(UTC))
    return Query(text, parsed.root, parsed.sort)
