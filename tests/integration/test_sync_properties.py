"""A property of sync, on two local stores: random edits on both sides between random syncs
(some interrupted at a random write, as a crash would stop them; some one-way), then a final
sync. Afterwards the two sides hold the same issues and comments, each once; every field either
agrees and holds the last edit made to it anywhere, or is a reported conflict whose two values
are each side's own last edit (nothing silently overwritten); labels added anywhere survive;
both sides hold the same dependencies (`related` links added and removed on either side,
between issues the other side may not have yet), each added one there unless removed somewhere.

Edited values are always fresh, so no edit ever restores an earlier value (a three-way merge
cannot see an edit back to the base; that is its nature, not a loss)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issue_core.backends.local import LocalBackend
from issue_core.core.dependencies import Link
from issue_core.core.models import Issue, IssueFilter
from issue_core.service.sync import applier
from issue_core.service.sync.pairs import conflicts, sync
from issue_core.service.sync.settings import SyncSettings
from issue_core.service.sync.users import UserMap

SIDES = ("a", "b")
SETTINGS = SyncSettings(bulk_threshold=10_000, on_delete="report", users=UserMap())


class Crash(BaseException):
    """Stands for the process dying: nothing of sync catches it."""


side = st.sampled_from(SIDES)
index = st.integers(min_value=0, max_value=20)
edit = st.one_of(
    st.tuples(st.just("create"), side),
    st.tuples(st.sampled_from(["title", "description", "label", "comment"]), side, index),
    st.tuples(st.sampled_from(["relate", "unrelate"]), side, index, index),
)
sync_step = st.tuples(
    st.just("sync"),
    st.sampled_from(["bidirectional", "bidirectional", "pull", "push"]),
    st.one_of(st.none(), st.integers(min_value=1, max_value=6)),
)
steps = st.lists(st.one_of(edit, edit, sync_step), min_size=1, max_size=25)


class World:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stores = {}
        for name in SIDES:
            backend = LocalBackend()
            backend.connect({"path": str(folder / f"{name}.db"), "identity": name})
            self.stores[name] = backend
        self.counter = 0
        self.created: list[str] = []
        # (key, field) -> [(side, value)] in the order made; the creation value first
        self.log: dict[tuple[str, str], list[tuple[str, Any]]] = {}
        self.labels: dict[str, set[str]] = {}
        self.comments: dict[str, list[str]] = {}
        self.related: set[frozenset[str]] = set()  # related links added anywhere
        self.unrelated: set[frozenset[str]] = set()  # and those removed anywhere

    def fresh(self, what: str) -> str:
        self.counter += 1
        return f"{what}{self.counter}"

    def issues(self, name: str) -> dict[str, Issue]:
        found = self.stores[name].list_issues(IssueFilter(state="all", limit=None))
        return {str(i.sync_metadata["k"]): i for i in found}

    def apply(self, step: tuple[Any, ...]) -> None:
        kind, name = step[0], step[1]
        store = self.stores[name]
        if kind == "create":
            key = self.fresh("k")
            title = self.fresh("c")
            store.create_issue(Issue(title, sync_metadata={"k": key}))
            self.created.append(key)
            self.log[(key, "title")] = [(name, title)]
            self.log[(key, "description")] = [(name, "")]
            self.labels[key], self.comments[key] = set(), []
            return
        present = sorted(self.issues(name).items())
        if not present:
            return
        key, issue = present[step[2] % len(present)]
        if kind in ("relate", "unrelate"):
            other_key, other = present[step[3] % len(present)]
            assert issue.number is not None and other.number is not None
            if other_key == key:
                return
            link, ends = Link("related", issue.number, other.number), frozenset((key, other_key))
            if kind == "relate":
                store.add_link(link)
                self.related.add(ends)
            elif ends in related_of(store, self.issues(name)):
                store.remove_link(link)
                self.unrelated.add(ends)
            return
        if kind in ("title", "description"):
            value = self.fresh(kind[0])
            setattr(issue, kind, value)
            store.update_issue(issue)
            self.log[(key, kind)].append((name, value))
        elif kind == "label":
            label = self.fresh("l")
            issue.labels = [*issue.labels, label]
            store.update_issue(issue, create_labels=True)
            self.labels[key].add(label)
        else:
            text = self.fresh("note ")
            assert issue.number is not None
            store.add_comment(issue.number, text)
            self.comments[key].append(text)

    def sync(self, mode: str, crash_at: int | None) -> None:
        first, second = ("a", "b") if mode != "push" else ("b", "a")
        original = applier.FaultHook.before
        writes = {"n": 0}

        def before(hook: applier.FaultHook) -> None:
            writes["n"] += 1
            if writes["n"] == crash_at:
                raise Crash

        applier.FaultHook.before = before  # type: ignore[method-assign]
        try:
            sync(
                mode,
                (first, self.stores[first]),
                (second, self.stores[second]),
                settings=SETTINGS,
                state_dir=self.folder,
            )
        except Crash:
            pass
        finally:
            applier.FaultHook.before = original  # type: ignore[method-assign]

    def conflicts(self) -> set[tuple[int | None, str]]:
        rows = conflicts(dict(self.stores), self.folder)
        return {(row["a_number"], row["field"]) for row in rows}


def related_of(store: LocalBackend, issues: dict[str, Issue]) -> set[frozenset[str]]:
    """The store's related links, each as the keys of its two issues."""
    key_of = {issue.number: key for key, issue in issues.items()}
    return {
        frozenset((key, key_of[other.number]))
        for key, issue in issues.items()
        for other in store.list_links(issue.number or 0)
        if other.relation == "related"
    }


def texts(backend: LocalBackend, number: int) -> list[str]:
    return sorted(
        c.body.split("\n\n<!-- issue-core:sync-comment")[0] for c in backend.list_comments(number)
    )


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps)
def test_random_edits_and_interrupted_syncs_converge_losing_nothing(plan):
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        try:
            for step in plan:
                if step[0] == "sync":
                    world.sync(step[1], step[2])
                else:
                    world.apply(step)
            world.sync("bidirectional", None)
            world.sync("bidirectional", None)
            check(world)
        finally:
            for store in world.stores.values():
                store.close()


def check(world: World) -> None:
    a, b = world.issues("a"), world.issues("b")
    assert sorted(a) == sorted(b) == sorted(world.created)  # each issue once on each side
    in_conflict = world.conflicts()
    related = related_of(world.stores["a"], a)
    assert related == related_of(world.stores["b"], b)
    assert world.related - world.unrelated <= related <= world.related
    for key in world.created:
        left, right = a[key], b[key]
        for field in ("title", "description"):
            mine, theirs = getattr(left, field), getattr(right, field)
            edits = world.log[(key, field)]
            if (left.number, field) in in_conflict:
                assert mine != theirs
                assert mine == next(v for s, v in reversed(edits) if s == "a" or len(edits) == 1)
                assert theirs == next(v for s, v in reversed(edits) if s == "b" or len(edits) == 1)
            else:
                assert mine == theirs == edits[-1][1], (key, field, edits)
        assert sorted(left.labels) == sorted(right.labels)
        assert world.labels[key] <= set(left.labels)
        assert left.number is not None and right.number is not None
        assert texts(world.stores["a"], left.number) == texts(world.stores["b"], right.number)
        assert texts(world.stores["a"], left.number) == sorted(world.comments[key])
