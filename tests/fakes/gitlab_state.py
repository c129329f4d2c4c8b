"""The data behind the fake GitLab: users, tokens, groups, projects, issues, labels, milestones
and notes, and their JSON shapes.

Plain Python objects rendered in the key order of ``tests/contracts/gitlab/recorded`` (issue,
embedded user, label, milestone, note of a recorded discussion, project, version) so a new field
on gitlab.com shows up as a difference in the recorded-shape test, not as a silent gap.
Timestamps keep milliseconds, like GitLab's (``2019-11-28T08:43:35.459Z``).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from tests.fakes.contracts import contracts_dir
from tests.fakes.recorded import load_recorded

LIVE_BASE_URL = "https://gitlab.com"
RECORDED_ISSUES = "/issues?page=1&per_page=2&sort=asc&state=all"
RECORDED_LABELS = "/labels?page=1&per_page=100"
RECORDED_MILESTONES = "/milestones?page=1&per_page=100&state=all"
RECORDED_DISCUSSIONS = "/issues/2/discussions?page=1&per_page=100"
RECORDED_PROJECT = "/projects/15578026"
RECORDED_VERSION = "/api/v4/version"

# GitLab's roles (access levels).
GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50


def gitlab_recorded_dir() -> str:
    return str(contracts_dir() / "gitlab" / "recorded")


@cache
def recorded_body(suffix: str) -> Any:
    """The JSON body of the one recorded gitlab.com exchange whose target ends with ``suffix``."""
    found = [ex for ex in load_recorded(gitlab_recorded_dir()) if ex.target.endswith(suffix)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} recorded GitLab exchanges end with {suffix!r}")
    return json.loads(found[0].body)


def iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(text: str) -> int:
    """ISO 8601 to milliseconds (GitLab accepts a date, or a date-time with a zone)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


# --------------------------------------------------------------------------- records


@dataclass
class User:
    id: int
    username: str
    name: str
    public_email: str = ""
    state: str = "active"
    created: int = 0


@dataclass
class Token:
    value: str
    username: str
    scopes: tuple[str, ...] = ("api",)
    expired: bool = False
    revoked: bool = False
    id: int = 0
    name: str = "issue-core tests"
    expires_at: str | None = None


@dataclass
class Label:
    id: int
    name: str
    color: str  # "#rrggbb", as GitLab stores it
    description: str | None = None
    priority: int | None = None
    archived: bool = False
    group_id: int | None = None  # set: a group label, inherited by the group's projects


@dataclass
class Milestone:
    id: int
    iid: int
    title: str
    project_id: int | None = None
    group_id: int | None = None
    description: str = ""
    state: str = "active"  # active | closed
    due_date: str | None = None  # a day: 2026-12-24
    start_date: str | None = None
    created: int = 0
    updated: int = 0


@dataclass
class Note:
    id: int
    issue_iid: int
    author_id: int
    body: str
    created: int
    updated: int
    system: bool = False


@dataclass
class Issue:
    id: int
    iid: int
    title: str
    description: str
    author_id: int
    created: int
    updated: int
    state: str = "opened"  # opened | closed
    closed_at: int | None = None
    closed_by: int | None = None
    labels: list[str] = field(default_factory=list)
    milestone_id: int | None = None
    assignee_ids: list[int] = field(default_factory=list)
    due_date: str | None = None
    confidential: bool = False
    discussion_locked: bool | None = None


@dataclass
class Group:
    id: int
    full_path: str
    name: str
    parent_id: int | None
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level


@dataclass
class Project:
    id: int
    full_path: str  # group/sub/repo
    group_id: int
    visibility: str = "private"
    archived: bool = False
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level
    issues: dict[int, Issue] = field(default_factory=dict)  # by iid
    labels: dict[int, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    notes: dict[int, Note] = field(default_factory=dict)
    resource_events: list[Any] = field(default_factory=list)  # gitlab_events.ResourceEvent
    next_iid: int = 1
    next_milestone_iid: int = 1
    created: int = 0

    @property
    def path(self) -> str:
        return self.full_path.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- the state


class GitLabState:
    """Everything the fake server knows. ``lock`` guards every read-modify-write."""

    def __init__(self, clock: Any = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[int, User] = {}
        self.tokens: dict[str, Token] = {}
        self.groups: dict[int, Group] = {}
        self.projects: dict[int, Project] = {}
        self.group_labels: dict[int, Label] = {}  # by id; each has its group_id
        self.group_milestones: dict[int, Milestone] = {}
        self.issue_links: dict[int, Any] = {}  # by id: gitlab_links.IssueLink
        # The paid tiers' "blocked issues" feature (blocks / is_blocked_by links); Free lacks it.
        self.blocked_issues_licensed = False
        self._ids: dict[str, int] = {}
        self._last_ms = 0

    def now(self) -> int:
        """Milliseconds, strictly increasing (two writes in one millisecond still order)."""
        ms = max(int(self.clock() * 1000), self._last_ms + 1)
        self._last_ms = ms
        return ms

    def next_id(self, kind: str) -> int:
        # Global ids per kind, like database keys; far from iids so the two never coincide.
        start = {"issue": 170000, "label": 12000, "milestone": 1080000, "note": 250000}
        value = self._ids.get(kind, start.get(kind, 100)) + 1
        self._ids[kind] = value
        return value

    # -- set-up ------------------------------------------------------------------------

    def add_user(self, username: str, *, name: str = "", public_email: str = "") -> User:
        with self.lock:
            found = self.user_by_name(username)
            if found is not None:
                return found
            user = User(
                self.next_id("user"),
                username,
                name or username.title(),
                public_email,
                created=self.now(),
            )
            self.users[user.id] = user
            return user

    def user_by_name(self, username: str) -> User | None:
        wanted = username.lower()
        return next((u for u in self.users.values() if u.username.lower() == wanted), None)

    def add_group(self, full_path: str) -> Group:
        """The group and its parents (``group/sub`` makes ``group`` too)."""
        with self.lock:
            parent: Group | None = None
            parts = full_path.strip("/").split("/")
            for depth in range(1, len(parts) + 1):
                path = "/".join(parts[:depth])
                found = self.group_by_path(path)
                if found is None:
                    found = Group(
                        self.next_id("group"),
                        path,
                        parts[depth - 1],
                        parent.id if parent else None,
                    )
                    self.groups[found.id] = found
                parent = found
            assert parent is not None
            return parent

    def group_by_path(self, path: str) -> Group | None:
        wanted = path.lower()
        return next((g for g in self.groups.values() if g.full_path.lower() == wanted), None)

    def ancestors(self, group_id: int) -> list[Group]:
        """The group and its parents, nearest first."""
        chain: list[Group] = []
        current = self.groups.get(group_id)
        while current is not None:
            chain.append(current)
            current = self.groups.get(current.parent_id) if current.parent_id else None
        return chain

    def add_project(self, full_path: str, *, visibility: str = "private") -> Project:
        with self.lock:
            namespace, _, _ = full_path.strip("/").rpartition("/")
            group = self.add_group(namespace or "root")
            project = Project(
                self.next_id("project"),
                full_path.strip("/"),
                group.id,
                visibility,
                created=self.now(),
            )
            self.projects[project.id] = project
            return project

    def project_by_ref(self, ref: str) -> Project | None:
        """A project by id or by full path (GitLab matches paths case-insensitively)."""
        if ref.isdigit():
            return self.projects.get(int(ref))
        wanted = ref.lower()
        return next((p for p in self.projects.values() if p.full_path.lower() == wanted), None)

    def access_level(self, project: Project, user_id: int | None) -> int:
        """The higher of a direct membership and the memberships inherited from the groups."""
        if user_id is None:
            return 0
        levels = [project.members.get(user_id, 0)]
        levels += [g.members.get(user_id, 0) for g in self.ancestors(project.group_id)]
        return max(levels)

    def members(self, project: Project) -> list[User]:
        ids = set(project.members)
        for group in self.ancestors(project.group_id):
            ids |= set(group.members)
        return [self.users[i] for i in sorted(ids)]

    # -- labels and milestones ------------------------------------------------------------

    def labels_of(self, project: Project) -> list[Label]:
        """The project's labels and those of its groups (``include_ancestor_groups``)."""
        found = list(project.labels.values())
        for group in self.ancestors(project.group_id):
            found += [lab for lab in self.group_labels.values() if lab.group_id == group.id]
        return found

    def new_label(
        self,
        project: Project | None,
        name: str,
        color: str,
        *,
        group: Group | None = None,
        description: str | None = None,
        priority: int | None = None,
    ) -> Label:
        with self.lock:
            label = Label(self.next_id("label"), name, color, description, priority)
            if group is not None:
                label.group_id = group.id
                self.group_labels[label.id] = label
            elif project is not None:
                project.labels[label.id] = label
            return label

    def label_named(self, project: Project, name: str) -> Label | None:
        """GitLab matches label names case-insensitively; the project's label wins."""
        wanted = name.strip().lower()
        return next((lab for lab in self.labels_of(project) if lab.name.lower() == wanted), None)

    def milestones_of_group(self, group_id: int) -> list[Milestone]:
        return [m for m in self.group_milestones.values() if m.group_id == group_id]

    def new_milestone(
        self, title: str, *, project: Project | None = None, group: Group | None = None
    ) -> Milestone:
        with self.lock:
            now = self.now()
            milestone = Milestone(self.next_id("milestone"), 0, title, created=now, updated=now)
            if group is not None:
                milestone.group_id = group.id
                milestone.iid = 1 + len(self.milestones_of_group(group.id))
                self.group_milestones[milestone.id] = milestone
            elif project is not None:
                milestone.project_id = project.id
                milestone.iid = project.next_milestone_iid
                project.next_milestone_iid += 1
                project.milestones[milestone.id] = milestone
            return milestone

    def milestones_of(self, project: Project, *, ancestors: bool) -> list[Milestone]:
        found = list(project.milestones.values())
        if ancestors:
            for group in self.ancestors(project.group_id):
                found += self.milestones_of_group(group.id)
        return found

    def milestone_by_id(self, project: Project, milestone_id: int) -> Milestone | None:
        return next(
            (m for m in self.milestones_of(project, ancestors=True) if m.id == milestone_id), None
        )

    # -- issues and notes -------------------------------------------------------------------

    def new_issue(self, project: Project, title: str, author: User, description: str = "") -> Issue:
        with self.lock:
            now = self.now()
            issue = Issue(
                self.next_id("issue"), project.next_iid, title, description, author.id, now, now
            )
            project.next_iid += 1
            project.issues[issue.iid] = issue
            return issue

    def new_note(
        self, project: Project, issue: Issue, author: User, body: str, *, system: bool = False
    ) -> Note:
        with self.lock:
            now = self.now()
            note = Note(self.next_id("note"), issue.iid, author.id, body, now, now, system)
            project.notes[note.id] = note
            issue.updated = now
            return note

    def system_note(self, project: Project, issue: Issue, author: User, body: str) -> None:
        """GitLab writes a system note for every change ("closed", "added ~bug label")."""
        self.new_note(project, issue, author, body, system=True)


# --------------------------------------------------------------------------- shapes


class Shapes:
    """JSON in the key order of the recorded gitlab.com bodies, URLs pointed at ``base_url``."""

    def __init__(self, state: GitLabState, base_url: str) -> None:
        self.state = state
        self.base_url = base_url.rstrip("/")
        issue = recorded_body(RECORDED_ISSUES)[0]
        self.issue_keys = list(issue)
        self.user_keys = list(issue["author"])
        self.milestone_keys = list(issue["milestone"])
        self.links_keys = list(issue["_links"])
        self.label_keys = list(recorded_body(RECORDED_LABELS)[0])
        self.note_keys = list(recorded_body(RECORDED_DISCUSSIONS)[0]["notes"][0])
        self.project_template = recorded_body(RECORDED_PROJECT)
        self.version_template = recorded_body(RECORDED_VERSION)

    def user(self, user: User) -> dict[str, Any]:
        data = {
            "id": user.id,
            "username": user.username,
            "public_email": user.public_email,
            "name": user.name,
            "state": user.state,
            "locked": False,
            "avatar_url": f"{self.base_url}/uploads/-/system/user/avatar/{user.id}/avatar.png",
            "web_url": f"{self.base_url}/{user.username}",
        }
        return {key: data[key] for key in self.user_keys}

    def current_user(self, user: User) -> dict[str, Any]:
        """``GET /user``: the basic user plus the account fields GitLab shows its owner."""
        data = self.user(user)
        data.update(
            created_at=iso_ms(user.created),
            bio="",
            location="",
            skype="",
            linkedin="",
            twitter="",
            discord="",
            website_url="",
            organization="",
            job_title="",
            pronouns=None,
            bot=False,
            work_information=None,
            local_time=None,
            last_sign_in_at=iso_ms(user.created),
            confirmed_at=iso_ms(user.created),
            last_activity_on=datetime.fromtimestamp(user.created / 1000, UTC).date().isoformat(),
            email=user.public_email or f"{user.username}@example.com",
            theme_id=1,
            color_scheme_id=1,
            projects_limit=100000,
            current_sign_in_at=iso_ms(user.created),
            identities=[],
            can_create_group=True,
            can_create_project=True,
            two_factor_enabled=False,
            external=False,
            private_profile=False,
        )
        return data

    def label(self, project: Project, label: Label) -> dict[str, Any]:
        data = {
            "id": label.id,
            "name": label.name,
            "description": label.description,
            "text_color": text_color(label.color),
            "description_html": label.description or "",
            "color": label.color,
            "archived": label.archived,
            "subscribed": False,
            "priority": label.priority,
            "is_project_label": label.group_id is None,
        }
        return {key: data[key] for key in self.label_keys}

    def milestone(self, milestone: Milestone) -> dict[str, Any]:
        if milestone.group_id is not None:
            group = self.state.groups[milestone.group_id]
            web = f"{self.base_url}/groups/{group.full_path}/-/milestones/{milestone.iid}"
        else:
            project = self.state.projects[milestone.project_id or 0]
            web = f"{self.base_url}/{project.full_path}/-/milestones/{milestone.iid}"
        today = datetime.now(UTC).date().isoformat()
        data: dict[str, Any] = {
            "id": milestone.id,
            "iid": milestone.iid,
            "project_id": milestone.project_id,
            "title": milestone.title,
            "description": milestone.description,
            "state": milestone.state,
            "created_at": iso_ms(milestone.created),
            "updated_at": iso_ms(milestone.updated),
            "due_date": milestone.due_date,
            "start_date": milestone.start_date,
            "expired": milestone.due_date is not None and milestone.due_date < today,
            "web_url": web,
        }
        shaped = {key: data[key] for key in self.milestone_keys}
        if milestone.group_id is not None:
            # A group milestone names its group instead of a project (Entities::Milestone).
            del shaped["project_id"]
            shaped = {
                "id": shaped.pop("id"),
                "iid": shaped.pop("iid"),
                "group_id": milestone.group_id,
                **shaped,
            }
        return shaped

    def issue(self, project: Project, issue: Issue, notes: dict[int, int]) -> dict[str, Any]:
        api = f"{self.base_url}/api/v4/projects/{project.id}"
        assignees = [self.user(self.state.users[i]) for i in issue.assignee_ids]
        milestone = self.state.milestone_by_id(project, issue.milestone_id or 0)
        links = {
            "self": f"{api}/issues/{issue.iid}",
            "notes": f"{api}/issues/{issue.iid}/notes",
            "award_emoji": f"{api}/issues/{issue.iid}/award_emoji",
            "project": api,
            "closed_as_duplicate_of": None,
        }
        checked = issue.description.count("- [x]")
        tasks = checked + issue.description.count("- [ ]")
        data: dict[str, Any] = {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": project.id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "created_at": iso_ms(issue.created),
            "updated_at": iso_ms(issue.updated),
            "closed_at": iso_ms(issue.closed_at),
            "closed_by": self.user(self.state.users[issue.closed_by]) if issue.closed_by else None,
            "labels": list(issue.labels),
            "milestone": self.milestone(milestone) if milestone else None,
            "assignees": assignees,
            "author": self.user(self.state.users[issue.author_id]),
            "type": "ISSUE",
            "assignee": assignees[0] if assignees else None,
            "user_notes_count": notes.get(issue.iid, 0),
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "start_date": None,
            "due_date": issue.due_date,
            "confidential": issue.confidential,
            "discussion_locked": issue.discussion_locked,
            "issue_type": "issue",
            "web_url": f"{self.base_url}/{project.full_path}/-/issues/{issue.iid}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "task_completion_status": {"count": tasks, "completed_count": checked},
            "blocking_issues_count": 0,
            "has_tasks": True,
            "task_status": f"{checked} of {tasks} checklist items completed",
            "_links": {key: links[key] for key in self.links_keys},
            "references": {
                "short": f"#{issue.iid}",
                "relative": f"#{issue.iid}",
                "full": f"{project.full_path}#{issue.iid}",
            },
            "severity": "UNKNOWN",
            "moved_to_id": None,
            "imported": False,
            "imported_from": "none",
            "service_desk_reply_to": None,
        }
        return {key: data[key] for key in self.issue_keys}

    def note(self, project: Project, note: Note) -> dict[str, Any]:
        issue = project.issues.get(note.issue_iid)
        data: dict[str, Any] = {
            "id": note.id,
            "type": None,
            "body": note.body,
            "author": self.user(self.state.users[note.author_id]),
            "created_at": iso_ms(note.created),
            "updated_at": iso_ms(note.updated),
            "system": note.system,
            "noteable_id": issue.id if issue else 0,
            "noteable_type": "Issue",
            "project_id": project.id,
            "resolvable": False,
            "confidential": False,
            "internal": False,
            "imported": False,
            "imported_from": "none",
            "noteable_iid": note.issue_iid,
            "commands_changes": {},
        }
        return {key: data[key] for key in self.note_keys}

    def project(self, project: Project, user_id: int | None) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(self.project_template)
        group = self.state.groups[project.group_id]
        web = f"{self.base_url}/{project.full_path}"
        api = f"{self.base_url}/api/v4/projects/{project.id}"
        host = self.base_url.split("://", 1)[-1]
        open_issues = sum(1 for i in project.issues.values() if i.state == "opened")
        data.update(
            id=project.id,
            description="",
            name=project.path,
            name_with_namespace=" / ".join(project.full_path.split("/")),
            path=project.path,
            path_with_namespace=project.full_path,
            created_at=iso_ms(project.created),
            ssh_url_to_repo=f"git@{host}:{project.full_path}.git",
            http_url_to_repo=f"{web}.git",
            web_url=web,
            readme_url=f"{web}/-/blob/master/README.md",
            visibility=project.visibility,
            archived=project.archived,
            open_issues_count=open_issues,
            namespace={
                "id": group.id,
                "name": group.name,
                "path": group.full_path.rsplit("/", 1)[-1],
                "kind": "group",
                "full_path": group.full_path,
                "parent_id": group.parent_id,
                "avatar_url": None,
                "web_url": f"{self.base_url}/groups/{group.full_path}",
            },
            _links={
                key: value.replace(f"{LIVE_BASE_URL}/api/v4/projects/15578026", api)
                for key, value in data["_links"].items()
            },
            container_registry_image_prefix=f"registry.{host}/{project.full_path}",
        )
        direct = project.members.get(user_id or 0)
        inherited = max(
            (g.members.get(user_id or 0, 0) for g in self.state.ancestors(project.group_id)),
            default=0,
        )
        data["permissions"] = {
            "project_access": _access(direct),
            "group_access": _access(inherited),
        }
        return data


def _access(level: int | None) -> dict[str, int] | None:
    return {"access_level": level, "notification_level": 3} if level else None


def text_color(color: str) -> str:
    """GitLab picks dark or light text by the label colour's luminance."""
    raw = color.lstrip("#")
    if len(raw) == 3:
        raw = "".join(c * 2 for c in raw)
    try:
        red, green, blue = (int(raw[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "#FFFFFF"
    return "#1F1E24" if (red * 299 + green * 587 + blue * 114) / 1000 > 160 else "#FFFFFF"
