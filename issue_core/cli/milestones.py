"""``issue milestone list|create|edit|close``."""

from __future__ import annotations

from typing import Any

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import TIMESTAMP, MilestoneStateType
from issue_core.cli.session import get_session
from issue_core.core.errors import NotFound
from issue_core.core.interfaces import IssueBackend
from issue_core.core.models import Milestone, MilestoneState, parse_ts

MILESTONE_FIELDS = tuple(Milestone(title="x").to_dict())


@click.group("milestone", cls=Group)
def milestone_group() -> None:
    """Manage milestones.

    \b
    Examples:
      issue milestone list --state all
      issue milestone create v1.0 --due 2026-12-31 --description "First release"
      issue milestone edit v1.0 --title v1.0.0
      issue milestone close v1.0.0
    """


def _find(backend: IssueBackend, title: str) -> Milestone:
    for milestone in backend.list_milestones():
        if milestone.title.lower() == title.strip().lower():
            return milestone
    raise NotFound(f"milestone {title!r} not found", hint="see: issue milestone list --state all")


@milestone_group.command("list")
@click.option(
    "--state",
    type=MilestoneStateType(allow_all=True),
    default="open",
    show_default=True,
    help="Only milestones in this state.",
)
@output_options(MILESTONE_FIELDS, empty="no milestones match")
def list_milestones(state: Any) -> list[Milestone]:
    """List milestones (by due date, then title)."""
    return get_session().backend.list_milestones(None if state == "all" else state)


@milestone_group.command("create")
@click.argument("title")
@click.option("--description", metavar="TEXT", help="What the milestone is for.")
@click.option("--due", type=TIMESTAMP, help="Due date (ISO 8601, e.g. 2026-12-31).")
@output_options(MILESTONE_FIELDS)
def create_milestone(title: str, description: str | None, due: Any) -> Outcome:
    """Create a milestone (exit 4 if it exists)."""
    milestone = Milestone(title=title, description=description, due_on=due)
    created = get_session().backend.create_milestone(milestone)
    return Outcome(created, message=f"created milestone {created.title}")


@milestone_group.command("edit")
@click.argument("title")
@click.option("--title", "new_title", metavar="NEW", help="Rename the milestone.")
@click.option("--description", metavar="TEXT", help="New description.")
@click.option("--due", metavar="DATE", help="New due date (ISO 8601; '' clears).")
@click.option("--state", type=MilestoneStateType(), help="Open or close it.")
@output_options(MILESTONE_FIELDS)
def edit_milestone(
    title: str,
    new_title: str | None,
    description: str | None,
    due: str | None,
    state: MilestoneState | None,
) -> Outcome:
    """Change a milestone; fields you do not name are left alone."""
    if new_title is None and description is None and due is None and state is None:
        raise click.UsageError("nothing to change; give --title, --description, --due or --state")
    due_on = parse_ts(due) if due else None
    backend = get_session().backend
    current = _find(backend, title)
    if new_title is not None:
        current.title = new_title
    if description is not None:
        current.description = description
    if due is not None:
        current.due_on = due_on
    if state is not None:
        current.state = state
    updated = backend.update_milestone(title, current)
    return Outcome(updated, message=f"updated milestone {updated.title}")


@milestone_group.command("close")
@click.argument("title")
@output_options(MILESTONE_FIELDS)
def close_milestone(title: str) -> Outcome:
    """Close a milestone (its issues are left as they are)."""
    backend = get_session().backend
    current = _find(backend, title)
    current.state = MilestoneState.CLOSED
    updated = backend.update_milestone(title, current)
    return Outcome(updated, message=f"closed milestone {updated.title}")
