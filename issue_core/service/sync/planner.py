"""The three-way, field-level decision for one linked issue: pure, no backend involved.

Each side has its own **base**: the snapshot of its fields as they were when the two last
agreed (kept per side, so a backend that stores a value in its own spelling never looks
changed). For every field, a side *changed* it when its value differs from its base (a field
without a base, as for two issues matched at first sync, counts as changed on both sides):

- unchanged on both, or changed to the same value: nothing to write;
- changed on one side: that value is written to the other side (if this run writes there);
- changed differently on both: a **conflict**, never overwritten -- unless ``force`` names the
  side that wins, or a resolution (``choices``) says what to take;
- ``labels`` and ``assignees`` are sets (``core.merge.merge_set``): each side's additions and
  removals are applied to the other, so they never conflict;
- ``sync_metadata`` merges key by key, a key changed differently on both sides is the conflict
  ``sync_metadata.KEY`` (``core.merge``'s rule).

A side's base advances for a field only once its change reached the other side (or it had
none), so a change a one-way run could not deliver is still seen as a change next time.
Values cross between the sides through ``translate`` (user names, via the users table).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from issue_core.core.merge import MISSING, merge_set
from issue_core.service.sync.fields import KEYED_FIELD, SCALAR_FIELDS, SET_FIELDS, Snapshot

# translate(field, value, to_side) -> the value in the vocabulary of side ``to_side``
Translate = Callable[[str, Any, str], Any]
OTHER = {"a": "b", "b": "a"}


def same_words(field: str, value: Any, to_side: str) -> Any:
    return value


class FieldPlan:
    """What to write on each side, the conflicts, and which bases stay behind."""

    __slots__ = ("conflicts", "keep", "values")

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {"a": {}, "b": {}}
        self.conflicts: dict[str, tuple[Any, Any]] = {}
        # side -> field names (or "sync_metadata.KEY") whose base does not advance this run
        self.keep: dict[str, set[str]] = {"a": set(), "b": set()}

    @property
    def changes(self) -> bool:
        return bool(self.values["a"] or self.values["b"])

    def new_base(self, side: str, after: Snapshot, old: Mapping[str, Any] | None) -> Snapshot:
        """The base of ``side`` once the writes are done: its values now, except what stays."""
        base = {name: value for name, value in after.items()}
        base[KEYED_FIELD] = dict(after[KEYED_FIELD])
        for name in self.keep[side]:
            field, _, key = name.partition(".")
            if field == KEYED_FIELD and key:
                before = (old or {}).get(KEYED_FIELD, {}) or {}
                if key in before:
                    base[KEYED_FIELD][key] = before[key]
                else:
                    base[KEYED_FIELD].pop(key, None)
            elif old is not None and field in old:
                base[field] = old[field]
            else:
                base.pop(field, None)
        return base


def plan_fields(
    a: Snapshot,
    b: Snapshot,
    base_a: Mapping[str, Any] | None,
    base_b: Mapping[str, Any] | None,
    *,
    write: frozenset[str] = frozenset({"a", "b"}),
    force: str | None = None,
    choices: Mapping[str, Any] | None = None,
    translate: Translate = same_words,
) -> FieldPlan:
    """Decide every field of a linked issue. ``write``: the sides this run may write;
    ``force``: the side whose value wins a conflict; ``choices``: field -> ``"a"``, ``"b"`` or
    ``("value", V, SIDE)`` (a resolution; V in the words of SIDE)."""
    plan = FieldPlan()
    sides = {"a": a, "b": b}
    bases = {"a": base_a, "b": base_b}
    for name in SCALAR_FIELDS:
        values = {side: sides[side][name] for side in sides}
        changed = {}
        for side in sides:
            old = _base_value(bases[side], name)
            changed[side] = old is NO_BASE or values[side] != old
        _decide(plan, name, values, changed, write, force, (choices or {}).get(name), translate)
    for name in SET_FIELDS:
        _merge_set(plan, name, sides, bases, write, translate)
    _merge_keyed(plan, sides, bases, write, force, choices or {}, translate)
    return plan


def _base_value(base: Mapping[str, Any] | None, name: str) -> Any:
    if base is None or name not in base:
        return NO_BASE
    return base[name]


NO_BASE: Any = object()  # no common past for this field: it counts as changed on that side


def _decide(
    plan: FieldPlan,
    name: str,
    values: dict[str, Any],
    changed: dict[str, bool],
    write: frozenset[str],
    force: str | None,
    choice: Any,
    translate: Translate,
    *,
    field: str | None = None,
) -> dict[str, Any]:
    """One value (a scalar field, or one key of ``sync_metadata`` when ``field`` names it):
    side -> value to write (``MISSING``: remove the key), also noted in ``plan``."""
    words = field or name

    def carry(value: Any, to_side: str) -> Any:
        return value if value is MISSING else translate(words, value, to_side)

    writes: dict[str, Any] = {}
    if choice is not None:
        if choice in ("a", "b"):
            loser = OTHER[choice]
            if loser in write and carry(values[choice], loser) != values[loser]:
                writes[loser] = carry(values[choice], loser)
        else:  # ("value", V, SIDE): V in SIDE's words, to both sides
            for side in ("a", "b"):
                wanted = choice[1] if side == choice[2] else carry(choice[1], side)
                if side in write and wanted != values[side]:
                    writes[side] = wanted
    elif carry(values["a"], "b") == values["b"]:
        return writes  # agreed
    elif changed["a"] and changed["b"]:
        if force is None or OTHER[force] not in write:
            plan.conflicts[name] = (
                None if values["a"] is MISSING else values["a"],
                None if values["b"] is MISSING else values["b"],
            )
            plan.keep["a"].add(name)
            plan.keep["b"].add(name)
            return writes
        writes[OTHER[force]] = carry(values[force], OTHER[force])
    elif changed["a"] or changed["b"]:
        source = "a" if changed["a"] else "b"
        target = OTHER[source]
        if target in write:
            writes[target] = carry(values[source], target)
        else:
            plan.keep[source].add(name)  # not delivered: still a change next time
    if field is None:
        for side, value in writes.items():
            plan.values[side][name] = value
    return writes


def _merge_set(
    plan: FieldPlan,
    name: str,
    sides: dict[str, Snapshot],
    bases: dict[str, Mapping[str, Any] | None],
    write: frozenset[str],
    translate: Translate,
) -> None:
    in_a = {"a": list(sides["a"][name]), "b": list(translate(name, sides["b"][name], "a"))}
    olds: dict[str, list[Any]] = {}
    for side in ("a", "b"):
        old = _base_value(bases[side], name)
        if old is NO_BASE:  # no common past: what both hold is the base, the rest is added
            olds[side] = [v for v in in_a[side] if v in in_a[OTHER[side]]]
        else:
            olds[side] = list(old if side == "a" else translate(name, old, "a"))
    for target in ("a", "b"):
        source = OTHER[target]
        # the target's value with the source's additions and removals, in a's words
        merged = merge_set(olds[source], in_a[source], in_a[target])
        if set(merged) == set(in_a[target]):
            continue
        if target in write:
            plan.values[target][name] = merged if target == "a" else translate(name, merged, "b")
        else:
            plan.keep[source].add(name)


def _merge_keyed(
    plan: FieldPlan,
    sides: dict[str, Snapshot],
    bases: dict[str, Mapping[str, Any] | None],
    write: frozenset[str],
    force: str | None,
    choices: Mapping[str, Any],
    translate: Translate,
) -> None:
    meta = {side: dict(sides[side][KEYED_FIELD]) for side in sides}
    olds: dict[str, dict[str, Any] | None] = {}
    for side in sides:
        old = _base_value(bases[side], KEYED_FIELD)
        olds[side] = None if old is NO_BASE else dict(old or {})
    result = {side: dict(meta[side]) for side in sides}
    keys = set(meta["a"]) | set(meta["b"]) | set(olds["a"] or {}) | set(olds["b"] or {})
    for key in sorted(keys):
        values = {side: meta[side].get(key, MISSING) for side in sides}
        changed = {}
        for side in sides:
            old = olds[side]
            # without a base, a key a side holds is its addition; an absent one is no change
            changed[side] = (
                values[side] is not MISSING
                if old is None
                else values[side] != old.get(key, MISSING)
            )
        name = f"{KEYED_FIELD}.{key}"
        writes = _decide(
            plan,
            name,
            values,
            changed,
            write,
            force,
            choices.get(name),
            translate,
            field=KEYED_FIELD,
        )
        for side, value in writes.items():
            if value is MISSING:
                result[side].pop(key, None)
            else:
                result[side][key] = value
    for side in sides:
        if result[side] != meta[side]:
            plan.values[side][KEYED_FIELD] = result[side]
