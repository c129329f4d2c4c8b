"""Issue commands: init, list, show, create, edit, close, reopen, comment.

Each command parses its flags, calls the backend, and returns domain objects; printing is the
output module's job and failures travel to the one error path.
"""

from __future__ import annotations

import os
from typing import Any

import click

from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import (
    ISSUE_NUMBER,
    TIMESTAMP,
    IssueStateType,
    read_text_source,
    split_commas,
    split_states,
    split_values,
)
from issue_core.cli.session import get_session
from issue_core.core.errors import Unsupported
from issue_core.core.interfaces import Capability
from issue_core.core.models import (
    ISSUE_FIELDS,
    Comment,
    Issue,
    IssueFilter,
    IssueState,
    validate_comment,
    validate_description,
    validate_label_name,
    validate_title,
)

LIST_FIELDS = tuple(name for name in ISSUE_FIELDS if name != "comments")
COMMENT_FIELDS = tuple(Comment(body="").to_dict())
INIT_FIELDS = ("backend", "path", "created")
ME = "@me"


def _who(value: str | None) -> str | None:
    """``@me`` stands for the identity the backend acts as (``issue whoami``), like in gh:
    on a forge the token's owner, on the local store the configured identity."""
    if value == ME:
        return get_session().backend.whoami().username
    return value


def _description(text: str | None, source: str | None) -> str | None:
    if text is not None and source is not None:
        raise click.UsageError("give --description or --description-file, not both")
    if source is not None:
        text = read_text_source(source, "--description-file")
    return None if text is None else validate_description(text)


# --------------------------------------------------------------------------- init


@click.command("init")
@click.option(
    "--path",
    type=click.Path(dir_okay=False),
    help="Create the local store at this file instead of the configured one.",
)
@output_options(INIT_FIELDS)
def init_cmd(path: str | None) -> Outcome:
    """Create the local store (safe to repeat: an existing store is kept).

    Without --path, the store of the backend in use is created (by default
    .issue-core/issues.db at the top of the git repository). Other commands create it on
    their first write anyway; init makes it explicit.

    \b
    Examples:
      issue init
      issue init --path /tmp/scratch.db --format json
    """
    from issue_core.core.config import BackendConfig

    session = get_session()
    session.announce_created_store = False  # init says it itself
    if path is not None:
        chosen = BackendConfig("local", "local", {"path": os.path.abspath(path)}, "explicit")
    else:
        chosen = session.resolve()
    backend = session.connect(chosen)
    init_store = getattr(backend, "init_store", None)
    if init_store is None:
        raise Unsupported(f"the {chosen.type} backend {chosen.name!r} has no local store to create")
    store_path = str(init_store())
    created = bool(getattr(backend, "created_store_path", None))
    if path is not None:
        _note_if_unused(session.resolve(), store_path)
    verb = "created local store at" if created else "found existing local store at"
    data = {"backend": chosen.name, "path": store_path, "created": created}
    return Outcome(data, message=f"{verb} {store_path}")


def _note_if_unused(current: Any, store_path: str) -> None:
    in_use = current.settings.get("path") if current.type == "local" else None
    if in_use is None or os.path.abspath(in_use) != os.path.abspath(store_path):
        click.echo(
            f"note: commands here use backend {current.name!r}; to use this store: "
            f"issue backend add NAME local --path {store_path} --default",
            err=True,
        )


# --------------------------------------------------------------------------- list / show


@click.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    callback=split_states,
    metavar="[open|in_progress|closed|all]",
    help="Only issues in this state (repeat or comma-separate; 'all' for every state) "
    "[default: open,in_progress, i.e. not closed].",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    callback=split_commas,
    metavar="LABEL",
    help="Only issues with this label (repeat or comma-separate; all must match).",
)
@click.option("--assignee", metavar="USER", help="Only issues assigned to USER (@me: you).")
@click.option("--milestone", metavar="TITLE", help="Only issues in this milestone.")
@click.option("--author", metavar="USER", help="Only issues opened by USER (@me: you).")
@click.option(
    "--search", metavar="TEXT", help="Full-text search in titles, descriptions, comments."
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
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    metavar="N",
    default=30,
    show_default=True,
    help="At most N issues; 0 means no limit.",
)
@output_options(LIST_FIELDS, empty="no issues match")
def list_cmd(
    states: list[Any],
    labels: list[str],
    assignee: str | None,
    milestone: str | None,
    author: str | None,
    search: str | None,
    since: Any,
    sort: str,
    order: str,
    limit: int,
) -> list[Issue]:
    """List issues (those not closed, newest first, by default).

    \b
    Examples:
      issue list
      issue list --state all --label bug,p1 --assignee @me
      issue list --search "login" --sort updated --limit 5
      issue list --format json | jq -r '.[0].number'
      issue list --json number,title --jq '.[] | "\\(.number) \\(.title)"'
    """
    issue_filter = IssueFilter(
        state=states or [IssueState.OPEN, IssueState.IN_PROGRESS],
        labels=[validate_label_name(name) for name in labels],
        assignee=_who(assignee),
        milestone=milestone,
        author=_who(author),
        text=search or None,
        updated_since=since,
        limit=limit or None,
        sort=sort,
        direction=order,
    )
    backend = get_session().backend
    if search:
        backend.require(Capability.FULL_TEXT_SEARCH, "full-text search (--search)")
    return backend.list_issues(issue_filter)


@click.command("show")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--comments", is_flag=True, help="Include the comments.")
@output_options(ISSUE_FIELDS)
def show_cmd(number: int, comments: bool) -> Issue:
    """Show one issue.

    \b
    Examples:
      issue show 12
      issue show '#12' --comments
      issue show 12 --json title,state,labels
    """
    from issue_core.cli.output import current_output

    with_comments = comments or current_output().wants_field("comments")
    return get_session().backend.get_issue(number, with_comments=with_comments)


# --------------------------------------------------------------------------- writes


@click.command("create")
@click.argument("title")
@click.option("--description", metavar="TEXT", help="The issue's description (Markdown).")
@click.option(
    "--description-file",
    metavar="FILE",
    help="Read the description from FILE ('-' for stdin).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    callback=split_commas,
    metavar="LABEL",
    help="Add a label (repeat or comma-separate).",
)
@click.option(
    "--assignee",
    "assignees",
    multiple=True,
    callback=split_commas,
    metavar="USER",
    help="Assign a user (repeat or comma-separate; @me: you).",
)
@click.option("--milestone", metavar="TITLE", help="Put the issue in this milestone.")
@click.option("--create-labels", is_flag=True, help="Create labels that do not exist yet.")
@output_options(ISSUE_FIELDS)
def create_cmd(
    title: str,
    description: str | None,
    description_file: str | None,
    labels: list[str],
    assignees: list[str],
    milestone: str | None,
    create_labels: bool,
) -> Outcome:
    """Create an issue and print it.

    \b
    Examples:
      issue create "Fix the login bug"
      issue create "Crash on start" --label bug,p1 --assignee @me --create-labels
      git log -1 --format=%B | issue create "Follow up" --description-file -
      issue create "Write docs" --format json --jq .number
    """
    issue = Issue(
        title=validate_title(title),
        description=_description(description, description_file) or "",
        labels=[validate_label_name(name) for name in labels],
        assignees=[name for name in (_who(a) for a in assignees) if name],
        milestone=milestone or None,
    )
    created = get_session().backend.create_issue(issue, create_labels=create_labels)
    return Outcome(created, message=f"created #{created.number} {created.title}")


EDIT_FLAGS = (
    "--title",
    "--description",
    "--description-file",
    "--state",
    "--assignee",
    "--add-label",
    "--remove-label",
    "--milestone",
)


@click.command("edit")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--title", metavar="TEXT", help="New title.")
@click.option("--description", metavar="TEXT", help="New description.")
@click.option(
    "--description-file", metavar="FILE", help="Read the new description from FILE ('-': stdin)."
)
@click.option("--state", type=IssueStateType(), help="New state (in-progress is accepted too).")
@click.option(
    "--assignee",
    "assignees",
    multiple=True,
    metavar="USER",
    help="Replace the assignees (repeat or comma-separate; '' clears; @me: you).",
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
@click.option("--milestone", metavar="TITLE", help="Move to this milestone ('' clears).")
@click.option("--create-labels", is_flag=True, help="Create added labels that do not exist yet.")
@output_options(ISSUE_FIELDS)
def edit_cmd(
    number: int,
    title: str | None,
    description: str | None,
    description_file: str | None,
    state: IssueState | None,
    assignees: tuple[str, ...],
    add_labels: list[str],
    remove_labels: list[str],
    milestone: str | None,
    create_labels: bool,
) -> Outcome:
    """Change an issue's fields; fields you do not name are left alone.

    Concurrent edits of other fields are merged; a concurrent edit of the same field exits 4.

    \b
    Examples:
      issue edit 12 --state in-progress --assignee agent-1
      issue edit 12 --add-label p1 --remove-label triage
      issue edit 12 --milestone ''
    """
    new_description = _description(description, description_file)
    new_title = validate_title(title) if title is not None else None
    wanted_assignees = split_values(assignees)  # kept apart from split_commas: '' must clear
    added = [validate_label_name(name) for name in add_labels]
    if not any(
        (
            new_title is not None,
            new_description is not None,
            state is not None,
            assignees,
            added,
            remove_labels,
            milestone is not None,
        )
    ):
        raise click.UsageError(f"nothing to change; give at least one of {', '.join(EDIT_FLAGS)}")
    backend = get_session().backend
    issue = backend.get_issue(number)
    if new_title is not None:
        issue.title = new_title
    if new_description is not None:
        issue.description = new_description
    if state is not None:
        issue.state = state
    if assignees:
        issue.assignees = [name for name in (_who(a) for a in wanted_assignees) if name]
    if added or remove_labels:
        removed = {name.lower() for name in remove_labels}
        kept = [name for name in issue.labels if name.lower() not in removed]
        issue.labels = list(dict.fromkeys([*kept, *added]))
    if milestone is not None:
        issue.milestone = milestone or None
    updated = backend.update_issue(issue, create_labels=create_labels)
    return Outcome(updated, message=f"updated #{updated.number} {updated.title}")


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
        return Outcome(backend.get_issue(number) if body else issue, message=message)
    issue.state = IssueState.CLOSED if closed else IssueState.OPEN
    updated = backend.update_issue(issue)
    return Outcome(updated, message=f"{verb} #{updated.number} {updated.title}")


@click.command("close")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--comment", metavar="TEXT", help="Add this comment before closing.")
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
@click.option("--comment", metavar="TEXT", help="Add this comment before reopening.")
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
