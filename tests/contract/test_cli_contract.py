"""What a user of the ``issue`` CLI observes, on every backend.

Each test runs once per backend (``cli_backend``, see ``cli_backends.py``): the local store and
the fake Gitea, whose every request and response is checked against Gitea's API description.
The CLI must look the same whichever backend holds the issues; where a backend cannot do
something, the test asks ``cli.supports(Capability.X)``, never which backend it runs on.
Documented differences: README, AGENT_INTEGRATION.md, docs/local-store.md, docs/backends/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from issue_core.core.interfaces import Capability
from issue_core.core.models import parse_ts
from tests.contract.cli_backends import CLI_BACKEND_NAME, CLI_SETUPS, CliBackend, CliResult

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
STATES = ("open", "in_progress", "closed")
NULLABLE_STR = (str, type(None))

# Every documented field of each JSON shape, in the documented order, with its type.
ISSUE_SHAPE: dict[str, Any] = {
    "number": int,
    "title": str,
    "description": str,
    "state": str,
    "labels": list,
    "assignee": NULLABLE_STR,
    "assignees": list,
    "milestone": NULLABLE_STR,
    "author": NULLABLE_STR,
    "comments_count": int,
    "created_at": str,
    "updated_at": str,
    "closed_at": NULLABLE_STR,
    "url": NULLABLE_STR,
    "id": str,
    "version": int,
    "sync_metadata": dict,
    "due_at": NULLABLE_STR,
    "priority": (int, type(None)),
    "priority_name": NULLABLE_STR,
    "close_reason": NULLABLE_STR,
    "node_id": NULLABLE_STR,
}
COMMENT_SHAPE: dict[str, Any] = {
    "id": str,
    "issue_number": int,
    "author": NULLABLE_STR,
    "body": str,
    "created_at": str,
    "updated_at": NULLABLE_STR,
}
LABEL_SHAPE: dict[str, Any] = {"name": str, "color": NULLABLE_STR, "description": NULLABLE_STR}
MILESTONE_SHAPE: dict[str, Any] = {
    "title": str,
    "description": NULLABLE_STR,
    "state": str,
    "due_on": NULLABLE_STR,
    "open_issues": int,
    "closed_issues": int,
    "created_at": NULLABLE_STR,
    "updated_at": NULLABLE_STR,
    "closed_at": NULLABLE_STR,
    "id": str,
}
USER_SHAPE: dict[str, Any] = {"username": str, "name": NULLABLE_STR, "email": NULLABLE_STR}
BACKEND_INFO_SHAPE: dict[str, Any] = {
    "type": str,
    "name": str,
    "ok": bool,
    "server_version": NULLABLE_STR,
    "user": NULLABLE_STR,
    "location": NULLABLE_STR,
    "rate_limit_remaining": (int, type(None)),
    "checks": dict,
}
ERROR_KEYS = {"code", "message", "exit_code", "hint", "details"}


# --------------------------------------------------------------------------- helpers


def assert_shape(data: Any, shape: dict[str, Any], *, extra: tuple[str, ...] = ()) -> None:
    assert isinstance(data, dict), data
    assert list(data) == [*shape, *extra], f"fields differ: {list(data)}"
    for name, kind in shape.items():
        assert isinstance(data[name], kind), f"{name}={data[name]!r} is not {kind}"
        if isinstance(data[name], str) and name.endswith(("_at", "_on")):
            assert TIMESTAMP.match(data[name]), f"{name}={data[name]!r} is not ISO 8601 UTC"


def assert_issue(data: Any, *, with_comments: bool = False) -> None:
    assert_shape(data, ISSUE_SHAPE, extra=("comments",) if with_comments else ())
    assert data["number"] >= 1
    assert data["state"] in STATES
    assert data["title"] and data["id"]
    assert all(isinstance(name, str) for name in data["labels"] + data["assignees"])
    assert data["labels"] == sorted(data["labels"], key=str.lower), "labels are sorted by name"
    assert data["assignee"] == (data["assignees"][0] if data["assignees"] else None)
    assert (data["closed_at"] is not None) == (data["state"] == "closed")
    assert parse_ts(data["updated_at"]) >= parse_ts(data["created_at"])
    for comment in data.get("comments", []):
        assert_shape(comment, COMMENT_SHAPE)
        assert comment["issue_number"] == data["number"]


def create(cli: CliBackend, title: str, *options: str) -> dict[str, Any]:
    created = cli.json("create", title, *options)
    assert_issue(created)
    return created


def numbers(cli: CliBackend, *options: str) -> list[int]:
    listed = cli.json("list", *options)
    for issue in listed:
        assert_issue(issue)
    return [issue["number"] for issue in listed]


def me(cli: CliBackend) -> str:
    username = cli.json("whoami")["username"]
    assert isinstance(username, str) and username
    return username


def snapshot(cli: CliBackend) -> dict[str, Any]:
    """Everything a write could change, as the CLI shows it (comments through comments_count)."""
    return {
        "issues": cli.json("list", "--state", "all", "--limit", "0"),
        "labels": cli.json("label", "list"),
        "milestones": cli.json("milestone", "list", "--state", "all"),
    }


@contextmanager
def nothing_written(cli: CliBackend) -> Iterator[None]:
    """The failed writes inside the block left every issue, label and milestone as it was."""
    before = snapshot(cli)
    yield
    assert snapshot(cli) == before, "a failed write changed something"


def fails(cli: CliBackend, exit_code: int, code: str, *args: str | int, **kw: Any) -> dict:
    """Run a command with JSON output that must fail; return its JSON error object."""
    result = cli(*args, "--format", "json", **kw)
    assert result.exit_code == exit_code, result
    error = result.error()
    assert error["code"] == code, result
    assert set(error) <= ERROR_KEYS and isinstance(error["message"], str), error
    assert "\n" not in error["message"]
    return error


@pytest.fixture
def seeded(cli_backend: CliBackend) -> CliBackend:
    """#1 bug/ann/v1, #2 bug+ui/bob, #3 docs in progress, #4 bug closed, #5 plain."""
    cli = cli_backend
    for label in ("bug", "ui", "docs"):
        cli.json("label", "create", label)
    cli.json("milestone", "create", "v1")
    create(
        cli,
        "Login fails",
        "--label",
        "bug",
        "--assignee",
        "ann",
        "--milestone",
        "v1",
        "--description",
        "the session expires",
    )
    create(cli, "Button misaligned", "--label", "bug,ui", "--assignee", "bob")
    create(cli, "Write the guide", "--label", "docs")
    create(cli, "Old crash", "--label", "bug")
    create(cli, "Tidy up")
    assert cli.json("edit", 3, "--state", "in_progress")["state"] == "in_progress"
    assert cli.json("close", 4)["state"] == "closed"
    return cli


def test_every_api_backend_runs_the_cli_suite() -> None:
    from tests.contract.conftest import BACKEND_FACTORIES

    assert set(CLI_SETUPS) == set(BACKEND_FACTORIES)


# --------------------------------------------------------------------------- create


def test_create_prints_one_confirmation_line(cli_backend):
    result = cli_backend("create", "Fix the login bug")
    assert result.exit_code == 0, result
    assert result.stdout == "created #1 Fix the login bug\n"
    again = cli_backend("create", "Second")
    assert again.exit_code == 0 and again.stdout == "created #2 Second\n", again


def test_create_json_has_every_documented_field(cli_backend):
    cli = cli_backend
    cli.json("milestone", "create", "v1")
    created = create(
        cli,
        "  Crash on start  ",
        "--description",
        "Steps: run it",
        "--label",
        "zeta,alpha",
        "--create-labels",
        "--assignee",
        "ann",
        "--milestone",
        "v1",
    )
    assert created["number"] == 1
    assert created["title"] == "Crash on start"
    assert created["description"] == "Steps: run it"
    assert created["state"] == "open"
    assert created["labels"] == ["alpha", "zeta"]
    assert (created["assignee"], created["assignees"]) == ("ann", ["ann"])
    assert created["milestone"] == "v1"
    assert created["author"] == me(cli)
    assert created["comments_count"] == 0
    assert created["closed_at"] is None
    assert created["sync_metadata"] == {}
    assert created["version"] > 0
    assert create(cli, "Next")["number"] == 2
    assert [label["name"] for label in cli.json("label", "list")] == ["alpha", "zeta"]


def test_create_reads_the_description_from_stdin(cli_backend):
    text = "Line one\n\n- a list item\n"
    created = cli_backend.json("create", "From stdin", "--description-file", "-", input=text)
    assert_issue(created)
    assert created["description"] == text
    assert cli_backend.json("show", created["number"])["description"] == text


def test_create_assigns_me(cli_backend):
    created = create(cli_backend, "Mine", "--assignee", "@me")
    assert created["assignees"] == [me(cli_backend)]


# --------------------------------------------------------------------------- show


def test_show_prints_a_card(cli_backend):
    cli = cli_backend
    cli.json("milestone", "create", "v1")
    number = create(
        cli,
        "Crash on start",
        "--label",
        "bug",
        "--create-labels",
        "--assignee",
        "ann",
        "--milestone",
        "v1",
        "--description",
        "It crashes",
    )["number"]
    result = cli("show", number)
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == f"#{number}  Crash on start"
    for line in (
        "State:     open",
        "Labels:    bug",
        "Assignees: ann",
        "Milestone: v1",
        f"Author:    {me(cli)}",
        "It crashes",
    ):
        assert line in lines, result
    assert "Comments" not in result.stdout
    cli.json("comment", number, "Reproduced on main")
    with_comments = cli("show", f"#{number}", "--comments")
    assert with_comments.exit_code == 0, with_comments
    assert "Comments (1)" in with_comments.stdout
    assert "  Reproduced on main" in with_comments.stdout.splitlines()


def test_show_json_is_what_create_returned(cli_backend):
    title = 'Überprüfung 🚀 of "quoted" <html> & more'
    created = create(cli_backend, title, "--label", "bug", "--create-labels")
    assert created["title"] == title
    shown = cli_backend.json("show", created["number"])
    assert_issue(shown)
    assert shown == created
    assert cli_backend.json("show", f"#{created['number']}") == created


def test_show_comments_in_json(cli_backend):
    cli = cli_backend
    number = create(cli, "Discuss")["number"]
    assert "comments" not in cli.json("show", number)
    assert cli.json("show", number, "--comments")["comments"] == []
    cli.json("comment", number, "first")
    cli.json("comment", number, "second")
    shown = cli.json("show", number, "--comments")
    assert_issue(shown, with_comments=True)
    assert [c["body"] for c in shown["comments"]] == ["first", "second"]
    assert {c["author"] for c in shown["comments"]} == {me(cli)}
    assert shown["comments_count"] == 2


# --------------------------------------------------------------------------- list


def test_list_default_is_not_closed_newest_first(seeded):
    assert numbers(seeded) == [5, 3, 2, 1]
    assert numbers(seeded, "--state", "open,in_progress") == [5, 3, 2, 1]


STATE_FILTERS = [
    (["open"], [5, 2, 1]),
    (["in_progress"], [3]),
    (["in-progress"], [3]),
    (["closed"], [4]),
    (["all"], [5, 4, 3, 2, 1]),
    (["open", "closed"], [5, 4, 2, 1]),
    (["in_progress,closed"], [4, 3]),
    (["open", "in_progress", "closed"], [5, 4, 3, 2, 1]),
    (["closed", "all"], [5, 4, 3, 2, 1]),
]


def test_list_by_state(seeded):
    for states, expected in STATE_FILTERS:
        options = [part for state in states for part in ("--state", state)]
        assert numbers(seeded, *options) == expected, f"--state {states}"


def test_list_table(seeded):
    result = seeded("list")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NUMBER", "STATE", "TITLE", "LABELS", "ASSIGNEE", "UPDATED"]
    assert [line.split()[0] for line in lines[1:]] == ["#5", "#3", "#2", "#1"]
    assert "in_progress" in lines[2] and "Write the guide" in lines[2] and "docs" in lines[2]
    assert "Button misaligned" in lines[3] and "bug, ui" in lines[3] and "bob" in lines[3]


def test_list_with_no_match_is_empty_not_an_error(seeded):
    result = seeded("list", "--label", "nosuchlabel")
    assert (result.exit_code, result.stdout) == (0, ""), result
    assert result.stderr == "no issues match\n"
    assert seeded.json("list", "--label", "nosuchlabel") == []


def test_list_labels_must_all_match(seeded):
    assert numbers(seeded, "--label", "bug") == [2, 1]
    assert numbers(seeded, "--label", "bug", "--state", "all") == [4, 2, 1]
    assert numbers(seeded, "--label", "bug", "--label", "ui") == [2]
    assert numbers(seeded, "--label", "bug,ui") == [2]
    assert numbers(seeded, "--label", "ui,docs") == []
    assert numbers(seeded, "--label", "bug", "--label", "nosuchlabel") == []


def test_list_by_assignee(seeded):
    assert numbers(seeded, "--assignee", "ann") == [1]
    assert numbers(seeded, "--assignee", "bob", "--state", "all") == [2]
    assert numbers(seeded, "--assignee", "carol") == []
    assert numbers(seeded, "--assignee", "nobody-by-that-name") == []


def test_list_by_milestone(seeded):
    assert numbers(seeded, "--milestone", "v1") == [1]
    assert numbers(seeded, "--milestone", "no-such-milestone") == []


def test_list_no_assignee_and_no_milestone(seeded):
    assert numbers(seeded, "--no-assignee") == [5, 3]
    assert numbers(seeded, "--no-assignee", "--state", "all") == [5, 4, 3]
    assert numbers(seeded, "--no-milestone") == [5, 3, 2]
    assert numbers(seeded, "--no-assignee", "--no-milestone", "--label", "docs") == [3]
    assert numbers(seeded, "--no-assignee", "--limit", "1") == [5]
    assert numbers(seeded, "--no-milestone", "--order", "asc", "--limit", "2") == [2, 3]
    seeded.json("edit", 5, "--assignee", "ann")
    assert numbers(seeded, "--no-assignee", "--limit", "1") == [3]


def test_list_no_assignee_excludes_an_assignee(seeded):
    for args in (
        ["--no-assignee", "--assignee", "ann"],
        ["-a", "@me", "--no-assignee"],
        ["--no-milestone", "-m", "v1"],
    ):
        error = seeded("list", *args, "--format", "json").error()
        assert error["exit_code"] == 2 and "not both" in error["message"], args


def test_list_limit(seeded):
    assert numbers(seeded, "--limit", "2") == [5, 3]
    assert numbers(seeded, "--state", "all", "--limit", "1") == [5]
    assert numbers(seeded, "--state", "all", "--limit", "0") == [5, 4, 3, 2, 1]


def test_list_sort_and_order(seeded):
    assert numbers(seeded, "--state", "all", "--order", "asc") == [1, 2, 3, 4, 5]
    assert numbers(seeded, "--state", "all", "--sort", "number") == [5, 4, 3, 2, 1]
    assert numbers(seeded, "--state", "all", "--sort", "number", "--order", "asc") == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert numbers(seeded, "--sort", "created", "--order", "asc", "--limit", "2") == [1, 2]
    seeded.let_time_pass()
    seeded.json("edit", 2, "--title", "Button misaligned on mobile")
    by_update = numbers(seeded, "--state", "all", "--sort", "updated")
    assert by_update[0] == 2 and sorted(by_update) == [1, 2, 3, 4, 5]
    assert numbers(seeded, "--state", "all", "--sort", "updated", "--order", "asc")[-1] == 2
    assert numbers(seeded, "--sort", "updated", "--limit", "1") == [2]


def test_list_search(seeded):
    if not seeded.supports(Capability.FULL_TEXT_SEARCH):
        pytest.skip("the backend has no full-text search")
    seeded.json("comment", 5, "a crash in the parser")
    assert numbers(seeded, "--search", "misaligned") == [2]  # title
    assert numbers(seeded, "--search", "session") == [1]  # description
    assert numbers(seeded, "--search", "parser") == [5]  # comment
    assert numbers(seeded, "--search", "crash") == [5]  # #4 is closed
    assert numbers(seeded, "--search", "crash", "--state", "all") == [5, 4]
    assert numbers(seeded, "--search", "crash", "--label", "bug", "--state", "all") == [4]


# --------------------------------------------------------------------------- delete


def test_delete(seeded):
    if not seeded.supports(Capability.DELETE_ISSUES):
        pytest.skip("the backend cannot delete issues")
    refused = seeded("delete", 5, "--format", "json").error()  # no terminal: --yes required
    assert refused["exit_code"] == 2 and "--yes" in refused["message"]
    assert seeded.json("delete", 5, "--yes") == [{"number": 5, "title": "Tidy up", "deleted": True}]
    assert seeded("show", 5, "--format", "json").error()["exit_code"] == 3
    assert numbers(seeded, "--state", "all") == [4, 3, 2, 1]
    missing = seeded("delete", 4, 5, "--yes", "--format", "json").error()
    assert missing["exit_code"] == 3
    assert numbers(seeded, "--state", "all") == [4, 3, 2, 1]  # one unknown: none deleted
    line = seeded("delete", 4, 3, "--yes")
    assert line.exit_code == 0, line
    assert line.stdout == "deleted #4 Old crash, #3 Write the guide\n"
    assert numbers(seeded, "--state", "all") == [2, 1]


# --------------------------------------------------------------------------- edit


def test_edit_title_and_description_leave_the_rest(seeded):
    before = seeded.json("show", 1)
    result = seeded("edit", 1, "--title", "Login fails on Safari")
    assert (result.exit_code, result.stdout) == (0, "updated #1 Login fails on Safari\n"), result
    after = seeded.json("edit", 1, "--description", "Steps:\n1. open Safari\n")
    assert_issue(after)
    assert after["title"] == "Login fails on Safari"
    assert after["description"] == "Steps:\n1. open Safari\n"
    unchanged = ("labels", "assignees", "milestone", "state", "author", "created_at", "id")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert seeded.json("show", 1) == after


def test_edit_state(seeded):
    assert seeded.json("edit", 5, "--state", "in-progress")["state"] == "in_progress"
    assert numbers(seeded, "--state", "in_progress") == [5, 3]
    assert seeded.json("edit", 5, "--state", "open")["state"] == "open"
    closed = seeded.json("edit", 5, "--state", "closed")
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert numbers(seeded, "--state", "closed") == [5, 4]
    reopened = seeded.json("edit", 5, "--state", "in_progress")
    assert reopened["state"] == "in_progress" and reopened["closed_at"] is None
    assert reopened["labels"] == []  # in progress is a state, never a label


def test_edit_labels(seeded):
    edited = seeded.json("edit", 1, "--add-label", "ui", "--remove-label", "bug")
    assert edited["labels"] == ["ui"]
    edited = seeded.json("edit", 1, "--add-label", "docs,bug")
    assert edited["labels"] == ["bug", "docs", "ui"]
    edited = seeded.json("edit", 1, "--remove-label", "docs", "--remove-label", "ui")
    assert edited["labels"] == ["bug"]
    created = seeded.json("edit", 1, "--add-label", "fresh", "--create-labels")
    assert created["labels"] == ["bug", "fresh"]
    assert "fresh" in [label["name"] for label in seeded.json("label", "list")]
    assert seeded.json("show", 1)["labels"] == ["bug", "fresh"]


def test_edit_assignees(seeded):
    edited = seeded.json("edit", 1, "--assignee", "bob")
    assert (edited["assignee"], edited["assignees"]) == ("bob", ["bob"])
    assert numbers(seeded, "--assignee", "bob") == [2, 1]
    edited = seeded.json("edit", 1, "--assignee", "")
    assert (edited["assignee"], edited["assignees"]) == (None, [])
    assert numbers(seeded, "--assignee", "ann") == []
    edited = seeded.json("edit", 1, "--assignee", "@me")
    assert edited["assignees"] == [me(seeded)]


def test_edit_milestone_and_clear_it(seeded):
    seeded.json("milestone", "create", "v2")
    assert seeded.json("edit", 2, "--milestone", "v2")["milestone"] == "v2"
    assert numbers(seeded, "--milestone", "v2") == [2]
    cleared = seeded.json("edit", 1, "--milestone", "")
    assert cleared["milestone"] is None
    assert seeded.json("show", 1)["milestone"] is None
    assert numbers(seeded, "--milestone", "v1") == []


# --------------------------------------------------------------------------- close / reopen


def test_close_and_reopen_with_comments(seeded):
    cli = seeded
    result = cli("close", 1, "--comment", "Fixed in 3f2a1c9")
    assert (result.exit_code, result.stdout) == (0, "closed #1 Login fails\n"), result
    closed = cli.json("show", 1, "--comments")
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert [c["body"] for c in closed["comments"]] == ["Fixed in 3f2a1c9"]
    again = cli("close", 1)
    assert again.exit_code == 0 and "already closed" in again.stdout, again
    reopened = cli.json("reopen", 1, "--comment", "Still happens on Windows")
    assert reopened["state"] == "open" and reopened["closed_at"] is None
    shown = cli.json("show", 1, "--comments")
    assert [c["body"] for c in shown["comments"]] == [
        "Fixed in 3f2a1c9",
        "Still happens on Windows",
    ]
    assert shown["comments_count"] == 2
    reopened_in_progress = cli.json("reopen", 3)  # not closed: nothing to do
    assert reopened_in_progress["state"] == "in_progress"


def test_close_json_is_the_closed_issue(seeded):
    closed = seeded.json("close", 5)
    assert_issue(closed)
    assert closed["state"] == "closed" and closed == seeded.json("show", 5)
    assert closed["close_reason"] == "completed"  # a plain close


def test_close_reason_is_set_changed_and_cleared_on_reopen(seeded):
    cli = seeded
    assert cli.json("show", 1)["close_reason"] is None  # open
    closed = cli.json("close", 1, "--reason", "not_planned")
    assert (closed["state"], closed["close_reason"]) == ("closed", "not_planned")
    assert cli.json("show", 1)["close_reason"] == "not_planned"
    listed = cli.json("list", "--state", "closed", "--json", "number,close_reason")
    assert sorted(listed, key=lambda i: i["number"]) == [
        {"number": 1, "close_reason": "not_planned"},
        {"number": 4, "close_reason": "completed"},
    ]
    # Closing again with another reason changes the reason (the same one changes nothing).
    same = cli("close", 1, "--reason", "not-planned")
    assert same.exit_code == 0 and "already closed" in same.stdout, same
    cli.let_time_pass()
    assert cli.json("close", 1, "-r", "duplicate")["close_reason"] == "duplicate"
    edited = cli.json("edit", 1, "--title", "Login fails (dup)")
    assert edited["close_reason"] == "duplicate"  # other edits keep it
    cli.let_time_pass()
    reopened = cli.json("reopen", 1)
    assert (reopened["state"], reopened["close_reason"]) == ("open", None)
    cli.let_time_pass()
    assert cli.json("close", 1)["close_reason"] == "completed"


def test_a_bad_close_reason_is_exit_2_and_closes_nothing(seeded):
    with nothing_written(seeded):
        error = fails(seeded, 2, "usage", "close", 1, "--reason", "wontfix")
        assert "wontfix" in error["message"]
    assert seeded.json("show", 1)["state"] == "open"


# --------------------------------------------------------------------------- comment


def test_comment(seeded):
    result = seeded("comment", 1, "Reproduced on main")
    assert (result.exit_code, result.stdout) == (0, "commented on #1\n"), result
    comment = seeded.json("comment", "#1", "Root cause: the cookie")
    assert_shape(comment, COMMENT_SHAPE)
    assert comment["issue_number"] == 1 and comment["author"] == me(seeded)
    assert comment["body"] == "Root cause: the cookie"
    shown = seeded.json("show", 1, "--comments")
    assert shown["comments_count"] == 2
    assert shown["comments"][-1] == comment


def test_comment_body_from_stdin(seeded):
    text = "pytest output:\nFAILED test_login - AssertionError\n"
    comment = seeded.json("comment", 1, "-", input=text)
    assert comment["body"] == text
    assert seeded.json("show", 1, "--comments")["comments"][0]["body"] == text


def test_comment_edit_and_delete_by_id(seeded):
    cli = seeded
    first = cli.json("comment", 1, "Reproduced on mian")
    second = cli.json("comment", 1, "-b", "Second thought")
    shown = cli("show", 1, "--comments")
    assert f" · comment {first['id']}" in shown.stdout, shown  # where users find the ids
    cli.let_time_pass()
    result = cli("comment", 1, "--edit", first["id"], "--body", "Reproduced on main")
    assert (result.exit_code, result.stdout) == (0, f"edited comment {first['id']} on #1\n")
    edited = cli.json("comment", 1, "--edit", first["id"], "Reproduced on main, twice")
    assert_shape(edited, COMMENT_SHAPE)
    assert (edited["id"], edited["body"]) == (first["id"], "Reproduced on main, twice")
    assert edited["created_at"] == first["created_at"]
    assert parse_ts(edited["updated_at"]) > parse_ts(first["created_at"])
    with nothing_written(cli):
        fails(cli, 2, "usage", "comment", 1, "--delete", second["id"])  # not a terminal
    deleted = cli.json("comment", 1, "--delete", second["id"], "--yes")
    assert deleted == second  # the comment as it was
    shown = cli.json("show", 1, "--comments")
    assert shown["comments_count"] == 1 and shown["comments"] == [edited]
    fails(cli, 3, "not_found", "comment", 1, "--delete", second["id"], "--yes")
    fails(cli, 3, "not_found", "comment", 1, "--edit", second["id"], "back")


def test_a_comment_of_another_issue_is_refused_with_exit_3(seeded):
    cli = seeded
    theirs = cli.json("comment", 2, "On the button")
    with nothing_written(cli):
        error = fails(cli, 3, "not_found", "comment", 1, "--edit", theirs["id"], "-b", "mine")
        assert f"comment {theirs['id']} not found on issue #1" in error["message"]
        fails(cli, 3, "not_found", "comment", 1, "--delete", theirs["id"], "--yes")
        fails(cli, 3, "not_found", "comment", 99, "--edit", theirs["id"], "x")
    assert cli.json("show", 2, "--comments")["comments"] == [theirs]


def test_comment_edit_last_and_delete_last_as_in_gh(seeded):
    cli = seeded
    fails(cli, 3, "not_found", "comment", 5, "--edit-last", "-b", "nothing to edit")
    older = cli.json("comment", 5, "older")
    newer = cli.json("comment", 5, "newer")
    edited = cli.json("comment", 5, "--edit-last", "--body", "newer, edited")
    assert (edited["id"], edited["body"]) == (newer["id"], "newer, edited")
    assert cli.json("comment", 5, "--delete-last", "--yes")["id"] == newer["id"]
    assert [c["id"] for c in cli.json("show", 5, "--comments")["comments"]] == [older["id"]]


@pytest.mark.parametrize(
    "args",
    [
        ("comment", 1),  # no text
        ("comment", 1, "text", "-b", "text again"),
        ("comment", 1, "--delete", "1", "with text"),
        ("comment", 1, "--edit", "1", "--delete", "1"),
        ("comment", 1, "--edit-last", "--delete-last"),
        ("comment", 1, "--edit", "abc", "text"),
        ("comment", 1, "--edit", "0", "text"),
        ("comment", 1, "--edit", "1", "   "),
    ],
)
def test_bad_comment_edits_are_exit_2_and_write_nothing(seeded, args):
    cli = seeded
    cli.json("comment", 1, "keep me")
    with nothing_written(cli):
        result = cli(*args, "--format", "json")
        assert result.exit_code == 2, result
        assert result.error()["code"] in ("usage", "invalid")
    assert [c["body"] for c in cli.json("show", 1, "--comments")["comments"]] == ["keep me"]


# --------------------------------------------------------------------------- labels


def test_label_create_list_edit_delete(cli_backend):
    cli = cli_backend
    result = cli("label", "create", "bug", "--color", "d73a4a", "--description", "Broken")
    assert (result.exit_code, result.stdout) == (0, "created label bug\n"), result
    created = cli.json("label", "create", "docs", "--color", "#0F0")
    assert_shape(created, LABEL_SHAPE)
    assert created == {"name": "docs", "color": "00ff00", "description": None}
    cli.json("label", "create", "api")
    listed = cli.json("label", "list")
    for label in listed:
        assert_shape(label, LABEL_SHAPE)
        assert label["color"] is None or re.fullmatch("[0-9a-f]{6}", label["color"]), label
    assert [label["name"] for label in listed] == ["api", "bug", "docs"]
    assert listed[1] == {"name": "bug", "color": "d73a4a", "description": "Broken"}
    table = cli("label", "list")
    assert table.stdout.splitlines()[0].split() == ["NAME", "COLOR", "DESCRIPTION"]
    assert table.stdout.splitlines()[2].split() == ["bug", "#d73a4a", "Broken"]

    number = create(cli, "Labelled", "--label", "bug")["number"]
    renamed = cli.json("label", "edit", "bug", "--name", "defect", "--color", "ff0000")
    assert renamed == {"name": "defect", "color": "ff0000", "description": "Broken"}
    assert cli.json("show", number)["labels"] == ["defect"]
    described = cli.json("label", "edit", "defect", "--description", "Something is broken")
    assert described == {"name": "defect", "color": "ff0000", "description": "Something is broken"}

    deleted = cli.json("label", "delete", "defect")
    assert deleted == {"name": "defect", "deleted": True}
    assert [label["name"] for label in cli.json("label", "list")] == ["api", "docs"]
    assert cli.json("show", number)["labels"] == []
    fails(cli, 3, "not_found", "label", "delete", "defect")
    fails(cli, 3, "not_found", "label", "edit", "defect", "--color", "000000")


# --------------------------------------------------------------------------- milestones


def test_milestone_create_list_edit_close(cli_backend):
    cli = cli_backend
    result = cli("milestone", "create", "v2")
    assert (result.exit_code, result.stdout) == (0, "created milestone v2\n"), result
    created = cli.json(
        "milestone", "create", "v1", "--description", "First release", "--due", "2026-12-31"
    )
    assert_shape(created, MILESTONE_SHAPE)
    assert created["title"] == "v1" and created["description"] == "First release"
    assert created["state"] == "open" and created["closed_at"] is None
    assert created["due_on"].startswith("2026-12-31")
    listed = cli.json("milestone", "list")
    for milestone in listed:
        assert_shape(milestone, MILESTONE_SHAPE)
    assert [m["title"] for m in listed] == ["v1", "v2"]  # by due date, then title
    cli.json("milestone", "create", "v0")
    assert [m["title"] for m in cli.json("milestone", "list")] == ["v1", "v0", "v2"]

    open_one = create(cli, "open in v1", "--milestone", "v1")["number"]
    closed_one = create(cli, "closed in v1", "--milestone", "v1")["number"]
    cli.json("close", closed_one)
    counted = next(m for m in cli.json("milestone", "list") if m["title"] == "v1")
    assert (counted["open_issues"], counted["closed_issues"]) == (1, 1)

    edited = cli.json("milestone", "edit", "v1", "--title", "v1.0", "--description", "GA")
    assert (edited["title"], edited["description"]) == ("v1.0", "GA")
    assert edited["due_on"] == created["due_on"]
    assert cli.json("show", open_one)["milestone"] == "v1.0"

    closed = cli.json("milestone", "close", "v1.0")
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert [m["title"] for m in cli.json("milestone", "list")] == ["v0", "v2"]
    assert [m["title"] for m in cli.json("milestone", "list", "--state", "closed")] == ["v1.0"]
    assert len(cli.json("milestone", "list", "--state", "all")) == 3
    reopened = cli.json("milestone", "edit", "v1.0", "--state", "open")
    assert reopened["state"] == "open" and reopened["closed_at"] is None
    fails(cli, 3, "not_found", "milestone", "close", "v9")
    fails(cli, 3, "not_found", "milestone", "edit", "v9", "--title", "v10")


def test_milestone_delete_by_title_or_id_leaves_its_issues(cli_backend):
    cli = cli_backend
    v1 = cli.json("milestone", "create", "v1")
    v2 = cli.json("milestone", "create", "v2")
    in_v1 = create(cli, "in v1", "--milestone", "v1")["number"]
    in_v2 = create(cli, "in v2", "--milestone", "v2")["number"]
    with nothing_written(cli):
        error = fails(cli, 2, "usage", "milestone", "delete", "v1")  # not a terminal
        assert "--yes" in (error.get("hint") or "")
        fails(cli, 3, "not_found", "milestone", "delete", "v9", "--yes")
    result = cli("milestone", "delete", "v1", "--yes")
    assert (result.exit_code, result.stdout) == (0, "deleted milestone v1\n"), result
    assert cli.json("show", in_v1)["milestone"] is None
    assert cli.json("show", in_v2)["milestone"] == "v2"
    assert [m["title"] for m in cli.json("milestone", "list", "--state", "all")] == ["v2"]
    deleted = cli.json("milestone", "delete", v2["id"], "--yes")  # by id, as milestone list shows
    assert deleted == {"title": "v2", "id": v2["id"], "deleted": True, "issues": 1}
    assert cli.json("show", in_v2)["milestone"] is None
    assert cli.json("milestone", "list", "--state", "all") == []
    fails(cli, 3, "not_found", "milestone", "delete", v1["id"], "--yes")
    fails(cli, 3, "not_found", "edit", in_v1, "--milestone", "v1")


def test_milestone_edit_and_close_take_an_id_too(cli_backend):
    cli = cli_backend
    made = cli.json("milestone", "create", "v3")
    assert cli.json("milestone", "edit", made["id"], "--title", "v3.0")["title"] == "v3.0"
    closed = cli.json("milestone", "close", made["id"])
    assert (closed["id"], closed["title"], closed["state"]) == (made["id"], "v3.0", "closed")
    fails(cli, 3, "not_found", "milestone", "close", "999999")


def test_milestone_due_date_is_changed_or_clearly_kept(cli_backend):
    cli = cli_backend
    cli.json("milestone", "create", "v1", "--due", "2026-12-31")
    moved = cli.json("milestone", "edit", "v1", "--due", "2027-01-15T12:00:00Z")
    assert moved["due_on"] == "2027-01-15T12:00:00Z"
    cleared = cli("milestone", "edit", "v1", "--due", "", "--format", "json")
    if cleared.exit_code == 0:
        assert cleared.json()["due_on"] is None
    else:  # a backend that cannot remove a due date says so and changes nothing (exit 7)
        assert cleared.error()["code"] == "unsupported" and cleared.exit_code == 7, cleared
        assert cli.json("milestone", "list")[0]["due_on"] == "2027-01-15T12:00:00Z"


# --------------------------------------------------------------------------- users


def test_whoami_is_the_author_of_what_i_write(cli_backend):
    cli = cli_backend
    user = cli.json("whoami")
    assert_shape(user, USER_SHAPE, extra=("agent",))
    # With no --as, $ISSUE_CORE_AGENT or configured agent, the backend's own user acts.
    assert user["agent"] == user["username"]
    table = cli("whoami")
    assert (table.exit_code, table.stdout) == (0, user["username"] + "\n"), table
    assert cli("whoami", "--jq", ".username").stdout == user["username"] + "\n"
    number = create(cli, "Mine")["number"]
    assert cli.json("comment", number, "by me")["author"] == user["username"]
    assert cli.json("show", number)["author"] == user["username"]
    assert numbers(cli, "--author", "@me") == [number]


def test_user_list_includes_me_and_assignees(cli_backend):
    cli = cli_backend
    create(cli, "Assigned", "--assignee", "ann,bob")
    users = cli.json("user", "list")
    for user in users:
        assert_shape(user, USER_SHAPE)
    names = [user["username"] for user in users]
    assert names == sorted(names)
    assert {me(cli), "ann", "bob"} <= set(names)
    table = cli("user", "list")
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[0] == "USERNAME"


# --------------------------------------------------------------------------- backend test


def test_backend_test_reports_every_check(cli_backend):
    result = cli_backend("backend", "test", "--format", "json")
    info = result.json()
    assert_shape(info, BACKEND_INFO_SHAPE)
    assert info["ok"] is True
    assert info["name"] == CLI_BACKEND_NAME
    assert info["user"] == me(cli_backend)
    assert info["checks"]
    for check in info["checks"].values():
        assert set(check) == {"ok", "detail"}
        assert check["ok"] is True and isinstance(check["detail"], str)
    table = cli_backend("backend", "test")
    assert table.exit_code == 0, table
    assert table.stdout.splitlines()[0].startswith(f"Backend:   {CLI_BACKEND_NAME} (")
    assert "FAIL" not in table.stdout


# --------------------------------------------------------------------------- output options


def test_json_fields(seeded):
    listed = seeded.json("list", "--json", "number,title")
    assert listed == [
        {"number": 5, "title": "Tidy up"},
        {"number": 3, "title": "Write the guide"},
        {"number": 2, "title": "Button misaligned"},
        {"number": 1, "title": "Login fails"},
    ]
    assert seeded("list", "--json", "title,number").json()[0] == {"title": "Tidy up", "number": 5}
    shown = seeded("show", 1, "--json", "state,labels,milestone").json()
    assert shown == {"state": "open", "labels": ["bug"], "milestone": "v1"}
    seeded.json("comment", 1, "hello")
    with_comments = seeded("show", 1, "--json", "number,comments").json()
    assert [c["body"] for c in with_comments["comments"]] == ["hello"]
    assert seeded("label", "list", "--json", "name").json() == [
        {"name": "bug"},
        {"name": "docs"},
        {"name": "ui"},
    ]
    fields = seeded("list", "--json")
    assert fields.exit_code == 0 and fields.stdout.split() == list(ISSUE_SHAPE)
    error = fails(seeded, 2, "usage", "list", "--json", "number,nosuchfield")
    assert "nosuchfield" in error["message"]


def test_jq(seeded):
    first = seeded("list", "--jq", ".[0].number")
    assert (first.exit_code, first.stdout) == (0, "5\n"), first
    titles = seeded("list", "--label", "bug", "--jq", ".[].title")
    assert titles.stdout == "Button misaligned\nLogin fails\n"  # strings print raw
    assert seeded("show", 2, "--jq", ".labels").stdout == '["bug","ui"]\n'
    made = seeded("create", "Captured", "--json", "number", "--jq", ".number")
    assert (made.exit_code, made.stdout) == (0, "6\n"), made
    fails(seeded, 2, "usage", "list", "--jq", ".[")


def test_jsonl(seeded):
    result = seeded("list", "--state", "all", "--format", "jsonl")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert [json.loads(line) for line in lines] == seeded.json("list", "--state", "all")
    one = seeded("show", 1, "--format", "jsonl")
    assert one.stdout.count("\n") == 1 and json.loads(one.stdout) == seeded.json("show", 1)
    labels = seeded("label", "list", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["name"] for line in labels] == ["bug", "docs", "ui"]


# --------------------------------------------------------------------------- errors


def test_unknown_issue_is_exit_3(seeded):
    error = fails(seeded, 3, "not_found", "show", 999)
    assert "#999" in error["message"]
    with nothing_written(seeded):
        fails(seeded, 3, "not_found", "edit", 999, "--title", "Ghost")
        fails(seeded, 3, "not_found", "close", 999, "--comment", "bye")
        fails(seeded, 3, "not_found", "reopen", 999)
        fails(seeded, 3, "not_found", "comment", 999, "hello")
    plain = seeded("show", 999)
    assert (plain.exit_code, plain.stdout) == (3, ""), plain
    assert plain.stderr.startswith("issue: error: ") and plain.stderr.count("\n") == 1
    assert "#999" in plain.stderr


def strict_labels() -> None:
    """``labels.create = "never"`` in the user configuration the suite runs with."""
    import os

    config = Path(os.environ["ISSUE_CORE_CONFIG_DIR"]) / "config.toml"
    config.write_text(config.read_text() + '\n[labels]\ncreate = "never"\n')


def test_unknown_label_with_labels_create_never_is_exit_3(seeded):
    strict_labels()
    with nothing_written(seeded):
        error = fails(seeded, 3, "not_found", "create", "Needs a label", "--label", "nosuchlabel")
        assert "nosuchlabel" in error["message"]
        fails(seeded, 3, "not_found", "edit", 1, "--title", "Changed", "--add-label", "nosuchlabel")
        fails(seeded, 3, "not_found", "edit", 1, "--add-label", "bug,nosuchlabel")


def test_unknown_milestone_is_exit_3_and_creates_no_label(seeded):
    with nothing_written(seeded):
        error = fails(seeded, 3, "not_found", "create", "x", "--milestone", "v9")
        assert "v9" in error["message"]
        fails(
            seeded,
            3,
            "not_found",
            "create",
            "x",
            "--label",
            "fresh",
            "--create-labels",
            "--milestone",
            "v9",
        )
        fails(seeded, 3, "not_found", "edit", 1, "--title", "y", "--milestone", "v9")
        fails(
            seeded,
            3,
            "not_found",
            "edit",
            1,
            "--add-label",
            "fresh",
            "--create-labels",
            "--milestone",
            "v9",
        )


def test_bad_titles_are_exit_2(seeded):
    with nothing_written(seeded):
        for title in ("", "   ", "x" * 256, "two\nlines"):
            fails(seeded, 2, "invalid", "create", title)
            fails(seeded, 2, "invalid", "edit", 1, "--title", title)
    assert create(seeded, "x" * 255)["title"] == "x" * 255  # the limit itself is fine


def test_unknown_state_is_exit_2(seeded):
    with nothing_written(seeded):
        error = fails(seeded, 2, "usage", "edit", 1, "--state", "finished")
        assert "finished" in error["message"]
    fails(seeded, 2, "usage", "list", "--state", "finished")
    fails(seeded, 2, "usage", "list", "--state", "open,finished")


def test_edit_without_changes_is_exit_2(seeded):
    with nothing_written(seeded):
        error = fails(seeded, 2, "usage", "edit", 1)
    assert "nothing to change" in error["message"]


def test_non_numeric_number_is_exit_2(seeded):
    with nothing_written(seeded):
        for number in ("abc", "0", "-1", "1.5", "#x", ""):
            for command in (["show"], ["edit", "--title", "x"], ["close"], ["reopen"]):
                name, *options = command
                fails(seeded, 2, "usage", name, number, *options)
            fails(seeded, 2, "usage", "comment", number, "hello")


def test_empty_comment_is_exit_2(seeded):
    with nothing_written(seeded):
        fails(seeded, 2, "invalid", "comment", 1, "   ")
        fails(seeded, 2, "invalid", "comment", 1, "-", input="")
        fails(seeded, 2, "invalid", "close", 1, "--comment", "")


def test_duplicate_names_are_exit_4(seeded):
    seeded.json("milestone", "create", "v2")
    with nothing_written(seeded):
        error = fails(seeded, 4, "conflict", "label", "create", "bug")
        assert "bug" in error["message"]
        fails(seeded, 4, "conflict", "label", "edit", "ui", "--name", "bug")
        fails(seeded, 4, "conflict", "milestone", "create", "v1")
        fails(seeded, 4, "conflict", "milestone", "edit", "v2", "--title", "v1")


def test_errors_without_json_are_one_line(seeded):
    strict_labels()
    for args, code in (
        (["create", ""], 2),
        (["show", "abc"], 2),
        (["edit", "1", "--state", "finished"], 2),
        (["label", "create", "bug"], 4),
        (["edit", "1", "--add-label", "nosuchlabel"], 3),
    ):
        result: CliResult = seeded(*args)
        assert (result.exit_code, result.stdout) == (code, ""), result
        assert result.stderr.startswith("issue: error: ") and result.stderr.count("\n") == 1


# --------------------------------------------------------------------------- labels named on write


def test_original_walkthrough_creates_the_labels_it_names(cli_backend):
    cli = cli_backend
    result = cli(
        "create", "Implement user authentication", "--label=feature", "--label=priority:high"
    )
    assert result.exit_code == 0, result
    assert result.stdout.startswith("created #")
    assert "issue-core: created label(s) feature, priority:high\n" in result.stderr
    number = result.stdout.split()[1].lstrip("#")
    assert sorted(cli.json("show", number)["labels"]) == ["feature", "priority:high"]
    edited = cli("edit", number, "--add-label", "feature", "--add-label", "security")
    assert edited.exit_code == 0, edited
    assert edited.stderr == "issue-core: created label(s) security\n"  # only the new one
    again = cli("create", "Second", "--label", "feature")
    assert again.exit_code == 0 and "created label" not in again.stderr
    assert sorted(label["name"] for label in cli.json("label", "list")) == [
        "feature",
        "priority:high",
        "security",
    ]


def test_labels_create_never_keeps_a_fixed_label_set(cli_backend):
    cli = cli_backend
    strict_labels()
    with nothing_written(cli):
        refused = cli("create", "Strict", "--label", "unknown-label")
        assert refused.exit_code == 3 and "unknown-label" in refused.stderr
    assert cli("create", "Forced", "--label", "unknown-label", "--create-labels").exit_code == 0
