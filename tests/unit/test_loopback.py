"""``is_loopback``, the one test of "this machine only": for a backend URL allowed plain
http, and for the address of a server without authentication (``issue serve``, ``issue
mcp --transport http``)."""

from __future__ import annotations

import pytest

from issue_core.core.config_checks import is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("0:0:0:0:0:0:0:1", True),
        ("localhost", True),
        ("LocalHost", True),
        ("api.localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("128.0.0.1", False),
        ("127.1", False),
        ("::", False),
        ("", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
