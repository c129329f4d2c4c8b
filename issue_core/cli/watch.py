"""``issue watch``: print events as JSON lines as they happen (AGENT_INTEGRATION.md, "Events").

A stream, not a result: each event is printed and flushed the moment it is read, so this
command does not go through ``output_options`` (which renders a command's return value once)
but uses the same pieces for ``--json`` and ``--jq``. A closed pipe ends it quietly (141, as
any read), Ctrl-C with 130 (``cli/errors.py``).
"""

from __future__ import annotations

import sys

import click

from issue_core.cli.output import OutputOptions, compile_jq, parse_fields, render_json
from issue_core.cli.params import ISSUE_NUMBER, split_commas
from issue_core.cli.session import get_session
from issue_core.core.events import EVENT_FIELDS


@click.command("watch")
@click.argument("numbers", nargs=-1, type=ISSUE_NUMBER)
@click.option(
    "-k",
    "--kind",
    "kinds",
    multiple=True,
    callback=split_commas,
    metavar="KIND",
    help="Only events of this kind (repeat or comma-separate; any may match).",
)
@click.option(
    "-l",
    "--label",
    "labels",
    multiple=True,
    callback=split_commas,
    metavar="LABEL",
    help="Only events of issues that carry this label now (repeat: all must).",
)
@click.option(
    "-a",
    "--assignee",
    "assignees",
    multiple=True,
    callback=split_commas,
    metavar="USER",
    help="Only events of issues assigned to USER now (@me: you; repeat: any may be).",
)
@click.option(
    "--actor",
    "actors",
    multiple=True,
    callback=split_commas,
    metavar="NAME",
    help="Only events made by NAME (an agent or user; @me: you).",
)
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="Keep printing events as they happen; --no-follow stops at the newest one.",
)
@click.option(
    "--until-change",
    is_flag=True,
    help="Wait for the next matching event, print it and exit 0.",
)
@click.option(
    "--since",
    metavar="CURSOR|TIME",
    help="Start after this cursor (an event's 'cursor') or at this time [default: now].",
)
@click.option(
    "--timeout",
    metavar="DURATION",
    help="Stop after this long (90s, 5m, 1h): --until-change exits 124 if nothing came.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.01, max=3600),
    metavar="SECONDS",
    help="How often to look when nothing signals a change [default: local 0.05 without "
    "inotify; forges 10].",
)
@click.option(
    "--json",
    "json_fields",
    metavar="FIELDS",
    help="Print only these comma-separated fields of each event.",
)
@click.option("-q", "--jq", "jq_expr", metavar="EXPR", help="Filter each event with jq.")
def watch_cmd(
    numbers: tuple[int, ...],
    kinds: list[str],
    labels: list[str],
    assignees: list[str],
    actors: list[str],
    follow: bool,
    until_change: bool,
    since: str | None,
    timeout: str | None,
    interval: float | None,
    json_fields: str | None,
    jq_expr: str | None,
) -> None:
    """Print events as JSON lines as they happen, of issues NUMBER... or of every issue.

    Each line is one event as `issue events` shows it, with its "cursor": pass the last one
    back as --since to go on without losing or repeating one. Without --since it starts now.
    Filters combine: issue numbers, --kind, --actor, and --label/--assignee (the issue as it
    is when the event is read). --until-change waits for one event and exits 0, or 124 after
    --timeout; --no-follow prints what is already there after --since and exits. Ctrl-C
    exits 130. On the local store a write wakes the watcher at once (inotify on Linux, else
    the files' stat every --interval); forges are polled with ETags (docs in
    AGENT_INTEGRATION.md, "Events").

    \b
    Examples:
      issue watch --since 0 --no-follow --kind created
      issue watch 1 --until-change --kind commented,state --timeout 2s || test $? -eq 124
      issue watch --since 0 --no-follow --json cursor,kind --label bug
    """
    from issue_core.core.claims import parse_duration
    from issue_core.core.errors import TimedOut
    from issue_core.core.events import EventFilter, parse_since

    fields = parse_fields(json_fields, EVENT_FIELDS) if json_fields is not None else None
    options = OutputOptions("jsonl", fields, jq_expr)
    if jq_expr is not None:
        options.program = compile_jq(jq_expr)
    seconds = parse_duration(timeout, "--timeout") if timeout is not None else None
    parse_since(since)  # a bad --since is a usage error before anything is opened
    EventFilter(kinds=kinds)  # an unknown kind is a usage error before anything is opened
    from issue_core.service import events
    from issue_core.service.issues import usernames

    session = get_session()
    backend = session.backend
    wanted = EventFilter(
        numbers,
        kinds,
        usernames(actors, lambda: backend),
        labels,
        usernames(assignees, lambda: backend),
    )
    stream = events.watch(
        backend,
        wanted,
        since=since,
        once=until_change,
        timeout_s=seconds if follow or until_change else 0.0,
        interval=interval,
    )
    seen = False
    for event in stream:
        seen = True
        render_json(event, options)
        sys.stdout.flush()  # now, not when a buffer fills: the reader is waiting for it
    if until_change and not seen:
        raise TimedOut(f"no matching event within {timeout}", hint="nothing was printed")
