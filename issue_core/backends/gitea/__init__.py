"""The Gitea backend. ``GiteaBackend`` is registered as type ``gitea`` in BUILTIN_BACKENDS."""

from issue_core.backends.gitea.backend import GiteaBackend

__all__ = ["GiteaBackend"]
