"""A fake GitLab REST API (``/api/v4``) as an ASGI app, with GitLab's real semantics.

What it copies from GitLab (lib/api/*.rb, the REST docs and tests/contracts/gitlab):

* projects are addressed by numeric id or by full path URL-encoded into one segment
  (``group%2Fsub%2Frepo``; the raw path is routed, so an unencoded ``/`` is not a project);
  a project the caller cannot see is ``404 {"message":"404 Project Not Found"}``;
* issues are addressed by their project-scoped ``iid``; the global ``id`` is in the body too;
  project issue lists default to ``state=all``, ``order_by=created_at``, ``sort=desc`` and take
  ``labels`` (comma-separated, all required, case-insensitive; ``None``/``Any``), ``milestone``
  (a title, ``None``, ``Any``), ``assignee_username``, ``assignee_id`` (``None``/``Any``),
  ``author_username``, ``author_id``, ``search`` (title and description, ``in``),
  ``created_after/before``, ``updated_after/before``, ``iids[]``; an ``order_by`` or ``sort``
  outside GitLab's values is a 400 ``{"error":"order_by does not have a valid value"}``;
* writes take their parameters from the query, a JSON body or a form (Grape merges them);
  ``labels`` are comma-separated names and names the project does not have are created (with
  GitLab's default colour ``#6699cc``); ``add_labels``/``remove_labels``; ``state_event``
  ``close``/``reopen``; ``assignee_ids`` (``[]`` or ``[0]`` clears); ``milestone_id`` (``0``
  clears; a project or ancestor-group milestone); ``due_date`` (a day); label, assignee and
  milestone changes by a user below Planner are dropped without a word; an edit without any
  known parameter is a 400 (``at_least_one_of``); a change of state, labels or milestone is a
  resource event (``gitlab_events``: ``resource_state_events``, ``resource_label_events``,
  ``resource_milestone_events``), any other change a system note (``system: true``: "changed
  title from ...", "assigned to @ann", "changed due date to ...") beside the users' notes, as
  GitLab 13 and later do;
* labels: project labels plus the ancestor groups' (``is_project_label: false``); names are
  unique case-insensitively (409 "Label already exists"); a label is addressed by id or name;
  milestones: project and group milestones, ``include_ancestors`` on the project list,
  ``state_event`` ``close``/``activate``, ``state`` filter ``active``/``closed``;
* notes: list (``sort``, ``order_by``), get, create, edit (author only), delete (author or
  Maintainer); a system note cannot be edited;
* quick actions (``gitlab_quick_actions.py``): a line of a description (create, edit) or of a
  note (create, edit) that starts with ``/`` and a known command runs it with the writer's
  rights and is removed from the text, outside code, HTML and ``>>>`` blocks; a note of
  commands alone is not stored (``202`` with ``commands_changes`` and ``summary``);
* auth: ``PRIVATE-TOKEN`` header, ``Authorization: Bearer`` or ``private_token`` in the query;
  an unknown token is ``401 {"message":"401 Unauthorized"}``; an expired or revoked one a 401
  with ``{"error":"invalid_token", ...}`` and ``WWW-Authenticate``; a token without the scope
  an endpoint needs (``read_api`` for reads, ``api`` for writes, ``read_user`` for ``/user``)
  a 403 ``{"error":"insufficient_scope", ..., "scope": "api"}``; no token reads public
  projects only;
* offset pagination: ``page``/``per_page`` (default 20, at most 100), ``X-Page``,
  ``X-Per-Page``, ``X-Next-Page``, ``X-Prev-Page``, ``X-Total``, ``X-Total-Pages`` and a
  ``Link`` (prev, next, first, last; the URLs carry the route's ``id`` and the query, sorted);
  above ``count_limit`` (10,000) items ``X-Total``, ``X-Total-Pages`` and ``rel="last"`` go;
* keyset pagination for project issues from GitLab 18.3 (``version``): ``pagination=keyset``
  with ``order_by`` one of id, title, created_at, updated_at, due_date (others, and older
  versions, fall back to offset pages, as GitLab does); only ``Link: <...cursor=...>;
  rel="next"``, no totals;
* ``RateLimit-Limit/-Name/-Observed/-Remaining/-Reset`` on every answer; once the budget is
  spent (``rate_limit``) a 429 ``Retry later`` with ``Retry-After`` (``throttle`` forces one;
  ``ratelimit_headers_on_429=False`` sends it bare, as some proxies do); weak ``ETag``s on
  JSON GETs and 304 for a matching ``If-None-Match``.

Knobs (``FakeGitLab(...)``): ``version``, ``project`` (full path), ``visibility``, ``per_page``
limits, ``count_limit``, ``rate_limit``; ``add_user``/``add_member``, ``add_token`` (scopes,
expired, revoked), ``add_group_milestone``, ``add_group_label``; ``faults`` (faults.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.faults import FaultMiddleware, Faults
from tests.fakes.gitea import Ctx, Reply
from tests.fakes.gitlab_api import route
from tests.fakes.gitlab_request import ApiError, Request, oauth_error
from tests.fakes.gitlab_state import (
    OWNER,
    REPORTER,
    GitLabState,
    Issue,
    Label,
    Milestone,
    Note,
    Shapes,
    Token,
    User,
)

API = "/api/v4"
JSON_TYPE = "application/json"
GITLAB_VERSION = "18.3.0"
OWNER_TOKEN = "glpat-fake-owner-000000000000"
READ_TOKEN = "glpat-fake-read-api-1111111111"
COMMON_HEADERS = {
    "Cache-Control": "max-age=0, private, must-revalidate",
    "Vary": "Origin, Accept-Encoding",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
}


class FakeGitLab:
    """The fake server: ``state`` (data), ``faults`` (knobs) and ``app`` (ASGI callable).

    By default it holds one private project ``group/sub/repo``; ``owner`` (token
    ``OWNER_TOKEN``, scope ``api``) owns the group ``group`` (so the project too) and
    ``reader`` (``READ_TOKEN``, scope ``read_api``)
    is a Reporter.
    """

    def __init__(
        self,
        *,
        project: str = "group/sub/repo",
        visibility: str = "private",
        version: str = GITLAB_VERSION,
        max_per_page: int = 100,
        default_per_page: int = 20,
        count_limit: int = 10_000,
        rate_limit: int = 2000,
        ratelimit_headers_on_429: bool = True,
    ) -> None:
        self.state = GitLabState()
        self.faults = Faults()
        self.version = version
        self.max_per_page = max_per_page
        self.default_per_page = default_per_page
        self.count_limit = count_limit
        self.rate_limit = rate_limit
        self.ratelimit_headers_on_429 = ratelimit_headers_on_429
        self.requests_seen = 0  # in the current rate-limit window
        self.window_seconds = 60  # Rack::Attack's period for throttle_authenticated_api
        self._window = 0
        self._throttle_left = 0
        self._throttle_retry_after = 60
        self.base_url = "http://127.0.0.1"
        self._shapes: Shapes | None = None
        self.owner = self.state.add_user("owner", name="Project Owner")
        self.project = self.state.add_project(project, visibility=visibility)
        # The owner owns the top group, and so (by inheritance) the project and its groups.
        top = self.project.full_path.split("/", 1)[0]
        self.state.add_group(top).members[self.owner.id] = OWNER
        self.add_token("owner", OWNER_TOKEN, scopes=("api",))
        self.add_member("reader", REPORTER)
        self.add_token("reader", READ_TOKEN, scopes=("read_api",))
        self.app = FaultMiddleware(self._asgi, self.faults, lambda: self.base_url)

    # -- set-up helpers for tests ------------------------------------------------------

    def set_base_url(self, url: str) -> None:
        self.base_url = url.rstrip("/")
        self._shapes = None

    @property
    def shapes(self) -> Shapes:
        if self._shapes is None:
            self._shapes = Shapes(self.state, self.base_url)
        return self._shapes

    def add_user(self, username: str, **options: Any) -> User:
        return self.state.add_user(username, **options)

    def add_member(self, username: str, level: int = 30, *, group: str | None = None) -> User:
        """A member of the project (or of one of its groups: ``group="group"``)."""
        with self.state.lock:
            user = self.state.add_user(username)
            if group is None:
                self.project.members[user.id] = level
            else:
                self.state.add_group(group).members[user.id] = level
            return user

    def add_token(
        self,
        username: str,
        token: str,
        *,
        scopes: tuple[str, ...] = ("api",),
        expired: bool = False,
        revoked: bool = False,
        expires_at: str | None = None,
    ) -> Token:
        with self.state.lock:
            self.state.add_user(username)
            record = Token(
                token,
                username.lower(),
                tuple(scopes),
                expired,
                revoked,
                self.state.next_id("token"),
                expires_at=expires_at,
            )
            self.state.tokens[token] = record
            return record

    def add_issue(
        self,
        title: str,
        *,
        description: str = "",
        labels: list[str] = (),  # type: ignore[assignment]
        closed: bool = False,
        author: str | None = None,
        created: int | None = None,
    ) -> Issue:
        with self.state.lock:
            user = self.state.add_user(author) if author else self.owner
            issue = self.state.new_issue(self.project, title, user, description)
            if created is not None:
                issue.created = issue.updated = created
            for name in labels:
                label = self.state.label_named(self.project, name) or self.add_label(name)
                issue.labels.append(label.name)
            if closed:
                issue.state, issue.closed_at, issue.closed_by = "closed", issue.updated, user.id
            return issue

    def add_label(self, name: str, color: str = "#d9534f", description: str | None = None) -> Label:
        return self.state.new_label(self.project, name, color, description=description)

    def add_group_label(self, name: str, group: str | None = None, color: str = "#428bca") -> Label:
        target = self.state.add_group(group) if group else self.state.groups[self.project.group_id]
        return self.state.new_label(None, name, color, group=target)

    def add_milestone(self, title: str, **fields: Any) -> Milestone:
        milestone = self.state.new_milestone(title, project=self.project)
        for key, value in fields.items():
            setattr(milestone, key, value)
        return milestone

    def add_group_milestone(self, title: str, group: str | None = None, **fields: Any) -> Milestone:
        target = self.state.add_group(group) if group else self.state.groups[self.project.group_id]
        milestone = self.state.new_milestone(title, group=target)
        for key, value in fields.items():
            setattr(milestone, key, value)
        return milestone

    def add_note(
        self, iid: int, body: str, *, author: str | None = None, system: bool = False
    ) -> Note:
        with self.state.lock:
            user = self.state.add_user(author) if author else self.owner
            return self.state.new_note(
                self.project, self.project.issues[iid], user, body, system=system
            )

    def throttle(self, times: int = 1, retry_after: int = 60) -> None:
        """The next ``times`` requests are throttled (429), as if the budget were spent."""
        self._throttle_left, self._throttle_retry_after = times, retry_after

    def issue(self, iid: int) -> Issue:
        return self.project.issues[iid]

    def version_tuple(self) -> tuple[int, int]:
        major, minor = [*self.version.split("."), "0"][:2]
        return int(major), int(re.sub(r"\D.*", "", minor) or 0)

    # -- ASGI --------------------------------------------------------------------------

    async def _asgi(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        # Route on the raw path: a project path is one URL-encoded segment.
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        ctx = Ctx(
            scope["method"], raw_path, parse_qsl(raw_query, keep_blank_values=True), headers, body
        )
        status, payload, reply_headers = self.handle(ctx)
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply_headers.items()
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    def handle(self, ctx: Ctx) -> tuple[int, bytes, dict[str, str]]:
        """Throttle, route, authenticate, run the handler and encode; synchronous."""
        with self.state.lock:
            window = int(time.time()) // self.window_seconds
            if window != self._window:  # a new period: the budget is whole again
                self._window, self.requests_seen = window, 0
            self.requests_seen += 1
            limit_headers = self._ratelimit_headers()
            if self._throttle_left > 0 or self.requests_seen > self.rate_limit:
                self._throttle_left = max(0, self._throttle_left - 1)
                headers = {
                    "Content-Type": "text/plain",
                    "Retry-After": str(self._throttle_retry_after),
                }
                if self.ratelimit_headers_on_429:
                    headers.update(limit_headers)
                return 429, b"Retry later\n", headers
        extra: dict[str, str] = {}
        try:
            handler, params = route(ctx.method, ctx.path)
            ctx.params = params
            user, token = self._authenticate(ctx)
            request = Request(self, ctx, user, token)
            with self.state.lock:
                reply = handler(request)
        except ApiError as err:
            reply = Reply(err.status, err.body)
            extra = err.headers
        headers = dict(COMMON_HEADERS)
        headers.update(limit_headers)
        headers.update(reply.headers)
        headers.update(extra)
        if reply.body is None:
            return reply.status, b"", headers
        payload = json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False).encode()
        headers["Content-Type"] = JSON_TYPE
        if ctx.method == "GET" and reply.status == 200:
            etag = 'W/"' + hashlib.md5(payload).hexdigest() + '"'
            headers["Etag"] = etag
            if etag in [t.strip() for t in ctx.headers.get("if-none-match", "").split(",")]:
                del headers["Content-Type"]
                return 304, b"", headers
        headers["Content-Length"] = str(len(payload))
        return reply.status, payload, headers

    def _ratelimit_headers(self) -> dict[str, str]:
        window_end = (self._window + 1) * self.window_seconds
        return {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Name": "throttle_authenticated_api",
            "RateLimit-Observed": str(self.requests_seen),
            "RateLimit-Remaining": str(max(0, self.rate_limit - self.requests_seen)),
            "RateLimit-Reset": str(window_end),
        }

    def _authenticate(self, ctx: Ctx) -> tuple[User | None, Token | None]:
        value = ctx.headers.get("private-token", "").strip()
        scheme, _, bearer = ctx.headers.get("authorization", "").partition(" ")
        if not value and scheme.lower() == "bearer":
            value = bearer.strip()
        if not value:
            value = ctx.arg("private_token") or ctx.arg("access_token")
        if not value:
            return None, None
        token = self.state.tokens.get(value)
        if token is None:
            raise ApiError(401, "401 Unauthorized")
        if token.revoked or token.expired:
            text = (
                "Token was revoked. You have to re-authorize from the user."
                if token.revoked
                else "Token has expired."
            )
            raise oauth_error(401, "invalid_token", text)
        user = self.state.user_by_name(token.username)
        return user, token
