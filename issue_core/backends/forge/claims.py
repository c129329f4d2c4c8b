"""Claims with leases on a forge: the one protocol for Gitea, GitHub and GitLab.

A forge has no compare-and-set, so a claim is written, then checked (``forge.leases`` says how
markers are replayed, and AGENT_INTEGRATION.md what that guarantees):

1. read the issue (missing: exit 3; closed: exit 4) and its claim markers; a live lease of
   another agent, at the server's time, is refused right away (exit 10, nothing written);
2. post a ``claim`` marker (a comment: agent, TTL, a random lease id);
3. re-read the markers and replay them in the server's comment-id order: the earliest live
   claim wins; a loser deletes its marker and gets ``ClaimConflict`` naming holder and expiry;
4. the winner makes the claim visible: ``in_progress`` and the token's user assigned (a forge
   assigns only its own users; the agent is named in the marker and in ``Claim.holder``).

Where the forge can make the issue's body a compare-and-set (Gitea: ``content_version``, a
conditional ``UPDATE ... WHERE content_version = ?``), the winner of the replay also *seals*
its lease into the body's hidden block, and only one live seal can be written: a claimer that
won the replay only because it had not yet seen an earlier marker finds the other's seal and
loses. Heartbeat, release and a holder's close update the seal the same way.

Heartbeat and release are markers too, judged by the same replay (only the holder renews; a
release by another agent needs ``force``, and says so in its marker). A plain edit of the
state or assignees of an ``in_progress`` issue reads the markers first: another agent's live
lease makes it a ``ClaimConflict`` (read-check-write: an edit racing a claim can slip through
between the read and the write). Times are the server's: marker ``created_at`` for the replay,
the ``Date`` header of its answers for "now".

A mixin of ``ForgeBackend``; the three marker hooks are the forge's comment calls.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from issue_core.backends.forge import leases
from issue_core.backends.forge.body import LEASE_KEY, with_reserved
from issue_core.core.errors import ClaimConflict, Conflict, IssueCoreError, NotFound
from issue_core.core.models import Issue, IssueFilter, IssueState

if TYPE_CHECKING:
    from issue_core.core.claims import Claim

FENCED_FIELDS = frozenset({"state", "assignees"})
SEAL_ATTEMPTS = 5  # a body edited between the read and the compare-and-set is read again


def _ttl_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def held(number: int, lease: leases.Lease, what: str = "") -> ClaimConflict:
    until = leases.shown(lease.expires_at)
    return ClaimConflict(
        f"issue #{number} is claimed by {lease.holder} until {until}{what}",
        hint="pick another issue (issue next --claim), or wait for the lease to run out",
        holder=lease.holder,
        expires_at=until,
    )


class ForgeClaims:
    # -- from ForgeBackend (declared for type checking only: the real ones come later in the
    # MRO, and a stub here would hide them) ---------------------------------------------------

    agent: str | None
    _clock: Callable[[], float]
    _recent: dict[int, Any]
    http: Any

    if TYPE_CHECKING:

        def acting_agent(self) -> str:
            raise NotImplementedError

        def whoami(self) -> Any:
            raise NotImplementedError

        def _get_raw_issue(self, number: int, *, reuse: bool = False) -> dict[str, Any]:
            raise NotImplementedError

        def _to_issue(self, raw: Mapping[str, Any]) -> Issue:
            raise NotImplementedError

        def _update(self, issue: Issue, *, create_labels: bool, fence: bool) -> Issue:
            raise NotImplementedError

        def list_ready(self, filter: IssueFilter) -> list[Issue]:
            raise NotImplementedError

        def list_issues(self, filter: IssueFilter | None = None) -> list[Issue]:
            raise NotImplementedError

        # the comment calls of CommentsById (GitLab overrides the marker hooks below)

        def _fetch_comments(self, number: int, *, since: str | None = None) -> list[dict[str, Any]]:
            raise NotImplementedError

        def _post_comment(
            self, number: int, text: str, *, find_existing: Callable[[], dict[str, Any] | None]
        ) -> dict[str, Any]:
            raise NotImplementedError

        def _remove_comment(self, comment_id: int) -> None:
            raise NotImplementedError

        def _write_body(self, number: int, raw: Mapping[str, Any], body: str) -> None:
            raise NotImplementedError

    # -- marker hooks (comments; GitLab's are notes) -----------------------------------------

    def _marker_comments(self, number: int) -> Sequence[Mapping[str, Any]]:
        """Every comment of the issue as the forge sends it (``id``, ``created_at``, ``body``)."""
        return self._fetch_comments(number)

    def _post_marker(self, number: int, text: str) -> Mapping[str, Any]:
        def find() -> dict[str, Any] | None:  # an answer lost: the lease id is unique
            return next(
                (dict(c) for c in self._fetch_comments(number) if c.get("body") == text), None
            )

        return self._post_comment(number, text, find_existing=find)

    def _drop_marker(self, number: int, note_id: int) -> None:
        self._remove_comment(note_id)

    def _can_seal(self, raw: Mapping[str, Any]) -> bool:
        """Whether ``_write_body`` of this issue (read as ``raw``) is a compare-and-set."""
        return False

    # -- the protocol ---------------------------------------------------------------------------

    def _lease_log(self, number: int) -> leases.Log:
        return leases.replay(leases.markers_of(self._marker_comments(number)))

    def _lease_now(self, number: int) -> tuple[leases.Log, datetime]:
        """The replayed markers and the server's time of that read (the ``Date`` of its
        answers; this machine's clock only when the forge sends none)."""
        with self.http.server_dates() as dates:
            log = self._lease_log(number)
        at = dates[-1] if dates else datetime.fromtimestamp(self._clock(), UTC)
        return log, at

    def _write_marker(
        self, number: int, record: dict[str, Any], line: str
    ) -> tuple[int, leases.Outcome]:
        """Post a marker, re-read every marker, and say what the replay made of this one
        (its poster withdraws it when it lost or was rejected)."""
        raw = self._post_marker(number, leases.record_text(record, line))
        self._recent.pop(number, None)  # its comment count and updated_at moved
        note_id = int(raw["id"])
        outcome = self._lease_log(number).outcomes.get(note_id)
        if outcome is None:  # not visible in the re-read: it cannot be judged, so it counts not
            outcome = leases.Outcome("rejected")
        if not outcome.applied:
            self._withdraw(number, note_id)
        return note_id, outcome

    def _seal(self, number: int, lease: leases.Lease | None, *, ending: str = "") -> None:
        """Seal ``lease`` into the body (``None``: clear the seal of lease ``ending``) with the
        forge's compare-and-set; another agent's live seal is a ``ClaimConflict``. A forge
        without one does nothing here."""
        for _ in range(SEAL_ATTEMPTS):
            with self.http.server_dates() as dates:
                raw = self._get_raw_issue(number)
            if not self._can_seal(raw):
                return
            now = dates[-1] if dates else datetime.fromtimestamp(self._clock(), UTC)
            body = raw.get("body")
            there = leases.sealed(body if isinstance(body, str) else None)
            ours = lease.lease_id if lease is not None else ending
            if there is not None and there.live_at(now) and there.lease_id != ours:
                if lease is None:
                    return  # another agent's seal: not this one's to clear
                raise held(number, there)
            if lease is None and there is None:
                return
            value = leases.seal_of(lease) if lease is not None else None
            try:
                self._write_body(number, raw, with_reserved(body, LEASE_KEY, value))
            except Conflict:
                continue  # the body changed since the read: read it again
            finally:
                self._recent.pop(number, None)
            return
        raise Conflict(
            f"issue #{number}: its body kept changing while the claim was sealed",
            hint=f"try again: issue claim {number}",
        )

    def _sealed_or_withdrawn(self, number: int, note_id: int, lease: leases.Lease) -> None:
        """Seal the lease the marker ``note_id`` won; when another agent's seal is live, the
        marker is withdrawn and the ``ClaimConflict`` raised."""
        try:
            self._seal(number, lease)
        except ClaimConflict:
            self._withdraw(number, note_id)
            raise

    def _withdraw(self, number: int, note_id: int) -> None:
        try:
            self._drop_marker(number, note_id)
        except IssueCoreError:
            pass  # a marker that lost changes no one's outcome: left, it is only noise

    def _claimable(self, number: int) -> Issue:
        issue = self._to_issue(self._get_raw_issue(number))
        if issue.state is IssueState.CLOSED:
            raise Conflict(
                f"issue #{number} is closed: there is nothing to claim",
                hint=f"issue reopen {number}",
            )
        return issue

    def claim(self, number: int, *, ttl_s: int) -> Claim:
        from issue_core.core.claims import Claim

        self._claimable(number)
        me = self.acting_agent()
        before, now = self._lease_now(number)
        live = before.live_at(now)
        if live is not None and live.holder != me:
            raise held(number, live)
        line = f"issue-core: {me} claims this issue for {_ttl_text(ttl_s)}"
        if before.lease is not None and live is None:
            line += f" (the lease of {before.lease.holder} ran out at "
            line += f"{leases.shown(before.lease.expires_at)})"
        lease_id = live.lease_id if live is not None else secrets.token_hex(8)
        record = leases.record("claim", me, lease_id, ttl_s=ttl_s, nonce=secrets.token_hex(4))
        note_id, outcome = self._write_marker(number, record, line)
        lease = outcome.lease
        if outcome.kind == "lost" and lease is not None:
            raise held(number, lease)
        if not outcome.applied or lease is None:
            raise ClaimConflict(
                f"issue #{number}: the claim could not be confirmed (its marker was not seen)",
                hint=f"try again: issue claim {number}",
            )
        self._sealed_or_withdrawn(number, note_id, lease)
        self._show(number, claimed=True)
        extended = outcome.kind == "extended"
        return Claim(
            number, me, leases.shown(lease.claimed_at), leases.shown(lease.expires_at), extended
        )

    def heartbeat(self, number: int, *, ttl_s: int) -> Claim:
        from issue_core.core.claims import Claim

        self._get_raw_issue(number)
        me = self.acting_agent()
        log, now = self._lease_now(number)
        live = log.live_at(now)
        if live is None:
            raise self._no_lease_of(number, me)
        if live.holder != me:
            raise held(number, live)
        record = leases.record("heartbeat", me, live.lease_id, ttl_s=ttl_s)
        line = f"issue-core: {me} renews its lease for {_ttl_text(ttl_s)}"
        note_id, outcome = self._write_marker(number, record, line)
        if outcome.kind != "renewed" or outcome.lease is None:
            raise self._no_lease_of(number, me)  # it ran out (or was forced away) meanwhile
        lease = outcome.lease
        self._sealed_or_withdrawn(number, note_id, lease)
        return Claim(
            number, me, leases.shown(lease.claimed_at), leases.shown(lease.expires_at), True
        )

    def live_claim(self, number: int) -> Claim | None:
        from issue_core.core.claims import Claim

        log, now = self._lease_now(number)
        live = log.live_at(now)
        if live is None:
            return None
        return Claim(
            number, live.holder, leases.shown(live.claimed_at), leases.shown(live.expires_at)
        )

    def _no_lease_of(self, number: int, me: str) -> ClaimConflict:
        return ClaimConflict(
            f"issue #{number} is not claimed by {me}: no live lease to renew "
            "(it ran out, was released, or was never taken)",
            hint=f"claim it again: issue claim {number}",
        )

    def release(self, number: int, *, force: bool = False) -> Claim:
        from issue_core.core.claims import Claim

        self._get_raw_issue(number)
        me = self.acting_agent()
        log, now = self._lease_now(number)
        live = log.live_at(now)
        if live is None:
            raise ClaimConflict(
                f"issue #{number} is not claimed: there is no lease to release",
                hint=f"see its comments: issue show {number} --comments",
            )
        if live.holder != me and not force:
            raise held(number, live)
        forced = live.holder != me
        self._end_lease(number, live, me, forced=forced, why="releases")
        return Claim(number, live.holder, leases.shown(live.claimed_at), leases.shown(now))

    def _end_lease(
        self, number: int, lease: leases.Lease, me: str, *, forced: bool, why: str
    ) -> None:
        record = leases.record(
            "release", me, lease.lease_id, holder=lease.holder, forced=forced or None
        )
        whose = f"the claim of {lease.holder} (forced)" if forced else "its claim"
        _, outcome = self._write_marker(number, record, f"issue-core: {me} {why} {whose}")
        if outcome.kind != "released":
            raise ClaimConflict(
                f"issue #{number} is not claimed: there is no lease to release",
                hint=f"see its comments: issue show {number} --comments",
            )
        self._seal(number, None, ending=lease.lease_id)
        if why == "releases":
            self._show(number, claimed=False)

    def _show(self, number: int, *, claimed: bool) -> None:
        """What a claim (or its end) shows on the issue: in_progress with the token's user
        assigned, or open again without it. Written without the fence: the lease is settled."""
        current = self._to_issue(self._get_raw_issue(number))
        me = self.whoami().username
        others = [name for name in current.assignees if name.lower() != me.lower()]
        if claimed:
            current.state, current.assignees = IssueState.IN_PROGRESS, [me, *others]
        else:
            if current.state is IssueState.IN_PROGRESS:
                current.state = IssueState.OPEN
            current.assignees = others
        self._update(current, create_labels=False, fence=False)

    def _fence(self, number: int, current: Issue, fields: set[str]) -> leases.Lease | None:
        """A plain edit of the state or assignees of an issue another agent holds is a
        ``ClaimConflict``; the holder's own lease is returned (its edit may end it)."""
        touched = fields & FENCED_FIELDS
        if not touched or current.state is not IssueState.IN_PROGRESS:
            return None
        log, now = self._lease_now(number)
        live = log.live_at(now)
        if live is None:
            return None
        if live.holder != self.acting_agent():
            refused = held(
                number, live, f": its {' and '.join(sorted(touched))} cannot change under the lease"
            )
            refused.hint = f"ask the holder, or take it over: issue release {number} --force"
            raise refused
        return live

    def _after_fenced_edit(self, number: int, lease: leases.Lease | None, stored: Issue) -> None:
        """The holder moved its issue out of in_progress (closed or reopened it): the lease
        ends with that change, as on the local store."""
        if lease is not None and stored.state is not IssueState.IN_PROGRESS:
            try:
                self._end_lease(number, lease, lease.holder, forced=False, why="ends")
            except ClaimConflict:
                pass  # it ran out meanwhile: nothing left to end

    def next_ready(
        self, *, labels: list[str] | None = None, claim_ttl_s: int | None = None
    ) -> tuple[Issue | None, Claim | None]:
        """The most important ready issue; with ``claim_ttl_s``, claimed: on a conflict (another
        agent got it first) the next one is tried, then issues whose lease ran out."""
        ready = self.list_ready(IssueFilter(state=IssueState.OPEN, labels=labels or []))
        if claim_ttl_s is None:
            return (ready[0] if ready else None), None
        for issue in [*ready, *self._lapsed(labels or [])]:
            assert issue.number is not None
            try:
                taken = self.claim(issue.number, ttl_s=claim_ttl_s)
            except (ClaimConflict, Conflict, NotFound):
                continue  # taken, closed or deleted since the list was read
            return self._to_issue(self._get_raw_issue(issue.number)), taken
        return None, None

    def _lapsed(self, labels: list[str]) -> list[Issue]:
        """In-progress issues whose last lease ran out (nobody swept them back to open)."""
        from issue_core.core.dependencies import ready_order

        found = []
        busy = self.list_issues(IssueFilter(state=IssueState.IN_PROGRESS, labels=labels))
        for issue in busy:
            assert issue.number is not None
            log, now = self._lease_now(issue.number)
            if log.lease is not None and log.live_at(now) is None:
                found.append(issue)
        return sorted(found, key=ready_order)
