"""``issue_write``: create, edit, close, reopen, comment on and delete issues, through the same
use cases as ``issue create|edit|close|reopen|comment|delete`` and with the same rules:
labels named are created unless ``labels.create = "never"``, ``@me`` is the acting identity,
closing a closed issue changes nothing, deleting needs ``confirm: true`` (the CLI's ``--yes``).
Every write is made by the agent the server acts as (``session``)."""

from __future__ import annotations

from typing import Any

from issue_core.core.errors import UsageError
from issue_core.core.models import (
    KEEP,
    Issue,
    IssueChanges,
    parse_priority,
    parse_ts,
    validate_description,
    validate_label_name,
    validate_title,
)
from issue_core.mcp import shapes
from issue_core.mcp.arguments import for_method
from issue_core.mcp.session import McpSession
from issue_core.service import issues

FIELDS_OF_AN_ISSUE = ("title", "body", "labels", "assignees", "milestone", "priority", "due")
NEEDS: dict[str, tuple[str, ...]] = {
    "create": ("title",),
    "edit": ("number",),
    "close": ("number",),
    "reopen": ("number",),
    "comment": ("number", "body"),
    "delete": ("number", "confirm"),
}
TAKES: dict[str, tuple[str, ...]] = {
    "create": FIELDS_OF_AN_ISSUE,
    "edit": (*FIELDS_OF_AN_ISSUE, "remove_labels", "state"),
    "close": ("comment", "reason"),
    "reopen": ("comment",),
    "comment": (),
    "delete": (),
}


def _written(written: issues.Written) -> dict[str, Any]:
    answer: dict[str, Any] = {"issue": shapes.issue_shape(written.issue, shapes.COMPACT_FIELDS)}
    if written.created_labels:
        answer["created_labels"] = written.created_labels
    return answer


def _cleared(value: Any, parse: Any) -> Any:
    """An optional field of an edit: absent is kept, null or '' clears, else parsed."""
    return None if value in (None, "") else parse(value)


def issue_write(session: McpSession, args: dict[str, Any]) -> dict[str, Any]:
    method = args["method"]
    for_method("issue_write", method, args, needs=NEEDS[method], takes=TAKES[method])
    backend = lambda: session.backend  # noqa: E731  (opened only once the input is good)
    number = int(args.get("number") or 0)
    may_create = issues.may_create_labels(session.config)
    if method == "create":
        issue = Issue(
            title=validate_title(args["title"]),
            description=validate_description(args.get("body", "")),
            labels=[validate_label_name(name) for name in args.get("labels", ())],
            assignees=issues.usernames(args.get("assignees", ()), backend),
            milestone=args.get("milestone") or None,
            priority=_cleared(args.get("priority"), parse_priority),
            due_at=_cleared(args.get("due"), parse_ts),
        )
        return _written(issues.create_issue(session.backend, issue, create_labels=may_create))
    if method == "edit":
        changes = IssueChanges(
            title=args.get("title"),
            description=args.get("body"),
            state=args.get("state"),
            assignees=issues.usernames(args["assignees"], backend) if "assignees" in args else None,
            add_labels=[validate_label_name(name) for name in args.get("labels", ())],
            remove_labels=list(args.get("remove_labels", ())),
            milestone=(args["milestone"] or None) if "milestone" in args else KEEP,
            priority=_cleared(args["priority"], parse_priority) if "priority" in args else KEEP,
            due_at=_cleared(args["due"], parse_ts) if "due" in args else KEEP,
        )
        if changes.is_empty():
            raise UsageError("edit: nothing to change", hint=f"give one of {TAKES['edit']}")
        return _written(
            issues.edit_issue(session.backend, number, changes, create_labels=may_create)
        )
    if method in ("close", "reopen"):
        done = issues.set_closed(
            session.backend,
            number,
            args.get("comment"),
            closed=method == "close",
            reason=args.get("reason"),
        )
        shape = shapes.issue_shape(done.issue, shapes.COMPACT_FIELDS)
        return {"issue": shape, "changed": done.changed}
    if method == "comment":
        return {"comment": issues.add_comment(session.backend, number, args["body"]).to_dict()}
    if args["confirm"] is not True:
        raise UsageError("delete: deleting is for good; say confirm: true")
    run = issues.delete_issues(session.backend, [number], lambda _issue: True)
    gone = run.deleted[0]
    return {"issue": shapes.issue_shape(gone, shapes.COMPACT_FIELDS), "deleted": True}
