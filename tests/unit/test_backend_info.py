"""``BackendInfo``: what a failed check says is wrong travels typed, beside its words."""

from __future__ import annotations

from issue_core.core.interfaces import BackendInfo


def test_the_first_failed_check_says_what_failed():
    info = BackendInfo(type="x")
    info.check("server", True, "up")
    assert info.ok and info.failed is None and info.failed_check is None
    info.check("authentication", False, "server said no", "auth")
    info.check("repository", False, "skipped", "repository")
    assert not info.ok and info.failed == "auth"
    assert info.failed_check == ("authentication", "server said no", "auth")


def test_a_check_that_passes_again_no_longer_fails():
    info = BackendInfo(type="x")
    info.check("store", False, "damaged", "store")
    info.check("store", True, "fine")
    assert info.ok and info.failed is None and info.failure_of == {}


def test_a_failure_recorded_without_a_kind_is_the_server_s():
    # A backend that fills ``checks`` itself (or names no failure) reports an unreachable or
    # broken backend: the words "401 token" in its detail change nothing.
    info = BackendInfo(type="x", checks={"reach": (False, "401 token forbidden")})
    assert info.failed == "server"
    info.check("other", False, "credential login permission")
    assert info.failed_check == ("reach", "401 token forbidden", "server")


def test_the_json_shape_carries_no_new_field():
    info = BackendInfo(type="x")
    info.check("server", False, "down")
    assert set(info.to_dict()) == {
        "type",
        "name",
        "ok",
        "server_version",
        "user",
        "location",
        "rate_limit_remaining",
        "checks",
    }
    assert info.to_dict()["checks"] == {"server": {"ok": False, "detail": "down"}}
