"""`issue meta set|get|unset` on the local store: the value rule, reserved keys, exit codes,
and that a refused command changes nothing (the issue's version does not move)."""

from __future__ import annotations

import json

import pytest


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def version_of(issue, number=1):
    return as_json(issue("show", str(number), "--json", "version,sync_metadata"))


def test_set_reads_json_values_and_clear_strings(issue):
    issue("create", "x")
    done = issue(
        "meta",
        "set",
        "1",
        "n=42",
        "flag=true",
        "none=null",
        "list=[1,2]",
        'obj={"a":{"b":1}}',
        'quoted="42"',
        "word=alice",
        "version=1.2.3",
        "empty=",
        "--format",
        "json",
    )
    assert as_json(done) == {
        "number": 1,
        "metadata": {
            "empty": "",
            "flag": True,
            "list": [1, 2],
            "n": 42,
            "none": None,
            "obj": {"a": {"b": 1}},
            "quoted": "42",
            "version": "1.2.3",
            "word": "alice",
        },
    }
    # stored in sync_metadata, so it syncs wherever the issue does
    assert version_of(issue)["sync_metadata"]["obj"] == {"a": {"b": 1}}


def test_get_prints_all_keys_or_one_value(issue):
    issue("create", "x")
    assert issue("meta", "get", "1").stdout == "#1 has no metadata\n"
    issue("meta", "set", "1", "owner=alice", 'review={"needed":true}')
    assert issue("meta", "get", "1").stdout == 'owner = alice\nreview = {"needed":true}\n'
    assert issue("meta", "get", "1", "owner").stdout == "alice\n"
    assert issue("meta", "get", "1", "review").stdout == '{"needed":true}\n'
    assert as_json(issue("meta", "get", "1", "review", "--format", "json")) == {
        "number": 1,
        "key": "review",
        "value": {"needed": True},
    }
    assert issue("meta", "get", "1", "owner", "--jq", ".value").stdout == "alice\n"


def test_unset_removes_keys_and_a_missing_key_changes_nothing(issue):
    issue("create", "x")
    issue("meta", "set", "1", "a=1", "b=2")
    assert as_json(issue("meta", "unset", "1", "a", "--format", "json"))["metadata"] == {"b": 2}
    before = version_of(issue)
    again = issue("meta", "unset", "1", "a")
    assert again.exit_code == 0 and again.stdout.startswith("unchanged: metadata of #1")
    assert version_of(issue) == before


def test_setting_the_same_value_writes_nothing(issue):
    issue("create", "x")
    issue("meta", "set", "1", "a=1")
    before = version_of(issue)
    assert issue("meta", "set", "1", "a=1").stdout.startswith("unchanged:")
    assert version_of(issue) == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["meta", "set", "1", "ok=1", "bad={x"], 2, "metadata value '{x' is not valid JSON"),
        (["meta", "set", "1", 'bad="open'], 2, "is not valid JSON"),
        (["meta", "set", "1", "bad=[1,"], 2, "is not valid JSON"),
        (["meta", "set", "1", "issue-core:agent=x"], 2, "reserved prefix 'issue-core:'"),
        (["meta", "unset", "1", "issue-core:agent"], 2, "reserved prefix"),
        (["meta", "set", "1", "noequals"], 2, "'noequals' is not key=value"),
        (["meta", "set", "1", "=1"], 2, "a metadata key must not be empty"),
        (["meta", "set", "1", "a\tb=1"], 2, "control character"),
        (["meta", "set", "9", "a=1"], 3, "issue #9 not found"),
        (["meta", "get", "1", "missing"], 3, "issue #1 has no metadata key 'missing'"),
        (["meta", "set", "0", "a=1"], 2, ""),
    ],
)
def test_bad_input_is_one_line_with_its_exit_code_and_changes_nothing(issue, args, code, message):
    issue("create", "x")
    issue("meta", "set", "1", "keep=1")
    before = version_of(issue)
    result = issue(*args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert version_of(issue) == before
