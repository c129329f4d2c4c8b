"""Global options after the command, and "did you mean" for a mistyped command (issue 8 §6)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def scratch(issue, tmp_path):
    """A second local store, configured as backend 'scratch' in the user config."""
    store = tmp_path / "scratch.db"
    added = issue("backend", "add", "scratch", "local", "--path", str(store), "--user")
    assert added.exit_code == 0, added.output
    return store


def titles(result):
    assert result.exit_code == 0, result.output
    return [item["title"] for item in json.loads(result.stdout)]


def test_backend_after_the_command(issue, scratch):
    made = issue("create", "In scratch", "--backend", "scratch")
    assert made.exit_code == 0, made.output
    assert scratch.exists()
    assert titles(issue("list", "--backend", "scratch", "--format", "json")) == ["In scratch"]
    assert titles(issue("--backend", "scratch", "list", "--format", "json")) == ["In scratch"]
    assert titles(issue("list", "--format", "json")) == []  # the default store has nothing
    assert titles(issue("list", "--format", "json", "--backend=scratch")) == ["In scratch"]


def test_backend_after_the_command_wins_over_before_and_env(issue, scratch):
    issue("create", "In scratch", "--backend", "scratch")
    issue("create", "In default")
    assert titles(
        issue("--backend", "scratch", "list", "--backend", "local", "--json", "title")
    ) == ["In default"]
    env = {"ISSUE_CORE_BACKEND": "local"}
    assert titles(issue("list", "--backend", "scratch", "--json", "title", env=env)) == [
        "In scratch"
    ]


def test_backend_after_a_subgroup_command(issue, scratch):
    assert issue("label", "create", "only-here", "--backend", "scratch").exit_code == 0
    names = json.loads(issue("label", "list", "--backend", "scratch", "--format", "json").stdout)
    assert [label["name"] for label in names] == ["only-here"]
    assert json.loads(issue("label", "list", "--format", "json").stdout) == []
    grouped = issue("label", "--backend", "scratch", "list", "--format", "json")
    assert [label["name"] for label in json.loads(grouped.stdout)] == ["only-here"]


def test_unknown_backend_after_the_command_is_refused(issue):
    result = issue("show", "1", "--backend", "nope")
    assert result.exit_code == 3
    assert "no backend named 'nope'" in result.stderr


def test_color_after_the_command(issue):
    issue("create", "Colourful")
    coloured = issue("list", "--color")
    assert coloured.exit_code == 0 and "\x1b[" in coloured.stdout
    plain = issue("--color", "list", "--no-color")
    assert plain.exit_code == 0 and "\x1b[" not in plain.stdout


def test_commands_keep_their_own_option_of_a_global_name(issue):
    # label create has its own --color HEX; serve its own --backend (same meaning there).
    made = json.loads(
        issue("label", "create", "bug", "--color", "d73a4a", "--format", "json").stdout
    )
    assert made["color"] == "d73a4a"
    refused = issue("label", "create", "ui", "--no-color")
    assert refused.exit_code == 2
    assert "No such option '--no-color'" in refused.stderr


def test_global_options_are_described_once(issue):
    """Hidden on each command; the root's help says they may follow the command."""
    assert "--backend" not in issue("list", "--help").stdout
    assert "may also follow the command" in issue("--help").stdout


@pytest.mark.parametrize(
    ("args", "meant", "where"),
    [
        (["lsit"], "list", "issue"),
        (["crate", "x"], "create", "issue"),
        (["shwo", "1"], "show", "issue"),
        (["List"], "list", "issue"),
        (["label", "lst"], "list", "issue label"),
        (["label", "delet", "x"], "delete", "issue label"),
        (["milestone", "craete", "v1"], "create", "issue milestone"),
        (["backend", "ad"], "add", "issue backend"),
        (["outbox", "rety"], "retry", "issue outbox"),
        (["user", "lis"], "list", "issue user"),
    ],
)
def test_a_mistyped_command_gets_a_suggestion(issue, git_project, args, meant, where):
    result = issue(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    typed = args[0] if where == "issue" else args[1]
    assert result.stderr == (
        f"issue: error: No such command '{typed}'."
        f" Did you mean \"{meant}\"? (see '{where} --help')\n"
    )
    assert not (git_project / ".issue-core").exists()  # nothing ran


def test_a_mistyped_command_as_json_error(issue):
    result = issue("lsit", "--json", "number")
    assert result.exit_code == 2
    error = json.loads(result.stderr)["error"]
    assert error["message"] == "No such command 'lsit'. Did you mean \"list\"?"
    assert error["hint"] == "see 'issue --help'"


def test_nothing_close_gets_no_suggestion(issue):
    result = issue("xyzzy")
    assert result.exit_code == 2
    assert result.stderr == "issue: error: No such command 'xyzzy'. (see 'issue --help')\n"


def test_every_group_suggests_and_hands_out_the_global_options():
    """A group made with plain click.group would miss both: every group must be a Group."""
    import click

    from issue_core.cli.groups import Group
    from tests.cli.test_gh_flags import all_commands

    groups = [name for name, command, _ in all_commands() if isinstance(command, click.Group)]
    assert {"issue", "issue label", "issue milestone", "issue backend", "issue outbox"} <= set(
        groups
    )
    for name, command, ctx in all_commands():
        if isinstance(command, click.Group):
            assert isinstance(command, Group), f"{name} is not a cli.groups.Group"
        if name != "issue":
            opts = {o for p in command.get_params(ctx) for o in (*p.opts, *p.secondary_opts)}
            assert "--debug" in opts, f"{name} does not accept --debug after it"


@pytest.mark.parametrize(
    ("args", "env", "named", "example"),
    [
        (["--as", "two words"], {}, "--as (the acting agent)", "e.g. --as alice"),
        ([], {"ISSUE_CORE_AGENT": "tab\there"}, "$ISSUE_CORE_AGENT", "e.g. ISSUE_CORE_AGENT=alice"),
        ([], {"ISSUE_CORE_USER": "new\nline"}, "$ISSUE_CORE_USER", "e.g. ISSUE_CORE_USER=alice"),
    ],
)
def test_a_bad_identity_is_refused_with_an_example_for_where_it_was_set(
    issue, args, env, named, example
):
    result = issue(*args, "whoami", env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        f"issue: error: {named} must be a user name without blanks, newlines or control"
        f" characters ({example})\n"
    )


def test_a_bad_user_in_the_config_file_is_refused_with_its_toml_spelling(issue, git_project):
    (git_project / ".issue-core").mkdir(exist_ok=True)
    (git_project / ".issue-core" / "config.toml").write_text('user = "two words"\n')
    result = issue("whoami", env={"ISSUE_CORE_USER": None})
    assert result.exit_code == 2
    assert result.stderr.endswith('control characters (e.g. user = "alice")\n'), result.stderr
