"""The query language means the same on the local store's SQL as in ``Query.matches`` (what
every other backend runs after its own filters): random queries over random corpora, compared
issue by issue. Queries are built from the grammar (qualifiers, negation, phrases, AND/OR and
parentheses), with bounds next to the corpus's own values so that edges are exercised."""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issue_core.backends.local import LocalBackend
from issue_core.core.models import Issue, IssueFilter, IssueState
from issue_core.core.query import parse
from tests.unit import local_corpus

WORDS = ["login", "Logout", "café", "cafe", "foo_bar", "foo", "bar", "v1.2", "naïve", "timeout"]
LABELS = ["bug", "UI", "p1"]
USERS = ["ann", "bob"]
MILESTONES = ["v1", "Beta"]

texts = st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join)
issues = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
            "description": texts,
            "state": st.sampled_from(list(IssueState)),
            "labels": st.lists(st.sampled_from(LABELS), unique=True, max_size=2),
            "assignees": st.lists(st.sampled_from(USERS), unique=True, max_size=2),
            "milestone": st.sampled_from([None, *MILESTONES]),
            "priority": st.sampled_from([None, 0, 1, 2, 4]),
            "comments": st.lists(texts.filter(str.strip), max_size=2),
        }
    ),
    min_size=1,
    max_size=8,
)

# A time bound is written as a placeholder, replaced by an instant next to a stored one.
COMPARE = st.sampled_from(["", ">", ">=", "<", "<="])
simple = st.one_of(
    st.builds("is:{}".format, st.sampled_from(["open", "closed", "in_progress", "issue"])),
    st.builds("state:{}".format, st.sampled_from(["open", "closed", "in-progress"])),
    st.builds("label:{}".format, st.sampled_from(["bug", "ui", "P1", "bug,ui", "nope"])),
    st.builds("assignee:{}".format, st.sampled_from([*USERS, "@me", "@ann", "nobody"])),
    st.builds("author:{}".format, st.sampled_from(["@me", "prop", "ann"])),
    st.builds("milestone:{}".format, st.sampled_from(["v1", "V1", "beta", '"Beta"', "none"])),
    st.builds(
        "{}:{}".format,
        st.sampled_from(["no", "has"]),
        st.sampled_from(["assignee", "label", "milestone", "priority"]),
    ),
    st.builds("priority:{}{}".format, COMPARE, st.sampled_from(["0", "1", "high", "p2", "4"])),
    st.sampled_from(["priority:1..2", "priority:*..1", "priority:2..*"]),
    st.builds("number:{}{}".format, COMPARE, st.sampled_from(["1", "3", "5"])),
    st.sampled_from(["number:2..4", "number:*..2"]),
    st.builds(
        "{}:{}<<{}>>".format,
        st.sampled_from(["created", "updated", "closed"]),
        COMPARE,
        st.integers(min_value=-1, max_value=1),
    ),
    st.sampled_from(["updated:>7d", "created:<7d", "closed:2020-01-01..*", "created:<=2020-01-01"]),
    st.sampled_from([*WORDS, "LOGIN", "ecole", "fo", '"login timeout"', '"foo bar"', '"_"']),
)


def _expressions(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        children.map(lambda child: f"-({child})" if child.startswith("-") else f"-{child}"),
        st.lists(children, min_size=2, max_size=3).map(" ".join),
        st.lists(children, min_size=2, max_size=3).map(" AND ".join),
        st.lists(children, min_size=2, max_size=3).map(" OR ".join).map("({})".format),
    )


queries = st.recursive(simple, _expressions, max_leaves=6)


TIME = re.compile(r"(created|updated|closed):(>=|<=|>|<|)<<(-?\d)>>")


def _with_times(text: str, stored: list[Issue], pick: int) -> str:
    """``field:OP<<k>>``: an instant k µs from a stored issue's value of that field."""

    def instant(found: re.Match[str]) -> str:
        issue = stored[pick % len(stored)]
        field, operator, offset = found.group(1), found.group(2), int(found.group(3))
        value = {"created": issue.created_at, "updated": issue.updated_at}.get(
            field, issue.closed_at or issue.updated_at
        )
        assert value is not None
        moment = value + timedelta(microseconds=offset)
        return f"{field}:{operator}{moment.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"

    return TIME.sub(instant, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=issues, text=queries, pick=st.integers(min_value=0, max_value=7))
def test_sql_and_matches_agree(corpus, text, pick):
    folder = tempfile.mkdtemp(prefix="issue-core-query-")
    backend = LocalBackend()
    try:
        backend.connect({"path": str(Path(folder) / "issues.db"), "identity": "prop"})
        stored = local_corpus.build(backend, corpus, MILESTONES)
        query = parse(_with_times(text, stored, pick)).with_me(lambda: "ann")
        flt = IssueFilter(state=None, query=query)
        by_sql = sorted(issue.number for issue in backend.list_issues(flt))
        by_python = sorted(issue.number for issue in stored if query.matches(issue))
        assert by_sql == by_python, query.text
    finally:
        backend.close()
        shutil.rmtree(folder, ignore_errors=True)
