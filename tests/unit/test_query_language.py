"""The query language's parser, meaning and Python entry points, directly (the CLI's errors are
in tests/cli/test_query_option.py; SQL against matches() in test_query_semantics.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from issue_core import api
from issue_core.backends.local import LocalBackend
from issue_core.core.models import Issue, IssueFilter, IssueState
from issue_core.core.query import QueryError, parse
from issue_core.core.query.nodes import And, LabelAny, Not, Or, Person, StateIn, Text, Within
from issue_core.core.query.pushdown import pushed_filter

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_the_tree_keeps_positions_and_types():
    query = parse('is:open -label:wontfix "login timeout" OR assignee:@me', now=NOW)
    assert isinstance(query.root, Or)
    left, right = query.root.children
    assert isinstance(left, And)
    state, negated, phrase = left.children
    assert isinstance(state, StateIn) and state.states == (IssueState.OPEN,)
    assert isinstance(negated, Not) and isinstance(negated.child, LabelAny)
    assert (negated.start, negated.end) == (8, 22)
    assert isinstance(phrase, Text) and phrase.text == "login timeout"
    assert isinstance(right, Person) and right.user == "@me" and query.uses_me


def test_and_binds_tighter_than_or_and_parentheses_group():
    flat = parse("a b OR c").root
    assert isinstance(flat, Or) and isinstance(flat.children[0], And)
    grouped = parse("a (b OR c)").root
    assert isinstance(grouped, And) and isinstance(grouped.children[1], Or)
    assert isinstance(parse("-(a OR b)").root, Not)
    assert isinstance(parse("a and or").root, And)  # lower-case and/or are words, as on GitHub


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("updated:2026-01-01", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)),
        ("updated:>2026-01-01", datetime(2026, 1, 2, tzinfo=UTC), None),
        ("updated:>=2026-01-01", datetime(2026, 1, 1, tzinfo=UTC), None),
        ("updated:<2026-01-01", None, datetime(2026, 1, 1, tzinfo=UTC)),
        ("updated:<=2026-01-01", None, datetime(2026, 1, 2, tzinfo=UTC)),
        (
            "updated:2026-01-01..2026-01-31",
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 2, 1, tzinfo=UTC),
        ),
        ("updated:*..2026-01-31", None, datetime(2026, 2, 1, tzinfo=UTC)),
        ("updated:>7d", datetime(2026, 3, 3, 12, 0, 0, 1, tzinfo=UTC), None),
        ("updated:>=36h", datetime(2026, 3, 9, 0, 0, tzinfo=UTC), None),
        ("updated:>2026-01-01T10:00:00+02:00", datetime(2026, 1, 1, 8, 0, 0, 1, tzinfo=UTC), None),
        ("priority:<=high", None, 2),
        ("priority:1..3", 1, 4),
        ("number:>10", 11, None),
    ],
)
def test_ranges(text, low, high):
    node = parse(text, now=NOW).root
    assert isinstance(node, Within) and (node.low, node.high) == (low, high)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("label:bug OR", 12, "nothing after OR"),
        ("a AND", 5, "nothing after AND"),
        ("(a OR b", 0, "unbalanced '('"),
        ("a (b))", 5, "unbalanced ')'"),
        ("x:1", 0, "unknown qualifier 'x'"),
        ("created:yesterday", 8, "invalid date 'yesterday'"),
        ("created:2026-01-01..nope", 20, "invalid date 'nope'"),
        ("updated:>9999999d", 9, "invalid date"),
        ("no:author", 3, "unknown field 'author'"),
        ("sort:comments", 5, "unknown sort"),
        ("sort:updated sort:number", 13, "sort: given twice"),
        ("-sort:updated", 0, "sort: cannot be negated"),
        ("(sort:updated)", 1, "sort: stands only at the top level"),
        ("label:a,,b", 8, "label name"),
        ("- a", 0, "nothing to negate"),
        ("(" * 17 + "a" + ")" * 17, 16, "parentheses nested deeper"),
        (" ".join(["a"] * 101), 200, "more than 100 terms"),
    ],
)
def test_errors_name_their_position(text, position, reason):
    with pytest.raises(QueryError) as caught:
        parse(text, now=NOW)
    assert caught.value.details == {"query": text, "position": position}
    assert reason in caught.value.message
    assert caught.value.exit_code == 2


def test_unknown_qualifier_lists_the_known_ones():
    with pytest.raises(QueryError) as caught:
        parse("milstone:v1")
    for name in ("is", "label", "assignee", "milestone", "priority", "updated", "no", "sort"):
        assert name in caught.value.hint


def test_missing_values_never_match_and_their_negation_does():
    issue = Issue(title="t", number=1, priority=None, closed_at=None)
    assert not parse("priority:<=4").matches(issue)
    assert parse("-priority:<=4").matches(issue)
    assert not parse("closed:>2000-01-01").matches(issue)


def test_text_reads_comments_only_when_needed():
    issue = Issue(title="login page", number=1, comments_count=1)
    calls = []
    assert parse("login").matches(issue, lambda: calls.append(1) or "")
    assert calls == []
    assert parse("timeout").matches(issue, lambda: calls.append(1) or "a timeout") and calls


def test_pushdown_takes_only_what_every_match_meets():
    query = parse("is:open label:bug label:a,b assignee:ann -label:x updated:>2026-01-01 OR c")
    assert pushed_filter(IssueFilter(), query) == IssueFilter(limit=None)  # a top-level OR
    query = parse("is:open label:Bug label:a,b assignee:ann -author:bob updated:>2026-01-01")
    pushed = pushed_filter(IssueFilter(labels=["ui"], limit=5), query)
    assert pushed.states == (IssueState.OPEN,) and pushed.labels == ["ui", "Bug"]
    assert pushed.assignee == "ann" and pushed.author is None and pushed.limit is None
    assert pushed.updated_since == datetime(2026, 1, 2, tzinfo=UTC)
    contradictory = pushed_filter(IssueFilter(state="closed"), parse("is:open"))
    assert contradictory.states == (IssueState.CLOSED,)  # matching then removes everything


def test_the_python_api_takes_a_query(tmp_path):
    backend = LocalBackend()
    backend.connect({"path": str(tmp_path / "issues.db"), "identity": "ann"})
    try:
        backend.create_issue(
            Issue(title="one", labels=["bug"], assignees=["ann"]), create_labels=True
        )
        backend.create_issue(Issue(title="two", priority=0))
        assert [i.number for i in api.list_issues(backend, query="assignee:@me")] == [1]
        assert [i.number for i in backend.list_issues(IssueFilter(query="assignee:@me"))] == [1]
        by_priority = api.list_issues(
            backend, IssueFilter(state=None), query=parse("sort:priority")
        )
        assert [i.number for i in by_priority] == [2, 1]
        with pytest.raises(QueryError):
            IssueFilter(query="label:")
    finally:
        backend.close()
