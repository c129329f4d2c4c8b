"""The event log of every backend with ``Capability.EVENTS`` (``issue events``, ``issue
watch``): the kinds a change is recorded as, cursors that resume without losing or repeating
an event (also across pages and with writes between two reads), the head cursor a watcher
starts from, waiting, and bad cursors. Parametrised over every backend; a forge joins when it
declares the capability (the mapping of its history is its own: ``forge.events``)."""

from __future__ import annotations

import pytest

from issue_core.core.errors import NotFound, ValidationError
from issue_core.core.events import EventFilter
from issue_core.core.interfaces import Capability
from issue_core.core.models import Issue, IssueState


@pytest.fixture
def logged(backend):
    if not backend.supports(Capability.EVENTS):
        pytest.skip("no event log")
    return backend


def _drain(backend, cursor=None, *, limit=500, number=None):
    seen = []
    for _ in range(100):
        page = backend.list_events(number, since=cursor, limit=limit)
        seen.extend(page)
        if len(page) < limit:
            return seen
        cursor = page[-1].cursor
    raise AssertionError("the event log never ran dry")


def _kinds(events):
    return [e.kind for e in events]


def test_each_change_is_an_event_of_its_kind(logged):
    issue = logged.create_issue(Issue(title="first"))
    number = issue.number
    issue = logged.get_issue_by_number(number)
    issue.title = "first, renamed"
    logged.update_issue(issue)
    issue = logged.get_issue_by_number(number)
    issue.labels = ["bug"]
    logged.update_issue(issue, create_labels=True)
    issue = logged.get_issue_by_number(number)
    issue.assignees = ["ann"]
    logged.update_issue(issue)
    issue = logged.get_issue_by_number(number)
    issue.state = IssueState.CLOSED
    logged.update_issue(issue)
    logged.add_comment(number, "done")

    events = logged.list_events(number)
    kinds = _kinds(events)
    assert kinds[0] == "created" and events[0].data["title"] == "first"
    for kind in ("edited", "labeled", "assigned", "state", "commented"):
        assert kind in kinds, (kind, kinds)
    assert kinds.index("edited") < kinds.index("labeled") < kinds.index("assigned")
    assert kinds.index("assigned") < kinds.index("state") < kinds.index("commented")
    assert {e.issue for e in events} == {number}
    assert {e.issue_id for e in events} == {issue.id}
    title = next(e for e in events if e.kind == "edited" and "title" in e.data["changes"])
    assert title.data["changes"]["title"] == {"before": "first", "after": "first, renamed"}
    comment = events[-1]
    assert comment.kind == "commented" and comment.data["body"] == "done"
    assert all(e.at.endswith("Z") and e.actor for e in events)


def test_a_comment_edit_is_an_event(logged):
    number = logged.create_issue(Issue(title="talk")).number
    comment = logged.add_comment(number, "draft")
    head = logged.event_cursor()
    if logged.supports(Capability.EDIT_COMMENTS):
        _wait_a_second()  # a forge dates the edit to the second: make it a later one
        logged.edit_comment(number, comment.id, "final")
        edited = logged.list_events(number, since=head)
        assert _kinds(edited) == ["comment_edited"]
        assert edited[0].data["body"] == "final"
        assert edited[0].data["comment_id"] == str(comment.id)


def test_every_cursor_resumes_with_exactly_the_rest(logged):
    for n in range(3):
        issue = logged.create_issue(Issue(title=f"issue {n}"))
        logged.add_comment(issue.number, f"comment {n}")
    events = _drain(logged)
    assert len(events) == 6
    keys = [(e.issue, e.kind, e.data.get("body")) for e in events]
    assert len(set(keys)) == 6
    for k, event in enumerate(events):
        rest = _drain(logged, event.cursor)
        assert [(e.issue, e.kind, e.data.get("body")) for e in rest] == keys[k + 1 :]


def test_pages_and_writes_between_reads_lose_and_repeat_nothing(logged):
    number = logged.create_issue(Issue(title="busy")).number
    for n in range(4):
        logged.add_comment(number, f"before {n}")
    delivered = []
    page = logged.list_events(since=None, limit=2)
    delivered.extend(page)
    for n in range(3):
        logged.add_comment(number, f"between {n}")
    delivered.extend(_drain(logged, page[-1].cursor, limit=2))
    bodies = [e.data.get("body") for e in delivered if e.kind == "commented"]
    assert bodies == [f"before {n}" for n in range(4)] + [f"between {n}" for n in range(3)]
    assert _drain(logged, delivered[-1].cursor) == []


def test_the_head_cursor_sees_only_what_comes_after(logged):
    number = logged.create_issue(Issue(title="old")).number
    logged.add_comment(number, "old news")
    head = logged.event_cursor()
    assert logged.list_events(since=head) == []
    assert logged.wait_for_events(head, 0.2, interval=0.05) is False
    logged.add_comment(number, "news")
    assert logged.wait_for_events(head, 5.0, interval=0.05) is True
    found = logged.list_events(since=head, until=logged.event_cursor())
    assert [(e.kind, e.data.get("body")) for e in found] == [("commented", "news")]


def test_filters_pick_events_and_issues(logged):
    one = logged.create_issue(Issue(title="one", labels=["bug"]), create_labels=True).number
    two = logged.create_issue(Issue(title="two")).number
    logged.add_comment(one, "on one")
    logged.add_comment(two, "on two")
    wanted = EventFilter(kinds=["commented"], labels=["bug"])
    found = logged.list_events(None, wanted=wanted)
    assert [(e.issue, e.data.get("body")) for e in found] == [(one, "on one")]
    only_two = logged.list_events(None, wanted=EventFilter(numbers=[two]))
    assert {e.issue for e in only_two} == {two}


def test_a_time_starts_there(logged):
    number = logged.create_issue(Issue(title="dated")).number
    first = logged.list_events(number)[0]
    assert logged.list_events(number, since=first.at)[0].kind == "created"
    assert logged.list_events(number, since="2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize("bad", ["fe1.garbled!", "fe1.W10", "not a cursor"])
def test_a_garbled_cursor_is_refused(logged, bad):
    logged.create_issue(Issue(title="x"))
    with pytest.raises(ValidationError):
        logged.list_events(since=bad)


def test_a_cursor_of_another_backend_is_refused(logged):
    logged.create_issue(Issue(title="x"))
    cursor = logged.list_events()[-1].cursor
    foreign = "fe1.WzEsImRlYWRiZWVmIixudWxsLFtdXQ" if cursor.isdigit() else "999999"
    with pytest.raises(ValidationError):
        logged.list_events(since=foreign)


def test_events_of_a_missing_issue_are_not_found(logged):
    with pytest.raises(NotFound):
        logged.list_events(4242)


def _wait_a_second():
    import time

    time.sleep(1.05)
