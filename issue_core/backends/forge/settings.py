"""A forge backend's settings as the config table holds them: text, numbers and flags.

Values come from TOML, the environment or ``issue backend add`` flags, so a number may arrive as
``"15"`` and a flag as ``"yes"``; a value that cannot be read is a ``ConfigError`` naming the
backend type and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from issue_core.core.errors import ConfigError


def text_setting(config: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = config.get(key, default)
    if value is None:
        return None
    text = str(value).strip()
    return text or default


def number_setting(config: Mapping[str, Any], key: str, default: float, *, kind: str) -> float:
    value = config.get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{kind} setting {key!r} must be a number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{kind} setting {key!r} must not be negative")
    return number


def bool_setting(config: Mapping[str, Any], key: str, default: bool, *, kind: str) -> bool:
    value = config.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{kind} setting {key!r} must be true or false, not {value!r}")
