"""A backend from the environment alone (ISSUE_CORE_BACKEND_TYPE, ISSUE_CORE_URL,
ISSUE_CORE_REPO, a token variable): every command works with no config file, it wins over the
files' default, --backend / $ISSUE_CORE_BACKEND win over it, and mistakes name the variable."""

from __future__ import annotations

import json

import pytest

from issue_core.core.environment import environment_backend, repository_settings
from issue_core.core.errors import ConfigError
from tests.fakes.gitea import WRITE_TOKEN


@pytest.fixture
def env_gitea(fake_gitea, monkeypatch):
    monkeypatch.delenv("GITEA_API_TOKEN", raising=False)
    monkeypatch.setenv("ISSUE_CORE_BACKEND_TYPE", "gitea")
    monkeypatch.setenv("ISSUE_CORE_URL", fake_gitea.base_url)
    monkeypatch.setenv("ISSUE_CORE_REPO", f"{fake_gitea.fake.owner}/{fake_gitea.fake.repo.name}")
    monkeypatch.setenv("GITEA_TOKEN", WRITE_TOKEN)
    return fake_gitea


def test_every_command_works_with_no_config_file(issue, git_project, env_gitea, tmp_path):
    assert issue("create", "from CI", "--label", "ci").exit_code == 0
    listed = json.loads(issue("list", "--format", "json").stdout)
    assert [i["title"] for i in listed] == ["from CI"]
    assert issue("comment", "1", "a note").exit_code == 0
    assert issue("close", "1").exit_code == 0
    assert env_gitea.fake.issue(1).closed
    assert issue("label", "list", "--format", "json").exit_code == 0
    assert issue("whoami").exit_code == 0
    rows = json.loads(issue("backend", "list", "--format", "json").stdout)
    env = next(row for row in rows if row["name"] == "env")
    assert env["default"] and env["source"] == "env" and env["trust"] == "not needed"
    assert env["settings"]["token_env"] == "GITEA_TOKEN"  # the name, never the value
    assert WRITE_TOKEN not in json.dumps(rows)
    assert not list(tmp_path.rglob("config.toml"))


def test_the_environment_wins_over_the_files_default_and_loses_to_backend(
    issue, git_project, env_gitea
):
    added = issue("backend", "add", "scratch", "local", "--path", "s.db", "--default")
    assert added.exit_code == 0, added.output
    assert issue("create", "to the forge").exit_code == 0
    assert env_gitea.fake.issue(1).title == "to the forge"
    assert issue("--backend", "scratch", "create", "to the file").exit_code == 0
    local = json.loads(issue("--backend", "scratch", "list", "--format", "json").stdout)
    assert [i["title"] for i in local] == ["to the file"]
    scratch = issue("list", "--format", "json", env={"ISSUE_CORE_BACKEND": "scratch"})
    assert [i["title"] for i in json.loads(scratch.stdout)] == ["to the file"]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ISSUE_CORE_REPO": None}, "$ISSUE_CORE_REPO"),
        ({"ISSUE_CORE_REPO": "just-a-name"}, "$ISSUE_CORE_REPO"),
        ({"ISSUE_CORE_REPO": "a/b/c"}, "$ISSUE_CORE_REPO"),
        ({"ISSUE_CORE_URL": None}, "$ISSUE_CORE_URL"),
        ({"ISSUE_CORE_URL": "http://gitea.example.com"}, "$ISSUE_CORE_URL"),
        ({"ISSUE_CORE_URL": "https://u:pw@gitea.example.com"}, "$ISSUE_CORE_URL"),
        ({"ISSUE_CORE_TOKEN_ENV": "ghp_" + "a1" * 18}, "$ISSUE_CORE_TOKEN_ENV"),
        ({"ISSUE_CORE_BACKEND_TYPE": "no such/type"}, "$ISSUE_CORE_BACKEND_TYPE"),
    ],
)
def test_a_mistake_names_the_variable(issue, git_project, env_gitea, monkeypatch, env, variable):
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    result = issue("list")
    assert result.exit_code == 2, result.output
    assert variable in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "pw@" not in result.stderr and "a1a1" not in result.stderr


def test_a_missing_token_names_the_variable_read(issue, git_project, env_gitea, monkeypatch):
    monkeypatch.delenv("GITEA_TOKEN")
    result = issue("list")
    assert result.exit_code == 5 and "GITEA_TOKEN" in result.stderr  # the first usual one
    monkeypatch.setenv("ISSUE_CORE_TOKEN_ENV", "CI_FORGE_TOKEN")
    assert "CI_FORGE_TOKEN" in issue("list").stderr
    monkeypatch.setenv("CI_FORGE_TOKEN", WRITE_TOKEN)
    assert issue("list").exit_code == 0


def test_types_and_their_token_variables():
    gh = environment_backend({"ISSUE_CORE_BACKEND_TYPE": "github", "ISSUE_CORE_REPO": "a/b",
                              "GITHUB_TOKEN": "x"})  # fmt: skip
    assert gh == {"type": "github", "owner": "a", "repo": "b", "token_env": "GITHUB_TOKEN"}
    both = {"ISSUE_CORE_BACKEND_TYPE": "github", "ISSUE_CORE_REPO": "a/b", "GITHUB_TOKEN": "x",
            "GH_TOKEN": "y"}  # fmt: skip
    assert environment_backend(both)["token_env"] == "GH_TOKEN"  # gh's order
    gl = environment_backend({"ISSUE_CORE_BACKEND_TYPE": "gitlab", "ISSUE_CORE_REPO": "g/s/p"})
    assert gl == {"type": "gitlab", "project": "g/s/p", "token_env": "GITLAB_TOKEN"}
    assert environment_backend({"ISSUE_CORE_BACKEND_TYPE": "local"}) == {"type": "local"}
    assert environment_backend({}) is None
    with pytest.raises(ConfigError, match="owner/repo"):
        repository_settings({"owner", "repo"}, "g/s/p", where="x")


def test_github_from_the_environment(issue, git_project, fake_github, monkeypatch):
    repo = fake_github.fake.repo
    monkeypatch.setenv("ISSUE_CORE_BACKEND_TYPE", "github")
    monkeypatch.setenv("ISSUE_CORE_URL", fake_github.api_url)
    monkeypatch.setenv("ISSUE_CORE_REPO", f"{repo.owner}/{repo.name}")
    assert issue("create", "from a container").exit_code == 0
    listed = json.loads(issue("list", "--format", "json").stdout)
    assert [i["title"] for i in listed] == ["from a container"]
    monkeypatch.delenv("GH_TOKEN")
    missing = issue("list")
    assert missing.exit_code == 5 and "GH_TOKEN" in missing.stderr


def test_the_python_api_opens_the_environments_backend(git_project, env_gitea):
    from issue_core import open_backend
    from issue_core.core.models import Issue

    backend = open_backend()
    try:
        created = backend.create_issue(Issue("through the API"))
    finally:
        backend.close()
    assert env_gitea.fake.issue(created.number).title == "through the API"


def test_gitlab_from_the_environment_with_a_nested_project(
    issue, git_project, fake_gitlab, monkeypatch
):
    monkeypatch.setenv("ISSUE_CORE_BACKEND_TYPE", "gitlab")
    monkeypatch.setenv("ISSUE_CORE_URL", fake_gitlab.base_url)
    monkeypatch.setenv("ISSUE_CORE_REPO", fake_gitlab.fake.project.full_path)
    assert "/" in fake_gitlab.fake.project.full_path
    assert issue("create", "from a pipeline").exit_code == 0
    listed = json.loads(issue("list", "--format", "json").stdout)
    assert [i["title"] for i in listed] == ["from a pipeline"]
