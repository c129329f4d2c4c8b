"""`issue list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from issue_core.cli.issues import LIST_FIELDS, resolve_me
from issue_core.cli.output import Page, current_output, output_options
from issue_core.cli.params import (
    TIMESTAMP,
    label_filter_option,
    limit_option,
    split_states,
)
from issue_core.cli.session import get_session
from issue_core.core.models import (
    NOT_CLOSED,
    IssueFilter,
    validate_label_name,
)
from issue_core.service import issues as service

if TYPE_CHECKING:
    from issue_core.core.query import Query


@click.command("list")
@click.option(
    "-s",
    "--state",
    "states",
    multiple=True,
    callback=split_states,
    metavar="[open|in_progress|closed|all]",
    help="Only issues in this state (repeat or comma-separate; 'all' for every state) "
    "[default: open,in_progress, i.e. not closed].",
)
@label_filter_option()
@click.option("-a", "--assignee", metavar="USER", help="Only issues assigned to USER (@me: you).")
@click.option("--no-assignee", is_flag=True, help="Only issues nobody is assigned to.")
@click.option("-m", "--milestone", metavar="TITLE", help="Only issues in this milestone.")
@click.option("--no-milestone", is_flag=True, help="Only issues in no milestone.")
@click.option("-A", "--author", metavar="USER", help="Only issues opened by USER (@me: you).")
@click.option(
    "-S",
    "--search",
    metavar="TEXT",
    help="Full-text search in titles, descriptions, comments (the last word also as a prefix).",
)
@click.option(
    "-q",
    "--query",
    metavar="QUERY",
    help="Only issues matching QUERY, GitHub's issue-search syntax: is:open label:bug "
    '-label:wontfix assignee:@me priority:<=1 updated:>7d "login timeout" '
    "(docs/query-language.md). ANDed with the other flags.",
)
@click.option("--since", type=TIMESTAMP, help="Only issues updated at or after DATE (ISO 8601).")
@click.option(
    "--sort",
    type=click.Choice(["created", "updated", "number"]),
    default="created",
    show_default=True,
    help="Sort key.",
)
@click.option(
    "--order",
    type=click.Choice(["asc", "desc"]),
    default="desc",
    show_default=True,
    help="Sort direction.",
)
@limit_option()
@output_options(LIST_FIELDS, empty="no issues match", jq_short=False)
def list_cmd(
    states: list[Any],
    labels: list[str],
    assignee: str | None,
    no_assignee: bool,
    milestone: str | None,
    no_milestone: bool,
    author: str | None,
    search: str | None,
    query: str | None,
    since: Any,
    sort: str,
    order: str,
    limit: int,
) -> Page:
    """List issues (those not closed, newest first, by default).

    \b
    Examples:
      issue list
      issue list --state all --label bug,p1 --assignee @me
      issue list -s all -l bug -a @me -L 5
      issue list --search "login" --sort updated --limit 5
      issue list -q 'is:open label:bug -label:wontfix assignee:@me updated:>7d'
      issue list -q '(label:bug OR label:crash) no:assignee sort:priority'
      issue list --no-assignee --no-milestone
      issue list --format json | jq -r '.[0].number'
      issue list --json number,title --jq '.[] | "\\(.number) \\(.title)"'
    """
    if no_assignee and assignee is not None:
        raise click.UsageError("give -a/--assignee or --no-assignee, not both")
    if no_milestone and milestone is not None:
        raise click.UsageError("give -m/--milestone or --no-milestone, not both")
    parsed = _parse_query(query) if query is not None else None
    default_states: list[Any] | None = (
        None if parsed is not None and parsed.names_state else list(NOT_CLOSED)
    )
    issue_filter = IssueFilter(
        state=states or default_states,
        labels=[validate_label_name(name) for name in labels],
        assignee=resolve_me(assignee),
        no_assignee=no_assignee,
        milestone=milestone,
        no_milestone=no_milestone,
        author=resolve_me(author),
        text=search or None,
        updated_since=since,
        limit=current_output().fetch_limit(limit or None),  # one more on a terminal: see Page
        sort=sort,
        direction=order,
        query=parsed,
    )
    return Page(
        service.list_issues(get_session().backend, issue_filter), limit or None, noun="issues"
    )


def _parse_query(text: str) -> Query:
    """``-q``: the query language is loaded only here. A ``sort:`` in it and an explicit
    ``--sort``/``--order`` must not disagree."""
    from issue_core.core.query import parse

    parsed = parse(text)
    ctx = click.get_current_context()
    explicit = any(
        ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        for name in ("sort", "order")
    )
    if parsed.sort is not None and explicit:
        raise click.UsageError("give sort: in the query or --sort/--order, not both")
    return parsed
