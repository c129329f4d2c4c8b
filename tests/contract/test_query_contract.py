"""The query language on every backend (``backend``: the local store and each fake forge, GitHub
with and without its search API): the same issues give the same answer, in the same order, as
a second local store for every kind of term; a query that cannot be read is the same error
everywhere, before any request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.interfaces import IssueBackend
from issue_core.core.models import Issue, IssueFilter, IssueState, Milestone
from issue_core.core.query import QueryError
from issue_core.service.issues import list_issues

# title, description, labels, assignees, milestone, state, priority, comment
CORPUS: list[tuple[str, str, list[str], list[str], str | None, IssueState, int | None, str]] = [
    ("Login timeout", "on slow links", ["bug"], ["ann"], "v1", IssueState.OPEN, 1, ""),
    ("Write the guide", "timeout notes", ["docs"], [], None, IssueState.IN_PROGRESS, 3, ""),
    ("Old crash", "", ["bug", "ui"], ["ann"], None, IssueState.CLOSED, 0, ""),
    ("Button colour", "", ["ui"], [], "v1", IssueState.OPEN, None, "the login page too"),
    ("Crash offline", "", ["bug", "wontfix"], ["bob"], None, IssueState.OPEN, 0, ""),
]
QUERIES = [
    # qualifiers and negation
    "is:open label:bug -label:wontfix",
    "state:in_progress",
    "-is:closed -label:ui",
    "assignee:ann",
    "assignee:@me",
    "author:@me is:closed",
    "milestone:v1 -no:assignee",
    "milestone:V1 -no:assignee",  # a milestone in any case
    # ranges
    "priority:<=1",
    "priority:1..3",
    "priority:*..0 is:open",
    "number:2..4",
    "number:>3",
    "label:ui,docs sort:number-asc",
    # relative and absolute dates
    "created:>7d",
    "updated:<7d",
    "updated:>2026-01-01 is:open",
    "closed:>1d",
    # no: and has:
    "no:assignee",
    "no:priority",
    "has:milestone",
    "no:label",
    "updated:>7d no:label",
    # words and phrases
    "login",
    '"login timeout"',
    "-login -is:closed",
    "timeout -label:docs",
    # AND / OR with parentheses
    "label:docs OR priority:0",
    "(label:ui OR label:docs) no:milestone",
    "label:bug AND (assignee:ann OR assignee:bob) -is:closed",
    '("login timeout" OR is:in_progress) -label:ui',
    # sort:
    "sort:priority",
    "is:open sort:number-asc",
    "label:bug sort:priority-asc",
]


def fill_corpus(backend: Any) -> None:
    """CORPUS on ``backend`` (also the corpus of tests/integration/test_forge_query.py)."""
    backend.create_milestone(Milestone(title="v1"))
    for title, body, labels, assignees, milestone, state, priority, comment in CORPUS:
        created = backend.create_issue(
            Issue(
                title=title,
                description=body,
                labels=labels,
                assignees=assignees,
                milestone=milestone,
                priority=priority,
            ),
            create_labels=True,
        )
        if state is not IssueState.OPEN:
            created.state = state
            backend.update_issue(created)
        if comment:
            backend.add_comment(created.number, comment)


@pytest.fixture
def pair(backend: IssueBackend, tmp_path: Path) -> Iterator[tuple[IssueBackend, LocalBackend]]:
    """The backend under test and a second local store, both holding CORPUS; ``@me`` is the
    backend's user in both."""
    me = backend.whoami().username
    local = LocalBackend()
    local.connect({"path": str(tmp_path / "reference.db"), "identity": me})
    fill_corpus(backend)
    fill_corpus(local)
    try:
        yield backend, local
    finally:
        local.close()


def test_every_kind_of_term_answers_as_the_local_store(pair):
    backend, local = pair
    differ = {}
    for query in QUERIES:
        wanted = IssueFilter(state=None, query=query)
        got = [issue.number for issue in list_issues(backend, wanted)]
        expected = [issue.number for issue in list_issues(local, wanted)]
        if got != expected:
            differ[query] = (got, expected)
    assert differ == {}
    # Not vacuous: the reference store answers most of these with something.
    answered = [q for q in QUERIES if list_issues(local, IssueFilter(state=None, query=q))]
    assert len(answered) >= len(QUERIES) - 4


@pytest.mark.parametrize(
    ("query", "says", "position"),
    [
        ("is:open labl:bug", "unknown qualifier 'labl' at column 9 (known: is, state, label", 8),
        ("label:bug OR", "nothing after OR", 12),
        ("(label:bug", "(", 0),
        ("priority:<=9", "priority 9 is out of range", 11),
    ],
)
def test_a_query_that_cannot_be_read_is_the_same_error_on_every_backend(
    backend, query, says, position
):
    backend.create_issue(Issue(title="untouched"))
    with pytest.raises(QueryError) as caught:
        list_issues(backend, IssueFilter(state=None, query=query))
    assert says in f"{caught.value} ({caught.value.hint})"
    assert caught.value.exit_code == 2
    assert caught.value.details["position"] == position
    assert [i.title for i in backend.list_issues(IssueFilter(state=None))] == ["untouched"]
