"""The one backend an MCP server works on, and who acts on it.

Opened through ``service.runtime`` on the first call that needs it, exactly as the CLI opens
it: the backend named by ``--backend`` (else the environment, the default, the local store),
acting as the agent the server was started as (``--as``, ``$ISSUE_CORE_AGENT``, config
``agent``). A backend that cannot be opened is that call's error; the next call tries again,
so a forge that was down when the server started is picked up when it is back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from issue_core.core.config import Config

if TYPE_CHECKING:
    from issue_core.core.interfaces import IssueBackend


class McpSession:
    def __init__(
        self,
        config: Config,
        backend_name: str | None = None,
        agent: str | None = None,
        agents: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.backend_name = backend_name
        self.agent = agent
        # The agents a call may act as with ``as`` (``--agents``); none: only ``agent``.
        self.agents = agents
        self._backend: IssueBackend | None = None
        self._opened: list[IssueBackend] = []
        self._others: dict[str, McpSession] = {}

    def acting_as(self, name: str | None) -> McpSession:
        """The session of the agent a call names with ``as`` (one of ``agents``), else this one."""
        if name is None:
            return self
        if name not in self.agents:
            from issue_core.core.errors import UsageError

            hint = (
                f"it may act as: {', '.join(self.agents)}"
                if self.agents
                else "start the server with --agents NAME,... to allow it"
            )
            raise UsageError(f"'as': this server does not act as {name!r}", hint=hint)
        other = self._others.get(name)
        if other is None:
            other = self._others[name] = McpSession(self.config, self.backend_name, name)
        return other

    @property
    def backend(self) -> IssueBackend:
        if self._backend is None:
            from issue_core.service import runtime

            try:
                self._backend = runtime.open(
                    self.config, self.backend_name, agent=self.agent, created=self._opened.append
                )
            except BaseException:
                self.close()  # a half-open backend is let go; the next call opens afresh
                raise
        return self._backend

    def is_local(self) -> bool:
        """Whether the chosen backend is the local store (no world beyond this machine)."""
        return self.config.resolve(self.backend_name).type == "local"

    def close(self) -> None:
        for other in self._others.values():
            other.close()
        for backend in self._opened:
            backend.close()
        self._opened.clear()
        self._backend = None
