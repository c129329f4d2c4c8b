"""Properties of the one three-way merge (core/merge.py) that every backend's update uses."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from issue_core.core.merge import merge_fields, merge_issue, merge_keyed, merge_set
from issue_core.core.models import Issue

SCALARS = ("title", "description", "state", "milestone", "priority")
names = st.lists(st.sampled_from("abcdef"), unique=True, max_size=5)
metadata = st.dictionaries(st.sampled_from("wxyz"), st.integers(0, 3), max_size=4)
snapshots = st.fixed_dictionaries(
    {
        "title": st.sampled_from(["t1", "t2", "t3"]),
        "description": st.sampled_from(["", "d1", "d2"]),
        "state": st.sampled_from(["open", "in_progress", "closed"]),
        "milestone": st.sampled_from([None, "v1", "v2"]),
        "priority": st.sampled_from([None, 0, 2]),
        "labels": names,
        "assignees": names,
        "sync_metadata": metadata,
    }
)
FIELDS = (*SCALARS, "labels", "assignees", "sync_metadata")


def changed(base: dict, other: dict) -> list[str]:
    return [name for name in FIELDS if other[name] != base[name]]


@given(base=snapshots, mine=snapshots, theirs=snapshots)
def test_edits_of_disjoint_fields_always_merge(base, mine, theirs):
    mine_changes, their_changes = changed(base, mine), changed(base, theirs)
    if set(mine_changes) & set(their_changes):
        return  # the next test covers overlapping edits
    merged = merge_fields(base, mine, theirs, mine_changes)
    assert merged.conflicts == []
    result = {**theirs, **merged.values}
    for name in mine_changes:
        if name in ("labels", "assignees"):
            assert set(result[name]) == set(mine[name])
        else:
            assert result[name] == mine[name]
    for name in their_changes:
        assert result[name] == theirs[name]


@given(base=snapshots, mine=snapshots, theirs=snapshots)
def test_a_scalar_both_sides_changed_differently_always_conflicts(base, mine, theirs):
    merged = merge_fields(base, mine, theirs, changed(base, mine))
    for name in SCALARS:
        clash = mine[name] != base[name] and theirs[name] not in (base[name], mine[name])
        assert (name in merged.conflicts) is clash
        if not clash and mine[name] != base[name]:
            assert merged.values[name] == mine[name]


@given(base=names, mine=names, theirs=names)
def test_sets_apply_my_additions_and_removals_to_theirs(base, mine, theirs):
    result = merge_set(base, mine, theirs)
    added, removed = set(mine) - set(base), set(base) - set(mine)
    assert set(result) == (set(theirs) - removed) | added
    assert len(result) == len(set(result))  # no duplicates
    # Their order is kept for what stays; my additions follow.
    assert [v for v in result if v in theirs] == [v for v in theirs if v not in removed]


@given(base=metadata, mine=metadata, theirs=metadata)
def test_metadata_merges_key_by_key(base, mine, theirs):
    result, clashes = merge_keyed(base, mine, theirs)
    for key in set(base) | set(mine) | set(theirs):
        mine_changed = mine.get(key) != base.get(key) or (key in mine) != (key in base)
        theirs_changed = theirs.get(key) != base.get(key) or (key in theirs) != (key in base)
        if mine_changed:
            assert result.get(key) == mine.get(key) and (key in result) == (key in mine)
            same = theirs.get(key) == mine.get(key) and (key in theirs) == (key in mine)
            assert (key in clashes) is (theirs_changed and not same)
        else:
            assert key not in clashes
            assert result.get(key) == theirs.get(key) and (key in result) == (key in theirs)


def test_an_issue_never_loaded_is_a_partial_update():
    current = Issue(title="stored", number=1, labels=["a"]).mark_loaded()
    partial = Issue(title="new title", number=1)
    assert merge_issue(partial, ["title"], current).values == {"title": "new title"}


def test_the_stored_label_order_is_kept():
    loaded = Issue(title="x", number=1, labels=["b", "a"]).mark_loaded()
    loaded.labels = ["b", "a", "c"]
    current = Issue(title="x", number=1, labels=["z", "b", "a"])
    assert merge_issue(loaded, ["labels"], current).values["labels"] == ["z", "b", "a", "c"]
