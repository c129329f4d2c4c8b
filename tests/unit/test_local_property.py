"""Random sequences of operations against the local store and a plain in-memory model agree."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from issue_core.backends.local import LocalBackend
from issue_core.core.errors import Conflict, NotFound, ValidationError
from issue_core.core.models import Issue, IssueFilter, IssueState

LABELS = ["bug", "ui", "p1", "docs"]
USERS = ["ann", "bob", "cy"]
titles = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=40
)
states = st.sampled_from(list(IssueState))
label_sets = st.lists(st.sampled_from(LABELS), max_size=3, unique=True)
user_sets = st.lists(st.sampled_from(USERS), max_size=2, unique=True)


class StoreMatchesModel(RuleBasedStateMachine):
    @initialize()
    def open_store(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="issue-core-prop-")
        self.backend = LocalBackend()
        self.backend.connect({"path": str(Path(self.folder) / "issues.db"), "identity": "prop"})
        self.model: dict[int, dict] = {}
        self.next_number = 1
        self.comments: dict[int, list[str]] = {}
        self.moves = 0

    def teardown(self) -> None:
        self.backend.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(title=titles, state=states, labels=label_sets, assignees=user_sets)
    def create(self, title, state, labels, assignees) -> None:
        issue = Issue(title=title, state=state, labels=labels, assignees=assignees)
        if not title.strip() or len(title.strip()) > 255:
            try:
                self.backend.create_issue(issue, create_labels=True)
            except ValidationError:
                return
            raise AssertionError(f"accepted invalid title {title!r}")
        stored = self.backend.create_issue(issue, create_labels=True)
        assert stored.number == self.next_number
        self.model[stored.number] = {
            "title": title.strip(),
            "state": state,
            "labels": set(labels),
            "assignees": list(assignees),
        }
        self.comments[stored.number] = []
        self.next_number += 1

    @precondition(lambda self: self.model)
    @rule(data=st.data(), state=states, labels=label_sets)
    def edit(self, data, state, labels) -> None:
        number = data.draw(st.sampled_from(sorted(self.model)))
        issue = self.backend.get_issue_by_number(number)
        issue.state = state
        issue.labels = labels
        self.backend.update_issue(issue, create_labels=True)
        self.model[number].update(state=state, labels=set(labels))

    @precondition(lambda self: self.model)
    @rule(data=st.data(), title=titles)
    def stale_edit(self, data, title) -> None:
        """An edit based on an old read conflicts exactly when the title changed meanwhile."""
        number = data.draw(st.sampled_from(sorted(self.model)))
        stale = self.backend.get_issue_by_number(number)
        fresh = self.backend.get_issue_by_number(number)
        self.moves += 1
        moved = f"moved on {self.moves}"
        fresh.title = moved
        self.backend.update_issue(fresh)
        self.model[number]["title"] = moved
        if not title.strip() or len(title.strip()) > 255:
            return
        stale.title = title
        if title == stale.loaded_snapshot["title"]:
            self.backend.update_issue(stale)  # no change of its own: nothing to write
            return
        try:
            self.backend.update_issue(stale)
        except Conflict:
            return
        raise AssertionError("a stale edit of a changed field was accepted")

    @precondition(lambda self: self.model)
    @rule(data=st.data(), body=titles.filter(lambda s: s.strip()))
    def comment(self, data, body) -> None:
        number = data.draw(st.sampled_from(sorted(self.model)))
        self.backend.add_comment(number, body)
        self.comments[number].append(body)

    @rule(number=st.integers(min_value=1, max_value=50))
    def show_unknown(self, number) -> None:
        if number in self.model:
            return
        try:
            self.backend.get_issue_by_number(number)
        except NotFound:
            return
        raise AssertionError(f"#{number} should not exist")

    @rule(state=st.sampled_from([None, *IssueState]), label=st.sampled_from([None, *LABELS]))
    def list_agrees(self, state, label) -> None:
        flt = IssueFilter(state=state, labels=[label] if label else [], limit=None)
        got = {issue.number for issue in self.backend.list_issues(flt)}
        expected = {
            n
            for n, m in self.model.items()
            if (state is None or m["state"] is state) and (label is None or label in m["labels"])
        }
        assert got == expected

    @invariant()
    def every_issue_matches(self) -> None:
        if not hasattr(self, "backend"):
            return
        stored = {
            i.number: i for i in self.backend.list_issues(IssueFilter(state=None, limit=None))
        }
        assert set(stored) == set(self.model)
        for number, expected in self.model.items():
            issue = stored[number]
            assert issue.title == expected["title"]
            assert issue.state is expected["state"]
            assert set(issue.labels) == expected["labels"]
            assert issue.assignees == expected["assignees"]
            assert issue.comments_count == len(self.comments[number])


StoreMatchesModel.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoreMatchesModel = StoreMatchesModel.TestCase
