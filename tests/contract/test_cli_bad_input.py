"""Issue 12's bad input through the ``issue`` CLI on every backend (the local store and each
forge fake, GitHub with and without its search API): a dependency on itself, on a missing
issue or closing a cycle, a metadata value that is not JSON or a reserved key, a query that
cannot be read or names an unknown qualifier. Each is one line on stderr, the documented exit
code, nothing on stdout, and nothing changed."""

from __future__ import annotations

import pytest


@pytest.fixture
def two(cli_backend):
    """#a blocks #b, and #a carries one metadata key."""
    cli = cli_backend
    a = cli.json("create", "first")["number"]
    b = cli.json("create", "second")["number"]
    assert cli("dep", "add", a, "--blocks", b).exit_code == 0
    assert cli("meta", "set", a, "owner=ann").exit_code == 0
    return cli, a, b


def _state(cli, a, b):
    return [
        (
            cli.json("dep", "list", n),
            cli.json("show", n, "--json", "sync_metadata,version,updated_at"),
        )
        for n in (a, b)
    ]


def _refused(result, code, says):
    assert (result.exit_code, result.stdout) == (code, ""), result
    assert result.stderr.startswith("issue: error: ") and result.stderr.count("\n") == 1, result
    assert says in result.stderr, result
    assert "Traceback" not in result.stderr


def test_bad_links_and_metadata_are_one_line_and_change_nothing(two):
    cli, a, b = two
    before = _state(cli, a, b)
    _refused(cli("dep", "add", a, "--blocks", a), 2, "cannot depend on itself")
    _refused(cli("dep", "add", b, "--blocks", a), 4, f"#{b} blocks #{a} blocks #{b}")
    _refused(cli("dep", "add", a, "--blocks", b + 50), 3, f"#{b + 50} not found")
    _refused(cli("meta", "set", a, "owner=bob", "checks={lint"), 2, "not valid JSON")
    _refused(cli("meta", "set", a, "issue-core:agent=x"), 2, "reserved prefix")
    _refused(cli("meta", "unset", a, "issue-core:agent"), 2, "reserved prefix")
    assert _state(cli, a, b) == before
    assert cli("meta", "get", a, "owner").stdout == "ann\n"


def test_an_unreadable_query_points_at_its_position_and_lists_the_known_qualifiers(two):
    cli, _, _ = two
    wrong = cli("list", "-q", "is:open labl:bug")
    assert (wrong.exit_code, wrong.stdout) == (2, ""), wrong
    assert "unknown qualifier 'labl'" in wrong.stderr and "known: is, state, label" in wrong.stderr
    lines = wrong.stderr.splitlines()
    assert lines[0] == "issue: error: query: is:open labl:bug"
    assert lines[1].index("^") == lines[0].index("labl")  # the caret under the offending term
    error = cli("list", "-q", "label:bug OR", "--format", "json").error()
    assert error["code"] == "invalid_query" and error["details"]["position"] == 12
