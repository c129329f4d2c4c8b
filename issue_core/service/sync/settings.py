"""The ``[sync]`` section of the configuration (the repository's file wins over the user's)::

[sync]
bulk_threshold = 50        # a run creating/changing more issues on one side asks first
on_delete = "report"       # or "close": an issue deleted on one side closes its copy

[sync.users.alice]         # the users table (users.py)
work = "alice.smith"
"""

from __future__ import annotations

from typing import Any

from issue_core.core.config import Config
from issue_core.core.errors import ConfigError
from issue_core.service.sync.engine import DEFAULT_BULK_THRESHOLD
from issue_core.service.sync.users import UserMap

ON_DELETE = ("report", "close")


class SyncSettings:
    def __init__(self, bulk_threshold: int, on_delete: str, users: UserMap) -> None:
        self.bulk_threshold = bulk_threshold
        self.on_delete = on_delete
        self.users = users


def _section(config: Config) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for data in (config.user_file, config.repo_file):
        section = data.get("sync")
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ConfigError("[sync] in the configuration must be a table")
        for key, value in section.items():
            if key == "users" and isinstance(value, dict):
                merged.setdefault("users", {}).update(value)
            else:
                merged[key] = value
    return merged


def sync_settings(config: Config) -> SyncSettings:
    section = _section(config)
    threshold = section.get("bulk_threshold", DEFAULT_BULK_THRESHOLD)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
        raise ConfigError(f"[sync] bulk_threshold must be a whole number >= 0, not {threshold!r}")
    on_delete = section.get("on_delete", "report")
    if on_delete not in ON_DELETE:
        raise ConfigError(f'[sync] on_delete must be "report" or "close", not {on_delete!r}')
    return SyncSettings(threshold, on_delete, UserMap.from_config(section.get("users")))
