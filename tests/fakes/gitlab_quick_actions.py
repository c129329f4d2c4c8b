"""GitLab's quick actions, as the fake GitLab runs them on descriptions and notes written through
its API (so that a backend which lets issue text through unguarded is caught).

What GitLab does (docs: user/project/quick_actions.md; its extractor,
lib/gitlab/quick_actions/extractor.rb; Notes::CreateService and UpdateService):

- a command is a line whose first character is ``/``, then a command name GitLab knows (any
  case), then nothing or a space and its argument; a line that starts with anything else (a
  blank, an invisible character) is text;
- lines inside a fenced code block (a line starting with three backticks, up to a line that is
  three backticks), an HTML block (a line that is a tag, up to a line that is a closing tag) or
  a ``>>>`` quote block are never commands;
- the commands run when an issue is created or its description is updated, and when a note is
  created or edited, with the writer's rights: a command the writer may not run is no command
  for them and stays in the text; the command lines are removed from the stored text;
- a note made of commands alone is not stored: the API answers ``202 Accepted`` with
  ``commands_changes`` and ``summary`` instead of a note; a note edited to commands alone is
  deleted.

Modelled: the commands that change what the fake keeps (state, title, labels, assignees,
milestone, due date, confidentiality, the discussion lock). Recognised and removed without an
effect the fake could show: time tracking, to-dos, subscriptions, awards, ``/cc``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from tests.fakes.gitlab_state import PLANNER

if TYPE_CHECKING:
    from tests.fakes.gitlab_request import Request
    from tests.fakes.gitlab_state import Issue, Project, User

# Commands the issue's author may run on it too (update_issue); the others need Planner.
AUTHOR_COMMANDS = frozenset({"close", "reopen", "title"})
PLANNER_COMMANDS = frozenset(
    {
        "label",
        "labels",
        "unlabel",
        "remove_label",
        "relabel",
        "assign",
        "unassign",
        "reassign",
        "milestone",
        "remove_milestone",
        "due",
        "remove_due_date",
        "confidential",
        "lock",
        "unlock",
    }
)
UNKEPT_COMMANDS = frozenset(
    {
        "spend",
        "spent",
        "remove_time_spent",
        "estimate",
        "remove_estimate",
        "todo",
        "done",
        "subscribe",
        "unsubscribe",
        "award",
        "cc",
    }
)
_COMMAND = re.compile(r"/(?P<name>[A-Za-z_]+)(?: (?P<arg>.*?))?\s*")
_OPEN_TAG = re.compile(r"<[^>]+>")
_CLOSE_TAG = re.compile(r"</[^>]+>")
# Arguments: ~label, ~"two words", @user, %milestone, %"two words", or "me".
_REFERENCE = re.compile(r'([~@%])(?:"([^"]*)"|(\S+))|\b(me)\b')


@dataclass(frozen=True)
class Command:
    name: str  # lower case
    arg: str


def _closes(opening: str, line: str) -> bool:
    if opening.startswith("```"):
        return line == "```"
    if opening.startswith(">>>"):
        return line == ">>>"
    return _CLOSE_TAG.fullmatch(line) is not None


def _block_end(lines: list[str], start: int) -> int | None:
    """The last line of the block that opens at ``start`` (a command is never read there)."""
    line = lines[start]
    tag = _OPEN_TAG.fullmatch(line) and not _CLOSE_TAG.fullmatch(line)
    if not (line.startswith("```") or line.startswith(">>>") or tag):
        return None
    return next((end for end in range(start + 1, len(lines)) if _closes(line, lines[end])), None)


def extract(text: str, names: frozenset[str]) -> tuple[str, list[Command]]:
    """``(text without its command lines, the commands)``: only ``names`` are commands."""
    lines = text.split("\n")
    kept: list[str] = []
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        end = _block_end(lines, index)
        if end is not None:
            kept += lines[index : end + 1]
            index = end + 1
            continue
        found = _COMMAND.fullmatch(lines[index])
        if found and found.group("name").lower() in names:
            commands.append(
                Command(found.group("name").lower(), (found.group("arg") or "").strip())
            )
        else:
            kept.append(lines[index])
        index += 1
    return "\n".join(kept), commands


def allowed(req: Request, project: Project, issue: Issue | None, user: User) -> frozenset[str]:
    """The commands ``user`` may run on ``issue`` (``None``: the issue being created)."""
    if req.level(project) >= PLANNER:
        return AUTHOR_COMMANDS | PLANNER_COMMANDS | UNKEPT_COMMANDS
    if issue is None or issue.author_id == user.id:
        return AUTHOR_COMMANDS | UNKEPT_COMMANDS
    return UNKEPT_COMMANDS


def _references(arg: str, sigil: str) -> list[str]:
    names = []
    for found in _REFERENCE.finditer(arg):
        if found.group(4) and sigil == "@":
            names.append("me")
        elif found.group(1) == sigil:
            names.append(found.group(2) if found.group(2) is not None else found.group(3))
    return names


def run(
    req: Request, project: Project, issue: Issue, user: User, commands: list[Command]
) -> tuple[dict[str, Any], list[str]]:
    """Run ``commands`` on ``issue`` as ``user``: ``(commands_changes, summary)``, and a system
    note for each change, as the API's own edits write them."""
    from tests.fakes import gitlab_events
    from tests.fakes.gitlab_api import assignees_note, due_date_note

    state = req.state
    before = gitlab_events.Before.of(issue)
    changes: dict[str, Any] = {}
    summary: list[str] = []
    notes: list[str] = []
    for command in commands:
        name, arg = command.name, command.arg
        if name == "close" and issue.state != "closed":
            issue.state, issue.closed_at, issue.closed_by = "closed", state.now(), user.id
            changes["state_event"] = "close"
            summary.append("Closed this issue.")
        elif name == "reopen" and issue.state == "closed":
            issue.state, issue.closed_at, issue.closed_by = "opened", None, None
            changes["state_event"] = "reopen"
            summary.append("Reopened this issue.")
        elif name == "title" and arg and arg != issue.title:
            notes.append(gitlab_events.title_note(issue.title, arg))
            issue.title = changes["title"] = arg
            summary.append(f'Changed the title to "{arg}".')
        elif name in ("label", "labels", "relabel", "unlabel", "remove_label"):
            found = [state.label_named(project, n) for n in _references(arg, "~")]
            wanted = [label.name for label in found if label is not None]
            if name == "relabel":
                issue.labels = []
            if name in ("unlabel", "remove_label"):
                gone = set(wanted) if arg else set(issue.labels)
                issue.labels = [n for n in issue.labels if n not in gone]
            else:
                issue.labels += [n for n in wanted if n not in issue.labels]
            changes["labels"] = list(issue.labels)
            summary.append(f"Set the labels to {', '.join(issue.labels) or 'none'}.")
        elif name in ("assign", "reassign", "unassign"):
            ids = []
            for login in _references(arg, "@"):
                found_user = user if login == "me" else state.user_by_name(login)
                if found_user is not None:
                    ids.append(found_user.id)
            old_ids = list(issue.assignee_ids)
            if name == "reassign":
                issue.assignee_ids = ids
            elif name == "assign":
                issue.assignee_ids += [i for i in ids if i not in issue.assignee_ids]
            else:
                issue.assignee_ids = [i for i in issue.assignee_ids if arg and i not in ids]
            changes["assignee_ids"] = list(issue.assignee_ids)
            summary.append("Changed the assignees.")
            if issue.assignee_ids != old_ids:
                notes.append(assignees_note(req, old_ids, issue.assignee_ids))
        elif name == "milestone":
            titles = _references(arg, "%")
            milestone = next(
                (
                    m
                    for m in state.milestones_of(project, ancestors=True)
                    if titles and m.title == titles[0]
                ),
                None,
            )
            if milestone is not None:
                issue.milestone_id = changes["milestone_id"] = milestone.id
                summary.append(f"Set the milestone to %{milestone.iid}.")
        elif name == "remove_milestone" and issue.milestone_id is not None:
            issue.milestone_id = changes["milestone_id"] = None
            summary.append("Removed the milestone.")
        elif name == "due":
            try:
                issue.due_date = changes["due_date"] = date.fromisoformat(arg).isoformat()
            except ValueError:
                continue
            summary.append(f"Set the due date to {issue.due_date}.")
            notes.append(due_date_note(issue.due_date))
        elif name == "remove_due_date" and issue.due_date is not None:
            issue.due_date = changes["due_date"] = None
            summary.append("Removed the due date.")
            notes.append("removed due date")
        elif name == "confidential":
            issue.confidential = changes["confidential"] = True
            summary.append("Made this issue confidential.")
        elif name in ("lock", "unlock"):
            issue.discussion_locked = changes["discussion_locked"] = name == "lock"
            summary.append(f"{name.capitalize()}ed the discussion.")
        else:
            summary.append(f"Ran /{name}.")  # an effect the fake keeps nothing of
    if notes:
        issue.updated = state.now()
        for text in notes:
            state.system_note(project, issue, user, text)
    gitlab_events.record(state, project, issue, user, before)
    return changes, summary
