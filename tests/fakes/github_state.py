"""The data behind the fake GitHub: users, tokens, repositories, issues, labels, milestones.

Plain Python objects; ``github_shapes`` renders them. What the records copy from GitHub:
issue and pull-request numbers share one sequence per repository, milestones have their own
``number`` sequence, labels are addressed by name (case-insensitively, as GitHub does) and
comment ids are global. A repository can be renamed or moved: the old name stays known so the
fake can answer it with a redirect to ``/repositories/{id}``. Timestamps have whole-second
precision, as GitHub's JSON times do.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# GitHub's repository roles, weakest first (the REST ``permissions`` object has one flag each).
ROLES = ("pull", "triage", "push", "maintain", "admin")


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> int:
    """An ISO 8601 timestamp (GitHub's ``YYYY-MM-DDTHH:MM:SSZ``) to unix seconds."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


@dataclass
class User:
    id: int
    login: str
    name: str | None = None
    email: str | None = None
    created: int = 0
    kind: str = "User"  # "User", "Organization" or "Bot"


@dataclass
class Token:
    """A classic token (``ghp_``, with OAuth scopes) or a fine-grained one (``github_pat_``).

    Fine-grained tokens carry repository permissions instead of scopes (``issues``: ``read`` or
    ``write``) and, when ``repositories`` is set, reach only those ``owner/name`` pairs.
    """

    value: str
    login: str
    fine_grained: bool = False
    scopes: tuple[str, ...] = ("repo",)
    permissions: dict[str, str] = field(default_factory=lambda: {"issues": "write"})
    repositories: frozenset[str] | None = None
    expires: int | None = None  # unix seconds; GitHub says it on every answer, then refuses it


@dataclass
class Label:
    id: int
    name: str
    color: str  # six hex digits, lower case, no '#'
    description: str | None = None
    default: bool = False


@dataclass
class Milestone:
    id: int
    number: int
    title: str
    creator: str
    description: str | None = None
    state: str = "open"
    due_on: int | None = None
    created: int = 0
    updated: int = 0
    closed_at: int | None = None


@dataclass
class Comment:
    id: int
    issue_number: int
    user: str
    body: str
    created: int
    updated: int


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: str
    created: int
    updated: int
    state: str = "open"
    state_reason: str | None = None
    closed_at: int | None = None
    closed_by: str | None = None
    label_ids: list[int] = field(default_factory=list)
    milestone_number: int | None = None
    assignees: list[str] = field(default_factory=list)
    is_pull: bool = False
    locked: bool = False
    active_lock_reason: str | None = None


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool
    archived: bool = False
    roles: dict[str, str] = field(default_factory=dict)  # collaborator login -> role
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: dict[int, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)  # by number
    comments: dict[int, Comment] = field(default_factory=dict)
    next_number: int = 1
    next_milestone: int = 1
    created: int = 0
    updated: int = 0
    # Issue dependencies and sub-issues, by the issues' global ids: blocked -> its blockers,
    # and child -> its parent (``github_deps``).
    blockers: dict[int, list[int]] = field(default_factory=dict)
    parents: dict[int, int] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)  # github_events.Record, oldest first

    def issue_by_id(self, issue_id: int) -> Issue | None:
        return next((i for i in self.issues.values() if i.id == issue_id), None)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def role(self, login: str | None) -> str | None:
        """The user's role: the owner is admin, public repositories give everyone ``pull``."""
        if login is not None and login.lower() == self.owner.lower():
            return "admin"
        role = self.roles.get(login.lower()) if login else None
        if role is None and not self.private:
            return "pull"
        return role

    def has_role(self, login: str | None, wanted: str) -> bool:
        role = self.role(login)
        return role is not None and ROLES.index(role) >= ROLES.index(wanted)

    def label_named(self, name: str) -> Label | None:
        wanted = name.lower()
        return next((lb for lb in self.labels.values() if lb.name.lower() == wanted), None)

    def labels_of(self, issue: Issue) -> list[Label]:
        """An issue's labels as GitHub lists them: by name, whatever order they were added in
        (PyGithub's recorded add/remove conversation shows it)."""
        return sorted((self.labels[i] for i in issue.label_ids), key=lambda lb: lb.name.lower())

    def assignable(self) -> list[str]:
        """Users an issue can be assigned to: the owner and collaborators with push access."""
        writers = sorted(login for login in self.roles if self.has_role(login, "push"))
        logins = [self.owner.lower(), *writers]
        return list(dict.fromkeys(logins))


class GitHubState:
    """Everything the fake server knows. ``lock`` guards every read-modify-write."""

    def __init__(self, clock: Any = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.moved: dict[tuple[str, str], int] = {}  # an old owner/name -> the repository id
        self._ids: dict[str, int] = {}

    def now(self) -> int:
        return int(self.clock())

    def next_id(self, kind: str) -> int:
        # Ids are global per kind, like database keys; they start high so ids never look
        # like numbers (a client that mixes them up is caught).
        start = {
            "issue": 520000000,
            "label": 1667000000,
            "milestone": 4839000,
            "comment": 553000000,
            "repo": 220672000,
        }
        value = self._ids.get(kind, start.get(kind, 18600000))
        self._ids[kind] = value + 1
        return value + 1

    # -- set-up ------------------------------------------------------------------------

    def add_user(self, login: str, *, name: str | None = None, kind: str = "User") -> User:
        with self.lock:
            user = self.users.get(login.lower())
            if user is None:
                user = User(self.next_id("user"), login, name, created=self.now(), kind=kind)
                self.users[login.lower()] = user
            return user

    def add_token(self, token: Token) -> Token:
        with self.lock:
            self.add_user(token.login)
            token.login = token.login.lower()
            self.tokens[token.value] = token
            return token

    def add_repo(self, owner: str, name: str, *, private: bool = True) -> Repo:
        with self.lock:
            self.add_user(owner)
            now = self.now()
            repo = Repo(self.next_id("repo"), owner, name, private, created=now, updated=now)
            self.repos[(owner.lower(), name.lower())] = repo
            return repo

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get((owner.lower(), name.lower()))

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return next((r for r in self.repos.values() if r.id == repo_id), None)

    def rename_repo(self, repo: Repo, owner: str, name: str) -> None:
        """Rename or transfer: the old name now redirects (GitHub keeps such redirects)."""
        with self.lock:
            old = (repo.owner.lower(), repo.name.lower())
            del self.repos[old]
            self.moved[old] = repo.id
            self.moved.pop((owner.lower(), name.lower()), None)
            self.add_user(owner)
            repo.owner, repo.name = owner, name
            self.repos[(owner.lower(), name.lower())] = repo

    def user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    # -- objects -----------------------------------------------------------------------

    def new_issue(
        self, repo: Repo, *, title: str, body: str | None, user: str, is_pull: bool = False
    ) -> Issue:
        with self.lock:
            now = self.now()
            issue = Issue(
                self.next_id("issue"), repo.next_number, title, body, user.lower(), now, now
            )
            issue.is_pull = is_pull
            repo.next_number += 1
            repo.issues[issue.number] = issue
            return issue

    def new_label(
        self, repo: Repo, name: str, color: str = "ededed", description: str | None = None
    ) -> Label:
        with self.lock:
            label = Label(self.next_id("label"), name, color.lower(), description)
            repo.labels[label.id] = label
            return label

    def new_milestone(self, repo: Repo, title: str, creator: str) -> Milestone:
        with self.lock:
            now = self.now()
            milestone = Milestone(
                self.next_id("milestone"),
                repo.next_milestone,
                title,
                creator.lower(),
                created=now,
                updated=now,
            )
            repo.next_milestone += 1
            repo.milestones[milestone.number] = milestone
            return milestone

    def new_comment(self, repo: Repo, issue: Issue, user: str, body: str) -> Comment:
        with self.lock:
            now = self.now()
            comment = Comment(self.next_id("comment"), issue.number, user.lower(), body, now, now)
            repo.comments[comment.id] = comment
            issue.updated = now
            return comment

    def set_state(self, issue: Issue, state: str, reason: str | None, by: str) -> None:
        """GitHub's rules: closing defaults the reason to ``completed`` (a closed issue may be
        given another reason); reopening sets ``reopened`` and clears ``closed_at``."""
        if state == "closed":
            if issue.state != "closed":
                issue.closed_at = self.now()
                issue.closed_by = by.lower()
                issue.state_reason = reason or "completed"
            elif reason:
                issue.state_reason = reason
        elif issue.state == "closed":
            issue.state_reason = "reopened"
            issue.closed_at = None
            issue.closed_by = None
        issue.state = state
