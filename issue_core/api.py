"""One-line entry points for Python callers."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from issue_core.core.config import Config
from issue_core.core.interfaces import IssueBackend
from issue_core.service import runtime

if TYPE_CHECKING:
    from issue_core.core.models import Issue, IssueFilter
    from issue_core.core.query import Query


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


def list_issues(
    backend: IssueBackend, filter: IssueFilter | None = None, *, query: Query | str | None = None
) -> list[Issue]:
    """The issues ``filter`` selects (default: those not closed) that also match ``query``
    (the query language of ``issue list -q``, as text or parsed), on any backend: one that
    cannot run a query gets what it can filter itself and the rest is matched here.
    ``@me`` is the identity ``backend`` acts as."""
    from issue_core.core.models import IssueFilter
    from issue_core.service import issues

    chosen = filter if filter is not None else IssueFilter()
    if query is not None:
        if isinstance(query, str):
            from issue_core.core.query import parse

            query = parse(query)
        chosen = chosen.with_query(query)
    return issues.list_issues(backend, chosen)
