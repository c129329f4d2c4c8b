"""API keys: parsed from ``ISSUE_CORE_API_KEY``, compared in constant time, never shown.

Several comma-separated keys may be active at once, so a key can be rotated without downtime
(add the new key, move clients, drop the old one). A key is identified in logs and in the
traceability metadata only by its *fingerprint*: the first 8 hex digits of its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from issue_core.core.errors import ConfigError

API_KEY_ENV = "ISSUE_CORE_API_KEY"
MIN_KEY_LENGTH = 16


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class ApiKeys:
    """The accepted keys (as bytes, for ``hmac.compare_digest``). Empty means auth is off."""

    keys: tuple[bytes, ...]

    @classmethod
    def parse(cls, raw: str | None) -> ApiKeys:
        parts = [part.strip() for part in (raw or "").split(",")]
        keys = [part for part in parts if part]
        for key in keys:
            if len(key) < MIN_KEY_LENGTH:
                raise ConfigError(
                    f"an API key in {API_KEY_ENV} (fingerprint {fingerprint(key)}) is shorter"
                    f" than {MIN_KEY_LENGTH} characters",
                    hint="generate one: python -c 'import secrets; print(secrets.token_hex(32))'",
                )
        return cls(tuple(key.encode("utf-8") for key in keys))

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def match(self, presented: str | None) -> str | None:
        """The fingerprint of the matching key, or ``None``.

        Every configured key is compared (no early exit), each in constant time, so neither
        which key matched nor how much of it matched leaks through timing.
        """
        if not presented:
            return None
        candidate = presented.encode("utf-8", "surrogateescape")
        matched: bytes | None = None
        for key in self.keys:
            if hmac.compare_digest(candidate, key):
                matched = key
        return fingerprint(matched.decode("utf-8")) if matched is not None else None

    @property
    def fingerprints(self) -> list[str]:
        return [fingerprint(key.decode("utf-8")) for key in self.keys]


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request carries: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if x_api_key:
        return x_api_key.strip()
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
