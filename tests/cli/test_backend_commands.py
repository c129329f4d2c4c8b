"""`issue backend list|add|remove|test|set-default` and the config files they write."""

from __future__ import annotations

import json
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from issue_core.backends import BUILTIN_BACKENDS
from issue_core.cli import backends as backend_cli
from issue_core.core.errors import AuthError
from issue_core.core.interfaces import BackendInfo, ConfigOption, IssueBackend


class FakeForge(IssueBackend):
    """A backend type with forge-like options; its behaviour is steered by its settings."""

    type_name: ClassVar[str] = "fakeforge"
    config_options: ClassVar[tuple[ConfigOption, ...]] = (
        ConfigOption("url", "Server URL", help="e.g. https://forge.example.com"),
        ConfigOption("repo", "Repository"),
        ConfigOption("token_env", "Token variable", default="FORGE_TOKEN"),
        ConfigOption("team", "Team", required=False),
    )

    def connect(self, config: Mapping[str, Any]) -> None:
        self.settings = dict(config)
        if self.settings.get("url") == "https://reject.example.com":
            raise AuthError("token rejected by https://reject.example.com")

    def test_connection(self) -> BackendInfo:
        info = BackendInfo(type=self.type_name, location=self.settings["url"])
        # What failed is typed; the words of a detail never decide the exit code.
        down = self.settings["url"] == "https://down.example.com"
        info.check("reach", not down, self.settings.get("team") or "GET /api", "server")
        info.check("token", self.settings["repo"] != "private", "unauthorised", "auth")
        return info

    def list_issues(self, filter=None):  # pragma: no cover - not used here
        return []

    def get_issue_by_number(self, number, *, with_comments=False):  # pragma: no cover
        raise NotImplementedError

    def create_issue(self, issue, *, create_labels=False):  # pragma: no cover
        raise NotImplementedError

    def update_issue(self, issue, *, create_labels=False):  # pragma: no cover
        raise NotImplementedError


@pytest.fixture(autouse=True)
def fake_type(monkeypatch):
    monkeypatch.setitem(BUILTIN_BACKENDS, "fakeforge", f"{__name__}:FakeForge")


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def repo_config(git_project: Path) -> dict[str, Any]:
    return tomllib.loads((git_project / ".issue-core" / "config.toml").read_text())


def user_config(tmp_path: Path) -> dict[str, Any]:
    return tomllib.loads((tmp_path / "config" / "config.toml").read_text())


FORGE = ["--url", "https://forge.example.com", "--repo", "widgets"]


# --------------------------------------------------------------------------- list


def test_list_shows_the_implicit_local_store(issue, git_project):
    result = issue("backend", "list")
    assert result.stdout.splitlines()[0].split() == [
        "NAME",
        "TYPE",
        "DEFAULT",
        "SOURCE",
        "TRUST",
        "LOCATION",
    ]
    rows = as_json(issue("backend", "list", "--format", "json"))
    assert rows == [
        {
            "name": "local",
            "type": "local",
            "default": True,
            "source": "implicit",
            "trust": "not needed",
            "location": str(git_project / ".issue-core" / "issues.db"),
            "settings": {"path": str(git_project / ".issue-core" / "issues.db")},
        }
    ]


# --------------------------------------------------------------------------- add


def test_add_local_in_the_repo_config_with_mode_0600(issue, git_project, tmp_path):
    result = issue("backend", "add", "scratch", "local", "--path", "data/s.db", "--default")
    assert result.exit_code == 0, result.output
    config_file = git_project / ".issue-core" / "config.toml"
    assert result.stdout == f"added backend scratch (local) to {config_file} as the default\n"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert repo_config(git_project) == {
        "default_backend": "scratch",
        "backends": {"scratch": {"type": "local", "path": "data/s.db"}},
    }
    rows = {r["name"]: r for r in as_json(issue("backend", "list", "--format", "json"))}
    assert rows["scratch"]["default"] is True and rows["local"]["default"] is False
    assert rows["scratch"]["location"] == str(git_project / "data" / "s.db")
    assert rows["scratch"]["source"] == "repo"
    issue("create", "lands in scratch")
    assert (git_project / "data" / "s.db").exists()


def test_add_local_uses_the_path_default_without_a_terminal(issue, git_project):
    data = as_json(issue("backend", "add", "plain", "local", "--format", "json"))
    assert data["settings"] == {"path": ".issue-core/issues.db"}
    assert data["scope"] == "repo" and data["default"] is False


def test_add_user_scope_and_default_scope_outside_git(issue, tmp_path, monkeypatch):
    assert issue("backend", "add", "u", "local", "--user").exit_code == 0
    assert "u" in user_config(tmp_path)["backends"]
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert as_json(issue("backend", "add", "v", "local", "--format", "json"))["scope"] == "user"
    assert set(user_config(tmp_path)["backends"]) == {"u", "v"}


def test_add_duplicate_is_conflict_unless_force(issue, git_project):
    issue("backend", "add", "s", "local", "--path", "a.db")
    duplicate = issue("backend", "add", "s", "local", "--path", "b.db")
    assert duplicate.exit_code == 4
    assert "--force" in duplicate.stderr
    assert issue("backend", "add", "s", "local", "--path", "b.db", "--force").exit_code == 0
    assert repo_config(git_project)["backends"]["s"]["path"] == "b.db"


def test_add_generic_options_become_flags(issue, git_project):
    data = as_json(
        issue(
            "backend",
            "add",
            "work",
            "fakeforge",
            *FORGE,
            "--team",
            "core",
            "--scope",
            "repo",
            "--format",
            "json",
        )
    )
    assert data["settings"] == {
        "url": "https://forge.example.com",
        "repo": "widgets",  # the type's --repo wins over the --repo scope shorthand
        "token_env": "FORGE_TOKEN",
        "team": "core",
    }
    assert repo_config(git_project)["backends"]["work"]["type"] == "fakeforge"
    help_text = issue("backend", "add", "work", "fakeforge", "--help").stdout
    assert "--url VALUE" in help_text and "--token-env VALUE" in help_text
    assert "[default: FORGE_TOKEN]" in help_text and "--scope" in help_text


def test_add_missing_required_option_without_terminal_names_the_flag(issue):
    result = issue("backend", "add", "work", "fakeforge", "--url", "https://x.example.com")
    assert result.exit_code == 2
    assert result.stderr.startswith("issue: error: missing --repo (Repository)")


def test_add_prompts_on_a_terminal(issue, git_project, monkeypatch):
    monkeypatch.setattr(backend_cli, "interactive", lambda: True)
    result = issue(
        "backend",
        "add",
        "work",
        "fakeforge",
        "--url",
        "https://x.example.com",
        input="widgets\n\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repository" in result.stderr and "Token variable [FORGE_TOKEN]" in result.stderr
    assert repo_config(git_project)["backends"]["work"] == {
        "type": "fakeforge",
        "url": "https://x.example.com",
        "repo": "widgets",
        "token_env": "FORGE_TOKEN",
    }


def test_add_refuses_a_token_value_in_token_env(issue, git_project):
    result = issue(
        "backend", "add", "work", "fakeforge", *FORGE, "--token-env", "ghp_abcdef1234567890-secret"
    )
    assert result.exit_code == 2
    assert "NAME of an environment variable" in result.stderr
    assert "ghp_abcdef" not in result.stderr
    assert not (git_project / ".issue-core" / "config.toml").exists()


def test_add_refuses_secret_keys(issue, monkeypatch):
    monkeypatch.setattr(
        FakeForge, "config_options", (ConfigOption("token", "Token", required=True),)
    )
    result = issue("backend", "add", "work", "fakeforge", "--token", "s3cret")
    assert result.exit_code == 2
    assert "refusing to store a secret" in result.stderr and "s3cret" not in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["bad name", "local"], 2),
        (["-x", "local"], 2),
        (["ok", "nosuchtype"], 3),
        (["ok"], 2),
        (["ok", "local", "--user", "--scope", "repo"], 2),
        (["ok", "local", "--bogus", "x"], 2),
    ],
)
def test_add_bad_input(issue, args, code):
    assert issue("backend", "add", *args).exit_code == code


# --------------------------------------------------------------------------- remove / default


def test_remove_and_set_default(issue, git_project, tmp_path):
    issue("backend", "add", "a", "local", "--path", "a.db", "--default")
    issue("backend", "add", "b", "local", "--path", "b.db", "--user")
    switched = issue("backend", "set-default", "b")
    assert switched.exit_code == 0
    assert repo_config(git_project)["default_backend"] == "b"
    assert issue("backend", "set-default", "local").exit_code == 0
    assert issue("backend", "set-default", "nope").exit_code == 3
    removed = as_json(issue("backend", "remove", "b", "--format", "json"))
    assert removed["scope"] == "user" and removed["removed"] is True
    assert "backends" not in user_config(tmp_path)
    issue("backend", "set-default", "a")
    issue("backend", "remove", "a")
    assert repo_config(git_project) == {}
    missing = issue("backend", "remove", "a")
    assert missing.exit_code == 3
    assert "no backend named 'a'" in missing.stderr


def test_remove_in_a_named_scope_only(issue):
    issue("backend", "add", "a", "local", "--user")
    assert issue("backend", "remove", "a", "--repo").exit_code == 3
    assert issue("backend", "remove", "a", "--user").exit_code == 0


# --------------------------------------------------------------------------- test


def test_test_local_backend(issue, git_project):
    result = issue("backend", "test")
    assert result.exit_code == 0
    assert "ok    store: not created yet" in result.stdout
    issue("create", "x")
    info = as_json(issue("backend", "test", "local", "--format", "json"))
    assert info["ok"] is True and info["name"] == "local" and info["type"] == "local"
    assert info["checks"]["store"]["ok"] is True
    assert issue("backend", "test", "nope").exit_code == 3


@pytest.mark.parametrize(
    ("settings", "code", "failed"),
    [
        (["--url", "https://down.example.com", "--repo", "w"], 6, "reach"),
        # A detail full of credential words does not make a server failure an auth one.
        (["--url", "https://down.example.com", "--repo", "w", "--team", "401 token"], 6, "reach"),
        (["--url", "https://forge.example.com", "--repo", "private"], 5, "token"),
        (["--url", "https://reject.example.com", "--repo", "w"], 5, "connect"),
    ],
)
def test_test_failures_exit_with_the_failed_checks_code(issue, settings, code, failed):
    issue("backend", "add", "f", "fakeforge", *settings)
    result = issue("backend", "test", "f")
    assert result.exit_code == code
    assert "FAIL" in result.stdout and failed in result.stdout
    assert result.stderr.startswith("issue: error: ")
    as_json_result = issue("backend", "test", "f", "--format", "json")
    assert as_json_result.exit_code == code
    info = json.loads(as_json_result.stdout)
    assert info["ok"] is False and info["checks"][failed]["ok"] is False
    assert json.loads(as_json_result.stderr)["error"]["exit_code"] == code


def test_test_passes_for_a_healthy_forge(issue):
    issue("backend", "add", "f", "fakeforge", *FORGE)
    info = as_json(issue("backend", "test", "f", "--format", "json"))
    assert info["ok"] is True and info["location"] == "https://forge.example.com"


def test_find_type_argument_skips_option_values():
    flags = {"--default", "--force", "--user"}
    assert backend_cli.find_type_argument(["n", "t"], flags) == "t"
    assert backend_cli.find_type_argument(["--path", "x.db", "n", "t"], flags) == "t"
    assert backend_cli.find_type_argument(["--default", "n", "--url=u", "t"], flags) == "t"
    assert backend_cli.find_type_argument(["n"], flags) is None
    assert backend_cli.find_type_argument(["--", "-n", "t"], flags) == "t"


def test_add_github_needs_only_owner_and_repo(issue, git_project):
    data = as_json(
        issue(
            "backend",
            "add",
            "hub",
            "github",
            "--owner",
            "acme",
            "--repo",
            "widgets",
            "--scope",
            "repo",
            "--format",
            "json",
        )
    )
    assert data["settings"] == {
        "url": "https://api.github.com",
        "owner": "acme",
        "repo": "widgets",
        "token_env": "GH_TOKEN",
        "in_progress_label": "status/in-progress",
    }
    assert repo_config(git_project)["backends"]["hub"]["type"] == "github"
    missing = issue("backend", "add", "hub2", "github", "--owner", "acme")
    assert missing.exit_code == 2 and "--repo" in missing.stderr
