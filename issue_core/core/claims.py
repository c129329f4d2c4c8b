"""Claims with leases, the backend-neutral part: the lease's record and durations.

A claim gives one agent an issue for a while: ``issue claim N --ttl 2h``. The lease runs out
unless the holder renews it (``issue heartbeat N``); after that the issue is claimable again.
How each backend makes a claim atomic is its own (local: one conditional write in one
transaction; forges: see AGENT_INTEGRATION.md, "Claims").
"""

from __future__ import annotations

import re
from typing import Any

from issue_core.core.errors import ValidationError

DEFAULT_TTL_S = 2 * 60 * 60  # long enough for real work; configurable: [claims] ttl = "4h"
MAX_TTL_S = 366 * 24 * 60 * 60
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"(?:\d+[smhd])+")


def parse_duration(text: object, what: str = "--ttl") -> int:
    """Seconds of a duration: ``90s``, ``30m``, ``2h``, ``1d``, ``1h30m`` or plain seconds.

    Zero, negative, unparseable or over a year is a ``ValidationError`` naming ``what``."""
    raw = str(text).strip().lower()
    seconds: int | None = None
    if raw.isascii() and raw.isdigit():
        seconds = int(raw)
    elif _WHOLE.fullmatch(raw):
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(raw))
    if seconds is None or seconds <= 0 or seconds > MAX_TTL_S:
        raise ValidationError(
            f"{what} {text!r} is not a duration from 1s to 366d",
            hint="e.g. 90s, 30m, 2h, 1d or 1h30m",
        )
    return seconds


class Claim:
    """A live lease: who holds issue ``number`` until when (UTC text)."""

    __slots__ = ("claimed_at", "expires_at", "extended", "holder", "number")

    def __init__(
        self, number: int, holder: str, claimed_at: str, expires_at: str, extended: bool = False
    ) -> None:
        self.number = number
        self.holder = holder
        self.claimed_at = claimed_at
        self.expires_at = expires_at
        self.extended = extended

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "holder": self.holder,
            "claimed_at": self.claimed_at,
            "expires_at": self.expires_at,
            "extended": self.extended,
        }

    def __repr__(self) -> str:
        return f"Claim({self.to_dict()!r})"


CLAIM_FIELDS = tuple(Claim(0, "x", "x", "x").to_dict())
