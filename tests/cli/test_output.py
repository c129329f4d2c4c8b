"""The one output path, on constructed domain objects (no backend involved)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner

from issue_core.cli import human
from issue_core.cli.main import IssueCLI
from issue_core.cli.output import (
    Outcome,
    OutputOptions,
    Records,
    output_options,
    parse_fields,
    render,
    select_fields,
    to_jsonable,
)
from issue_core.core.errors import UsageError
from issue_core.core.interfaces import BackendInfo
from issue_core.core.models import ISSUE_FIELDS, Comment, Issue, Label, Milestone, User

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def make_issue(number: int = 1, title: str = "Fix the bug", **kwargs: object) -> Issue:
    defaults: dict[str, object] = {
        "labels": ["bug", "p1"],
        "assignees": ["ann"],
        "author": "bob",
        "created_at": NOW - timedelta(days=2),
        "updated_at": NOW - timedelta(hours=3),
    }
    defaults.update(kwargs)
    return Issue(title=title, number=number, **defaults)  # type: ignore[arg-type]


@click.command()
@click.option("--kind", default="issues")
@output_options(ISSUE_FIELDS, empty="no issues match")
def sample(kind: str) -> object:
    """A command that returns whatever the test asks for."""
    if kind == "issues":
        return [make_issue(1), make_issue(2, "Second", labels=[], assignees=[])]
    if kind == "empty":
        return []
    if kind == "one":
        return Outcome(make_issue(7), message="created #7 Fix the bug")
    raise AssertionError(kind)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    """Invoke ``sample`` under the real root group, so errors take the CLI's one error path."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)

    @click.group(cls=IssueCLI, lazy={})
    @click.option("--color/--no-color", "color", default=None)
    @click.pass_context
    def root(ctx: click.Context, color: bool | None) -> None:
        ctx.obj = {"color": color}

    root.add_command(sample)
    runner = CliRunner()

    def invoke(*args: str, color: list[str] | None = None, **kw: object):
        return runner.invoke(root, [*(color or []), "sample", *args], **kw)

    return invoke


# --------------------------------------------------------------------------- JSON shapes


def test_list_renders_as_json_array_of_issue_dicts(run):
    result = run("--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [item["number"] for item in data] == [1, 2]
    assert data[0] == make_issue(1).to_dict()


def test_format_equals_form_is_accepted(run):
    assert json.loads(run("--format=json").stdout)[1]["title"] == "Second"


def test_jsonl_prints_one_object_per_line(run):
    lines = run("--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["number"] for line in lines] == [1, 2]


def test_single_object_renders_as_object_and_message_only_in_table_mode(run):
    assert json.loads(run("--kind", "one", "--format", "json").stdout)["number"] == 7
    assert run("--kind", "one").stdout == "created #7 Fix the bug\n"


def test_json_fields_keep_only_those_fields_in_order(run):
    result = run("--json", "title,number")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data == [{"title": "Fix the bug", "number": 1}, {"title": "Second", "number": 2}]
    assert list(data[0]) == ["title", "number"]


def test_json_fields_with_jsonl(run):
    lines = run("--json", "number", "--format", "jsonl").stdout.splitlines()
    assert lines == ['{"number":1}', '{"number":2}']


def test_json_without_value_lists_the_fields(run):
    result = run("--json")
    assert result.exit_code == 0
    assert result.stdout.split() == list(ISSUE_FIELDS)


def test_unknown_json_field_is_usage_error_naming_valid_fields(run):
    result = run("--json", "number,nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert json.loads(result.stderr)["error"]["hint"].startswith("available fields: number, title")
    assert "'nope'" in json.loads(result.stderr)["error"]["message"]


def test_jq_prints_strings_raw_and_other_values_as_json(run):
    assert run("--jq", ".[0].title").stdout == "Fix the bug\n"
    assert run("--jq", ".[].number").stdout == "1\n2\n"
    assert run("--jq", ".[0].labels").stdout == '["bug","p1"]\n'


def test_jq_combines_with_json_fields(run):
    assert run("--json", "number", "--jq", "map(.number) | add").stdout == "3\n"


def test_bad_jq_expression_is_usage_error(run):
    result = run("--jq", ".[")
    assert result.exit_code == 2
    assert "invalid jq expression" in result.output


def test_jq_runtime_error_is_usage_error(run):
    result = run("--jq", ".title")  # indexing an array with a string
    assert result.exit_code == 2
    assert "jq expression failed" in result.output


def test_json_options_with_format_table_conflict(run):
    assert run("--format", "table", "--json", "number").exit_code == 2


def test_empty_list_is_empty_array_in_json_and_a_stderr_note_in_tables(run):
    assert run("--kind", "empty", "--format", "json").stdout.strip() == "[]"
    table = run("--kind", "empty")
    assert table.exit_code == 0
    assert table.stdout == ""
    assert table.stderr == "no issues match\n"


def test_to_jsonable_handles_nested_domain_objects_and_paths(tmp_path):
    data = to_jsonable({"label": Label("bug"), "when": NOW, "where": tmp_path, "n": [User("a")]})
    assert data == {
        "label": {"name": "bug", "color": None, "description": None},
        "when": "2026-11-25T08:00:00Z",
        "where": str(tmp_path),
        "n": [{"username": "a", "name": None, "email": None}],
    }
    assert to_jsonable(Records([{"a": 1}], ["a"])) == [{"a": 1}]


def test_select_fields_on_object_and_list():
    assert select_fields({"a": 1, "b": 2}, ["b"]) == {"b": 2}
    assert select_fields([{"a": 1}], ["a", "b"]) == [{"a": 1, "b": None}]


def test_parse_fields_rejects_empty_and_dedupes():
    assert parse_fields("a, b,a", ["a", "b"]) == ("a", "b")
    with pytest.raises(UsageError):
        parse_fields(",", ["a"])


# --------------------------------------------------------------------------- tables


def test_table_has_headers_and_aligned_columns(run):
    lines = run().stdout.splitlines()
    assert lines[0].split() == ["NUMBER", "STATE", "TITLE", "LABELS", "ASSIGNEE", "UPDATED"]
    assert lines[1].startswith("#1  ")
    title_column = lines[0].index("TITLE")
    assert lines[1][title_column:].startswith("Fix the bug")
    assert lines[2][title_column:].startswith("Second")
    assert "bug, p1" in lines[1] and "ann" in lines[1]
    assert "\x1b[" not in run().stdout  # not a terminal: no colour


def test_titles_are_truncated_to_the_terminal_width(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    issue = make_issue(title="A very long title " * 10)
    text = human.issues_table([issue], color=False)
    assert "…" not in text  # piped, no $COLUMNS: never cut
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "80")
        narrow = human.issues_table([issue], color=False)
    assert all(human.display_width(line) <= 80 for line in narrow.splitlines())
    assert "…" in narrow and "A very long title" in narrow


def test_colour_only_on_request_or_terminal(run, monkeypatch):
    assert "\x1b[" in run(color=["--color"]).stdout
    assert "\x1b[" not in run(color=["--no-color"]).stdout
    monkeypatch.setenv("NO_COLOR", "1")
    assert OutputOptions().use_color() is False
    assert OutputOptions(color=True).use_color() is True


def test_colour_does_not_break_alignment():
    rows = [make_issue(1, state="open"), make_issue(22, state="in_progress")]
    plain = human.issues_table(rows, color=False).splitlines()
    coloured = human.issues_table(rows, color=True).splitlines()
    assert [click.unstyle(line) for line in coloured] == plain


def test_wide_characters_count_double():
    assert human.display_width("日本") == 4
    assert human.truncate("日本語のタイトル", 7) == "日本語…"
    assert human.pad("日本", 5) == "日本 "


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("zero\u200bwidth", 9),  # a zero-width space takes no column
        ("soft\u00adhyphen", 11),  # a soft hyphen is shown (one column)
        (
            "\u0e01\u0e31",
            1,
        ),  # a Thai vowel sign (non-spacing, combining class 0) rides on its letter
        ("\u2764\ufe0f", 2),  # a variation selector 16 turns the heart into a wide emoji
        ("\u26a0\ufe0f warn", 7),
        ("\U0001f680\ufe0f", 2),  # already wide: the selector adds nothing
        ("a\u200db", 2),  # a zero-width joiner joins, it is not shown
        ("\u1100\u1161", 2),  # a Hangul syllable from jamo: the vowel joins the wide consonant
    ],
)
def test_characters_a_terminal_does_not_advance_over_take_no_column(text, columns):
    assert human.display_width(text) == columns


def test_zero_width_characters_in_titles_keep_the_table_aligned(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    rows = [
        make_issue(1, title="plain title", labels=["one"]),
        make_issue(2, title="zero\u200bwidth\u200b!", labels=["two"]),  # 11 columns, as above
        make_issue(3, title="\u26a0\ufe0f careful", labels=["three"]),  # 10 columns
    ]
    lines = human.issues_table(rows, color=False).splitlines()
    # The LABELS column starts at the same terminal column on every row. Counted here by hand:
    # every character before it takes one column, but row 2's two zero-width spaces take none
    # (and row 3's warning sign with its selector takes the two columns of its two characters).
    zero_width_before_label = [0, 2, 0]
    starts = [
        line.index(label) - hidden
        for line, label, hidden in zip(
            lines[1:], ["one", "two", "three"], zero_width_before_label, strict=True
        )
    ]
    assert starts == [lines[0].index("LABELS")] * 3, lines


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=30), "30 minutes ago"),
        (timedelta(hours=3), "3 hours ago"),
        (timedelta(days=1, hours=2), "1 day ago"),
        (timedelta(days=9), "9 days ago"),
        (timedelta(days=65), "2 months ago"),
        (timedelta(days=800), "2 years ago"),
        (timedelta(seconds=-30), "just now"),  # clock skew
    ],
)
def test_relative_age(delta, text):
    assert human.relative_age(NOW - delta, NOW) == text
    assert human.relative_age(None, NOW) == "-"


def test_issue_card_shows_every_field_and_comments():
    issue = make_issue(
        12,
        description="Steps:\n1. open\n2. crash",
        milestone="v1",
        comments=[
            Comment(body="Seen it\ntoo", author="cy", id="17", created_at=NOW, updated_at=NOW),
            Comment(body="Fixed", author="dee", id="18", created_at=NOW, updated_at=LATER),
        ],
    )
    card = human.issue_card(issue, color=False)
    assert card.splitlines()[0] == "#12  Fix the bug"
    for expected in (
        "State:     open",
        "Labels:    bug, p1",
        "Assignees: ann",
        "Milestone: v1",
        "Author:    bob",
        "Created:   2026-11-23T08:00:00Z",
        "Steps:\n1. open",
        "Comments (2)",
        "cy · ",
        "  Seen it\n  too",
    ):
        assert expected in card
    # The ids that `issue comment N --edit ID` / `--delete ID` take, and which were edited.
    headers = [line for line in card.splitlines() if " · " in line]
    assert headers[0].endswith(" · comment 17") and headers[1].endswith(" · comment 18 (edited)")
    assert "Closed:" not in card


def test_other_domain_objects_have_tables():
    labels = human.format_human([Label("bug", "ff0000", "Broken")], color=False)
    assert labels.splitlines()[1].split() == ["bug", "#ff0000", "Broken"]
    milestones = human.format_human([Milestone("v1", due_on=NOW, open_issues=2)], color=False)
    assert milestones.splitlines()[1].split() == ["v1", "open", "2026-11-25", "2", "0"]
    users = human.format_human([User("ann", "Ann", "a@x")], color=False)
    assert users.splitlines()[1].split() == ["ann", "Ann", "a@x"]
    records = human.format_human(
        Records([{"name": "x", "flag": True, "n": None}], ["name", "flag"]), color=False
    )
    assert records.splitlines() == ["NAME  FLAG", "x     yes"]


def test_backend_info_card_marks_failures():
    info = BackendInfo(type="local", name="l", checks={"a": (True, "fine"), "b": (False, "bad")})
    card = human.backend_info_card(info, color=False)
    assert "ok    a: fine" in card and "FAIL  b: bad" in card


def test_render_outside_a_command(capsys):
    render([Label("bug")], OutputOptions(format="json"))
    assert json.loads(capsys.readouterr().out) == [
        {"name": "bug", "color": None, "description": None}
    ]


def test_narrow_terminal_never_widens_short_titles(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")  # narrower than a title could grow, wider than the table
    lines = human.issues_table([make_issue(title="Tiny")], color=False).splitlines()
    assert lines[0].index("LABELS") - lines[0].index("TITLE") == len("TITLE") + len(human.GAP)


def test_json_is_compact_in_a_pipe_and_indented_on_a_terminal(issue, monkeypatch):
    from issue_core.cli import output

    issue("create", "x")
    piped = issue("show", "1", "--format", "json")
    assert piped.stdout.count("\n") == 1 and piped.stdout.startswith('{"number":1,')
    monkeypatch.setattr(output, "_stdout_is_terminal", lambda: True)
    on_terminal = issue("show", "1", "--format", "json")
    assert on_terminal.stdout.startswith('{\n  "number": 1,')
    assert json.loads(on_terminal.stdout) == json.loads(piped.stdout)


def test_a_cut_title_with_emoji_selectors_fits_its_column():
    title = "\u26a0\ufe0f\u26a0\ufe0f\u26a0\ufe0f\u26a0\ufe0f"  # four warning emoji, 8 columns
    assert human.truncate(title, 6) == "\u26a0\ufe0f\u26a0\ufe0f…"  # 2 + 2 + 1 columns
    assert human.truncate(title, 8) == title
