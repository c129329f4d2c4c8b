"""One CLI invocation's view of configuration and the backend it talks to.

The backend is opened on first use (so ``--help`` and usage errors never touch a store) and
closed when the root Click context closes. When a write created the local store, the path is
announced once on stderr.
"""

from __future__ import annotations

from typing import Any

import click

from issue_core.core.config import BackendConfig, Config
from issue_core.core.errors import IssueCoreError
from issue_core.core.interfaces import IssueBackend

SESSION_KEY = "issue_core.session"


def warn(message: str) -> None:
    """Configuration warnings: one line each on stderr."""
    click.echo(f"issue-core: warning: {message}", err=True)


class Session:
    # A plain class, not a dataclass: each @dataclass costs ~0.5 ms of start-up.
    def __init__(
        self, backend_name: str | None = None, debug: bool = False, agent: str | None = None
    ) -> None:
        self.backend_name = backend_name
        self.agent = agent
        self.debug = debug
        self.announce_created_store = True
        self._config: Config | None = None
        self._backend: IssueBackend | None = None
        self._opened: list[IssueBackend] = []
        # Set when this call fell back to the zero-config local store (see forge_hint).
        self.local_by_default = False

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.load(warn=warn)
        return self._config

    def reload_config(self) -> Config:
        self._config = Config.load(warn=warn)
        return self._config

    def resolve(self, name: str | None = None) -> BackendConfig:
        return self.config.resolve(name or self.backend_name)

    def connect(self, chosen: BackendConfig) -> IssueBackend:
        """A connected backend for ``chosen`` (closed with the session)."""
        from issue_core.service import runtime

        agent = runtime.agent_name(self.config, self.agent)
        identity = runtime.acting_identity(self.config, agent)
        return runtime.connect(chosen, identity, agent=agent, created=self._opened.append)

    @property
    def backend(self) -> IssueBackend:
        """The backend this call uses: --backend > $ISSUE_CORE_BACKEND > default > local."""
        if self._backend is None:
            from issue_core.service import runtime

            self._backend = runtime.open(
                self.config, self.backend_name, agent=self.agent, created=self._opened.append
            )
            self.local_by_default = self._nothing_configured()
        return self._backend

    def _nothing_configured(self) -> bool:
        """No backend chosen anywhere and none in the repository's file: the implicit store."""
        import os

        from issue_core.core.config import BACKEND_ENV

        config = self.config
        return not (
            self.backend_name
            or os.environ.get(BACKEND_ENV)
            or config.default_backend_name()
            or config.repo_file.get("backends")
        )

    def _say_forge_hint(self) -> None:
        """Inside a git repository only (a folder without .git pays nothing, not even the
        import): the once-only note that its forge could be connected."""
        import os

        if not os.path.exists(os.path.join(self.config.root_dir, ".git")):
            return
        from issue_core.cli.forge_hint import say_once
        from issue_core.cli.output import note

        say_once(self.config, note)

    def close(self) -> None:
        if self.local_by_default:
            self.local_by_default = False
            self._say_forge_hint()
        for backend in self._opened:
            try:
                created = backend.created_store_path
            except IssueCoreError:  # it never connected: the connect error was reported
                created = None
            notices = backend.notices
            try:
                backend.close()
            finally:
                # The CLI's one note path: on stderr, made terminal-safe (a path can hold
                # any byte a folder name can, a repository name comes from the server).
                announce = bool(created and self.announce_created_store)
                if notices or announce:
                    from issue_core.cli.output import note

                    for text in notices:
                        note(f"issue-core: {text}")
                    if announce:
                        note(f"issue-core: created local store at {created}")
        self._opened.clear()


def get_session(ctx: click.Context | None = None) -> Session:
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    session = root.meta.get(SESSION_KEY)
    if session is None:
        obj: dict[str, Any] = root.obj if isinstance(root.obj, dict) else {}
        session = Session(
            backend_name=obj.get("backend_name"),
            debug=bool(obj.get("debug")),
            agent=obj.get("agent"),
        )
        root.meta[SESSION_KEY] = session
        root.call_on_close(session.close)
    assert isinstance(session, Session)
    return session


def backend() -> IssueBackend:
    return get_session().backend
