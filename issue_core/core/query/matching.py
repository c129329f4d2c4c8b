"""What a query means for one issue, in Python: used where the backend cannot run the query
itself (forges, after their own filters narrowed the list) and by tests. The local store's
SQL (``backends/local/query_sql.py``) means exactly this; a property test compares the two.

An issue without the value a condition is about (no priority, not closed, no author) fails it,
and so passes its negation. Text is looked for in the title and the description first; the
comments are read (``comments()``) only when those do not decide it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from issue_core.core.models import Issue
from issue_core.core.query.nodes import (
    And,
    Everything,
    LabelAny,
    MilestoneIs,
    Missing,
    Node,
    Not,
    Or,
    Person,
    StateIn,
    Text,
    Within,
)
from issue_core.core.search import phrase_matches

CommentText = Callable[[], str]


def matches(node: Node, issue: Issue, me: str | None, comments: CommentText) -> bool:
    if isinstance(node, And):
        return all(matches(child, issue, me, comments) for child in node.children)
    if isinstance(node, Or):
        return any(matches(child, issue, me, comments) for child in node.children)
    if isinstance(node, Not):
        return not matches(node.child, issue, me, comments)
    if isinstance(node, Text):
        return phrase_matches(node.text, (issue.title, issue.description)) or (
            phrase_matches(node.text, (comments(),))
        )
    if isinstance(node, StateIn):
        return issue.state in node.states
    if isinstance(node, LabelAny):
        return any(label.lower() in node.keys for label in issue.labels)
    if isinstance(node, Person):
        user = me if node.user == "@me" else node.user
        if node.field == "author":
            return issue.author is not None and issue.author == user
        return user in issue.assignees
    if isinstance(node, MilestoneIs):
        return issue.milestone is not None and issue.milestone.strip().lower() == node.key
    if isinstance(node, Missing):
        return not _present(issue, node.field)
    if isinstance(node, Within):
        value: Any = _value(issue, node.field)  # an int or an instant, as the bounds are
        if value is None:
            return False
        low, high = node.low, node.high
        return (low is None or value >= low) and (high is None or value < high)
    if isinstance(node, Everything):
        return True
    raise TypeError(f"not a query node: {node!r}")


def _present(issue: Issue, field: str) -> bool:
    if field == "assignee":
        return bool(issue.assignees)
    if field == "label":
        return bool(issue.labels)
    if field == "milestone":
        return issue.milestone is not None
    return issue.priority is not None


def _value(issue: Issue, field: str) -> int | datetime | None:
    found: int | datetime | None = {
        "number": issue.number,
        "priority": issue.priority,
        "created": issue.created_at,
        "updated": issue.updated_at,
        "closed": issue.closed_at,
    }[field]
    return found
