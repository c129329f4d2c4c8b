"""Configuration: where things live and which backend a call uses.

Two TOML files, the repository's winning over the user's:

* user file: ``$XDG_CONFIG_HOME/issue-core/config.toml`` (``~/.config/...`` on Linux,
  ``~/Library/Application Support/issue-core`` on macOS, ``%APPDATA%\\issue-core`` on Windows);
  ``ISSUE_CORE_CONFIG_DIR`` overrides the folder.
* repository file: ``.issue-core/config.toml`` at the project root (the enclosing git
  repository's top, else the current folder).

Shape::

    default_backend = "work"
    user = "alice"                  # identity on backends without accounts (local)
    agent = "worker-1"              # the acting agent (--as, $ISSUE_CORE_AGENT win over it)

    [backends.work]
    type = "gitea"
    url = "https://gitea.example.com"
    owner = "acme"
    repo = "widgets"
    token_env = "GITEA_API_TOKEN"   # the *name* of the variable; secrets are never stored

    [server.routes]                 # issue serve: target_repo -> backend (docs/ingestion.md)
    "activity-core" = "work"
    "*" = "local"                   # optional default route for any other target_repo

With no configuration at all the backend is ``local`` at ``<project root>/.issue-core/issues.db``.

Reading stays cheap on purpose, because every ``issue`` call reads configuration: paths are
handled with ``os.path`` (``pathlib`` pulls in ``urllib`` and ``ipaddress``, ~5 ms), ``tomllib``
is imported only when a file exists, and ``Path`` objects are made only at the edges that
return them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from issue_core.core.errors import AuthError, ConfigError, NotFound, UsageError

if TYPE_CHECKING:
    from pathlib import Path


STORE_DIRNAME = ".issue-core"
DEFAULT_DB_RELPATH = ".issue-core/issues.db"
IMPLICIT_BACKEND = "local"
BACKEND_ENV = "ISSUE_CORE_BACKEND"
# Keys that would hold a secret. They are refused in config files: name an env var instead.
SECRET_KEYS = frozenset({"token", "password", "api_key", "secret", "private_token"})
# Settings that cannot send a token elsewhere or weaken how it travels: changing them does not
# need trusting a repository's backend again. Everything else is part of the trust digest.
TRUST_NEUTRAL_KEYS = frozenset(
    {
        "timeout",
        "connect_timeout",
        "command_timeout",
        "max_retries",
        "rate_limit_max_wait",
        "page_size",
        "page_concurrency",
        "pagination",
        "http_cache",
        "in_progress_label",
        "writes_per_minute",
        "writes_per_hour",
        "write_pacing_max_wait",
        "watch_interval",
    }
)
# Trust states of a backend (``BackendConfig.trust``).
TRUST_NOT_NEEDED = "not needed"
TRUST_TRUSTED = "trusted"
TRUST_UNTRUSTED = "untrusted"
TRUST_CHANGED = "changed"
IDENTITY_ENV = "ISSUE_CORE_USER"
# Set, it makes the environment a backend of its own (``core/environment.py``).
BACKEND_TYPE_ENV = "ISSUE_CORE_BACKEND_TYPE"
ENVIRONMENT_BACKEND = "env"
STATE_DIR_ENV = "ISSUE_CORE_STATE_DIR"


class UntrustedBackend(AuthError):
    """A repository's config names a backend the user has not trusted (exit 5)."""

    code = "untrusted_backend"


# --------------------------------------------------------------------------- locations


def project_root_dir(start: str | os.PathLike[str] | None = None) -> str:
    """The enclosing git repository's top folder (walking up like git), else ``start``.

    A linked worktree (``git worktree add``) has a ``.git`` *file* naming its private git
    folder, whose ``commondir`` leads to the main repository: the main checkout is the root, so
    every worktree shares one store. A submodule's ``.git`` file names a folder without
    ``commondir``: it stays its own root. Files are parsed (no ``git`` subprocess: this runs on
    every call).
    """
    here = os.path.realpath(start if start is not None else os.getcwd())
    folder = here
    while True:
        marker = os.path.join(folder, ".git")
        if os.path.isdir(marker):
            return folder
        if os.path.isfile(marker):
            return _main_worktree(folder, marker)
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


def _read_small(path: str, limit: int = 4096) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit).strip()
    except OSError:
        return None


def _main_worktree(folder: str, marker: str) -> str:
    """The main checkout of the worktree at ``folder`` (``folder`` itself when it is one)."""
    text = _read_small(marker) or ""
    if not text.startswith("gitdir:"):
        return folder
    gitdir = os.path.join(folder, text[len("gitdir:") :].strip())
    common = _read_small(os.path.join(gitdir, "commondir"))
    if not common:  # a submodule or --separate-git-dir: a repository of its own
        return folder
    common_dir = os.path.normpath(os.path.join(gitdir, common))
    if os.path.basename(common_dir) == ".git":
        main = os.path.dirname(common_dir)
        return main if os.path.isdir(main) else folder
    # A worktree of a submodule (or of a bare repository): the main checkout, if any, is
    # core.worktree in the common folder's config.
    worktree = _core_worktree(os.path.join(common_dir, "config"))
    if worktree:
        main = os.path.normpath(os.path.join(common_dir, worktree))
        if os.path.isdir(main):
            return main
    return folder


def _core_worktree(config_file: str) -> str | None:
    text = _read_small(config_file, 1 << 20)
    if not text:
        return None
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]").strip().lower()
        elif section == "core" and "=" in line:
            key, _, value = line.partition("=")
            if key.strip().lower() == "worktree":
                return value.strip().strip('"')
    return None


def find_project_root(start: str | os.PathLike[str] | None = None) -> Path:
    from pathlib import Path

    return Path(project_root_dir(start))


def in_git_repository(start: str | os.PathLike[str] | None = None) -> bool:
    root = project_root_dir(start)
    return os.path.exists(os.path.join(root, ".git"))


def _user_config_dir() -> str:
    override = os.environ.get("ISSUE_CORE_CONFIG_DIR")
    if override:
        return override
    home = os.path.expanduser("~")
    if sys.platform == "win32":  # pragma: no cover - platform specific
        base = os.environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming")
        return os.path.join(base, "issue-core")
    if sys.platform == "darwin":  # pragma: no cover - platform specific
        return os.path.join(home, "Library", "Application Support", "issue-core")
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(base, "issue-core")


def user_config_dir() -> Path:
    from pathlib import Path

    return Path(_user_config_dir())


def _user_config_file() -> str:
    return os.path.join(_user_config_dir(), "config.toml")


def _repo_config_file(root: str | os.PathLike[str]) -> str:
    return os.path.join(root, STORE_DIRNAME, "config.toml")


def user_cache_dir() -> str:
    """issue-core's folder in the user's cache: ``$ISSUE_CORE_CACHE_DIR``, else the platform's
    (``$XDG_CACHE_HOME/issue-core``, ``~/.cache/issue-core``)."""
    override = os.environ.get("ISSUE_CORE_CACHE_DIR")
    if override:
        return override
    home = os.path.expanduser("~")
    if sys.platform == "darwin":  # pragma: no cover - platform specific
        return os.path.join(home, "Library", "Caches", "issue-core")
    if sys.platform == "win32":  # pragma: no cover - platform specific
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, "issue-core")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return os.path.join(base, "issue-core")


def user_config_path() -> Path:
    from pathlib import Path

    return Path(_user_config_file())


def repo_config_path(root: str | os.PathLike[str]) -> Path:
    from pathlib import Path

    return Path(_repo_config_file(root))


def login_name() -> str:
    """The OS login name (what getpass.getuser does, without importing termios on every call)."""
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        value = os.environ.get(variable)
        if value:
            return value
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # pragma: no cover - no passwd entry (some containers)
        return "unknown"


# --------------------------------------------------------------------------- reading


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return data


def write_toml(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write atomically with mode 0600 (the folder is created if needed)."""
    import tomli_w

    target = os.fspath(path)
    check_no_secrets(data, where=target)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(dict(data), handle)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    os.chmod(target, 0o600)


def check_no_secrets(data: Mapping[str, Any], *, where: str) -> None:
    for key, value in data.items():
        if isinstance(value, Mapping):
            check_no_secrets(value, where=where)
        elif key.lower() in SECRET_KEYS:
            raise ConfigError(
                f"refusing to store a secret ({key!r}) in {where}",
                hint="store the name of an environment variable in 'token_env' instead",
            )


class ConfigWarning(UserWarning):
    """A configuration mistake that does not stop the call (an unknown key)."""


def _warn(message: str) -> None:
    import warnings

    warnings.warn(message, ConfigWarning, stacklevel=3)


def checked_identity(value: str, where: str) -> str:
    if value.strip() != value or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigError(
            f"{where} must be a user name without blanks, newlines or control characters",
            hint=f"e.g. {_identity_example(where)}",
        )
    return value


def _identity_example(where: str) -> str:
    """A good value spelled the way ``where`` (``$VAR``, ``--option …``, ``'key' in FILE``)
    takes it."""
    if where.startswith("$"):
        return f"{where[1:]}=alice"
    if where.startswith("--"):
        return f"{where.split()[0]} alice"
    if where.startswith("'"):
        key = where.split("'")[1]
        return f'{key} = "alice"'
    return "alice"


def _check_store_path(backend: BackendConfig) -> None:
    """A local store path that can never work is a config error naming the path."""
    path = backend.settings.get("path")
    if not isinstance(path, str) or not path:
        raise ConfigError(f"backend {backend.name!r}: 'path' must be a file path")
    if os.path.isdir(path):
        raise ConfigError(
            f"backend {backend.name!r}: 'path' {path} is a directory, not a store file",
            hint=f"e.g. path = {os.path.join(path, 'issues.db')!r}",
        )
    parent = os.path.dirname(path)
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent) if os.path.dirname(parent) != parent else ""
    if parent and not os.path.isdir(parent):
        raise ConfigError(f"backend {backend.name!r}: 'path' {path} is inside a file ({parent})")


# --------------------------------------------------------------------------- model


class BackendConfig:
    """One configured backend: its name, its type and its type-specific settings.

    ``source`` is ``user``, ``repo``, or ``implicit`` (the zero-config local store). ``trust``
    says whether it may be opened (see ``require_trusted``); a repository's entry starts
    untrusted until ``Config`` has checked the user's trust records.
    """

    def __init__(
        self,
        name: str,
        type: str,
        settings: dict[str, Any] | None = None,
        source: str = "implicit",
        trust: str | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.settings: dict[str, Any] = settings if settings is not None else {}
        self.source = source
        self.trust = trust or (TRUST_UNTRUSTED if source == "repo" else TRUST_NOT_NEEDED)
        self.source_file = ""

    def __repr__(self) -> str:
        return f"BackendConfig({self.name!r}, {self.type!r}, source={self.source!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "source": self.source, **self.settings}

    def digest(self) -> str:
        """What trusting this entry vouches for: every setting that decides where a token goes."""
        import hashlib
        import json

        decisive = {k: v for k, v in self.settings.items() if k not in TRUST_NEUTRAL_KEYS}
        text = json.dumps({"type": self.type, **decisive}, sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

    def require_trusted(self) -> None:
        """Refuse to open a repository's backend the user has not trusted (or that changed)."""
        if self.trust in (TRUST_NOT_NEEDED, TRUST_TRUSTED):
            return
        target = self.settings.get("url") or self.settings.get("path") or self.type
        variable = self.settings.get("token_env")
        sends = f"would send ${variable} to {target}" if variable else f"would open {target}"
        state = "changed since you trusted it" if self.trust == TRUST_CHANGED else "is not trusted"
        where = f" ({self.source_file})" if self.source_file else ""
        raise UntrustedBackend(
            f"backend {self.name!r} from the repository config{where} {state}: it {sends}; "
            f"if that is intended, run: issue backend trust {self.name}"
        )


class Config:
    """The merged view of the user and repository files for one project root."""

    def __init__(
        self, root: str | os.PathLike[str], user_file: dict[str, Any], repo_file: dict[str, Any]
    ) -> None:
        self.root_dir = os.fspath(root)
        self.user_file = user_file
        self.repo_file = repo_file

    @property
    def root(self) -> Path:
        from pathlib import Path

        return Path(self.root_dir)

    @classmethod
    def load(
        cls,
        cwd: str | os.PathLike[str] | None = None,
        *,
        warn: Callable[[str], None] | None = None,
    ) -> Config:
        """Read both files and check them: type errors raise, unknown keys go to ``warn``
        (default: a ``ConfigWarning``)."""
        root = project_root_dir(cwd)
        config = cls(
            root=root,
            user_file=read_toml(_user_config_file()),
            repo_file=read_toml(_repo_config_file(root)),
        )
        config.check(warn or _warn)
        return config

    def check(self, warn: Callable[[str], None]) -> None:
        if not (self.user_file or self.repo_file):
            return
        from issue_core.core.config_checks import check_file

        check_file(self.user_file, _user_config_file(), "user", warn)
        check_file(self.repo_file, _repo_config_file(self.root_dir), "repo", warn)

    # -- merged view -------------------------------------------------------------

    def _section(self, data: dict[str, Any], path: str) -> dict[str, Any]:
        backends = data.get("backends", {})
        if not isinstance(backends, dict):
            raise ConfigError(f"'backends' in {path} must be a table")
        return backends

    def backends(self) -> dict[str, BackendConfig]:
        merged: dict[str, BackendConfig] = {}
        for source, data, path in (
            ("user", self.user_file, _user_config_file()),
            ("repo", self.repo_file, _repo_config_file(self.root_dir)),
        ):
            for name, entry in self._section(data, path).items():
                if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
                    raise ConfigError(f"backend {name!r} in {path} needs a 'type'")
                settings = {k: v for k, v in entry.items() if k != "type"}
                merged[name] = BackendConfig(name, entry["type"], settings, source)
                merged[name].source_file = path
        environment = self.environment_backend()
        if environment is not None:
            merged[ENVIRONMENT_BACKEND] = environment
        return merged

    def environment_backend(self) -> BackendConfig | None:
        """The backend ``$ISSUE_CORE_BACKEND_TYPE`` (with ``$ISSUE_CORE_URL``,
        ``$ISSUE_CORE_REPO`` and a token variable) sets up, named ``env``; ``None`` unset.
        Your own environment, like your user file, needs no trust."""
        if not os.environ.get(BACKEND_TYPE_ENV):
            return None
        from issue_core.core.environment import environment_backend

        entry = environment_backend()
        if entry is None:
            return None
        settings = {k: v for k, v in entry.items() if k != "type"}
        backend = BackendConfig(ENVIRONMENT_BACKEND, entry["type"], settings, "env")
        backend.source_file = f"${BACKEND_TYPE_ENV}"
        return backend

    def default_backend_name(self) -> str | None:
        """The environment's backend when it sets one up, else the repository file's
        ``default_backend``, else the user file's."""
        if os.environ.get(BACKEND_TYPE_ENV):
            return ENVIRONMENT_BACKEND
        for data in (self.repo_file, self.user_file):
            value = data.get("default_backend")
            if isinstance(value, str) and value:
                return value
        return None

    def server_routes(self) -> dict[str, str]:
        """``[server.routes]`` of ``issue serve``: repository name -> backend name. Both files'
        tables are merged, the repository's entries winning (as for backends)."""
        merged: dict[str, str] = {}
        for data, path in (
            (self.user_file, _user_config_file()),
            (self.repo_file, _repo_config_file(self.root_dir)),
        ):
            server = data.get("server", {})
            routes = server.get("routes", {}) if isinstance(server, dict) else None
            if not isinstance(routes, dict):
                raise ConfigError(f"'server.routes' in {path} must be a table")
            for repo, backend in routes.items():
                if not isinstance(backend, str) or not backend:
                    raise ConfigError(
                        f"'server.routes.{repo}' in {path} must be a backend name (a string)"
                    )
                merged[repo] = backend
        return merged

    def identity(self) -> str:
        """Who acts on backends without accounts: $ISSUE_CORE_USER, config 'user', login."""
        env = os.environ.get(IDENTITY_ENV)
        if env:
            return checked_identity(env, f"${IDENTITY_ENV}")
        for data, path in (
            (self.repo_file, _repo_config_file(self.root_dir)),
            (self.user_file, _user_config_file()),
        ):
            value = data.get("user")
            if isinstance(value, str) and value:
                return checked_identity(value, f"'user' in {path}")
        return login_name()

    def agent(self) -> str | None:
        """``agent = "..."`` in the configuration (the repository's file first): the agent this
        checkout acts as when neither ``--as`` nor $ISSUE_CORE_AGENT names one."""
        for data, path in (
            (self.repo_file, _repo_config_file(self.root_dir)),
            (self.user_file, _user_config_file()),
        ):
            value = data.get("agent")
            if isinstance(value, str) and value:
                return checked_identity(value, f"'agent' in {path}")
        return None

    def claim_ttl_s(self) -> int:
        """``[claims] ttl = "2h"``: how long a claim's lease lasts when ``--ttl`` is not given
        (the repository's file first; default ``core.claims.DEFAULT_TTL_S``, two hours)."""
        from issue_core.core.claims import DEFAULT_TTL_S, parse_duration

        for data, path in (
            (self.repo_file, _repo_config_file(self.root_dir)),
            (self.user_file, _user_config_file()),
        ):
            section = data.get("claims")
            if isinstance(section, dict) and "ttl" in section:
                return parse_duration(section["ttl"], f"[claims] ttl in {path}")
        return DEFAULT_TTL_S

    def labels_create(self) -> str:
        """``[labels] create``: ``"auto"`` (the default) creates labels named on create/edit
        that do not exist yet; ``"never"`` refuses them, for teams with a fixed label set."""
        for data, path in (
            (self.repo_file, _repo_config_file(self.root_dir)),
            (self.user_file, _user_config_file()),
        ):
            section = data.get("labels")
            if section is None:
                continue
            value = section.get("create") if isinstance(section, dict) else section
            if value is None:
                continue
            if value not in ("auto", "never"):
                raise ConfigError(
                    f'labels.create in {path} must be "auto" or "never", not {value!r}'
                )
            return str(value)
        return "auto"

    def implicit_local(self) -> BackendConfig:
        return BackendConfig(IMPLICIT_BACKEND, "local", {"path": DEFAULT_DB_RELPATH}, "implicit")

    def resolve(self, name: str | None = None) -> BackendConfig:
        """The backend a call uses: ``name`` > $ISSUE_CORE_BACKEND > default > implicit local."""
        chosen = name or os.environ.get(BACKEND_ENV) or self.default_backend_name()
        backends = self.backends()
        if chosen is None or (chosen == IMPLICIT_BACKEND and chosen not in backends):
            return self.resolve_paths(self.implicit_local())
        if chosen not in backends:
            known = ", ".join(sorted({*backends, IMPLICIT_BACKEND}))
            raise NotFound(f"no backend named {chosen!r}", hint=f"configured: {known}")
        resolved = self.resolve_paths(backends[chosen])
        if resolved.type == "local":
            _check_store_path(resolved)
        return resolved

    def resolve_paths(self, backend: BackendConfig) -> BackendConfig:
        """Relative local paths are relative to the project root, whichever file named them;
        a repository's entry gets its trust state from the user's trust records."""
        path = backend.settings.get("path")
        if backend.type == "local" and not path:
            path = DEFAULT_DB_RELPATH
        resolved = backend
        if backend.type == "local" and isinstance(path, str):
            expanded = os.path.expanduser(path)
            normalised = os.path.normpath(os.path.join(self.root_dir, expanded))
            settings = {**backend.settings, "path": normalised}
            resolved = BackendConfig(backend.name, backend.type, settings, backend.source)
            resolved.source_file = backend.source_file
        if resolved.source == "repo":
            resolved.trust = self.trust_state(resolved)
        return resolved

    # -- trust -------------------------------------------------------------------

    def needs_trust(self, backend: BackendConfig) -> bool:
        """A repository's backend needs the user's trust unless it is a local store inside
        the repository (a remote one could send a token anywhere; a store path could point
        into ~/.ssh)."""
        if backend.source != "repo":
            return False
        if backend.type != "local":
            return True
        path = backend.settings.get("path", DEFAULT_DB_RELPATH)
        if not isinstance(path, str):
            return True
        root = os.path.realpath(self.root_dir)
        target = os.path.realpath(os.path.join(root, os.path.expanduser(path)))
        return os.path.commonpath([root, target]) != root

    def _trust_records(self) -> dict[str, Any]:
        records = self.user_file.get("trusted", {})
        mine = records.get(os.path.realpath(self.root_dir)) if isinstance(records, dict) else None
        return mine if isinstance(mine, dict) else {}

    def trust_state(self, backend: BackendConfig) -> str:
        if not self.needs_trust(backend):
            return TRUST_NOT_NEEDED
        record = self._trust_records().get(backend.name)
        if not isinstance(record, dict):
            return TRUST_UNTRUSTED
        return TRUST_TRUSTED if record.get("digest") == backend.digest() else TRUST_CHANGED

    def record_trust(self, backend: BackendConfig) -> dict[str, Any]:
        """The user config with ``backend`` trusted for this repository (not yet saved)."""
        root = os.path.realpath(self.root_dir)
        trusted = dict(self.user_file.get("trusted", {}))
        mine = dict(trusted.get(root, {}))
        record: dict[str, Any] = {"digest": backend.digest(), "type": backend.type}
        for key in ("url", "path", "token_env"):
            value = backend.settings.get(key)
            if isinstance(value, str):
                record[key] = value
        mine[backend.name] = record
        trusted[root] = mine
        return {**self.user_file, "trusted": trusted}

    # -- writing -----------------------------------------------------------------

    def file_for(self, scope: str) -> tuple[Path, dict[str, Any]]:
        if scope == "user":
            return user_config_path(), self.user_file
        if scope == "repo":
            return repo_config_path(self.root), self.repo_file
        raise UsageError(f"unknown config scope {scope!r}", hint="expected user or repo")

    def save(self, scope: str) -> Path:
        path, data = self.file_for(scope)
        write_toml(path, data)
        return path

    # -- editing backend entries ---------------------------------------------------
    # Each returns the scope's file contents with one change made (not yet saved), so a front
    # end can check and write it, and `issue config detect` can reuse them.

    def with_backend(
        self, scope: str, name: str, entry: Mapping[str, Any], *, make_default: bool = False
    ) -> dict[str, Any]:
        """The ``scope`` file with backend ``name`` set to ``entry`` (replacing one of that
        name), and made the default when ``make_default``."""
        _, data = self.file_for(scope)
        updated = dict(data)
        updated["backends"] = {**data.get("backends", {}), name: dict(entry)}
        if make_default:
            updated["default_backend"] = name
        return updated

    def scope_holding(self, name: str, scope: str | None = None) -> str:
        """The file that configures backend ``name``: ``scope``, else repo before user."""
        for candidate in [scope] if scope else ["repo", "user"]:
            _, data = self.file_for(candidate)
            if name in data.get("backends", {}):
                return candidate
        known = ", ".join(sorted(self.backends())) or "none"
        where = f" in the {scope} config" if scope else ""
        raise NotFound(f"no backend named {name!r}{where}", hint=f"configured: {known}")

    def without_backend(self, scope: str, name: str) -> dict[str, Any]:
        """The ``scope`` file without backend ``name`` (nor as the default; an emptied
        ``backends`` table goes too). Its data, a local store file, is not touched."""
        _, data = self.file_for(scope)
        updated = dict(data)
        remaining = {k: v for k, v in data.get("backends", {}).items() if k != name}
        if remaining:
            updated["backends"] = remaining
        else:
            updated.pop("backends", None)
        if updated.get("default_backend") == name:
            del updated["default_backend"]
        return updated

    def with_default(self, scope: str, name: str) -> dict[str, Any]:
        """The ``scope`` file with ``name`` as the default backend; an unknown name (other
        than the implicit local store) is ``NotFound``."""
        backends = self.backends()
        if name not in backends and name != IMPLICIT_BACKEND:
            known = ", ".join(sorted({*backends, IMPLICIT_BACKEND}))
            raise NotFound(f"no backend named {name!r}", hint=f"configured: {known}")
        _, data = self.file_for(scope)
        return {**data, "default_backend": name}


# --------------------------------------------------------------------------- every backend


class BackendSetup:
    """Every backend a long-running process (``issue serve``, ``issue outbox``) may use: the
    default's name, each configured backend resolved by name, who acts, the server routes."""

    # A plain class, not a dataclass: this module is on every command's start-up path.
    def __init__(
        self,
        default: str,
        backends: dict[str, BackendConfig],
        identity: str,
        config: Config,
        routes: dict[str, str] | None = None,
    ) -> None:
        self.default = default
        self.backends = backends
        self.identity = identity
        self.config = config
        self.routes: dict[str, str] = routes if routes is not None else {}

    def __repr__(self) -> str:
        return f"BackendSetup(default={self.default!r}, backends={sorted(self.backends)!r})"


def resolve_backends(
    default_name: str | None, cwd: str | os.PathLike[str] | None = None
) -> BackendSetup:
    """Every configured backend (plus the implicit local store), with paths resolved.

    Only these names may be chosen per task with ``backend``: a request can never make the
    server open an arbitrary store or URL.
    """
    config = Config.load(cwd)
    default = config.resolve(default_name)
    names = {*config.backends(), IMPLICIT_BACKEND}
    backends = {name: config.resolve(name) for name in sorted(names)}
    backends[default.name] = default
    return BackendSetup(
        default.name, backends, config.identity(), config, routes=config.server_routes()
    )


def default_state_dir(setup: BackendSetup) -> Path:
    """``$ISSUE_CORE_STATE_DIR``, else the folder of the default local store, else
    ``<project root>/.issue-core``."""
    from pathlib import Path

    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    chosen = setup.backends[setup.default]
    path = chosen.settings.get("path")
    if chosen.type == "local" and isinstance(path, str):
        return Path(path).parent
    return setup.config.root / STORE_DIRNAME
