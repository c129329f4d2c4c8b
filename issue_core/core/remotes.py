"""Git remotes as forge addresses: parsing remote URLs, a repository's remotes, SSH host aliases.

Pure functions over text (no git subprocess, no network), so the same code serves
``issue config detect`` and the cheap "this repository is on a forge" check every command may
make. That check runs on the start-up path, so this module imports only ``os`` and parses by
hand (``urllib.parse`` would cost milliseconds there).

What counts as a forge address: ``https://[user@]host[:port]/owner/repo(.git)``, ``http://``,
``ssh://[user@]host[:port]/owner/repo``, ``git://``, scp-like ``[user@]host:owner/repo.git``,
with GitLab's nested groups (``group/sub/repo``), trailing slashes and ``.git`` suffixes. Local
paths and ``file://`` URLs are not (``None``). A password in a URL is dropped on parsing: it
never reaches a message or a file.
"""

from __future__ import annotations

import os

# Hosts whose forge is known without asking them.
KNOWN_HOSTS: dict[str, str] = {
    "github.com": "github",
    "ssh.github.com": "github",  # GitHub's SSH over port 443
    "www.github.com": "github",
    "gitlab.com": "gitlab",
    "altssh.gitlab.com": "gitlab",  # GitLab's SSH over port 443
    "www.gitlab.com": "gitlab",
}
# The web (and API) host of a known SSH-only host name.
WEB_HOST = {"ssh.github.com": "github.com", "altssh.gitlab.com": "gitlab.com"}
# The order gh picks a repository's remote in (then the only one, if there is just one).
REMOTE_PREFERENCE = ("upstream", "github", "gitlab", "origin")
_SCHEMES = {"https": "https", "http": "http", "ssh": "ssh", "git+ssh": "ssh", "ssh+git": "ssh",
            "git": "git"}  # fmt: skip


class Remote:
    """A remote URL read as a forge address: where the server is and which repository.

    ``path`` is the repository's path on the forge without ``.git`` or slashes at either end
    (``owner/repo``, ``group/sub/repo``); ``port`` is the one the URL names (for SSH: the SSH
    port, not the web server's).
    """

    __slots__ = ("host", "path", "port", "scheme", "user")

    def __init__(
        self, scheme: str, host: str, path: str, port: int | None = None, user: str | None = None
    ) -> None:
        self.scheme = scheme
        self.host = host
        self.path = path
        self.port = port
        self.user = user

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Remote):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self) -> int:
        return hash((self.scheme, self.host, self.path, self.port, self.user))

    def __repr__(self) -> str:
        return f"Remote({self.scheme!r}, {self.host!r}, {self.path!r}, port={self.port!r})"

    @property
    def web_host(self) -> str:
        return WEB_HOST.get(self.host, self.host)

    @property
    def web_url(self) -> str:
        """Where the forge's web server (and API) is most likely: the URL's own scheme and
        port for HTTP(S), else HTTPS on its default port (an SSH port says nothing of it)."""
        if self.scheme in ("http", "https"):
            port = f":{self.port}" if self.port is not None else ""
            return f"{self.scheme}://{_bracketed(self.host)}{port}"
        return f"https://{_bracketed(self.web_host)}"

    @property
    def known_type(self) -> str | None:
        """The forge of a host known without asking it (github.com, gitlab.com)."""
        return KNOWN_HOSTS.get(self.host)

    @property
    def owner(self) -> str:
        """Everything before the last path segment (a GitLab project's groups)."""
        return self.path.rpartition("/")[0]

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _clean_path(path: str) -> str | None:
    """``owner/repo`` from a URL's path: no ``.git``, no slashes at the ends, two segments at
    least, none empty or a dot segment."""
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")].rstrip("/")
    segments = path.split("/")
    if len(segments) < 2 or any(s in ("", ".", "..") or s.startswith("~") for s in segments):
        return None
    return path


def _split_host_port(hostport: str) -> tuple[str, int | None] | None:
    """``host[:port]`` (IPv6 in brackets) as ``(host, port)``; ``None`` when malformed."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return None
        host, rest = hostport[1:end], hostport[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else ""
    else:
        host, _, port_text = hostport.partition(":")
    if not host or any(ch in host for ch in "/\\@ \t") or not host.isprintable():
        return None
    if not port_text:
        return host.lower(), None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return host.lower(), int(port_text)


def parse_remote_url(url: str) -> Remote | None:
    """The forge address ``url`` names, or ``None`` for a local path or anything else.

    >>> parse_remote_url("git@github.com:acme/widgets.git")
    Remote('ssh', 'github.com', 'acme/widgets', port=None)
    """
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    scheme_end = url.find("://")
    if scheme_end >= 0:
        scheme = _SCHEMES.get(url[:scheme_end].lower())
        if scheme is None:  # file://, and schemes no forge serves
            return None
        rest = url[scheme_end + 3 :]
        authority, slash, path = rest.partition("/")
        if not slash:
            return None
        userinfo, at, hostport = authority.rpartition("@")
        user = userinfo.partition(":")[0] if at else None  # a password is dropped here
    else:
        # scp-like: [user@]host:path, where the host has no slash (else it is a local path)
        colon = url.find(":")
        slash_at = url.find("/")
        if colon <= 0 or (0 <= slash_at < colon) or url.startswith("["):
            return None
        scheme = "ssh"
        authority, path = url[:colon], url[colon + 1 :]
        userinfo, at, hostport = authority.rpartition("@")
        user = userinfo if at else None
        if len(hostport) == 1:  # C:\repo or C:/repo: a Windows path
            return None
    split = _split_host_port(hostport)
    cleaned = _clean_path(path)
    if split is None or cleaned is None:
        return None
    host, port = split
    return Remote(scheme, host, cleaned, port, user or None)


def display_url(url: str) -> str:
    """``url`` fit to show: a password (often a token, in CI) replaced with ``***``, and a
    user part that is itself a token (``https://ghp_xxx@github.com/...``) too."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return url
    start = scheme_end + 3
    authority, slash, path = url[start:].partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    if colon:
        shown = f"{user}:***"
    elif len(user) >= 20 or (any(ch.isdigit() for ch in user) and len(user) >= 12):
        shown = "***"
    else:
        shown = user
    return f"{url[:start]}{shown}@{hostport}{slash}{path}"


def url_host(url: str) -> str | None:
    """The host of an ``http(s)://`` URL in a config file, lower-cased (by hand: see above)."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return None
    authority = url[scheme_end + 3 :].partition("/")[0].rpartition("@")[2]
    split = _split_host_port(authority)
    return split[0] if split else None


def configured_forge_hosts(config_file: dict[str, object]) -> dict[str, tuple[str, str]]:
    """host -> ``(type, url)`` of the forge backends a config file's ``[backends]`` name (the
    first entry on a host wins)."""
    hosts: dict[str, tuple[str, str]] = {}
    backends = config_file.get("backends")
    for entry in backends.values() if isinstance(backends, dict) else ():
        if not isinstance(entry, dict):
            continue
        url, type_name = entry.get("url"), entry.get("type")
        if isinstance(url, str) and isinstance(type_name, str) and type_name != "local":
            host = url_host(url)
            if host:
                hosts.setdefault(host, (type_name, url))
    return hosts


# --------------------------------------------------------------------------- git config


def git_config_file(root: str) -> str | None:
    """The config file of the git repository whose top folder is ``root`` (a linked
    worktree's or a submodule's ``.git`` file leads to it), or ``None`` outside one."""
    marker = os.path.join(root, ".git")
    if os.path.isdir(marker):
        return os.path.join(marker, "config")
    try:
        with open(marker, encoding="utf-8", errors="replace") as handle:
            text = handle.read(4096).strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = os.path.join(root, text[len("gitdir:") :].strip())
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as handle:
            gitdir = os.path.join(gitdir, handle.read(4096).strip())
    except OSError:
        pass
    return os.path.normpath(os.path.join(gitdir, "config"))


def _unquote(value: str) -> str:
    """A git config value: comments (``#``/``;`` outside quotes) cut, quotes and the escapes
    git writes removed."""
    out: list[str] = []
    quoted = False
    index = 0
    while index < len(value):
        ch = value[index]
        if ch == '"':
            quoted = not quoted
        elif ch == "\\" and index + 1 < len(value):
            index += 1
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(value[index], value[index]))
        elif ch in "#;" and not quoted:
            break
        else:
            out.append(ch)
        index += 1
    return "".join(out).strip()


def git_remotes(text: str) -> dict[str, str]:
    """Remote name -> fetch URL from a git config file's text, in the file's order (the
    first ``url`` of a remote wins, as ``git remote get-url`` answers)."""
    remotes: dict[str, str] = {}
    section: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            header, _, rest = line[1:].partition("]")
            section = _remote_section(header)
            line = rest.strip()
            if not line:
                continue
        if section is None or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if key.strip().lower() == "url" and section not in remotes:
            url = _unquote(value)
            if url:
                remotes[section] = url
    return remotes


def _remote_section(header: str) -> str | None:
    """The remote a section header names (``remote "origin"`` or the old ``remote.origin``)."""
    header = header.strip()
    if " " in header:
        kind, _, sub = header.partition(" ")
        sub = sub.strip()
        if kind.lower() == "remote" and len(sub) >= 2 and sub[0] == sub[-1] == '"':
            return sub[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return None
    kind, dot, sub = header.partition(".")
    return sub.lower() if dot and kind.lower() == "remote" and sub else None


def choose_remote(names: list[str]) -> str | None:
    """The remote gh would pick: upstream, github, gitlab, origin, else the only one."""
    for preferred in REMOTE_PREFERENCE:
        if preferred in names:
            return preferred
    return names[0] if len(names) == 1 else None


# --------------------------------------------------------------------------- ssh config


def ssh_host_settings(text: str, alias: str) -> dict[str, str]:
    """What ``~/.ssh/config`` says for ``Host alias``: ``hostname``, ``port``, ``user`` as
    ssh reads them (the first value found wins; ``Host`` patterns with ``*``, ``?`` and
    ``!``; ``%h`` in HostName is the alias). ``Match`` blocks and ``Include`` are not
    followed: a host they decide stays as written."""
    from fnmatch import fnmatchcase

    found: dict[str, str] = {}
    applies = True  # options before the first Host apply to every host
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.replace("=", " ", 1).partition(" ")
        key, value = key.lower(), value.strip().strip('"')
        if key == "host":
            patterns = value.split()
            positive = [p for p in patterns if not p.startswith("!")]
            negated = [p[1:] for p in patterns if p.startswith("!")]
            applies = any(fnmatchcase(alias.lower(), p.lower()) for p in positive) and not any(
                fnmatchcase(alias.lower(), p.lower()) for p in negated
            )
        elif key == "match":
            applies = False
        elif applies and key in ("hostname", "port", "user") and key not in found and value:
            found[key] = value.replace("%h", alias) if key == "hostname" else value
    return found


def resolve_ssh_alias(remote: Remote, ssh_config: str) -> Remote:
    """``remote`` with an SSH host alias replaced by the HostName (and Port) it stands for."""
    if remote.scheme != "ssh" or not ssh_config:
        return remote
    settings = ssh_host_settings(ssh_config, remote.host)
    hostname = settings.get("hostname")
    if not hostname:
        return remote
    port_text = settings.get("port", "")
    port = remote.port or (int(port_text) if port_text.isdigit() else None)
    split = _split_host_port(hostname)
    if split is None:
        return remote
    return Remote("ssh", split[0], remote.path, port, remote.user or settings.get("user"))
