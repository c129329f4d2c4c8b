"""The fake GitHub's issue events: recorded as GitHub records them when an issue changes through
the API, and served by ``GET /repos/{o}/{r}/issues/events`` (the repository's, newest first,
each with its ``issue``; one by id at ``.../issues/events/{id}``), ``GET .../issues/{n}/events``
and ``GET .../issues/{n}/timeline`` (the issue's events and its comments as ``commented``
items, oldest first).

Recording is one rule for every write (``FakeGitHub.handle`` calls ``observe`` before the
handler and ``record`` after it): what differs between the repository before and after the
request becomes the events GitHub writes for it, by the request's user --

- ``renamed`` (``rename.from``/``to``), ``closed`` (with ``state_reason``), ``reopened``;
- ``labeled``/``unlabeled`` per label (``label.name``/``color``), ``assigned``/``unassigned``
  per assignee (``assignee``, ``assigner``), ``milestoned``/``demilestoned`` (``milestone``);
  an issue created with labels, assignees or a milestone gets those events too, as on GitHub;
- ``blocked_by_added``/``removed`` on the blocked issue and ``blocking_added``/``removed`` on
  the blocker; ``sub_issue_added``/``removed`` on the parent and ``parent_issue_added``/
  ``removed`` on the sub-issue (each naming the other issue).

Comments are no events here (GitHub lists them apart; the timeline shows them). Event ids are
drawn from the comments' counter, so that a timeline orders what happened within one second as
it happened (GitHub numbers the two apart; its timeline is in the order of the changes).
Events of pull requests are listed too (their ``issue`` has ``pull_request``). Pages are
GitHub's (``per_page``/``page``, ``Link``), and every answer is an ordinary ``GET``: ETag, 304.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakes.github_shapes import node_id
from tests.fakes.github_state import Issue, Repo, iso

if TYPE_CHECKING:
    from tests.fakes.github import Answer, FakeGitHub, Request


@dataclass
class Record:
    id: int
    issue_id: int
    event: str
    actor: str
    created: int
    label: tuple[str, str] | None = None  # name, colour (kept: the label may go later)
    assignee: str | None = None
    milestone: str | None = None
    rename: tuple[str, str] | None = None
    state_reason: str | None = None
    other_issue_id: int | None = None  # blocked_by / blocking / sub_issue / parent_issue


_OTHER_FIELD = {
    "blocked_by": "blocked_by",
    "blocking": "blocking",
    "sub_issue": "sub_issue",
    "parent_issue": "parent_issue",
}


def records_of(repo: Repo) -> list[Record]:
    return repo.events  # type: ignore[no-any-return]


# -- recording ----------------------------------------------------------------------------------


def _issue_state(issue: Issue) -> tuple[Any, ...]:
    return (
        issue.title,
        issue.state,
        tuple(issue.label_ids),
        tuple(issue.assignees),
        issue.milestone_number,
    )


def observe(fake: FakeGitHub) -> dict[int, Any]:
    """What ``record`` compares with: every repository's issues, dependencies and parents."""
    return {
        repo.id: (
            {issue.id: _issue_state(issue) for issue in repo.issues.values()},
            {blocked: tuple(ids) for blocked, ids in repo.blockers.items()},
            dict(repo.parents),
        )
        for repo in fake.state.repos.values()
    }


def record(fake: FakeGitHub, before: dict[int, Any], actor: str | None) -> None:
    """The events of what changed since ``observe`` (by ``actor``, the request's user)."""
    if actor is None:
        return
    for repo in fake.state.repos.values():
        issues, blockers, parents = before.get(repo.id, ({}, {}, {}))
        for issue in repo.issues.values():
            _issue_events(fake, repo, issue, issues.get(issue.id), actor)
        _pair_events(fake, repo, blockers, actor)
        _parent_events(fake, repo, parents, actor)


def _add(
    fake: FakeGitHub, repo: Repo, issue_id: int, event: str, actor: str, **fields: Any
) -> None:
    now = fake.state.now()
    records_of(repo).append(
        Record(fake.state.next_id("comment"), issue_id, event, actor.lower(), now, **fields)
    )
    issue = repo.issue_by_id(issue_id)
    if issue is not None:
        issue.updated = now


def _issue_events(
    fake: FakeGitHub, repo: Repo, issue: Issue, old: tuple[Any, ...] | None, actor: str
) -> None:
    title, state, labels, assignees, milestone = old or (issue.title, "open", (), (), None)
    if issue.title != title:
        _add(fake, repo, issue.id, "renamed", actor, rename=(title, issue.title))
    if issue.milestone_number != milestone:
        if milestone is not None:
            _add(fake, repo, issue.id, "demilestoned", actor, milestone=_title(repo, milestone))
        if issue.milestone_number is not None:
            title_now = _title(repo, issue.milestone_number)
            _add(fake, repo, issue.id, "milestoned", actor, milestone=title_now)
    for label_id in labels:
        if label_id not in issue.label_ids:
            _add(fake, repo, issue.id, "unlabeled", actor, label=_label(repo, label_id))
    for label_id in issue.label_ids:
        if label_id not in labels:
            _add(fake, repo, issue.id, "labeled", actor, label=_label(repo, label_id))
    for login in assignees:
        if login not in issue.assignees:
            _add(fake, repo, issue.id, "unassigned", actor, assignee=login)
    for login in issue.assignees:
        if login not in assignees:
            _add(fake, repo, issue.id, "assigned", actor, assignee=login)
    if issue.state != state:
        name = "closed" if issue.state == "closed" else "reopened"
        _add(fake, repo, issue.id, name, actor, state_reason=issue.state_reason)


def _pair_events(
    fake: FakeGitHub, repo: Repo, before: dict[int, tuple[int, ...]], actor: str
) -> None:
    old = {(blocked, blocker) for blocked, ids in before.items() for blocker in ids}
    new = {(blocked, blocker) for blocked, ids in repo.blockers.items() for blocker in ids}
    for pairs, suffix in ((new - old, "added"), (old - new, "removed")):
        for blocked, blocker in sorted(pairs):
            _add(fake, repo, blocked, f"blocked_by_{suffix}", actor, other_issue_id=blocker)
            _add(fake, repo, blocker, f"blocking_{suffix}", actor, other_issue_id=blocked)


def _parent_events(fake: FakeGitHub, repo: Repo, before: dict[int, int], actor: str) -> None:
    old, new = set(before.items()), set(repo.parents.items())
    for pairs, suffix in ((old - new, "removed"), (new - old, "added")):
        for child, parent in sorted(pairs):
            _add(fake, repo, parent, f"sub_issue_{suffix}", actor, other_issue_id=child)
            _add(fake, repo, child, f"parent_issue_{suffix}", actor, other_issue_id=parent)


def _title(repo: Repo, number: int) -> str:
    milestone = repo.milestones.get(number)
    return milestone.title if milestone is not None else ""


def _label(repo: Repo, label_id: int) -> tuple[str, str]:
    label = repo.labels.get(label_id)
    return (label.name, label.color) if label is not None else ("", "ededed")


# -- the endpoints ------------------------------------------------------------------------------


def list_repo_events(request: Request) -> Answer:
    repo = request.repo()
    found = sorted(records_of(repo), key=lambda r: (r.created, r.id), reverse=True)
    found = [r for r in found if repo.issue_by_id(r.issue_id) is not None]
    return request.page(found, lambda r: _event(request, repo, r, with_issue=True))


def get_repo_event(request: Request) -> Answer:
    from tests.fakes.github import Answer, not_found

    repo = request.repo()
    raw = request.params["event_id"]
    found = [r for r in records_of(repo) if raw.isdigit() and r.id == int(raw)]
    if not found or repo.issue_by_id(found[0].issue_id) is None:
        raise not_found()
    return Answer(200, _event(request, repo, found[0], with_issue=True))


def _issue_of(request: Request, repo: Repo) -> Issue:
    from tests.fakes.github import not_found

    raw = request.params["number"]
    issue = repo.issues.get(int(raw)) if raw.isdigit() else None
    if issue is None:
        raise not_found()
    return issue


def list_issue_events(request: Request) -> Answer:
    repo = request.repo()
    issue = _issue_of(request, repo)
    found = sorted(
        (r for r in records_of(repo) if r.issue_id == issue.id), key=lambda r: (r.created, r.id)
    )
    return request.page(found, lambda r: _event(request, repo, r, with_issue=False))


def list_timeline(request: Request) -> Answer:
    repo = request.repo()
    issue = _issue_of(request, repo)
    items: list[tuple[int, int, Any]] = [
        (r.created, r.id, r) for r in records_of(repo) if r.issue_id == issue.id
    ]
    items.extend(
        (c.created, c.id, c) for c in repo.comments.values() if c.issue_number == issue.number
    )
    items.sort(key=lambda item: (item[0], item[1]))
    return request.page(items, lambda item: _timeline_item(request, repo, item[2]))


def _timeline_item(request: Request, repo: Repo, item: Any) -> dict[str, Any]:
    if isinstance(item, Record):
        return _event(request, repo, item, with_issue=False)
    data = dict(request.shapes.comment(repo, item))
    data["event"] = "commented"
    data["actor"] = request.shapes.user(item.user)
    return data


def _event(request: Request, repo: Repo, r: Record, *, with_issue: bool) -> dict[str, Any]:
    shapes = request.shapes
    data: dict[str, Any] = {
        "id": r.id,
        "node_id": node_id("IssueEvent", r.id),
        "url": f"{shapes.repo_api(repo)}/issues/events/{r.id}",
        "actor": shapes.user(r.actor),
        "event": r.event,
        "commit_id": None,
        "commit_url": None,
        "created_at": iso(r.created),
        "performed_via_github_app": None,
    }
    issue = repo.issue_by_id(r.issue_id)
    if with_issue and issue is not None:
        data["issue"] = shapes.issue(repo, issue)
    if r.label is not None:
        data["label"] = {"name": r.label[0], "color": r.label[1]}
    if r.assignee is not None:
        data["assignee"] = shapes.user(r.assignee)
        data["assigner"] = shapes.user(r.actor)
    if r.milestone is not None:
        data["milestone"] = {"title": r.milestone}
    if r.rename is not None:
        data["rename"] = {"from": r.rename[0], "to": r.rename[1]}
    if r.event in ("closed", "reopened"):
        data["state_reason"] = r.state_reason
    if r.other_issue_id is not None:
        field = r.event.rsplit("_", 1)[0]
        data[_OTHER_FIELD[field]] = _reference(request, repo, r.other_issue_id)
    return data


def _reference(request: Request, repo: Repo, issue_id: int) -> dict[str, Any] | None:
    """``issue-reference``: the other issue's number, title, state and repository."""
    other = repo.issue_by_id(issue_id)
    if other is None:
        return None
    full = request.shapes.repository(repo, request.login)
    keys = _SIMPLE_REPOSITORY_KEYS or list(full)
    return {
        "number": other.number,
        "title": other.title,
        "state": other.state,
        "state_reason": other.state_reason,
        "repository": {key: full[key] for key in keys if key in full},
        "issue_type": None,
    }


def _simple_repository_keys() -> list[str]:
    import json

    from tests.fakes.github_contract import github_openapi_path

    spec = json.loads(github_openapi_path().read_text())
    return list(spec["components"]["schemas"]["simple-repository"]["properties"])


try:
    _SIMPLE_REPOSITORY_KEYS = _simple_repository_keys()
except (ImportError, AttributeError, KeyError, OSError):  # pragma: no cover - no contract file
    _SIMPLE_REPOSITORY_KEYS = []


ROUTES: list[tuple[str, dict[str, Any]]] = [
    ("/issues/events", {"GET": list_repo_events}),
    ("/issues/events/(?P<event_id>[^/]+)", {"GET": get_repo_event}),
    ("/issues/(?P<number>[^/]+)/events", {"GET": list_issue_events}),
    ("/issues/(?P<number>[^/]+)/timeline", {"GET": list_timeline}),
]
