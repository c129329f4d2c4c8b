"""The GitLab backend. ``GitLabBackend`` is registered as type ``gitlab`` in BUILTIN_BACKENDS."""

from issue_core.backends.gitlab.backend import GitLabBackend

__all__ = ["GitLabBackend"]
