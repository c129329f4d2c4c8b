"""The forge-generic parts moved out of the Gitea backend, tested directly: settings, the
change-feed cursor, the pending-create tokens and the per-server settings cache."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from issue_core.backends.forge import pending, settings_cache
from issue_core.backends.forge.feed import FeedPosition, change_order, fingerprint
from issue_core.backends.forge.settings import bool_setting, number_setting, text_setting
from issue_core.core.errors import ConfigError, ValidationError
from issue_core.core.models import Issue

T0 = datetime(2026, 12, 3, 8, 0, 0, 250_000, tzinfo=UTC)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path))
    return tmp_path


# --------------------------------------------------------------------------- settings


def test_text_settings_are_stripped_and_blank_means_the_default():
    assert text_setting({"url": "  https://x  "}, "url") == "https://x"
    assert text_setting({"url": "   "}, "url", "d") == "d"
    assert text_setting({}, "url") is None
    assert text_setting({"n": 3}, "n") == "3"


def test_number_settings_read_text_and_refuse_nonsense_naming_the_backend():
    assert number_setting({"timeout": "2.5"}, "timeout", 15.0, kind="gitea") == 2.5
    assert number_setting({"timeout": ""}, "timeout", 15.0, kind="gitea") == 15.0
    with pytest.raises(ConfigError, match="github setting 'timeout' must be a number"):
        number_setting({"timeout": "soon"}, "timeout", 15.0, kind="github")
    with pytest.raises(ConfigError, match="gitea setting 'timeout' must not be negative"):
        number_setting({"timeout": -1}, "timeout", 15.0, kind="gitea")


def test_bool_settings_take_the_usual_spellings():
    for text, value in (("yes", True), ("ON", True), ("0", False), ("off", False)):
        assert bool_setting({"verify_tls": text}, "verify_tls", not value, kind="x") is value
    assert bool_setting({"verify_tls": False}, "verify_tls", True, kind="x") is False
    assert bool_setting({}, "verify_tls", True, kind="x") is True
    with pytest.raises(ConfigError, match="gitlab setting 'verify_tls' must be true or false"):
        bool_setting({"verify_tls": "maybe"}, "verify_tls", True, kind="gitlab")


# --------------------------------------------------------------------------- change feed


def _issue(ident: str, updated: datetime, title: str = "t") -> Issue:
    return Issue(title=title, id=ident, number=int(ident), updated_at=updated)


def test_the_cursor_round_trips_through_its_text_form():
    position = FeedPosition().after(_issue("7", T0)).after(_issue("9", T0))
    text = position.format()
    assert text.startswith("2026-12-03T08:00:00") and "|7:" in text and ",9:" in text
    assert FeedPosition.parse(text, kind="gitea") == position
    assert FeedPosition.parse(None, kind="gitea") == FeedPosition()


def test_a_change_within_the_cursors_second_is_new_only_when_the_issue_differs():
    seen = _issue("7", T0)
    position = FeedPosition().after(seen)
    assert not position.is_new(seen)
    assert position.is_new(_issue("7", T0, title="edited in the same second"))
    assert position.is_new(_issue("8", T0))
    assert position.is_new(_issue("7", T0.replace(second=1)))
    assert not position.is_new(_issue("7", T0.replace(minute=0, hour=7)))
    moved = position.after(_issue("7", T0.replace(second=5)))
    assert moved.seen == (("7", fingerprint(_issue("7", T0.replace(second=5)))),)


def test_the_feed_order_is_by_second_then_id():
    later = _issue("2", T0.replace(second=3))
    same_second = [_issue("9", T0), _issue("3", T0.replace(microsecond=900_000))]
    assert sorted([later, *same_second], key=change_order) == [
        same_second[1],
        same_second[0],
        later,
    ]


def test_a_foreign_cursor_is_refused_naming_the_backend():
    with pytest.raises(ValidationError, match="invalid gitea change cursor 'not-a-time'"):
        FeedPosition.parse("not-a-time", kind="gitea")


# --------------------------------------------------------------------------- pending creates


def test_a_lost_create_is_remembered_per_backend_type_until_resolved(cache):
    key = pending.request_key("https://h/api/v1 o/r", {"title": "x"})
    assert key == pending.request_key("https://h/api/v1 o/r", {"title": "x"})
    assert key != pending.request_key("https://h/api/v1 o/other", {"title": "x"})
    assert pending.load("gitea", key) is None
    pending.remember("gitea", key, "tok", 1000.0)
    assert pending.load("gitea", key, now=1000.0 + 60) == ("tok", 1000.0)
    assert pending.load("github", key, now=1060.0) is None  # another forge's folder
    assert pending.load("gitea", key, now=1000.0 + pending.PENDING_TTL_SECONDS + 1) is None
    assert (cache / "gitea-pending" / f"{key}.json").exists()
    pending.forget("gitea", key)
    assert pending.load("gitea", key, now=1060.0) is None
    pending.forget("gitea", key)  # twice is harmless


# --------------------------------------------------------------------------- settings cache


def test_server_numbers_are_remembered_a_day_per_backend_type_and_server(cache):
    base = "https://gitea.example/api/v1"
    assert settings_cache.load_number("gitea", base, "max_response_items") is None
    settings_cache.store_number("gitea", base, "max_response_items", 50, now=1000.0)
    assert settings_cache.load_number("gitea", base, "max_response_items", now=1001.0) == 50
    assert settings_cache.load_number("gitea", base + "/", "max_response_items", now=1001) is None
    assert settings_cache.load_number("gitlab", base, "max_response_items", now=1001) is None
    stale = 1000.0 + settings_cache.SETTINGS_TTL_SECONDS + 1
    assert settings_cache.load_number("gitea", base, "max_response_items", now=stale) is None
    settings_cache.store_number("gitea", base, "other", 7, now=1002.0)
    assert settings_cache.load_number("gitea", base, "max_response_items", now=1003.0) == 50
    [file] = (cache / "gitea-settings").glob("*.json")
    text = file.read_text()
    assert "gitea.example" not in text  # numbers and a time only
    assert json.loads(text) == {"fetched_at": 1002.0, "max_response_items": 50, "other": 7}


def test_a_damaged_settings_file_is_a_miss_not_a_crash(cache):
    base = "https://gitea.example/api/v1"
    settings_cache.store_number("gitea", base, "max_response_items", 50)
    [file] = (cache / "gitea-settings").glob("*.json")
    for damaged in ("{", "[]", '{"fetched_at": "x"}', '{"fetched_at": 1, "max_response_items": 0}'):
        file.write_text(damaged)
        assert settings_cache.load_number("gitea", base, "max_response_items", now=2) is None
