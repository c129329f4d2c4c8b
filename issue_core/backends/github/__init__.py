"""The GitHub backend. ``GitHubBackend`` is registered as type ``github`` in BUILTIN_BACKENDS."""

from issue_core.backends.github.backend import GitHubBackend

__all__ = ["GitHubBackend"]
