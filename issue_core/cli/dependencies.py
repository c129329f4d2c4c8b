"""``issue dep add|remove|list|tree``: links between issues (use cases in
``service.dependencies``, rules in ``core.dependencies``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import ISSUE_NUMBER
from issue_core.cli.session import get_session

if TYPE_CHECKING:
    from issue_core.core.dependencies import Link
    from issue_core.service.dependencies import TreeNode

LINK_FIELDS = ("kind", "source", "target", "changed")
LIST_FIELDS = ("number", "blocked_by", "blocks", "parent", "children", "related")
TREE_FIELDS = ("number", "title", "state", "children")
_LABELS = {
    "blocked_by": "blocked by",
    "blocks": "blocks",
    "parent": "parent",
    "children": "children",
    "related": "related",
}


def _link_options(command: Any) -> Any:
    for flag, name, help_text in reversed(
        [
            (
                "--blocks",
                "blocks",
                "This issue blocks OTHER (OTHER is not ready until it is closed).",
            ),
            ("--blocked-by", "blocked_by", "This issue waits for issue OTHER."),
            ("--parent", "parent", "Issue OTHER is this issue's parent (it is a sub-issue)."),
            ("--related", "related", "The two issues are related (no direction)."),
        ]
    ):
        command = click.option(flag, name, type=ISSUE_NUMBER, metavar="OTHER", help=help_text)(
            command
        )
    return command


def _chosen_link(number: int, **forms: int | None) -> Link:
    from issue_core.service.dependencies import link_for

    given = [(form, other) for form, other in forms.items() if other is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --blocks, --blocked-by, --parent, --related")
    form, other = given[0]
    return link_for(number, form, other)


def _link_data(link: Link, changed: bool) -> dict[str, Any]:
    return {
        "kind": link.kind.value,
        "source": link.source,
        "target": link.target,
        "changed": changed,
    }


@click.group("dep", cls=Group)
def dep_group() -> None:
    """Dependencies between issues: blocks, parent (sub-issues) and related.

    A blocked issue is not ready (`issue ready`) until every issue blocking it is closed. A
    cycle of blocks or of parents is refused (exit 4) with the cycle shown, as is a second
    parent; a link of an issue to itself is exit 2, to a missing issue exit 3.

    \b
    Examples:
      issue create "Design" && issue create "Build" && issue create "Ship"
      issue dep add 1 --blocks 2
      issue dep add 2 --blocks 3
      issue dep add 2 --parent 3
      issue dep list 2
      issue dep tree 3
      issue dep remove 2 --parent 3
    """


@dep_group.command("add")
@click.argument("number", type=ISSUE_NUMBER)
@_link_options
@output_options(LINK_FIELDS)
def add_cmd(number: int, **forms: int | None) -> Outcome:
    """Link issue NUMBER to another (adding a link that exists changes nothing)."""
    from issue_core.service.dependencies import add

    link = _chosen_link(number, **forms)
    changed = add(get_session().backend, link)
    said = link.describe() if changed else f"unchanged: {link.describe()} already"
    return Outcome(_link_data(link, changed), message=said, committed=changed)


@dep_group.command("remove")
@click.argument("number", type=ISSUE_NUMBER)
@_link_options
@output_options(LINK_FIELDS)
def remove_cmd(number: int, **forms: int | None) -> Outcome:
    """Remove a link, named as it was added (exit 3 when there is no such link)."""
    from issue_core.service.dependencies import remove

    link = _chosen_link(number, **forms)
    remove(get_session().backend, link)
    return Outcome(_link_data(link, True), message=f"removed: {link.describe()}")


@dep_group.command("list")
@click.argument("number", type=ISSUE_NUMBER)
@output_options(LIST_FIELDS)
def list_cmd(number: int) -> Outcome:
    """The issues linked to NUMBER, by relation, each with its number, title and state."""
    from issue_core.service.dependencies import dependencies

    found = dependencies(get_session().backend, number)
    lines = []
    for relation, label in _LABELS.items():
        for link in found.of(relation):
            lines.append(f"{label + ':':<12}#{link.number} {link.state:<11} {link.title}")
    if not lines:
        return Outcome(found, message=f"#{number} has no dependencies", committed=False)
    return Outcome(found, message=lines[0], lines=tuple(lines[1:]), committed=False)


@dep_group.command("tree")
@click.argument("number", type=ISSUE_NUMBER)
@output_options(TREE_FIELDS)
def tree_cmd(number: int) -> Outcome:
    """NUMBER with what blocks it and its sub-issues, recursively (an issue met twice is
    shown again, marked (repeated), but not expanded)."""
    from issue_core.service.dependencies import tree

    root = tree(get_session().backend, number)
    lines = _tree_lines(root)
    return Outcome(root, message=lines[0], lines=tuple(lines[1:]), committed=False)


def _tree_lines(root: TreeNode) -> list[str]:
    lines = [f"#{root.number} {root.state} {root.title}"]

    def walk(node: TreeNode, prefix: str) -> None:
        for index, child in enumerate(node.children):
            last = index == len(node.children) - 1
            label = _LABELS.get(child.relation or "", "")
            if child.relation == "children":
                label = "child"
            mark = " (repeated)" if child.repeated else ""
            branch = "└─ " if last else "├─ "
            lines.append(
                f"{prefix}{branch}{label} #{child.number} {child.state} {child.title}{mark}"
            )
            walk(child, prefix + ("   " if last else "│  "))

    walk(root, "")
    return lines
