"""`issue ready`: the issues an agent can start now (service.ready)."""

from __future__ import annotations

import click

from issue_core.cli.issues import LIST_FIELDS, resolve_me
from issue_core.cli.output import Page, current_output, output_options
from issue_core.cli.params import label_filter_option, limit_option
from issue_core.cli.session import get_session
from issue_core.core.models import IssueFilter, validate_label_name


@click.command("ready")
@label_filter_option()
@click.option("-m", "--milestone", metavar="TITLE", help="Only issues in this milestone.")
@click.option("--no-milestone", is_flag=True, help="Only issues in no milestone.")
@click.option("-A", "--author", metavar="USER", help="Only issues opened by USER (@me: you).")
@limit_option()
@output_options(LIST_FIELDS, empty="no issue is ready")
def ready_cmd(
    labels: list[str],
    milestone: str | None,
    no_milestone: bool,
    author: str | None,
    limit: int,
) -> Page:
    """List the issues ready to start: open (not in progress, not closed) with every issue
    that blocks them closed, most important first (priority 0 first, none last), then oldest.

    \b
    Examples:
      issue ready
      issue ready --label backend --limit 1 --json number,title
    """
    from issue_core.service.ready import ready_issues

    if no_milestone and milestone is not None:
        raise click.UsageError("give -m/--milestone or --no-milestone, not both")
    issue_filter = IssueFilter(
        labels=[validate_label_name(name) for name in labels],
        milestone=milestone,
        no_milestone=no_milestone,
        author=resolve_me(author),
        limit=current_output().fetch_limit(limit or None),
    )
    found = ready_issues(get_session().backend, issue_filter)
    return Page(found, limit or None, noun="issues")
