"""Keep secrets out of everything the HTTP layer says: logs, errors, exception text.

Two nets: the exact secret values the client knows (its token), and patterns that look like
credentials whatever their value (``Authorization`` headers, ``token=`` query parameters), so a
secret passed in some other way is still masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"

# Header names whose values are credentials (compared lower-case).
SECRET_HEADERS = frozenset(
    {"authorization", "private-token", "job-token", "cookie", "set-cookie", "sudo", "x-gitea-otp"}
)

_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:access_token|token|private_token|api_key|apikey|key|sudo|password)=)[^&#\s;]+"
)
_HEADER_SECRET = re.compile(
    r"(?i)\b(authorization|private-token|job-token)(\s*[:=]\s*)"
    r"(?:(bearer|token|basic)\s+)?[^\s,;'\"]+"
)
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@")


class Redactor:
    """Masks known secret values and credential-shaped text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Very short values would mask ordinary words; real tokens are long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def text(self, value: object) -> str:
        text = str(value)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
        text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)

        def _header(match: re.Match[str]) -> str:
            scheme = f"{match.group(3)} " if match.group(3) else ""
            return f"{match.group(1)}{match.group(2)}{scheme}{MASK}"

        return _HEADER_SECRET.sub(_header, text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: (MASK if name.lower() in SECRET_HEADERS else self.text(value))
            for name, value in headers.items()
        }


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and cut long server messages so an error stays one readable line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
