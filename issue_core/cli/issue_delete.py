"""`issue delete N [N...]`: gone for good, so asked for first.

As in gh: on a terminal the user types each issue's number to confirm it; anywhere else (a
script, an agent, a pipe) ``--yes`` is required, and without it nothing is opened or deleted.
Every number is looked up before anything is deleted, so a typo in one of them deletes none,
and every confirmation is asked before the first delete, so an interrupted prompt deletes none.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import ISSUE_NUMBER
from issue_core.cli.session import get_session
from issue_core.core.errors import UsageError
from issue_core.core.models import Issue

DELETE_FIELDS = ("number", "title", "deleted")


def can_prompt() -> bool:
    """Whether a person can answer: stdin and stdout are terminals (gh's rule)."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or missing streams
        return False


def confirmed(issue: Issue) -> bool:
    from issue_core.cli.sanitize import for_terminal

    answer = click.prompt(
        for_terminal(
            f"You're going to delete issue #{issue.number} ({issue.title}). This cannot be "
            "undone. To confirm, type the issue number"
        ),
        default="",
        show_default=False,
        err=True,  # stdout is for the result (JSON when asked for)
    )
    return str(answer).strip().removeprefix("#") == str(issue.number)


@click.command("delete")
@click.argument("numbers", metavar="NUMBER...", nargs=-1, required=True, type=ISSUE_NUMBER)
@click.option(
    "--yes", is_flag=True, help="Delete without asking (required when not on a terminal)."
)
@output_options(DELETE_FIELDS)
def delete_cmd(numbers: tuple[int, ...], yes: bool) -> Outcome:
    """Delete issues for good (`issue close` keeps them and their history).

    On a terminal, `issue delete 12` asks you to type 12 to confirm; elsewhere (scripts,
    agents, pipes) --yes is required. JSON output lists every number asked for: {"number",
    "title", "deleted"}. Gitea lets only the repository's owner and admins delete issues
    (others get exit 5).

    \b
    Examples:
      issue delete 12 --yes
      issue delete 10 11 --yes
      issue delete 9 --yes --json number,deleted
    """
    ask = not yes
    if ask and not can_prompt():
        raise UsageError(
            "--yes required when not running interactively",
            hint="deleting cannot be undone; pass --yes to delete without being asked",
        )
    from issue_core.service.issues import delete_issues

    run = delete_issues(get_session().backend, numbers, lambda issue: not ask or confirmed(issue))
    results: list[dict[str, Any]] = [
        {"number": issue.number, "title": issue.title, "deleted": False} for issue in run.issues
    ]
    by_number = {row["number"]: row for row in results}
    for issue in run.deleted:
        by_number[issue.number]["deleted"] = True
    if run.failure is not None:
        exc = run.failure
        exc.message = f"{exc.message} (deleted before it: {_numbers(run.deleted)})"
        return Outcome(results, message=_summary(run.deleted), failure=exc)
    kept = run.kept
    if not run.deleted:
        return Outcome(results, message=f"not deleted: {_numbers(kept)}", committed=False)
    message = _summary(run.deleted) + (f"; not deleted: {_numbers(kept)}" if kept else "")
    return Outcome(results, message=message)


def _numbers(issues: list[Issue]) -> str:
    return ", ".join(f"#{issue.number}" for issue in issues)


def _summary(done: list[Issue]) -> str:
    return "deleted " + ", ".join(f"#{issue.number} {issue.title}" for issue in done)
