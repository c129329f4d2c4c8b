"""issue-core: one issue tracker interface for coding agents and humans.

The public Python API::

    from issue_core import open_backend, IssueFilter, IssueState

    backend = open_backend()              # the configured default (local SQLite when unconfigured)
    for issue in backend.list_issues(IssueFilter(state="open", labels=["bug"])):
        issue.state = IssueState.CLOSED
        backend.update_issue(issue)

The typed errors (``NotFound``, ``Conflict``, ``ValidationError`` ...) are exported here too,
so ``except issue_core.Conflict`` needs no deeper import. Names are resolved lazily so that
``import issue_core`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from issue_core._version import __version__

if TYPE_CHECKING:
    from issue_core.api import open_backend
    from issue_core.core.errors import (
        AuthError,
        BackendUnavailable,
        ClaimConflict,
        ConfigError,
        Conflict,
        IncompatibleStore,
        IssueCoreError,
        NotAStore,
        NotFound,
        PermissionDenied,
        RateLimited,
        StoreError,
        StoreFull,
        StoreReadOnly,
        Unsupported,
        UsageError,
        ValidationError,
    )
    from issue_core.core.models import (
        CloseReason,
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
    "AuthError": "issue_core.core.errors",
    "BackendUnavailable": "issue_core.core.errors",
    "ClaimConflict": "issue_core.core.errors",
    "ConfigError": "issue_core.core.errors",
    "Conflict": "issue_core.core.errors",
    "IncompatibleStore": "issue_core.core.errors",
    "IssueCoreError": "issue_core.core.errors",
    "NotAStore": "issue_core.core.errors",
    "NotFound": "issue_core.core.errors",
    "PermissionDenied": "issue_core.core.errors",
    "RateLimited": "issue_core.core.errors",
    "StoreError": "issue_core.core.errors",
    "StoreFull": "issue_core.core.errors",
    "StoreReadOnly": "issue_core.core.errors",
    "Unsupported": "issue_core.core.errors",
    "UsageError": "issue_core.core.errors",
    "ValidationError": "issue_core.core.errors",
    "CloseReason": "issue_core.core.models",
    "Comment": "issue_core.core.models",
    "Issue": "issue_core.core.models",
    "IssueFilter": "issue_core.core.models",
    "IssueState": "issue_core.core.models",
    "Label": "issue_core.core.models",
    "Milestone": "issue_core.core.models",
    "User": "issue_core.core.models",
}

__all__ = [
    "AuthError",
    "BackendUnavailable",
    "ClaimConflict",
    "CloseReason",
    "Comment",
    "ConfigError",
    "Conflict",
    "IncompatibleStore",
    "Issue",
    "IssueCoreError",
    "IssueFilter",
    "IssueState",
    "Label",
    "Milestone",
    "NotAStore",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "StoreError",
    "StoreFull",
    "StoreReadOnly",
    "Unsupported",
    "UsageError",
    "User",
    "ValidationError",
    "__version__",
    "open_backend",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'issue_core' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
