"""``IssueFilter.matches`` (what backends that filter in Python use) means exactly what the local
store's SQL means: random corpora and random filters, compared issue by issue."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issue_core.backends.local import LocalBackend
from issue_core.core.models import IssueFilter, IssueState
from issue_core.core.search import text_matches
from tests.unit import local_corpus

WORDS = ["login", "Logout", "café", "cafe", "foo_bar", "foo", "bar", "v1.2", "naïve", "ÉCOLE"]
LABELS = ["bug", "ui", "p1"]
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
            "comments": st.lists(texts.filter(str.strip), max_size=2),
        }
    ),
    min_size=1,
    max_size=8,
)
filters = st.fixed_dictionaries(
    {
        "state": st.sampled_from([None, "open", "closed", "in_progress", ["open", "closed"]]),
        "labels": st.lists(st.sampled_from(LABELS), unique=True, max_size=2),
        "assignee": st.sampled_from([None, *USERS]),
        "milestone": st.sampled_from([None, "v1", "V1", " beta ", "Beta"]),
        "text": st.sampled_from(
            [
                None,
                "login",
                "logi",
                "LOGIN",
                "cafe",
                "café",
                "foo_bar",
                "bar foo",
                "v1",
                "naive",
                "ecole",
                "caf",
                "fo",
                "nothing",
                "_",
            ]
        ),
        "since_offset": st.sampled_from([None, -1, 0, 1]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=issues, wanted=filters)
def test_matches_agrees_with_the_local_store(corpus, wanted):
    folder = tempfile.mkdtemp(prefix="issue-core-filter-")
    backend = LocalBackend()
    try:
        backend.connect({"path": str(Path(folder) / "issues.db"), "identity": "prop"})
        stored = local_corpus.build(backend, corpus, MILESTONES)
        since = None
        if wanted["since_offset"] is not None:
            middle = stored[len(stored) // 2].updated_at
            since = middle + timedelta(microseconds=wanted["since_offset"])
        flt = IssueFilter(
            state=wanted["state"],
            labels=wanted["labels"],
            assignee=wanted["assignee"],
            milestone=wanted["milestone"],
            text=wanted["text"],
            updated_since=since,
        )
        by_sql = sorted(issue.number for issue in backend.list_issues(flt))
        by_python = sorted(issue.number for issue in stored if flt.matches(issue))
        assert by_sql == by_python
    finally:
        backend.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_search_rules():
    assert text_matches("logi", ["the login page"])  # the last word is a prefix
    assert not text_matches("logi page", ["the login page"])  # other words are whole
    assert text_matches("CAFE", ["Café au lait"])  # case and diacritics fold
    assert text_matches("foo_bar", ["a foo bar b"])  # a split word is a phrase
    assert not text_matches("foo_bar", ["bar foo"])
    assert text_matches("login page", ["login", "page"])  # words may be in different columns
    assert not text_matches("foo_bar", ["foo", "bar"])  # but a phrase is within one
    assert not text_matches("", ["anything"])  # no words: nothing matches
