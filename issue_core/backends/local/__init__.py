"""The embedded local SQLite backend (the zero-configuration default).

Kept under the name ``local`` (not renamed ``store/``): it is the one SQL store so far, its name
is in users' configs (``type = "local"``) and the entry point, and the SQL engine it would share
with a PostgreSQL store already lives apart in ``issue_core.storage``. A second engine's store
is the moment to lift the repositories out, not before.
"""

from issue_core.backends.local.backend import LocalBackend

__all__ = ["LocalBackend"]
