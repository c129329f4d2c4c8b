"""``issue config detect``'s use case: from a repository's git remote to a backend entry.

1. the remote: ``--remote NAME``, else the one remembered in the repository's config
   (``git_remote``), else the one gh would pick (``core.remotes.choose_remote``);
2. its address, with an SSH host alias from ``~/.ssh/config`` replaced by its HostName;
3. the forge: github.com and gitlab.com are known, a host one of the user's own backends points
   at is that backend's type, any other host is asked (``service.forge_probe``, no token sent);
4. the entry, built generically from the type's ``config_options`` (``url``; ``project`` or
   ``owner``/``repo``; ``token_env`` naming the first usual token variable that is set, else
   the type's default): only names of variables, never a value.

Writing it (with the trust rule for repository configuration) is the front end's part.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from typing import Any

from issue_core.core.config import Config
from issue_core.core.environment import repository_settings, token_variable
from issue_core.core.errors import NotFound, Unsupported, UsageError
from issue_core.core.interfaces import ConfigOption
from issue_core.core.remotes import (
    REMOTE_PREFERENCE,
    Remote,
    choose_remote,
    configured_forge_hosts,
    display_url,
    git_config_file,
    git_remotes,
    parse_remote_url,
    resolve_ssh_alias,
)

REMEMBERED_REMOTE_KEY = "git_remote"
NOT_A_FORGE_HINT = "the local store keeps working; to use a forge: issue backend add NAME TYPE"

OptionsFor = Callable[[str], Collection[ConfigOption]]
Probe = Callable[[str], Any]  # base URL -> forge_probe.ForgeKind


class Detection:
    """What was found: the remote, where it points, the forge, and the entry to write."""

    # A plain class, not a dataclass (the CLI's import-set test keeps dataclasses out).
    def __init__(self, remote: str, url: str, address: Remote) -> None:
        self.remote = remote
        self.url = url  # fit to show: no password
        self.address = address
        self.type = ""
        self.how = ""  # "known host", "user config" or "probed"
        self.version: str | None = None
        self.entry: dict[str, Any] = {}

    @property
    def token_env(self) -> str | None:
        value = self.entry.get("token_env")
        return value if isinstance(value, str) else None

    def to_dict(self, environ: Mapping[str, str]) -> dict[str, Any]:
        token_env = self.token_env
        return {
            "remote": self.remote,
            "remote_url": self.url,
            "host": self.address.host,
            "path": self.address.path,
            "type": self.type,
            "detected_by": self.how,
            "server_version": self.version,
            "settings": {k: v for k, v in self.entry.items() if k != "type"},
            "token_env": token_env,
            "token_set": bool(token_env and environ.get(token_env, "").strip()),
        }


def repository_remotes(root: str) -> dict[str, str]:
    """The remotes of the git repository at ``root`` (name -> URL); ``NotFound`` outside one."""
    config_file = git_config_file(root)
    if config_file is None:
        raise NotFound(
            "not inside a git repository: there is no remote to detect a forge from",
            hint=NOT_A_FORGE_HINT,
        )
    try:
        with open(config_file, encoding="utf-8", errors="replace") as handle:
            return git_remotes(handle.read())
    except OSError:
        return {}


def pick_remote(remotes: Mapping[str, str], requested: str | None, remembered: str | None) -> str:
    if requested is not None:
        if requested not in remotes:
            known = ", ".join(remotes) or "none"
            raise NotFound(f"no git remote named {requested!r}", hint=f"remotes: {known}")
        return requested
    if not remotes:
        raise NotFound(
            "this repository has no git remote to detect a forge from",
            hint="git remote add origin URL, then issue config detect",
        )
    if remembered is not None and remembered in remotes:
        return remembered
    chosen = choose_remote(list(remotes))
    if chosen is None:
        raise UsageError(
            f"this repository has several remotes ({', '.join(remotes)}) and none is called "
            f"{', '.join(REMOTE_PREFERENCE)}: say which with --remote NAME"
        )
    return chosen


def read_ssh_config() -> str:
    try:
        with open(os.path.expanduser("~/.ssh/config"), encoding="utf-8", errors="replace") as f:
            return f.read(1 << 20)
    except OSError:
        return ""


def address_of(remote: str, url: str, ssh_config: str) -> Remote:
    address = parse_remote_url(url)
    if address is None:
        raise NotFound(
            f"git remote {remote!r} ({display_url(url)}) is not on a forge: it is not an "
            "http(s) or ssh address of a repository",
            hint=NOT_A_FORGE_HINT,
        )
    return resolve_ssh_alias(address, ssh_config)


def user_backend_for(config: Config, address: Remote) -> tuple[str, str] | None:
    """``(type, url)`` of one of the user's own backends on the remote's host."""
    hosts = configured_forge_hosts(config.user_file)
    return hosts.get(address.host) or hosts.get(address.web_host)


def build_entry(
    type_name: str,
    options: Collection[ConfigOption],
    address: Remote,
    url: str | None,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    """The config entry for ``address`` on a type whose options are ``options``."""
    keys = {option.key for option in options}
    defaults = {option.key: option.default for option in options}
    entry: dict[str, Any] = {"type": type_name}
    if "url" in keys:
        chosen = url or defaults.get("url") or address.web_url
        entry["url"] = chosen
    where = f"the path of remote {address.host}:{address.path}"
    entry.update(repository_settings(keys, address.path, where=where))
    if "token_env" in keys:
        variable = token_variable(type_name, environ, defaults.get("token_env"))
        if variable:
            entry["token_env"] = variable
    return entry


def detect(
    config: Config,
    *,
    options_for: OptionsFor,
    probe: Probe | None = None,
    remote: str | None = None,
    environ: Mapping[str, str] | None = None,
    ssh_config: str | None = None,
) -> Detection:
    """The backend entry the repository's git remote stands for (nothing is written)."""
    env = os.environ if environ is None else environ
    remotes = repository_remotes(config.root_dir)
    remembered = config.repo_file.get(REMEMBERED_REMOTE_KEY)
    name = pick_remote(remotes, remote, remembered if isinstance(remembered, str) else None)
    url = remotes[name]
    address = address_of(name, url, read_ssh_config() if ssh_config is None else ssh_config)
    found = Detection(name, display_url(url), address)
    server_url: str | None = None
    known = user_backend_for(config, address)
    if address.known_type is not None:
        found.type, found.how = address.known_type, "known host"
    elif known is not None:
        (found.type, server_url), found.how = known, "user config"
    else:
        if probe is None:
            from issue_core.service.forge_probe import probe as probe_server

            probe = probe_server
        kind = probe(address.web_url)
        found.type, found.version, found.how = kind.type, kind.version, "probed"
        server_url = address.web_url
    try:
        options = options_for(found.type)
    except NotFound:
        raise Unsupported(
            f"git remote {name!r} is on {found.type}, which this issue-core has no backend for",
            hint=NOT_A_FORGE_HINT,
        ) from None
    found.entry = build_entry(found.type, options, address, server_url, env)
    return found
