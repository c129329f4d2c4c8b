"""API keys, loopback detection and size parsing (no web framework needed)."""

from __future__ import annotations

import hashlib

import pytest

from issue_core.core.errors import ConfigError, UsageError
from issue_core.server.auth import AMBIGUOUS, ApiKeys, fingerprint, presented_key
from issue_core.server.settings import parse_size

A = "a" * 16 + "-first-key"
B = "b" * 16 + "-second-key"


def test_every_configured_key_is_accepted_and_identified_by_fingerprint() -> None:
    keys = ApiKeys.parse(f" {A} , {B},,")
    assert keys.enabled
    assert keys.match(A) == fingerprint(A) == hashlib.sha256(A.encode()).hexdigest()[:8]
    assert keys.match(B) == fingerprint(B)
    assert keys.fingerprints == [fingerprint(A), fingerprint(B)]
    for wrong in (None, "", A[:-1], A + "x", A.upper(), "é" * 20):
        assert keys.match(wrong) is None


def test_no_key_means_auth_is_off_and_short_keys_are_refused_unechoed() -> None:
    assert not ApiKeys.parse(None).enabled
    assert not ApiKeys.parse(" , ").enabled
    with pytest.raises(ConfigError) as caught:
        ApiKeys.parse(f"{A},tooshort")
    assert "tooshort" not in caught.value.one_line()
    assert fingerprint("tooshort") in caught.value.one_line()


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "expected"),
    [
        ("Bearer abc", None, "abc"),
        ("bearer   abc  ", None, "abc"),
        ("Basic abc", None, None),
        ("Bearer ", "k", "k"),
        (None, " k ", "k"),
        (None, None, None),
        ("Bearer abc", "abc", "abc"),
        ("Bearer abc", "xyz", AMBIGUOUS),
        (["Bearer abc", "Bearer abc"], None, AMBIGUOUS),
        (None, ["abc", "xyz"], AMBIGUOUS),
    ],
)
def test_presented_key(
    authorization: str | list[str] | None,
    x_api_key: str | list[str] | None,
    expected: str | None,
) -> None:
    headers: list[tuple[bytes, bytes]] = []
    for name, values in ((b"authorization", authorization), (b"x-api-key", x_api_key)):
        for value in [values] if isinstance(values, str) else values or []:
            headers.append((name, value.encode("latin-1")))
    assert presented_key(headers) == expected


@pytest.mark.parametrize("raw", [f"{A},kéy-with-accent-123456", f"\u00a0{A}", f"{A}\u3000"])
def test_non_ascii_keys_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ApiKeys.parse(raw)
    assert "non-ASCII" in caught.value.one_line()


def test_sizes() -> None:
    assert parse_size("1048576") == 1048576
    assert parse_size("512k") == 512 * 1024
    assert parse_size("2m") == 2 * 1024 * 1024
    assert parse_size("1MiB") == 1024 * 1024
    for bad in ("", "0", "-1", "lots", "1g"):
        with pytest.raises(UsageError):
            parse_size(bad)
