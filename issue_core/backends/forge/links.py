"""Dependencies on a forge (``Capability.DEPENDENCIES``): one implementation for every forge,
over two stores.

- **Native**: the kinds of link the forge keeps itself (``_native_kinds``: Gitea's and GitHub's
  issue dependencies for ``blocks``, GitHub's sub-issues for ``parent``, GitLab's issue links
  for ``related`` and, on a paid tier, ``blocks``), written and read through the forge's wire
  hooks (``_native_links``, ``_add_native``, ``_remove_native``).
- **The hidden block**: every other kind lives in both issues' hidden body block under
  ``issue-core:links`` (``forge.body``), each end holding the link as seen from it
  (``{"children": [7]}`` on the parent, ``{"parent": [3]}`` on the child), so either end lists
  it without a search, and a link survives wherever the body goes.

The rules (no self-link, no cycle, one parent) are ``core.dependencies``'; they are checked
right before the write against the links as the forge holds them then. Forges have no
transaction: a second writer adding a link at the same moment can still close a cycle the
check did not see (documented in ``docs/dependencies.md``). When the second of a block link's
two writes fails, the first is undone, so no issue keeps half a link.

Requests (``docs/dependencies.md`` has the table): ``list_links`` reads the issue, one listing
per native relation and one issue per block-kept link; ``list_ready`` reads the open issues once
and asks the forge per candidate only for native blockers it cannot tell from the listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from issue_core.backends.forge.body import LINKS_KEY, split_body, with_reserved
from issue_core.core.dependencies import (
    RELATIONS,
    Link,
    LinkedIssue,
    LinkKind,
    check_new_link,
    ready_order,
    without_limit,
)
from issue_core.core.errors import IssueCoreError, NotFound
from issue_core.core.models import Issue, IssueFilter

# Relations as seen from either end (``blocked_by`` seen from the blocker's other end ...).
_SOURCE_SIDE = {kind: pair[0] for kind, pair in RELATIONS.items()}
_TARGET_SIDE = {kind: pair[1] for kind, pair in RELATIONS.items()}
_KIND_OF = {name: kind for kind, pair in RELATIONS.items() for name in pair}


def block_links(body: str | None) -> dict[str, list[int]]:
    """The block-kept links of an issue, from its body: relation -> numbers (garbage dropped:
    the block may have been edited by hand)."""
    _, data, _ = split_body(body)
    stored = data.get(LINKS_KEY)
    found: dict[str, list[int]] = {}
    if not isinstance(stored, Mapping):
        return found
    for relation, numbers in stored.items():
        if relation not in _KIND_OF or not isinstance(numbers, list):
            continue
        clean = sorted({n for n in numbers if isinstance(n, int) and not isinstance(n, bool)})
        if clean:
            found[relation] = clean
    return found


def changed_links(body: str | None, relation: str, number: int, *, present: bool) -> str | None:
    """``body`` with ``number`` added to (``present``) or removed from ``relation`` in its
    block; None when that changes nothing."""
    links = block_links(body)
    numbers = set(links.get(relation, []))
    if (number in numbers) == present:
        return None
    numbers = numbers | {number} if present else numbers - {number}
    if numbers:
        links[relation] = sorted(numbers)
    else:
        links.pop(relation, None)
    return with_reserved(body, LINKS_KEY, dict(sorted(links.items())) or None)


class NativeRefused(Exception):
    """Raised by ``_add_native`` when the forge refuses that kind of link here (GitLab's
    ``blocks`` on the Free tier): the link goes into the hidden block instead."""


class ForgeLinks:
    """The ``DEPENDENCIES`` methods of ``ForgeBackend`` (a mixin: it uses the backend's issue
    reads, ``_get_raw_issue`` and ``_to_issue``, and the wire hooks below)."""

    #: The link kinds the forge keeps natively; the others live in the hidden block.
    native_link_kinds: ClassVar[frozenset[LinkKind]] = frozenset()
    #: Native kinds the forge may refuse (``NativeRefused``): read from both places.
    mixed_link_kinds: ClassVar[frozenset[LinkKind]] = frozenset()
    #: The wire key of an issue's body ("body"; GitLab "description").
    body_key: ClassVar[str] = "body"
    # The backend's state (``ForgeBackend.__init__``): issues read moments ago, and what the
    # block of every issue mapped so far holds.
    _recent: dict[int, tuple[float, dict[str, Any]]]
    _block_seen: dict[int, dict[str, list[int]]]
    _open_blockers_seen: dict[int, int | None]

    # -- wire hooks (the forge's backend.py) ------------------------------------------------

    def _native_kinds(self) -> frozenset[LinkKind]:
        """The kinds kept natively on this server (GitLab: ``blocks`` on a paid tier only)."""
        return self.native_link_kinds

    def _native_links(
        self, number: int, relations: Iterable[str], *, everywhere: bool = False
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """The native links of issue ``number`` in ``relations`` (names of
        ``RELATION_NAMES``), each as ``(relation, the other issue's wire form)``, every page
        read; issues of other repositories are left out (they have no number here) unless
        ``everywhere`` (the ready queue: a blocker elsewhere still blocks)."""
        raise NotImplementedError

    def _add_native(self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def _remove_native(
        self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]
    ) -> None:
        raise NotImplementedError

    def _open_blockers_of(self, raw: Mapping[str, Any]) -> int | None:
        """How many open issues block the issue, when its wire form says (GitHub's
        ``issue_dependencies_summary``); None: ``list_ready`` asks ``_native_links``."""
        return None

    def _write_body(self, number: int, raw: Mapping[str, Any], body: str) -> None:
        """Replace the body of issue ``number`` (read as ``raw``) with ``body``, nothing else."""
        raise NotImplementedError

    # The backend's own reads (``ForgeBackend``).
    def _get_raw_issue(self, number: int, *, reuse: bool = False) -> dict[str, Any]:
        raise NotImplementedError

    def _to_issue(self, raw: Mapping[str, Any]) -> Issue:
        raise NotImplementedError

    def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
        raise NotImplementedError

    # -- reading ------------------------------------------------------------------------------

    def _note_block_links(self, number: int, raw: Mapping[str, Any]) -> None:
        """Called for every issue the backend maps: what its block says, kept for
        ``list_ready`` (a listing already read every candidate's body)."""
        self._block_seen[number] = block_links(raw.get(self.body_key))
        self._open_blockers_seen[number] = self._open_blockers_of(raw)

    def _in_block(self, kind: LinkKind) -> bool:
        """Whether links of ``kind`` may be in the hidden block: every kind the forge does
        not keep natively, and those it may refuse natively (``mixed_link_kinds``)."""
        return kind not in self._native_kinds() or kind in self.mixed_link_kinds

    def _related_numbers(
        self, number: int, relation: str, raw: Mapping[str, Any] | None = None
    ) -> list[int]:
        """The issues ``number`` has in ``relation`` (natively and in its block; ``raw``: the
        issue as just read, else its block is read only when it may hold that kind)."""
        kind = _KIND_OF[relation]
        found: set[int] = set()
        if kind in self._native_kinds():
            for _, other in self._native_links(number, [relation]):
                found.add(int(self._to_issue(other).number or 0))
        if self._in_block(kind):
            # Read now (or moments ago), never from an older listing: the cycle check walks it.
            if raw is None:
                raw = self._get_raw_issue(number, reuse=True)
            block = block_links(raw.get(self.body_key))
            found.update(block.get(relation, []))
        return sorted(found)

    def list_links(self, number: int) -> list[LinkedIssue]:
        raw = self._get_raw_issue(number, reuse=True)
        native = self._native_kinds()
        relations = [name for name in _KIND_OF if _KIND_OF[name] in native]
        found: dict[tuple[str, int], LinkedIssue] = {}
        if relations:
            for relation, other_raw in self._native_links(number, relations):
                other = self._to_issue(other_raw)
                key = (relation, int(other.number or 0))
                found[key] = LinkedIssue(relation, key[1], other.title, other.state.value)
        for relation, numbers in block_links(raw.get(self.body_key)).items():
            if not self._in_block(_KIND_OF[relation]):
                continue  # the forge keeps that kind itself: its answer is the truth
            for other_number in numbers:
                if (relation, other_number) in found:
                    continue
                try:
                    other = self._to_issue(self._get_raw_issue(other_number, reuse=True))
                except NotFound:
                    continue  # deleted since: a link to nothing is no link
                found[(relation, other_number)] = LinkedIssue(
                    relation, other_number, other.title, other.state.value
                )
        return sorted(found.values(), key=lambda link: (link.number, link.relation))

    # -- writing ------------------------------------------------------------------------------

    def _both_ends(self, link: Link) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            self._get_raw_issue(link.source, reuse=True),
            self._get_raw_issue(link.target, reuse=True),
        )

    def _check(self, link: Link, source: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        """``check_new_link`` over the links as the forge holds them now."""
        forward = _SOURCE_SIDE[link.kind]

        def successors(number: int) -> list[int]:
            try:
                return self._related_numbers(
                    number, forward, source if number == link.source else None
                )
            except NotFound:
                return []  # an issue deleted since: it leads nowhere

        def parent_of(number: int) -> int | None:
            parents = self._related_numbers(number, "parent", target)
            return parents[0] if parents else None

        check_new_link(link, successors, parent_of)

    def add_link(self, link: Link) -> bool:
        source, target = self._both_ends(link)
        if link.target in self._related_numbers(link.source, _SOURCE_SIDE[link.kind], source):
            return False
        self._check(link, source, target)
        try:
            if link.kind not in self._native_kinds():
                raise NativeRefused
            self._add_native(link, source, target)
        except NativeRefused:
            self._write_block_link(link, source, target, present=True)
        self._forget_reads(link)
        return True

    def remove_link(self, link: Link) -> None:
        source, target = self._both_ends(link)
        relation = _SOURCE_SIDE[link.kind]
        if link.target not in self._related_numbers(link.source, relation, source):
            raise NotFound(f"no such dependency: {link.describe()}")
        in_block = link.target in block_links(source.get(self.body_key)).get(relation, [])
        if in_block and self._in_block(link.kind):
            self._write_block_link(link, source, target, present=False)
        else:
            self._remove_native(link, source, target)
        self._forget_reads(link)

    def _forget_reads(self, link: Link) -> None:
        for number in (link.source, link.target):
            self._recent.pop(number, None)
            self._block_seen.pop(number, None)
            self._open_blockers_seen.pop(number, None)

    def _write_block_link(
        self,
        link: Link,
        source: Mapping[str, Any],
        target: Mapping[str, Any],
        *,
        present: bool,
    ) -> None:
        """Write the link into (or out of) both ends' blocks; undo the first end's write when
        the second fails, so neither keeps half a link."""
        ends = (
            (link.source, source, _SOURCE_SIDE[link.kind], link.target),
            (link.target, target, _TARGET_SIDE[link.kind], link.source),
        )
        written: list[tuple[int, Mapping[str, Any], str, int]] = []
        for number, raw, relation, other in ends:
            body = changed_links(raw.get(self.body_key), relation, other, present=present)
            if body is None:
                continue
            try:
                self._write_body(number, raw, body)
            except IssueCoreError:
                for done, done_raw, done_relation, done_other in written:
                    self._undo_block_write(done, done_raw, done_relation, done_other, present)
                raise
            written.append((number, raw, relation, other))

    def _undo_block_write(
        self, number: int, raw: Mapping[str, Any], relation: str, other: int, present: bool
    ) -> None:
        try:
            now = self._get_raw_issue(number)
            body = changed_links(now.get(self.body_key), relation, other, present=not present)
            if body is not None:
                self._write_body(number, now, body)
        except IssueCoreError:
            pass  # the error being raised says the write failed; nothing more can be done

    # -- the ready queue ----------------------------------------------------------------------

    def list_ready(self, filter: IssueFilter) -> list[Issue]:
        """The open issues ``filter`` selects, none of whose blockers is open, by priority
        then age: one listing of the candidates and one of every unclosed issue (the blockers
        that are still open), then, for native ``blocks`` only, one question per candidate in
        queue order until ``filter.limit`` are found (none when the listing told already)."""
        limit = filter.limit
        candidates = sorted(self.list_issues(without_limit(filter)), key=ready_order)
        native = LinkKind.BLOCKS in self._native_kinds()
        in_block = self._in_block(LinkKind.BLOCKS)
        unclosed: set[int] | None = None
        ready: list[Issue] = []
        for issue in candidates:
            number = int(issue.number or 0)
            blocked = False
            if in_block:
                blockers = self._block_seen_of(number).get("blocked_by", [])
                if blockers and unclosed is None:
                    everything = IssueFilter(state="open,in_progress", limit=None)
                    unclosed = {int(i.number or 0) for i in self.list_issues(everything)}
                blocked = any(n in (unclosed or set()) for n in blockers)
            if native and not blocked:
                blocked = self._natively_blocked(number)
            if not blocked:
                ready.append(issue)
                if limit is not None and len(ready) >= limit:
                    break
        return ready

    def _block_seen_of(self, number: int) -> dict[str, list[int]]:
        if number not in self._block_seen:
            self._note_block_links(number, self._get_raw_issue(number, reuse=True))
        return self._block_seen.get(number, {})

    def _natively_blocked(self, number: int) -> bool:
        known = self._open_blockers_seen.get(number)
        if known is not None:
            return known > 0
        blockers = self._native_links(number, ["blocked_by"], everywhere=True)
        # The wire state, not a mapped issue: a blocker of another repository has a number of
        # its own there, which must not be noted as one of this repository's.
        return any(other.get("state") != "closed" for _, other in blockers)
