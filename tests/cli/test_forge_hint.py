"""Inside a repository whose remote is on a known forge, with nothing configured, commands keep
using the local store and say once (per repository, remembered in the user's cache folder) how
to connect the forge; never on stdout, never again, never for a repository that is configured."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import git_init

HINT = "issue config detect"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "cache"


def remote(name: str, url: str) -> None:
    subprocess.run(["git", "remote", "add", name, url], check=True)


def test_said_once_per_repository_on_stderr_only(issue, git_project, tmp_path, monkeypatch):
    remote("origin", "git@github.com:acme/widgets.git")
    first = issue("create", "local anyway", "--format", "json")
    assert first.exit_code == 0
    assert json.loads(first.stdout)["title"] == "local anyway"  # stdout is only the JSON
    lines = [line for line in first.stderr.splitlines() if HINT in line]
    assert len(lines) == 1 and "origin is on github.com (github)" in lines[0]
    again = [issue("list"), issue("show", "1"), issue("list", "--format", "json")]
    assert all(r.exit_code == 0 and HINT not in r.output for r in again)

    other = git_init(tmp_path / "other")  # another repository is told too, once
    monkeypatch.chdir(other)
    remote("upstream", "https://gitlab.com/acme/platform/widgets.git")
    assert "upstream is on gitlab.com (gitlab)" in issue("list").stderr
    assert HINT not in issue("list").stderr


@pytest.mark.parametrize(
    "url", ["/srv/git/widgets.git", "https://git.example.com/acme/widgets.git", "file:///x/y"]
)
def test_not_said_for_a_remote_that_is_no_known_forge(issue, git_project, url):
    remote("origin", url)
    assert HINT not in issue("list").output


def test_a_host_from_the_users_own_backends_is_a_known_forge(issue, git_project):
    added = issue("backend", "add", "corp", "gitlab", "--url", "https://git.corp.example",
                  "--project", "a/b", "--user")  # fmt: skip
    assert added.exit_code == 0, added.output
    remote("origin", "git@git.corp.example:team/app.git")
    assert "is on git.corp.example (gitlab)" in issue("list").stderr


def test_not_said_once_anything_is_configured(issue, git_project, monkeypatch):
    remote("origin", "git@github.com:acme/widgets.git")
    assert issue("backend", "add", "scratch", "local", "--path", "s.db", "--default").exit_code == 0
    assert HINT not in issue("list").output
    assert HINT not in issue("--backend", "local", "list").output
    monkeypatch.setenv("ISSUE_CORE_BACKEND", "local")
    assert HINT not in issue("list").output


def test_an_unwritable_cache_never_fails_a_command(issue, git_project, private_cache):
    private_cache.parent.mkdir(parents=True, exist_ok=True)
    private_cache.write_text("a file where the folder should be")
    remote("origin", "git@github.com:acme/widgets.git")
    result = issue("list")
    assert result.exit_code == 0 and HINT in result.stderr
