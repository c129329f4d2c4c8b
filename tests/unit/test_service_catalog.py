"""service.catalog called directly, without Click: labels and milestones as people name them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.errors import NotFound
from issue_core.core.models import KEEP, Issue, Label, Milestone, MilestoneState
from issue_core.service import catalog


@pytest.fixture
def backend(tmp_path):
    store = LocalBackend()
    store.connect({"path": str(tmp_path / "issues.db"), "identity": "tester"})
    yield store
    store.close()


def test_an_edit_that_does_not_rename_keeps_the_stored_spelling(backend):
    backend.create_label(Label("api", "00ff00"))
    assert catalog.stored_label_name(backend, "API") == "api"
    assert catalog.stored_label_name(backend, "new") == "new"
    edited = catalog.edit_label(backend, "API", color="ff0000")
    assert (edited.name, edited.color) == ("api", "ff0000")
    renamed = catalog.edit_label(backend, "api", new_name="API")
    assert [label.name for label in backend.list_labels()] == [renamed.name] == ["API"]


def test_a_milestone_is_found_by_title_in_any_case_then_by_id(backend):
    three = backend.create_milestone(Milestone(title="3"))
    v1 = backend.create_milestone(Milestone(title="v1.0"))
    assert catalog.find_milestone(backend, " V1.0 ").id == v1.id
    assert catalog.find_milestone(backend, v1.id).title == "v1.0"
    # A title wins over an id, since a milestone may be called "3".
    other = backend.create_milestone(Milestone(title="other"))
    assert other.id == "3" != three.id
    assert catalog.find_milestone(backend, "3").id == three.id
    with pytest.raises(NotFound, match="milestone 'nope' not found"):
        catalog.find_milestone(backend, "nope")


def test_milestone_edits_leave_unnamed_fields_and_keep_clears_apart(backend):
    due = datetime(2026, 12, 31, tzinfo=UTC)
    backend.create_milestone(Milestone(title="v1", description="first", due_on=due))
    edited = catalog.edit_milestone(backend, "V1", new_title="v1.0")
    assert (edited.title, edited.description, edited.due_on) == ("v1.0", "first", due)
    cleared = catalog.edit_milestone(backend, "v1.0", due_on=None)
    assert cleared.due_on is None and cleared.description == "first"
    assert catalog.edit_milestone(backend, "v1.0", due_on=KEEP).due_on is None
    closed = catalog.close_milestone(backend, "V1.0")
    assert closed.state is MilestoneState.CLOSED


def test_deleting_a_milestone_keeps_its_issues(backend):
    backend.create_milestone(Milestone(title="v1"))
    backend.create_issue(Issue(title="a", milestone="v1"))
    found = catalog.find_milestone(backend, "V1")
    assert catalog.milestone_issue_count(found) == 1
    catalog.delete_milestone(backend, found)
    assert backend.list_milestones(None) == []
    assert backend.get_issue(1).milestone is None


def test_users_and_whoami(backend):
    backend.create_issue(Issue(title="a", assignees=["bob"]))
    assert catalog.whoami(backend).username == "tester"
    assert {user.username for user in catalog.list_users(backend)} >= {"tester", "bob"}
