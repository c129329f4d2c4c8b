"""The three-way, field-level decision of sync (service/sync/planner.py), on plain snapshots."""

from __future__ import annotations

from typing import Any

from issue_core.core.models import Issue
from issue_core.service.sync.fields import snapshot
from issue_core.service.sync.planner import plan_fields

BOTH = frozenset({"a", "b"})


def snap(**fields: Any) -> dict[str, Any]:
    issue = Issue(fields.pop("title", "t"))
    for name, value in fields.items():
        setattr(issue, name, value)
    return snapshot(issue)


def test_a_field_changed_on_one_side_is_carried_to_the_other():
    base = snap(title="old")
    plan = plan_fields(snap(title="new"), base, base, base, write=BOTH)
    assert plan.values == {"a": {}, "b": {"title": "new"}}
    assert plan.conflicts == {}


def test_the_same_field_changed_differently_on_both_sides_is_a_conflict():
    base = snap(title="old")
    plan = plan_fields(snap(title="mine"), snap(title="theirs"), base, base, write=BOTH)
    assert plan.values == {"a": {}, "b": {}}
    assert plan.conflicts == {"title": ("mine", "theirs")}
    # neither base moves: the conflict stays visible on the next run
    assert plan.keep == {"a": {"title"}, "b": {"title"}}


def test_force_names_the_side_that_wins_a_conflict():
    base = snap(title="old")
    plan = plan_fields(snap(title="mine"), snap(title="theirs"), base, base, write=BOTH, force="b")
    assert plan.values == {"a": {"title": "theirs"}, "b": {}}
    assert plan.conflicts == {}


def test_both_sides_changing_a_field_to_the_same_value_agree():
    base = snap(state="open")
    plan = plan_fields(snap(state="closed"), snap(state="closed"), base, base, write=BOTH)
    assert not plan.changes and plan.conflicts == {}


def test_labels_merge_as_sets_and_never_conflict():
    base = snap(labels=["bug", "ui"])
    plan = plan_fields(
        snap(labels=["bug", "ui", "urgent"]), snap(labels=["bug"]), base, base, write=BOTH
    )
    assert sorted(plan.values["a"]["labels"]) == ["bug", "urgent"]  # b's removal of ui
    assert sorted(plan.values["b"]["labels"]) == ["bug", "urgent"]  # a's addition
    assert plan.conflicts == {}


def test_sync_metadata_merges_key_by_key():
    base = snap(sync_metadata={"owner": "x", "size": 1})
    a = snap(sync_metadata={"owner": "alice", "size": 1})
    b = snap(sync_metadata={"owner": "bob", "size": 2, "new": True})
    plan = plan_fields(a, b, base, base, write=BOTH)
    assert plan.conflicts == {"sync_metadata.owner": ("alice", "bob")}
    assert plan.values["a"]["sync_metadata"] == {"owner": "alice", "size": 2, "new": True}
    assert "sync_metadata" not in plan.values["b"]


def test_a_one_way_run_keeps_the_targets_own_change_pending():
    """Pull a -> b: b's own edit is not carried back, and b's base stays, so a later
    bidirectional run still sees it as b's change."""
    base = snap(title="t", description="old")
    a, b = snap(title="t2", description="old"), snap(title="t", description="b's text")
    plan = plan_fields(a, b, base, base, write=frozenset({"b"}))
    assert plan.values == {"a": {}, "b": {"title": "t2"}}
    assert "description" in plan.keep["b"]
    new_base_b = plan.new_base("b", snap(title="t2", description="b's text"), base)
    assert new_base_b["description"] == "old" and new_base_b["title"] == "t2"
    later = plan_fields(a, snap(title="t2", description="b's text"), a, new_base_b, write=BOTH)
    assert later.values == {"a": {"description": "b's text"}, "b": {}}


def test_issues_matched_without_a_base_conflict_where_they_differ():
    plan = plan_fields(snap(title="x", labels=["a"]), snap(title="y", labels=["b"]), None, None)
    assert plan.conflicts == {"title": ("x", "y")}
    assert sorted(plan.values["a"]["labels"]) == ["a", "b"]  # sets: the union


def test_a_resolution_writes_the_chosen_value_to_both_sides():
    base = snap(title="old")
    choice = {"title": ("value", "agreed", "a")}
    plan = plan_fields(snap(title="x"), snap(title="y"), base, base, choices=choice)
    assert plan.values == {"a": {"title": "agreed"}, "b": {"title": "agreed"}}


def test_assignees_cross_through_the_translation():
    base = snap()

    def translate(field: str, value: Any, to_side: str) -> Any:
        if field != "assignees":
            return value
        names = {"a": {"al": "alice"}, "b": {"alice": "al"}}[to_side]
        return [names.get(v, v) for v in value]

    plan = plan_fields(snap(assignees=["alice"]), base, base, base, translate=translate)
    assert plan.values["b"] == {"assignees": ["al"]}
