"""``issue list -q QUERY``: the query language from the command line, combined with the other
flags, and its bad input (one clear error, exit 2, nothing on stdout)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def seeded(issue):
    """#1 bug p1 (ann, v1, "login timeout"), #2 docs (tester), #3 closed bug, #4 ui p3."""
    for args in (
        ("milestone", "create", "v1"),
        ("create", "Login timeout", "-l", "bug", "-a", "ann", "-m", "v1", "--priority", "1"),
        ("create", "Write the guide", "-l", "docs", "-a", "tester", "-b", "timeout notes"),
        ("create", "Old crash", "-l", "bug"),
        ("close", "3"),
        ("create", "Button colour", "-l", "ui", "--priority", "3"),
        ("comment", "4", "the login page too"),
    ):
        assert issue(*args).exit_code == 0, args
    return issue


def listed(run, *args):
    result = run("list", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return [item["number"] for item in json.loads(result.stdout)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("label:bug", [1]),  # not closed by default, as plain issue list
        ("is:closed", [3]),  # a state in the query replaces that default
        ("label:bug -is:open", [3]),
        ("-label:bug", [4, 2]),
        ("assignee:@me", [2]),  # @me is the acting identity (ISSUE_CORE_USER=tester)
        ("priority:<=1", [1]),
        ("priority:1..3 sort:priority", [1, 4]),
        ("priority:1..3 sort:priority-desc", [4, 1]),
        ("no:priority", [2]),
        ("has:milestone", [1]),
        ('"login timeout"', [1]),
        ("login", [4, 1]),  # the comment of #4 counts
        ("timeout -label:docs", [1]),
        ("(label:ui OR label:docs) AND no:milestone", [4, 2]),
        ("label:ui,docs sort:number-asc", [2, 4]),
        ("number:2..3 is:issue state:closed", [3]),
        ("created:>2000-01-01 updated:>7d", [4, 2, 1]),
        ("closed:<=2000-01-01", []),
    ],
)
def test_queries_select(seeded, query, expected):
    assert listed(seeded, "-q", query) == expected
    assert listed(seeded, "--query", query) == expected


def test_the_query_is_anded_with_the_other_flags(seeded):
    assert listed(seeded, "-q", "label:bug OR label:docs", "-a", "ann") == [1]
    assert listed(seeded, "-q", "is:closed", "-s", "open") == []
    assert listed(seeded, "-q", "timeout", "-S", "guide") == [2]
    assert listed(seeded, "-q", "-no:priority", "--sort", "number", "--order", "asc") == [1, 4]
    assert listed(seeded, "-q", "is:open", "-L", "1") == [4]


@pytest.mark.parametrize(
    ("query", "column", "reason"),
    [
        ("is:open foo:bar", 8, "unknown qualifier 'foo' (known: is, state, label,"),
        ("label:bug OR", 12, "nothing after OR"),
        ("OR label:bug", 0, "nothing before OR"),
        ("(label:bug", 0, "unbalanced '('"),
        ("label:bug)", 9, "unbalanced ')'"),
        ("()", 0, "empty parentheses"),
        ("updated:>2026-02-30", 9, "invalid date '2026-02-30'"),
        ("priority:1..x", 12, "unknown priority 'x'"),
        ("number:abc", 7, "invalid number 'abc'"),
        ("is:opened", 3, "unknown state 'opened'"),
        ('"login', 0, "unclosed quote"),
        ("a OR b sort:updated", 7, "sort: stands only at the top level"),
        ("   ", 0, "empty query"),
    ],
)
def test_a_bad_query_is_one_error_pointing_at_its_place(seeded, query, column, reason):
    result = seeded("list", "-q", query)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    prefix = "issue: error: query: "
    assert lines[0] == prefix + query
    assert lines[1] == " " * (len(prefix) + column) + "^ " + lines[1].lstrip()[2:]
    assert lines[1].lstrip()[2:].startswith(reason), lines[1]


def test_a_bad_query_with_json_output_is_a_json_error(seeded):
    result = seeded("list", "-q", "label:bug OR", "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "invalid_query"
    assert error["details"] == {"query": "label:bug OR", "position": 12}


def test_list_minus_q_is_not_a_json_flag(seeded):
    """On ``issue list`` ``-q`` is the query: its errors are the human two lines."""
    result = seeded("list", "-q", "foo:x")
    assert result.stderr.startswith("issue: error: query: foo:x\n")


def test_the_caret_stays_under_its_place_after_escaped_controls(seeded):
    query = "\x1b[31m nope:x"
    result = seeded("list", "-q", query)
    first, second = result.stderr.splitlines()
    assert "\x1b" not in result.stderr
    assert second.index("^") == first.index("nope")


def test_sort_in_the_query_and_sort_flag_together_is_a_usage_error(seeded):
    result = seeded("list", "-q", "sort:updated", "--sort", "number")
    assert result.exit_code == 2
    assert "not both" in result.stderr
