"""The one three-way merge of issue fields, shared by every backend's update (and by sync).

An edit is three versions of an issue's editable fields: the ``base`` the caller loaded, the
caller's ``mine``, and the stored ``theirs`` at write time. For each field the caller changed:

- a scalar field (title, state, milestone, ...) takes ``mine`` when ``theirs`` is still the base
  or already equals ``mine``; otherwise both sides changed it differently: a conflict;
- ``labels`` and ``assignees`` are sets: the caller's additions and removals are applied to
  ``theirs``, so concurrent additions by two writers both survive and never conflict;
- ``sync_metadata`` merges key by key (a key both sides changed differently is a conflict named
  ``sync_metadata.KEY``), so two agents recording different keys never clash.

The functions work on plain snapshots (``Issue.editable_snapshot()``-shaped dicts) so that a sync
engine can merge two backends' versions over a stored base without any backend involved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from issue_core.core.models import Issue

SET_FIELDS = frozenset({"labels", "assignees"})
KEYED_FIELDS = frozenset({"sync_metadata"})

# A key absent from a sync_metadata version (distinct from a key whose value is null).
MISSING: Any = object()


class Merged:
    """The field values to write, and the fields both sides changed differently.

    A plain class, not a dataclass: ``dataclasses`` would cost every CLI write its import."""

    __slots__ = ("conflicts", "values")

    def __init__(
        self, values: dict[str, Any] | None = None, conflicts: list[str] | None = None
    ) -> None:
        self.values: dict[str, Any] = values if values is not None else {}
        self.conflicts: list[str] = conflicts if conflicts is not None else []

    def __repr__(self) -> str:
        return f"Merged(values={self.values!r}, conflicts={self.conflicts!r})"


def merge_fields(
    base: Mapping[str, Any],
    mine: Mapping[str, Any],
    theirs: Mapping[str, Any],
    fields: Iterable[str],
) -> Merged:
    """Merge the caller's change of ``fields`` (``base`` -> ``mine``) onto ``theirs``.

    Set fields keep ``theirs``' order and append the caller's additions in the caller's order;
    a conflicting field has no entry in ``values``."""
    merged = Merged()
    for name in fields:
        if name in SET_FIELDS:
            merged.values[name] = merge_set(base[name], mine[name], theirs[name])
        elif name in KEYED_FIELDS:
            value, clashes = merge_keyed(base[name], mine[name], theirs[name])
            merged.values[name] = value
            merged.conflicts.extend(f"{name}.{key}" for key in clashes)
        elif theirs[name] == base[name] or theirs[name] == mine[name]:
            merged.values[name] = mine[name]
        else:
            merged.conflicts.append(name)
    return merged


def merge_set(base: Sequence[Any], mine: Sequence[Any], theirs: Sequence[Any]) -> list[Any]:
    """``theirs`` with the caller's removals (base - mine) and additions (mine - base)."""
    removed = set(base) - set(mine)
    kept = [value for value in theirs if value not in removed]
    added = [value for value in mine if value not in base and value not in kept]
    return kept + list(dict.fromkeys(added))


def merge_keyed(
    base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """``theirs`` with the keys the caller set or removed; the keys both sides changed
    differently are returned as clashes (the caller's value is still in the result)."""
    result = dict(theirs)
    clashes: list[str] = []
    for key in sorted(set(mine) | set(base)):
        ours, orig = mine.get(key, MISSING), base.get(key, MISSING)
        if ours == orig:
            continue
        if theirs.get(key, MISSING) not in (orig, ours):
            clashes.append(key)
        if ours is MISSING:
            result.pop(key, None)
        else:
            result[key] = ours
    return result, clashes


def merge_issue(issue: Issue, changed: Iterable[str], current: Issue) -> Merged:
    """Merge the edit held in ``issue`` (loaded, then changed) onto the stored ``current``.

    An issue never loaded from a backend (``Issue("t", number=2)``) is a partial update: its
    given fields are written as they are. Set fields keep the stored order."""
    mine = issue.editable_snapshot()
    names = list(changed)
    base = issue.loaded_snapshot
    if base is None:
        return Merged(values={name: mine[name] for name in names})
    theirs = current.editable_snapshot()
    # Snapshots sort set fields; the merge keeps the stored order of what it does not touch.
    theirs["labels"], theirs["assignees"] = list(current.labels), list(current.assignees)
    return merge_fields(base, mine, theirs, names)


def applied_to(current: Issue, values: Mapping[str, Any]) -> Issue:
    """A copy of ``current`` with merged ``values`` (snapshot-shaped) set: what a backend that
    writes field by field (a forge) should end up holding."""
    from issue_core.core.models import Issue

    target = Issue.from_dict(current.to_dict())
    for name, value in values.items():
        setattr(target, name, list(value) if name in SET_FIELDS else value)
    return target
