"""Issue text never drives the terminal: every human output path shows control sequences
visibly (``\\x1b``, ``\\u202e``) through the one sanitiser, and JSON output keeps them as data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import click
import pytest

from issue_core.cli import human
from issue_core.cli.errors import handle
from issue_core.cli.output import Outcome, OutputOptions, Records, render
from issue_core.cli.sanitize import for_terminal
from issue_core.core.errors import NotFound
from issue_core.core.interfaces import BackendInfo
from issue_core.core.models import Comment, Issue, Label, Milestone, User
from tests.cli.hostile import HOSTILE_BODY, HOSTILE_LINE, SEQUENCES, assert_inert

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- the sanitiser


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_every_kind_of_control_is_shown_not_obeyed(name):
    raw = SEQUENCES[name]
    shown = for_terminal(raw)
    assert_inert(shown)
    # Visible: every control becomes a backslash escape, everything else stays as it was.
    unescaped = re.sub(
        r"\\x([0-9a-f]{2})|\\u([0-9a-f]{4})", lambda m: chr(int(m[1] or m[2], 16)), shown
    )
    assert unescaped == raw


def test_escapes_name_the_character():
    assert for_terminal("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert for_terminal("\u202eabc") == "\\u202eabc"
    assert for_terminal("\x9b2J") == "\\x9b2J"
    assert for_terminal("x\x7f") == "x\\x7f"


def test_plain_text_is_returned_unchanged_including_other_scripts():
    text = "Fix the login bug — 日本語, émoji 🎉, Ελληνικά, עברית"
    assert for_terminal(text) == text
    assert for_terminal(text, multiline=True) == text


def test_single_lines_show_newlines_and_tabs_blocks_keep_them():
    assert for_terminal("a\nb\tc") == "a\\x0ab\\x09c"
    assert for_terminal("a\nb\tc", multiline=True) == "a\nb\tc"


def test_blocks_normalise_windows_line_ends_and_show_a_lone_carriage_return():
    assert for_terminal("one\r\ntwo\rthree", multiline=True) == "one\ntwo\\x0dthree"


# --------------------------------------------------------------------------- every renderer


def hostile_issue(**kwargs: object) -> Issue:
    fields: dict[str, object] = {
        "number": 7,
        "title": HOSTILE_LINE,
        "description": HOSTILE_BODY,
        "labels": [f"bug{SEQUENCES['osc52']}", f"p1{SEQUENCES['bidi_override']}"],
        "assignees": [f"ann{SEQUENCES['csi']}"],
        "milestone": f"v1{SEQUENCES['dcs']}",
        "author": f"mal{SEQUENCES['backspace']}",
        "url": f"https://x.example/{SEQUENCES['c1_osc']}",
        "created_at": NOW,
        "updated_at": NOW,
        "comments": [
            Comment(body=HOSTILE_BODY, author=f"eve{SEQUENCES['osc_title']}", created_at=NOW)
        ],
    }
    fields.update(kwargs)
    return Issue(**fields)  # type: ignore[arg-type]


RENDERABLE = {
    "issue list": lambda: [hostile_issue(), hostile_issue(number=8)],
    "issue show": hostile_issue,
    "labels": lambda: [Label(HOSTILE_LINE, "ff0000", HOSTILE_BODY)],
    "milestones": lambda: [Milestone(HOSTILE_LINE, description=HOSTILE_BODY, due_on=NOW)],
    "users": lambda: [User(HOSTILE_LINE, HOSTILE_LINE, f"a{SEQUENCES['apc']}@x")],
    "user card": lambda: User(HOSTILE_LINE, HOSTILE_LINE),
    "comments": lambda: [Comment(body=HOSTILE_BODY, author=HOSTILE_LINE, created_at=NOW)],
    "comment": lambda: Comment(body=HOSTILE_BODY, author=HOSTILE_LINE, created_at=NOW),
    "records (backend/outbox list)": lambda: Records(
        [{"name": HOSTILE_LINE, "url": [HOSTILE_LINE], "last_error": HOSTILE_BODY}],
        ["name", "url", "last_error"],
    ),
    "mapping": lambda: {HOSTILE_LINE: HOSTILE_BODY, "list": [HOSTILE_LINE]},
    "backend test": lambda: BackendInfo(
        type="gitea",
        name=HOSTILE_LINE,
        location=HOSTILE_LINE,
        user=HOSTILE_LINE,
        server_version=HOSTILE_LINE,
        checks={HOSTILE_LINE: (False, HOSTILE_BODY)},
    ),
    "plain strings": lambda: [HOSTILE_LINE, HOSTILE_BODY],
}


@pytest.mark.parametrize("what", sorted(RENDERABLE))
@pytest.mark.parametrize("columns", [None, "60"])
def test_every_human_renderer_neutralises_user_text(what, columns, monkeypatch):
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    plain = human.format_human(RENDERABLE[what](), color=False)
    coloured = human.format_human(RENDERABLE[what](), color=True)
    assert_inert(plain)
    assert_inert(coloured, colour=True)
    assert click.unstyle(coloured) == plain  # colour adds styling only, never user bytes


def test_the_card_keeps_body_lines_and_shows_the_carriage_return():
    card = human.issue_card(hostile_issue(), color=False)
    assert (
        "first line\nsecond \\x1b]52;c;eA==\\x07 line\\x0dOVERWRITE\n\tindented \\u202e x" in card
    )
    assert "  first line\n  second" in card  # the comment, indented line by line
    assert "#7  T <\\x1b]52;c;aGVsbG8=\\x07>" in card


def test_confirmation_lines_and_notes_are_neutralised(capsys):
    render(Outcome(None, message=f"created #1 {HOSTILE_LINE}"), OutputOptions())
    out = capsys.readouterr().out
    assert out.startswith("created #1 T <\\x1b]52;")
    assert_inert(out)


def test_error_messages_quoting_user_text_are_neutralised(capsys):
    code = handle(NotFound(f"label {HOSTILE_LINE} not found", hint=HOSTILE_LINE), ["x"])
    assert code == 3
    err = capsys.readouterr().err
    assert err.startswith("issue: error: label T <\\x1b]52;")
    assert_inert(err)


# --------------------------------------------------------------------------- through the CLI


@pytest.fixture
def hostile_store(issue, git_project):
    """A local store whose every text field came from an attacker.

    Milestone titles and user names with control characters are refused on input now, but a
    forge (or a store written before that check) can still hold them: they are written into the
    store directly, as such data would arrive."""
    import sqlite3

    assert issue("milestone", "create", "v1").exit_code == 0
    created = issue(
        "create",
        HOSTILE_LINE,
        "--description",
        HOSTILE_BODY,
        "--label",
        f"bug{SEQUENCES['osc52']}",
        "--assignee",
        "ann",
        "--milestone",
        "v1",
        "--create-labels",
    )
    assert created.exit_code == 0, created.output
    assert issue("comment", "1", HOSTILE_BODY).exit_code == 0
    hostile_user, hostile_milestone = f"ann{SEQUENCES['bidi_isolate']}", f"v1{SEQUENCES['dcs']}"
    with sqlite3.connect(git_project / ".issue-core" / "issues.db") as conn:
        conn.execute("UPDATE milestones SET title = ?", (hostile_milestone,))
        conn.execute("UPDATE issue_assignees SET username = ?", (hostile_user,))
        conn.execute("UPDATE users SET username = ? WHERE username = 'ann'", (hostile_user,))
    return issue


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "--state", "all", "--sort", "number"],
        ["show", "1", "--comments"],
        ["label", "list"],
        ["milestone", "list"],
        ["user", "list"],
        ["edit", "1", "--priority", "1"],
        ["close", "1"],
        ["reopen", "1", "--comment", HOSTILE_LINE],
        ["comment", "1", HOSTILE_BODY],
        ["create", HOSTILE_LINE],
        ["label", "create", f"new{SEQUENCES['osc52']}"],
    ],
)
@pytest.mark.parametrize("colour", [[], ["--color"]])
def test_cli_human_output_is_inert(hostile_store, args, colour):
    result = hostile_store(*colour, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert_inert(result.stdout, colour=bool(colour))
    assert_inert(result.stderr)


def test_created_line_shows_the_title_escaped(issue):
    result = issue("create", f"a{SEQUENCES['osc52']}b")
    assert result.stdout == "created #1 a\\x1b]52;c;aGVsbG8=\\x07b\n"


def test_errors_quoting_arguments_are_inert(hostile_store):
    for args in (
        ["milestone", "close", f"nope{SEQUENCES['osc52']}"],
        ["label", "edit", f"nope{SEQUENCES['bidi_override']}", "--color", "f00"],
        ["list", f"--nope{SEQUENCES['osc_title']}"],
        ["show", f"1{SEQUENCES['c1_csi']}"],
        ["milestone", "create", f"m{SEQUENCES['c1_csi']}"],  # refused, quoted safely
    ):
        result = hostile_store(*args)
        assert result.exit_code in (2, 3), result.output
        assert result.stderr.startswith("issue: error: ")
        assert_inert(result.stderr)


def test_json_output_keeps_the_text_exactly(hostile_store):
    shown = json.loads(hostile_store("show", "1", "--comments", "--format", "json").stdout)
    assert shown["title"] == HOSTILE_LINE
    assert shown["description"] == HOSTILE_BODY
    assert shown["comments"][0]["body"] == HOSTILE_BODY
    assert shown["labels"] == [f"bug{SEQUENCES['osc52']}"]
    lines = hostile_store("list", "--format", "jsonl").stdout.splitlines()
    assert json.loads(lines[0])["title"] == HOSTILE_LINE
    raw = hostile_store("show", "1", "--jq", ".title").stdout
    assert raw == HOSTILE_LINE + "\n"  # --jq prints strings raw, as gh does: it is data


def test_json_bytes_are_what_json_dumps_gives(hostile_store):
    from issue_core.cli.output import dumps

    result = hostile_store("list", "--format", "json")
    assert result.stdout == dumps(json.loads(result.stdout)) + "\n"


def test_json_on_a_terminal_escapes_what_json_leaves_raw(hostile_store, monkeypatch):
    from issue_core.cli import output

    monkeypatch.setattr(output, "_stdout_is_terminal", lambda: True)
    for args in (["--format", "json"], ["--format", "jsonl"], ["--json", "title,labels"]):
        result = hostile_store("show", "1", *args)
        assert_inert(result.stdout)
        assert json.loads(result.stdout)["title"] == HOSTILE_LINE  # the same data
    raw = hostile_store("show", "1", "--jq", ".title").stdout
    assert_inert(raw)
    assert raw.startswith("T <\\x1b]52;c;aGVsbG8=\\x07>")
