"""issue-core: one issue tracker interface for coding agents and humans.

The public Python API::

    from issue_core import open_backend, IssueFilter, IssueState

    backend = open_backend()              # the configured default (local SQLite when unconfigured)
    for issue in backend.list_issues(IssueFilter(state="open", labels=["bug"])):
        issue.state = IssueState.CLOSED
        backend.update_issue(issue)

Names are resolved lazily so that ``import issue_core`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from issue_core.api import open_backend
    from issue_core.core.errors import IssueCoreError
    from issue_core.core.models import (
        Comment,
        Issue,
        IssueFilter,
        IssueState,
        Label,
        Milestone,
        User,
    )

_LAZY = {
    "open_backend": "issue_core.api",
    "IssueCoreError": "issue_core.core.errors",
    "Comment": "issue_core.core.models",
    "Issue": "issue_core.core.models",
    "IssueFilter": "issue_core.core.models",
    "IssueState": "issue_core.core.models",
    "Label": "issue_core.core.models",
    "Milestone": "issue_core.core.models",
    "User": "issue_core.core.models",
}

__all__ = [
    "Comment",
    "Issue",
    "IssueCoreError",
    "IssueFilter",
    "IssueState",
    "Label",
    "Milestone",
    "User",
    "__version__",
    "open_backend",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'issue_core' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
