"""Configuration precedence, secrets, file modes; backend discovery; the one-line Python API."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from issue_core import open_backend
from issue_core.backends import BackendFactory
from issue_core.backends.local import LocalBackend
from issue_core.core.config import Config, find_project_root, user_config_path, write_toml
from issue_core.core.errors import ConfigError, NotFound
from issue_core.core.models import Issue, IssueFilter, IssueState


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A git repository with a subfolder, an empty user config folder, no backend env var."""
    root = tmp_path / "repo"
    (root / "src" / "deep").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "user-config"))
    monkeypatch.delenv("ISSUE_CORE_BACKEND", raising=False)
    monkeypatch.setenv("ISSUE_CORE_USER", "tester")
    return root


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_project_root_is_the_enclosing_git_repository(project, tmp_path):
    assert find_project_root(project / "src" / "deep") == project
    outside = tmp_path / "plain"
    outside.mkdir()
    assert find_project_root(outside) == outside


def test_zero_config_is_the_local_store_at_the_repository_root(project):
    chosen = Config.load(project / "src" / "deep").resolve()
    assert (chosen.name, chosen.type, chosen.source) == ("local", "local", "implicit")
    assert chosen.settings["path"] == str(project / ".issue-core" / "issues.db")


def test_repository_config_wins_over_user_config(project):
    write(
        user_config_path(),
        """
        default_backend = "mine"
        user = "from-user-file"
        [backends.mine]
        type = "local"
        path = "user.db"
        [backends.shared]
        type = "local"
        path = "/tmp/user-shared.db"
        """,
    )
    write(
        project / ".issue-core" / "config.toml",
        """
        default_backend = "shared"
        [backends.shared]
        type = "local"
        path = "team.db"
        """,
    )
    config = Config.load(project)
    chosen = config.resolve()
    assert (chosen.name, chosen.source) == ("shared", "repo")
    assert chosen.settings["path"] == str(project / "team.db")
    assert config.resolve("mine").settings["path"] == str(project / "user.db")
    assert sorted(config.backends()) == ["mine", "shared"]


def test_backend_env_var_and_explicit_name(project, monkeypatch):
    write(
        project / ".issue-core" / "config.toml",
        """
        [backends.alt]
        type = "local"
        path = "alt.db"
        """,
    )
    monkeypatch.setenv("ISSUE_CORE_BACKEND", "alt")
    assert Config.load(project).resolve().name == "alt"
    assert Config.load(project).resolve("local").name == "local"
    with pytest.raises(NotFound, match="no backend named 'nope'"):
        Config.load(project).resolve("nope")


def test_identity_precedence(project, monkeypatch):
    write(project / ".issue-core" / "config.toml", 'user = "configured"\n')
    assert Config.load(project).identity() == "tester"
    monkeypatch.delenv("ISSUE_CORE_USER")
    assert Config.load(project).identity() == "configured"


def test_invalid_config_files_are_clear_errors(project):
    write(project / ".issue-core" / "config.toml", "this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(project)
    write(project / ".issue-core" / "config.toml", '[backends.x]\npath = "no type"\n')
    with pytest.raises(ConfigError, match="needs a 'type'"):
        Config.load(project).backends()


def test_config_files_are_private_and_never_hold_secrets(tmp_path):
    target = tmp_path / "cfg" / "config.toml"
    write_toml(target, {"backends": {"g": {"type": "gitea", "token_env": "GITEA_API_TOKEN"}}})
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    with pytest.raises(ConfigError, match="refusing to store a secret"):
        write_toml(target, {"backends": {"g": {"type": "gitea", "token": "s3cr3t"}}})
    assert "s3cr3t" not in target.read_text()


def test_factory_knows_builtins_and_rejects_unknown_types():
    assert BackendFactory.backend_class("local") is LocalBackend
    assert "local" in BackendFactory.available_types()
    with pytest.raises(NotFound, match="unknown backend type 'jira'"):
        BackendFactory.backend_class("jira")


def test_third_party_backend_is_found_through_its_entry_point(tmp_path, monkeypatch):
    """A distribution that declares an `issue_core.backends` entry point becomes a type."""
    package = tmp_path / "site" / "acme_tracker"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from issue_core.backends.local import LocalBackend\n"
        "class AcmeBackend(LocalBackend):\n    type_name = 'acme'\n"
    )
    dist = tmp_path / "site" / "acme_tracker-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-tracker\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[issue_core.backends]\nacme = acme_tracker:AcmeBackend\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    cls = BackendFactory.backend_class("acme")
    assert cls.__name__ == "AcmeBackend"
    assert "acme" in BackendFactory.available_types()
    backend = BackendFactory.create("acme", {"path": str(tmp_path / "a.db"), "identity": "x"})
    assert backend.create_issue(Issue(title="via plug-in")).number == 1


def test_open_backend_is_the_one_line_python_api(project, monkeypatch):
    monkeypatch.chdir(project / "src")
    backend = open_backend()
    backend.create_issue(
        Issue(title="Crash", labels=["bug"], assignees=["agent-coder"]), create_labels=True
    )
    issues = backend.list_issues(IssueFilter(state="open", labels=["bug"], assignee="agent-coder"))
    issues[0].state = IssueState.CLOSED
    backend.update_issue(issues[0])
    again = open_backend(cwd=project)
    assert again.get_issue_by_number(1).state is IssueState.CLOSED
    assert (project / ".issue-core" / "issues.db").exists()
    assert again.whoami().username == "tester"


def test_lazy_package_attributes():
    import issue_core

    assert issue_core.IssueState.CLOSED.value == "closed"
    with pytest.raises(AttributeError):
        issue_core.no_such_name  # noqa: B018


def test_cli_import_stays_light():
    """The CLI's start-up path must not pull in HTTP, server, validation or jq libraries."""
    code = (
        "import sys, issue_core.cli.main, issue_core.backends.local, issue_core.api;"
        "heavy = {'httpx', 'fastapi', 'pydantic', 'jsonschema', 'jq', 'uvicorn', 'starlette',"
        " 'tomli_w'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
