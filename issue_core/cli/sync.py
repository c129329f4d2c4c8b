"""``issue sync status|pull|push|bidirectional|conflicts|resolve|link|import-map``: sync between
two configured backends (the use cases in ``service.sync``; the model and guarantees in
docs/sync.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, current_output, output_options
from issue_core.cli.params import ISSUE_NUMBER
from issue_core.cli.session import get_session
from issue_core.core.errors import Conflict, UsageError

if TYPE_CHECKING:
    from issue_core.core.interfaces import IssueBackend
    from issue_core.service.sync.report import Report

REPORT_FIELDS = ("pair", "direction", "from", "to", "dry_run", "actions", "conflicts", "notes",
                 "summary")  # fmt: skip
CONFLICT_FIELDS = ("pair", "field", "a", "a_number", "a_value", "b", "b_number", "b_value",
                   "detected_at")  # fmt: skip
STATUS_FIELDS = ("pair", "last_sync", "direction", "links", "pending", "conflicts")
LINK_FIELDS = ("action", "source", "target", "title")


@click.group("sync", cls=Group)
def sync_group() -> None:
    """Sync issues between two configured backends, with nothing lost or duplicated.

    Each synced issue is linked to its copy; a field changed on one side is carried to the
    other, a field changed differently on both is a conflict (reported, never overwritten:
    `issue sync conflicts`, `issue sync resolve`). `--dry-run` prints the plan and writes
    nothing. See docs/sync.md.

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue sync pull local mirror --dry-run
      issue sync pull local mirror
      issue sync bidirectional local mirror
      issue sync conflicts local:mirror
      issue sync status
    """


def _open(name: str) -> IssueBackend:
    session = get_session()
    return session.connect(session.resolve(name))


def _pair(first: str, second: str) -> tuple[tuple[str, IssueBackend], tuple[str, IssueBackend]]:
    from issue_core.service.sync.pairs import check_names

    check_names(first, second)
    return (first, _open(first)), (second, _open(second))


def _settings() -> Any:
    from issue_core.service.sync.settings import sync_settings

    return sync_settings(get_session().config)


def _state_dir() -> Any:
    from issue_core.service.sync.pairs import state_dir_of

    return state_dir_of(get_session().config.root)


def _confirm(yes: bool) -> Any:
    """The bulk guard's question: yes with --yes; asked on a terminal; refused elsewhere."""
    from issue_core.cli.confirm import interactive

    if yes:
        return lambda _question: True
    if not interactive():
        return None

    def ask(question: str) -> bool:
        from issue_core.cli.sanitize import for_terminal

        return bool(click.confirm(f"{for_terminal(question)}. Go on?", default=False, err=True))

    return ask


def _progress() -> Any:
    """A progress line on stderr when it is a terminal and the output is a table."""
    if current_output().is_json or not _stderr_is_terminal():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        click.echo(f"\rsyncing {done}/{total} issues", err=True, nl=False)
        if end:
            click.echo(err=True)

    return show


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr and sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def _outcome(report: Report) -> Outcome:
    data = report.to_dict()
    summary = data["summary"]
    done = ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in summary.items() if n)
    head = "plan (dry run, nothing written)" if report.dry_run else "synced"
    message = f"{head} {data['pair'][0]} <-> {data['pair'][1]}: {done or 'nothing to do'}"
    lines = [*_action_lines(data["actions"]), *_conflict_lines(data["conflicts"])]
    lines += [f"note: {text}" for text in data["notes"]]
    failure = report.failure
    if failure is None and data["conflicts"] and not report.dry_run:
        failure = Conflict(
            f"{len(data['conflicts'])} field(s) in conflict were left as they are",
            hint="see issue sync conflicts; settle them with issue sync resolve",
        )
    return Outcome(
        data,
        message=message,
        lines=tuple(lines),
        failure=failure,
        committed=not report.dry_run and report.writes > 0,
    )


def _action_lines(actions: list[dict[str, Any]]) -> list[str]:
    if not actions:
        return []
    rows = [("ACTION", "ON", "NUMBER", "FROM", "WHAT")]
    for act in actions:
        number = f"#{act['number']}" if act["number"] is not None else "(new)"
        source = f"{act['from']} #{act['source']}" if act["from"] else ""
        what = act["title"] or ""
        if act["fields"]:
            what = f"{what} [{', '.join(act['fields'])}]".strip()
        if act["detail"]:
            what = f"{what} ({act['detail']})".strip()
        rows.append((act["action"], act["on"], number, source, " ".join(what.split())))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    ]


def _conflict_lines(conflicts: list[dict[str, Any]]) -> list[str]:
    return [
        f"conflict: {c['field']} of {c['a']} #{c['a_number']} ({_shown(c['a_value'])}) and "
        f"{c['b']} #{c['b_number']} ({_shown(c['b_value'])})"
        for c in conflicts
    ]


def _shown(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _run(mode: str, source: str, target: str, **options: Any) -> Outcome:
    from issue_core.service.sync.pairs import sync

    first, second = _pair(source, target)
    report = sync(
        mode,
        first,
        second,
        settings=_settings(),
        state_dir=_state_dir(),
        progress=_progress(),
        **options,
    )
    return _outcome(report)


def _one_way(name: str, doc: str) -> Any:
    @sync_group.command(name, help=doc)
    @click.argument("source")
    @click.argument("target")
    @click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
    @click.option("--force", is_flag=True, help="In a conflict, the source's value wins.")
    @click.option("--yes", is_flag=True, help="Go past the bulk guard without asking.")
    @output_options(REPORT_FIELDS)
    def command(source: str, target: str, dry_run: bool, force: bool, yes: bool) -> Outcome:
        return _run(
            name,
            source,
            target,
            dry_run=dry_run,
            force=source if force else None,
            confirm=_confirm(yes),
        )

    return command


pull_cmd = _one_way(
    "pull",
    """Bring SOURCE's changes into TARGET (TARGET is written, SOURCE only read).

    New issues of SOURCE are created on TARGET (matched first by their marker, so nothing is
    copied twice); a field changed on SOURCE since the last sync is written to TARGET; a field
    changed on both is a conflict unless --force.

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue sync pull local mirror --dry-run
      issue sync pull local mirror --format json --jq .summary
    """,
)
push_cmd = _one_way(
    "push",
    """Send SOURCE's changes to TARGET: the same as pull with the same arguments (TARGET is
    written, SOURCE only read), named for working offline on SOURCE and handing back.

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue sync push local mirror --dry-run
      issue sync push local mirror --yes
    """,
)


@sync_group.command("bidirectional")
@click.argument("first")
@click.argument("second")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option(
    "--force",
    "force",
    multiple=True,
    metavar="NAME",
    help="In a conflict, backend NAME's value wins.",
)
@click.option("--yes", is_flag=True, help="Go past the bulk guard without asking.")
@output_options(REPORT_FIELDS)
def bidirectional_cmd(
    first: str, second: str, dry_run: bool, force: tuple[str, ...], yes: bool
) -> Outcome:
    """Carry changes both ways between FIRST and SECOND.

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue sync bidirectional local mirror --dry-run
      issue sync bidirectional local mirror --force mirror
    """
    if len(set(force)) > 1:
        raise UsageError(
            f"conflicting --force directions: {', '.join(sorted(set(force)))}",
            hint="name the one backend whose values win",
        )
    return _run(
        "bidirectional",
        first,
        second,
        dry_run=dry_run,
        force=force[0] if force else None,
        confirm=_confirm(yes),
    )


@sync_group.command("conflicts")
@click.argument("pair", required=False, metavar="[PAIR]")
@output_options(CONFLICT_FIELDS, empty="no sync conflicts")
def conflicts_cmd(pair: str | None) -> Any:
    """The fields in conflict, per pair (PAIR is NAME:NAME; all recorded pairs without it).

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue sync pull local mirror
      issue sync conflicts
      issue sync conflicts local:mirror --format json
    """
    from issue_core.service.sync.pairs import conflicts, parse_pair

    rows: list[dict[str, Any]] = []
    for first, second in [parse_pair(pair)] if pair else _recorded_pairs():
        rows.extend(conflicts(dict(_pair(first, second)), _state_dir()))
    lines = _conflict_lines(rows)
    if not rows:
        return rows
    return Outcome(rows, message=lines[0], lines=tuple(lines[1:]), committed=False)


@sync_group.command("resolve")
@click.argument("number", type=ISSUE_NUMBER)
@click.argument("values", nargs=-1, metavar="[FIELD=VALUE]...")
@click.option(
    "--pair",
    "pair",
    metavar="SOURCE:TARGET",
    help="The pair; NUMBER is the issue's number on SOURCE (needed with several).",
)
@click.option(
    "--take",
    type=click.Choice(["source", "target"]),
    multiple=True,
    help="Take every field in conflict from the source or the target.",
)
@output_options(REPORT_FIELDS)
def resolve_cmd(
    number: int, values: tuple[str, ...], pair: str | None, take: tuple[str, ...]
) -> Outcome:
    """Settle the conflicts of issue NUMBER and write the result to both sides.

    A run that finds a conflict exits 4 (after doing everything else); NUMBER is the issue's
    number on SOURCE of --pair SOURCE:TARGET, and `--take source` takes SOURCE's values.

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue sync pull local mirror
      issue edit 1 -t "Ours" && issue --backend mirror edit 1 -t "Theirs"
      issue sync bidirectional local mirror || echo "exit $?: in conflict"
      issue sync resolve 1 --pair local:mirror title="The agreed title"
    """
    from issue_core.service.sync.fields import parse_value
    from issue_core.service.sync.pairs import parse_pair, resolve

    if len(set(take)) > 1:
        raise UsageError("conflicting --take source and --take target", hint="give one")
    given: dict[str, Any] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise UsageError(f"expected FIELD=VALUE, not {item!r}")
        given[name] = parse_value(name, text)
    if not take and not given:
        raise UsageError("nothing to resolve with", hint="give --take source|target or FIELD=VALUE")
    if pair is None:
        recorded = _recorded_pairs()
        if len(recorded) != 1:
            raise UsageError(
                "say which pair with --pair SOURCE:TARGET",
                hint="see the pairs with: issue sync status",
            )
        first_name, second_name = recorded[0]
    else:
        first_name, second_name = parse_pair(pair)
    first, second = _pair(first_name, second_name)
    report = resolve(
        first,
        second,
        number,
        take[0] if take else None,
        given,
        settings=_settings(),
        state_dir=_state_dir(),
    )
    return _outcome(report)


def _recorded_pairs() -> list[tuple[str, str]]:
    from issue_core.service.sync.status import recorded_pairs

    return recorded_pairs(get_session().config, _state_dir())


@sync_group.command("status")
@output_options(STATUS_FIELDS, empty="no pair has been synced yet")
def status_cmd() -> Any:
    """Per synced pair: the last sync, links, changes pending on each side, open conflicts.

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue sync pull local mirror
      issue sync status
      issue sync status --format json
    """
    from issue_core.service.sync.status import pair_status

    rows = []
    for first, second in _recorded_pairs():
        rows.append(pair_status(dict(_pair(first, second)), _state_dir()))
    if not rows:
        return rows
    lines = [
        f"{r['pair'][0]} <-> {r['pair'][1]}: last sync {r['last_sync'] or 'never'}"
        f" ({r['direction'] or '-'}), {r['links']} linked, pending "
        + ", ".join(f"{name} {count}" for name, count in r["pending"].items())
        + f", {r['conflicts']} conflicts"
        for r in rows
    ]
    return Outcome(rows, message=lines[0], lines=tuple(lines[1:]), committed=False)


@sync_group.command("link")
@click.argument("pair", metavar="SOURCE:TARGET")
@click.argument("source_number", type=ISSUE_NUMBER, metavar="SOURCE_N")
@click.argument("target_number", type=ISSUE_NUMBER, metavar="TARGET_N")
@click.option("--dry-run", is_flag=True, help="Check and print; write nothing.")
@output_options(LINK_FIELDS)
def link_cmd(pair: str, source_number: int, target_number: int, dry_run: bool) -> Outcome:
    """Link SOURCE's issue SOURCE_N to TARGET's issue TARGET_N, both already there, so that
    the next sync merges them instead of copying either (every field that differs is then a
    conflict to resolve). An issue already linked to another one is refused (exit 2).

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue --backend mirror create "Flaky test"
      issue sync link local:mirror 1 1 --dry-run
      issue sync link local:mirror 1 1
    """
    return _link(pair, [("", source_number, target_number)], dry_run)


@sync_group.command("import-map")
@click.argument("pair", metavar="SOURCE:TARGET")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and print; write nothing.")
@output_options(LINK_FIELDS)
def import_map_cmd(pair: str, file: Path, dry_run: bool) -> Outcome:
    """Link the issues a mapping FILE names, each SOURCE number to a TARGET number, all or
    nothing: a bad row (an issue missing, already linked to another, a number twice) is said
    on its own line, exit 2, and nothing is linked.

    FILE is CSV (`SOURCE,TARGET` per line; a `source,target` header and `#` comments are
    skipped) or JSON (`[{"source": 1, "target": 7}, ...]` or `[[1, 7], ...]`).

    \b
    Examples:
      issue backend add mirror local --path mirror.db
      issue --backend mirror create "Flaky test"
      printf 'source,target\\n1,1\\n' > map.csv
      issue sync import-map local:mirror map.csv --dry-run
      issue sync import-map local:mirror map.csv
    """
    from issue_core.service.sync.mapping import read_rows

    return _link(pair, read_rows(file), dry_run)


def _link(pair: str, rows: list[tuple[str, Any, Any]], dry_run: bool) -> Outcome:
    from issue_core.service.sync.pairs import link_issues, parse_pair

    first_name, second_name = parse_pair(pair)
    first, second = _pair(first_name, second_name)
    results = link_issues(first, second, rows, state_dir=_state_dir(), dry_run=dry_run)
    fresh = sum(1 for r in results if r["action"] == "link")
    head = "plan (dry run, nothing written): would link" if dry_run else "linked"
    lines = [
        f"{r['action'].replace('_', ' ')}: {first_name} #{r['source']} <-> "
        f"{second_name} #{r['target']}  {' '.join(str(r['title']).split())}"
        for r in results
    ]
    return Outcome(
        results,
        message=f"{head} {fresh} issue(s) of {first_name} to {second_name}; "
        f"{len(results) - fresh} already linked",
        lines=tuple(lines),
        committed=not dry_run and fresh > 0,
    )
