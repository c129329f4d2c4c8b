"""The fake Gitea's issue dependencies: ``/issues/{index}/dependencies`` and ``/blocks``, as
Gitea 1.27's ``routers/api/v1/repo/issue_dependency.go`` and ``models/issues/dependency.go``
answer them.

- A dependency is ``(blocked issue id, blocker issue id)`` (Gitea's ``issue_id`` and
  ``dependency_id``), kept in ``GiteaState.dependencies`` across repositories.
- ``GET .../dependencies`` (the blockers) is a 404 when the repository has dependencies
  disabled; ``GET .../blocks`` (what the issue blocks) is not (Gitea says the setting is
  "potentially irrelevant" there). Both are paged by ``page``/``limit`` without a ``Link``
  header or a total (Gitea writes the list alone); ``/blocks`` takes a ``limit`` of 1 as the
  default page size, as Gitea's ``limit <= 1`` does, and caps nothing.
- ``POST``/``DELETE`` take an ``IssueMeta`` body (``owner``, ``repo``, ``index``); another
  repository's issue is a 400 "CrossRepositoryDependencies not enabled" unless the state allows
  it; a repository with dependencies disabled (the blocked issue's), a user who may not write
  it, or a missing issue is a 404; a dependency that exists already, one whose reverse exists
  (Gitea checks that two-issue cycle only) and removing one that does not exist are 500s.
- A removal answers 200, as the description documents (older Gitea source wrote 201).
- Closing an issue with an open blocker is a 412 (``IssueNoDependenciesLeft``; see
  ``refuse_close_with_open_blockers``), while the repository has dependencies enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.gitea_state import Issue, Repo

if TYPE_CHECKING:
    from tests.fakes.gitea import Ctx, FakeGitea, Reply


_DEPENDENCIES_LEFT = (
    "cannot close this issue or pull request because it still has open dependencies"
)


def _http_error(status: int, message: str) -> Exception:
    from tests.fakes.gitea import HttpError

    return HttpError(status, message)


def _reply(status: int, data: Any) -> Reply:
    from tests.fakes.gitea import Reply

    return Reply(status, data)


def _issue_by_id(fake: FakeGitea, issue_id: int) -> tuple[Repo, Issue] | None:
    for repo in fake.state.repos.values():
        for issue in repo.issues.values():
            if issue.id == issue_id:
                return repo, issue
    return None


def _path_issue(fake: FakeGitea, ctx: Ctx) -> tuple[Repo, Issue]:
    from tests.fakes.gitea import issue_of, repo_of

    repo = repo_of(fake, ctx)
    return repo, issue_of(repo, ctx.params["index"])


def _form_issue(fake: FakeGitea, ctx: Ctx, repo: Repo) -> tuple[Repo, Issue]:
    """Gitea's getFormIssue: the ``IssueMeta`` body's issue."""
    from tests.fakes.gitea import issue_of

    data = ctx.json()
    owner, name = str(data.get("owner") or ""), str(data.get("repo") or "")
    other = repo
    if owner != repo.owner or name != repo.name:
        if not fake.state.cross_repository_dependencies:
            raise _http_error(400, "CrossRepositoryDependencies not enabled")
        found = fake.state.repo(owner, name)
        if found is None:
            raise _http_error(404, "IsErrRepoNotExist")
        other = found
    return other, issue_of(other, str(data.get("index") or 0))


def _listing(fake: FakeGitea, ctx: Ctx, ids: list[int], *, cap: bool) -> Reply:
    """One page of the issues ``ids`` (in dependency order), as Gitea writes it: no Link."""
    from tests.fakes.gitea import page_window

    page, size = page_window(fake, ctx)
    if not cap:  # GetIssueBlocks: ``limit <= 1`` means the default; no MaxResponseItems cap
        size = ctx.int_arg("limit")
        if size <= 1:
            size = fake.default_paging_num
    window = ids[(page - 1) * size : page * size]
    shaped = []
    for issue_id in window:
        found = _issue_by_id(fake, issue_id)
        if found is not None:
            shaped.append(fake.shapes.issue(fake.state, found[0], found[1]))
    return _reply(200, shaped)


def list_dependencies(fake: FakeGitea, ctx: Ctx) -> Reply:
    """The issues blocking the issue in the path."""
    from tests.fakes.gitea import repo_of

    repo = repo_of(fake, ctx)
    if not repo.dependencies_enabled:
        raise _http_error(404, "")
    _, issue = _path_issue(fake, ctx)
    ids = [dep for blocked, dep in fake.state.dependencies if blocked == issue.id]
    return _listing(fake, ctx, ids, cap=True)


def list_blocks(fake: FakeGitea, ctx: Ctx) -> Reply:
    """The issues the issue in the path blocks."""
    _, issue = _path_issue(fake, ctx)
    ids = [blocked for blocked, dep in fake.state.dependencies if dep == issue.id]
    return _listing(fake, ctx, ids, cap=False)


def _change(fake: FakeGitea, blocked: tuple[Repo, Issue], blocker: tuple[Repo, Issue],
            user: str, *, add: bool) -> None:  # fmt: skip
    """createIssueDependency / removeIssueDependency, then the model's own checks."""
    target_repo, target = blocked
    if not target_repo.dependencies_enabled or not target_repo.can_write(user):
        raise _http_error(404, "")
    if not blocker[0].can_read(user):
        raise _http_error(404, "")
    pair = (target.id, blocker[1].id)
    deps = fake.state.dependencies
    if add:
        if pair in deps:
            raise _http_error(500, "")  # ErrDependencyExists
        if (blocker[1].id, target.id) in deps:
            raise _http_error(500, "")  # ErrCircularDependency
        deps.append(pair)
    else:
        if pair not in deps:
            raise _http_error(500, "")  # ErrDependencyNotExists
        deps.remove(pair)
    from tests.fakes import gitea_timeline

    gitea_timeline.record_dependency(fake, blocked, blocker, user, add=add)


def _handle(fake: FakeGitea, ctx: Ctx, *, path_is_blocked: bool, add: bool) -> Reply:
    """The four writes: the path's issue is the blocked one (``/dependencies``) or the blocker
    (``/blocks``), the body's the other; each answers the path's issue, 201 on adding and 200
    on removing (as documented)."""
    from tests.fakes.gitea import require_write_scope

    user = require_write_scope(ctx)
    repo, here = _path_issue(fake, ctx)
    other = _form_issue(fake, ctx, repo)
    blocked, blocker = ((repo, here), other) if path_is_blocked else (other, (repo, here))
    _change(fake, blocked, blocker, user, add=add)
    return _reply(201 if add else 200, fake.shapes.issue(fake.state, repo, here))


def add_dependency(fake: FakeGitea, ctx: Ctx) -> Reply:
    return _handle(fake, ctx, path_is_blocked=True, add=True)


def remove_dependency(fake: FakeGitea, ctx: Ctx) -> Reply:
    return _handle(fake, ctx, path_is_blocked=True, add=False)


def add_blocking(fake: FakeGitea, ctx: Ctx) -> Reply:
    return _handle(fake, ctx, path_is_blocked=False, add=True)


def remove_blocking(fake: FakeGitea, ctx: Ctx) -> Reply:
    return _handle(fake, ctx, path_is_blocked=False, add=False)


def refuse_close_with_open_blockers(fake: FakeGitea, repo: Repo, issue: Issue) -> None:
    """EditIssue's check before closing: ``IssueNoDependenciesLeft`` (enabled repos only)."""
    if not repo.dependencies_enabled or issue.closed:
        return
    for blocked, dep in fake.state.dependencies:
        if blocked == issue.id:
            found = _issue_by_id(fake, dep)
            if found is not None and not found[1].closed:
                raise _http_error(412, _DEPENDENCIES_LEFT)


def forget_issue(fake: FakeGitea, issue: Issue) -> None:
    """A deleted issue's dependencies go with it (Gitea's deleteIssue deletes them)."""
    fake.state.dependencies[:] = [pair for pair in fake.state.dependencies if issue.id not in pair]


ROUTES: list[tuple[str, dict[str, Any]]] = [
    (
        "/issues/(?P<index>[^/]+)/dependencies",
        {"GET": list_dependencies, "POST": add_dependency, "DELETE": remove_dependency},
    ),
    (
        "/issues/(?P<index>[^/]+)/blocks",
        {"GET": list_blocks, "POST": add_blocking, "DELETE": remove_blocking},
    ),
]
