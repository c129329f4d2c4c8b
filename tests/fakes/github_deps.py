"""The fake GitHub's issue dependencies (``/dependencies/blocked_by``, ``/blocking``) and
sub-issues (``/sub_issues``, ``/sub_issue``, ``/parent``), as GitHub's REST reference
describes them.

- The other issue is named by its global ``id`` (``issue_id``, ``sub_issue_id``), never its
  number: an id no issue has is a 404 (the fake's ids start far above any number, so a client
  that sends a number is caught); a real GitHub would link whichever issue has that id.
- A blocker that blocks already, or the issue itself, is a 422 ``Validation Failed``; a
  sub-issue with a parent already is a 422 unless ``replace_parent`` is true; a sub-issue must
  be another issue of the same owner. Removing what is not there is a 404.
- Lists are paged (``per_page`` up to 100, ``Link`` headers), as every GitHub list.
- The issue JSON's ``issue_dependencies_summary`` counts open blockers (``blocked_by``) and all
  (``total_blocked_by``), and ``sub_issues_summary`` the children (``github_shapes``).
"""

from __future__ import annotations

from tests.fakes.github import Answer, GitHubError, Request, invalid, not_found
from tests.fakes.github_state import Issue, Repo


def _path_issue(request: Request, *, write: bool = False) -> tuple[Repo, Issue]:
    from tests.fakes.github_routes import _issue

    repo = request.repo(write=write)
    if write:
        user = request.require_login()
        if not repo.has_role(user, "triage"):
            raise GitHubError(403, "Resource not accessible by integration")
    return repo, _issue(repo, request.params["number"])


def _by_id(request: Request, raw: object) -> tuple[Repo, Issue]:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise invalid("Issue", "issue_id")
    for repo in request.fake.state.repos.values():
        found = repo.issue_by_id(raw)
        if found is not None:
            return repo, found
    raise not_found()


def _listing(request: Request, repo: Repo, ids: list[int]) -> Answer:
    issues = [i for i in (repo.issue_by_id(n) for n in ids) if i is not None]
    return request.page(issues, lambda issue: request.shapes.issue(repo, issue))


def list_blocked_by(request: Request) -> Answer:
    repo, issue = _path_issue(request)
    return _listing(request, repo, repo.blockers.get(issue.id, []))


def list_blocking(request: Request) -> Answer:
    repo, issue = _path_issue(request)
    return _listing(request, repo, [b for b, ids in repo.blockers.items() if issue.id in ids])


def add_blocked_by(request: Request) -> Answer:
    repo, issue = _path_issue(request, write=True)
    _, blocker = _by_id(request, request.object().get("issue_id"))
    blockers = repo.blockers.setdefault(issue.id, [])
    if blocker.id == issue.id or blocker.id in blockers:
        raise invalid("IssueDependency", "issue_id", "already_exists")
    blockers.append(blocker.id)
    shaped = request.shapes.issue(repo, issue)
    return Answer(201, shaped, {"Location": shaped["url"]})


def remove_blocked_by(request: Request) -> Answer:
    repo, issue = _path_issue(request, write=True)
    raw = request.params["issue_id"]
    blockers = repo.blockers.get(issue.id, [])
    if not raw.isdigit() or int(raw) not in blockers:
        raise not_found()
    blockers.remove(int(raw))
    return Answer(200, request.shapes.issue(repo, issue))


def list_sub_issues(request: Request) -> Answer:
    repo, issue = _path_issue(request)
    return _listing(request, repo, [c for c, p in repo.parents.items() if p == issue.id])


def get_parent(request: Request) -> Answer:
    repo, issue = _path_issue(request)
    parent = repo.issue_by_id(repo.parents.get(issue.id, 0))
    if parent is None:
        raise not_found()
    return Answer(200, request.shapes.issue(repo, parent))


def add_sub_issue(request: Request) -> Answer:
    repo, parent = _path_issue(request, write=True)
    data = request.object()
    child_repo, child = _by_id(request, data.get("sub_issue_id"))
    if child_repo.owner.lower() != repo.owner.lower() or child.id == parent.id:
        raise invalid("SubIssue", "sub_issue_id")
    if child.id in repo.parents and data.get("replace_parent") is not True:
        raise invalid("SubIssue", "parent", "already_exists")
    repo.parents[child.id] = parent.id
    shaped = request.shapes.issue(repo, parent)
    return Answer(201, shaped, {"Location": shaped["url"]})


def remove_sub_issue(request: Request) -> Answer:
    repo, parent = _path_issue(request, write=True)
    raw = request.object().get("sub_issue_id")
    if not isinstance(raw, int) or repo.parents.get(raw) != parent.id:
        raise not_found()
    del repo.parents[raw]
    return Answer(200, request.shapes.issue(repo, parent))


_N = "(?P<number>[^/]+)"
ROUTES = [
    (
        f"/issues/{_N}/dependencies/blocked_by",
        {"GET": list_blocked_by, "POST": add_blocked_by},
    ),
    (f"/issues/{_N}/dependencies/blocked_by/(?P<issue_id>[^/]+)", {"DELETE": remove_blocked_by}),
    (f"/issues/{_N}/dependencies/blocking", {"GET": list_blocking}),
    (f"/issues/{_N}/sub_issues", {"GET": list_sub_issues, "POST": add_sub_issue}),
    (f"/issues/{_N}/sub_issue", {"DELETE": remove_sub_issue}),
    (f"/issues/{_N}/parent", {"GET": get_parent}),
]
