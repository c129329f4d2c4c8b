"""One sync run over a pair: read, recover, match, plan, guard, apply, advance.

1. Each side's change feed is read from the pair's cursor (``feeds``).
2. **Recovery**: a link still pending from a crashed run (a create sent, its result never
   recorded) is completed when the other side's feed shows an issue carrying its link id;
   otherwise the create is made again under the same id. A copy whose link was lost (the state
   moved aside) is linked to the original it names.
3. **Matching** before creating: an unlinked issue whose ``marker`` matches an unlinked one on
   the other side is linked to it, not copied (first sync, or an explicit mapping import).
4. **Planning**: each changed linked issue through ``planner`` (three-way, field by field);
   each unlinked one becomes a create on the other side if this run writes there.
5. The **bulk guard**: more issues to create, close or change on one side than the threshold
   asks ``confirm`` (the CLI: a prompt on a terminal, ``--yes`` elsewhere) or stops.
6. **Applying** (``applier``), issue by issue, then its comments (``comment_step``); then the
   dependencies between the issues touched (``dep_step``).
7. The cursors advance only when every item succeeded, so a run stopped by a failure (a rate
   limit waited out too long, a server down) is resumed, not lost, by the next one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from issue_core.core.errors import (
    BackendUnavailable,
    Conflict,
    IssueCoreError,
    Unsupported,
    UsageError,
)
from issue_core.core.interfaces import Capability
from issue_core.core.models import Issue, IssueState
from issue_core.service.sync import comment_step, dep_step
from issue_core.service.sync.applier import Applier
from issue_core.service.sync.feeds import Side
from issue_core.service.sync.fields import (
    apply_snapshot,
    carried_link,
    new_issue,
    snapshot,
)
from issue_core.service.sync.planner import FieldPlan, plan_fields
from issue_core.service.sync.report import Report
from issue_core.service.sync.state import Link, SyncState
from issue_core.service.sync.users import UserMap

OTHER = {"a": "b", "b": "a"}
DEFAULT_BULK_THRESHOLD = 50
# Intents whose write is idempotent: after a crash the next plan redoes them from fresh reads.
REPLANNED = frozenset({"update", "edit_comment"})


class Options:
    """How a run behaves (the CLI's flags and the ``[sync]`` configuration)."""

    def __init__(
        self,
        *,
        write: frozenset[str],
        direction: str,
        source: str | None = None,
        force: str | None = None,
        dry_run: bool = False,
        on_delete: str = "report",
        bulk_threshold: int = DEFAULT_BULK_THRESHOLD,
        users: UserMap | None = None,
        confirm: Callable[[str], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
        choices: dict[str, dict[str, Any]] | None = None,
        only: set[str] | None = None,
    ) -> None:
        self.write = write
        self.direction = direction
        self.source = source
        self.force = force
        self.dry_run = dry_run
        self.on_delete = on_delete
        self.bulk_threshold = bulk_threshold
        self.users = users or UserMap()
        self.confirm = confirm
        self.progress = progress
        self.choices = choices or {}  # link id -> field -> choice (``issue sync resolve``)
        self.only = only  # link ids: a resolution runs just these


class Item:
    """One issue's work in this run."""

    __slots__ = ("comment_conflicts", "current", "kind", "link", "origin", "plan")

    def __init__(self, kind: str, link: Link, origin: str | None = None) -> None:
        self.kind = kind  # "create" (origin -> other side), "linked", "deleted"
        self.link = link
        self.origin = origin
        self.current: dict[str, Issue | None] = {}
        self.plan: FieldPlan | None = None
        self.comment_conflicts: dict[str, tuple[Any, Any]] = {}


class Run:
    def __init__(self, a: Side, b: Side, state: SyncState, pair_id: str, options: Options):
        self.sides = {"a": a, "b": b}
        self.state = state
        self.pair_id = pair_id
        self.options = options
        names = {"a": a.name, "b": b.name}
        self.report = Report(names, options.direction, options.source, options.dry_run)
        self.applier = Applier(state, pair_id)
        self.links = state.links(pair_id)
        self.by_id: dict[str, dict[str, Link]] = {"a": {}, "b": {}}
        self.by_link: dict[str, Link] = {}
        for link in self.links:
            self._index(link)

    def _index(self, link: Link) -> None:
        self.by_link[link.link_id] = link
        for side in ("a", "b"):
            if link.id_of(side) is not None:
                self.by_id[side][str(link.id_of(side))] = link

    # -- translation between the sides' vocabularies ------------------------------------

    def translate(self, field: str, value: Any, to_side: str) -> Any:
        if field != "assignees":
            return value
        source, target = self.sides[OTHER[to_side]].name, self.sides[to_side].name
        return self.options.users.translate_all(value, source, target)

    # -- the run ------------------------------------------------------------------------

    def execute(self) -> Report:
        for side in self.sides.values():
            side.read_feed(self.state.cursor(self.pair_id, side.key))
            side.read_comment_feed(self.state.cursor(self.pair_id, f"{side.key}.comments"))
            if OTHER[side.key] in self.options.write:
                side.read_again(self.state.pending(self.pair_id, side.key))
        items = self._items()
        self._drop_replanned_intents()
        for item in items:
            self._plan(item)
        self._guard(items)
        failed = False
        total = len(items)
        for done, item in enumerate(items, start=1):
            try:
                self._apply(item)
            except BackendUnavailable as exc:
                # Rate limits are waited on below us; what still fails stops the run here,
                # with everything done so far recorded: the next run resumes.
                self.report.failure = exc
                self.report.note(f"stopped: {exc.one_line()}; run the sync again to resume")
                failed = True
                break
            except IssueCoreError as exc:
                failed = True
                where = self._failed_side(item)
                self.report.act(
                    "failed",
                    where,
                    item.link.number_on(where),
                    source=self._source_of(item),
                    detail=exc.one_line(),
                )
                if self.report.failure is None:
                    self.report.failure = exc
            if self.options.progress is not None:
                self.options.progress(done, total)
        if not failed and self.options.only is None:
            try:
                dep_step.sync(self, items)
            except BackendUnavailable as exc:
                self.report.failure = exc
                self.report.note(f"stopped: {exc.one_line()}; run the sync again to resume")
                failed = True
            except IssueCoreError as exc:
                self.report.note(f"dependencies: {exc.one_line()}")
                self.report.failure = exc
                failed = True
        if not self.options.dry_run:
            with self.state.writing():
                if not failed and self.options.only is None:
                    self._record_pending()
                    for side in self.sides.values():
                        self.state.save_cursor(self.pair_id, side.key, side.cursor_after)
                        self.state.save_cursor(
                            self.pair_id, f"{side.key}.comments", side.comment_cursor_after
                        )
                self.state.record_run(
                    self.pair_id, self.sides["a"].name, self.sides["b"].name, self._summary()
                )
        return self.report

    def _record_pending(self) -> None:
        """A side this run could not carry over (the target of a pull or push): its new
        issues and its own edits are kept for the next run that writes the other way, since
        its cursor moves past them now. A run that did write the other way clears them."""
        for key, side in self.sides.items():
            if OTHER[key] in self.options.write:
                self.state.clear_pending(self.pair_id, key)
                continue
            waiting = []
            for issue_id, issue in side.feed.items():
                link = self.by_id[key].get(issue_id)
                if link is None:
                    if carried_link(issue, self.pair_id) is None:
                        waiting.append((issue_id, issue.number))
                elif not link.deleted and snapshot(issue) != link.base_on(key):
                    waiting.append((issue_id, issue.number))
            waiting += [(issue_id, number) for issue_id, number in side.gone.items()]
            waiting += [
                (issue_id, issue.number if issue else None)
                for issue_id in side.commented
                for issue in [side.feed.get(issue_id)]
            ]
            if waiting:
                self.state.add_pending(self.pair_id, key, waiting)

    def _drop_replanned_intents(self) -> None:
        """An interrupted update or comment edit sets values: this run's plan (made from
        both sides as they are now) replaces it, so its intent has done its work."""
        if self.options.dry_run:
            return
        stale = [i for i in self.state.intents(self.pair_id) if i["action"] in REPLANNED]
        if stale:
            with self.state.writing():
                for intent in stale:
                    self.state.forget_intent(intent["id"])

    def _summary(self) -> dict[str, Any]:
        return {
            "direction": self.options.direction,
            "source": self.options.source,
            **self.report.summary(),
        }

    def _failed_side(self, item: Item) -> str:
        if item.kind == "create" and item.origin is not None:
            return OTHER[item.origin]
        return "b" if "b" in self.options.write else "a"

    def _source_of(self, item: Item) -> tuple[str, int | None] | None:
        if item.origin is None:
            return None
        return item.origin, item.link.number_on(item.origin)

    # -- what to do -----------------------------------------------------------------------

    def _items(self) -> list[Item]:
        items: dict[str, Item] = {}
        self._recover(items)
        unlinked: dict[str, list[Issue]] = {"a": [], "b": []}
        for key, side in self.sides.items():
            for issue_id, issue in side.feed.items():
                link = self.by_id[key].get(issue_id)
                if link is not None:
                    if not link.deleted and not link.pending and link.link_id not in items:
                        items[link.link_id] = Item("linked", link)
                elif carried_link(issue, self.pair_id) is None:
                    unlinked[key].append(issue)
            for issue_id in side.gone:
                link = self.by_id[key].get(issue_id)
                if link is not None and not link.deleted:
                    item = Item("deleted", link, origin=key)
                    items[link.link_id] = item
        # Open conflicts are weighed again every run (still reported, or settled by an edit),
        # and an issue whose write was interrupted is looked at again whatever the feeds say.
        again = [row["link_id"] for row in self.state.conflicts(self.pair_id)]
        again += [intent["link_id"] for intent in self.state.intents(self.pair_id)]
        # and an issue whose comments changed (the comment feeds), though its fields did not
        for key, side in self.sides.items():
            again += [
                self.by_id[key][issue_id].link_id
                for issue_id in sorted(side.commented)
                if issue_id in self.by_id[key]
            ]
        for link_id in again:
            link = self.by_link.get(link_id)
            if link is not None and not link.deleted and not link.pending:
                items.setdefault(link_id, Item("linked", link))
        self._match(unlinked, items)
        for key in ("a", "b"):
            if OTHER[key] not in self.options.write:
                continue
            for issue in sorted(unlinked[key], key=lambda i: i.number or 0):
                link = Link(uuid.uuid4().hex)
                link.place(key, str(issue.id), issue.number)
                item = Item("create", link, origin=key)
                item.current[key] = issue
                items[link.link_id] = item
        chosen = list(items.values())
        if self.options.only is not None:
            chosen = [item for item in chosen if item.link.link_id in self.options.only]
            for link_id in self.options.only:
                if link_id not in items and link_id in self.by_link:
                    chosen.append(Item("linked", self.by_link[link_id]))
        return chosen

    def _recover(self, items: dict[str, Item]) -> None:
        """Pending links: complete those whose copy exists, redo the others' creates; link a
        copy whose link was lost to the original it names."""
        copies: dict[str, dict[str, Issue]] = {"a": {}, "b": {}}
        for key, side in self.sides.items():
            for issue in side.feed.values():
                carried = carried_link(issue, self.pair_id)
                if carried is not None:
                    copies[key][carried[0]] = issue
        for link in list(self.links):
            if not link.pending or link.deleted:
                continue
            origin = "a" if link.a_id is not None else "b"
            target = OTHER[origin]
            found = copies[target].pop(link.link_id, None)
            if found is not None:
                self._complete(link, target, found)
                self.report.act(
                    "recover",
                    target,
                    found.number,
                    source=(origin, link.number_on(origin)),
                    title=found.title,
                    detail="a create interrupted earlier was found by its link id",
                )
                items[link.link_id] = Item("linked", link)
            elif target in self.options.write:
                item = Item("create", link, origin=origin)
                items[link.link_id] = item
        for key in ("a", "b"):
            for link_id, issue in copies[key].items():
                if link_id in self.by_link or str(issue.id) in self.by_id[key]:
                    continue
                origin_id = str((carried_link(issue, self.pair_id) or ("", ""))[1])
                if not origin_id or origin_id in self.by_id[OTHER[key]]:
                    continue
                link = Link(link_id)
                link.place(key, str(issue.id), issue.number)
                link.place(OTHER[key], origin_id, None)
                if not self.options.dry_run:
                    with self.state.writing():
                        self.state.save_link(self.pair_id, link)
                self._index(link)
                self.report.act(
                    "link",
                    key,
                    issue.number,
                    title=issue.title,
                    detail="a copy whose link was lost, linked to its original",
                )
                items[link_id] = Item("linked", link)

    def _complete(self, link: Link, side: str, issue: Issue) -> None:
        link.place(side, str(issue.id), issue.number)
        link.set_base(side, snapshot(issue))
        if not self.options.dry_run:
            with self.state.writing():
                self.state.save_link(self.pair_id, link)
                for intent in self.state.intents(self.pair_id):
                    if intent["link_id"] == link.link_id and intent["action"] == "create":
                        self.state.forget_intent(intent["id"])
        self._index(link)

    def _match(self, unlinked: dict[str, list[Issue]], items: dict[str, Item]) -> None:
        """Link unlinked issues that carry the same ``marker`` instead of copying them."""
        by_marker = {
            str(issue.sync_metadata["marker"]): issue
            for issue in unlinked["b"]
            if isinstance(issue.sync_metadata.get("marker"), str)
        }
        for issue in list(unlinked["a"]):
            marker = issue.sync_metadata.get("marker")
            if not isinstance(marker, str):
                continue
            twin = by_marker.pop(marker, None)
            if twin is None and self.sides["b"].cursor_before is not None:
                twin = self.sides["b"].backend.find_issue_by_marker(marker)
                if twin is not None and str(twin.id) in self.by_id["b"]:
                    twin = None
            if twin is None:
                continue
            unlinked["a"].remove(issue)
            if twin in unlinked["b"]:
                unlinked["b"].remove(twin)
            link = Link(
                uuid.uuid4().hex,
                a_id=str(issue.id),
                a_number=issue.number,
                b_id=str(twin.id),
                b_number=twin.number,
            )
            if not self.options.dry_run:
                with self.state.writing():
                    self.state.save_link(self.pair_id, link)
            self._index(link)
            self.report.act(
                "link",
                "b",
                twin.number,
                source=("a", issue.number),
                title=issue.title,
                detail=f"matched by marker {marker}",
            )
            item = Item("linked", link)
            item.current = {"a": issue, "b": twin}
            items[link.link_id] = item

    def _plan(self, item: Item) -> None:
        link = item.link
        if item.kind == "create":
            assert item.origin is not None
            if item.origin not in item.current:
                item.current[item.origin] = self.sides[item.origin].current(link)
            if item.current[item.origin] is None:
                item.kind = "gone"  # the original vanished before its copy was made
            return
        for key, side in self.sides.items():
            if key not in item.current:
                item.current[key] = (
                    None if item.kind == "deleted" and key == item.origin else side.current(link)
                )
        missing = [key for key in ("a", "b") if item.current[key] is None]
        if missing:
            item.kind = "deleted"
            item.origin = missing[0]
            return
        a, b = item.current["a"], item.current["b"]
        assert a is not None and b is not None
        choices = self.options.choices.get(link.link_id)
        item.plan = plan_fields(
            snapshot(a),
            snapshot(b),
            link.base_a,
            link.base_b,
            write=self.options.write,
            force=self.options.force,
            choices=choices,
            translate=self.translate,
        )

    def _guard(self, items: list[Item]) -> None:
        counts = {"a": 0, "b": 0}
        for item in items:
            if item.kind == "create" and item.origin is not None:
                counts[OTHER[item.origin]] += 1
            elif item.plan is not None:
                for key in ("a", "b"):
                    counts[key] += bool(item.plan.values[key])
        over = {k: n for k, n in counts.items() if n > self.options.bulk_threshold}
        if not over or self.options.dry_run:
            return
        what = ", ".join(f"{n} issues on {self.sides[k].name}" for k, n in over.items())
        question = (
            f"this sync would create or change {what} (more than {self.options.bulk_threshold})"
        )
        if self.options.confirm is None or not self.options.confirm(question):
            raise UsageError(
                f"{question}; nothing was written",
                hint="check the plan with --dry-run, then pass --yes (or raise "
                "[sync] bulk_threshold)",
            )

    # -- doing it -------------------------------------------------------------------------

    def _apply(self, item: Item) -> None:
        if item.kind == "create":
            self._create(item)
        elif item.kind == "linked":
            self._update(item)
        elif item.kind == "deleted":
            self._deleted(item)
        if item.kind in ("create", "linked") and not item.link.pending:
            comment_step.sync(self, item)
        if item.plan is not None or item.kind == "linked":
            self._record_conflicts(item)

    def _create(self, item: Item) -> None:
        origin = item.origin
        assert origin is not None
        target = OTHER[origin]
        link = item.link
        source = item.current[origin]
        assert source is not None
        values = snapshot(source)
        values["assignees"] = self.translate("assignees", values["assignees"], target)
        side = self.sides[target]
        if self.options.dry_run:
            self.report.act(
                "create", target, None, source=(origin, source.number), title=source.title
            )
            comment_step.plan_copies(self, item)
            return
        with self.state.writing():
            link.set_base(origin, snapshot(source))
            self.state.save_link(self.pair_id, link)  # pending: the other id is still NULL
            self.state.record_intent(
                link.link_id,
                self.pair_id,
                link.link_id,
                target,
                "create",
                {"origin": str(source.id)},
            )
        created = self.applier.create_issue(
            side.backend, new_issue(values, self.pair_id, link.link_id, str(source.id))
        )
        self.report.act(
            "create", target, created.number, source=(origin, source.number), title=source.title
        )
        with self.state.writing():
            link.place(target, str(created.id), created.number)
            link.set_base(target, snapshot(created))
            self.state.save_link(self.pair_id, link)
            self.state.forget_intent(link.link_id)
        self._index(link)
        item.current[target] = created

    def _update(self, item: Item) -> None:
        plan, link = item.plan, item.link
        assert plan is not None
        after: dict[str, Issue] = {}
        for key in ("a", "b"):
            issue = item.current[key]
            assert issue is not None
            values = plan.values[key]
            if not values:
                after[key] = issue
                continue
            other = item.current[OTHER[key]]
            action = self._action_for(issue, values)

            def tell(number: int | None) -> None:
                self.report.act(
                    action,  # noqa: B023 - called within this iteration
                    key,  # noqa: B023
                    number,
                    source=(OTHER[key], other.number if other else None),  # noqa: B023
                    # the title as it will read (a dry run tells before writing)
                    title=values.get("title", issue.title),  # noqa: B023
                    fields=list(values),  # noqa: B023
                )

            if self.options.dry_run:
                tell(issue.number)
                after[key] = issue
                continue
            intent = uuid.uuid4().hex
            self.applier.intend(intent, link.link_id, key, "update", sorted(values))
            apply_snapshot(issue, values)
            try:
                after[key] = self.applier.update_issue(self.sides[key].backend, issue)
            except Conflict as exc:
                # Edited on that side while this run was writing: the next run sees it.
                self.report.note(f"{self.sides[key].name} #{issue.number}: {exc.one_line()}")
                raise
            finally:
                with self.state.writing():
                    self.state.forget_intent(intent)
            link.place(key, str(after[key].id), after[key].number)
            tell(after[key].number)
        if self.options.dry_run:
            return
        with self.state.writing():
            link.base_a = plan.new_base("a", snapshot(after["a"]), link.base_a)
            link.base_b = plan.new_base("b", snapshot(after["b"]), link.base_b)
            self.state.save_link(self.pair_id, link)
        item.current = dict(after)

    @staticmethod
    def _action_for(issue: Issue, values: dict[str, Any]) -> str:
        state = values.get("state")
        if state == IssueState.CLOSED.value and not issue.is_closed:
            return "close"
        if state is not None and state != IssueState.CLOSED.value and issue.is_closed:
            return "reopen"
        return "update"

    def _deleted(self, item: Item) -> None:
        link, gone = item.link, item.origin
        assert gone is not None
        other = OTHER[gone]
        survivor = item.current.get(other)
        self.report.act(
            "deleted",
            gone,
            link.number_on(gone),
            detail=f"{self.sides[other].name} #{link.number_on(other)} "
            + ("closed" if self._closes(survivor, other) else "left as it is"),
        )
        if self.options.dry_run:
            return
        if survivor is not None and self._closes(survivor, other):
            self.report.act(
                "close",
                other,
                survivor.number,
                source=(gone, link.number_on(gone)),
                title=survivor.title,
                fields=["state"],
            )
            survivor.state = IssueState.CLOSED
            survivor.close_reason = "not_planned"
            self.applier.update_issue(self.sides[other].backend, survivor)
        with self.state.writing():
            link.deleted = gone
            self.state.save_link(self.pair_id, link)

    def _closes(self, survivor: Issue | None, side: str) -> bool:
        return (
            self.options.on_delete == "close"
            and survivor is not None
            and not survivor.is_closed
            and side in self.options.write
        )

    def _record_conflicts(self, item: Item) -> None:
        conflicts = dict(item.plan.conflicts) if item.plan is not None else {}
        conflicts.update(comment_step.conflicts_of(item))
        numbers = {key: item.link.number_on(key) for key in ("a", "b")}
        for name, (a_value, b_value) in sorted(conflicts.items()):
            self.report.conflict(name, numbers, {"a": a_value, "b": b_value})
        if not self.options.dry_run:
            with self.state.writing():
                self.state.replace_conflicts(self.pair_id, item.link.link_id, conflicts)


def check_pair(a: Side, b: Side) -> None:
    """Both sides must have change feeds; a missing optional part is said once."""
    for side in (a, b):
        if not side.backend.supports(Capability.CHANGE_FEED):
            raise Unsupported(
                f"backend {side.name!r} ({side.backend.type_name}) has no change feed, which "
                "sync needs; nothing was synced",
                hint="sync works between backends that support change_feed",
            )
