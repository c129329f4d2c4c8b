"""The data behind the fake Gitea: users, tokens, repositories, issues, labels, milestones.

Plain Python objects rendered to JSON in the exact shapes of ``tests/contracts/gitea/recorded``
(the field sets of a recorded user, repository, issue, label, milestone and comment). Timestamps
have whole-second precision, like Gitea's unix-second columns.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.recorded import find_recorded

ZERO_TIME = "0001-01-01T00:00:00Z"


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> int:
    """RFC 3339 to unix seconds; raises ValueError like Gitea's parser rejects bad input."""
    if "T" not in text:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"RFC 3339 needs a zone: {text!r}")
    return int(value.timestamp())


# --------------------------------------------------------------------------- records


@dataclass
class User:
    id: int
    login: str
    full_name: str = ""
    email: str = ""
    is_admin: bool = False
    created: int = 0
    raw: dict[str, Any] | None = None  # a recorded user object, served as it was


@dataclass
class Token:
    value: str
    login: str
    write: bool  # False: read-only scopes (read:issue, read:repository ...)


@dataclass
class Label:
    id: int
    name: str
    color: str  # six hex digits, no '#'
    description: str = ""
    exclusive: bool = False
    is_archived: bool = False


@dataclass
class Milestone:
    id: int
    title: str
    description: str = ""
    closed: bool = False
    due_on: int | None = None
    created: int = 0
    updated: int = 0
    closed_at: int | None = None


@dataclass
class Comment:
    id: int
    issue_number: int
    poster: str
    body: str
    created: int
    updated: int


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str
    poster: str
    created: int
    updated: int
    closed: bool = False
    closed_at: int | None = None
    label_ids: list[int] = field(default_factory=list)
    milestone_id: int = 0
    assignees: list[str] = field(default_factory=list)
    is_pull: bool = False
    is_locked: bool = False
    ref: str = ""
    content_version: int = 0
    deadline: int | None = None  # unix seconds; Gitea's DeadlineUnix


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool
    collaborators: dict[str, bool] = field(default_factory=dict)  # login -> can write
    admins: set[str] = field(default_factory=set)  # collaborators with the admin permission
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: dict[int, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    next_number: int = 1
    created: int = 0
    updated: int = 0
    dependencies_enabled: bool = True  # the repository's "Enable issue dependencies" setting
    timeline: list[Any] = field(default_factory=list)  # gitea_timeline.Row: the event rows

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def can_read(self, login: str | None) -> bool:
        if not self.private:
            return True
        return login is not None and (login == self.owner or login in self.collaborators)

    def can_write(self, login: str | None) -> bool:
        return login is not None and (login == self.owner or self.collaborators.get(login, False))

    def can_admin(self, login: str | None) -> bool:
        """Gitea's ``IsUserRepoAdmin``: the owner or an admin collaborator."""
        return login is not None and (login == self.owner or login in self.admins)


@dataclass
class Counts:
    """Derived counters, computed once per response rather than once per rendered object."""

    milestones: dict[int, tuple[int, int]]  # id -> (open issues, closed issues)
    comments: dict[int, int]  # issue number -> comments

    @classmethod
    def of(cls, repo: Repo) -> Counts:
        milestones: dict[int, tuple[int, int]] = {}
        for issue in repo.issues.values():
            if issue.milestone_id:
                opened, closed = milestones.get(issue.milestone_id, (0, 0))
                milestones[issue.milestone_id] = (
                    opened + (not issue.closed),
                    closed + issue.closed,
                )
        comments: dict[int, int] = {}
        for comment in repo.comments.values():
            comments[comment.issue_number] = comments.get(comment.issue_number, 0) + 1
        return cls(milestones, comments)


# --------------------------------------------------------------------------- shapes


class Shapes:
    """JSON shapes copied from the recorded responses, with live URLs pointed at ``base_url``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        issues = find_recorded("/issues?limit=50&page=1&state=all&type=issues").json(self.base_url)
        comments = find_recorded("/issues/4/comments?limit=50&page=1").json(self.base_url)
        self.issue_keys = list(issues[0])
        self.user_template = issues[0]["user"]
        self.comment_keys = list(comments[0])
        self.repo_template = find_recorded("/repos/gitea/test_repo").json(self.base_url)
        self.label_keys = list(issues[0]["labels"][0])
        milestones = find_recorded("/milestones?limit=50&page=1&state=all").json(self.base_url)
        self.milestone_keys = list(milestones[0])

    def user(self, user: User) -> dict[str, Any]:
        if user.raw is not None:
            return dict(copy.deepcopy(user.raw))
        data: dict[str, Any] = copy.deepcopy(self.user_template)
        data.update(
            id=user.id,
            login=user.login,
            username=user.login,
            full_name=user.full_name,
            email=user.email or f"{user.id}+{user.login}@noreply.localhost",
            avatar_url=f"{self.base_url}/avatars/{user.id}",
            html_url=f"{self.base_url}/{user.login}",
            is_admin=user.is_admin,
            created=iso(user.created),
            last_login=ZERO_TIME,
            location="",
            website="",
            description="",
            followers_count=0,
            following_count=0,
            starred_repos_count=0,
        )
        return data

    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        data = {
            "id": label.id,
            "name": label.name,
            "exclusive": label.exclusive,
            "is_archived": label.is_archived,
            "color": label.color,
            "description": label.description,
            "url": f"{self.base_url}/api/v1/repos/{repo.full_name}/labels/{label.id}",
        }
        return {key: data[key] for key in self.label_keys}

    def milestone(
        self, repo: Repo, milestone: Milestone, counts: Counts | None = None
    ) -> dict[str, Any]:
        counts = counts or Counts.of(repo)
        open_count, closed_count = counts.milestones.get(milestone.id, (0, 0))
        data = {
            "id": milestone.id,
            "title": milestone.title,
            "description": milestone.description,
            "state": "closed" if milestone.closed else "open",
            "open_issues": open_count,
            "closed_issues": closed_count,
            "created_at": iso(milestone.created),
            "updated_at": iso(milestone.updated),
            "closed_at": iso(milestone.closed_at),
            "due_on": iso(milestone.due_on),
        }
        return {key: data[key] for key in self.milestone_keys}

    def issue(
        self, state: GiteaState, repo: Repo, issue: Issue, counts: Counts | None = None
    ) -> dict[str, Any]:
        counts = counts or Counts.of(repo)
        kind = "pulls" if issue.is_pull else "issues"
        assignees = [self.user(state.users[login]) for login in issue.assignees]
        milestone = repo.milestones.get(issue.milestone_id)
        labels = [self.label(repo, repo.labels[i]) for i in issue.label_ids if i in repo.labels]
        data: dict[str, Any] = {
            "id": issue.id,
            "url": f"{self.base_url}/api/v1/repos/{repo.full_name}/issues/{issue.number}",
            "html_url": f"{self.base_url}/{repo.full_name}/{kind}/{issue.number}",
            "number": issue.number,
            "user": self.user(state.users[issue.poster]),
            "original_author": "",
            "original_author_id": 0,
            "title": issue.title,
            "body": issue.body,
            "ref": issue.ref,
            "assets": [],
            "labels": labels,
            "milestone": self.milestone(repo, milestone, counts) if milestone else None,
            # Gitea sends null, not [], for an issue without assignees.
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees or None,
            "state": "closed" if issue.closed else "open",
            "is_locked": issue.is_locked,
            "comments": counts.comments.get(issue.number, 0),
            "created_at": iso(issue.created),
            "updated_at": iso(issue.updated),
            "closed_at": iso(issue.closed_at),
            "due_date": iso(issue.deadline),
            "time_estimate": 0,
            "pull_request": None,
            "repository": {
                "id": repo.id,
                "name": repo.name,
                "owner": repo.owner,
                "full_name": repo.full_name,
            },
            "pin_order": 0,
        }
        if issue.is_pull:
            data["pull_request"] = {
                "merged": False,
                "merged_at": None,
                "draft": False,
                "html_url": f"{self.base_url}/{repo.full_name}/pulls/{issue.number}",
            }
        shaped = {key: data[key] for key in self.issue_keys}
        # Gitea 1.27's Swagger adds content_version (optimistic concurrency on the body).
        shaped["content_version"] = issue.content_version
        return shaped

    def comment(self, state: GiteaState, repo: Repo, comment: Comment) -> dict[str, Any]:
        # Gitea's Comment.IssueURL / PRURL: a comment on a pull request has an empty issue_url
        # and the pull request's page as pull_request_url (and the other way round).
        target = repo.issues.get(comment.issue_number)
        is_pull = target is not None and target.is_pull
        kind = "pulls" if is_pull else "issues"
        page = f"{self.base_url}/{repo.full_name}/{kind}/{comment.issue_number}"
        data = {
            "id": comment.id,
            "html_url": f"{page}#issuecomment-{comment.id}",
            "pull_request_url": page if is_pull else "",
            "issue_url": "" if is_pull else page,
            "user": self.user(state.users[comment.poster]),
            "original_author": "",
            "original_author_id": 0,
            "body": comment.body,
            "assets": [],
            "created_at": iso(comment.created),
            "updated_at": iso(comment.updated),
        }
        return {key: data[key] for key in self.comment_keys}

    def repository(self, state: GiteaState, repo: Repo, viewer: str | None) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(self.repo_template)
        owner = state.users[repo.owner]
        open_issues = sum(1 for i in repo.issues.values() if not i.closed and not i.is_pull)
        open_pulls = sum(1 for i in repo.issues.values() if not i.closed and i.is_pull)
        web = f"{self.base_url}/{repo.full_name}"
        host = self.base_url.split("://", 1)[-1]
        data.update(
            id=repo.id,
            owner=self.user(owner),
            name=repo.name,
            full_name=repo.full_name,
            description="",
            private=repo.private,
            html_url=web,
            url=f"{self.base_url}/api/v1/repos/{repo.full_name}",
            languages_url=f"{self.base_url}/api/v1/repos/{repo.full_name}/languages",
            clone_url=f"{web}.git",
            ssh_url=f"git@{host}:{repo.full_name}.git",
            website="",
            open_issues_count=open_issues,
            open_pr_counter=open_pulls,
            created_at=iso(repo.created),
            updated_at=iso(repo.updated),
        )
        if isinstance(data.get("internal_tracker"), dict):
            data["internal_tracker"]["enable_issue_dependencies"] = repo.dependencies_enabled
        if "permissions" in data:
            writer = repo.can_write(viewer)
            data["permissions"] = {
                "admin": repo.can_admin(viewer),
                "push": writer,
                "pull": repo.can_read(viewer),
            }
        return data


# --------------------------------------------------------------------------- the state


class GiteaState:
    """Everything the fake server knows. ``lock`` guards every read-modify-write."""

    def __init__(self, clock: Any = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        # Issue dependencies: (blocked issue id, blocker issue id), across repositories.
        self.dependencies: list[tuple[int, int]] = []
        self.cross_repository_dependencies = False  # [service] ALLOW_CROSS_REPOSITORY_DEPENDENCIES
        self._ids: dict[str, int] = {}
        self.add_user("ghost", full_name="Ghost")

    def now(self) -> int:
        return int(self.clock())

    def next_id(self, kind: str) -> int:
        # Ids are global per kind, like database primary keys; start high so ids != numbers.
        value = self._ids.get(
            kind, {"issue": 30000, "label": 3700, "milestone": 1300}.get(kind, 100)
        )
        self._ids[kind] = value + 1
        return value + 1

    # -- set-up ------------------------------------------------------------------------

    def add_user(self, login: str, *, full_name: str = "", is_admin: bool = False) -> User:
        with self.lock:
            user = self.users.get(login.lower())
            if user is None:
                user = User(
                    self.next_id("user"), login, full_name, is_admin=is_admin, created=self.now()
                )
                self.users[login.lower()] = user
            return user

    def add_token(self, login: str, value: str, *, write: bool = True) -> Token:
        with self.lock:
            self.add_user(login)
            token = Token(value, login.lower(), write)
            self.tokens[value] = token
            return token

    def add_repo(self, owner: str, name: str, *, private: bool = True) -> Repo:
        with self.lock:
            self.add_user(owner)
            now = self.now()
            repo = Repo(
                self.next_id("repo"), owner.lower(), name, private, created=now, updated=now
            )
            self.repos[(owner.lower(), name.lower())] = repo
            return repo

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get((owner.lower(), name.lower()))

    def user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    # -- objects -----------------------------------------------------------------------

    def new_issue(
        self,
        repo: Repo,
        *,
        title: str,
        body: str = "",
        poster: str,
        is_pull: bool = False,
        created: int | None = None,
    ) -> Issue:
        with self.lock:
            now = self.now() if created is None else created
            issue = Issue(
                self.next_id("issue"), repo.next_number, title, body, poster.lower(), now, now
            )
            issue.is_pull = is_pull
            repo.next_number += 1
            repo.issues[issue.number] = issue
            return issue

    def new_label(self, repo: Repo, name: str, color: str, description: str = "") -> Label:
        with self.lock:
            label = Label(self.next_id("label"), name, color, description)
            repo.labels[label.id] = label
            return label

    def new_milestone(self, repo: Repo, title: str, description: str = "") -> Milestone:
        with self.lock:
            now = self.now()
            milestone = Milestone(
                self.next_id("milestone"), title, description, created=now, updated=now
            )
            repo.milestones[milestone.id] = milestone
            return milestone

    def new_comment(self, repo: Repo, issue: Issue, poster: str, body: str) -> Comment:
        with self.lock:
            now = self.now()
            comment = Comment(self.next_id("comment"), issue.number, poster.lower(), body, now, now)
            repo.comments[comment.id] = comment
            issue.updated = now
            return comment

    def set_closed(self, issue: Issue, closed: bool) -> None:
        if issue.closed != closed:
            issue.closed = closed
            issue.closed_at = self.now() if closed else None

    def label_ids_by_names(self, repo: Repo, names: list[str]) -> list[int]:
        """Gitea matches label names exactly and drops names it does not know."""
        wanted = set(names)
        return [label.id for label in repo.labels.values() if label.name in wanted]

    def milestone_by_id_or_name(self, repo: Repo, key: str) -> Milestone | None:
        """Gitea's ``getMilestoneByIDOrName``: a number is an id first, then a title."""
        if key.isdigit():
            found = repo.milestones.get(int(key))
            if found is not None:
                return found
        for milestone in repo.milestones.values():
            if milestone.title == key:
                return milestone
        return None
