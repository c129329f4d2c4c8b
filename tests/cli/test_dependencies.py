"""`issue dep add|remove|list|tree` and `issue ready` on every backend (``cli_backend``: the
local store and each fake forge, whatever each keeps natively or in the hidden block): the
documented JSON shapes, cycles shown, bad input with its exit code and nothing changed."""

from __future__ import annotations

import json

import pytest

from issue_core.core.interfaces import Capability
from tests.contract.cli_backends import cli_backend  # noqa: F401 - the fixture


@pytest.fixture
def issue(cli_backend):  # noqa: F811 - the fixture above
    """``issue("dep", "list", "2")`` on the backend under test."""
    return cli_backend


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def make(issue, *titles):
    for title in titles:
        assert issue("create", title).exit_code == 0


def snapshot(issue, count):
    """Every issue's version and every issue's links: what a refused command must not move."""
    return [
        (
            as_json(issue("show", str(n), "--json", "version")),
            as_json(issue("dep", "list", str(n), "--format", "json")),
        )
        for n in range(1, count + 1)
    ]


def test_list_shows_every_relation_from_the_issue_asked_about(issue):
    make(issue, "Design", "Build", "Ship", "Docs", "Test")
    for args in (["1", "--blocks", "2"], ["2", "--blocks", "3"], ["2", "--parent", "3"],
                 ["4", "--related", "2"], ["2", "--blocked-by", "5"]):  # fmt: skip
        assert issue("dep", "add", *args).exit_code == 0
    assert as_json(issue("dep", "list", "2", "--format", "json")) == {
        "number": 2,
        "blocked_by": [
            {"number": 1, "title": "Design", "state": "open"},
            {"number": 5, "title": "Test", "state": "open"},
        ],
        "blocks": [{"number": 3, "title": "Ship", "state": "open"}],
        "parent": {"number": 3, "title": "Ship", "state": "open"},
        "children": [],
        "related": [{"number": 4, "title": "Docs", "state": "open"}],
    }
    three = as_json(issue("dep", "list", "3", "--format", "json"))
    assert [c["number"] for c in three["children"]] == [2] and three["parent"] is None
    assert [
        r["number"] for r in as_json(issue("dep", "list", "4", "--format", "json"))["related"]
    ] == [2]
    table = issue("dep", "list", "2").stdout.splitlines()
    assert table[0].split() == ["blocked", "by:", "#1", "open", "Design"]
    assert issue("dep", "list", "4", "--json", "parent").stdout == '{"parent":null}\n'


def test_adding_a_link_twice_changes_nothing(issue):
    make(issue, "a", "b")
    first = as_json(issue("dep", "add", "1", "--blocks", "2", "--format", "json"))
    assert first == {"kind": "blocks", "source": 1, "target": 2, "changed": True}
    before = snapshot(issue, 2)
    again = issue("dep", "add", "1", "--blocks", "2")
    assert again.exit_code == 0 and again.stdout == "unchanged: #1 blocks #2 already\n"
    assert snapshot(issue, 2) == before


def test_a_link_moves_both_issues_versions_on_the_local_store(git_project):
    from click.testing import CliRunner

    from issue_core.cli.main import cli

    def issue(*args):
        return CliRunner().invoke(cli, list(args), prog_name="issue")

    make(issue, "a", "b")
    issue("dep", "add", "1", "--blocks", "2")
    assert [as_json(issue("show", n, "--json", "version"))["version"] for n in "12"] == [2, 2]
    assert issue("dep", "remove", "1", "--blocks", "2").stdout == "removed: #1 blocks #2\n"
    assert [as_json(issue("show", n, "--json", "version"))["version"] for n in "12"] == [3, 3]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["add", "3", "--blocks", "1"],
            4,
            "that would make a cycle: #3 blocks #1 blocks #2 blocks #3",
        ),
        (["add", "1", "--blocked-by", "3"], 4, "#3 blocks #1 blocks #2 blocks #3"),
        (["add", "4", "--parent", "2"], 4, "#4 already has a parent, #1"),
        (["add", "1", "--parent", "4"], 4, "#4 is the parent of #1 is the parent of #4"),
        (["add", "2", "--blocks", "2"], 2, "an issue cannot depend on itself (#2)"),
        (["add", "2", "--blocks", "9"], 3, "issue #9 not found"),
        (["add", "9", "--related", "2"], 3, "issue #9 not found"),
        (["add", "2"], 2, "exactly one of"),
        (["add", "2", "--blocks", "3", "--related", "1"], 2, "exactly one of"),
        (["add", "2", "--blocks", "x"], 2, ""),
        (["remove", "3", "--blocks", "2"], 3, "no such dependency: #3 blocks #2"),
        (["list", "9"], 3, "issue #9 not found"),
        (["tree", "9"], 3, "issue #9 not found"),
    ],
)
def test_bad_links_are_refused_with_their_code_and_change_nothing(issue, args, code, message):
    make(issue, "a", "b", "c", "d")
    for link in (["1", "--blocks", "2"], ["2", "--blocks", "3"], ["4", "--parent", "1"]):
        assert issue("dep", "add", *link).exit_code == 0
    before = snapshot(issue, 4)
    result = issue("dep", *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(issue, 4) == before


def test_tree_shows_blockers_and_children_recursively(issue):
    make(issue, "Ship", "Build", "Design", "Docs")
    issue("dep", "add", "2", "--blocks", "1")
    issue("dep", "add", "3", "--blocks", "2")
    issue("dep", "add", "4", "--parent", "1")
    issue("dep", "add", "3", "--blocks", "4")
    issue("close", "3")
    assert issue("dep", "tree", "1").stdout.splitlines() == [
        "#1 open Ship",
        "├─ blocked by #2 open Build",
        "│  └─ blocked by #3 closed Design",
        "└─ child #4 open Docs",
        "   └─ blocked by #3 closed Design (repeated)",
    ]
    tree = as_json(issue("dep", "tree", "1", "--format", "json"))
    assert tree["number"] == 1 and "relation" not in tree
    assert [(c["relation"], c["number"]) for c in tree["children"]] == [
        ("blocked_by", 2),
        ("children", 4),
    ]
    assert tree["children"][1]["children"][0] == {
        "number": 3,
        "title": "Design",
        "state": "closed",
        "relation": "blocked_by",
        "repeated": True,
        "children": [],
    }


def test_ready_lists_open_unblocked_issues_by_priority_then_age(issue):
    make(issue, "old unprioritised", "blocked p0", "blocker p2", "p1 newer", "p1 older")
    issue("edit", "2", "--priority", "0")
    issue("edit", "3", "--priority", "2")
    issue("edit", "4", "--priority", "1")
    issue("edit", "5", "--priority", "1")
    issue("dep", "add", "3", "--blocks", "2")

    def numbers(*extra):
        return [i["number"] for i in as_json(issue("ready", "--format", "json", *extra))]

    assert numbers() == [4, 5, 3, 1]  # 4 and 5 share p1: the older (4) first
    issue("close", "3")
    assert numbers() == [2, 4, 5, 1]
    issue("edit", "4", "--state", "in_progress")  # held: not ready
    assert numbers("--limit", "2") == [2, 5]
    issue("reopen", "3")
    assert numbers() == [5, 3, 1]  # 2 is blocked again


def test_ready_filters_and_says_when_nothing_is_ready(issue):
    make(issue, "a")
    issue("edit", "1", "--add-label", "backend")
    assert [i["number"] for i in as_json(issue("ready", "-l", "backend", "--format", "json"))] == [
        1
    ]
    empty = issue("ready", "--label", "frontend")
    assert empty.exit_code == 0 and empty.stderr == "no issue is ready\n"


def test_deleting_an_issue_drops_its_links(issue):
    if not issue.supports(Capability.DELETE_ISSUES):
        pytest.skip("this backend cannot delete issues")
    make(issue, "a", "b")
    issue("dep", "add", "1", "--blocks", "2")
    assert issue("delete", "1", "--yes").exit_code == 0
    assert as_json(issue("dep", "list", "2", "--format", "json"))["blocked_by"] == []
    assert [i["number"] for i in as_json(issue("ready", "--format", "json"))] == [2]


def test_next_claim_skips_blocked_issues(issue):
    # Every backend has claims now (the forges by the marker protocol, forge.claims).
    make(issue, "blocked", "blocker")
    issue("edit", "1", "--priority", "0")
    issue("edit", "2", "--priority", "3")
    issue("dep", "add", "2", "--blocks", "1")
    taken = as_json(issue("next", "--claim", "--format", "json"))
    assert taken["number"] == 2
    issue("close", "2")
    assert as_json(issue("next", "--claim", "--format", "json"))["number"] == 1


def test_links_survive_edits_of_the_issues_they_join(issue):
    make(issue, "parent", "child", "sibling")
    issue("dep", "add", "2", "--parent", "1")
    issue("dep", "add", "2", "--related", "3")
    issue("dep", "add", "3", "--blocks", "2")
    before = as_json(issue("dep", "list", "2", "--format", "json"))
    for number in ("1", "2", "3"):
        edited = issue("edit", number, "--body", f"rewritten {number}", "--priority", "1")
        assert edited.exit_code == 0, edited
    assert issue("meta", "set", "2", "team=core").exit_code == 0
    assert as_json(issue("dep", "list", "2", "--format", "json")) == before
    assert [
        c["number"] for c in as_json(issue("dep", "list", "1", "--format", "json"))["children"]
    ] == [2]
    assert as_json(issue("show", "2", "--format", "json"))["description"] == "rewritten 2"
