"""A backend set up by environment variables alone (CI jobs, containers): no config file.

    ISSUE_CORE_BACKEND_TYPE=github   # gitea, github, gitlab (or a plug-in type; local too)
    ISSUE_CORE_URL=https://github.example.com   # optional where the type has a default URL
    ISSUE_CORE_REPO=acme/widgets     # owner/repo, or a GitLab project path (group/sub/repo)
    GH_TOKEN=...                     # the type's usual token variable(s), or name your own
    ISSUE_CORE_TOKEN_ENV=MY_TOKEN    # (optional) the variable that holds the token

It becomes the backend named ``env``, used unless ``--backend`` / ``$ISSUE_CORE_BACKEND``
names another, and winning over the config files' ``default_backend``. What it sets goes
through the same checks as a config file's entry; an error names the variable.

Also here, because ``issue config detect`` writes the same settings: which token variables each
forge type is known by, and how a repository path becomes a type's settings.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from typing import Any

from issue_core.core.errors import ConfigError

TYPE_ENV = "ISSUE_CORE_BACKEND_TYPE"
URL_ENV = "ISSUE_CORE_URL"
REPO_ENV = "ISSUE_CORE_REPO"
TOKEN_ENV_ENV = "ISSUE_CORE_TOKEN_ENV"
ENVIRONMENT_BACKEND = "env"
# The variables each forge's own tools read, in the order they read them (gh: GH_TOKEN, then
# GITHUB_TOKEN; tea and the Gitea SDKs: GITEA_TOKEN; issue-core's own default: GITEA_API_TOKEN).
TOKEN_VARIABLES: dict[str, tuple[str, ...]] = {
    "github": ("GH_TOKEN", "GITHUB_TOKEN"),
    "gitlab": ("GITLAB_TOKEN",),
    "gitea": ("GITEA_TOKEN", "GITEA_API_TOKEN"),
}
# Forge types that have no default URL (github.com and gitlab.com are the others' defaults).
URL_REQUIRED = frozenset({"gitea"})


def token_variable(
    type_name: str, environ: Mapping[str, str], default: str | None = None
) -> str | None:
    """The name of the variable to read ``type_name``'s token from: the first of its usual
    variables that is set, else ``default`` (the type's own default), else the first usual one.
    Only the name is returned: the value is never read here."""
    usual = TOKEN_VARIABLES.get(type_name, ())
    for name in usual:
        if environ.get(name, "").strip():
            return name
    return default or (usual[0] if usual else None)


def repository_settings(keys: Collection[str], path: str, *, where: str) -> dict[str, str]:
    """A repository path as the settings a type with option ``keys`` takes: ``project`` for a
    type addressed by project path, else ``owner`` and ``repo`` (one slash exactly)."""
    path = path.strip().strip("/")
    segments = path.split("/")
    if len(segments) < 2 or any(not s or s.isspace() for s in segments):
        raise ConfigError(f"{where} must be owner/repo (or a GitLab group/sub/project path)")
    if "project" in keys:
        return {"project": path}
    if len(segments) != 2:
        raise ConfigError(f"{where} must be owner/repo: {path!r} has {len(segments)} parts")
    return {"owner": segments[0], "repo": segments[1]}


def environment_backend(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The config entry (``type`` and settings) the environment sets up, or ``None`` when
    ``$ISSUE_CORE_BACKEND_TYPE`` is unset. Errors name the variable at fault."""
    from issue_core.core.config_checks import BUILTIN_SETTINGS, env_name_problem, url_problem

    env = os.environ if environ is None else environ
    type_name = env.get(TYPE_ENV, "").strip()
    if not type_name:
        return None
    if not type_name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"${TYPE_ENV} must be a backend type such as gitea, github or gitlab")
    entry: dict[str, Any] = {"type": type_name}
    if type_name == "local":
        return entry
    url = env.get(URL_ENV, "").strip()
    if url:
        problem = url_problem(url, allow_http=False)
        if problem:
            raise ConfigError(f"${URL_ENV} {problem}")
        entry["url"] = url
    elif type_name in URL_REQUIRED:
        raise ConfigError(
            f"${URL_ENV} is not set (${TYPE_ENV}={type_name} needs the server's URL)",
            hint=f"e.g. {URL_ENV}=https://{type_name}.example.com",
        )
    repo = env.get(REPO_ENV, "")
    if not repo.strip():
        raise ConfigError(
            f"${REPO_ENV} is not set (${TYPE_ENV}={type_name} needs the repository)",
            hint=f"e.g. {REPO_ENV}=owner/repo, or the GitLab project path group/sub/project",
        )
    # The settings the type is declared to read (core cannot ask the backend class).
    keys = BUILTIN_SETTINGS.get(type_name, ("owner", "repo"))
    entry.update(repository_settings(keys, repo, where=f"${REPO_ENV}"))
    named = env.get(TOKEN_ENV_ENV, "").strip()
    if named:
        if env_name_problem("token_env", named):
            raise ConfigError(
                f"${TOKEN_ENV_ENV} takes the NAME of the variable that holds the token, not the"
                " token (the value is not shown; if it was a real token, revoke it)"
            )
        entry["token_env"] = named
    else:
        variable = token_variable(type_name, env)
        if variable:
            entry["token_env"] = variable
    return entry
