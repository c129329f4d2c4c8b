"""The fake GitLab's endpoints (``/api/v4``) and its route table; the semantics they copy are
listed in ``tests/fakes/gitlab.py``'s docstring."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from tests.fakes import gitlab_events, gitlab_links
from tests.fakes import gitlab_quick_actions as quick_actions
from tests.fakes.gitea import Reply
from tests.fakes.gitlab_paging import _comparable, keyset_page, offset_page
from tests.fakes.gitlab_request import ApiError, Request
from tests.fakes.gitlab_state import (
    GUEST,
    MAINTAINER,
    OWNER,
    PLANNER,
    REPORTER,
    Issue,
    Label,
    Milestone,
    Note,
    Project,
    iso_ms,
    parse_time,
)

DEFAULT_LABEL_COLOR = "#6699cc"
KEYSET_SINCE = (18, 3)
KEYSET_ORDERS = ("id", "title", "created_at", "updated_at", "due_date")
ISSUE_ORDERS = (
    "created_at",
    "updated_at",
    "priority",
    "due_date",
    "relative_position",
    "label_priority",
    "milestone_due",
    "popularity",
    "weight",
    "title",
    "id",
)
EDIT_FIELDS = (
    "title",
    "description",
    "labels",
    "add_labels",
    "remove_labels",
    "assignee_id",
    "assignee_ids",
    "milestone_id",
    "state_event",
    "due_date",
    "confidential",
    "discussion_locked",
    "updated_at",
    "issue_type",
    "weight",
    "epic_id",
    "epic_iid",
)
_COLOR = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_NAMED_COLORS = {
    "red": "#FF0000",
    "green": "#008000",
    "blue": "#0000FF",
    "black": "#000000",
    "white": "#FFFFFF",
    "orange": "#FFA500",
    "yellow": "#FFFF00",
}
Handler = Callable[[Request], Reply]


# --------------------------------------------------------------------------- server and users


def get_version(req: Request) -> Reply:
    req.need_scope(False)
    req.need_user()  # GET /version needs a token on GitLab
    data = dict(req.fake.shapes.version_template)
    data["version"] = req.fake.version
    data["enterprise"] = False
    return Reply(200, data)


def get_current_user(req: Request) -> Reply:
    req.need_scope(False, user_scope=True)
    return Reply(200, req.fake.shapes.current_user(req.need_user()))


def list_users(req: Request) -> Reply:
    req.need_scope(False, user_scope=True)
    users = sorted(req.state.users.values(), key=lambda u: u.id, reverse=True)
    username = req.arg("username")
    if username:
        users = [u for u in users if u.username.lower() == username.lower()]
    search = (req.arg("search") or "").lower()
    if search:
        users = [u for u in users if search in u.username.lower() or search in u.name.lower()]
    return offset_page(req, users, req.fake.shapes.user)


def get_token_self(req: Request) -> Reply:
    user = req.need_user()
    token = req.token
    assert token is not None
    return Reply(
        200,
        {
            "id": token.id,
            "name": token.name,
            "revoked": token.revoked,
            "created_at": iso_ms(user.created),
            "description": None,
            "scopes": list(token.scopes),
            "user_id": user.id,
            "last_used_at": iso_ms(req.state.now()),
            "active": not (token.revoked or token.expired),
            "expires_at": token.expires_at,
        },
    )


def get_project(req: Request) -> Reply:
    project = req.project()
    return Reply(200, req.fake.shapes.project(project, req.user.id if req.user else None))


def list_project_users(req: Request) -> Reply:
    project = req.project()
    users = req.state.members(project)
    search = (req.arg("search") or "").lower()
    if search:
        users = [u for u in users if search in u.username.lower() or search in u.name.lower()]
    return offset_page(req, users, req.fake.shapes.user)


# --------------------------------------------------------------------------- issues


def _note_counts(project: Project) -> dict[int, int]:
    counts: dict[int, int] = {}
    for note in project.notes.values():
        if not note.system:
            counts[note.issue_iid] = counts.get(note.issue_iid, 0) + 1
    return counts


def _issue_of(req: Request, project: Project) -> Issue:
    raw = req.ctx.params["iid"]
    issue = project.issues.get(int(raw)) if raw.isdigit() else None
    if issue is None:
        raise ApiError(404, "404 Not found")
    return issue


def _time_filter(req: Request, name: str) -> int | None:
    raw = req.arg(name)
    if not raw:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise ApiError(400, error=f"{name} is invalid") from None


def _issue_filter(req: Request, project: Project) -> Callable[[Issue], bool]:
    state = req.arg("state") or "all"
    if state not in ("opened", "closed", "all"):
        raise ApiError(400, error="state does not have a valid value")
    labels = req.list_arg("labels") or []
    milestone = req.arg("milestone")
    milestone_titles: dict[int, str] = {
        m.id: m.title for m in req.state.milestones_of(project, ancestors=True)
    }
    assignee_names = [n.lower() for n in req.list_arg("assignee_username") or []]
    assignee_id = req.arg("assignee_id")
    author_name = (req.arg("author_username") or "").lower()
    author_id = req.int_arg("author_id")
    search = (req.arg("search") or "").lower()
    where = req.list_arg("in") or ["title", "description"]
    iids = {int(i) for i in req.list_arg("iids") or [] if i.isdigit()}
    times = {
        name: _time_filter(req, name)
        for name in ("created_after", "created_before", "updated_after", "updated_before")
    }
    users = req.state.users

    def keep(issue: Issue) -> bool:
        if state != "all" and issue.state != state:
            return False
        names = {n.lower() for n in issue.labels}
        if labels == ["None"] and names:
            return False
        if labels == ["Any"] and not names:
            return False
        if labels not in (["None"], ["Any"]) and not {n.lower() for n in labels} <= names:
            return False
        if milestone == "None" and issue.milestone_id:
            return False
        if milestone == "Any" and not issue.milestone_id:
            return False
        if milestone not in (None, "", "None", "Any") and (
            milestone_titles.get(issue.milestone_id or 0) != milestone
        ):
            return False
        assigned = {users[i].username.lower() for i in issue.assignee_ids}
        if assignee_names and not set(assignee_names) <= assigned:
            return False
        if assignee_id == "None" and assigned:
            return False
        if assignee_id == "Any" and not assigned:
            return False
        if assignee_id and assignee_id.isdigit() and int(assignee_id) not in issue.assignee_ids:
            return False
        if author_name and users[issue.author_id].username.lower() != author_name:
            return False
        if author_id is not None and issue.author_id != author_id:
            return False
        if iids and issue.iid not in iids:
            return False
        if search:
            text = " ".join(
                (
                    issue.title if "title" in where else "",
                    issue.description if "description" in where else "",
                )
            ).lower()
            if not all(word in text for word in search.split()):
                return False
        return _in_times(issue, times)

    return keep


def _in_times(issue: Issue, times: dict[str, int | None]) -> bool:
    checks = (
        (times["created_after"], issue.created, True),
        (times["created_before"], issue.created, False),
        (times["updated_after"], issue.updated, True),
        (times["updated_before"], issue.updated, False),
    )
    for bound, value, after in checks:
        if bound is not None and (value < bound if after else value > bound):
            return False
    return True


def _order_key(order: str) -> Callable[[Issue], tuple[Any, int]]:
    column: dict[str, Callable[[Issue], Any]] = {
        "created_at": lambda i: i.created,
        "updated_at": lambda i: i.updated,
        "due_date": lambda i: i.due_date,
        "title": lambda i: i.title,
        "id": lambda i: i.id,
    }
    pick = column.get(order, column["created_at"])  # orders the fake does not model: by creation
    return lambda issue: (pick(issue), issue.id)


def list_issues(req: Request) -> Reply:
    project = req.project()
    order = req.arg("order_by") or "created_at"
    if order not in ISSUE_ORDERS:
        raise ApiError(400, error="order_by does not have a valid value")
    sort = req.arg("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise ApiError(400, error="sort does not have a valid value")
    keep = _issue_filter(req, project)
    key = _order_key(order)
    found = sorted(
        (i for i in project.issues.values() if keep(i)),
        key=lambda i: _comparable(key(i)),
        reverse=sort == "desc",
    )
    counts = _note_counts(project)

    def render(issue: Issue) -> Any:
        return req.fake.shapes.issue(project, issue, counts)

    keyset = (
        req.arg("pagination") == "keyset"
        and req.fake.version_tuple() >= KEYSET_SINCE
        and order in KEYSET_ORDERS
    )
    if keyset:
        return keyset_page(req, found, key, descending=sort == "desc", render=render)
    return offset_page(req, found, render)


def issues_statistics(req: Request) -> Reply:
    project = req.project()
    keep = _issue_filter(req, project)
    found = [i for i in project.issues.values() if keep(i)]
    opened = sum(1 for i in found if i.state == "opened")
    counts = {"all": len(found), "closed": len(found) - opened, "opened": opened}
    return Reply(200, {"statistics": {"counts": counts}})


def get_issue(req: Request) -> Reply:
    project = req.project()
    return Reply(
        200, req.fake.shapes.issue(project, _issue_of(req, project), _note_counts(project))
    )


def _color(raw: Any) -> str:
    text = str(raw or "").strip()
    if text.lower() in _NAMED_COLORS:
        return _NAMED_COLORS[text.lower()]
    if not _COLOR.match(text):
        raise ApiError(400, {"color": ["must be a valid color code"]})
    return text


def label_names_for(req: Request, project: Project, raw: str | None, *, create: bool) -> list[str]:
    """Comma-separated names -> the names as the project spells them; unknown ones created
    (GitLab's ``Labels::FindOrCreateService``) when the caller may, else dropped."""
    names: list[str] = []
    for part in (raw or "").split(","):
        name = part.strip()
        if not name:
            continue
        label = req.state.label_named(project, name)
        if label is None and create:
            label = req.state.new_label(project, name, DEFAULT_LABEL_COLOR)
        if label is not None and label.name not in names:
            names.append(label.name)
    return names


def _assignee_ids(req: Request, project: Project) -> list[int] | None:
    raw = req.params.get("assignee_ids")
    if raw is None and req.params.get("assignee_id") is not None:
        raw = [req.params["assignee_id"]]
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else str(raw).split(",")
    ids: list[int] = []
    for item in items:
        text = str(item).strip()
        if text in ("", "0"):
            continue
        if not text.isdigit():
            raise ApiError(400, error="assignee_ids is invalid")
        # An id of someone who cannot see the issue is dropped, as GitLab does.
        visible = int(text) in req.state.users and req.state.access_level(project, int(text))
        if visible and int(text) not in ids:
            ids.append(int(text))
    return ids


def _milestone_id(req: Request, project: Project) -> int | None:
    raw = req.params.get("milestone_id", ...)
    if raw is ...:
        return -1  # not given
    if raw in (None, "", 0, "0"):
        return None
    text = str(raw)
    if not text.isdigit():
        raise ApiError(400, error="milestone_id is invalid")
    found = req.state.milestone_by_id(project, int(text))
    return found.id if found else -2  # unknown: dropped without a word


def _due_date(req: Request) -> str | None:
    raw = req.params.get("due_date")
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw)[:10]).isoformat()
    except ValueError:
        raise ApiError(400, error="due_date is invalid") from None


def create_issue(req: Request) -> Reply:
    project = req.project(write=True)
    user = req.need_level(project, GUEST) if project.visibility == "private" else req.need_user()
    title = req.arg("title")
    if title is None:
        raise ApiError(400, error="title is missing")
    if not title.strip():
        raise ApiError(400, {"title": ["can't be blank"]})
    if len(title) > 255:
        raise ApiError(400, {"title": ["is too long (maximum is 255 characters)"]})
    planner = req.level(project) >= PLANNER
    allowed = quick_actions.allowed(req, project, None, user)
    description, commands = quick_actions.extract(req.arg("description") or "", allowed)
    issue = req.state.new_issue(project, title, user, description)
    if req.bool_arg("confidential"):
        issue.confidential = True
    if planner:
        issue.labels = label_names_for(req, project, req.arg("labels"), create=True)
        issue.assignee_ids = _assignee_ids(req, project) or []
        milestone = _milestone_id(req, project)
        issue.milestone_id = milestone if milestone and milestone > 0 else None
        issue.due_date = _due_date(req)
    gitlab_events.record(req.state, project, issue, user, gitlab_events.CREATED)
    quick_actions.run(req, project, issue, user, commands)
    return Reply(201, req.fake.shapes.issue(project, issue, _note_counts(project)))


def edit_issue(req: Request) -> Reply:
    project = req.project(write=True)
    user = req.need_user()
    issue = _issue_of(req, project)
    if not any(name in req.params for name in EDIT_FIELDS):
        raise ApiError(
            400,
            error=", ".join(EDIT_FIELDS[:12]) + " are missing, at least one "
            "parameter must be provided",
        )
    planner = req.level(project) >= PLANNER
    if not planner and issue.author_id != user.id:
        raise ApiError(403, "403 Forbidden")
    before = _fingerprint(issue)
    recorded = gitlab_events.Before.of(issue)
    notes: list[str] = []
    title = req.arg("title")
    if title is not None:
        if not title.strip():
            raise ApiError(400, {"title": ["can't be blank"]})
        if title != issue.title:
            notes.append(gitlab_events.title_note(issue.title, title))
            issue.title = title
    description = req.arg("description")
    commands: list[quick_actions.Command] = []
    if description is not None:
        allowed = quick_actions.allowed(req, project, issue, user)
        description, commands = quick_actions.extract(description, allowed)
    if description is not None and description != issue.description:
        issue.description = description
        notes.append("changed the description")
    if req.bool_arg("confidential") is not None:
        issue.confidential = bool(req.bool_arg("confidential"))
    if req.bool_arg("discussion_locked") is not None:
        issue.discussion_locked = req.bool_arg("discussion_locked")
    if planner:
        notes += _apply_planner_edit(req, project, issue)
    event = req.arg("state_event")
    if event is not None:
        if event not in ("close", "reopen"):
            raise ApiError(400, error="state_event does not have a valid value")
        if event == "close" and issue.state != "closed":
            issue.state, issue.closed_at, issue.closed_by = "closed", req.state.now(), user.id
        elif event == "reopen" and issue.state == "closed":
            issue.state, issue.closed_at, issue.closed_by = "opened", None, None
    if _fingerprint(issue) != before:
        issue.updated = req.state.now()
        for text in notes:
            req.state.system_note(project, issue, user, text)
        gitlab_events.record(req.state, project, issue, user, recorded)
    quick_actions.run(req, project, issue, user, commands)
    return Reply(200, req.fake.shapes.issue(project, issue, _note_counts(project)))


def _apply_planner_edit(req: Request, project: Project, issue: Issue) -> list[str]:
    notes: list[str] = []
    if req.arg("labels") is not None:
        issue.labels = label_names_for(req, project, req.arg("labels"), create=True)
    for name in label_names_for(req, project, req.arg("add_labels"), create=True):
        if name not in issue.labels:
            issue.labels.append(name)
    removed = {n.lower() for n in req.list_arg("remove_labels") or []}
    issue.labels = [n for n in issue.labels if n.lower() not in removed]
    assignees = _assignee_ids(req, project)
    if assignees is not None and assignees != issue.assignee_ids:
        notes.append(assignees_note(req, issue.assignee_ids, assignees))
        issue.assignee_ids = assignees
    milestone = _milestone_id(req, project)
    if milestone != -1 and milestone != -2 and milestone != issue.milestone_id:
        issue.milestone_id = milestone
    if "due_date" in req.params:
        due = _due_date(req)
        if due != issue.due_date:
            issue.due_date = due
            notes.append(due_date_note(due))
    return notes


def assignees_note(req: Request, old: list[int], new: list[int]) -> str:
    """GitLab's note of an assignee change (SystemNotes::IssuablesService
    #change_issuable_assignees): "assigned to @a and @b and unassigned @c"."""

    def sentence(ids: list[int]) -> str:
        names = [f"@{req.state.users[i].username}" for i in ids]
        if len(names) <= 2:
            return " and ".join(names)
        return ", ".join(names[:-1]) + ", and " + names[-1]  # Rails' to_sentence

    added = [i for i in new if i not in old]
    gone = [i for i in old if i not in new]
    parts = [f"assigned to {sentence(added)}"] if added else []
    parts += [f"unassigned {sentence(gone)}"] if gone else []
    return " and ".join(parts)


def due_date_note(due: str | None) -> str:
    """GitLab's note of a due date change ("changed due date to December 24, 2026")."""
    if due is None:
        return "removed due date"
    day = date.fromisoformat(due)
    return f"changed due date to {day.strftime('%B')} {day.day}, {day.year}"


def _fingerprint(issue: Issue) -> tuple[Any, ...]:
    return (
        issue.title,
        issue.description,
        issue.state,
        tuple(issue.labels),
        tuple(issue.assignee_ids),
        issue.milestone_id,
        issue.due_date,
        issue.confidential,
        issue.discussion_locked,
    )


def delete_issue(req: Request) -> Reply:
    project = req.project(write=True)
    issue = _issue_of(req, project)
    req.need_level(project, OWNER)
    del project.issues[issue.iid]
    gitlab_links.forget_issue(req, issue)
    for note_id in [n.id for n in project.notes.values() if n.issue_iid == issue.iid]:
        del project.notes[note_id]
    project.resource_events = [e for e in project.resource_events if e.issue_iid != issue.iid]
    return Reply(204)


# --------------------------------------------------------------------------- notes


def list_notes(req: Request) -> Reply:
    project = req.project()
    issue = _issue_of(req, project)
    order = req.arg("order_by") or "created_at"
    if order not in ("created_at", "updated_at"):
        raise ApiError(400, error="order_by does not have a valid value")
    sort = req.arg("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise ApiError(400, error="sort does not have a valid value")
    attr = "created" if order == "created_at" else "updated"
    notes = sorted(
        (n for n in project.notes.values() if n.issue_iid == issue.iid),
        key=lambda n: (getattr(n, attr), n.id),
        reverse=sort == "desc",
    )
    return offset_page(req, notes, lambda n: req.fake.shapes.note(project, n))


def _note_of(req: Request, project: Project, issue: Issue) -> Note:
    raw = req.ctx.params["note_id"]
    note = project.notes.get(int(raw)) if raw.isdigit() else None
    if note is None or note.issue_iid != issue.iid:
        raise ApiError(404, "404 Not found")
    return note


def get_note(req: Request) -> Reply:
    project = req.project()
    note = _note_of(req, project, _issue_of(req, project))
    return Reply(200, req.fake.shapes.note(project, note))


def _note_body(req: Request) -> str:
    body = req.arg("body")
    if body is None:
        raise ApiError(400, error="body is missing")
    if not body.strip():
        raise ApiError(400, {"note": ["can't be blank"]})
    return body


def create_note(req: Request) -> Reply:
    project = req.project(write=True)
    user = req.need_level(project, GUEST) if project.visibility == "private" else req.need_user()
    issue = _issue_of(req, project)
    if issue.discussion_locked and req.level(project) < REPORTER:
        raise ApiError(403, "403 Forbidden")
    allowed = quick_actions.allowed(req, project, issue, user)
    body, commands = quick_actions.extract(_note_body(req), allowed)
    if commands and not body.strip():
        # Commands alone: GitLab runs them and stores no note.
        changes, summary = quick_actions.run(req, project, issue, user, commands)
        return Reply(202, {"commands_changes": changes, "summary": summary})
    note = req.state.new_note(project, issue, user, body)
    quick_actions.run(req, project, issue, user, commands)
    return Reply(201, req.fake.shapes.note(project, note))


def edit_note(req: Request) -> Reply:
    project = req.project(write=True)
    user = req.need_user()
    note = _note_of(req, project, _issue_of(req, project))
    if note.system or note.author_id != user.id:
        raise ApiError(403, "403 Forbidden")
    issue = _issue_of(req, project)
    allowed = quick_actions.allowed(req, project, issue, user)
    body, commands = quick_actions.extract(_note_body(req), allowed)
    quick_actions.run(req, project, issue, user, commands)
    if commands and not body.strip():
        # Edited to commands alone: GitLab runs them and deletes the note.
        del project.notes[note.id]
        return Reply(200, req.fake.shapes.note(project, note))
    if body != note.body:
        note.body, note.updated = body, req.state.now()
        # Note's after_save :touch_noteable: saving a note moves its issue's updated_at too.
        _issue_of(req, project).updated = note.updated
    return Reply(200, req.fake.shapes.note(project, note))


def delete_note(req: Request) -> Reply:
    project = req.project(write=True)
    user = req.need_user()
    issue = _issue_of(req, project)
    note = _note_of(req, project, issue)
    if note.author_id != user.id and req.level(project) < MAINTAINER:
        raise ApiError(403, "403 Forbidden")
    del project.notes[note.id]
    issue.updated = req.state.now()
    return Reply(204)


def search_project(req: Request) -> Reply:
    project = req.project()
    scope = req.arg("scope")
    if scope is None:
        raise ApiError(400, error="scope is missing, search is missing")
    text = (req.arg("search") or "").lower()
    if scope == "notes":
        found = [
            n
            for n in sorted(project.notes.values(), key=lambda n: n.id, reverse=True)
            if text in n.body.lower()
        ]
        return offset_page(req, found, lambda n: req.fake.shapes.note(project, n))
    if scope == "issues":
        counts = _note_counts(project)
        issues = [
            i
            for i in sorted(project.issues.values(), key=lambda i: i.id, reverse=True)
            if text in i.title.lower() or text in i.description.lower()
        ]
        return offset_page(req, issues, lambda i: req.fake.shapes.issue(project, i, counts))
    raise ApiError(400, error="scope does not have a valid value")


# --------------------------------------------------------------------------- labels


def list_labels(req: Request) -> Reply:
    project = req.project()
    ancestors = req.bool_arg("include_ancestor_groups")
    labels = (
        req.state.labels_of(project) if ancestors is not False else list(project.labels.values())
    )
    search = (req.arg("search") or "").lower()
    labels = sorted(
        (lab for lab in labels if search in lab.name.lower()), key=lambda lab: lab.name.lower()
    )
    return offset_page(req, labels, lambda lab: req.fake.shapes.label(project, lab))


def _label_of(req: Request, project: Project) -> Label:
    # By id or name in the path, or (the older form) by ``label_id`` or ``name`` parameters.
    key = _unquoted(req.ctx.params.get("label_id") or "")
    key = key or req.arg("label_id") or req.arg("name") or ""
    if not key:
        raise ApiError(
            400, error="label_id, name are missing, exactly one parameter must be provided"
        )
    found: Label | None = None
    if key.isdigit():
        found = next((lab for lab in req.state.labels_of(project) if lab.id == int(key)), None)
    if found is None:
        found = req.state.label_named(project, key)
    if found is None:
        raise ApiError(404, "404 Label Not Found")
    return found


def get_label(req: Request) -> Reply:
    project = req.project()
    return Reply(200, req.fake.shapes.label(project, _label_of(req, project)))


def create_label(req: Request) -> Reply:
    project = req.project(write=True)
    req.need_level(project, PLANNER)
    name = req.arg("name")
    if name is None or req.arg("color") is None:
        missing = [n for n in ("name", "color") if req.arg(n) is None]
        raise ApiError(400, error=", ".join(missing) + " is missing")
    if not name.strip():
        raise ApiError(400, {"title": ["can't be blank"]})
    if any(lab.name.lower() == name.lower() for lab in project.labels.values()):
        raise ApiError(409, "Label already exists")
    label = req.state.new_label(
        project,
        name.strip(),
        _color(req.arg("color")),
        description=req.arg("description"),
        priority=req.int_arg("priority"),
    )
    return Reply(201, req.fake.shapes.label(project, label))


def edit_label(req: Request) -> Reply:
    project = req.project(write=True)
    req.need_level(project, PLANNER)
    label = _label_of(req, project)
    if label.group_id is not None:
        raise ApiError(404, "404 Label Not Found")  # group labels change in their group
    if not any(req.arg(n) is not None for n in ("new_name", "color", "description", "priority")):
        raise ApiError(
            400,
            error="new_name, color, description, priority, archived are missing, "
            "at least one parameter must be provided",
        )
    new_name = req.arg("new_name")
    if new_name is not None:
        clash = req.state.label_named(project, new_name)
        if clash is not None and clash.id != label.id:
            raise ApiError(409, "Label already exists")
        old = label.name
        label.name = new_name
        for issue in project.issues.values():
            issue.labels = [new_name if n == old else n for n in issue.labels]
    if req.arg("color") is not None:
        label.color = _color(req.arg("color"))
    if req.arg("description") is not None:
        label.description = req.arg("description")
    if "priority" in req.params:
        label.priority = req.int_arg("priority")
    return Reply(200, req.fake.shapes.label(project, label))


def delete_label(req: Request) -> Reply:
    project = req.project(write=True)
    req.need_level(project, PLANNER)
    label = _label_of(req, project)
    if label.group_id is not None:
        raise ApiError(404, "404 Label Not Found")
    del project.labels[label.id]
    for issue in project.issues.values():
        issue.labels = [n for n in issue.labels if n != label.name]
    return Reply(204)


# --------------------------------------------------------------------------- milestones


def _milestone_list(req: Request, milestones: list[Milestone]) -> Reply:
    state = req.arg("state")
    if state not in (None, "", "active", "closed", "all"):
        raise ApiError(400, error="state does not have a valid value")
    title = req.arg("title")
    search = (req.arg("search") or "").lower()
    iids = {int(i) for i in req.list_arg("iids") or [] if i.isdigit()}
    found = [
        m
        for m in sorted(milestones, key=lambda m: m.id, reverse=True)
        if state in (None, "", "all") or m.state == state
        if title is None or m.title == title
        if search in m.title.lower() or search in m.description.lower()
        if not iids or m.iid in iids
    ]
    return offset_page(req, found, req.fake.shapes.milestone)


def list_project_milestones(req: Request) -> Reply:
    project = req.project()
    ancestors = bool(req.bool_arg("include_ancestors"))
    return _milestone_list(req, req.state.milestones_of(project, ancestors=ancestors))


def _group_of(req: Request, *, write: bool = False) -> Any:
    req.need_scope(write)
    ref = _unquoted(req.ctx.params["group"])
    group = req.state.groups.get(int(ref)) if ref.isdigit() else req.state.group_by_path(ref)
    if group is None:
        raise ApiError(404, "404 Group Not Found")
    visible = any(
        req.state.access_level(p, req.user.id if req.user else None) > 0 or p.visibility == "public"
        for p in req.state.projects.values()
        if group.id in [g.id for g in req.state.ancestors(p.group_id)]
    )
    if not visible:
        raise ApiError(404, "404 Group Not Found")
    return group


def _group_level(req: Request, group: Any) -> int:
    user_id = req.user.id if req.user else 0
    return max((g.members.get(user_id, 0) for g in req.state.ancestors(group.id)), default=0)


def list_group_milestones(req: Request) -> Reply:
    group = _group_of(req)
    return _milestone_list(req, req.state.milestones_of_group(group.id))


def _apply_milestone(req: Request, milestone: Milestone) -> None:
    title = req.arg("title")
    if title is not None:
        if not title.strip():
            raise ApiError(400, {"title": ["can't be blank"]})
        milestone.title = title
    if req.arg("description") is not None:
        milestone.description = req.arg("description") or ""
    for name in ("due_date", "start_date"):
        if name in req.params:
            raw = req.params.get(name)
            try:
                value = date.fromisoformat(str(raw)[:10]).isoformat() if raw else None
            except ValueError:
                raise ApiError(400, error=f"{name} is invalid") from None
            setattr(milestone, name, value)
    event = req.arg("state_event")
    if event is not None:
        if event not in ("close", "activate"):
            raise ApiError(400, error="state_event does not have a valid value")
        milestone.state = "closed" if event == "close" else "active"
    milestone.updated = req.state.now()


def _unique_title(milestones: list[Milestone], title: str, keep: Milestone | None = None) -> None:
    if any(m.title == title and m is not keep for m in milestones):
        raise ApiError(400, "Milestone already exists")


def create_project_milestone(req: Request) -> Reply:
    project = req.project(write=True)
    req.need_level(project, PLANNER)
    title = req.arg("title")
    if title is None:
        raise ApiError(400, error="title is missing")
    _unique_title(list(project.milestones.values()), title)
    milestone = req.state.new_milestone(title, project=project)
    _apply_milestone(req, milestone)
    return Reply(201, req.fake.shapes.milestone(milestone))


def _project_milestone(req: Request, project: Project) -> Milestone:
    raw = req.ctx.params["milestone_id"]
    found = project.milestones.get(int(raw)) if raw.isdigit() else None
    if found is None:
        raise ApiError(404, "404 Milestone Not Found")
    return found


def get_project_milestone(req: Request) -> Reply:
    project = req.project()
    return Reply(200, req.fake.shapes.milestone(_project_milestone(req, project)))


def edit_project_milestone(req: Request) -> Reply:
    project = req.project(write=True)
    req.need_level(project, PLANNER)
    milestone = _project_milestone(req, project)
    if req.arg("title") is not None:
        _unique_title(list(project.milestones.values()), req.arg("title") or "", milestone)
    _apply_milestone(req, milestone)
    return Reply(200, req.fake.shapes.milestone(milestone))


def _drop_milestone(req: Request, milestone: Milestone) -> None:
    for project in req.state.projects.values():
        for issue in project.issues.values():
            if issue.milestone_id == milestone.id:
                issue.milestone_id = None


def delete_project_milestone(req: Request) -> Reply:
    project = req.project(write=True)
    req.need_level(project, PLANNER)
    milestone = _project_milestone(req, project)
    del project.milestones[milestone.id]
    _drop_milestone(req, milestone)
    return Reply(204)


def _group_milestone(req: Request, group: Any) -> Milestone:
    raw = req.ctx.params["milestone_id"]
    found = req.state.group_milestones.get(int(raw)) if raw.isdigit() else None
    if found is None or found.group_id != group.id:
        raise ApiError(404, "404 Milestone Not Found")
    return found


def get_group_milestone(req: Request) -> Reply:
    group = _group_of(req)
    return Reply(200, req.fake.shapes.milestone(_group_milestone(req, group)))


def create_group_milestone(req: Request) -> Reply:
    group = _group_of(req, write=True)
    req.need_user()
    if _group_level(req, group) < PLANNER:
        raise ApiError(403, "403 Forbidden")
    title = req.arg("title")
    if title is None:
        raise ApiError(400, error="title is missing")
    _unique_title(req.state.milestones_of_group(group.id), title)
    milestone = req.state.new_milestone(title, group=group)
    _apply_milestone(req, milestone)
    return Reply(201, req.fake.shapes.milestone(milestone))


def edit_group_milestone(req: Request) -> Reply:
    group = _group_of(req, write=True)
    req.need_user()
    milestone = _group_milestone(req, group)
    if _group_level(req, group) < PLANNER:
        raise ApiError(403, "403 Forbidden")
    _apply_milestone(req, milestone)
    return Reply(200, req.fake.shapes.milestone(milestone))


def delete_group_milestone(req: Request) -> Reply:
    group = _group_of(req, write=True)
    req.need_user()
    milestone = _group_milestone(req, group)
    if _group_level(req, group) < PLANNER:
        raise ApiError(403, "403 Forbidden")
    del req.state.group_milestones[milestone.id]
    _drop_milestone(req, milestone)
    return Reply(204)


# --------------------------------------------------------------------------- routes


def _unquoted(segment: str) -> str:
    from urllib.parse import unquote

    return unquote(segment)


_P = "/projects/(?P<project>[^/]+)"
_G = "/groups/(?P<group>[^/]+)"
_ROUTE_TABLE: list[tuple[str, dict[str, Handler]]] = [
    ("/version", {"GET": get_version}),
    ("/user", {"GET": get_current_user}),
    ("/users", {"GET": list_users}),
    ("/personal_access_tokens/self", {"GET": get_token_self}),
    (_P, {"GET": get_project}),
    (_P + "/users", {"GET": list_project_users}),
    (_P + "/search", {"GET": search_project}),
    (_P + "/issues", {"GET": list_issues, "POST": create_issue}),
    (_P + "/issues_statistics", {"GET": issues_statistics}),
    (_P + r"/issues/(?P<iid>[^/]+)", {"GET": get_issue, "PUT": edit_issue, "DELETE": delete_issue}),
    (_P + r"/issues/(?P<iid>[^/]+)/notes", {"GET": list_notes, "POST": create_note}),
    *((_P + path, handlers) for path, handlers in gitlab_links.ROUTES),
    *((_P + path, handlers) for path, handlers in gitlab_events.ROUTES),
    (
        _P + r"/issues/(?P<iid>[^/]+)/notes/(?P<note_id>[^/]+)",
        {"GET": get_note, "PUT": edit_note, "DELETE": delete_note},
    ),
    (
        _P + "/labels",
        {"GET": list_labels, "POST": create_label, "PUT": edit_label, "DELETE": delete_label},
    ),
    (
        _P + "/labels/(?P<label_id>[^/]+)",
        {"GET": get_label, "PUT": edit_label, "DELETE": delete_label},
    ),
    (_P + "/milestones", {"GET": list_project_milestones, "POST": create_project_milestone}),
    (
        _P + "/milestones/(?P<milestone_id>[^/]+)",
        {
            "GET": get_project_milestone,
            "PUT": edit_project_milestone,
            "DELETE": delete_project_milestone,
        },
    ),
    (_G + "/milestones", {"GET": list_group_milestones, "POST": create_group_milestone}),
    (
        _G + "/milestones/(?P<milestone_id>[^/]+)",
        {"GET": get_group_milestone, "PUT": edit_group_milestone, "DELETE": delete_group_milestone},
    ),
]
ROUTES = [(re.compile(path), handlers) for path, handlers in _ROUTE_TABLE]


def route(method: str, raw_path: str) -> tuple[Handler, dict[str, str]]:
    """The handler for ``method raw_path`` (the path as sent, still percent-encoded)."""
    if not raw_path.startswith("/api/v4/"):
        raise ApiError(404, error="404 Not Found")
    relative = raw_path[len("/api/v4") :]
    for pattern, handlers in ROUTES:
        match = pattern.fullmatch(relative)
        if match:
            handler = handlers.get(method)
            if handler is None:
                raise ApiError(405, error="405 Not Allowed")
            return handler, match.groupdict()
    raise ApiError(404, error="404 Not Found")
