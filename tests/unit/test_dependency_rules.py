"""core.dependencies: the cycle check (against a brute-force reachability oracle), the
self-link and second-parent refusals, links as seen from either end, the ready order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issue_core.core.dependencies import (
    Link,
    check_new_link,
    find_path,
    linked,
    ready_order,
)
from issue_core.core.errors import Conflict, ValidationError
from issue_core.core.models import Issue


def successors_of(edges):
    return lambda node: sorted(t for s, t in edges if s == node)


def reachable(edges, start, goal):
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for s, t in edges:
            if s == node and t not in seen:
                seen.add(t)
                todo.append(t)
    return goal in seen


def test_a_cycle_is_refused_and_shown():
    edges = {(3, 5), (5, 7)}
    with pytest.raises(Conflict, match=r"#7 blocks #3 blocks #5 blocks #7"):
        check_new_link(Link("blocks", 7, 3), successors_of(edges))
    with pytest.raises(Conflict, match=r"#5 is the parent of #3 is the parent of #5"):
        check_new_link(Link("parent", 5, 3), successors_of({(3, 5)}), lambda n: None)


def test_self_links_and_a_second_parent_are_refused():
    with pytest.raises(ValidationError, match="itself"):
        check_new_link(Link("blocks", 4, 4), successors_of(set()))
    with pytest.raises(Conflict, match="#2 already has a parent, #9"):
        check_new_link(Link("parent", 1, 2), successors_of(set()), lambda n: 9)
    check_new_link(Link("parent", 9, 2), successors_of(set()), lambda n: 9)  # the same parent


def test_related_links_have_no_direction_and_no_cycle():
    assert Link("related", 8, 3) == Link("related", 3, 8)
    check_new_link(Link("related", 3, 8), successors_of({(8, 3)}))
    assert linked(Link("related", 8, 3), 8) == ("related", 3)
    assert linked(Link("blocks", 1, 2), 2) == ("blocked_by", 1)
    assert linked(Link("parent", 1, 2), 1) == ("children", 2)
    assert linked(Link("parent", 1, 2), 2) == ("parent", 1)
    with pytest.raises(ValidationError, match="unknown dependency kind"):
        Link("duplicates", 1, 2)


@given(
    st.sets(st.tuples(st.integers(1, 8), st.integers(1, 8)), max_size=20),
    st.integers(1, 8),
    st.integers(1, 8),
)
def test_the_check_refuses_exactly_the_links_that_close_a_cycle(edges, source, target):
    edges = {(s, t) for s, t in edges if s != t}
    if source == target:
        return
    closes = reachable(edges, target, source)
    try:
        check_new_link(Link("blocks", source, target), successors_of(edges))
    except Conflict as refused:
        assert closes
        shown = [
            int(part) for part in refused.message.split(": ")[1].replace("#", "").split(" blocks ")
        ]
        assert shown[0] == shown[-1] == source and shown[1] == target
        assert all((a, b) in edges for a, b in itertools.pairwise(shown[1:]))
    else:
        assert not closes


def test_find_path_is_shortest():
    edges = {(1, 2), (2, 3), (3, 4), (1, 4)}
    assert find_path(1, 4, successors_of(edges)) == [1, 4]
    assert find_path(4, 1, successors_of(edges)) == []


def test_ready_order_is_priority_then_age():
    def at(day, priority, number):
        issue = Issue(title="x", number=number, priority=priority)
        issue.created_at = datetime(2026, 1, day, tzinfo=UTC)
        return issue

    issues = [at(1, None, 1), at(3, 1, 2), at(2, 1, 3), at(5, 0, 4), at(1, 4, 5)]
    assert [i.number for i in sorted(issues, key=ready_order)] == [4, 3, 2, 5, 1]
