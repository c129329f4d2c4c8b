"""Checks on configuration values: mistyped keys, wrong types, secrets where names belong.

Kept apart from ``config`` so reading stays cheap: only plain-Python walks over small dicts run
on every call; ``difflib`` is imported only when a key is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from issue_core.core.errors import ConfigError

ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Prefixes of the tokens forges hand out (GitHub, GitLab, Slack, OpenAI-style keys).
TOKEN_PREFIXES = (
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "gldt-", "glrt-", "glptt-", "xoxb-", "xoxp-", "sk-",
)  # fmt: skip
HEX_TOKEN = re.compile(r"^[0-9a-fA-F]{16,}$")

TOP_LEVEL_KEYS = {
    "default_backend": str,
    "user": str,
    "agent": str,
    "claims": dict,  # [claims] ttl = "2h"
    "backends": dict,
    "labels": (dict, str),  # a table, or the shorthand labels = "never"
    "trusted": dict,
    "server": dict,
    "sync": dict,  # [sync] bulk_threshold, on_delete, [sync.users.NAME]
    "git_remote": str,  # the remote `issue config detect` used (repository file)
}
LABELS_KEYS = {"create": str}
SERVER_KEYS = {"routes": dict}
LABELS_CREATE_VALUES = ("auto", "never")
BOOL = bool
NUMBER = (int, float)
# What every forge backend reads (``forge.base.ForgeBackend.connect``).
FORGE_SETTINGS: dict[str, Any] = {
    "type": str,
    "url": str,
    "token_env": str,
    "in_progress_label": str,
    "allow_http": BOOL,
    "verify_tls": BOOL,
    "ca_bundle": str,
    "http_cache": BOOL,
    "timeout": NUMBER,
    "connect_timeout": NUMBER,
    "command_timeout": NUMBER,
    "max_retries": NUMBER,
    "rate_limit_max_wait": NUMBER,
    "page_size": int,
    "page_concurrency": NUMBER,
    "watch_interval": NUMBER,  # forge.event_stream: seconds between an idle watcher's looks
}
# Settings each built-in type reads (plug-in types are not checked: their keys are theirs).
BUILTIN_SETTINGS: dict[str, dict[str, Any]] = {
    "local": {"type": str, "path": str},
    "gitea": {**FORGE_SETTINGS, "owner": str, "repo": str},
    # project: a path (group/sub/repo) or the numeric id
    "gitlab": {**FORGE_SETTINGS, "project": (str, int), "auth": str, "pagination": str},
    # writes_per_*: GitHub's content-creation pacing (80 a minute, 500 an hour by default)
    "github": {
        **FORGE_SETTINGS,
        "owner": str,
        "repo": str,
        "writes_per_minute": int,
        "writes_per_hour": int,
        "write_pacing_max_wait": NUMBER,
    },
}
TYPE_NAMES = {str: "a string", dict: "a table", bool: "true or false", int: "an integer"}


def looks_like_token(value: str) -> bool:
    """A value that is probably a secret rather than the name of a variable."""
    if value.startswith(TOKEN_PREFIXES) or HEX_TOKEN.match(value):
        return True
    # Variable names have words; tokens are long runs of letters and digits.
    return "_" not in value and len(value) >= 20 and any(ch.isdigit() for ch in value)


def is_env_name(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return bool(ENV_NAME_PATTERN.match(value)) and not looks_like_token(value)


def env_name_problem(key: str, value: object) -> str | None:
    """Why ``value`` cannot be the variable name ``key`` holds (never quoting the value)."""
    if is_env_name(value):
        return None
    if isinstance(value, str) and looks_like_token(value):
        return (
            f"'{key}' holds what looks like a token, not the NAME of an environment variable"
            " (the value is not shown; if it is a real token, revoke it)"
        )
    return f"'{key}' must be the NAME of an environment variable (letters, digits, '_')"


# --------------------------------------------------------------------------- URLs


def split_url(url: str) -> tuple[str, str, str]:
    """(scheme, userinfo, host) without urllib (which costs start-up time)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "", "", ""
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host = hostport[1:].partition("]")[0]
    else:
        host = hostport.partition(":")[0]
    return scheme.lower(), userinfo if at else "", host.lower()


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost`` or a name under ``.localhost``
    (RFC 6761 keeps them on loopback), 127.0.0.0/8 or ``::1`` (brackets or not). The one test
    for a backend URL that may use plain http and for an unauthenticated server's address."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # here, not at the top: the CLI's start-up path checks URLs without it

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, *, allow_http: bool) -> str | None:
    """What is wrong with a backend URL (the URL itself is never quoted: it may hold a secret)."""
    scheme, userinfo, host = split_url(url)
    if userinfo:
        return (
            "has credentials in it (user:password@); they would be stored in plain text and sent"
            " instead of the token: remove them and name the token's variable in token_env"
        )
    if scheme == "http" and not allow_http and not is_loopback(host):
        return (
            f"uses plain http:// to {host}, which would send the token unencrypted:"
            " use https://, or allow it explicitly (allow_http = true, or --allow-http)"
        )
    if scheme not in ("http", "https") or not host:
        return "must be an http(s) URL such as https://gitea.example.com"
    return None


def redact_url(url: str) -> str:
    scheme, userinfo, host = split_url(url)
    if not userinfo:
        return url
    return f"{scheme}://***@{host}"


# --------------------------------------------------------------------------- files


def _suggest(key: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_name(expected: Any) -> str:
    if expected is NUMBER:
        return "a number"
    if isinstance(expected, tuple):
        return " or ".join(_type_name(one) for one in expected)
    return TYPE_NAMES.get(expected) or str(expected.__name__)


def _is(value: object, expected: Any) -> bool:
    if isinstance(value, bool) and expected is not bool:
        return False
    return isinstance(value, expected)


def _check_keys(
    table: dict[str, Any],
    known: dict[str, Any],
    prefix: str,
    path: str,
    warn: Callable[[str], None],
) -> None:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        expected = known.get(key)
        if expected is None:
            warn(f"{path}: unknown key '{dotted}' is ignored{_suggest(key, sorted(known))}")
        elif not _is(value, expected):
            raise ConfigError(
                f"'{dotted}' in {path} must be {_type_name(expected)}, not {type(value).__name__}"
            )


def check_file(data: dict[str, Any], path: str, scope: str, warn: Callable[[str], None]) -> None:
    """Warn on unknown keys, refuse wrong types and secrets where names belong."""
    _check_keys(data, TOP_LEVEL_KEYS, "", path, warn)
    if scope != "user" and "trusted" in data:
        warn(f"{path}: 'trusted' is ignored here (trust is read only from the user config)")
    labels = data.get("labels", {})
    if isinstance(labels, dict):
        _check_keys(labels, LABELS_KEYS, "labels.", path, warn)
    create = labels.get("create") if isinstance(labels, dict) else labels
    if create is not None and create not in LABELS_CREATE_VALUES:
        raise ConfigError(f'\'labels.create\' in {path} must be "auto" or "never", not {create!r}')
    server = data.get("server", {})
    if isinstance(server, dict):
        _check_keys(server, SERVER_KEYS, "server.", path, warn)
        routes = server.get("routes", {})
        for repo, backend in routes.items() if isinstance(routes, dict) else ():
            if not isinstance(backend, str) or not backend:
                raise ConfigError(
                    f"'server.routes.{repo}' in {path} must be a backend name (a string)"
                )
    for name, entry in data.get("backends", {}).items():
        where = f"backends.{name}"
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise ConfigError(f"backend {name!r} in {path} needs a 'type'")
        known = BUILTIN_SETTINGS.get(entry["type"])
        if known is not None:
            _check_keys(entry, known, where + ".", path, warn)
        check_entry(name, entry, path)


def check_entry(name: str, entry: dict[str, Any], path: str) -> None:
    """Refuse token-looking variable names and unsafe URLs in one backend entry."""
    for key, value in entry.items():
        if key.endswith("_env"):
            problem = env_name_problem(key, value)
            if problem:
                raise ConfigError(
                    f"backend {name!r} in {path}: {problem}",
                    hint=f'set {key} = "GITEA_API_TOKEN" (for example) and export that variable',
                )
        elif (key == "url" or key.endswith("_url")) and isinstance(value, str):
            problem = url_problem(value, allow_http=entry.get("allow_http") is True)
            if problem:
                raise ConfigError(f"backend {name!r} in {path}: '{key}' {problem}")
