"""`issue show`."""

from __future__ import annotations

import click

from issue_core.cli.output import output_options
from issue_core.cli.params import ISSUE_NUMBER
from issue_core.cli.session import get_session
from issue_core.core.models import (
    ISSUE_FIELDS,
    Issue,
)


@click.command("show")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("-c", "--comments", is_flag=True, help="Include the comments.")
@output_options(ISSUE_FIELDS)
def show_cmd(number: int, comments: bool) -> Issue:
    """Show one issue (`issue view` is the same command, as in gh).

    \b
    Examples:
      issue show 12
      issue show '#12' --comments
      issue show 12 --json title,state,labels
    """
    from issue_core.cli.output import current_output

    with_comments = comments or current_output().wants_field("comments")
    return get_session().backend.get_issue(number, with_comments=with_comments)
