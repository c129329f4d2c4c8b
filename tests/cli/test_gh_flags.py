"""What gh users type: gh's short flags and names, on the local store (issue 8 §6)."""

from __future__ import annotations

import json

import click
import pytest

from issue_core.cli import reference
from issue_core.cli.main import cli


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def seeded(issue):
    """#1 bug (ann, v1), #2 docs (bob), #3 closed."""
    for args in (
        ("milestone", "create", "v1"),
        ("create", "Crash on start", "-l", "bug", "-a", "ann", "-m", "v1"),
        ("create", "Write the guide", "-l", "docs", "-a", "bob"),
        ("create", "Old thing"),
        ("close", "3"),
    ):
        assert issue(*args).exit_code == 0, args
    return issue


def numbers(result):
    return [item["number"] for item in as_json(result)]


@pytest.mark.parametrize(
    ("short", "long"),
    [
        (["-s", "all"], ["--state", "all"]),
        (["-s", "closed"], ["--state", "closed"]),
        (["-l", "bug"], ["--label", "bug"]),
        (["-a", "bob"], ["--assignee", "bob"]),
        (["-m", "v1"], ["--milestone", "v1"]),
        (["-A", "tester", "-s", "all"], ["--author", "tester", "--state", "all"]),
        (["-S", "guide"], ["--search", "guide"]),
        (["-L", "1"], ["--limit", "1"]),
    ],
)
def test_list_short_flags_are_the_long_ones(seeded, short, long):
    by_short = numbers(seeded("list", *short, "--format", "json"))
    assert by_short == numbers(seeded("list", *long, "--format", "json"))
    assert by_short  # each case selects something, so the comparison means something


def test_list_limit_short_flag_limits(seeded):
    assert numbers(seeded("list", "-s", "all", "-L", "2", "--format", "json")) == [3, 2]


def test_create_with_gh_flags(issue, tmp_path):
    assert issue("milestone", "create", "v1").exit_code == 0
    made = as_json(
        issue(
            "create",
            "-t",
            "Crash on start",
            "-b",
            "Steps: open it",
            "-l",
            "bug",
            "-a",
            "ann",
            "-m",
            "v1",
            "--format",
            "json",
        )
    )
    assert made["title"] == "Crash on start"
    assert made["description"] == "Steps: open it"
    assert made["labels"] == ["bug"] and made["assignees"] == ["ann"]
    assert made["milestone"] == "v1"
    long = as_json(issue("create", "--title", "Long", "--body", "text", "--format", "json"))
    assert (long["title"], long["description"]) == ("Long", "text")


def test_create_body_file_reads_a_file_or_stdin(issue, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("# Steps\n1. run\n", encoding="utf-8")
    from_file = as_json(issue("create", "A", "--body-file", str(body), "--format", "json"))
    assert from_file["description"] == "# Steps\n1. run\n"
    short = as_json(issue("create", "B", "-F", str(body), "--format", "json"))
    assert short["description"] == "# Steps\n1. run\n"
    piped = as_json(issue("create", "C", "--body-file", "-", "--format", "json", input="piped"))
    assert piped["description"] == "piped"


def test_description_options_stay_as_aliases(issue, tmp_path):
    made = as_json(issue("create", "A", "--description", "old name", "--format", "json"))
    assert made["description"] == "old name"
    piped = as_json(issue("create", "B", "--description-file", "-", "--format", "json", input="x"))
    assert piped["description"] == "x"


def test_body_and_body_file_together_is_a_usage_error(issue):
    result = issue("create", "A", "-b", "x", "--body-file", "-", input="y")
    assert result.exit_code == 2
    assert result.stderr.startswith("issue: error: give --body (--description) or --body-file")
    assert issue("list", "--format", "json").stdout.strip() == "[]"


def test_create_title_once(issue):
    missing = issue("create", "-b", "no title")
    assert missing.exit_code == 2
    assert "missing the title" in missing.stderr and len(missing.stderr.splitlines()) == 1
    twice = issue("create", "One", "-t", "Other")
    assert twice.exit_code == 2
    assert "give the title once" in twice.stderr
    assert issue("list", "--format", "json").stdout.strip() == "[]"
    same = as_json(issue("create", "Same", "-t", "Same", "--format", "json"))
    assert same["title"] == "Same"


def test_edit_with_gh_flags(seeded):
    edited = as_json(
        seeded(
            "edit",
            "1",
            "-t",
            "Crash on start-up",
            "-b",
            "Seen on 1.4",
            "-s",
            "in-progress",
            "-a",
            "bob",
            "-m",
            "",
            "--format",
            "json",
        )
    )
    assert edited["title"] == "Crash on start-up"
    assert edited["description"] == "Seen on 1.4"
    assert edited["state"] == "in_progress"
    assert edited["assignees"] == ["bob"]
    assert edited["milestone"] is None


def test_edit_body_file_from_stdin(seeded):
    edited = as_json(seeded("edit", "2", "-F", "-", "--format", "json", input="new text"))
    assert edited["description"] == "new text"


def test_close_reopen_comment_and_view_comments_short_flags(seeded):
    closed = as_json(seeded("close", "1", "-c", "Fixed in a1b2c3d", "--format", "json"))
    assert closed["state"] == "closed"
    reopened = as_json(seeded("reopen", "1", "-c", "Still happens", "--format", "json"))
    assert reopened["state"] == "open"
    shown = seeded("view", "1", "-c")
    assert shown.exit_code == 0
    assert "Fixed in a1b2c3d" in shown.stdout and "Still happens" in shown.stdout


def test_jq_short_flag(seeded):
    """``-q`` is ``--jq`` on commands without a query; on ``issue list`` it is the query and
    ``--jq`` keeps its long form."""
    result = seeded("show", "2", "-q", ".number")
    assert result.exit_code == 0
    assert result.stdout.split() == ["2"]
    listed = seeded("list", "-s", "all", "--jq", ".[].number")
    assert listed.stdout.split() == ["3", "2", "1"]
    assert seeded("list", "-q", "label:docs", "--jq", ".[].number").stdout.split() == ["2"]
    error = seeded("show", "99", "-q", ".number")
    assert error.exit_code == 3
    assert json.loads(error.stderr)["error"]["code"] == "not_found"  # -q asks for JSON errors


def all_commands():
    for path in reference.command_paths(cli):
        command: click.Command = cli
        # The root's context settings (-h): Click caches each command's help option from the
        # first context that asks, so a bare Context would change `--help` for later tests.
        ctx = click.Context(cli, info_name="issue", **cli.context_settings)
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(ctx, name)
            assert found is not None
            command = found
            ctx = click.Context(command, info_name=name, parent=ctx)
        yield " ".join(("issue", *path)), command, ctx


def test_no_command_has_two_options_with_one_name():
    """A short flag added twice would silently shadow another option."""
    for name, command, ctx in all_commands():
        seen: dict[str, str] = {}
        for param in command.get_params(ctx):
            for opt in (*param.opts, *param.secondary_opts):
                if not opt.startswith("-"):
                    continue
                assert opt not in seen, f"{name}: {opt} is both {seen[opt]} and {param.name}"
                seen[opt] = str(param.name)
