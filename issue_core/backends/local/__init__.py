"""The embedded local SQLite backend (the zero-configuration default)."""

from issue_core.backends.local.backend import LocalBackend

__all__ = ["LocalBackend"]
