"""Issue commands over the local backend, in a fresh git repository per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STORE_NOTE = "issue-core: created local store at"


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_of(result):
    assert result.stdout == ""
    return json.loads(result.stderr)["error"]


@pytest.fixture
def seeded(issue):
    """Three issues: #1 bug (ann), #2 docs in progress, #3 closed."""
    issue("label", "create", "bug")
    issue("label", "create", "docs")
    issue("milestone", "create", "v1")
    issue(
        "create",
        "Crash on start",
        "--label",
        "bug",
        "--assignee",
        "ann",
        "--milestone",
        "v1",
        "--description",
        "It crashes",
    )
    issue("create", "Write the guide", "--label", "docs")
    issue("edit", "2", "--state", "in-progress")
    issue("create", "Old thing")
    issue("close", "3")
    return issue


# --------------------------------------------------------------------------- zero-config store


def test_reads_on_a_new_project_create_nothing(issue, git_project):
    result = issue("list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "no issues match\n"
    assert as_json(issue("list", "--format", "json")) == []
    assert not (git_project / ".issue-core").exists()


def test_first_write_announces_the_store_once(issue, git_project):
    first = issue("create", "First")
    assert first.exit_code == 0
    assert first.stdout == "created #1 First\n"
    store = git_project / ".issue-core" / "issues.db"
    assert first.stderr == f"{STORE_NOTE} {store}\n"
    second = issue("create", "Second")
    assert second.stderr == ""
    assert store.exists()


def test_store_notes_are_terminal_safe(issue, tmp_path, monkeypatch):
    """The "created local store" note goes through the CLI's one note path, which renders
    control characters in the path visibly instead of letting them drive the terminal."""
    from tests.conftest import git_init

    hostile = git_init(tmp_path / "re\x1b]0;owned\x07po")
    monkeypatch.chdir(hostile)
    result = issue("create", "First")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert result.stderr.startswith(STORE_NOTE) and "re\\x1b]0;owned" in result.stderr
    elsewhere = issue("init", "--path", str(hostile / "b\x1bc.db"))
    assert elsewhere.exit_code == 0 and "\x1b" not in elsewhere.stderr


def test_init_creates_then_finds_the_store(issue, git_project):
    created = issue("init")
    store = git_project / ".issue-core" / "issues.db"
    assert created.exit_code == 0
    assert created.stdout == f"created local store at {store}\n"
    assert created.stderr == ""
    found = as_json(issue("init", "--format", "json"))
    assert found == {"backend": "local", "path": str(store), "created": False}


def test_init_with_path_creates_that_store_and_says_how_to_use_it(issue, tmp_path):
    target = tmp_path / "elsewhere" / "s.db"
    result = issue("init", "--path", str(target))
    assert result.exit_code == 0
    assert target.exists()
    assert f"--path {target} --default" in result.stderr


def test_subdirectory_uses_the_same_store(issue, git_project, monkeypatch):
    issue("create", "At the top")
    sub = git_project / "src" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert [i["title"] for i in as_json(issue("list", "--format", "json"))] == ["At the top"]
    assert not (sub / ".issue-core").exists()


# --------------------------------------------------------------------------- create / show


def test_create_json_is_the_stored_issue(issue):
    data = as_json(
        issue(
            "create",
            "Fix it",
            "--label",
            "a,b",
            "--label",
            "c",
            "--create-labels",
            "--assignee",
            "ann,bob",
            "--format",
            "json",
        )
    )
    assert data["number"] == 1
    assert data["title"] == "Fix it"
    assert data["labels"] == ["a", "b", "c"]
    assert data["assignees"] == ["ann", "bob"] and data["assignee"] == "ann"
    assert data["author"] == "tester"
    assert data["state"] == "open"


def test_create_reads_description_from_file_and_stdin(issue, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("# Steps\n1. run\n")
    from_file = as_json(issue("create", "A", "--description-file", str(body), "--format", "json"))
    assert from_file["description"] == "# Steps\n1. run\n"
    from_stdin = as_json(
        issue("create", "B", "--description-file", "-", "--format", "json", input="piped text")
    )
    assert from_stdin["description"] == "piped text"


def test_create_rejects_both_description_sources(issue, tmp_path):
    result = issue("create", "A", "--description", "x", "--description-file", "-")
    assert result.exit_code == 2


def test_create_with_missing_description_file_is_usage_error(issue, tmp_path):
    result = issue("create", "A", "--description-file", str(tmp_path / "missing.md"))
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_assignee_me_means_the_identity(issue):
    assert as_json(issue("create", "Mine", "--assignee", "@me", "--format", "json"))[
        "assignees"
    ] == ["tester"]
    assert as_json(issue("list", "--assignee", "@me", "--json", "title")) == [{"title": "Mine"}]


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "title must not be empty"),
        ("   ", "title must not be empty"),
        ("x" * 256, "the limit is 255"),
    ],
)
def test_bad_titles_are_usage_errors_and_create_no_store(issue, git_project, title, message):
    result = issue("create", title)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (git_project / ".issue-core").exists()


def test_unknown_label_is_created_with_a_note_unless_configured_never(issue, git_project):
    created = issue("create", "x", "--label", "nope")
    assert created.exit_code == 0 and "issue-core: created label(s) nope\n" in created.stderr
    (git_project / ".issue-core" / "config.toml").write_text('[labels]\ncreate = "never"\n')
    result = issue("create", "x", "--label", "nope2", "--format", "json")
    assert result.exit_code == 3
    error = error_of(result)
    assert error["code"] == "not_found"
    assert "--create-labels" in error["hint"]


def test_unknown_milestone_is_not_found(issue):
    issue("create", "seed")
    assert issue("create", "x", "--milestone", "v9").exit_code == 3


def test_show_card_and_json(seeded):
    card = seeded("show", "1")
    assert card.exit_code == 0
    assert card.stdout.splitlines()[0] == "#1  Crash on start"
    assert "Milestone: v1" in card.stdout and "It crashes" in card.stdout
    data = as_json(seeded("show", "#1", "--format", "json"))
    assert data["number"] == 1 and "comments" not in data


def test_show_comments_in_card_and_json(seeded):
    seeded("comment", "1", "First look")
    card = seeded("show", "1", "--comments").stdout
    assert "Comments (1)" in card and "First look" in card
    data = as_json(seeded("show", "1", "--comments", "--format", "json"))
    assert [c["body"] for c in data["comments"]] == ["First look"]
    only = as_json(seeded("show", "1", "--json", "number,comments"))
    assert only == {"number": 1, "comments": [data["comments"][0]]}


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "1.5", "#", "#x"])
def test_non_numeric_or_non_positive_numbers_are_usage_errors(issue, bad):
    result = issue("show", "--", bad)
    assert result.exit_code == 2
    assert "not an issue number" in result.stderr


def test_unknown_number_is_not_found(seeded):
    result = seeded("show", "99")
    assert result.exit_code == 3
    assert result.stderr == "issue: error: issue #99 not found\n"
    assert error_of(seeded("show", "99", "--format", "json"))["exit_code"] == 3


# --------------------------------------------------------------------------- list


def numbers(result):
    return [item["number"] for item in as_json(result)]


def test_list_defaults_to_not_closed_newest_first(seeded):
    assert numbers(seeded("list", "--format", "json")) == [2, 1]
    assert numbers(seeded("list", "--state", "open", "--format", "json")) == [1]
    assert numbers(seeded("list", "--state", "open,closed", "--format", "json")) == [3, 1]
    assert numbers(seeded("list", "--state", "open", "--state", "closed", "--format", "json")) == [
        3,
        1,
    ]
    assert numbers(seeded("list", "--state", "all", "--format", "json")) == [3, 2, 1]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--state", "closed"], [3]),
        (["--state", "in-progress"], [2]),
        (["--state", "in_progress"], [2]),
        (["--state", "all", "--label", "bug"], [1]),
        (["--state", "all", "--label", "bug,docs"], []),
        (["--state", "all", "--assignee", "ann"], [1]),
        (["--state", "all", "--milestone", "v1"], [1]),
        (["--state", "all", "--author", "tester"], [3, 2, 1]),
        (["--state", "all", "--author", "nobody"], []),
        (["--state", "all", "--search", "guide"], [2]),
        (["--state", "all", "--sort", "number", "--order", "asc"], [1, 2, 3]),
        (["--state", "all", "--limit", "2", "--order", "asc"], [1, 2]),
        (["--state", "all", "--limit", "0"], [3, 2, 1]),
        (["--state", "all", "--since", "2000-01-01"], [3, 2, 1]),
        (["--state", "all", "--since", "2999-01-01T00:00:00Z"], []),
    ],
)
def test_list_filters(seeded, args, expected):
    assert numbers(seeded("list", *args, "--format", "json")) == expected


def test_list_unknown_label_matches_nothing(seeded):
    assert as_json(seeded("list", "--label", "nope", "--format", "json")) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--state", "bogus"],
        ["--sort", "title"],
        ["--order", "up"],
        ["--limit", "-1"],
        ["--limit", "many"],
        ["--since", "yesterday"],
        ["--frobnicate"],
        ["--format", "xml"],
    ],
)
def test_list_bad_options_are_usage_errors(seeded, args):
    result = seeded("list", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("issue: error: ")
    assert result.stderr.count("\n") == 1
    as_json_error = error_of(seeded("list", "--format=json", *args))
    assert as_json_error["code"] == "usage" and as_json_error["exit_code"] == 2


def test_list_table_and_jq(seeded):
    table = seeded("list", "--state", "all").stdout.splitlines()
    assert table[0].split()[:3] == ["NUMBER", "STATE", "TITLE"]
    assert [line.split()[0] for line in table[1:]] == ["#3", "#2", "#1"]
    assert "in_progress" in table[2]
    titles = seeded("list", "--state", "all", "--jq", ".[].title")
    assert titles.stdout == "Old thing\nWrite the guide\nCrash on start\n"


# --------------------------------------------------------------------------- edit


def test_edit_changes_only_named_fields(seeded):
    result = seeded(
        "edit",
        "1",
        "--title",
        "Crash at boot",
        "--add-label",
        "docs",
        "--remove-label",
        "bug",
        "--assignee",
        "bob,cy",
        "--milestone",
        "",
    )
    assert result.exit_code == 0
    assert result.stdout == "updated #1 Crash at boot\n"
    data = as_json(seeded("show", "1", "--format", "json"))
    assert data["title"] == "Crash at boot"
    assert data["labels"] == ["docs"]
    assert data["assignees"] == ["bob", "cy"]
    assert data["milestone"] is None
    assert data["description"] == "It crashes"


def test_edit_clears_assignees_with_empty_string(seeded):
    data = as_json(seeded("edit", "1", "--assignee", "", "--format", "json"))
    assert data["assignees"] == []


def test_edit_description_and_state(seeded):
    data = as_json(
        seeded("edit", "#1", "--description", "new", "--state", "closed", "--format", "json")
    )
    assert data["description"] == "new" and data["state"] == "closed" and data["closed_at"]


def test_edit_without_changes_is_usage_error(seeded):
    result = seeded("edit", "1")
    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_edit_unknown_label_needs_create_labels_when_configured_never(seeded, git_project):
    (git_project / ".issue-core" / "config.toml").write_text('[labels]\ncreate = "never"\n')
    assert seeded("edit", "1", "--add-label", "new").exit_code == 3
    data = as_json(seeded("edit", "1", "--add-label", "new", "--create-labels", "--format", "json"))
    assert data["labels"] == ["bug", "new"]


def test_edit_unknown_issue_and_bad_state(seeded):
    assert seeded("edit", "42", "--title", "x").exit_code == 3
    assert seeded("edit", "1", "--state", "done").exit_code == 2
    assert seeded("edit", "1", "--title", "").exit_code == 2


# ------------------------------------------------------------ close / reopen / comment


def test_close_and_reopen_with_comments(seeded):
    closed = seeded("close", "1", "--comment", "Fixed in abc")
    assert closed.stdout == "closed #1 Crash on start\n"
    data = as_json(seeded("show", "1", "--comments", "--format", "json"))
    assert data["state"] == "closed"
    assert [c["body"] for c in data["comments"]] == ["Fixed in abc"]
    reopened = as_json(seeded("reopen", "1", "--format", "json"))
    assert reopened["state"] == "open" and reopened["closed_at"] is None


def test_closing_a_closed_issue_succeeds_without_change(seeded):
    before = as_json(seeded("show", "3", "--format", "json"))
    result = seeded("close", "3")
    assert result.exit_code == 0
    assert result.stdout == "#3 was already closed: Old thing\n"
    assert as_json(seeded("show", "3", "--format", "json"))["version"] == before["version"]
    assert seeded("reopen", "1").stdout == "#1 was already open: Crash on start\n"
    seeded("edit", "1", "--state", "in_progress")
    assert seeded("reopen", "1").stdout == "#1 was already in_progress: Crash on start\n"


def test_close_unknown_issue(seeded):
    assert seeded("close", "77").exit_code == 3
    assert seeded("close", "x").exit_code == 2


def test_comment_from_argument_and_stdin(seeded):
    added = seeded("comment", "2", "On it")
    assert added.exit_code == 0
    assert added.stdout == "commented on #2\n"
    data = as_json(seeded("comment", "2", "-", "--format", "json", input="log line 1\nline 2\n"))
    assert data["body"] == "log line 1\nline 2\n"
    assert data["author"] == "tester" and data["issue_number"] == 2
    assert as_json(seeded("show", "2", "--format", "json"))["comments_count"] == 2


def test_empty_comment_is_usage_error(seeded):
    assert seeded("comment", "2", "  ").exit_code == 2
    assert seeded("comment", "2", "-", input="").exit_code == 2


def test_comment_on_unknown_issue(seeded):
    assert seeded("comment", "99", "hello").exit_code == 3


# --------------------------------------------------------------------------- global options


def test_backend_option_and_environment_variable(issue, git_project, tmp_path):
    other = tmp_path / "other.db"
    assert issue("backend", "add", "other", "local", "--path", str(other)).exit_code == 0
    issue("--backend", "other", "create", "In other")
    assert other.exists()
    assert [i["title"] for i in as_json(issue("list", "--format", "json"))] == []
    via_env = issue("list", "--format", "json", env={"ISSUE_CORE_BACKEND": "other"})
    assert [i["title"] for i in as_json(via_env)] == ["In other"]
    unknown = issue("--backend", "nope", "list")
    assert unknown.exit_code == 3
    assert "no backend named 'nope'" in unknown.stderr


def test_version_and_help(issue):
    assert issue("--version").stdout.startswith("issue-core ")
    assert issue("list", "--help").exit_code == 0
    assert issue("list", "-h").stdout.startswith("Usage: issue list")
    assert issue("nosuchcommand").exit_code == 2


def test_created_store_is_in_a_repo_not_in_cwd_outside_git(issue, tmp_path, monkeypatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    issue("create", "x")
    assert (plain / ".issue-core" / "issues.db").exists()
    assert Path(plain / ".issue-core" / ".gitignore").exists()


def test_priority_and_due_date_on_create_edit_and_show(issue):
    created = as_json(
        issue("create", "Rotate keys", "--priority", "high", "--due", "2026-12-24", "--format=json")
    )
    assert (created["priority"], created["priority_name"], created["due_at"]) == (
        1,
        "high",
        "2026-12-24T00:00:00Z",
    )
    card = issue("show", str(created["number"]))
    assert "Priority:  1 (high)" in card.stdout and "Due:       2026-12-24T00:00:00Z" in card.stdout
    edited = as_json(issue("edit", "1", "--priority", "0", "--due", "", "--format=json"))
    assert (edited["priority"], edited["due_at"]) == (0, None)
    bad = issue("edit", "1", "--priority", "urgent")
    assert bad.exit_code == 2 and "unknown priority 'urgent'" in bad.stderr


def test_since_a_whole_second_includes_updates_later_in_that_second(issue):
    created = as_json(issue("create", "fresh", "--format", "json"))
    whole_second = created["updated_at"][:19] + "Z"  # 06:23:13.577123Z -> 06:23:13Z
    listed = as_json(issue("list", "--since", whole_second, "--format", "json"))
    assert [i["number"] for i in listed] == [created["number"]]


def test_the_original_walkthrough_creates_its_labels_with_one_note(issue):
    created = issue(
        "create", "Implement user authentication", "--label=feature", "--label=priority:high"
    )
    assert created.exit_code == 0, created.output
    assert created.stderr.count("created label(s)") == 1
    assert "issue-core: created label(s) feature, priority:high\n" in created.stderr
    again = issue("create", "Second", "--label", "feature")
    assert again.exit_code == 0 and "created label" not in again.stderr


def test_edit_adds_and_removes_assignees_keeping_the_others(seeded):
    seeded("edit", "1", "--assignee", "ann,bob")
    data = as_json(
        seeded(
            "edit",
            "1",
            "--add-assignee",
            "@cy",
            "--add-assignee",
            "@me",
            "--remove-assignee",
            "ann",
            "--format",
            "json",
        )
    )
    assert data["assignees"] == ["bob", "cy", "tester"]
    data = as_json(seeded("edit", "1", "--assignee", "dee", "--format", "json"))
    assert data["assignees"] == ["dee"]  # replace means replace


def test_at_names_are_user_names(issue):
    data = as_json(issue("create", "x", "--assignee", "@bob", "--format", "json"))
    assert data["assignees"] == ["bob"]
    assert as_json(issue("list", "--assignee", "bob", "--json", "number")) == [{"number": 1}]


@pytest.mark.parametrize("name", ["bob\nmallory", "bob\x1b[2J", "bo b", "@"])
def test_assignees_with_line_breaks_or_controls_are_refused(issue, git_project, name):
    for args in (("create", "x", "--assignee", name), ("edit", "1", "--add-assignee", name)):
        result = issue(*args)
        assert result.exit_code == 2, result.output
        assert "user name" in result.stderr
    assert not (git_project / ".issue-core").exists()


@pytest.mark.parametrize("title", ["v1\nv2", "v1\x07", "v1\x9b"])
def test_milestone_titles_are_one_line_without_controls(issue, git_project, title):
    result = issue("milestone", "create", title)
    assert result.exit_code == 2, result.output
    assert "milestone title" in result.stderr


def test_view_is_show_as_gh_names_it(seeded):
    for args in (["1"], ["1", "--comments"], ["1", "--format", "json"]):
        show, view = seeded("show", *args), seeded("view", *args)
        assert view.exit_code == show.exit_code == 0
        assert view.stdout == show.stdout
    assert "Usage: issue view [OPTIONS] NUMBER" in seeded("view", "--help").stdout
