"""Claims with leases and the ready queue, as every front end asks for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from issue_core.core.interfaces import Capability

if TYPE_CHECKING:
    from issue_core.core.interfaces import IssueBackend
    from issue_core.core.models import Issue


def claim(backend: IssueBackend, number: int, *, ttl_s: int) -> Any:
    backend.require(Capability.CLAIMS, "claims")
    return backend.claim(number, ttl_s=ttl_s)


def heartbeat(backend: IssueBackend, number: int, *, ttl_s: int) -> Any:
    backend.require(Capability.CLAIMS, "claims")
    return backend.heartbeat(number, ttl_s=ttl_s)


def release(backend: IssueBackend, number: int, *, force: bool = False) -> Any:
    backend.require(Capability.CLAIMS, "claims")
    return backend.release(number, force=force)


def next_ready(
    backend: IssueBackend, *, labels: list[str] | None = None, claim_ttl_s: int | None = None
) -> tuple[Issue | None, Any]:
    backend.require(Capability.CLAIMS, "the ready queue")
    return backend.next_ready(labels=labels, claim_ttl_s=claim_ttl_s)
