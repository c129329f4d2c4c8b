"""The Python API as a script uses it, over the local store (issue 8 §4)."""

from __future__ import annotations

import pytest

import issue_core
from issue_core.backends.local import LocalBackend
from issue_core.core import errors
from issue_core.core.models import Issue, IssueFilter, IssueState


@pytest.fixture
def backend(tmp_path) -> LocalBackend:
    store = LocalBackend()
    store.connect({"path": str(tmp_path / ".issue-core" / "issues.db"), "identity": "tester"})
    return store


def test_the_original_close_them_all_loop_closes_every_issue(backend):
    for n in range(70):
        backend.create_issue(Issue(f"issue {n}"))
    for issue in backend.list_issues():
        issue.state = IssueState.CLOSED
        backend.update_issue(issue)
    assert backend.list_issues() == []
    assert len(backend.list_issues(IssueFilter(state="closed"))) == 70


def test_a_limit_still_limits(backend):
    for n in range(5):
        backend.create_issue(Issue(f"issue {n}"))
    assert len(backend.list_issues(IssueFilter(limit=2))) == 2


def test_the_default_filter_is_everything_not_closed_as_the_cli(backend):
    backend.create_issue(Issue("open"))
    backend.create_issue(Issue("busy", state="in_progress"))
    backend.create_issue(Issue("done", state="closed"))
    assert IssueFilter().limit is None
    assert sorted(i.title for i in backend.list_issues(IssueFilter())) == ["busy", "open"]
    assert sorted(i.title for i in backend.list_issues()) == ["busy", "open"]


def test_an_issue_object_can_be_updated_again_after_update(backend):
    issue = backend.create_issue(Issue("first"))
    issue.title = "second"
    returned = backend.update_issue(issue)
    assert issue.version == returned.version == 2
    issue.title = "third"  # the same object again: no false Conflict
    backend.update_issue(issue)
    assert backend.get_issue(issue.number).title == "third"


def test_a_real_concurrent_edit_of_the_same_field_still_conflicts(backend):
    number = backend.create_issue(Issue("first")).number
    mine, theirs = backend.get_issue(number), backend.get_issue(number)
    theirs.title = "theirs"
    backend.update_issue(theirs)
    mine.title = "mine"
    with pytest.raises(errors.Conflict):
        backend.update_issue(mine)


def test_state_accepts_strings(backend):
    issue = backend.create_issue(Issue("x"))
    issue.state = "closed"
    assert issue.state is IssueState.CLOSED
    backend.update_issue(issue)
    assert backend.get_issue(issue.number).state is IssueState.CLOSED
    issue.state = "in-progress"
    assert issue.state is IssueState.IN_PROGRESS
    with pytest.raises(errors.ValidationError):
        issue.state = "finished"


@pytest.mark.parametrize("field", ["labels", "assignees"])
def test_a_bare_string_for_a_list_of_names_is_refused(field):
    with pytest.raises(TypeError, match=f"{field} must be a list of names"):
        Issue("x", **{field: "bug"})
    with pytest.raises(TypeError):
        Issue("x", **{field: [1]})
    assert getattr(Issue("x", **{field: ("bug", "ui")}), field) == ["bug", "ui"]


def test_a_partial_update_leaves_the_other_fields_alone(backend):
    created = backend.create_issue(
        Issue("title", description="keep me", labels=["bug"], assignees=["bob"], milestone=None),
        create_labels=True,
    )
    backend.update_issue(Issue("new title", number=created.number))
    stored = backend.get_issue(created.number)
    assert (stored.title, stored.description, stored.labels, stored.assignees) == (
        "new title",
        "keep me",
        ["bug"],
        ["bob"],
    )
    backend.update_issue(Issue("", number=created.number, state="closed"))
    stored = backend.get_issue(created.number)
    assert (stored.title, stored.state, stored.labels) == ("new title", IssueState.CLOSED, ["bug"])


def test_unknown_labels_are_refused_by_default_in_python(backend):
    # The Python API is strict unless asked (see README "Python API"); the CLI creates them.
    with pytest.raises(errors.NotFound, match="label 'feature' does not exist") as refused:
        backend.create_issue(Issue("x", labels=["feature"]))
    assert "create_labels=True" in (refused.value.hint or "")
    created = backend.create_issue(Issue("x", labels=["feature"]), create_labels=True)
    assert created.labels == ["feature"]


def test_typed_errors_and_names_are_importable_where_the_original_examples_look():
    from issue_core import Conflict, IssueCoreError, NotFound, ValidationError
    from issue_core.core.interfaces import IssueFilter as InterfacesFilter
    from issue_core.core.interfaces import IssueState as InterfacesState

    assert (NotFound, Conflict, ValidationError) == (
        errors.NotFound,
        errors.Conflict,
        errors.ValidationError,
    )
    assert issubclass(NotFound, IssueCoreError)
    assert (InterfacesFilter, InterfacesState) == (IssueFilter, IssueState)
    for name in issue_core.__all__:
        assert getattr(issue_core, name) is not None
