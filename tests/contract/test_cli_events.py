"""``issue events`` and ``issue watch`` through the CLI on every backend with an event log (the
local store and each forge fake that declares ``Capability.EVENTS``): JSON lines, resuming
from a cursor, waiting for the next change while another writer makes it, and bad cursors.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from issue_core.core.interfaces import Capability
from issue_core.core.models import Issue


@pytest.fixture
def cli(cli_backend):
    if not cli_backend.supports(Capability.EVENTS):
        pytest.skip("no event log")
    return cli_backend


def _lines(result):
    assert result.exit_code == 0, result
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_events_as_json_lines_resume_from_a_cursor(cli):
    number = cli.json("create", "Write the docs")["number"]
    cli("comment", number, "first")
    events = _lines(cli("events", number, "--format", "jsonl"))
    assert [e["kind"] for e in events] == ["created", "commented"]
    assert set(events[0]) == {"cursor", "issue", "issue_id", "kind", "actor", "at", "data"}
    cli.let_time_pass()
    cli("comment", number, "second")
    rest = _lines(cli("events", "--since", events[-1]["cursor"], "--format", "jsonl"))
    assert [(e["kind"], e["data"]["body"]) for e in rest] == [("commented", "second")]
    assert _lines(cli("events", "--since", rest[-1]["cursor"], "--format", "jsonl")) == []


def test_watch_prints_what_comes_after_its_cursor_and_stops(cli):
    number = cli.json("create", "watched")["number"]
    start = _lines(cli("events", number, "--format", "jsonl"))[-1]["cursor"]
    cli("comment", number, "one")
    cli("comment", number, "two")
    follow = cli("watch", "--since", start, "--follow", "--timeout", "1s", "--interval", "0.05")
    assert [e["data"]["body"] for e in _lines(follow)] == ["one", "two"]
    first = _lines(cli("watch", "--since", start, "--until-change", "--kind", "commented"))
    assert [e["data"]["body"] for e in first] == ["one"]
    quiet = cli("watch", number, "--until-change", "--timeout", "1s", "--interval", "0.05")
    assert quiet.exit_code == 124 and quiet.stdout == "", quiet


def test_watch_until_change_waits_for_another_writer(cli):
    number = cli.json("create", "awaited")["number"]
    writer = cli.api()

    def write_later() -> None:
        time.sleep(0.6)
        writer.add_comment(number, "handed over")

    thread = threading.Thread(target=write_later)
    thread.start()
    try:
        result = cli(
            "watch", number, "--until-change", "--kind", "commented",
            "--timeout", "30s", "--interval", "0.1",
        )  # fmt: skip
    finally:
        thread.join()
        writer.close()
    (event,) = _lines(result)
    assert event["kind"] == "commented" and event["data"]["body"] == "handed over"
    assert event["issue"] == number


@pytest.mark.parametrize("bad", ["fe1.not-a-cursor", "fe1.WzEsImFiY2QiLG51bGwsW11d"])
def test_a_garbled_or_foreign_cursor_is_one_line_and_exit_2(cli, bad):
    cli.json("create", "x")
    for args in (("events", "--since", bad), ("watch", "--since", bad, "--no-follow")):
        result = cli(*args)
        assert result.exit_code == 2, result
        assert result.stdout == "" and result.stderr.count("\n") == 1, result
        assert "Traceback" not in result.stderr


def test_a_cursor_of_another_backend_is_exit_2(cli):
    cli.json("create", "x")
    cursor = _lines(cli("events", "--format", "jsonl"))[-1]["cursor"]
    foreign = "fe1.WzEsImFiY2QiLG51bGwsW11d" if cursor.isdigit() else "1"
    result = cli("events", "--since", foreign)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result


def test_the_api_writer_is_the_same_repository(cli):
    """(The writer of the waiting test writes where the CLI reads.)"""
    writer = cli.api()
    try:
        number = writer.create_issue(Issue(title="from the API")).number
    finally:
        writer.close()
    assert cli.json("show", number)["title"] == "from the API"


def test_limit_zero_means_every_event_as_on_issue_list(cli):
    number = cli.json("create", "limited")["number"]
    cli("comment", number, "one")
    cli("comment", number, "two")
    every = _lines(cli("events", number, "--limit", "0", "--format", "jsonl"))
    assert [e["kind"] for e in every] == ["created", "commented", "commented"]
    first = _lines(cli("events", number, "--limit", "1", "--format", "jsonl"))
    assert first == every[:1]
