"""Opening backends: the one recipe every front end uses (CLI, Python API, server).

A configured backend is opened here and nowhere else, so the checks that guard opening (a
repository's untrusted backend is refused) and the acting identity handed to the backend are
decided in one place.

Who acts: an *agent* is named by ``--as NAME`` (``agent=``), else ``$ISSUE_CORE_AGENT``, else
``agent = "..."`` in the configuration (:func:`agent_name`). On the local store, which has no
accounts, the agent is the identity every write is attributed to; without one the identity is
``Config.identity()`` (``$ISSUE_CORE_USER``, ``user``, the login). A forge acts as its token's
user whatever the agent, and carries the agent's name beside it (comments, claims); the backend
gets both, as the ``identity`` and ``agent`` settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from issue_core.core.config import BackendConfig, Config
    from issue_core.core.interfaces import ConfigOption, IssueBackend

Created = Callable[["IssueBackend"], None]


AGENT_ENV = "ISSUE_CORE_AGENT"


def agent_name(config: Config, agent: str | None = None) -> str | None:
    """The named agent: ``agent`` (``--as``), else $ISSUE_CORE_AGENT, else config ``agent``;
    None when no agent is named (the backend's own user acts)."""
    import os

    from issue_core.core.config import checked_identity

    if agent:
        return checked_identity(agent, "--as (the acting agent)")
    env = os.environ.get(AGENT_ENV)
    if env:
        return checked_identity(env, f"${AGENT_ENV}")
    return config.agent()


def acting_identity(config: Config, agent: str | None = None) -> str:
    """Who acts on backends without accounts: ``agent`` when given, else the configured one."""
    if agent:
        from issue_core.core.config import checked_identity

        return checked_identity(agent, "the acting agent")
    return config.identity()


def connect(
    chosen: BackendConfig,
    identity: str,
    *,
    agent: str | None = None,
    created: Created | None = None,
) -> IssueBackend:
    """Connect the resolved backend ``chosen``, acting as ``identity`` (and as the named
    ``agent``, which forges carry beside their token's user).

    ``created`` sees the backend before it connects (so a caller can close a half-open one).
    """
    # The registry is imported here, not at module level: only a command that opens a
    # backend pays for it.
    from issue_core.backends import BackendFactory

    chosen.require_trusted()
    backend = BackendFactory.backend_class(chosen.type)()
    backend.agent = agent
    if created is not None:
        created(backend)
    backend.connect({**chosen.settings, "name": chosen.name, "identity": identity, "agent": agent})
    return backend


def open(
    config: Config,
    name: str | None = None,
    *,
    agent: str | None = None,
    created: Created | None = None,
) -> IssueBackend:
    """The backend ``name`` of ``config`` (``name`` > $ISSUE_CORE_BACKEND > default > the local
    store), connected and acting as the named agent (``agent``, $ISSUE_CORE_AGENT, config
    ``agent``) or the configured identity."""
    named = agent_name(config, agent)
    return connect(
        config.resolve(name), acting_identity(config, named), agent=named, created=created
    )


def config_options(type_name: str) -> tuple[ConfigOption, ...]:
    """The settings backend type ``type_name`` takes (``NotFound`` for an unknown type)."""
    from issue_core.backends import BackendFactory

    return tuple(BackendFactory.backend_class(type_name).config_options)
