"""``issue claim``, ``issue heartbeat``, ``issue release`` and ``issue next``: claims with
leases, so that of many agents exactly one works on an issue (AGENT_INTEGRATION.md, "Claims")."""

from __future__ import annotations

from typing import Any

import click

from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import ISSUE_NUMBER
from issue_core.cli.session import get_session
from issue_core.core.claims import CLAIM_FIELDS, parse_duration
from issue_core.core.models import ISSUE_FIELDS

TTL_HELP = (
    "How long the lease lasts (90s, 30m, 2h, 1d) [default: [claims] ttl in the config, else 2h]."
)


def _ttl(ttl: str | None) -> int:
    # Checked before anything is opened: a bad TTL changes nothing.
    return parse_duration(ttl) if ttl is not None else get_session().config.claim_ttl_s()


def _said(claim: Any, verb: str) -> Outcome:
    return Outcome(
        claim, message=f"{verb} #{claim.number} for {claim.holder} until {claim.expires_at}"
    )


@click.command("claim")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--ttl", metavar="DURATION", help=TTL_HELP)
@output_options(CLAIM_FIELDS)
def claim_cmd(number: int, ttl: str | None) -> Outcome:
    """Claim an issue for the acting agent (--as NAME): in_progress, assigned to it, for a lease.

    Of any number of agents claiming at once exactly one wins; the others exit 10 with the
    holder and the lease's expiry. Claiming again as the holder extends the lease. A closed
    issue exits 4, a missing one 3. JSON: {"number", "holder", "claimed_at", "expires_at",
    "extended"}.

    \b
    Examples:
      issue --as worker-1 claim 12
      issue --as worker-1 claim 12 --ttl 4h --json expires_at
    """
    seconds = _ttl(ttl)
    from issue_core.service import claims

    claim = claims.claim(get_session().backend, number, ttl_s=seconds)
    return _said(claim, "extended" if claim.extended else "claimed")


@click.command("heartbeat")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--ttl", metavar="DURATION", help=TTL_HELP)
@output_options(CLAIM_FIELDS)
def heartbeat_cmd(number: int, ttl: str | None) -> Outcome:
    """Renew the acting agent's lease on an issue (from now, by --ttl).

    A lease that ran out, or that another agent holds, exits 10: claim it again.

    \b
    Examples:
      issue --as worker-1 claim 12
      issue --as worker-1 heartbeat 12 --ttl 3h
    """
    seconds = _ttl(ttl)
    from issue_core.service import claims

    return _said(claims.heartbeat(get_session().backend, number, ttl_s=seconds), "renewed")


@click.command("release")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--force", is_flag=True, help="Release another agent's lease (recorded as forced).")
@output_options(CLAIM_FIELDS)
def release_cmd(number: int, force: bool) -> Outcome:
    """Give a claimed issue back: open again, the holder no longer assigned.

    Only the holder may, unless --force (the event log records who forced it). Another
    agent's lease without --force, or no lease at all, exits 10. Closing the issue as the
    holder also ends the lease.

    \b
    Examples:
      issue --as worker-1 claim 12
      issue --as worker-1 release 12
    """
    from issue_core.service import claims

    claim = claims.release(get_session().backend, number, force=force)
    return Outcome(claim, message=f"released #{claim.number} (held by {claim.holder})")


@click.command("next")
@click.option(
    "-l",
    "--label",
    "labels",
    multiple=True,
    metavar="NAME",
    help="Only issues with this label (repeatable: all of them).",
)
@click.option(
    "--claim", "take", is_flag=True, help="Claim the issue picked, in the same atomic step."
)
@click.option("--ttl", metavar="DURATION", help=TTL_HELP)
@output_options(ISSUE_FIELDS, empty="nothing ready")
def next_cmd(labels: tuple[str, ...], take: bool, ttl: str | None) -> Outcome:
    """The most important ready issue: open and unclaimed, by priority (0 first), then age.

    With --claim it is claimed for the acting agent in the same transaction, so workers
    looping on `issue next --claim` never get the same issue. Nothing ready: exit 0,
    "nothing ready" (JSON: null). Leases that ran out are swept first (a write).

    \b
    Examples:
      issue --as worker-1 next --claim --json number,title
      issue next --label bug
    """
    seconds = _ttl(ttl) if take or ttl is not None else None
    from issue_core.service import claims

    issue, claim = claims.next_ready(
        get_session().backend, labels=list(labels), claim_ttl_s=seconds if take else None
    )
    if issue is None:
        return Outcome(None, message="nothing ready", committed=False)
    if claim is not None:
        return Outcome(
            issue, message=f"claimed #{issue.number} {issue.title} until {claim.expires_at}"
        )
    return Outcome(issue, message=f"#{issue.number} {issue.title}", committed=False)
