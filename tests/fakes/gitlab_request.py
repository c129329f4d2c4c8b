"""One request to the fake GitLab as its handlers see it: the caller, the token's scopes, the
project (by id or URL-encoded path) and the parameters Grape would merge from the query string
and a JSON or form body; and GitLab's error bodies (``ApiError``)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from tests.fakes.gitea import Ctx
from tests.fakes.gitlab_state import Project, Token, User

if TYPE_CHECKING:
    from tests.fakes.gitlab import FakeGitLab


class Request:
    """One request as the handlers see it: the fake, the context, the caller and parameters
    merged from the query and a JSON or form body (Grape merges them)."""

    def __init__(self, fake: FakeGitLab, ctx: Ctx, user: User | None, token: Token | None) -> None:
        self.fake = fake
        self.state = fake.state
        self.ctx = ctx
        self.user = user
        self.token = token
        self.params: dict[str, Any] = {}
        for key, value in ctx.query:
            if key.endswith("[]"):
                self.params.setdefault(key[:-2], []).append(value)
            else:
                self.params[key] = value
        self.params.update(_body_params(ctx))

    def arg(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def int_arg(self, name: str) -> int | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return None
        if not re.fullmatch(r"-?\d+", raw):
            raise ApiError(400, error=f"{name} is invalid")
        return int(raw)

    def bool_arg(self, name: str) -> bool | None:
        raw = self.arg(name)
        if raw is None:
            return None
        # Grape's Boolean (dry-types Params::Bool): true/false, 1/0, t/f, yes/no, y/n, on/off.
        if raw.lower() in ("true", "1", "t", "yes", "y", "on"):
            return True
        if raw.lower() in ("false", "0", "f", "no", "n", "off"):
            return False
        raise ApiError(400, error=f"{name} is invalid")

    def list_arg(self, name: str) -> list[str] | None:
        value = self.params.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    # -- scopes and roles --------------------------------------------------------------

    def need_scope(self, write: bool, *, user_scope: bool = False) -> None:
        if self.token is None:
            return
        allowed = {"api"} | ({"read_api"} if not write else set())
        if user_scope and not write:
            allowed.add("read_user")
        if not allowed & set(self.token.scopes):
            raise oauth_error(
                403,
                "insufficient_scope",
                "The request requires higher privileges than provided by the access token.",
                scope="api" if write else "api read_api",
            )

    def need_user(self) -> User:
        if self.user is None:
            raise ApiError(401, "401 Unauthorized")
        return self.user

    def project(self, *, write: bool = False) -> Project:
        self.need_scope(write)
        project = self.state.project_by_ref(unquote(self.ctx.params["project"]))
        if project is None or not self._can_read(project):
            raise ApiError(404, "404 Project Not Found")
        if write:
            self.need_user()
        return project

    def _can_read(self, project: Project) -> bool:
        if project.visibility == "public":
            return True
        if self.user is None:
            return False
        return project.visibility == "internal" or self.level(project) > 0

    def level(self, project: Project) -> int:
        return self.state.access_level(project, self.user.id if self.user else None)

    def need_level(self, project: Project, level: int) -> User:
        user = self.need_user()
        if self.level(project) < level:
            raise ApiError(403, "403 Forbidden")
        return user


def _body_params(ctx: Ctx) -> dict[str, Any]:
    if not ctx.body:
        return {}
    kind = ctx.headers.get("content-type", "")
    if "json" in kind:
        try:
            data = json.loads(ctx.body)
        except ValueError:
            raise ApiError(
                400, error="The provided content-type 'application/json' is not supported."
            ) from None
        if not isinstance(data, dict):
            raise ApiError(400, error="The request body must be a JSON object")
        return data
    params: dict[str, Any] = {}
    for key, value in parse_qsl(ctx.body.decode("utf-8"), keep_blank_values=True):
        if key.endswith("[]"):
            params.setdefault(key[:-2], []).append(value)
        else:
            params[key] = value
    return params


def oauth_error(status: int, error: str, description: str, *, scope: str | None = None) -> ApiError:
    """RFC 6750 errors as GitLab's ``Gitlab::Auth::AuthFinders`` sends them."""
    body: dict[str, Any] = {"error": error, "error_description": description}
    header = (
        f'Bearer realm="Protected by OAuth 2.0", error="{error}", error_description="{description}"'
    )
    if scope is not None:
        body["scope"] = scope
        header += f', scope="{scope}"'
    return ApiError(status, body=body, headers={"WWW-Authenticate": header})


class ApiError(Exception):
    """GitLab's error bodies: ``{"message": ...}`` (a string, or a field -> errors map) from
    ``render_api_error!``, or ``{"error": ...}`` from parameter validation and OAuth."""

    def __init__(
        self,
        status: int,
        message: Any = None,
        *,
        error: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(str(message or error or body))
        self.status = status
        if body is None:
            body = {"error": error} if error is not None else {"message": message}
        self.body = body
        self.headers = headers or {}
