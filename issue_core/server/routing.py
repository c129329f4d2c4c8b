"""Which configured backend a task goes to: ``backend``, else its ``target_repo``, else the default.

A task naming ``target_repo`` is routed, in order, by

1. the server's route table (``[server.routes]`` in config.toml, ``issue serve --route``):
   repository name (or ``owner/repo``) -> configured backend;
2. the one configured backend whose ``repo`` (or ``owner/repo``) is that name, without a map;
3. the table's default route ``"*"``, when it has one.

Without a route table an unmatched ``target_repo`` goes to the server's default backend (it is
still recorded on the issue). Once routes are configured it is refused (422 naming the known
repositories): a task meant for a repository this server does not serve must not land silently
in another one. The table is checked once, at start: a route naming a backend that is not
configured stops the server with one line.

Names compare case-insensitively (forges treat repository names so). Everything is resolved
into one dict when the server starts, so routing a task is a single lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issue_core.core.errors import ConfigError, ValidationError

DEFAULT_ROUTE = "*"


class UnknownTargetRepo(ValidationError):
    """A ``target_repo`` no route, repository or default route covers (answered 422)."""

    code = "unknown_target_repo"


def parse_route(text: str) -> tuple[str, str]:
    """``REPO=BACKEND`` (``issue serve --route``) -> ``(repo, backend)``."""
    repo, sep, backend = text.partition("=")
    repo, backend = repo.strip(), backend.strip()
    if not sep or not repo or not backend:
        raise ConfigError(
            f"--route {text!r} is not REPO=BACKEND",
            hint="e.g. --route activity-core=gitea-prod, or --route '*=main' for the default route",
        )
    return repo, backend


class Router:
    """The route table of one server, resolved against its configured backends."""

    def __init__(
        self,
        routes: Mapping[str, str],
        backends: Mapping[str, Any],
        default_backend: str,
    ) -> None:
        self.default_backend = default_backend
        self.configured = bool(routes)
        known = ", ".join(sorted(backends))
        explicit: dict[str, str] = {}
        for repo, backend in routes.items():
            if not repo.strip():
                raise ConfigError(f"route {repo!r} -> {backend!r}: the repository name is empty")
            if backend not in backends:
                raise ConfigError(
                    f"route {repo!r} -> {backend!r}: no backend named {backend!r} is"
                    f" configured (configured: {known})",
                    hint="fix [server.routes] in config.toml or the --route option",
                )
            explicit[repo.strip().lower()] = backend
        self.fallback: str | None = explicit.pop(DEFAULT_ROUTE, None)
        # A backend is found by its repository without a map, unless two share the name.
        implicit: dict[str, set[str]] = {}
        for name, backend in backends.items():
            for repo in _repository_names(backend.settings):
                implicit.setdefault(repo, set()).add(name)
        self.table: dict[str, str] = {
            repo: next(iter(names)) for repo, names in implicit.items() if len(names) == 1
        }
        self.table.update(explicit)  # the map wins over a repository match
        # Every backend a route can send a task to (``issue serve`` checks them at start).
        routed = set(explicit.values())
        if self.fallback is not None:
            routed.add(self.fallback)
        self.routed_backends = sorted(routed)

    def known_repositories(self) -> list[str]:
        return sorted(self.table)

    def backend_for(self, target_repo: str | None) -> str:
        """The backend for a task naming ``target_repo`` (``None``: the default backend)."""
        if target_repo is None:
            return self.default_backend
        found = self.table.get(target_repo.strip().lower())
        if found is not None:
            return found
        if self.fallback is not None:
            return self.fallback
        if not self.configured:
            return self.default_backend
        known = ", ".join(self.known_repositories())
        raise UnknownTargetRepo(
            f"target_repo {target_repo!r} is not served here (known: {known})",
            hint="send one of the known repositories; the server's operator adds routes",
        )


def _repository_names(settings: Mapping[str, Any]) -> set[str]:
    repo, owner = settings.get("repo"), settings.get("owner")
    if not isinstance(repo, str) or not repo:
        return set()
    names = {repo.lower()}
    if isinstance(owner, str) and owner:
        names.add(f"{owner}/{repo}".lower())
    return names
