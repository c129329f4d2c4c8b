"""``issue label list|create|edit|delete``."""

from __future__ import annotations

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.session import get_session
from issue_core.core.models import Label

LABEL_FIELDS = tuple(Label(name="x").to_dict())
DELETED_FIELDS = ("name", "deleted")


@click.group("label", cls=Group)
def label_group() -> None:
    """Manage labels.

    \b
    Examples:
      issue label list
      issue label create bug --color d73a4a --description "Something is broken"
      issue label edit bug --name defect
      issue label delete defect
    """


@label_group.command("list")
@output_options(LABEL_FIELDS, empty="no labels yet")
def list_labels() -> list[Label]:
    """List labels by name."""
    return get_session().backend.list_labels()


@label_group.command("create")
@click.argument("name")
@click.option("--color", metavar="HEX", help="Colour as hex, e.g. d73a4a or #f00.")
@click.option("--description", metavar="TEXT", help="What the label means.")
@output_options(LABEL_FIELDS)
def create_label(name: str, color: str | None, description: str | None) -> Outcome:
    """Create a label (exit 4 if it exists)."""
    label = get_session().backend.create_label(Label(name, color, description))
    return Outcome(label, message=f"created label {label.name}")


@label_group.command("edit")
@click.argument("name")
@click.option("--name", "new_name", metavar="NEW", help="Rename the label (issues keep it).")
@click.option("--color", metavar="HEX", help="New colour.")
@click.option("--description", metavar="TEXT", help="New description.")
@output_options(LABEL_FIELDS)
def edit_label(
    name: str, new_name: str | None, color: str | None, description: str | None
) -> Outcome:
    """Rename a label or change its colour or description."""
    if new_name is None and color is None and description is None:
        raise click.UsageError("nothing to change; give --name, --color or --description")
    from issue_core.service.catalog import edit_label as edit

    backend = get_session().backend
    label = edit(backend, name, new_name=new_name, color=color, description=description)
    return Outcome(label, message=f"updated label {label.name}")


@label_group.command("delete")
@click.argument("name")
@output_options(DELETED_FIELDS)
def delete_label(name: str) -> Outcome:
    """Delete a label and remove it from every issue."""
    get_session().backend.delete_label(name)
    return Outcome({"name": name, "deleted": True}, message=f"deleted label {name}")
