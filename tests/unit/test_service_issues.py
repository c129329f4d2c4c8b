"""service.issues called directly, without Click: the issue use cases every front end shares."""

from __future__ import annotations

import pytest

from issue_core.backends.local import LocalBackend
from issue_core.core.config import Config
from issue_core.core.errors import NotFound, Unsupported, ValidationError
from issue_core.core.interfaces import Capability
from issue_core.core.models import Issue, IssueChanges, IssueFilter, IssueState, Label
from issue_core.service import issues


@pytest.fixture
def backend(tmp_path):
    store = LocalBackend()
    store.connect({"path": str(tmp_path / "issues.db"), "identity": "tester"})
    yield store
    store.close()


def never_opened():
    raise AssertionError("the backend was asked for although no @me was given")


def test_at_me_is_the_acting_identity_and_asks_for_the_backend_only_when_used(backend):
    assert issues.resolve_me("@me", lambda: backend) == "tester"
    assert issues.resolve_me("bob", never_opened) == "bob"
    assert issues.resolve_me(None, never_opened) is None
    assert issues.usernames(["@me", "", "@bob", "carol"], lambda: backend) == [
        "tester",
        "bob",
        "carol",
    ]
    with pytest.raises(ValidationError):
        issues.usernames(["two words"], never_opened)


def test_a_text_search_needs_full_text_search(backend):
    backend.create_issue(Issue(title="login fails"))
    backend.create_issue(Issue(title="other"))
    found = issues.list_issues(backend, IssueFilter(text="login"))
    assert [issue.title for issue in found] == ["login fails"]

    class NoSearch(LocalBackend):
        capabilities = LocalBackend.capabilities - {Capability.FULL_TEXT_SEARCH}

    plain = NoSearch()
    plain.connect({"path": backend.path, "identity": "tester"})
    with pytest.raises(Unsupported, match="full-text search"):
        issues.list_issues(plain, IssueFilter(text="login"))
    assert len(issues.list_issues(plain, IssueFilter())) == 2


def test_the_label_policy_follows_the_configuration(tmp_path):
    assert issues.may_create_labels(Config(tmp_path, {}, {}))
    never = Config(tmp_path, {}, {"labels": {"create": "never"}})
    assert not issues.may_create_labels(never)
    assert issues.may_create_labels(never, forced=True)


def test_a_write_reports_the_labels_it_created(backend):
    backend.create_label(Label("Bug"))
    written = issues.create_issue(
        backend, Issue(title="x", labels=["bug", "p1", "docs"]), create_labels=True
    )
    assert written.created_labels == ["p1", "docs"]  # "bug" exists, as "Bug"
    assert written.issue.number == 1
    edited = issues.edit_issue(
        backend, 1, IssueChanges(add_labels=["ux"], remove_labels=["BUG"]), create_labels=True
    )
    assert edited.created_labels == ["ux"]
    assert sorted(edited.issue.labels) == ["docs", "p1", "ux"]


def test_without_label_creation_an_unknown_label_is_refused_and_none_reported(backend):
    with pytest.raises(NotFound):
        issues.create_issue(backend, Issue(title="x", labels=["nope"]), create_labels=False)
    written = issues.create_issue(backend, Issue(title="y"), create_labels=False)
    assert written.created_labels == []


def test_close_and_reopen_are_idempotent_and_comment_first(backend):
    backend.create_issue(Issue(title="x"))
    done = issues.set_closed(backend, 1, "fixed", closed=True)
    assert (done.changed, done.commented, done.issue.state) == (True, True, IssueState.CLOSED)
    again = issues.set_closed(backend, 1, "still fixed", closed=True)
    assert (again.changed, again.commented, again.issue.is_closed) == (False, True, True)
    assert [c.body for c in backend.list_comments(1)] == ["fixed", "still fixed"]
    quiet = issues.set_closed(backend, 1, None, closed=True)
    assert (quiet.changed, quiet.commented) == (False, False)
    reopened = issues.set_closed(backend, 1, None, closed=False)
    assert reopened.changed and reopened.issue.state is IssueState.OPEN
    with pytest.raises(ValidationError):
        issues.set_closed(backend, 1, "   ", closed=True)
    assert len(backend.list_comments(1)) == 2


def test_comments_by_id_and_my_last_one(backend, tmp_path):
    backend.create_issue(Issue(title="x"))
    first = backend.add_comment(1, "mine, older")
    other = LocalBackend()
    other.connect({"path": backend.path, "identity": "someone-else"})
    theirs = other.add_comment(1, "theirs")
    mine = backend.add_comment(1, "mine, newer")
    assert issues.last_comment_of_mine(backend, 1).id == mine.id
    assert issues.last_comment_of_mine(other, 1).id == theirs.id
    assert issues.find_comment(backend, 1, first.id).body == "mine, older"
    backend.create_issue(Issue(title="y"))
    with pytest.raises(NotFound, match="not found on issue #2"):
        issues.find_comment(backend, 2, first.id)
    with pytest.raises(NotFound, match=r"you \(tester\) have no comment on #2"):
        issues.last_comment_of_mine(backend, 2)
    other.close()


def test_delete_asks_about_every_issue_before_the_first_goes(backend):
    for title in ("a", "b", "c"):
        backend.create_issue(Issue(title=title))
    asked: list[int | None] = []

    def confirm(issue: Issue) -> bool:
        asked.append(issue.number)
        assert backend.get_issue(1).title == "a"  # nothing deleted while asking
        return issue.number != 2

    run = issues.delete_issues(backend, [3, 1, 2, 3], confirm)
    assert asked == [3, 1, 2]  # each number once, in the order given
    assert [i.number for i in run.deleted] == [3, 1] and [i.number for i in run.kept] == [2]
    assert run.failure is None
    assert [i.number for i in backend.list_issues(IssueFilter(state="all"))] == [2]


def test_delete_looks_up_every_number_first_and_keeps_a_late_failure(backend, tmp_path):
    backend.create_issue(Issue(title="a"))
    with pytest.raises(NotFound):
        issues.delete_issues(backend, [1, 9], lambda issue: True)
    assert backend.get_issue(1).title == "a"  # a missing number deletes nothing

    class FailsOnTwo(LocalBackend):
        def delete_issue(self, number: int) -> None:
            if number == 2:
                raise Unsupported("no deleting #2 here")
            super().delete_issue(number)

    failing = FailsOnTwo()
    failing.connect({"path": backend.path, "identity": "tester"})
    failing.create_issue(Issue(title="b"))
    run = issues.delete_issues(failing, [1, 2], lambda issue: True)
    assert [i.number for i in run.deleted] == [1]
    assert isinstance(run.failure, Unsupported) and [i.number for i in run.kept] == [2]
    with pytest.raises(Unsupported):  # the first delete failing: raised as it is
        issues.delete_issues(failing, [2], lambda issue: True)
    failing.close()
