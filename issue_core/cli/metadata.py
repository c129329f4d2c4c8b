"""``issue meta set|get|unset``: an issue's user metadata (rules in ``core.metadata``)."""

from __future__ import annotations

from typing import Any

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import ISSUE_NUMBER
from issue_core.cli.session import get_session

META_FIELDS = ("number", "metadata")
VALUE_FIELDS = ("number", "key", "value")


def _lines(metadata: dict[str, Any]) -> tuple[str, ...]:
    from issue_core.core.metadata import show_value

    return tuple(f"{key} = {show_value(value)}" for key, value in metadata.items())


@click.group("meta", cls=Group)
def meta_group() -> None:
    """Structured metadata on an issue: JSON values under free keys, kept with the issue
    wherever it syncs.

    A value is JSON when it parses as JSON (42, true, null, [1,2], {"a":1}, "text"); anything
    else is a string, unless it starts with { [ or " and does not parse: that is an error
    (exit 2), never a string. Keys starting with issue-core: are reserved.

    \b
    Examples:
      issue meta set 1 owner=alice estimate=3 'review={"needed":true}'
      issue meta get 1
      issue meta get 1 owner
      issue meta unset 1 estimate
    """


@meta_group.command("set")
@click.argument("number", type=ISSUE_NUMBER)
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@output_options(META_FIELDS)
def set_cmd(number: int, assignments: tuple[str, ...]) -> Outcome:
    """Set metadata keys (values are JSON, or plain strings; see `issue meta --help`)."""
    from issue_core.service.metadata import parse_assignments, set_metadata

    values = parse_assignments(assignments)  # every one checked before the store is opened
    done = set_metadata(get_session().backend, number, values)
    verb = "updated" if done.changed else "unchanged:"
    return Outcome(done, message=f"{verb} metadata of #{number}", lines=_lines(done.metadata))


@meta_group.command("get")
@click.argument("number", type=ISSUE_NUMBER)
@click.argument("key", required=False)
@output_options((*VALUE_FIELDS, "metadata"))
def get_cmd(number: int, key: str | None) -> Outcome:
    """Print an issue's metadata, or one key's value (a string as itself, else JSON; exit 3
    when the issue has no such key)."""
    from issue_core.core.metadata import show_value
    from issue_core.service.metadata import get_metadata, get_value

    backend = get_session().backend
    if key is None:
        found = get_metadata(backend, number)
        lines = _lines(found.metadata)
        message = lines[0] if lines else f"#{number} has no metadata"
        return Outcome(found, message=message, lines=lines[1:], committed=False)
    value = get_value(backend, number, key)
    data = {"number": number, "key": key, "value": value}
    return Outcome(data, message=show_value(value), committed=False)


@meta_group.command("unset")
@click.argument("number", type=ISSUE_NUMBER)
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@output_options(META_FIELDS)
def unset_cmd(number: int, keys: tuple[str, ...]) -> Outcome:
    """Remove metadata keys (a key the issue does not have is no error: nothing changes)."""
    from issue_core.service.metadata import unset_metadata

    done = unset_metadata(get_session().backend, number, keys)
    verb = "updated" if done.changed else "unchanged:"
    return Outcome(done, message=f"{verb} metadata of #{number}", lines=_lines(done.metadata))
