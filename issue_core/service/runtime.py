"""Opening backends: the one recipe every front end uses (CLI, Python API, server).

A configured backend is opened here and nowhere else, so the checks that guard opening (a
repository's untrusted backend is refused) and the acting identity handed to the backend are
decided in one place. ``agent`` names who acts when it is not the configured identity (the
coordination issue's ``--as NAME``); without it the identity is ``Config.identity()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from issue_core.core.config import BackendConfig, Config
    from issue_core.core.interfaces import ConfigOption, IssueBackend

Created = Callable[["IssueBackend"], None]


def acting_identity(config: Config, agent: str | None = None) -> str:
    """Who acts on backends without accounts: ``agent`` when given, else the configured one."""
    if agent:
        from issue_core.core.config import checked_identity

        return checked_identity(agent, "the acting agent")
    return config.identity()


def connect(
    chosen: BackendConfig, identity: str, *, created: Created | None = None
) -> IssueBackend:
    """Connect the resolved backend ``chosen``, acting as ``identity``.

    ``created`` sees the backend before it connects (so a caller can close a half-open one).
    """
    # The registry is imported here, not at module level: only a command that opens a
    # backend pays for it.
    from issue_core.backends import BackendFactory

    chosen.require_trusted()
    backend = BackendFactory.backend_class(chosen.type)()
    if created is not None:
        created(backend)
    backend.connect({**chosen.settings, "name": chosen.name, "identity": identity})
    return backend


def open(
    config: Config,
    name: str | None = None,
    *,
    agent: str | None = None,
    created: Created | None = None,
) -> IssueBackend:
    """The backend ``name`` of ``config`` (``name`` > $ISSUE_CORE_BACKEND > default > the local
    store), connected and acting as ``agent`` or the configured identity."""
    return connect(config.resolve(name), acting_identity(config, agent), created=created)


def config_options(type_name: str) -> tuple[ConfigOption, ...]:
    """The settings backend type ``type_name`` takes (``NotFound`` for an unknown type)."""
    from issue_core.backends import BackendFactory

    return tuple(BackendFactory.backend_class(type_name).config_options)
