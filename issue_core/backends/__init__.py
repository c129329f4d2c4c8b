"""Backend discovery.

Built-in backends are registered here by module path and imported only when used, so that the
CLI never pays for an HTTP client it does not need. Third-party backends register a class under
the ``issue_core.backends`` entry-point group; entry points are consulted only for a type that
is not built in, because scanning installed distributions costs start-up time.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from issue_core.core.errors import NotFound
from issue_core.core.interfaces import IssueBackend

ENTRY_POINT_GROUP = "issue_core.backends"

BUILTIN_BACKENDS: dict[str, str] = {
    "local": "issue_core.backends.local:LocalBackend",
    "gitea": "issue_core.backends.gitea:GiteaBackend",
    "github": "issue_core.backends.github:GitHubBackend",
    "gitlab": "issue_core.backends.gitlab:GitLabBackend",
}


def _load(target: str) -> type[IssueBackend]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, attr)
    if not (isinstance(cls, type) and issubclass(cls, IssueBackend)):
        raise TypeError(f"{target} is not an IssueBackend")
    return cls


class BackendFactory:
    """Find backend classes by type name. (Configured backends are opened by
    ``issue_core.service.runtime``, the one place that checks trust and passes the identity.)"""

    @staticmethod
    def _entry_points() -> dict[str, Any]:
        from importlib.metadata import entry_points

        return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}

    @classmethod
    def available_types(cls) -> list[str]:
        names = set()
        for name, target in BUILTIN_BACKENDS.items():
            try:
                _load(target)
            except ImportError:
                continue
            names.add(name)
        names.update(cls._entry_points())
        return sorted(names)

    @classmethod
    def backend_class(cls, type_name: str) -> type[IssueBackend]:
        target = BUILTIN_BACKENDS.get(type_name)
        if target is not None:
            try:
                return _load(target)
            except ImportError:
                pass
        entry = cls._entry_points().get(type_name)
        if entry is None:
            raise NotFound(
                f"unknown backend type {type_name!r}",
                hint=f"available: {', '.join(cls.available_types())}",
            )
        loaded = entry.load()
        if not (isinstance(loaded, type) and issubclass(loaded, IssueBackend)):
            raise NotFound(f"entry point {type_name!r} does not name an IssueBackend class")
        return loaded

    @classmethod
    def create(cls, type_name: str, config: Mapping[str, Any]) -> IssueBackend:
        backend = cls.backend_class(type_name)()
        backend.connect(config)
        return backend


__all__ = ["BUILTIN_BACKENDS", "BackendFactory"]
