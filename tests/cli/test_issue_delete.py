"""`issue delete` on the local store: --yes off a terminal, typed confirmation on one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.terminal import run_on_terminal

ISSUE = str(Path(sys.executable).with_name("issue"))


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def titles(issue):
    return [item["title"] for item in as_json(issue("list", "--state", "all", "--format", "json"))]


def make(issue, *names):
    for name in names:
        assert issue("create", name).exit_code == 0


def test_without_a_terminal_yes_is_required(issue, git_project):
    result = issue("delete", "1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "issue: error: --yes required when not running interactively (deleting cannot be "
        "undone; pass --yes to delete without being asked)\n"
    )
    assert not (git_project / ".issue-core").exists()  # refused before opening anything
    make(issue, "Keep me")
    assert issue("delete", "1", input="1\n").exit_code == 2  # piped input is not a person
    assert titles(issue) == ["Keep me"]


def test_delete_with_yes(issue):
    make(issue, "One", "Two", "Three")
    result = issue("delete", "2", "--yes")
    assert result.exit_code == 0
    assert result.stdout == "deleted #2 Two\n"
    assert titles(issue) == ["Three", "One"]
    gone = issue("show", "2")
    assert gone.exit_code == 3
    assert issue("delete", "2", "--yes").exit_code == 3


def test_delete_several_and_json_shape(issue):
    make(issue, "One", "Two", "Three")
    deleted = as_json(issue("delete", "1", "#3", "1", "--yes", "--format", "json"))
    assert deleted == [
        {"number": 1, "title": "One", "deleted": True},
        {"number": 3, "title": "Three", "deleted": True},
    ]
    assert titles(issue) == ["Two"]
    only = as_json(issue("delete", "2", "--yes", "--json", "number,deleted"))
    assert only == [{"number": 2, "deleted": True}]


def test_one_unknown_number_deletes_none(issue):
    make(issue, "One", "Two")
    result = issue("delete", "1", "99", "2", "--yes")
    assert result.exit_code == 3
    assert result.stderr == "issue: error: issue #99 not found\n"
    assert titles(issue) == ["Two", "One"]


def test_numbers_are_checked_before_anything(issue):
    result = issue("delete", "--yes")
    assert result.exit_code == 2 and "Missing argument 'NUMBER...'" in result.stderr
    assert issue("delete", "x", "--yes").exit_code == 2


def on_a_terminal(args: list[str], typed: str) -> tuple[int, str, str]:
    """Run ``issue ARGS`` with stdin and stdout on a pseudo-terminal, typing ``typed``."""
    run = run_on_terminal(args, stdin=True, typed=typed)
    return run.code, run.screen, run.err


PROMPT = (
    "You're going to delete issue #{n} ({title}). This cannot be undone. To confirm, type the "
    "issue number: "
)


def test_on_a_terminal_typing_the_number_deletes(issue):
    make(issue, "One", "Two")
    code, shown, err = on_a_terminal(["delete", "1"], "1\n")
    assert code == 0, err
    assert err == PROMPT.format(n=1, title="One")
    assert shown == "1\ndeleted #1 One\n"  # the echoed answer, then the result
    assert titles(issue) == ["Two"]


def test_on_a_terminal_another_answer_keeps_the_issue(issue):
    make(issue, "One", "Two")
    code, shown, err = on_a_terminal(["delete", "1", "2"], "y\n2\n")
    assert code == 0, err
    assert err == PROMPT.format(n=1, title="One") + PROMPT.format(n=2, title="Two")
    assert shown.endswith("deleted #2 Two; not deleted: #1\n")
    assert titles(issue) == ["One"]
    code, shown, err = on_a_terminal(["delete", "1", "--format", "json"], "\n")
    assert code == 0, err
    assert json.loads(shown.split("\n", 1)[1]) == [{"number": 1, "title": "One", "deleted": False}]
    assert titles(issue) == ["One"]


def test_on_a_terminal_yes_skips_the_question(issue):
    make(issue, "One")
    code, shown, err = on_a_terminal(["delete", "1", "--yes"], "")
    assert (code, err) == (0, "")
    assert shown == "deleted #1 One\n"


def test_end_of_input_at_the_question_deletes_nothing(issue):
    make(issue, "One", "Two")
    code, _shown, err = on_a_terminal(["delete", "1", "2"], "1\n\x04")  # Ctrl-D at the second
    assert code == 1
    assert err.endswith("issue: aborted: end of input\n")
    assert titles(issue) == ["Two", "One"]


def test_titles_in_the_question_are_terminal_safe(issue):
    made = issue("create", "Evil \x1b]0;pwned\x07 title")
    assert made.exit_code == 0
    _code, _shown, err = on_a_terminal(["delete", "1"], "\n")
    assert "\x1b" not in err and "\\x1b]0;pwned\\x07" in err
