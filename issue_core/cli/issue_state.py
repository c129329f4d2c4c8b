"""`issue close` and `issue reopen` (`issue comment` is in issue_comment.py)."""

from __future__ import annotations

import click

from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import ISSUE_NUMBER
from issue_core.cli.session import get_session
from issue_core.core.models import ISSUE_FIELDS, validate_comment


def _set_closed(number: int, comment: str | None, *, closed: bool) -> Outcome:
    from issue_core.service.issues import set_closed

    body = validate_comment(comment) if comment is not None else None  # before opening
    done = set_closed(get_session().backend, number, body, closed=closed)
    issue = done.issue
    if not done.changed:
        state = "closed" if closed else "not closed"
        message = f"#{issue.number} was already {state}: {issue.title}"
        return Outcome(issue, message=message, committed=done.commented)
    verb = "closed" if closed else "reopened"
    return Outcome(issue, message=f"{verb} #{issue.number} {issue.title}")


@click.command("close")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("-c", "--comment", metavar="TEXT", help="Add this comment before closing.")
@output_options(ISSUE_FIELDS)
def close_cmd(number: int, comment: str | None) -> Outcome:
    """Close an issue (closing a closed issue changes nothing and succeeds).

    \b
    Examples:
      issue close 12
      issue close 12 --comment "Fixed in a1b2c3d"
    """
    return _set_closed(number, comment, closed=True)


@click.command("reopen")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("-c", "--comment", metavar="TEXT", help="Add this comment before reopening.")
@output_options(ISSUE_FIELDS)
def reopen_cmd(number: int, comment: str | None) -> Outcome:
    """Reopen a closed issue (its state becomes open).

    \b
    Examples:
      issue reopen 12 --comment "Still happens on Windows"
    """
    return _set_closed(number, comment, closed=False)
