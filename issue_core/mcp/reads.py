"""The read tools: ``issues_list`` (filters, the query language, the ready queue, pages) and
``issue_read`` (one issue's details, comments, dependencies or events). Each parses its
arguments into the domain's terms, calls a ``service/`` use case and shapes the answer
(``shapes``); none writes, so ``--read-only`` registers exactly these."""

from __future__ import annotations

from typing import Any

from issue_core.core.errors import UsageError
from issue_core.core.models import ISSUE_FIELDS, NOT_CLOSED, IssueFilter
from issue_core.mcp import shapes
from issue_core.mcp.arguments import for_method
from issue_core.mcp.session import McpSession


def issues_list(session: McpSession, args: dict[str, Any]) -> dict[str, Any]:
    from issue_core.service import issues

    fields = shapes.checked_fields(args.get("fields"), shapes.COMPACT_FIELDS)
    size = int(args.get("limit", shapes.PAGE_SIZE))
    question = {k: v for k, v in args.items() if k not in ("cursor", "limit", "fields")}
    offset = shapes.cursor_offset(args.get("cursor"), question)
    query = None
    if args.get("query") is not None:
        from issue_core.core.query import parse

        query = parse(args["query"])
    state = args.get("state")
    if args.get("ready") and (state is not None or "sort" in args or query is not None):
        raise UsageError("ready lists open issues by priority: drop state, sort and query")
    default: list[Any] | None = (
        None if query is not None and query.names_state else list(NOT_CLOSED)
    )
    backend = lambda: session.backend  # noqa: E731  (opened only once the input is good)
    issue_filter = IssueFilter(
        state=(None if state == "all" else state) if state is not None else default,
        labels=args.get("labels"),
        assignee=issues.resolve_me(args.get("assignee"), backend),
        limit=offset + size + 1,  # one more: whether a next page exists
        sort=args.get("sort", "created"),
        query=query,
    )
    if args.get("ready"):
        from issue_core.service.ready import ready_issues

        found = ready_issues(session.backend, issue_filter)
    else:
        found = issues.list_issues(session.backend, issue_filter)
    return shapes.page(found, offset, size, question, fields)


READ_METHODS = {
    "details": ("fields",),
    "comments": (),
    "dependencies": (),
    "events": ("since",),
}


def issue_read(session: McpSession, args: dict[str, Any]) -> dict[str, Any]:
    method = args.get("method", "details")
    for_method("issue_read", method, args, needs=("number",), takes=READ_METHODS[method])
    number = int(args["number"])
    if method == "details":
        from issue_core.service.issues import get_issue

        fields = shapes.checked_fields(args.get("fields"), ISSUE_FIELDS)
        issue = get_issue(session.backend, number, with_comments="comments" in fields)
        return {"issue": shapes.issue_shape(issue, fields)}
    if method == "comments":
        from issue_core.service.issues import comments

        return {"comments": [c.to_dict() for c in comments(session.backend, number)]}
    if method == "dependencies":
        from issue_core.service.dependencies import dependencies

        return {"dependencies": dependencies(session.backend, number).to_dict()}
    from issue_core.service.events import list_events

    found = list_events(session.backend, number, since=args.get("since"), limit=shapes.PAGE_CAP)
    return {"events": [event.to_dict() for event in found]}
