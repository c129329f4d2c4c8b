"""Asking a server which forge it is: Gitea/Forgejo, GitLab or GitHub Enterprise Server.

Used by ``issue config detect`` for a host it does not know. Each forge answers one path that
the others do not: Gitea ``GET /api/v1/version`` (``{"version": ...}``; Forgejo too), GitLab
``GET /api/v4/version`` (``{"version", "revision"}``, or its JSON 401 when the instance wants a
token for it), GitHub Enterprise Server ``GET /api/v3/meta``
(``verifiable_password_authentication``, ``installed_version``). They are asked in that order,
one at a time, so a Gitea is only ever asked Gitea's question.

The host is not trusted yet: no token is sent (whatever variables are set) and no other
credentials (no ``.netrc``, no auth of any kind), redirects are not followed (a redirect could
lead anywhere), and timeouts are short. Proxy and CA variables (``HTTPS_PROXY``,
``SSL_CERT_FILE``) are honoured as httpx honours them for the backends. A host that cannot be
reached is ``BackendUnavailable`` (exit 6) at the first failure, so the wait is one timeout.
"""

from __future__ import annotations

from typing import Any

import httpx

from issue_core._version import __version__
from issue_core.core.errors import BackendUnavailable, NotFound

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0


class ForgeKind:
    """What a server said it is: the backend type and the version it gave, if any."""

    __slots__ = ("type", "version")

    def __init__(self, type: str, version: str | None = None) -> None:
        self.type = type
        self.version = version

    def __repr__(self) -> str:
        return f"ForgeKind({self.type!r}, {self.version!r})"


def _json(response: httpx.Response) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _gitea(response: httpx.Response) -> ForgeKind | None:
    data = _json(response)
    if response.status_code == 200 and isinstance(data, dict):
        version = data.get("version")
        if isinstance(version, str) and "revision" not in data:
            return ForgeKind("gitea", version)
    return None


def _gitlab(response: httpx.Response) -> ForgeKind | None:
    data = _json(response)
    if not isinstance(data, dict):
        return None
    if response.status_code == 200 and isinstance(data.get("version"), str) and "revision" in data:
        return ForgeKind("gitlab", data["version"])
    # GitLab asks for a token on /version; its 401 body is its own.
    if response.status_code == 401 and data.get("message") == "401 Unauthorized":
        return ForgeKind("gitlab")
    return None


def _github(response: httpx.Response) -> ForgeKind | None:
    data = _json(response)
    if response.status_code != 200 or not isinstance(data, dict):
        return None
    if "verifiable_password_authentication" in data or "installed_version" in data:
        version = data.get("installed_version")
        return ForgeKind("github", version if isinstance(version, str) else None)
    return None


PROBES = (("/api/v1/version", _gitea), ("/api/v4/version", _gitlab), ("/api/v3/meta", _github))


def probe(base_url: str, *, transport: httpx.BaseTransport | None = None) -> ForgeKind:
    """Which forge answers at ``base_url`` (``https://host[:port]``, no credentials in it).

    ``NotFound`` (exit 3) when it answers as none of them; ``BackendUnavailable`` (exit 6)
    when it cannot be reached.
    """
    base = base_url.rstrip("/")
    with httpx.Client(
        timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
        follow_redirects=False,
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": f"issue-core/{__version__}"},
    ) as client:
        for path, recognise in PROBES:
            try:
                response = client.get(base + path)
            except httpx.TimeoutException:
                raise BackendUnavailable(
                    f"{base} did not answer within {CONNECT_TIMEOUT:g}-{READ_TIMEOUT:g} s, so "
                    "which forge it is could not be learnt",
                    hint="name the type yourself: issue backend add NAME TYPE --url URL",
                ) from None
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
                raise BackendUnavailable(
                    f"could not reach {base} to learn which forge it is ({reason})",
                    hint="name the type yourself: issue backend add NAME TYPE --url URL",
                ) from None
            found = recognise(response)
            if found is not None:
                return found
    raise NotFound(
        f"{base} answers, but not as Gitea, Forgejo, GitLab or GitHub Enterprise: "
        "it is not a forge issue-core knows",
        hint="the local store keeps working; for a forge at another address: "
        "issue backend add NAME TYPE --url URL",
    )
