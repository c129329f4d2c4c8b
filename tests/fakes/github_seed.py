"""Seed a fake GitHub with the recorded ``go-gitea/test_repo`` (tests/contracts/github/recorded).

The repository, its users, labels, milestones, the first page of issues and issue 2's comments
are taken from the recorded api.github.com answers with their real ids and times, so the fake
can be asked the recorded requests and its answers compared with GitHub's value by value.
Issues 3 to 6 are not in the recording; they are added only as the recorded counts require
(the issue list's ``Link`` says 3 pages of 2, milestone 1 has an open issue, milestone 2 a
second closed one, and the repository has 3 open issues and pull requests).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.github import FakeGitHub
from tests.fakes.github_shapes import recorded_github
from tests.fakes.github_state import Comment, Issue, Label, Milestone, User, parse_iso

RECORDED_ISSUES = "/issues?direction=asc&page=1&per_page=2&sort=created&state=all"
RECORDED_COMMENTS = "/issues/2/comments?direction=asc&per_page=100&sort=created"
RECORDED_LABELS = "/labels?page=1&per_page=100"
RECORDED_MILESTONES = "/milestones?page=1&per_page=100&state=all"


def _time(value: str | None) -> int | None:
    return None if value is None else parse_iso(value)


def _user(fake: FakeGitHub, data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    login = str(data["login"])
    fake.state.users[login.lower()] = User(data["id"], login, kind=data["type"])
    return login.lower()


def seeded_test_repo() -> FakeGitHub:
    """A fake holding the recorded public repository ``go-gitea/test_repo``."""
    recorded_repo = recorded_github("/repos/go-gitea/test_repo")
    fake = FakeGitHub(owner="go-gitea", repo="test_repo", private=False)
    _user(fake, recorded_repo["owner"])
    repo = fake.repo
    repo.id = recorded_repo["id"]
    repo.created = parse_iso(recorded_repo["created_at"])
    repo.updated = parse_iso(recorded_repo["updated_at"])
    for data in recorded_github(RECORDED_LABELS):
        label = Label(data["id"], data["name"], data["color"], data["description"], data["default"])
        repo.labels[label.id] = label
    for data in recorded_github(RECORDED_MILESTONES):
        milestone = Milestone(
            data["id"],
            data["number"],
            data["title"],
            _user(fake, data["creator"]) or "",
            data["description"],
            data["state"],
            _time(data["due_on"]),
            parse_iso(data["created_at"]),
            parse_iso(data["updated_at"]),
            _time(data["closed_at"]),
        )
        repo.milestones[milestone.number] = milestone
    for data in recorded_github(RECORDED_ISSUES):
        issue = Issue(
            data["id"],
            data["number"],
            data["title"],
            data["body"],
            _user(fake, data["user"]) or "",
            parse_iso(data["created_at"]),
            parse_iso(data["updated_at"]),
            state=data["state"],
            state_reason=data["state_reason"],
            closed_at=_time(data["closed_at"]),
            closed_by=_user(fake, data["closed_by"]),
            label_ids=[label["id"] for label in data["labels"]],
            milestone_number=data["milestone"]["number"] if data["milestone"] else None,
        )
        repo.issues[issue.number] = issue
    repo.next_number = 3
    for data in recorded_github(RECORDED_COMMENTS):
        comment = Comment(
            data["id"],
            2,
            _user(fake, data["user"]) or "",
            data["body"],
            parse_iso(data["created_at"]),
            parse_iso(data["updated_at"]),
        )
        repo.comments[comment.id] = comment
    # Not recorded: only what the recorded counts and Link header need.
    fake.add_issue("open in 1.0.0", milestone=1)
    fake.add_issue("closed in 1.1.0", milestone=2, state="closed")
    fake.add_issue("open")
    fake.add_pull_request("open pull request")
    return fake
