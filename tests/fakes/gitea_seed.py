"""Load the recorded gitea.com repository ``gitea/test_repo`` into a fake Gitea.

Users, labels, milestones, issues and issue 4's comments keep their real ids, names, texts and
timestamps, so the fake's answer to a recorded request can be compared with the recorded answer
(``tests/contract/test_gitea_fake.py``). Pull requests were not recorded, and neither were the
comments of issues other than #4: those issues get placeholder comments so that their comment
counts stay right, and milestone counters (which count pull requests too) cannot match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.gitea_state import Comment, Issue, Label, Milestone, Repo, User, parse_iso
from tests.fakes.recorded import find_recorded

if TYPE_CHECKING:
    from tests.fakes.gitea import FakeGitea

ISSUES = "/issues?limit=50&page=1&state=all&type=issues"
LABELS = "/labels?limit=50&page=1"
MILESTONES = "/milestones?limit=50&page=1&state=all"
COMMENTS_OF_4 = "/issues/4/comments?limit=50&page=1"


def _ts(value: str | None) -> int | None:
    return None if value is None else parse_iso(value)


def _user(fake: FakeGitea, raw: dict[str, Any]) -> str:
    login = str(raw["login"]).lower()
    fake.state.users[login] = User(int(raw["id"]), str(raw["login"]), raw=raw)
    return login


def seed_recorded_repo(fake: FakeGitea) -> Repo:
    """Add ``gitea/test_repo`` (public) to ``fake`` as recorded; return it."""
    base = fake.base_url
    recorded_repo = find_recorded("/repos/gitea/test_repo").json(base)
    with fake.state.lock:
        owner = _user(fake, recorded_repo["owner"])
        repo = fake.state.add_repo(owner, "test_repo", private=False)
        repo.id = int(recorded_repo["id"])
        for raw in find_recorded(LABELS).json(base):
            label = Label(int(raw["id"]), raw["name"], raw["color"], raw["description"])
            label.exclusive, label.is_archived = raw["exclusive"], raw["is_archived"]
            repo.labels[label.id] = label
        for raw in find_recorded(MILESTONES).json(base):
            milestone = Milestone(
                int(raw["id"]),
                raw["title"],
                raw["description"],
                closed=raw["state"] == "closed",
                due_on=_ts(raw["due_on"]),
                created=_ts(raw["created_at"]) or 0,
                updated=_ts(raw["updated_at"]) or 0,
                closed_at=_ts(raw["closed_at"]),
            )
            repo.milestones[milestone.id] = milestone
        for raw in find_recorded(ISSUES).json(base):
            issue = Issue(
                id=int(raw["id"]),
                number=int(raw["number"]),
                title=raw["title"],
                body=raw["body"],
                poster=_user(fake, raw["user"]),
                created=_ts(raw["created_at"]) or 0,
                updated=_ts(raw["updated_at"]) or 0,
                closed=raw["state"] == "closed",
                closed_at=_ts(raw["closed_at"]),
                label_ids=[int(label["id"]) for label in raw["labels"] or []],
                milestone_id=int(raw["milestone"]["id"]) if raw["milestone"] else 0,
                assignees=[_user(fake, user) for user in raw["assignees"] or []],
                is_locked=bool(raw["is_locked"]),
                ref=raw["ref"],
            )
            repo.issues[issue.number] = issue
            repo.next_number = max(repo.next_number, issue.number + 1)
        for raw in find_recorded(COMMENTS_OF_4).json(base):
            comment = Comment(
                int(raw["id"]),
                4,
                _user(fake, raw["user"]),
                raw["body"],
                _ts(raw["created_at"]) or 0,
                _ts(raw["updated_at"]) or 0,
            )
            repo.comments[comment.id] = comment
        for raw in find_recorded(ISSUES).json(base):
            issue = repo.issues[int(raw["number"])]
            have = sum(1 for c in repo.comments.values() if c.issue_number == issue.number)
            for extra in range(int(raw["comments"]) - have):
                placeholder = Comment(
                    -(issue.number * 100 + extra), issue.number, owner, "(not recorded)", 0, 0
                )
                repo.comments[placeholder.id] = placeholder
        return repo
