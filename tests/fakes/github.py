"""A fake GitHub REST API as an ASGI app, with GitHub's real semantics.

Served at both an ``api.github.com``-style root (``/repos/...``) and a GitHub Enterprise Server
prefix (``/api/v3/repos/...``); ``/repositories/{id}/...`` reaches a repository by id, as the
``Link`` and ``Location`` headers GitHub sends do. The handlers are in ``github_routes``; this
module owns the request cycle: routing, authentication, rate limits, ETags and the knobs.

What it copies from GitHub (the REST docs, ``tests/contracts/github/openapi.issues.json`` and
the recorded traffic in ``tests/contracts/github/recorded`` and ``replay``):

* pagination: ``per_page`` defaults to 30 and is capped at 100, ``page`` starts at 1; a list
  that spans more than one page gets a ``Link`` header with rel ``prev``, ``next``, ``last``,
  ``first`` in that order (``next``/``last`` left out on the last page, ``prev``/``first`` on
  the first; a page past the end links ``last`` back), pointing at ``/repositories/{id}/...``
  with the client's query kept in its order and ``page`` replaced (or appended);
* ETags: every ``GET`` answered 200 carries a weak ``ETag`` (it depends on the body and on who
  asks, as GitHub's ``Vary: Authorization``) and a single object its ``Last-Modified``;
  ``If-None-Match`` with the ETag, or ``If-Modified-Since`` not before that time, is a 304
  without a body, and a 304 does not count against the rate limit;
* rate limits: ``x-ratelimit-limit/remaining/used/reset/resource`` on every answer (5,000 an
  hour with a token, 60 without, per user or per address; ``/rate_limit`` itself is free). An
  exhausted budget is a 403 (or 429, a knob) "API rate limit exceeded ..." with remaining 0.
  Secondary limits (``secondary_limit``) answer 403 or 429 with GitHub's documented message
  and, unless told otherwise, ``retry-after``. With ``write_limits=True`` the fake enforces
  GitHub's documented content-creation limits itself (no more than 80 content-creating
  requests a minute and 500 an hour per user; here: every ``POST``), answering the excess
  with that secondary-limit 403 and a ``retry-after`` until the oldest write leaves the window;
* auth: ``Authorization: token X`` or ``Bearer X``; an unknown token is 401 "Bad credentials";
  ``/user`` without one is 401 "Requires authentication". Classic tokens (``ghp_``) carry OAuth
  scopes, sent back in ``X-OAuth-Scopes`` with the endpoint's ``X-Accepted-OAuth-Scopes``:
  without ``repo`` a private repository is a 404, and writing to a public one needs ``repo``
  or ``public_repo`` (404 otherwise, as GitHub hides what a token may not touch).
  Fine-grained tokens (``github_pat_``) send no ``X-OAuth-Scopes``; they reach only their
  repositories, and a write without ``issues: write`` is 403 "Resource not accessible by
  personal access token" with ``X-Accepted-GitHub-Permissions``. A token with an expiry
  date says it in ``GitHub-Authentication-Token-Expiration`` and is "Bad credentials" after it;
* repositories: a private repository is a 404 to anyone without access; a renamed or moved one
  answers its old name with 301 (reads) or 307 (writes) to ``/repositories/{id}/...`` and a
  "Moved Permanently" body; an archived one refuses writes with 403 "Repository was archived so
  is read-only.";
* errors: ``{"message", "documentation_url", "status"}`` (``status`` a string), 422 adds
  ``errors`` (``resource``, ``field``, ``code``);
* search: ``/search/issues`` with ``search_api=True`` (``github_search``: ``repo:``, ``is:``,
  ``in:`` qualifiers, words and phrases), else a 404 as from a GHES without its search index;
* ``/meta``: the root-style answer is github.com's (no ``installed_version``); under ``/api/v3``
  it is a GitHub Enterprise Server's, with ``installed_version`` (and every ``/api/v3`` answer
  carries ``X-GitHub-Enterprise-Version``), which is what ``issue config detect`` probes.

Generic faults (latency, 5xx, HTML pages, malformed JSON, drops, hangs, held answers) come from
``tests.fakes.faults`` in front of the app.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from tests.fakes import github_events
from tests.fakes.faults import FaultMiddleware, Faults
from tests.fakes.github_shapes import Shapes
from tests.fakes.github_state import GitHubState, Issue, Label, Milestone, Repo, Token
from tests.fakes.server import read_body

GHES_PREFIX = "/api/v3"
GHES_VERSION = "3.17.0"
JSON_TYPE = "application/json; charset=utf-8"
OWNER_TOKEN = "ghp_fakeOwnerToken000000000000000000000"
DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)
ARCHIVED_MESSAGE = "Repository was archived so is read-only."
COMMON_HEADERS = {
    "Cache-Control": "private, max-age=60, s-maxage=60",
    "Vary": (
        "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding, Accept, X-Requested-With"
    ),
    "X-GitHub-Media-Type": "github.v3; format=json",
    "X-GitHub-Api-Version-Selected": "2022-11-28",
    "Access-Control-Expose-Headers": (
        "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, "
        "X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, "
        "X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, "
        "X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset"
    ),
    "X-Content-Type-Options": "nosniff",
}


class GitHubError(Exception):
    """An answer GitHub gives as an error body; ``headers`` go out with it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def invalid(resource: str, field: str, code: str = "invalid", **more: Any) -> GitHubError:
    return GitHubError(
        422,
        "Validation Failed",
        errors=[{"resource": resource, "field": field, "code": code, **more}],
    )


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    paged_total: int | None = None  # set by list handlers: the full length before paging


class Request:
    """One request as the handlers see it."""

    def __init__(
        self,
        fake: FakeGitHub,
        method: str,
        path: str,
        raw_query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        self.fake = fake
        self.method = method
        self.path = path
        self.raw_query = raw_query
        self.query = parse_qsl(raw_query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.prefix = ""
        self.params: dict[str, str] = {}
        self.token: Token | None = None
        self.shapes: Shapes = fake.shapes_for("")
        self.repo_path = ""  # the part after /repos/{owner}/{repo}, for redirects and links
        self.accepted_scopes = ""
        self.accepted_permissions = ""

    @property
    def login(self) -> str | None:
        return self.token.login if self.token else None

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PATCH", "PUT", "DELETE")

    def arg(self, name: str, default: str = "") -> str:
        return next((value for key, value in self.query if key == name), default)

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise GitHubError(400, "Problems parsing JSON") from None

    def object(self) -> dict[str, Any]:
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise GitHubError(400, "Problems parsing JSON")
        return data

    # -- the repository, with every check GitHub makes before the handler runs --------------

    def repo(self, *, write: bool | None = None) -> Repo:
        writing = self.writes if write is None else write
        fake = self.fake
        self.accepted_scopes = "repo"
        self.accepted_permissions = f"issues={'write' if writing else 'read'}"
        if "repo_id" in self.params:
            found = fake.state.repo_by_id(int(self.params["repo_id"]))
        else:
            found = fake.state.repo(self.params["owner"], self.params["repo"])
            moved = fake.state.moved.get(
                (self.params["owner"].lower(), self.params["repo"].lower())
            )
            if found is None and moved is not None:
                raise self._redirect(moved)
        if found is None or not self._may_see(found):
            raise not_found()
        if writing:
            self._may_write(found)
        return found

    def _may_see(self, repo: Repo) -> bool:
        if repo.role(self.login) is None:
            return False
        token = self.token
        if token is None or not repo.private:
            return True
        if token.fine_grained:
            return token.repositories is None or repo.full_name.lower() in token.repositories
        return "repo" in token.scopes

    def _may_write(self, repo: Repo) -> None:
        token = self.token
        if token is None:
            raise GitHubError(401, "Requires authentication")
        if token.fine_grained:
            reach = token.repositories is None or repo.full_name.lower() in token.repositories
            if not reach or token.permissions.get("issues") != "write":
                raise GitHubError(403, "Resource not accessible by personal access token")
        elif not {"repo", "public_repo"} & set(token.scopes):
            raise not_found()
        if repo.archived:
            raise GitHubError(403, ARCHIVED_MESSAGE)

    def _redirect(self, repo_id: int) -> GitHubError:
        location = f"{self.fake.base_url}{self.prefix}/repositories/{repo_id}{self.repo_path}"
        if self.raw_query:
            location += "?" + self.raw_query
        status = 301 if self.method in ("GET", "HEAD") else 307
        return GitHubError(
            status,
            "Moved Permanently",
            headers={"Location": location},
            extra={"url": location},
        )

    def require_login(self) -> str:
        if self.token is None:
            raise GitHubError(401, "Requires authentication")
        return self.token.login

    # -- paging -----------------------------------------------------------------------------

    def page(self, items: list[Any], render: Callable[[Any], Any]) -> Answer:
        size = _int(self.arg("per_page"), 30)
        size = 30 if size <= 0 else min(size, 100)
        page = max(1, _int(self.arg("page"), 1))
        window = items[(page - 1) * size : page * size]
        answer = Answer(200, [render(item) for item in window])
        link = self._links(page, size, len(items))
        if link:
            answer.headers = {"Link": link}
        return answer

    def _links(self, page: int, size: int, total: int) -> str:
        last = max(1, -(-total // size))
        if last == 1 and page == 1:
            return ""
        rels: list[tuple[int, str]] = []
        if page > 1:
            rels.append((page - 1, "prev"))
        if page < last:
            rels.append((page + 1, "next"))
        if page != last:
            rels.append((last, "last"))
        if page > 1:
            rels.append((1, "first"))
        return ", ".join(f'<{self._page_url(n)}>; rel="{rel}"' for n, rel in rels)

    def _page_url(self, number: int) -> str:
        pairs = list(self.query)
        if any(key == "page" for key, _ in pairs):
            pairs = [(k, str(number) if k == "page" else v) for k, v in pairs]
        else:
            pairs.append(("page", str(number)))
        path = self.path[len(self.prefix) :]
        match = _REPO_PATH.match(path)
        if match:
            repo = self.fake.state.repo(match["owner"], match["repo"])
            if repo is not None:
                path = f"/repositories/{repo.id}{match['rest']}"
        return f"{self.fake.base_url}{self.prefix}{path}?{urlencode(pairs, quote_via=quote)}"


def _int(raw: str, default: int) -> int:
    try:
        return int(raw)
    except ValueError:
        return default


_REPO_PATH = re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)(?P<rest>/.*)?$")
_REPO_BY_ID = re.compile(r"/repositories/(?P<repo_id>\d+)(?P<rest>/.*)?$")

Handler = Callable[[Request], Answer]


@dataclass
class SecondaryRule:
    times: int
    status: int
    retry_after: int | None
    method: str | None
    path: str | None
    fired: int = 0
    after: int = 0  # matching requests let through before the limit hits (mid-listing)
    passed: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


class RateBudget:
    """GitHub's primary rate limit: a budget per user (or per address without a token)."""

    def __init__(self, clock: Callable[[], int], limit: int) -> None:
        self.clock = clock
        self.limit = limit
        self.used = 0
        self.reset = clock() + 3600

    def refresh(self) -> None:
        if self.clock() >= self.reset:
            self.used = 0
            self.reset = self.clock() + 3600

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Used": str(min(self.used, self.limit)),
            "X-RateLimit-Resource": "core",
        }


class FakeGitHub:
    """The fake server: ``state`` (data), ``faults`` (generic knobs) and ``app`` (ASGI).

    By default it holds one private repository ``alice/tracker`` owned by ``alice``, whose
    classic token (scope ``repo``) is ``OWNER_TOKEN``. ``add_collaborator`` adds users with a
    role, ``add_token`` / ``add_fine_grained_token`` more tokens.
    """

    def __init__(
        self,
        *,
        owner: str = "alice",
        repo: str = "tracker",
        private: bool = True,
        rate_limit: int = 5000,
        anonymous_rate_limit: int = 60,
        ghes_version: str = GHES_VERSION,
        write_limits: bool = False,
        clock: Callable[[], float] | None = None,
        search_api: bool = False,
    ) -> None:
        self.state = GitHubState(clock) if clock is not None else GitHubState()
        self.write_limits = write_limits
        # GET /search/issues (github_search); off: 404, a GHES without its search index.
        self.search_api = search_api
        self.writes_by_user: dict[str, list[int]] = {}
        self.faults = Faults()
        self.base_url = "http://127.0.0.1"
        self.ghes_version = ghes_version
        self.rate_limit = rate_limit
        self.anonymous_rate_limit = anonymous_rate_limit
        self.primary_limit_status = 403
        self.budgets: dict[str, RateBudget] = {}
        self.secondary_rules: list[SecondaryRule] = []
        self._lock = threading.Lock()
        self._request_ids = 0
        self._shapes: dict[str, Shapes] = {}
        self.owner = owner
        self.add_token(owner, OWNER_TOKEN)
        self.repo = self.state.add_repo(owner, repo, private=private)
        self.app = FaultMiddleware(self._asgi, self.faults, lambda: DOCS)

    # -- set-up helpers for tests -----------------------------------------------------

    def set_base_url(self, url: str) -> None:
        self.base_url = url.rstrip("/")
        self._shapes.clear()

    def shapes_for(self, prefix: str) -> Shapes:
        shapes = self._shapes.get(prefix)
        if shapes is None:
            shapes = self._shapes[prefix] = Shapes(
                self.state, self.base_url + prefix, self.base_url
            )
        return shapes

    def add_token(
        self,
        login: str,
        value: str,
        *,
        scopes: tuple[str, ...] = ("repo",),
        expires: int | None = None,
    ) -> Token:
        """A classic personal access token with OAuth ``scopes`` (``expires``: unix seconds)."""
        return self.state.add_token(Token(value, login, scopes=tuple(scopes), expires=expires))

    def add_fine_grained_token(
        self,
        login: str,
        value: str,
        *,
        issues: str = "write",
        repositories: list[str] | None = None,
    ) -> Token:
        """A fine-grained token: ``issues`` is ``read`` or ``write``; ``repositories`` the
        ``owner/name`` pairs it reaches (None: all the user's)."""
        reach = frozenset(r.lower() for r in repositories) if repositories is not None else None
        token = Token(value, login, fine_grained=True, scopes=(), repositories=reach)
        token.permissions = {"issues": issues, "metadata": "read"}
        return self.state.add_token(token)

    def add_collaborator(self, login: str, role: str = "push") -> None:
        """A collaborator with a GitHub role: pull, triage, push, maintain or admin."""
        with self.state.lock:
            self.state.add_user(login)
            self.repo.roles[login.lower()] = role

    def add_issue(
        self,
        title: str,
        *,
        body: str | None = "",
        labels: tuple[str, ...] | list[str] = (),
        state: str = "open",
        state_reason: str | None = None,
        user: str | None = None,
        assignees: tuple[str, ...] | list[str] = (),
        milestone: int | None = None,
        pull: bool = False,
        created: int | None = None,
    ) -> Issue:
        with self.state.lock:
            issue = self.state.new_issue(
                self.repo, title=title, body=body, user=user or self.owner, is_pull=pull
            )
            if created is not None:
                issue.created = issue.updated = created
            for name in labels:
                label = self.repo.label_named(name) or self.state.new_label(self.repo, name)
                issue.label_ids.append(label.id)
            issue.assignees = [a.lower() for a in assignees]
            issue.milestone_number = milestone
            if state == "closed":
                self.state.set_state(issue, "closed", state_reason, user or self.owner)
            return issue

    def add_pull_request(self, title: str, **options: Any) -> Issue:
        return self.add_issue(title, pull=True, **options)

    def add_label(self, name: str, color: str = "d73a4a", description: str | None = None) -> Label:
        return self.state.new_label(self.repo, name, color, description)

    def add_milestone(self, title: str, *, state: str = "open") -> Milestone:
        milestone = self.state.new_milestone(self.repo, title, self.owner)
        milestone.state = state
        return milestone

    def add_comment(self, number: int, body: str, *, user: str | None = None) -> Any:
        return self.state.new_comment(self.repo, self.repo.issues[number], user or self.owner, body)

    def issue(self, number: int) -> Issue:
        return self.repo.issues[number]

    def rename(self, name: str, *, owner: str | None = None) -> None:
        """Rename (or, with ``owner``, transfer) the repository; the old name redirects."""
        self.state.rename_repo(self.repo, owner or self.repo.owner, name)

    def archive(self, archived: bool = True) -> None:
        self.repo.archived = archived

    def exhaust_rate_limit(self, login: str | None = None, *, status: int = 403) -> None:
        """Use up the primary budget of ``login`` (default: the owner)."""
        self.primary_limit_status = status
        budget = self._budget(login or self.owner, self.rate_limit)
        budget.used = budget.limit

    def secondary_limit(
        self,
        times: int = 1,
        *,
        status: int = 403,
        retry_after: int | None = 60,
        method: str | None = None,
        path: str | None = None,
        after: int = 0,
    ) -> SecondaryRule:
        """The next ``times`` matching requests hit a secondary rate limit (once ``after``
        matching ones have been answered as usual: a limit that hits mid-listing)."""
        rule = SecondaryRule(times, status, retry_after, method, path, after=after)
        with self._lock:
            self.secondary_rules.append(rule)
        return rule

    # -- the request cycle -------------------------------------------------------------

    def _budget(self, key: str, limit: int) -> RateBudget:
        with self._lock:
            budget = self.budgets.get(key)
            if budget is None:
                budget = self.budgets[key] = RateBudget(self.state.now, limit)
            budget.refresh()
            return budget

    def _take_secondary(self, request: Request) -> SecondaryRule | None:
        with self._lock:
            for rule in self.secondary_rules:
                if rule.fired < rule.times and rule.matches(request.method, request.path):
                    if rule.passed < rule.after:
                        rule.passed += 1
                        continue
                    rule.fired += 1
                    return rule
        if self.write_limits and request.method == "POST" and request.login is not None:
            return self._over_write_limits(request.login)
        return None

    def _over_write_limits(self, login: str) -> SecondaryRule | None:
        """GitHub's documented content-creation limits: 80 a minute, 500 an hour."""
        now = self.state.now()
        with self._lock:
            recent = [t for t in self.writes_by_user.get(login, []) if t > now - 3600]
            self.writes_by_user[login] = recent
            last_minute = [t for t in recent if t > now - 60]
            wait = 0
            if len(last_minute) >= 80:
                wait = last_minute[-80] + 60 - now
            if len(recent) >= 500:
                wait = max(wait, recent[-500] + 3600 - now)
            if wait > 0:
                return SecondaryRule(1, 403, max(1, wait), "POST", None, fired=1)
            recent.append(now)
        return None

    async def _asgi(self, scope: Any, receive: Any, send: Any) -> None:
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        request = Request(self, scope["method"], scope["path"], raw_query, headers, body)
        status, payload, reply_headers = self.handle(request)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in reply_headers.items()
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def handle(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        """Route, authenticate, limit, run the handler, encode; synchronous."""
        with self._lock:
            self._request_ids += 1
            request_id = f"FAKE:{self._request_ids:08X}"
        headers = dict(COMMON_HEADERS)
        headers["X-GitHub-Request-Id"] = request_id
        budget: RateBudget | None = None
        counts = True
        try:
            handler = self._route(request)
            if request.prefix == GHES_PREFIX:
                headers["X-GitHub-Enterprise-Version"] = self.ghes_version
            self._authenticate(request)
            # "Accessing this endpoint does not count against your REST API rate limit."
            counts = not request.path.endswith("/rate_limit")
            if request.token is not None:
                budget = self._budget(request.token.login, self.rate_limit)
            else:
                budget = self._budget("address:127.0.0.1", self.anonymous_rate_limit)
            if counts and budget.remaining == 0:
                raise self._primary_exhausted(request)
            rule = self._take_secondary(request)
            if rule is not None:
                extra = {"Retry-After": str(rule.retry_after)} if rule.retry_after else {}
                raise GitHubError(
                    rule.status,
                    SECONDARY_MESSAGE.format(request_id=request_id),
                    headers=extra,
                    extra={"documentation_url": SECONDARY_DOCS},
                )
            with self.state.lock:
                # A write's changes become the issue events GitHub records (github_events).
                seen = github_events.observe(self) if request.method != "GET" else None
                try:
                    answer = handler(request)
                finally:
                    if seen is not None:
                        github_events.record(self, seen, request.login)
        except GitHubError as err:
            answer = Answer(err.status, self._error_body(err), err.headers)
            counts = counts and err.status != 401 and not _is_limit(err)
        headers.update(answer.headers or {})
        self._scope_headers(request, headers)
        payload = b"" if answer.body is None else _encode(answer.body)
        if answer.body is not None:
            headers["Content-Type"] = JSON_TYPE
        if request.method == "GET" and answer.status == 200:
            etag = (
                'W/"' + hashlib.sha256(payload + (request.login or "").encode()).hexdigest() + '"'
            )
            headers["ETag"] = etag
            wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
            modified = _last_modified(answer.body)
            if modified is not None:
                headers["Last-Modified"] = format_datetime(modified, usegmt=True)
            if etag in wanted or etag[2:] in wanted or _unmodified(request, modified):
                # A conditional hit costs nothing (GitHub: "does not count against your
                # primary rate limit" when the request is authorised).
                headers.pop("Content-Type", None)
                headers.pop("Link", None)
                if budget is not None:
                    headers.update(budget.headers())
                return 304, b"", headers
        if budget is not None:
            if counts:
                budget.used += 1
            headers.update(budget.headers())
        headers["Content-Length"] = str(len(payload))
        return answer.status, payload, headers

    def _primary_exhausted(self, request: Request) -> GitHubError:
        if request.token is not None:
            user = self.state.users[request.token.login]
            message = f"API rate limit exceeded for user ID {user.id}."
        else:
            message = (
                "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                "Authenticated requests get a higher rate limit. Check out the documentation "
                "for more details.)"
            )
        return GitHubError(
            self.primary_limit_status, message, extra={"documentation_url": RATE_DOCS}
        )

    def _scope_headers(self, request: Request, headers: dict[str, str]) -> None:
        token = request.token
        if token is None:
            return
        if token.expires is not None:
            moment = datetime.fromtimestamp(token.expires, UTC)
            headers["GitHub-Authentication-Token-Expiration"] = moment.strftime(
                "%Y-%m-%d %H:%M:%S UTC"
            )
        if token.fine_grained:
            if request.accepted_permissions:
                headers["X-Accepted-GitHub-Permissions"] = request.accepted_permissions
            return
        headers["X-OAuth-Scopes"] = ", ".join(token.scopes)
        headers["X-Accepted-OAuth-Scopes"] = request.accepted_scopes

    def _error_body(self, err: GitHubError) -> dict[str, Any]:
        body: dict[str, Any] = {"message": err.message}
        if err.errors is not None:
            body["errors"] = err.errors
        body.update({"documentation_url": DOCS, **err.extra})
        body["status"] = str(err.status)
        return body

    def _route(self, request: Request) -> Handler:
        from tests.fakes.github_routes import ROUTES

        path = request.path
        if path == GHES_PREFIX or path.startswith(GHES_PREFIX + "/"):
            request.prefix = GHES_PREFIX
            path = path[len(GHES_PREFIX) :] or "/"
        request.shapes = self.shapes_for(request.prefix)
        by_id = _REPO_BY_ID.match(path)
        by_name = _REPO_PATH.match(path)
        if by_id:
            # /repositories/{id}/... is the same API as /repos/{owner}/{repo}/...
            request.params["repo_id"] = by_id["repo_id"]
            request.repo_path = by_id["rest"] or ""
            path = "/repos/-/-" + request.repo_path
        elif by_name:
            request.repo_path = by_name["rest"] or ""
        for pattern, handlers in ROUTES:
            match = pattern.fullmatch(path)
            if match:
                handler = handlers.get(request.method)
                if handler is None:
                    raise not_found()
                params = match.groupdict()
                if by_id:
                    params.pop("owner", None)
                    params.pop("repo", None)
                request.params.update(params)
                return handler
        raise not_found()

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if not header:
            return
        scheme, _, value = header.partition(" ")
        token = self.state.tokens.get(value.strip())
        if scheme.lower() not in ("token", "bearer") or token is None:
            raise GitHubError(401, "Bad credentials")
        if token.expires is not None and self.state.now() >= token.expires:
            raise GitHubError(401, "Bad credentials")
        request.token = token


def _last_modified(body: Any) -> datetime | None:
    """GitHub's ``Last-Modified`` on a single object: when it was last updated."""
    stamp = body.get("updated_at") if isinstance(body, dict) else None
    if not isinstance(stamp, str):
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _unmodified(request: Request, modified: datetime | None) -> bool:
    """``If-Modified-Since`` (consulted only without ``If-None-Match``, as HTTP says)."""
    since = request.headers.get("if-modified-since")
    if modified is None or not since or "if-none-match" in request.headers:
        return False
    try:
        return modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _is_limit(err: GitHubError) -> bool:
    return "rate limit" in err.message


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
