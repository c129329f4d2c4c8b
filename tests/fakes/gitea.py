"""A fake Gitea 1.27 API (``/api/v1``) as an ASGI app, with Gitea's real semantics.

What it copies from Gitea (routers/api/v1 and the recorded traffic in tests/contracts):

* list endpoints page with ``page``/``limit`` (``limit`` <= 0 means ``default_paging_num``,
  above ``max_response_items`` it is capped), send ``X-Total-Count`` and, when there is more
  than one page, a ``Link`` header with rel next/last/first/prev built like Gitea's
  ``genAPILinks`` (query re-encoded with sorted keys, links joined by ``,``);
* the issue list returns pull requests too unless ``type=issues``; it is newest first;
  ``labels`` are names (an issue must carry *all* of them, and names Gitea does not know are
  dropped -- if none is known the filter is dropped altogether); ``milestones`` are names or
  ids (any of them, unknown ones dropped the same way); ``since``/``before`` compare
  ``updated_at`` in whole seconds; an unknown ``created_by``/``assigned_by`` user is a 404;
  there is no ``sort`` parameter (Gitea 1.27's Swagger declares none for this list);
* creating an issue takes label *ids*; unknown label ids and an unknown milestone id are
  silently dropped, an unknown assignee is a 422; label names are accepted only by the
  issue-labels endpoints (ids *or* names, never mixed);
* label names are not unique (Gitea allows two labels called "bug"); milestones are addressed
  by id, or by title when the id does not parse or does not exist;
* comments are listed per issue, or for the whole repository (``/issues/comments``: issues
  and pull requests, paged, ``since``/``before`` inclusive), and changed (PATCH/DELETE
  ``/issues/comments/{id}``) by their poster or a writer;
  anyone else gets Gitea's bare ``ctx.Status(403)`` (no body), and an id of another
  repository's comment a bare 404; deleting a comment moves its issue's ``updated_at``;
* errors are ``{"message": ..., "url": ...}`` (404s add ``errors``), ``null`` is sent for absent
  objects and empty assignee lists; ``Content-Type: application/json;charset=utf-8``;
* auth: ``Authorization: token X`` or ``Bearer X``; an unknown token is a 401; no token reads
  public repositories only (a private one is a 404) and every write needs one (401); a
  read-only token gets 403 on writes; a non-collaborator cannot manage labels or milestones;
  deleting an issue needs a repository admin (the owner or an admin collaborator, Gitea's
  ``reqAdmin``): anyone else gets 403 before the issue is looked up.

Not in Gitea, opt-in for tests: ``etags=True`` adds a strong ``ETag`` to JSON GETs and answers
``If-None-Match`` with 304, as a caching proxy in front of Gitea would (Gitea itself sends no
ETag on API JSON: the recorded responses carry none, only ``Cache-Control: max-age=0, private,
must-revalidate``). ``rate_limit_headers=True`` adds ``X-RateLimit-*`` as such a proxy might
(Gitea has no API rate limiting of its own). Uncertain point: Gitea 1.27 documents
``content_version`` on issue edits; a stale one is answered like Gitea's API answers
``ErrIssueAlreadyChanged``: 400 "the issue is already changed".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, urlencode

from tests.fakes import gitea_deps, gitea_timeline
from tests.fakes.faults import FaultMiddleware, Faults
from tests.fakes.gitea_state import (
    Counts,
    GiteaState,
    Issue,
    Label,
    Milestone,
    Repo,
    Shapes,
    parse_iso,
)
from tests.fakes.server import read_body

API = "/api/v1"
JSON_TYPE = "application/json;charset=utf-8"
GITEA_VERSION = "1.27.0"
WRITE_TOKEN = "fake-gitea-write-token-0000000000000000"
READ_TOKEN = "fake-gitea-read-token-11111111111111111"
COMMON_HEADERS = {
    "Cache-Control": "max-age=0, private, must-revalidate, no-transform",
    "Vary": "Origin",
    "X-Content-Type-Options": "nosniff",
}
_LABEL_COLOR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


class HttpError(Exception):
    def __init__(self, status: int, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class Reply:
    """What a handler returns: status, JSON-able body (or None) and extra headers."""

    def __init__(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


class Ctx:
    """One request as the handlers see it."""

    def __init__(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.user: str | None = None
        self.token_write = False
        self.params: dict[str, str] = {}

    def arg(self, name: str, default: str = "") -> str:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def int_arg(self, name: str) -> int:
        """Like Go's FormInt: anything unparsable is 0."""
        try:
            return int(self.arg(name, "0"))
        except ValueError:
            return 0

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise HttpError(422, f"invalid JSON body: {exc}") from None
        if not isinstance(data, dict):
            raise HttpError(422, "the JSON body must be an object")
        return data


Handler = Callable[["FakeGitea", Ctx], Reply]


class FakeGitea:
    """The fake server: ``state`` (data), ``faults`` (knobs) and ``app`` (ASGI callable).

    By default it holds one private repository ``alice/tracker`` owned by ``alice``, whose
    token is ``WRITE_TOKEN``; ``reader`` holds ``READ_TOKEN`` (read-only scopes) and is a
    read-only collaborator. ``add_collaborator`` adds users who can be assigned.
    """

    def __init__(
        self,
        *,
        owner: str = "alice",
        repo: str = "tracker",
        private: bool = True,
        max_response_items: int = 50,
        default_paging_num: int = 30,
        etags: bool = False,
        rate_limit_headers: bool = False,
    ) -> None:
        self.state = GiteaState()
        self.faults = Faults()
        self.max_response_items = max_response_items
        self.default_paging_num = default_paging_num
        self.etags = etags
        self.rate_limit_headers = rate_limit_headers
        self.rate_limit_remaining = 5000
        self.timeline_api = True  # False: a Gitea before 1.15, without the issue timeline
        self.base_url = "http://127.0.0.1"
        self._shapes: Shapes | None = None
        self.state.add_token(owner, WRITE_TOKEN, write=True)
        self.state.add_token("reader", READ_TOKEN, write=False)
        self.repo = self.state.add_repo(owner, repo, private=private)
        self.repo.collaborators["reader"] = False
        self.owner = owner
        # Test hooks run (under the state lock) before a request is handled: "another user
        # writes between two pages" made deterministic.
        self.before_handling: list[Callable[[Ctx], None]] = []
        self.app = FaultMiddleware(self._asgi, self.faults, lambda: f"{self.base_url}/api/swagger")

    # -- set-up helpers for tests -----------------------------------------------------

    def set_base_url(self, url: str) -> None:
        self.base_url = url.rstrip("/")
        self._shapes = None

    @property
    def shapes(self) -> Shapes:
        if self._shapes is None:
            self._shapes = Shapes(self.base_url)
        return self._shapes

    def add_issue(
        self,
        title: str,
        *,
        body: str = "",
        labels: list[str] = (),  # type: ignore[assignment]
        closed: bool = False,
        pull: bool = False,
        poster: str | None = None,
        created: int | None = None,
        repo: Repo | None = None,
    ) -> Issue:
        target = repo or self.repo
        with self.state.lock:
            issue = self.state.new_issue(
                target,
                title=title,
                body=body,
                poster=poster or self.owner,
                is_pull=pull,
                created=created,
            )
            for name in labels:
                ids = self.state.label_ids_by_names(target, [name])
                issue.label_ids.append(
                    ids[0] if ids else self.state.new_label(target, name, "ededed").id
                )
            self.state.set_closed(issue, closed)
            return issue

    def add_collaborator(self, login: str, *, write: bool = True, admin: bool = False) -> None:
        """A collaborator with read, write or (``admin``, which implies write) admin rights."""
        with self.state.lock:
            self.state.add_user(login)
            self.repo.collaborators[login.lower()] = write or admin
            if admin:
                self.repo.admins.add(login.lower())

    def add_token(self, login: str, token: str, *, write_scope: bool = True) -> None:
        """A token for ``login`` (who must exist or is created); scopes read-only or write."""
        with self.state.lock:
            self.state.add_token(login, token, write=write_scope)

    def add_pull_request(self, title: str, **options: Any) -> Issue:
        return self.add_issue(title, pull=True, **options)

    def add_label(self, name: str, color: str = "e11d21", description: str = "") -> Label:
        return self.state.new_label(self.repo, name, color, description)

    def add_milestone(self, title: str, description: str = "") -> Milestone:
        return self.state.new_milestone(self.repo, title, description)

    def issue(self, number: int) -> Issue:
        return self.repo.issues[number]

    def issues(self, *, pulls: bool = False) -> list[Issue]:
        return [i for i in self.repo.issues.values() if i.is_pull == pulls]

    # -- ASGI --------------------------------------------------------------------------

    async def _asgi(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await read_body(receive)
        from urllib.parse import parse_qsl

        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ctx = Ctx(scope["method"], scope["path"], query, headers, body)
        status, payload, reply_headers = self.handle(
            ctx, scope.get("query_string", b"").decode("latin-1")
        )
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply_headers.items()
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    def handle(self, ctx: Ctx, raw_query: str) -> tuple[int, bytes, dict[str, str]]:
        """Route, authenticate, run the handler and encode; pure and synchronous."""
        try:
            handler, params = self._route(ctx.method, ctx.path)
            ctx.params = params
            self._authenticate(ctx)
            with self.state.lock:
                for hook in list(self.before_handling):
                    hook(ctx)
                reply = handler(self, ctx)
        except HttpError as err:
            reply = Reply(err.status, self._error_body(err))
        headers = dict(COMMON_HEADERS)
        headers.update(reply.headers)
        if self.rate_limit_headers:
            self.rate_limit_remaining = max(0, self.rate_limit_remaining - 1)
            headers.update(
                {
                    "X-RateLimit-Limit": "5000",
                    "X-RateLimit-Remaining": str(self.rate_limit_remaining),
                    "X-RateLimit-Reset": "3600",
                }
            )
        if reply.body is None:  # 204, or an error sent with ctx.Status (no body at all)
            return reply.status, b"", headers
        payload = encode_json(reply.body)
        headers["Content-Type"] = JSON_TYPE
        if self.etags and ctx.method == "GET" and reply.status == 200:
            etag = '"' + hashlib.sha1(payload).hexdigest() + '"'
            headers["ETag"] = etag
            if etag in [t.strip() for t in ctx.headers.get("if-none-match", "").split(",")]:
                del headers["Content-Type"]
                return 304, b"", headers
        headers["Content-Length"] = str(len(payload))
        return reply.status, payload, headers

    def _error_body(self, err: HttpError) -> dict[str, Any]:
        body: dict[str, Any] = {"message": err.message, "url": f"{self.base_url}/api/swagger"}
        if err.status == 404:
            body = {"errors": err.errors, **body}
        return body

    def _route(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        if not path.startswith(API + "/"):
            raise HttpError(404, "not found")
        relative = path[len(API) :]
        known_path = False
        for pattern, handlers in _ROUTES:
            match = pattern.fullmatch(relative)
            if match:
                known_path = True
                handler = handlers.get(method)
                if handler is not None:
                    return handler, match.groupdict()
        raise HttpError(
            405 if known_path else 404, "method not allowed" if known_path else "not found"
        )

    def _authenticate(self, ctx: Ctx) -> None:
        header = ctx.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            return
        if scheme.lower() not in ("token", "bearer") or not value.strip():
            raise HttpError(401, "invalid username, password or token")
        token = self.state.tokens.get(value.strip())
        if token is None:
            raise HttpError(401, "invalid username, password or token")
        ctx.user = token.login
        ctx.token_write = token.write


# --------------------------------------------------------------------------- helpers


def encode_json(value: Any) -> bytes:
    """Like Go's encoding/json: compact, UTF-8, with <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def require_token(ctx: Ctx) -> str:
    if ctx.user is None:
        raise HttpError(401, "token is required")
    return ctx.user


def require_write_scope(ctx: Ctx, scope: str = "write:issue") -> str:
    user = require_token(ctx)
    if not ctx.token_write:
        raise HttpError(
            403,
            "token does not have at least one of required scope(s), "
            f"required=[{scope}], token scope=read:issue,read:repository",
        )
    return user


def repo_of(fake: FakeGitea, ctx: Ctx) -> Repo:
    repo = fake.state.repo(ctx.params["owner"], ctx.params["repo"])
    if repo is None or not repo.can_read(ctx.user):
        raise HttpError(404, "not found")
    return repo


def require_writer(repo: Repo, user: str) -> None:
    if not repo.can_write(user):
        raise HttpError(403, "user should have a permission to write to a repo")


def issue_of(repo: Repo, index: str) -> Issue:
    issue = repo.issues.get(int(index)) if index.isdigit() else None
    if issue is None:
        raise HttpError(
            404,
            "not found",
            errors=[f"issue does not exist [id: 0, repo_id: {repo.id}, index: {index}]"],
        )
    return issue


def page_window(fake: FakeGitea, ctx: Ctx) -> tuple[int, int]:
    """Gitea's GetListOptions: (page, page size)."""
    page = max(1, ctx.int_arg("page"))
    limit = ctx.int_arg("limit")
    if limit <= 0:
        limit = fake.default_paging_num
    return page, min(limit, fake.max_response_items)


def paged(fake: FakeGitea, ctx: Ctx, items: list[Any], render: Callable[[Any], Any]) -> Reply:
    page, size = page_window(fake, ctx)
    window = items[(page - 1) * size : page * size]
    headers = {"X-Total-Count": str(len(items))}
    expose = ["X-Total-Count"]
    link = link_header(fake.base_url, ctx, len(items), size)
    if link:
        headers["Link"] = link
        expose.insert(0, "Link")
    headers["Access-Control-Expose-Headers"] = ", ".join(expose)
    return Reply(200, [render(item) for item in window], headers)


def link_header(base_url: str, ctx: Ctx, total: int, size: int) -> str:
    """Gitea's genAPILinks: next, last, first, prev -- in that order, joined by ','."""
    size = max(1, size)
    total_pages = 1 if total == 0 else (total + size - 1) // size
    current = min(max(1, ctx.int_arg("page")), total_pages)
    has_next = total > current * size
    is_last = total == 0 or (total > (current - 1) * size and not has_next)

    def url(page: int) -> str:
        pairs = [(k, v) for k, v in ctx.query if k != "page"] + [("page", str(page))]
        pairs.sort(key=lambda kv: kv[0])  # Go's url.Values.Encode sorts by key
        return f"<{base_url}{ctx.path}?{urlencode(pairs, quote_via=quote_plus)}>"

    links = []
    if has_next:
        links.append(f'{url(current + 1)}; rel="next"')
    if not is_last:
        links.append(f'{url(total_pages)}; rel="last"')
    if current != 1:
        links.append(f'{url(1)}; rel="first"')
    if current > 1:
        links.append(f'{url(current - 1)}; rel="prev"')
    return ",".join(links)


def time_arg(ctx: Ctx, name: str) -> int | None:
    raw = ctx.arg(name)
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError as exc:
        raise HttpError(422, f"parsing time {raw!r}: {exc}") from None


def user_filter(fake: FakeGitea, ctx: Ctx, name: str) -> str | None:
    login = ctx.arg(name)
    if not login:
        return None
    user = fake.state.user(login)
    if user is None:
        raise HttpError(404, "not found", errors=[f"user redirect does not exist [name: {login}]"])
    return user.login.lower()


def assignee_logins(
    fake: FakeGitea, repo: Repo, one: str | None, many: list[str] | None
) -> list[str]:
    names = [n for n in ([one] if one else []) + list(many or []) if n]
    logins: list[str] = []
    for name in names:
        user = fake.state.user(name)
        if user is None:
            raise HttpError(422, f"Assignee does not exist: [name: {name}]")
        login = user.login.lower()
        if not repo.can_write(login):
            raise HttpError(
                422,
                f"user does not have access to repo [user_id: {user.id}, repo_name: {repo.name}]",
            )
        if login not in logins:
            logins.append(login)
    return logins


def body_string(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise HttpError(422, f"{key} must be a string")
    return value


def normalize_color(raw: Any) -> str:
    color = str(raw or "").strip()
    if not _LABEL_COLOR.match(color):
        raise HttpError(422, f"invalid color: {raw!r}")
    color = color.lstrip("#").lower()
    return "".join(c * 2 for c in color) if len(color) == 3 else color


# --------------------------------------------------------------------------- handlers


def get_version(fake: FakeGitea, ctx: Ctx) -> Reply:
    return Reply(200, {"version": GITEA_VERSION})


def get_settings(fake: FakeGitea, ctx: Ctx) -> Reply:
    return Reply(
        200,
        {
            "max_response_items": fake.max_response_items,
            "default_paging_num": fake.default_paging_num,
            "default_git_trees_per_page": 1000,
            "default_max_blob_size": 10485760,
            "default_max_response_size": 104857600,
        },
    )


def get_user(fake: FakeGitea, ctx: Ctx) -> Reply:
    login = require_token(ctx)
    return Reply(200, fake.shapes.user(fake.state.users[login]))


def get_repo(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    return Reply(200, fake.shapes.repository(fake.state, repo, ctx.user))


def list_collaborators(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    require_token(ctx)
    users = [fake.state.users[login] for login in sorted(repo.collaborators)]
    return paged(fake, ctx, users, fake.shapes.user)


def list_assignees(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    writers = sorted(login for login, write in repo.collaborators.items() if write)
    logins = [repo.owner, *writers]
    return Reply(200, [fake.shapes.user(fake.state.users[login]) for login in logins])


def list_issues(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    state = ctx.arg("state")
    closed = {"closed": True, "all": None}.get(state, False)
    kind = ctx.arg("type")
    since, before = time_arg(ctx, "since"), time_arg(ctx, "before")
    created_by = user_filter(fake, ctx, "created_by")
    assigned_by = user_filter(fake, ctx, "assigned_by")
    user_filter(fake, ctx, "mentioned_by")
    label_ids: set[int] = set()
    if ctx.arg("labels"):
        label_ids = set(fake.state.label_ids_by_names(repo, ctx.arg("labels").split(",")))
    milestone_ids: set[int] = set()
    for key in ctx.arg("milestones").split(",") if ctx.arg("milestones") else []:
        milestone = fake.state.milestone_by_id_or_name(repo, key)
        if milestone is not None:
            milestone_ids.add(milestone.id)
    keyword = ctx.arg("q").strip().lower()

    def keep(issue: Issue) -> bool:
        if closed is not None and issue.closed != closed:
            return False
        if (kind == "issues" and issue.is_pull) or (kind == "pulls" and not issue.is_pull):
            return False
        if label_ids and not label_ids.issubset(issue.label_ids):
            return False
        if milestone_ids and issue.milestone_id not in milestone_ids:
            return False
        if (since is not None and issue.updated < since) or (
            before is not None and issue.updated > before
        ):
            return False
        if created_by is not None and issue.poster != created_by:
            return False
        if assigned_by is not None and assigned_by not in issue.assignees:
            return False
        return not keyword or _matches_keyword(repo, issue, keyword)

    found = [issue for issue in repo.issues.values() if keep(issue)]
    found.sort(key=lambda i: (i.created, i.id), reverse=True)
    counts = Counts.of(repo)
    return paged(fake, ctx, found, lambda issue: fake.shapes.issue(fake.state, repo, issue, counts))


def _matches_keyword(repo: Repo, issue: Issue, keyword: str) -> bool:
    if keyword.isdigit() and issue.number == int(keyword):
        return True
    if keyword in issue.title.lower() or keyword in issue.body.lower():
        return True
    return any(
        c.issue_number == issue.number and keyword in c.body.lower() for c in repo.comments.values()
    )


def get_issue(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    return Reply(200, fake.shapes.issue(fake.state, repo, issue_of(repo, ctx.params["index"])))


def create_issue(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    data = ctx.json()
    title = body_string(data, "title") or ""
    if not title.strip():
        raise HttpError(422, "[Title]: Required")
    if len(title) > 255:
        raise HttpError(422, "[Title]: MaxSize")
    writer = repo.can_write(user)
    assignees = (
        assignee_logins(fake, repo, data.get("assignee"), data.get("assignees")) if writer else []
    )
    deadline = None
    if writer and data.get("due_date") is not None:  # CreateIssue keeps the exact instant
        try:
            deadline = parse_iso(str(data["due_date"]))
        except ValueError as exc:
            raise HttpError(422, str(exc)) from None
    issue = fake.state.new_issue(
        repo, title=title, body=body_string(data, "body") or "", poster=user
    )
    if writer:
        # Unknown label ids and an unknown milestone are dropped silently, as Gitea does.
        issue.label_ids = [i for i in dict.fromkeys(data.get("labels") or []) if i in repo.labels]
        milestone = int(data.get("milestone") or 0)
        issue.milestone_id = milestone if milestone in repo.milestones else 0
        issue.assignees = assignees
        issue.deadline = deadline
        gitea_timeline.record_labels(fake, repo, issue, [], user)
        gitea_timeline.record_assignees(fake, repo, issue, [], user)
    issue.ref = body_string(data, "ref") or ""
    if data.get("closed"):
        fake.state.set_closed(issue, True)
    return Reply(201, fake.shapes.issue(fake.state, repo, issue))


def edit_issue(fake: FakeGitea, ctx: Ctx) -> Reply:
    """Gitea's EditIssue applies the fields one by one, each committed on its own, in this order:
    title, body (a stale content_version is a 400), due date, assignees, milestone, state. A
    failure part-way leaves the earlier fields written. Any assignee problem (unknown user, not
    assignable) is a 500 from UpdateAssignees. Without write access (the poster may still edit)
    due date, assignees and milestone are ignored without a word."""
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    issue = issue_of(repo, ctx.params["index"])
    writer = repo.can_write(user)
    if issue.poster != user and not writer:
        raise HttpError(403, "user should have a permission to write to a repo")
    data = ctx.json()
    before = _edit_fingerprint(issue)
    rows_before = gitea_timeline.snapshot(issue)
    try:
        _apply_issue_edit(fake, repo, issue, data, writer=writer)
    finally:
        if before != _edit_fingerprint(issue):
            issue.updated = fake.state.now()
        gitea_timeline.record_edit(fake, repo, issue, rows_before, user)
    return Reply(201, fake.shapes.issue(fake.state, repo, issue))


def _edit_fingerprint(issue: Issue) -> tuple[Any, ...]:
    return (
        issue.title,
        issue.body,
        issue.closed,
        list(issue.assignees),
        issue.milestone_id,
        issue.deadline,
    )


def _apply_issue_edit(
    fake: FakeGitea, repo: Repo, issue: Issue, data: dict[str, Any], *, writer: bool
) -> None:
    title = body_string(data, "title")
    if title:
        issue.title = title
    body = body_string(data, "body")
    if body is not None:
        expected = data.get("content_version")
        if expected is not None and expected != issue.content_version:
            raise HttpError(400, "the issue is already changed")
        if body != issue.body:
            issue.body = body
            issue.content_version += 1
    if writer and (data.get("due_date") is not None or data.get("unset_due_date") is not None):
        if data.get("unset_due_date"):
            issue.deadline = None
        elif data.get("due_date") is None:
            raise HttpError(400, "The due_date cannot be empty")
        else:
            issue.deadline = end_of_day(str(data["due_date"]))
    if writer and (data.get("assignees") is not None or data.get("assignee") is not None):
        try:
            issue.assignees = assignee_logins(
                fake, repo, data.get("assignee"), data.get("assignees")
            )
        except HttpError:
            raise HttpError(500, "") from None  # UpdateAssignees -> APIErrorInternal
    if writer and data.get("milestone") is not None:
        milestone = int(data["milestone"])
        if milestone != issue.milestone_id:
            if milestone and milestone not in repo.milestones:
                raise HttpError(500, "")  # ChangeMilestoneAssign -> APIErrorInternal
            issue.milestone_id = milestone
    if data.get("state") is not None:
        if data["state"] == "closed":
            gitea_deps.refuse_close_with_open_blockers(fake, repo, issue)
        fake.state.set_closed(issue, data["state"] == "closed")


def end_of_day(text: str) -> int:
    """Gitea keeps only the date of an edited due date: 23:59:59 of that day in its offset."""
    from datetime import datetime, time

    try:
        parse_iso(text)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HttpError(422, str(exc)) from None
    return int(datetime.combine(value.date(), time(23, 59, 59), value.tzinfo).timestamp())


def delete_issue(fake: FakeGitea, ctx: Ctx) -> Reply:
    # Gitea routes this as Delete(reqToken(), reqAdmin(), ..., repo.DeleteIssue): the token's
    # scopes, then the repository admin check (owner or admin collaborator; site admins, whom
    # this fake does not model, too), both before the handler looks the issue up -- so a
    # non-admin gets 403 even for a missing issue.
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    if not repo.can_admin(user):
        raise HttpError(
            403, "user should be an owner or a collaborator with admin write of a repository"
        )
    issue = issue_of(repo, ctx.params["index"])
    del repo.issues[issue.number]
    gitea_deps.forget_issue(fake, issue)
    gitea_timeline.forget_issue(repo, issue)
    for cid in [c.id for c in repo.comments.values() if c.issue_number == issue.number]:
        del repo.comments[cid]
    return Reply(204)


# -- issue labels


def _labels_from_body(fake: FakeGitea, repo: Repo, ctx: Ctx) -> list[int]:
    items = ctx.json().get("labels") or []
    if not isinstance(items, list):
        raise HttpError(422, "labels must be a list")
    ids = [int(i) for i in items if isinstance(i, int | float) and not isinstance(i, bool)]
    names = [i for i in items if isinstance(i, str)]
    if len(ids) + len(names) != len(items):
        raise HttpError(400, "a label must be an integer or a string")
    if ids and names:
        raise HttpError(400, "labels should be an array of strings or integers")
    if names:
        ids = fake.state.label_ids_by_names(repo, names)
    return [i for i in dict.fromkeys(ids) if i in repo.labels]


def _issue_labels_reply(fake: FakeGitea, repo: Repo, issue: Issue) -> Reply:
    return Reply(
        200, [fake.shapes.label(repo, repo.labels[i]) for i in issue.label_ids if i in repo.labels]
    )


def _writable_issue(fake: FakeGitea, ctx: Ctx) -> tuple[Repo, Issue]:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    issue = issue_of(repo, ctx.params["index"])
    require_writer(repo, user)
    return repo, issue


def _labels_recorded(fake: FakeGitea, ctx: Ctx, issue: Issue, before: list[int]) -> None:
    """The timeline rows of a label change (one per label added or removed)."""
    gitea_timeline.record_labels(fake, repo_of(fake, ctx), issue, before, require_token(ctx))


def get_issue_labels(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    return _issue_labels_reply(fake, repo, issue_of(repo, ctx.params["index"]))


def add_issue_labels(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo, issue = _writable_issue(fake, ctx)
    added = [i for i in _labels_from_body(fake, repo, ctx) if i not in issue.label_ids]
    if added:
        before = list(issue.label_ids)
        issue.label_ids.extend(added)
        issue.updated = fake.state.now()
        _labels_recorded(fake, ctx, issue, before)
    return _issue_labels_reply(fake, repo, issue)


def replace_issue_labels(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo, issue = _writable_issue(fake, ctx)
    wanted = _labels_from_body(fake, repo, ctx)
    if sorted(wanted) != sorted(issue.label_ids):
        before, issue.label_ids = issue.label_ids, wanted
        issue.updated = fake.state.now()
        _labels_recorded(fake, ctx, issue, before)
    return _issue_labels_reply(fake, repo, issue)


def clear_issue_labels(fake: FakeGitea, ctx: Ctx) -> Reply:
    _, issue = _writable_issue(fake, ctx)
    if issue.label_ids:
        before, issue.label_ids = issue.label_ids, []
        issue.updated = fake.state.now()
        _labels_recorded(fake, ctx, issue, before)
    return Reply(204)


def remove_issue_label(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo, issue = _writable_issue(fake, ctx)
    label_id = int(ctx.params["id"]) if ctx.params["id"].isdigit() else -1
    if label_id not in repo.labels:
        raise HttpError(422, f"label does not exist [label_id: {ctx.params['id']}]")
    if label_id in issue.label_ids:
        before = list(issue.label_ids)
        issue.label_ids.remove(label_id)
        issue.updated = fake.state.now()
        _labels_recorded(fake, ctx, issue, before)
    return Reply(204)


# -- comments


def _comment_issue_of(repo: Repo, index: str) -> Issue:
    """Gitea's comment handlers send any GetIssueByIndex error, "does not exist" included, to
    APIErrorInternal: a missing issue is a 500 with an empty message (production mode)."""
    issue = repo.issues.get(int(index)) if index.isdigit() else None
    if issue is None:
        raise HttpError(500, "")
    return issue


def list_comments(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    issue = _comment_issue_of(repo, ctx.params["index"])
    since, before = time_arg(ctx, "since"), time_arg(ctx, "before")
    found = [
        c
        for c in sorted(repo.comments.values(), key=lambda c: (c.created, c.id))
        if c.issue_number == issue.number
        and (since is None or c.updated >= since)
        and (before is None or c.updated <= before)
    ]
    body = [fake.shapes.comment(fake.state, repo, c) for c in found]
    headers = {"X-Total-Count": str(len(found)), "Access-Control-Expose-Headers": "X-Total-Count"}
    return Reply(200, body, headers)


def list_repo_comments(fake: FakeGitea, ctx: Ctx) -> Reply:
    """ListRepoIssueComments: every comment of the repository's issues *and* pull requests,
    ``since``/``before`` on ``updated_unix`` (inclusive), ordered as FindComments orders them
    (``created_unix``, then id), paged by page/limit with ``X-Total-Count``. Uncertain point,
    kept: Gitea sets the total count header here but no ``Link`` header."""
    repo = repo_of(fake, ctx)
    since, before = time_arg(ctx, "since"), time_arg(ctx, "before")
    found = [
        c
        for c in sorted(repo.comments.values(), key=lambda c: (c.created, c.id))
        if (since is None or c.updated >= since) and (before is None or c.updated <= before)
    ]
    page, size = page_window(fake, ctx)
    window = found[(page - 1) * size : page * size]
    body = [fake.shapes.comment(fake.state, repo, c) for c in window]
    headers = {"X-Total-Count": str(len(found)), "Access-Control-Expose-Headers": "X-Total-Count"}
    return Reply(200, body, headers)


def create_comment(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    issue = _comment_issue_of(repo, ctx.params["index"])
    text = body_string(ctx.json(), "body") or ""
    if not text.strip():
        raise HttpError(422, "[Body]: Required")
    if issue.is_locked and not repo.can_write(user):
        raise HttpError(403, "issue is locked")
    comment = fake.state.new_comment(repo, issue, user, text)
    return Reply(201, fake.shapes.comment(fake.state, repo, comment))


def _comment_of(repo: Repo, raw_id: str) -> Any:
    comment = repo.comments.get(int(raw_id)) if raw_id.isdigit() else None
    if comment is None:
        raise HttpError(404, "not found", errors=[f"comment does not exist [id: {raw_id}]"])
    return comment


def _of_another_repo(fake: FakeGitea, repo: Repo, raw_id: str) -> bool:
    """Comment ids are global in Gitea: the edit and delete handlers find a comment of another
    repository, then refuse it with a bare ``ctx.Status(http.StatusNotFound)``."""
    if not raw_id.isdigit() or int(raw_id) in repo.comments:
        return False
    return any(int(raw_id) in other.comments for other in fake.state.repos.values())


def get_comment(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    return Reply(200, fake.shapes.comment(fake.state, repo, _comment_of(repo, ctx.params["id"])))


def edit_comment(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    if _of_another_repo(fake, repo, ctx.params["id"]):
        return Reply(404)
    comment = _comment_of(repo, ctx.params["id"])
    if comment.poster != user and not repo.can_write(user):
        return Reply(403)  # ctx.Status(http.StatusForbidden): Gitea sends no body here
    text = body_string(ctx.json(), "body") or ""
    if not text.strip():
        raise HttpError(422, "[Body]: Required")
    if text != comment.body:
        comment.body = text
        comment.updated = fake.state.now()
    return Reply(200, fake.shapes.comment(fake.state, repo, comment))


def delete_comment(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    if _of_another_repo(fake, repo, ctx.params["id"]):
        return Reply(404)
    comment = _comment_of(repo, ctx.params["id"])
    if comment.poster != user and not repo.can_write(user):
        return Reply(403)  # ctx.Status(http.StatusForbidden): Gitea sends no body here
    del repo.comments[comment.id]
    # models/issues DeleteComment decrements num_comments with an xorm Update of the issue,
    # which also sets its updated_unix; editing a comment leaves the issue alone.
    issue = repo.issues.get(comment.issue_number)
    if issue is not None:
        issue.updated = fake.state.now()
    return Reply(204)


# -- repository labels


def list_labels(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    labels = sorted(repo.labels.values(), key=lambda label: (label.name, label.id))
    return paged(fake, ctx, labels, lambda label: fake.shapes.label(repo, label))


def _label_of(repo: Repo, raw_id: str) -> Label:
    label = repo.labels.get(int(raw_id)) if raw_id.isdigit() else None
    if label is None:
        raise HttpError(404, "not found", errors=[f"label does not exist [label_id: {raw_id}]"])
    return label


def get_label(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    return Reply(200, fake.shapes.label(repo, _label_of(repo, ctx.params["id"])))


def _apply_label_fields(label: Label, data: dict[str, Any]) -> None:
    if data.get("name") is not None:
        label.name = str(data["name"])
    if data.get("color") is not None:
        label.color = normalize_color(data["color"])
    if data.get("description") is not None:
        label.description = str(data["description"])
    if data.get("exclusive") is not None:
        label.exclusive = bool(data["exclusive"])
    if data.get("is_archived") is not None:
        label.is_archived = bool(data["is_archived"])


def create_label(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx, "write:repository")
    require_writer(repo, user)
    data = ctx.json()
    if not str(data.get("name") or "").strip():
        raise HttpError(422, "[Name]: Required")
    color = normalize_color(data.get("color"))
    label = fake.state.new_label(repo, str(data["name"]), color)
    _apply_label_fields(label, {k: v for k, v in data.items() if k != "color"})
    return Reply(201, fake.shapes.label(repo, label))


def edit_label(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx, "write:repository")
    require_writer(repo, user)
    label = _label_of(repo, ctx.params["id"])
    data = ctx.json()
    if data.get("name") is not None and not str(data["name"]).strip():
        raise HttpError(422, "[Name]: Required")
    _apply_label_fields(label, data)
    return Reply(200, fake.shapes.label(repo, label))


def delete_label(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx, "write:repository")
    require_writer(repo, user)
    label = _label_of(repo, ctx.params["id"])
    del repo.labels[label.id]
    for issue in repo.issues.values():
        if label.id in issue.label_ids:
            issue.label_ids.remove(label.id)
    return Reply(204)


# -- milestones


def list_milestones(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    state = ctx.arg("state") or "open"
    name = ctx.arg("name").lower()
    found = [
        m
        for m in sorted(repo.milestones.values(), key=lambda m: m.id)
        if (state == "all" or m.closed == (state == "closed")) and name in m.title.lower()
    ]
    counts = Counts.of(repo)
    return paged(fake, ctx, found, lambda m: fake.shapes.milestone(repo, m, counts))


def _milestone_of(fake: FakeGitea, repo: Repo, key: str) -> Milestone:
    milestone = fake.state.milestone_by_id_or_name(repo, key)
    if milestone is None:
        raise HttpError(
            404,
            "not found",
            errors=[f"milestone does not exist [id: 0, repo_id: {repo.id}, name: {key}]"],
        )
    return milestone


def get_milestone(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    return Reply(200, fake.shapes.milestone(repo, _milestone_of(fake, repo, ctx.params["id"])))


def _apply_milestone_fields(fake: FakeGitea, milestone: Milestone, data: dict[str, Any]) -> None:
    if data.get("title"):
        milestone.title = str(data["title"])
    if data.get("description") is not None:
        milestone.description = str(data["description"])
    if data.get("due_on") is not None:
        try:
            milestone.due_on = parse_iso(str(data["due_on"]))
        except ValueError as exc:
            raise HttpError(422, str(exc)) from None
    if data.get("state") is not None:
        closed = data["state"] == "closed"
        if closed != milestone.closed:
            milestone.closed = closed
            milestone.closed_at = fake.state.now() if closed else None
    milestone.updated = fake.state.now()


def create_milestone(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    require_writer(repo, user)
    data = ctx.json()
    if not str(data.get("title") or "").strip():
        raise HttpError(422, "[Title]: Required")
    milestone = fake.state.new_milestone(repo, str(data["title"]))
    _apply_milestone_fields(fake, milestone, data)
    return Reply(201, fake.shapes.milestone(repo, milestone))


def edit_milestone(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    require_writer(repo, user)
    milestone = _milestone_of(fake, repo, ctx.params["id"])
    _apply_milestone_fields(fake, milestone, ctx.json())
    return Reply(200, fake.shapes.milestone(repo, milestone))


def delete_milestone(fake: FakeGitea, ctx: Ctx) -> Reply:
    repo = repo_of(fake, ctx)
    user = require_write_scope(ctx)
    require_writer(repo, user)
    milestone = _milestone_of(fake, repo, ctx.params["id"])
    del repo.milestones[milestone.id]
    for issue in repo.issues.values():
        if issue.milestone_id == milestone.id:
            issue.milestone_id = 0
    return Reply(204)


# --------------------------------------------------------------------------- routes

_R = "/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_ROUTE_TABLE: list[tuple[str, dict[str, Handler]]] = [
    ("/version", {"GET": get_version}),
    ("/settings/api", {"GET": get_settings}),
    ("/user", {"GET": get_user}),
    (_R, {"GET": get_repo}),
    (_R + "/collaborators", {"GET": list_collaborators}),
    (_R + "/assignees", {"GET": list_assignees}),
    (_R + "/issues", {"GET": list_issues, "POST": create_issue}),
    (_R + "/issues/comments", {"GET": list_repo_comments}),
    (
        _R + "/issues/comments/(?P<id>[^/]+)",
        {"GET": get_comment, "PATCH": edit_comment, "DELETE": delete_comment},
    ),
    (
        _R + "/issues/(?P<index>[^/]+)",
        {"GET": get_issue, "PATCH": edit_issue, "DELETE": delete_issue},
    ),
    (
        _R + "/issues/(?P<index>[^/]+)/labels",
        {
            "GET": get_issue_labels,
            "POST": add_issue_labels,
            "PUT": replace_issue_labels,
            "DELETE": clear_issue_labels,
        },
    ),
    (_R + "/issues/(?P<index>[^/]+)/labels/(?P<id>[^/]+)", {"DELETE": remove_issue_label}),
    (_R + "/issues/(?P<index>[^/]+)/comments", {"GET": list_comments, "POST": create_comment}),
    *((_R + path, handlers) for path, handlers in gitea_deps.ROUTES),
    *((_R + path, handlers) for path, handlers in gitea_timeline.ROUTES),
    (_R + "/labels", {"GET": list_labels, "POST": create_label}),
    (_R + "/labels/(?P<id>[^/]+)", {"GET": get_label, "PATCH": edit_label, "DELETE": delete_label}),
    (_R + "/milestones", {"GET": list_milestones, "POST": create_milestone}),
    (
        _R + "/milestones/(?P<id>[^/]+)",
        {"GET": get_milestone, "PATCH": edit_milestone, "DELETE": delete_milestone},
    ),
]
_ROUTES = [(re.compile(path), handlers) for path, handlers in _ROUTE_TABLE]
