"""Leases on a forge, replayed from the claim markers in an issue's comments.

No forge API has a compare-and-set, so a claim is a comment carrying a claim record (the
*marker*), and who holds the issue is what replaying every marker in the order the server gave
them says. The order is the comment id (assigned by the server when it stores the comment, so
every reader sees the same order); a marker's time is the comment's ``created_at`` (the
server's clock, never the claimer's). Replaying, a lease is held from its claim marker until
``created_at + ttl``; a later marker is judged at its own time:

- ``claim`` by A: no live lease then, or A's own (extended) -> A holds; another's -> lost;
- ``heartbeat`` by A naming lease L: L is live then and A holds it -> renewed; else rejected;
- ``release`` naming lease L: L is live then and the marker's agent holds it (or ``forced``)
  -> the lease ends; else rejected.

A marker that lost or was rejected changes nothing (its poster deletes it), so deleting it
changes no one's outcome: the replay of every prefix is the same for every reader that sees
the same markers. Two claimers can both win only when one of them, re-reading after writing
its marker, did not yet see an earlier marker (AGENT_INTEGRATION.md, "Guarantees per backend").

The record rides in the hidden block a comment already uses for an agent's name
(``forge.body``), under ``issue-core:claim``, after one line a human reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from issue_core.backends.forge.body import CLAIM_KEY, LEASE_KEY, compose_body, split_body
from issue_core.backends.forge.fields import timestamp
from issue_core.core.models import format_ts

MARKER_KEY = CLAIM_KEY
OPS = ("claim", "heartbeat", "release")


@dataclass(frozen=True)
class Marker:
    """One claim record as the server stored it: comment id, server time, the record."""

    note_id: int
    at: datetime
    op: str
    agent: str
    ttl_s: int = 0
    lease: str = ""  # claim: its own lease id; heartbeat/release: the lease named
    forced: bool = False


@dataclass
class Lease:
    holder: str
    lease_id: str
    claimed_at: datetime
    expires_at: datetime
    claim_note: int

    def live_at(self, when: datetime) -> bool:
        return self.expires_at > when


@dataclass
class Outcome:
    """What replaying said of one marker: ``kind`` is won, extended, renewed, released, lost or
    rejected; ``lease`` the lease it made, extended, renewed or ended (lost: the one it lost
    to; rejected: the live lease then, if any); ``ran_out`` a lease it found expired."""

    kind: str
    lease: Lease | None = None
    ran_out: Lease | None = None

    @property
    def applied(self) -> bool:
        return self.kind not in ("lost", "rejected")


@dataclass
class Log:
    """The replay of an issue's markers: the last lease (live or not) and each outcome."""

    lease: Lease | None = None
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def live_at(self, when: datetime) -> Lease | None:
        lease = self.lease
        return lease if lease is not None and lease.live_at(when) else None


def record_text(record: Mapping[str, Any], line: str) -> str:
    """The comment a marker is: one line for people, the record in the hidden block."""
    return compose_body(line, {}, reserved={MARKER_KEY: dict(record)})


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_marker(raw: Mapping[str, Any]) -> Marker | None:
    """The claim record of a comment (as the forge sent it), or None for any other comment."""
    body = raw.get("body")
    note_id = _number(raw.get("id"))
    at = timestamp(raw.get("created_at"))
    if not isinstance(body, str) or MARKER_KEY not in body or note_id is None or at is None:
        return None
    _, data, _ = split_body(body)
    record = data.get(MARKER_KEY)
    if not isinstance(record, dict) or record.get("op") not in OPS:
        return None
    agent, lease, ttl = record.get("agent"), record.get("lease"), _number(record.get("ttl_s"))
    if not isinstance(agent, str) or not agent or not isinstance(lease, str) or not lease:
        return None
    if record["op"] != "release" and (ttl is None or ttl <= 0):
        return None
    return Marker(note_id, at, record["op"], agent, ttl or 0, lease, record.get("forced") is True)


def markers_of(comments: Iterable[Mapping[str, Any]]) -> list[Marker]:
    found = (parse_marker(raw) for raw in comments)
    return sorted((m for m in found if m is not None), key=lambda m: m.note_id)


def replay(markers: Iterable[Marker]) -> Log:
    """Replay ``markers`` in id order (see the module docstring)."""
    log = Log()
    for marker in sorted(markers, key=lambda m: m.note_id):
        log.outcomes[marker.note_id] = _step(log, marker)
    return log


def _step(log: Log, m: Marker) -> Outcome:
    lease = log.lease
    live = lease if lease is not None and lease.live_at(m.at) else None
    ran_out = lease if lease is not None and live is None else None
    until = m.at + timedelta(seconds=m.ttl_s)
    if m.op == "claim":
        if live is not None and live.holder != m.agent:
            return Outcome("lost", live)
        if live is not None:  # the holder claiming again: the same lease, from now
            live.expires_at = until
            return Outcome("extended", live)
        log.lease = Lease(m.agent, m.lease, m.at, until, m.note_id)
        return Outcome("won", log.lease, ran_out)
    if live is None or live.lease_id != m.lease:
        return Outcome("rejected", live, ran_out)
    if m.op == "heartbeat":
        if live.holder != m.agent:
            return Outcome("rejected", live)
        live.expires_at = until
        return Outcome("renewed", live)
    if live.holder != m.agent and not m.forced:
        return Outcome("rejected", live)
    log.lease = None
    return Outcome("released", live)


def shown(at: datetime) -> str:
    """A lease time as messages and JSON show it (UTC, ``Z``)."""
    return format_ts(at) or ""


def record(op: str, agent: str, lease: str, **extra: Any) -> dict[str, Any]:
    """A claim record, its keys in a stable order (what ``parse_marker`` reads back)."""
    data: dict[str, Any] = {"op": op, "agent": agent, "lease": lease}
    data.update({k: v for k, v in extra.items() if v is not None})
    return data


def seal_of(lease: Lease) -> dict[str, Any]:
    """The lease as sealed in the issue's body block (``forge.claims``)."""
    return {
        "holder": lease.holder,
        "lease": lease.lease_id,
        "claimed_at": shown(lease.claimed_at),
        "expires_at": shown(lease.expires_at),
    }


def sealed(body: str | None) -> Lease | None:
    """The lease sealed in an issue's body block, or None (none, or not readable)."""
    _, data, _ = split_body(body)
    value = data.get(LEASE_KEY)
    if not isinstance(value, dict):
        return None
    holder, lease_id = value.get("holder"), value.get("lease")
    claimed, expires = timestamp(value.get("claimed_at")), timestamp(value.get("expires_at"))
    if not isinstance(holder, str) or not isinstance(lease_id, str) or not claimed or not expires:
        return None
    return Lease(holder, lease_id, claimed, expires, 0)
