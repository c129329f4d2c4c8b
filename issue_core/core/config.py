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

    [backends.work]
    type = "gitea"
    url = "https://gitea.example.com"
    owner = "acme"
    repo = "widgets"
    token_env = "GITEA_API_TOKEN"   # the *name* of the variable; secrets are never stored

With no configuration at all the backend is ``local`` at ``<project root>/.issue-core/issues.db``.

Reading stays cheap on purpose, because every ``issue`` call reads configuration: paths are
handled with ``os.path`` (``pathlib`` pulls in ``urllib`` and ``ipaddress``, ~5 ms), ``tomllib``
is imported only when a file exists, and ``Path`` objects are made only at the edges that
return them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from issue_core.core.errors import ConfigError, NotFound, UsageError

if TYPE_CHECKING:
    from pathlib import Path


STORE_DIRNAME = ".issue-core"
DEFAULT_DB_RELPATH = ".issue-core/issues.db"
IMPLICIT_BACKEND = "local"
BACKEND_ENV = "ISSUE_CORE_BACKEND"
# Keys that would hold a secret. They are refused in config files: name an env var instead.
SECRET_KEYS = frozenset({"token", "password", "api_key", "secret", "private_token"})


# --------------------------------------------------------------------------- locations


def project_root_dir(start: str | os.PathLike[str] | None = None) -> str:
    """The enclosing git repository's top folder (walking up like git), else ``start``."""
    here = os.path.realpath(start if start is not None else os.getcwd())
    folder = here
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


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


# --------------------------------------------------------------------------- model


class BackendConfig:
    """One configured backend: its name, its type and its type-specific settings.

    ``source`` is ``user``, ``repo``, or ``implicit`` (the zero-config local store).
    """

    def __init__(
        self,
        name: str,
        type: str,
        settings: dict[str, Any] | None = None,
        source: str = "implicit",
    ) -> None:
        self.name = name
        self.type = type
        self.settings: dict[str, Any] = settings if settings is not None else {}
        self.source = source

    def __repr__(self) -> str:
        return f"BackendConfig({self.name!r}, {self.type!r}, source={self.source!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "source": self.source, **self.settings}


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
    def load(cls, cwd: str | os.PathLike[str] | None = None) -> Config:
        root = project_root_dir(cwd)
        return cls(
            root=root,
            user_file=read_toml(_user_config_file()),
            repo_file=read_toml(_repo_config_file(root)),
        )

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
        return merged

    def default_backend_name(self) -> str | None:
        for data in (self.repo_file, self.user_file):
            value = data.get("default_backend")
            if isinstance(value, str) and value:
                return value
        return None

    def identity(self) -> str:
        """Who acts on backends without accounts: $ISSUE_CORE_USER, config 'user', login."""
        env = os.environ.get("ISSUE_CORE_USER")
        if env:
            return env
        for data in (self.repo_file, self.user_file):
            value = data.get("user")
            if isinstance(value, str) and value:
                return value
        return login_name()

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
        return self.resolve_paths(backends[chosen])

    def resolve_paths(self, backend: BackendConfig) -> BackendConfig:
        """Relative local paths are relative to the project root, whichever file named them."""
        path = backend.settings.get("path")
        if backend.type == "local" and isinstance(path, str):
            expanded = os.path.expanduser(path)
            resolved = os.path.normpath(os.path.join(self.root_dir, expanded))
            settings = {**backend.settings, "path": resolved}
            return BackendConfig(backend.name, backend.type, settings, backend.source)
        return backend

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
