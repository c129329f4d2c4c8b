"""JSON shapes of the fake GitHub, copied from real ``api.github.com`` responses.

The key sets come from ``tests/contracts/github/recorded`` (an issue, comment, label, milestone,
user and the repository, recorded in 2026): a field GitHub adds shows up there first, and
``tests/contract/test_github_fake.py`` compares the fake's objects with them key by key.
URLs point at the fake: ``api`` is the API root the request came in on (``/api/v3`` for the
Enterprise-style prefix), ``web`` the server root that ``html_url`` values use.
"""

from __future__ import annotations

import base64
import copy
import json
from functools import cache
from typing import Any
from urllib.parse import quote

from tests.fakes.contracts import contracts_dir
from tests.fakes.github_state import (
    ROLES,
    Comment,
    GitHubState,
    Issue,
    Label,
    Milestone,
    Repo,
    User,
    iso,
)
from tests.fakes.recorded import find_recorded

LIVE_API = "https://api.github.com"
LIVE_WEB = "https://github.com"
_REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


def github_recorded_dir() -> str:
    return str(contracts_dir() / "github" / "recorded")


def recorded_github(suffix: str) -> Any:
    """The body of the recorded ``api.github.com`` answer whose target ends with ``suffix``."""
    return find_recorded(suffix, github_recorded_dir()).json()


def node_id(kind: str, number: int) -> str:
    """GitHub's legacy global node id: base64 of ``0<len>:<Type><id>``."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


@cache
def _templates() -> dict[str, Any]:
    issues = recorded_github("/issues?direction=asc&page=1&per_page=2&sort=created&state=all")
    comments = recorded_github("/issues/2/comments?direction=asc&per_page=100&sort=created")
    labels = recorded_github("/labels?page=1&per_page=100")
    milestones = recorded_github("/milestones?page=1&per_page=100&state=all")
    return {
        "issue": list(issues[0]),
        "user": list(issues[0]["user"]),
        "comment": list(comments[0]),
        "label": list(labels[0]),
        "milestone": list(milestones[0]),
        "repository": json.dumps(recorded_github("/repos/go-gitea/test_repo")),
    }


def dependencies_summary(repo: Repo, issue: Issue) -> dict[str, int]:
    """``blocked_by``/``blocking`` count the open issues of each side, ``total_*`` all."""
    blockers = [repo.issue_by_id(i) for i in repo.blockers.get(issue.id, [])]
    blocking = [repo.issue_by_id(b) for b, ids in repo.blockers.items() if issue.id in ids]
    return {
        "blocked_by": sum(1 for i in blockers if i is not None and i.state == "open"),
        "total_blocked_by": sum(1 for i in blockers if i is not None),
        "blocking": sum(1 for i in blocking if i is not None and i.state == "open"),
        "total_blocking": sum(1 for i in blocking if i is not None),
    }


def sub_issues_summary(repo: Repo, issue: Issue) -> dict[str, int]:
    children = [repo.issue_by_id(c) for c, p in repo.parents.items() if p == issue.id]
    total = sum(1 for c in children if c is not None)
    done = sum(1 for c in children if c is not None and c.state == "closed")
    return {
        "total": total,
        "completed": done,
        "percent_completed": (100 * done) // total if total else 0,
    }


class Shapes:
    """Renders state objects as GitHub does, for one API root."""

    def __init__(self, state: GitHubState, api: str, web: str) -> None:
        self.state = state
        self.api = api.rstrip("/")
        self.web = web.rstrip("/")
        self.keys = _templates()

    def _only(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        return {key: data[key] for key in self.keys[kind]}

    # -- users ---------------------------------------------------------------------------

    def user(self, login: str | User | None) -> dict[str, Any] | None:
        if login is None:
            return None
        user = login if isinstance(login, User) else self.state.users[login.lower()]
        api = f"{self.api}/users/{user.login}"
        data = {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("User", user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.web}/{user.login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.kind,
            "user_view_type": "public",
            "site_admin": False,
        }
        return self._only("user", data)

    def full_user(self, user: User, *, private: bool) -> dict[str, Any]:
        """``GET /user`` (``private``: the token's own user) or ``GET /users/{username}``."""
        owned = [r for r in self.state.repos.values() if r.owner.lower() == user.login.lower()]
        data: dict[str, Any] = dict(self.user(user) or {})
        data.update(
            user_view_type="private" if private else "public",
            name=user.name,
            company=None,
            blog="",
            location=None,
            email=user.email,
            hireable=None,
            bio=None,
            twitter_username=None,
            notification_email=user.email,
            public_repos=sum(1 for r in owned if not r.private),
            public_gists=0,
            followers=0,
            following=0,
            created_at=iso(user.created),
            updated_at=iso(user.created),
        )
        if private:
            data.update(
                private_gists=0,
                total_private_repos=sum(1 for r in owned if r.private),
                owned_private_repos=sum(1 for r in owned if r.private),
                disk_usage=0,
                collaborators=0,
                two_factor_authentication=False,
                plan={
                    "name": "free",
                    "space": 976562499,
                    "collaborators": 0,
                    "private_repos": 10000,
                },
            )
        return data

    # -- repository objects ----------------------------------------------------------------

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        data = {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.repo_api(repo)}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }
        return self._only("label", data)

    def milestone(self, repo: Repo, milestone: Milestone) -> dict[str, Any]:
        opened = closed = 0
        for issue in repo.issues.values():
            if issue.milestone_number == milestone.number:
                opened += issue.state == "open"
                closed += issue.state == "closed"
        api = f"{self.repo_api(repo)}/milestones/{milestone.number}"
        data = {
            "url": api,
            "html_url": f"{self.web}/{repo.full_name}/milestone/{milestone.number}",
            "labels_url": f"{api}/labels",
            "id": milestone.id,
            "node_id": node_id("Milestone", milestone.id),
            "number": milestone.number,
            "title": milestone.title,
            "description": milestone.description,
            "creator": self.user(milestone.creator),
            "open_issues": opened,
            "closed_issues": closed,
            "state": milestone.state,
            "created_at": iso(milestone.created),
            "updated_at": iso(milestone.updated),
            "due_on": iso(milestone.due_on),
            "closed_at": iso(milestone.closed_at),
        }
        return self._only("milestone", data)

    def reactions(self, url: str) -> dict[str, Any]:
        return {"url": url, "total_count": 0, **dict.fromkeys(_REACTIONS, 0)}

    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/issues/{issue.number}"
        kind = "pull" if issue.is_pull else "issues"
        milestone = repo.milestones.get(issue.milestone_number or 0)
        assignees = [self.user(login) for login in issue.assignees]
        comments = sum(1 for c in repo.comments.values() if c.issue_number == issue.number)
        data: dict[str, Any] = {
            "url": api,
            "repository_url": self.repo_api(repo),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.web}/{repo.full_name}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": node_id("PullRequest" if issue.is_pull else "Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(repo, label) for label in repo.labels_of(issue)],
            "state": issue.state,
            "locked": issue.locked,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": self.milestone(repo, milestone) if milestone else None,
            "comments": comments,
            "created_at": iso(issue.created),
            "updated_at": iso(issue.updated),
            "closed_at": iso(issue.closed_at),
            "author_association": self.association(repo, issue.user),
            "type": None,
            "active_lock_reason": issue.active_lock_reason,
            "sub_issues_summary": sub_issues_summary(repo, issue),
            "issue_dependencies_summary": dependencies_summary(repo, issue),
            "body": issue.body,
            "closed_by": self.user(issue.closed_by),
            "reactions": self.reactions(f"{api}/reactions"),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
            "pinned_comment": None,
        }
        shaped = self._only("issue", data)
        if issue.is_pull:
            # GitHub marks a pull request in the issues API by this key (and ``draft``).
            pulls = f"{self.repo_api(repo)}/pulls/{issue.number}"
            page = f"{self.web}/{repo.full_name}/pull/{issue.number}"
            shaped["draft"] = False
            shaped["pull_request"] = {
                "url": pulls,
                "html_url": page,
                "diff_url": f"{page}.diff",
                "patch_url": f"{page}.patch",
                "merged_at": None,
            }
        return shaped

    def association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        return "COLLABORATOR" if login.lower() in repo.roles else "NONE"

    def comment(self, repo: Repo, comment: Comment) -> dict[str, Any]:
        api = f"{self.repo_api(repo)}/issues/comments/{comment.id}"
        target = repo.issues.get(comment.issue_number)
        kind = "pull" if target is not None and target.is_pull else "issues"
        data = {
            "url": api,
            "html_url": f"{self.web}/{repo.full_name}/{kind}/{comment.issue_number}"
            f"#issuecomment-{comment.id}",
            "issue_url": f"{self.repo_api(repo)}/issues/{comment.issue_number}",
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "user": self.user(comment.user),
            "created_at": iso(comment.created),
            "updated_at": iso(comment.updated),
            "body": comment.body,
            "author_association": self.association(repo, comment.user),
            "pin": None,
            "reactions": self.reactions(f"{api}/reactions"),
            "performed_via_github_app": None,
        }
        return self._only("comment", data)

    def repository(self, repo: Repo, viewer: str | None) -> dict[str, Any]:
        text = self.keys["repository"]
        text = text.replace(LIVE_API, self.api).replace(LIVE_WEB, self.web)
        text = text.replace("go-gitea/test_repo", repo.full_name)
        data: dict[str, Any] = json.loads(text)
        owner = self.state.users[repo.owner.lower()]
        host = self.web.split("://", 1)[-1]
        open_count = sum(1 for i in repo.issues.values() if i.state == "open")
        data.update(
            id=repo.id,
            node_id=node_id("Repository", repo.id),
            name=repo.name,
            full_name=repo.full_name,
            private=repo.private,
            visibility="private" if repo.private else "public",
            owner=self.user(owner),
            description=None,
            homepage=None,
            archived=repo.archived,
            open_issues_count=open_count,
            open_issues=open_count,
            created_at=iso(repo.created),
            updated_at=iso(repo.updated),
            pushed_at=iso(repo.updated),
            git_url=f"git://{host}/{repo.full_name}.git",
            ssh_url=f"git@{host}:{repo.full_name}.git",
            topics=[],
            custom_properties={},
            has_issues=True,
        )
        if owner.kind != "Organization":
            data.pop("organization", None)
        role = repo.role(viewer)
        if viewer is None:
            data.pop("permissions", None)
        else:
            level = ROLES.index(role) if role else -1
            data["permissions"] = {name: level >= ROLES.index(name) for name in reversed(ROLES)}
        return copy.deepcopy(data)
