"""The query language's tree: what ``parse`` returns and what the matcher and the SQL compiler
walk. Every node keeps where it came from in the query text (``start``, ``end``: character
offsets), so that a later check can point at it.

Conditions are already typed (states, lowered label keys, integer or instant bounds); only
``@me`` stays symbolic until the caller knows who acts (``Query.with_me``). Plain classes with
slots, not dataclasses: they are built per query, and the CLI never pays for dataclasses.
"""

from __future__ import annotations

from datetime import datetime

from issue_core.core.errors import UsageError
from issue_core.core.models import IssueState

ME = "@me"


class QueryError(UsageError):
    """A query that cannot be read; ``details`` carry the query and the offending offset
    (``position``) so that a front end can point at it."""

    code = "invalid_query"

    def __init__(self, message: str, query: str, position: int, *, hint: str | None = None):
        super().__init__(f"{message} at column {position + 1}", hint=hint)
        self.reason = message
        self.details = {"query": query, "position": position}


class Node:
    __slots__ = ("end", "start")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end


class And(Node):
    __slots__ = ("children",)

    def __init__(self, children: list[Node], start: int, end: int) -> None:
        super().__init__(start, end)
        self.children = children


class Or(Node):
    __slots__ = ("children",)

    def __init__(self, children: list[Node], start: int, end: int) -> None:
        super().__init__(start, end)
        self.children = children


class Not(Node):
    __slots__ = ("child",)

    def __init__(self, child: Node, start: int, end: int) -> None:
        super().__init__(start, end)
        self.child = child


class Everything(Node):
    """``is:issue``: every issue is one."""

    __slots__ = ()


class Text(Node):
    """A bare word or a quoted phrase: its words, one after the other, in the title, the
    description or the comments (``core.search`` gives the folding rules)."""

    __slots__ = ("text",)

    def __init__(self, text: str, start: int, end: int) -> None:
        super().__init__(start, end)
        self.text = text


class StateIn(Node):
    __slots__ = ("states",)

    def __init__(self, states: tuple[IssueState, ...], start: int, end: int) -> None:
        super().__init__(start, end)
        self.states = states


class LabelAny(Node):
    """``label:a,b``: one of the labels (``keys`` lowered, as the store keys label names;
    ``names`` as written, for a forge's own filter)."""

    __slots__ = ("keys", "names")

    def __init__(self, names: tuple[str, ...], start: int, end: int) -> None:
        super().__init__(start, end)
        self.names = names
        self.keys = tuple(name.lower() for name in names)


class Person(Node):
    """``assignee:`` (one of the assignees) or ``author:``; ``user`` may be ``@me``."""

    __slots__ = ("field", "user")

    def __init__(self, field: str, user: str, start: int, end: int) -> None:
        super().__init__(start, end)
        self.field = field
        self.user = user


class MilestoneIs(Node):
    __slots__ = ("key",)

    def __init__(self, key: str, start: int, end: int) -> None:
        super().__init__(start, end)
        self.key = key


class Missing(Node):
    """``no:FIELD``: no assignee, no label, no milestone or no priority."""

    __slots__ = ("field",)

    def __init__(self, field: str, start: int, end: int) -> None:
        super().__init__(start, end)
        self.field = field


Bound = int | datetime | None


class Within(Node):
    """``low <= value < high`` for ``number``, ``priority`` (integers) or ``created``,
    ``updated``, ``closed`` (instants); ``None`` is an open end. An issue without the value
    (no priority, not closed) is never within."""

    __slots__ = ("field", "high", "low")

    def __init__(self, field: str, low: Bound, high: Bound, start: int, end: int) -> None:
        super().__init__(start, end)
        self.field = field
        self.low = low
        self.high = high
