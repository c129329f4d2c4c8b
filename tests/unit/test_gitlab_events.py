"""gitlab.events: GitLab's resource events and system notes as event items, on the shapes
GitLab's docs and notes show (the fake GitLab writes the common ones; these are the rest)."""

from __future__ import annotations

from issue_core.backends.gitlab import events

AT = "2026-12-03T10:00:00.123Z"
USER = {"id": 1, "username": "ann"}


def _note(ident, body, *, system=True):
    return {"id": ident, "body": body, "system": system, "author": USER, "created_at": AT}


def _one(body):
    (item,) = events.note_items([_note(1, body)], 7, "70")
    return item.kind, item.data


def test_assignee_notes_in_rails_sentences():
    kind, data = _one("assigned to @a, @b.c, and @d-e and unassigned @f")
    assert kind == "assigned"
    assert data == {"changes": {"assignees": {"added": ["a", "b.c", "d-e"], "removed": ["f"]}}}
    assert _one("unassigned @bob")[1] == {"changes": {"assignees": {"removed": ["bob"]}}}


def test_a_title_with_marks_and_stars():
    kind, data = _one("changed title from **{-Old-} name** to **{+New+} name**")
    assert (kind, data) == (
        "edited",
        {"changes": {"title": {"before": "Old name", "after": "New name"}}},
    )


def test_unlinking_takes_the_kind_of_the_last_link_and_other_notes_are_no_events():
    notes = [
        _note(1, "marked this issue as blocked by #3"),
        _note(2, "changed the description"),
        _note(3, "mentioned in #9"),
        _note(4, "removed the relation with #3"),
        _note(5, "removed the relation with #4"),
    ]
    found = [(i.kind, i.data, i.key) for i in events.note_items(notes, 7, "70")]
    blocks = {"kind": "blocks", "source": 3, "target": 7}
    assert found == [
        ("linked", blocks, "n1"),
        ("unlinked", blocks, "n4"),
        ("unlinked", {"kind": "related", "source": 7, "target": 4}, "n5"),
    ]


def test_due_dates_carry_the_one_before():
    notes = [_note(1, "changed due date to December 4, 2026"), _note(2, "removed due date")]
    found = [i.data["changes"]["due_at"] for i in events.note_items(notes, 7, None)]
    assert found == [
        {"before": None, "after": "2026-12-04"},
        {"before": "2026-12-04", "after": None},
    ]


def test_resource_rows_deleted_labels_and_milestone_history():
    label_rows = [
        {"id": 1, "user": USER, "created_at": AT, "action": "add", "label": None},
        {"id": 2, "user": USER, "created_at": AT, "action": "add", "label": {"name": "Doing"}},
    ]
    items = events.resource_items("label", label_rows, 7, None, in_progress_label="doing")
    assert [(i.kind, i.data, i.key) for i in items] == [
        ("state", {"changes": {"state": {"before": "open", "after": "in_progress"}}}, "l2")
    ]
    rows = [
        {"id": 5, "user": USER, "created_at": AT, "action": "add", "milestone": {"title": "v1"}},
        {"id": 6, "user": USER, "created_at": AT, "action": "add", "milestone": {"title": "v2"}},
        {"id": 7, "user": USER, "created_at": AT, "action": "remove", "milestone": {"title": "v2"}},
    ]
    changes = [
        i.data["changes"]["milestone"]
        for i in events.resource_items("milestone", rows, 7, None, in_progress_label="doing")
    ]
    assert changes == [
        {"before": None, "after": "v1"},
        {"before": "v1", "after": "v2"},
        {"before": "v2", "after": None},
    ]
    state = events.resource_items(
        "state", [{"id": 9, "user": USER, "created_at": AT, "state": "reopened"}], 7, None,
        in_progress_label="doing",
    )  # fmt: skip
    assert state[0].data == {"changes": {"state": {"before": "closed", "after": "open"}}}
