"""The fake GitLab's resource events, as GitLab (13.x and later) records and serves them.

GitLab keeps three changes of an issue in tables of their own rather than as system notes
(app/services/resource_events/*, app/services/system_notes/issuables_service.rb):

- ``resource_state_events``: closing and reopening (``state``: ``closed``, ``opened``; the
  docs' and gitbeaker's ``StateEventSchema`` values), by the REST API, a quick action or
  anything else;
- ``resource_label_events``: one row per label added or removed (``action`` ``add`` /
  ``remove``, the ``label``), also for the labels an issue is created with;
- ``resource_milestone_events``: the milestone set (``add``, the new one) or removed
  (``remove``, the old one), also at creation.

Each is listed under its issue (``GET /projects/:id/issues/:eventable_id/resource_*_events``;
doc/api/resource_*_events.md), oldest first, in offset pages whose ``Link`` URLs carry
``eventable_id`` and ``id`` (as the recorded gitlab.com answer does). Everything else an edit
changes (title, description, assignees, due date, links) stays a system note
(``gitlab_api``, ``gitlab_links``); ``title_note`` writes the title's note with GitLab's
inline-diff marks (``{-old-}`` / ``{+new+}`` around the changed part).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakes.gitea import Reply
from tests.fakes.gitlab_paging import offset_page
from tests.fakes.gitlab_request import ApiError
from tests.fakes.gitlab_state import Issue, Project, User, iso_ms

if TYPE_CHECKING:
    from tests.fakes.gitlab_request import Request
    from tests.fakes.gitlab_state import GitLabState

TABLES = ("state", "label", "milestone")


@dataclass
class ResourceEvent:
    id: int
    table: str  # state | label | milestone
    issue_iid: int
    user_id: int
    created: int
    action: str = "add"  # label and milestone rows: add | remove
    state: str | None = None  # state rows: opened | closed
    label_id: int | None = None
    milestone_id: int | None = None


@dataclass(frozen=True)
class Before:
    """What an issue's recorded fields were before a change."""

    state: str
    labels: tuple[str, ...]
    milestone_id: int | None

    @classmethod
    def of(cls, issue: Issue) -> Before:
        return cls(issue.state, tuple(issue.labels), issue.milestone_id)


CREATED = Before("opened", (), None)


def record(store: GitLabState, project: Project, issue: Issue, user: User, before: Before) -> None:
    """The resource events of what changed on ``issue`` since ``before`` (labels added, then
    removed; the milestone; the state), as GitLab writes them after a change."""
    with store.lock:
        ids = {label.name.lower(): label.id for label in store.labels_of(project)}
        old = {name.lower() for name in before.labels}
        new = {name.lower() for name in issue.labels}
        added = [n for n in issue.labels if n.lower() not in old]
        removed = [n for n in before.labels if n.lower() not in new]
        for action, names in (("add", added), ("remove", removed)):
            for name in names:
                label_id = ids.get(name.lower())
                _add(store, project, issue, user, "label", action=action, label_id=label_id)
        if issue.milestone_id != before.milestone_id:
            action = "add" if issue.milestone_id is not None else "remove"
            milestone = (
                issue.milestone_id if issue.milestone_id is not None else before.milestone_id
            )
            _add(store, project, issue, user, "milestone", action=action, milestone_id=milestone)
        if issue.state != before.state:
            _add(store, project, issue, user, "state", state=issue.state)


def _add(
    store: GitLabState, project: Project, issue: Issue, user: User, table: str, **fields: Any
) -> None:
    event = ResourceEvent(
        store.next_id(f"{table}_event"), table, issue.iid, user.id, store.now(), **fields
    )
    project.resource_events.append(event)
    issue.updated = max(issue.updated, event.created)


def title_note(old: str, new: str) -> str:
    """GitLab's note of a rename: the changed middle of each title marked (InlineDiff)."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1

    def mark(text: str, opening: str, closing: str) -> str:
        middle = text[start : len(text) - end]
        if not middle:
            return text
        return f"{text[:start]}{opening}{middle}{closing}{text[len(text) - end :]}"

    return f"changed title from **{mark(old, '{-', '-}')}** to **{mark(new, '{+', '+}')}**"


# --------------------------------------------------------------------------- endpoints


def _render(req: Request, project: Project, issue: Issue, event: ResourceEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": event.id,
        "user": req.fake.shapes.user(req.state.users[event.user_id]),
        "created_at": iso_ms(event.created),
        "resource_type": "Issue",
        "resource_id": issue.id,
    }
    if event.table == "state":
        data["state"] = event.state
        return data
    if event.table == "label":
        label = next(
            (lab for lab in req.state.labels_of(project) if lab.id == event.label_id), None
        )
        # A deleted label's rows stay, without the label (LEFT JOIN).
        data["label"] = (
            None
            if label is None
            else {
                "id": label.id,
                "name": label.name,
                "color": label.color,
                "description": label.description,
            }
        )
    else:
        milestone = req.state.milestone_by_id(project, event.milestone_id or 0)
        data["milestone"] = None if milestone is None else req.fake.shapes.milestone(milestone)
    data["action"] = event.action
    return data


def _rows(req: Request, table: str) -> tuple[Project, Issue, list[ResourceEvent]]:
    project = req.project()
    raw = req.ctx.params["eventable_id"]
    issue = project.issues.get(int(raw)) if raw.isdigit() else None
    if issue is None:
        raise ApiError(404, "404 Not found")
    rows = sorted(
        (e for e in project.resource_events if e.table == table and e.issue_iid == issue.iid),
        key=lambda e: e.id,
    )
    return project, issue, rows


def _lister(table: str) -> Any:
    def list_events(req: Request) -> Reply:
        project, issue, rows = _rows(req, table)
        return offset_page(req, rows, lambda e: _render(req, project, issue, e))

    return list_events


def _getter(table: str) -> Any:
    def get_event(req: Request) -> Reply:
        project, issue, rows = _rows(req, table)
        raw = req.ctx.params["event_id"]
        found = next((e for e in rows if raw.isdigit() and e.id == int(raw)), None)
        if found is None:
            raise ApiError(404, "404 Not found")
        return Reply(200, _render(req, project, issue, found))

    return get_event


_EVENTS = r"/issues/(?P<eventable_id>[^/]+)/resource_{}_events"
ROUTES: list[tuple[str, dict[str, Any]]] = [
    *((_EVENTS.format(table), {"GET": _lister(table)}) for table in TABLES),
    *(
        (_EVENTS.format(table) + r"/(?P<event_id>[^/]+)", {"GET": _getter(table)})
        for table in TABLES
    ),
]
