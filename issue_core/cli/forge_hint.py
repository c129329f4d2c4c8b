"""The note that a repository on a forge could use the forge's issues: said once per repository.

A command that ends up on the zero-config local store inside a git repository whose remote is a
known forge (github.com, gitlab.com, or a host one of the user's own backends points at) says
on stderr, once, how to connect it (``issue config detect``). Once said, the repository's root
is listed in ``forge-hints`` in the user's cache folder and the note is not repeated.

This runs on the start-up path of every such command, so it reads only the repository's
``.git/config`` (and, for a forge remote, the small list of repositories already told) and
imports nothing beyond ``core.remotes``. Nothing here may fail a command: a file that cannot be
read or written means the note is skipped or said again, never an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from issue_core.core.config import Config, user_cache_dir
from issue_core.core.remotes import (
    KNOWN_HOSTS,
    REMOTE_PREFERENCE,
    configured_forge_hosts,
    git_config_file,
    git_remotes,
    parse_remote_url,
)

HINTS_FILE = "forge-hints"


def forge_remote(config: Config) -> tuple[str, str, str] | None:
    """``(remote, host, type)`` of the repository's remote on a known forge, if any."""
    config_file = git_config_file(config.root_dir)
    if config_file is None:
        return None
    try:
        with open(config_file, encoding="utf-8", errors="replace") as handle:
            remotes = git_remotes(handle.read(1 << 20))
    except OSError:
        return None
    if not remotes:
        return None
    known = dict(KNOWN_HOSTS)
    for host, (type_name, _url) in configured_forge_hosts(config.user_file).items():
        known.setdefault(host, type_name)
    ordered = [n for n in REMOTE_PREFERENCE if n in remotes]
    ordered += [n for n in remotes if n not in ordered]
    for name in ordered:
        address = parse_remote_url(remotes[name])
        if address is not None and address.host in known:
            return name, address.host, known[address.host]
    return None


def say_once(config: Config, say: Callable[[str], None]) -> None:
    """Say the note through ``say(text)`` unless this repository was told already."""
    found = forge_remote(config)
    if found is None:
        return
    root = os.path.realpath(config.root_dir)
    path = os.path.join(user_cache_dir(), HINTS_FILE)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            if root in handle.read().splitlines():
                return
    except OSError:
        pass  # never told (or unreadable: telling again is the harmless side)
    remote, host, type_name = found
    say(
        f"issue-core: note: this repository's git remote {remote} is on {host} ({type_name}); "
        "issues stay in the local store until you connect it: issue config detect "
        "(this note is shown once)"
    )
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(root + "\n")
    except OSError:
        pass
