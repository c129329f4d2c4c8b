"""API keys: parsed from ``ISSUE_CORE_API_KEY``, compared in constant time, never shown.

Several comma-separated keys may be active at once, so a key can be rotated without downtime
(add the new key, move clients, drop the old one). A key is identified in logs and in the
traceability metadata only by its *fingerprint*: the first 8 hex digits of its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
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
        parts = (raw or "").split(",")
        for part in parts:
            if not part.isascii():
                # Headers are latin-1: such a key could never match, and non-ASCII space around
                # a key (which str.strip would remove) hides a typo. Refuse rather than guess.
                raise ConfigError(
                    f"an API key in {API_KEY_ENV} has a non-ASCII character",
                    hint="keys must be printable ASCII: python -c 'import secrets;"
                    " print(secrets.token_hex(32))'",
                )
        keys = [part.strip() for part in parts if part.strip()]
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


AMBIGUOUS = "ambiguous"


def presented_key(raw_headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key a request carries: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

    ``AMBIGUOUS`` when a key header appears twice, or both carry different keys: which one
    "wins" must never depend on the order they are checked in (a proxy may check the other).
    """
    authorizations = [v for n, v in raw_headers if n == b"authorization"]
    api_keys = [v for n, v in raw_headers if n == b"x-api-key"]
    if len(authorizations) > 1 or len(api_keys) > 1:
        return AMBIGUOUS
    from_bearer = _bearer(authorizations[0].decode("latin-1")) if authorizations else None
    from_header = api_keys[0].decode("latin-1").strip() or None if api_keys else None
    if from_bearer and from_header and from_bearer != from_header:
        return AMBIGUOUS
    return from_bearer or from_header


def _bearer(authorization: str) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None
