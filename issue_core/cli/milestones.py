"""``issue milestone list|create|edit|close|delete``."""

from __future__ import annotations

from typing import Any

import click

from issue_core.cli.confirm import confirm_deletion, require_yes_off_a_terminal, yes_option
from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import TIMESTAMP, MilestoneStateType
from issue_core.cli.session import get_session
from issue_core.core.models import KEEP, Milestone, MilestoneState, parse_ts
from issue_core.service import catalog

MILESTONE_FIELDS = tuple(Milestone(title="x").to_dict())
DELETED_FIELDS = ("title", "id", "deleted", "issues")


@click.group("milestone", cls=Group)
def milestone_group() -> None:
    """Manage milestones.

    \b
    Examples:
      issue milestone list --state all
      issue milestone create v1.0 --due 2026-12-31 --description "First release"
      issue milestone edit v1.0 --title v1.0.0
      issue milestone close v1.0.0
      issue milestone delete v1.0.0 --yes
    """


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
@click.argument("title", metavar="TITLE|ID")
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
    due_on = KEEP if due is None else (parse_ts(due) if due else None)  # '' clears
    updated = catalog.edit_milestone(
        get_session().backend,
        title,
        new_title=new_title,
        description=description,
        due_on=due_on,
        state=state,
    )
    return Outcome(updated, message=f"updated milestone {updated.title}")


@milestone_group.command("close")
@click.argument("title", metavar="TITLE|ID")
@output_options(MILESTONE_FIELDS)
def close_milestone(title: str) -> Outcome:
    """Close a milestone (its issues are left as they are)."""
    updated = catalog.close_milestone(get_session().backend, title)
    return Outcome(updated, message=f"closed milestone {updated.title}")


@milestone_group.command("delete")
@click.argument("milestone", metavar="TITLE|ID")
@yes_option
@output_options(DELETED_FIELDS)
def delete_milestone(milestone: str, yes: bool) -> Outcome:
    """Delete a milestone; its issues are kept, without a milestone.

    TITLE is matched as other milestone commands match it; an ID (`milestone list --json
    title,id`) is accepted too. Asks first on a terminal (no: nothing is deleted, exit 0);
    elsewhere --yes is required. JSON: {"title", "id", "deleted", "issues"}.

    \b
    Examples:
      issue milestone create v0.9
      issue milestone delete v0.9 --yes
      issue milestone delete "$(issue milestone create v0.8 --json id --jq .id)" --yes
    """
    require_yes_off_a_terminal(yes)  # before anything is read
    backend = get_session().backend
    found = catalog.find_milestone(backend, milestone)
    count = catalog.milestone_issue_count(found)
    lose = f" ({count} issue{'s' if count != 1 else ''} will have no milestone)" if count else ""
    result = {"title": found.title, "id": found.id, "deleted": False, "issues": count}
    if not confirm_deletion(f"milestone {found.title!r}{lose}", yes=yes):
        return Outcome(result, message=f"not deleted: milestone {found.title}", committed=False)
    catalog.delete_milestone(backend, found)
    result["deleted"] = True
    return Outcome(result, message=f"deleted milestone {found.title}")
