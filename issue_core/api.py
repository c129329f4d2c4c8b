"""One-line entry points for Python callers."""

from __future__ import annotations

import os

from issue_core.core.config import Config
from issue_core.core.interfaces import IssueBackend
from issue_core.service import runtime


def open_backend(
    name: str | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    agent: str | None = None,
) -> IssueBackend:
    """Open a configured backend, connected and ready.

    ``name`` picks a configured backend; without it the choice is ``$ISSUE_CORE_BACKEND``,
    then the configured default, then the local store at ``.issue-core/issues.db`` in the
    enclosing git repository (or the current folder).

    A backend named by the repository's own config (other than a store inside it) is opened
    only once the user has trusted it (``issue backend trust NAME``); until then this raises
    ``AuthError``.

    ``agent`` names who acts instead of the configured identity (``$ISSUE_CORE_USER``, config
    ``user``, login) on backends without accounts, such as the local store; a forge acts as
    its token's owner.
    """
    return runtime.open(Config.load(cwd), name, agent=agent)
