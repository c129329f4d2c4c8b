"""``issue events``: read the event log (every change, who made it and when)."""

from __future__ import annotations

import click

from issue_core.cli.output import output_options
from issue_core.cli.params import COUNT, ISSUE_NUMBER
from issue_core.cli.session import get_session
from issue_core.core.events import EVENT_FIELDS, Event


@click.command("events")
@click.argument("number", type=ISSUE_NUMBER, required=False)
@click.option(
    "--since",
    metavar="CURSOR|TIME",
    help="Only events after this cursor (an event's 'cursor') or at/after this time.",
)
@click.option(
    "-L",
    "--limit",
    type=COUNT,
    default=500,
    show_default=True,
    help="At most N events; 0 means no limit.",
)
@output_options(EVENT_FIELDS, empty="no events")
def events_cmd(number: int | None, since: str | None, limit: int) -> list[Event]:
    """List the event log, oldest first: of issue NUMBER, or of every issue.

    Each event: {"cursor", "issue", "issue_id", "kind", "actor", "at", "data"}; pass the last
    cursor back as --since to read on without losing or repeating one. Kinds: created, edited,
    state, labeled, assigned, metadata, commented, comment_edited, comment_deleted, claimed,
    heartbeat, released, lease_expired, linked, unlinked, deleted (see AGENT_INTEGRATION.md,
    "Events").

    \b
    Examples:
      issue events 12
      issue events --since 0 --format jsonl
      issue events --since 2026-01-01T00:00:00Z --json kind,actor
    """
    from issue_core.service import events

    return events.list_events(get_session().backend, number, since=since, limit=limit)
