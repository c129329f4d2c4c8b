"""`issue close` and `issue reopen` (`issue comment` is in issue_comment.py)."""

from __future__ import annotations

from typing import Any

import click

from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import ISSUE_NUMBER, CloseReasonType
from issue_core.cli.session import get_session
from issue_core.core.models import ISSUE_FIELDS, validate_comment


def _set_closed(
    number: int, comment: str | None, *, closed: bool, reason: Any = None, force: bool = False
) -> Outcome:
    from issue_core.service.issues import set_closed

    body = validate_comment(comment) if comment is not None else None  # before opening
    backend = get_session().backend
    done = set_closed(backend, number, body, closed=closed, reason=reason, force=force)
    issue = done.issue
    if not done.changed:
        # Not closed is open or in_progress: say which, as `issue list` would show it.
        message = f"#{issue.number} was already {issue.state}: {issue.title}"
        return Outcome(issue, message=message, committed=done.commented)
    verb = "closed" if closed else "reopened"
    return Outcome(issue, message=f"{verb} #{issue.number} {issue.title}")


@click.command("close")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("-c", "--comment", metavar="TEXT", help="Add this comment before closing.")
@click.option(
    "-r",
    "--reason",
    type=CloseReasonType(),
    help="Why it is closed (default completed); shown as close_reason in JSON.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Close it even though another agent holds a live claim (its lease is released, "
    "recorded as forced).",
)
@output_options(ISSUE_FIELDS)
def close_cmd(number: int, comment: str | None, reason: Any, force: bool) -> Outcome:
    """Close an issue (closing a closed issue changes nothing and succeeds, unless --reason
    names another reason: then the reason changes).

    An issue another agent has claimed exits 10 (naming the holder and the lease's expiry)
    unless --force; the holder's own close ends its lease.

    \b
    Examples:
      issue close 12
      issue close 12 --comment "Fixed in a1b2c3d"
      issue close 12 --reason not_planned
      issue close 12 --force
    """
    return _set_closed(number, comment, closed=True, reason=reason, force=force)


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
