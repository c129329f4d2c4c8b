"""`issue close`, `issue reopen` and `issue comment`."""

from __future__ import annotations

import click

from issue_core.cli.issues import COMMENT_FIELDS
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import (
    ISSUE_NUMBER,
    read_text_source,
)
from issue_core.cli.session import get_session
from issue_core.core.models import (
    ISSUE_FIELDS,
    IssueState,
    validate_comment,
)


def _set_closed(number: int, comment: str | None, *, closed: bool) -> Outcome:
    body = validate_comment(comment) if comment is not None else None
    backend = get_session().backend
    issue = backend.get_issue(number)
    if body is not None:
        backend.add_comment(number, body)
    verb = "closed" if closed else "reopened"
    if issue.is_closed == closed:
        state = "closed" if closed else "not closed"
        message = f"#{issue.number} was already {state}: {issue.title}"
        issue = backend.get_issue(number) if body else issue
        return Outcome(issue, message=message, committed=body is not None)
    issue.state = IssueState.CLOSED if closed else IssueState.OPEN
    updated = backend.update_issue(issue)
    return Outcome(updated, message=f"{verb} #{updated.number} {updated.title}")


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


@click.command("comment")
@click.argument("number", type=ISSUE_NUMBER)
@click.argument("body")
@output_options(COMMENT_FIELDS)
def comment_cmd(number: int, body: str) -> Outcome:
    """Add a comment to an issue; BODY '-' reads it from stdin.

    \b
    Examples:
      issue comment 12 "Reproduced on main"
      pytest -x 2>&1 | tail -20 | issue comment 12 -
    """
    text = validate_comment(read_text_source("-", "BODY") if body == "-" else body)
    added = get_session().backend.add_comment(number, text)
    return Outcome(added, message=f"commented on #{number}")
