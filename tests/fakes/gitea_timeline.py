"""The fake Gitea's issue timeline: ``GET /repos/{o}/{r}/issues/{index}/timeline``, and the
history it shows, recorded as Gitea records it when an issue changes through the API.

In Gitea every change of an issue is a row of the ``comment`` table with a type
(``models/issues/comment.go``): a plain comment (type ``comment``) and the events (``close``,
``reopen``, ``label``, ``assignees``, ``change_title``, ``milestone``, ``add_dependency``,
``remove_dependency``, ``added_deadline``/``modified_deadline``/``removed_deadline``). So the
events share the comments' id sequence, and creating one sets the issue's ``updated_unix``
(``updateCommentInfos`` ends with ``UpdateIssueCols(..., "updated_unix")``), which is what
lets a reader find changed issues by the issue list's ``since``. What this fake records:

- ``label``: one row per label added (``body`` "1") or removed (``body`` ""), also for the
  labels an issue is created with (``newIssueLabel``);
- ``assignees``: one row per assignee added or removed (``removed_assignee``), also at
  creation (``AddAssigneeIfNotAssigned``);
- ``change_title`` with ``old_title``/``new_title``; ``close``/``reopen``; ``milestone`` with
  ``old_milestone``/``milestone``; the deadline rows with ``body`` "new|old";
- ``add_dependency``/``remove_dependency`` on *both* issues, each naming the other as
  ``dependent_issue`` (``createIssueDependencyComment``).

A body edit records nothing (Gitea keeps no row for it). ``ListIssueCommentsAndTimeline``
lists every row of the issue by ``created_unix`` then id, ``since``/``before`` on
``updated_unix`` (inclusive), paged by ``page``/``limit`` with ``X-Total-Count`` and no
``Link``; each row in the ``TimelineComment`` shape with Gitea's zero values (``null`` for an
object it does not have).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakes.gitea_state import Comment, Issue, Repo, iso

if TYPE_CHECKING:
    from tests.fakes.gitea import Ctx, FakeGitea, Reply


@dataclass
class Row:
    """One timeline row that is not a plain comment (those stay in ``repo.comments``)."""

    id: int
    issue_number: int
    type: str
    poster: str
    created: int
    body: str = ""
    label_id: int | None = None
    assignee: str | None = None
    removed_assignee: bool = False
    old_title: str = ""
    new_title: str = ""
    milestone_id: int = 0
    old_milestone_id: int = 0
    dependent_issue_id: int | None = None


def rows_of(repo: Repo) -> list[Row]:
    return repo.timeline  # type: ignore[no-any-return]


def record(fake: FakeGitea, repo: Repo, issue: Issue, kind: str, poster: str, **fields: Any) -> Row:
    """A timeline row of ``issue`` by ``poster`` now; the issue's ``updated`` moves with it."""
    now = fake.state.now()
    row = Row(fake.state.next_id("comment"), issue.number, kind, poster.lower(), now, **fields)
    rows_of(repo).append(row)
    issue.updated = now
    return row


def snapshot(issue: Issue) -> tuple[Any, ...]:
    """What ``record_edit`` compares: title, state, assignees, milestone, deadline."""
    return (issue.title, issue.closed, list(issue.assignees), issue.milestone_id, issue.deadline)


def record_edit(
    fake: FakeGitea, repo: Repo, issue: Issue, before: tuple[Any, ...], poster: str
) -> None:
    """The rows Gitea's EditIssue writes for what changed since ``before`` (``snapshot``)."""
    title, closed, assignees, milestone, deadline = before
    if issue.title != title:
        record(fake, repo, issue, "change_title", poster, old_title=title, new_title=issue.title)
    record_assignees(fake, repo, issue, assignees, poster)
    if issue.milestone_id != milestone:
        record(
            fake, repo, issue, "milestone", poster,
            milestone_id=issue.milestone_id, old_milestone_id=milestone,
        )  # fmt: skip
    if issue.deadline != deadline:
        kind = (
            "added_deadline"
            if deadline is None
            else "removed_deadline"
            if issue.deadline is None
            else "modified_deadline"
        )
        # createDeadlineComment: the new date, the old one (removed), or "new|old".
        new, old = _date(issue.deadline), _date(deadline)
        body = (
            new if kind == "added_deadline" else old if issue.deadline is None else f"{new}|{old}"
        )
        record(fake, repo, issue, kind, poster, body=body)
    if issue.closed != closed:
        record(fake, repo, issue, "close" if issue.closed else "reopen", poster)


def _date(moment: int | None) -> str:
    """``TimeStamp.FormatDate``: the day, in the server's zone (UTC here)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d") if moment else ""


def record_assignees(
    fake: FakeGitea, repo: Repo, issue: Issue, before: list[str], poster: str
) -> None:
    for login in before:
        if login not in issue.assignees:
            record(fake, repo, issue, "assignees", poster, assignee=login, removed_assignee=True)
    for login in issue.assignees:
        if login not in before:
            record(fake, repo, issue, "assignees", poster, assignee=login)


def record_labels(
    fake: FakeGitea, repo: Repo, issue: Issue, before: list[int], poster: str
) -> None:
    for label_id in before:
        if label_id not in issue.label_ids:
            record(fake, repo, issue, "label", poster, label_id=label_id, body="")
    for label_id in issue.label_ids:
        if label_id not in before:
            record(fake, repo, issue, "label", poster, label_id=label_id, body="1")


def record_dependency(
    fake: FakeGitea,
    blocked: tuple[Repo, Issue],
    blocker: tuple[Repo, Issue],
    poster: str,
    *,
    add: bool,
) -> None:
    kind = "add_dependency" if add else "remove_dependency"
    for (repo, issue), (_, other) in ((blocked, blocker), (blocker, blocked)):
        record(fake, repo, issue, kind, poster, dependent_issue_id=other.id)


def forget_issue(repo: Repo, issue: Issue) -> None:
    repo.timeline = [row for row in rows_of(repo) if row.issue_number != issue.number]


# -- the endpoint -------------------------------------------------------------------------------


def list_timeline(fake: FakeGitea, ctx: Ctx) -> Reply:
    from tests.fakes.gitea import HttpError, Reply, issue_of, page_window, repo_of, time_arg

    if not fake.timeline_api:
        raise HttpError(404, "not found")  # an unknown route of an older Gitea
    repo = repo_of(fake, ctx)
    issue = issue_of(repo, ctx.params["index"])
    since, before = time_arg(ctx, "since"), time_arg(ctx, "before")
    entries: list[Comment | Row] = [
        *(c for c in repo.comments.values() if c.issue_number == issue.number),
        *(r for r in rows_of(repo) if r.issue_number == issue.number),
    ]
    found = [
        entry
        for entry in sorted(entries, key=lambda e: (e.created, e.id))
        if (since is None or _updated(entry) >= since)
        and (before is None or _updated(entry) <= before)
    ]
    page, size = page_window(fake, ctx)
    window = found[(page - 1) * size : page * size]
    body = [_shape(fake, repo, issue, entry) for entry in window]
    headers = {"X-Total-Count": str(len(found)), "Access-Control-Expose-Headers": "X-Total-Count"}
    return Reply(200, body, headers)


def _updated(entry: Comment | Row) -> int:
    return entry.updated if isinstance(entry, Comment) else entry.created


def _shape(fake: FakeGitea, repo: Repo, issue: Issue, entry: Comment | Row) -> dict[str, Any]:
    """``convert.ToTimelineComment``: every field, objects ``null`` when the row has none."""
    shapes, state = fake.shapes, fake.state
    page = f"{fake.base_url}/{repo.full_name}/issues/{issue.number}"
    data: dict[str, Any] = {
        "id": entry.id,
        "type": "comment",
        "html_url": f"{page}#issuecomment-{entry.id}",
        "pull_request_url": "",
        "issue_url": page,
        "user": shapes.user(state.users[entry.poster]),
        "body": entry.body,
        "created_at": iso(entry.created),
        "updated_at": iso(_updated(entry)),
        "old_project_id": 0,
        "project_id": 0,
        "old_milestone": None,
        "milestone": None,
        "tracked_time": None,
        "old_title": "",
        "new_title": "",
        "old_ref": "",
        "new_ref": "",
        "ref_issue": None,
        "ref_comment": None,
        "ref_action": "",
        "ref_commit_sha": "",
        "review_id": 0,
        "label": None,
        "assignee": None,
        "assignee_team": None,
        "resolve_doer": None,
        "dependent_issue": None,
        "removed_assignee": False,
    }
    if isinstance(entry, Row):
        data.update(type=entry.type, old_title=entry.old_title, new_title=entry.new_title)
        data["removed_assignee"] = entry.removed_assignee
        label = repo.labels.get(entry.label_id or 0)
        if label is not None:
            data["label"] = shapes.label(repo, label)
        assignee = state.users.get(entry.assignee or "")
        if assignee is not None:
            data["assignee"] = shapes.user(assignee)
        for key, ident in (
            ("milestone", entry.milestone_id),
            ("old_milestone", entry.old_milestone_id),
        ):
            milestone = repo.milestones.get(ident)
            if milestone is not None:
                data[key] = shapes.milestone(repo, milestone)
        dependent = _issue_by_id(fake, entry.dependent_issue_id)
        if dependent is not None:
            data["dependent_issue"] = shapes.issue(state, *dependent)
    return data


def _issue_by_id(fake: FakeGitea, issue_id: int | None) -> tuple[Repo, Issue] | None:
    for repo in fake.state.repos.values():
        for issue in repo.issues.values():
            if issue.id == issue_id:
                return repo, issue
    return None


ROUTES: list[tuple[str, dict[str, Any]]] = [
    ("/issues/(?P<index>[^/]+)/timeline", {"GET": list_timeline}),
]
