"""Dependencies (``blocks``, ``parent``, ``related``) between synced issues, after their fields.

Each side's links are read through the backend (``list_links``: native or kept in the hidden
block, whichever the backend uses) for the issues this run touched and those still waiting,
then translated into link ids (issue numbers differ between sides), so an edge is
``(kind, source link id, target link id)``. The merge is three-way as a set against the base
the two last agreed on (``sync_deps``), as ``core.merge.merge_set`` merges labels: an edge
added on one side is added on the other, one removed on one side is removed on the other.

- An edge whose other end is not linked yet is **deferred**: its issue is kept in
  ``sync_dep_waiting`` and read again by every run, so the run that links the other end
  completes it (never dropped, never written twice: the base records what both hold).
- An edge the target refuses (a cycle, a second parent) is a conflict of the run, left out of
  the base, its issues kept in ``sync_dep_waiting`` too, so the next run weighs it again.
- A backend without ``Capability.DEPENDENCIES`` is said once, in the run's notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from issue_core.core.dependencies import Link as DepLink
from issue_core.core.errors import Conflict, NotFound, ValidationError
from issue_core.core.interfaces import Capability

if TYPE_CHECKING:
    from issue_core.service.sync.engine import Item, Run
    from issue_core.service.sync.state import Link

Edge = tuple[str, str, str]  # (kind, source link id, target link id)
OTHER = {"a": "b", "b": "a"}


def _edge(relation: str, me: str, other: str) -> Edge:
    """The edge ``relation`` (as ``list_links`` names it from ``me``) in link ids."""
    if relation == "blocks":
        return ("blocks", me, other)
    if relation == "blocked_by":
        return ("blocks", other, me)
    if relation == "children":
        return ("parent", me, other)
    if relation == "parent":
        return ("parent", other, me)
    low, high = sorted((me, other))
    return ("related", low, high)


def sync(run: Run, items: list[Item]) -> None:
    sides = run.sides
    lacking = [s.name for s in sides.values() if not s.backend.supports(Capability.DEPENDENCIES)]
    if lacking:
        run.report.note(
            f"{', '.join(lacking)} keeps no dependencies: blocks, parent and related links "
            "are not synced"
        )
        return
    live = {
        link.link_id: link for link in run.by_link.values() if not link.pending and not link.deleted
    }
    touched = {
        item.link.link_id
        for item in items
        if item.kind in ("linked", "create") and item.link.link_id in live
    }
    touched |= run.state.dep_waiting(run.pair_id) & set(live)
    if not touched:
        return
    numbers = {key: {link.number_on(key): link for link in live.values()} for key in ("a", "b")}
    current: dict[str, set[Edge]] = {}
    waiting: set[str] = set()
    for key, side in sides.items():
        edges: set[Edge] = set()
        for link_id in sorted(touched):
            number = live[link_id].number_on(key)
            if number is None:
                continue
            try:
                linked = side.backend.list_links(number)
            except NotFound:
                continue
            for other in linked:
                other_link = numbers[key].get(other.number)
                if other_link is None:
                    waiting.add(link_id)  # deferred until the other end is linked
                    continue
                edges.add(_edge(other.relation, link_id, other_link.link_id))
        current[key] = edges
    again: set[str] = set()  # the ends of refused edges: weighed again by the next run
    base = {e for e in run.state.dep_base(run.pair_id) if e[1] in touched or e[2] in touched}
    agreed = set(base)
    for target in sorted(run.options.write):
        origin = OTHER[target]
        added = current[origin] - base
        removed = base - current[origin]
        refused = _write(run, live, target, origin, added - current[target],
                         removed & current[target])  # fmt: skip
        agreed |= added - refused
        agreed -= removed
        again |= {end for edge in refused for end in edge[1:]}
    if waiting:
        run.report.note(
            f"{len(waiting)} issue(s) have dependencies on issues not synced yet: they are "
            "completed by the run that links those"
        )
    if not run.options.dry_run:
        with run.state.writing():
            run.state.save_dep_base(run.pair_id, touched, agreed)
            run.state.replace_dep_waiting(run.pair_id, waiting | again)


def _write(
    run: Run,
    live: dict[str, Link],
    target: str,
    origin: str,
    add: set[Edge],
    remove: set[Edge],
) -> set[Edge]:
    """Carry ``origin``'s additions and removals to ``target``; the edges it refused."""
    backend = run.sides[target].backend
    refused: set[Edge] = set()
    for action, edges in (("remove_dependency", remove), ("add_dependency", add)):
        for edge in sorted(edges):
            kind, source, dest = edge
            link = DepLink(kind, int(live[source].number_on(target) or 0),
                           int(live[dest].number_on(target) or 0))  # fmt: skip
            seen = DepLink(kind, int(live[source].number_on(origin) or 0),
                           int(live[dest].number_on(origin) or 0))  # fmt: skip
            if not run.options.dry_run:
                try:
                    run.applier.change_link(backend, link, add=action == "add_dependency")
                except NotFound:
                    if action == "add_dependency":
                        raise
                except (Conflict, ValidationError) as exc:
                    refused.add(edge)
                    numbers: dict[str, int | None] = {target: link.source, origin: seen.source}
                    values = {target: exc.one_line(), origin: seen.describe()}
                    run.report.conflict("dependency", numbers, values)
                    continue
            run.report.act(
                action,
                target,
                link.source,
                source=(origin, seen.source),
                detail=link.describe(),
            )
    return refused
