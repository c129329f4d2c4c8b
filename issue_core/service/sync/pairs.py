"""The use cases front ends call: sync a pair, list its conflicts, resolve one, show status.

A pair is two configured backends, named; its id is the two names in sorted order
(``local:work``), so ``pull local work``, ``push work local`` and ``bidirectional work local``
share one set of links. Side ``a`` is the first name of that order. Its state lives in the local
store's file when a side is local (the first local side of the sorted pair), else in the sync
state db (``state_dir/sync.db``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from issue_core.core.errors import NotFound, UsageError
from issue_core.core.interfaces import Capability, IssueBackend
from issue_core.service.sync.engine import Options, Run, check_pair
from issue_core.service.sync.feeds import Side
from issue_core.service.sync.report import Report
from issue_core.service.sync.settings import SyncSettings
from issue_core.service.sync.state import STATE_DB_NAME, SyncState

MODES = ("pull", "push", "bidirectional")


def pair_id(first: str, second: str) -> str:
    a, b = sorted((first, second))
    return f"{a}:{b}"


def parse_pair(text: str) -> tuple[str, str]:
    first, sep, second = text.partition(":")
    if not sep or not first or not second:
        raise UsageError(
            f"invalid pair {text!r}", hint="write a pair as NAME:NAME, e.g. local:work"
        )
    return first, second


def check_names(first: str, second: str) -> None:
    if first == second:
        raise UsageError(
            f"cannot sync backend {first!r} with itself", hint="name two different backends"
        )


def state_for(
    backends: dict[str, IssueBackend], state_dir: Path, *, create: bool = True
) -> SyncState | None:
    """The pair's state: in the first local store of the sorted pair, else ``sync.db``.
    ``create=False``: None when there is no sync state db yet."""
    for name in sorted(backends):
        backend = backends[name]
        if backend.supports(Capability.STORE_FILE):
            return SyncState(backend.init_store(), in_local_store=True)
    path = state_dir / STATE_DB_NAME
    if not create and not path.exists():
        return None
    return SyncState(str(path), in_local_store=False)


def state_dir_of(root: Path) -> Path:
    override = os.environ.get("ISSUE_CORE_STATE_DIR")
    return Path(override).expanduser() if override else root / ".issue-core"


def sides_of(backends: dict[str, IssueBackend]) -> tuple[Side, Side]:
    a, b = sorted(backends)
    return Side("a", a, backends[a]), Side("b", b, backends[b])


def sync(
    mode: str,
    first: tuple[str, IssueBackend],
    second: tuple[str, IssueBackend],
    *,
    settings: SyncSettings,
    state_dir: Path,
    dry_run: bool = False,
    force: str | None = None,
    confirm: Callable[[str], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Run ``mode`` over the pair: ``pull``/``push`` write only to ``second`` (the target),
    taking ``first`` (the source); ``bidirectional`` writes both. ``force``: the name of the
    backend whose value wins a conflict (pull/push: only the source)."""
    if mode not in MODES:
        raise UsageError(f"unknown sync mode {mode!r}")
    check_names(first[0], second[0])
    backends = dict([first, second])
    a, b = sides_of(backends)
    check_pair(a, b)
    keys = {a.name: "a", b.name: "b"}
    if force is not None and force not in keys:
        raise UsageError(f"--force names {force!r}, which is not a backend of this pair")
    if mode == "bidirectional":
        write = frozenset({"a", "b"})
        source = None
    else:
        write = frozenset({keys[second[0]]})
        source = first[0]
        if force is not None and force != source:
            raise UsageError(
                f"--force {force} contradicts the direction: {mode} writes {second[0]} from "
                f"{first[0]}, so only the source can win"
            )
    state = state_for(backends, state_dir)
    assert state is not None
    try:
        options = Options(
            write=write,
            direction=mode,
            source=source,
            force=keys[force] if force else None,
            dry_run=dry_run,
            on_delete=settings.on_delete,
            bulk_threshold=settings.bulk_threshold,
            users=settings.users,
            confirm=confirm,
            progress=progress,
        )
        return Run(a, b, state, pair_id(a.name, b.name), options).execute()
    finally:
        state.close()


def conflicts(backends: dict[str, IssueBackend], state_dir: Path) -> list[dict[str, Any]]:
    state = state_for(backends, state_dir, create=False) if len(backends) == 2 else None
    if state is None:
        return []
    try:
        a, b = sorted(backends)
        return [_conflict_row(row, a, b) for row in state.conflicts(pair_id(a, b))]
    finally:
        state.close()


def _conflict_row(row: dict[str, Any], a: str, b: str) -> dict[str, Any]:
    return {
        "pair": [a, b],
        "field": row["field"],
        "a": a,
        "a_number": row["a_number"],
        "a_value": row["a_value"],
        "b": b,
        "b_number": row["b_number"],
        "b_value": row["b_value"],
        "detected_at": row["detected_at"],
    }


def resolve(
    first: tuple[str, IssueBackend],
    second: tuple[str, IssueBackend],
    number: int,
    take: str | None,
    values: dict[str, Any],
    *,
    settings: SyncSettings,
    state_dir: Path,
) -> Report:
    """Settle the conflicts of the issue ``number`` of ``first`` (the pair as written):
    ``take`` ``source`` (first's values) or ``target`` (second's), or ``values`` per field
    (in first's words); then sync that issue both ways."""
    check_names(first[0], second[0])
    backends = dict([first, second])
    a, b = sides_of(backends)
    check_pair(a, b)
    keys = {a.name: "a", b.name: "b"}
    side = keys[first[0]]
    state = state_for(backends, state_dir)
    assert state is not None
    try:
        pid = pair_id(a.name, b.name)
        rows = [row for row in state.conflicts(pid) if row[f"{side}_number"] == number]
        if not rows:
            raise NotFound(
                f"{first[0]} #{number} has no sync conflict with {second[0]}",
                hint=f"see them with: issue sync conflicts {first[0]}:{second[0]}",
            )
        fields = {row["field"] for row in rows}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise UsageError(
                f"{unknown[0]} is not in conflict on {first[0]} #{number} "
                f"(in conflict: {', '.join(sorted(fields))})"
            )
        choices: dict[str, Any] = {}
        for name in fields:
            if name in values:
                choices[name] = ("value", values[name], side)
            elif take is not None:
                choices[name] = side if take == "source" else {"a": "b", "b": "a"}[side]
        missing = sorted(fields - set(choices))
        if missing:
            raise UsageError(
                f"no value for {', '.join(missing)}",
                hint="add --take source|target, or FIELD=VALUE for each field in conflict",
            )
        link_id = rows[0]["link_id"]
        options = Options(
            write=frozenset({"a", "b"}),
            direction="resolve",
            dry_run=False,
            on_delete=settings.on_delete,
            bulk_threshold=settings.bulk_threshold,
            users=settings.users,
            choices={link_id: choices},
            only={link_id},
        )
        return Run(a, b, state, pid, options).execute()
    finally:
        state.close()


def link_issues(
    first: tuple[str, IssueBackend],
    second: tuple[str, IssueBackend],
    rows: list[tuple[str, Any, Any]],
    *,
    state_dir: Path,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Link issues of ``first`` (the rows' sources) to issues of ``second`` (their targets)
    that already exist on both sides (``mapping.import_map``): the next sync merges them."""
    from issue_core.service.sync.mapping import import_map

    check_names(first[0], second[0])
    backends = dict([first, second])
    a, b = sides_of(backends)
    keys = {a.name: "a", b.name: "b"}
    state = state_for(backends, state_dir)
    assert state is not None
    try:
        return import_map(
            state,
            pair_id(a.name, b.name),
            (first[0], keys[first[0]], first[1]),
            (second[0], keys[second[0]], second[1]),
            rows,
            dry_run=dry_run,
        )
    finally:
        state.close()
