"""`issue create` and `issue edit`."""

from __future__ import annotations

from datetime import datetime

import click

from issue_core.cli.issues import description_from
from issue_core.cli.output import Outcome, note, output_options
from issue_core.cli.params import (
    ISSUE_NUMBER,
    DueType,
    IssueStateType,
    PriorityType,
    split_commas,
    split_values,
)
from issue_core.cli.session import backend, get_session
from issue_core.core.models import (
    ISSUE_FIELDS,
    KEEP,
    Issue,
    IssueChanges,
    IssueState,
    validate_label_name,
    validate_title,
)
from issue_core.service import issues as service


def usernames(values: object) -> list[str]:
    """``--assignee`` values: comma-separated, ``@me`` is you, ``@bob`` is bob."""
    return service.usernames(split_values(values), backend)


@click.command("create")
@click.argument("title", required=False)
@click.option(
    "-t", "--title", "title_option", metavar="TEXT", help="The title (instead of TITLE, as gh)."
)
@click.option(
    "-b",
    "--body",
    "--description",
    "description",
    metavar="TEXT",
    help="The issue's description (Markdown).",
)
@click.option(
    "-F",
    "--body-file",
    "--description-file",
    "description_file",
    metavar="FILE",
    help="Read the description from FILE ('-' for stdin).",
)
@click.option(
    "-l",
    "--label",
    "labels",
    multiple=True,
    callback=split_commas,
    metavar="LABEL",
    help="Add a label (repeat or comma-separate).",
)
@click.option(
    "-a",
    "--assignee",
    "assignees",
    multiple=True,
    callback=split_commas,
    metavar="USER",
    help="Assign a user (repeat or comma-separate; @me: you).",
)
@click.option("-m", "--milestone", metavar="TITLE", help="Put the issue in this milestone.")
@click.option("--priority", type=PriorityType(), help="Priority, 0 (critical) to 4 (backlog).")
@click.option("--due", type=DueType(), help="Due date (ISO 8601, e.g. 2026-12-24).")
@click.option(
    "--create-labels",
    is_flag=True,
    help='Create labels that do not exist yet, even with labels.create = "never".',
)
@output_options(ISSUE_FIELDS)
def create_cmd(
    title: str | None,
    title_option: str | None,
    description: str | None,
    description_file: str | None,
    labels: list[str],
    assignees: list[str],
    milestone: str | None,
    priority: int | None,
    due: datetime | None,
    create_labels: bool,
) -> Outcome:
    """Create an issue and print it.

    Labels that do not exist yet are created (one note on stderr names them), unless the
    configuration says labels.create = "never".

    \b
    Examples:
      issue create "Fix the login bug"
      issue create "Crash on start" --label bug,p1 --assignee @me --create-labels
      issue create "Rotate the keys" --priority high --due 2026-12-24
      git log -1 --format=%B | issue create "Follow up" --body-file -
      issue create -t "Write docs" -b "For the API" -l docs --json number --jq .number
    """
    issue = Issue(
        title=validate_title(one_title(title, title_option)),
        description=description_from(description, description_file) or "",
        labels=[validate_label_name(name) for name in labels],
        assignees=usernames(assignees),
        milestone=milestone or None,
        priority=priority,
        due_at=due,
    )
    session = get_session()
    opened = session.backend
    allowed = service.may_create_labels(session.config, forced=create_labels)
    written = service.create_issue(opened, issue, create_labels=allowed)
    created = _noted(written)
    return Outcome(created, message=f"created #{created.number} {created.title}")


def one_title(argument: str | None, option: str | None) -> str:
    """The title, given as TITLE or (as gh users write it) --title, once."""
    if argument is not None and option is not None and argument != option:
        raise click.UsageError("give the title once: as TITLE or with --title")
    title = argument if argument is not None else option
    if title is None:
        raise click.UsageError("missing the title: issue create TITLE (or --title TEXT)")
    return title


def _noted(written: service.Written) -> Issue:
    """The stored issue, after one note naming the labels the write created."""
    if written.created_labels:
        note(f"issue-core: created label(s) {', '.join(written.created_labels)}")  # made safe
    return written.issue


EDIT_FLAGS = (
    "--title",
    "--body",
    "--body-file",
    "--state",
    "--assignee",
    "--add-assignee",
    "--remove-assignee",
    "--add-label",
    "--remove-label",
    "--milestone",
    "--priority",
    "--due",
)


@click.command("edit")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("-t", "--title", metavar="TEXT", help="New title.")
@click.option(
    "-b", "--body", "--description", "description", metavar="TEXT", help="New description."
)
@click.option(
    "-F",
    "--body-file",
    "--description-file",
    "description_file",
    metavar="FILE",
    help="Read the new description from FILE ('-': stdin).",
)
@click.option(
    "-s", "--state", type=IssueStateType(), help="New state (in-progress is accepted too)."
)
@click.option(
    "-a",
    "--assignee",
    "assignees",
    multiple=True,
    metavar="USER",
    help="Replace the assignees (repeat or comma-separate; '' clears; @me: you).",
)
@click.option(
    "--add-assignee",
    "add_assignees",
    multiple=True,
    metavar="USER",
    help="Add an assignee, keeping the others (repeat or comma-separate).",
)
@click.option(
    "--remove-assignee",
    "remove_assignees",
    multiple=True,
    metavar="USER",
    help="Remove an assignee, keeping the others (repeat or comma-separate).",
)
@click.option(
    "--add-label",
    "add_labels",
    multiple=True,
    callback=split_commas,
    metavar="LABEL",
    help="Add a label (repeat or comma-separate).",
)
@click.option(
    "--remove-label",
    "remove_labels",
    multiple=True,
    callback=split_commas,
    metavar="LABEL",
    help="Remove a label (repeat or comma-separate).",
)
@click.option("-m", "--milestone", metavar="TITLE", help="Move to this milestone ('' clears).")
@click.option("--priority", type=PriorityType(), help="New priority, 0-4 or a name ('' clears).")
@click.option("--due", type=DueType(), help="New due date, ISO 8601 ('' clears).")
@click.option(
    "--create-labels",
    is_flag=True,
    help='Create added labels that do not exist yet, even with labels.create = "never".',
)
@output_options(ISSUE_FIELDS)
def edit_cmd(
    number: int,
    title: str | None,
    description: str | None,
    description_file: str | None,
    state: IssueState | None,
    assignees: tuple[str, ...],
    add_assignees: tuple[str, ...],
    remove_assignees: tuple[str, ...],
    add_labels: list[str],
    remove_labels: list[str],
    milestone: str | None,
    priority: int | str | None,
    due: datetime | str | None,
    create_labels: bool,
) -> Outcome:
    """Change an issue's fields; fields you do not name are left alone.

    Concurrent edits of other fields are merged; a concurrent edit of the same field exits 4.

    \b
    Examples:
      issue edit 12 --state in-progress --assignee agent-1
      issue edit 12 --add-label p1 --remove-label triage
      issue edit 12 --add-assignee @me --remove-assignee bob
      issue edit 12 --milestone ''
      issue edit 12 -t "Crash on start-up" -b "Seen on 1.4 and 1.5"
      issue edit 12 --priority 1 --due 2026-12-24
    """
    changes = IssueChanges(
        title=title,
        description=description_from(description, description_file),
        state=state,
        # '' clears, so an empty list still replaces: hence split_values, not split_commas.
        assignees=usernames(assignees) if assignees else None,
        add_assignees=usernames(add_assignees),
        remove_assignees=usernames(remove_assignees),
        add_labels=add_labels,
        remove_labels=remove_labels,
        milestone=KEEP if milestone is None else (milestone or None),
        priority=KEEP if priority is None else (priority if priority != "" else None),
        due_at=KEEP if due is None else (due if due != "" else None),
    )
    if changes.is_empty():
        raise click.UsageError(f"nothing to change; give at least one of {', '.join(EDIT_FLAGS)}")
    session = get_session()
    opened = session.backend
    allowed = service.may_create_labels(session.config, forced=create_labels)
    updated = _noted(service.edit_issue(opened, number, changes, create_labels=allowed))
    return Outcome(updated, message=f"updated #{updated.number} {updated.title}")
