"""The fake GitLab's issue links (``/projects/:id/issues/:iid/links``), as GitLab's Issue links
API (doc/api/issue_links.md; lib/api/issue_links.rb, ee/app/services/ee/issue_links) answers.

- A link is ``(source issue id, target issue id, link_type)``; ``is_blocked_by`` is stored as
  ``blocks`` the other way round, and a list shows each link from the issue asked about (the
  target of a ``blocks`` link sees ``is_blocked_by``), oldest link first. The list is the
  whole set in one answer: GitLab does not page it.
- ``blocks``/``is_blocked_by`` need a paid tier (the "blocked issues" licence feature): on
  Free (``GitLabState.blocked_issues_licensed`` false, the default) creating one is a 403
  ``Blocked issues not available for current license``; ``relates_to`` works on every tier.
- Two issues have at most one link: another between the same two is a 409 ``Issue(s) already
  assigned``; a target that does not exist (or the issue itself) is a 404 ``No matching issue
  found...``; removing a link is by its ``issue_link_id`` and answers the link.
- Linking and unlinking write a system note on both issues (which moves their ``updated_at``):
  "marked this issue as related to #2", "... as blocking #2" / "... as blocked by #1" (a
  ``blocks`` link, from each end), "removed the relation with #2".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakes.gitea import Reply
from tests.fakes.gitlab_request import ApiError
from tests.fakes.gitlab_state import REPORTER, Issue, Project, iso_ms

if TYPE_CHECKING:
    from tests.fakes.gitlab_request import Request

LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")
NOT_LICENSED = "Blocked issues not available for current license"
NO_MATCH = "No matching issue found. Make sure that you are adding a valid issue URL."


@dataclass
class IssueLink:
    id: int
    source_id: int  # global issue ids
    target_id: int
    link_type: str  # relates_to | blocks
    created: int


def _issue_by_id(req: Request, issue_id: int) -> tuple[Project, Issue] | None:
    for project in req.state.projects.values():
        for issue in project.issues.values():
            if issue.id == issue_id:
                return project, issue
    return None


def _path_issue(req: Request, *, write: bool = False) -> tuple[Project, Issue]:
    from tests.fakes.gitlab_api import _issue_of

    project = req.project(write=write)
    if write:
        req.need_level(project, REPORTER)
    return project, _issue_of(req, project)


def _seen_from(link: IssueLink, issue: Issue) -> str:
    if link.link_type == "blocks" and link.target_id == issue.id:
        return "is_blocked_by"
    return link.link_type


def _shape(req: Request, project: Project, issue: Issue) -> dict[str, Any]:
    from tests.fakes.gitlab_api import _note_counts

    return req.fake.shapes.issue(project, issue, _note_counts(project))


def list_links(req: Request) -> Reply:
    _, issue = _path_issue(req)
    found = []
    for link in sorted(req.state.issue_links.values(), key=lambda item: (item.created, item.id)):
        if issue.id not in (link.source_id, link.target_id):
            continue
        other_id = link.target_id if link.source_id == issue.id else link.source_id
        other = _issue_by_id(req, other_id)
        if other is None:
            continue
        shaped = _shape(req, *other)
        shaped.update(
            issue_link_id=link.id,
            link_type=_seen_from(link, issue),
            link_created_at=iso_ms(link.created),
            link_updated_at=iso_ms(link.created),
        )
        found.append(shaped)
    return Reply(200, found)


def _expanded(req: Request, link: IssueLink, link_type: str) -> dict[str, Any]:
    source = _issue_by_id(req, link.source_id)
    target = _issue_by_id(req, link.target_id)
    assert source is not None and target is not None
    return {
        "source_issue": _shape(req, *source),
        "target_issue": _shape(req, *target),
        "link_type": link_type,
    }


def create_link(req: Request) -> Reply:
    project, issue = _path_issue(req, write=True)
    user = req.need_user()
    link_type = req.arg("link_type") or "relates_to"
    if link_type not in LINK_TYPES:
        raise ApiError(400, error="link_type does not have a valid value")
    if link_type != "relates_to" and not req.state.blocked_issues_licensed:
        raise ApiError(403, NOT_LICENSED)
    target_project = req.state.project_by_ref(str(req.arg("target_project_id") or ""))
    iid = req.int_arg("target_issue_iid")
    target = target_project.issues.get(iid or 0) if target_project is not None else None
    if target_project is None or target is None or target.id == issue.id:
        raise ApiError(404, NO_MATCH)
    pair = {issue.id, target.id}
    if any({link.source_id, link.target_id} == pair for link in req.state.issue_links.values()):
        raise ApiError(409, "Issue(s) already assigned")
    blocked_here = link_type == "is_blocked_by"  # kept as "blocks" from the other end
    source_id, target_id = (target.id, issue.id) if blocked_here else (issue.id, target.id)
    link = IssueLink(
        req.state.next_id("issue_link"),
        source_id,
        target_id,
        "relates_to" if link_type == "relates_to" else "blocks",
        req.state.now(),
    )
    req.state.issue_links[link.id] = link
    source = target if blocked_here else issue
    for where, noted, other in ((project, issue, target), (target_project, target, issue)):
        req.state.system_note(where, noted, user, _link_note(link, noted, source, other))
    return Reply(201, _expanded(req, link, link_type))


def _link_note(link: IssueLink, noted: Issue, source: Issue, other: Issue) -> str:
    """GitLab's note of a new link on each of its issues (SystemNotes::IssuablesService
    #relate_issuable, EE's blocking forms)."""
    if link.link_type == "relates_to":
        return f"marked this issue as related to #{other.iid}"
    if noted.id == source.id:
        return f"marked this issue as blocking #{other.iid}"
    return f"marked this issue as blocked by #{other.iid}"


def delete_link(req: Request) -> Reply:
    _, issue = _path_issue(req, write=True)
    user = req.need_user()
    raw = req.ctx.params["link_id"]
    link = req.state.issue_links.get(int(raw)) if raw.isdigit() else None
    if link is None or issue.id not in (link.source_id, link.target_id):
        raise ApiError(404, "404 Not found")
    answer = _expanded(req, link, _seen_from(link, issue))
    del req.state.issue_links[link.id]
    ends = {link.source_id: link.target_id, link.target_id: link.source_id}
    for issue_id, other_id in ends.items():
        found, other = _issue_by_id(req, issue_id), _issue_by_id(req, other_id)
        if found is not None and other is not None:
            text = f"removed the relation with #{other[1].iid}"
            req.state.system_note(found[0], found[1], user, text)
    return Reply(200, answer)


def forget_issue(req: Request, issue: Issue) -> None:
    """A deleted issue's links go with it."""
    for link_id in [
        k for k, v in req.state.issue_links.items() if issue.id in (v.source_id, v.target_id)
    ]:
        del req.state.issue_links[link_id]


ROUTES: list[tuple[str, dict[str, Any]]] = [
    (r"/issues/(?P<iid>[^/]+)/links", {"GET": list_links, "POST": create_link}),
    (r"/issues/(?P<iid>[^/]+)/links/(?P<link_id>[^/]+)", {"DELETE": delete_link}),
]
