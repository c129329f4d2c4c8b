"""``issue config detect``: real git repositories with real remotes, an ~/.ssh/config in a
private HOME, servers asked on 127.0.0.1 (the fake Gitea; a server that is no forge; a port
nobody listens on)."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from issue_core.core.config import Config
from tests.fakes.server import LiveServer, closed_port

TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "GITEA_TOKEN", "GITEA_API_TOKEN")


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    for name in TOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return home


def remote(name: str, url: str) -> None:
    subprocess.run(["git", "remote", "add", name, url], check=True)


def repo_file(project: Path) -> dict:
    return tomllib.loads((project / ".issue-core" / "config.toml").read_text())


def detect_json(issue, *args: str) -> dict:
    result = issue("config", "detect", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("url", "settings"),
    [
        (
            "git@gitlab.com:acme/platform/widgets.git",
            {"url": "https://gitlab.com", "project": "acme/platform/widgets"},
        ),
        (
            "https://oauth2:glpat-0123456789abcdefghij@gitlab.com/acme/widgets/",
            {"url": "https://gitlab.com", "project": "acme/widgets"},
        ),
        (
            "ssh://git@altssh.gitlab.com:443/acme/widgets.git",
            {"url": "https://gitlab.com", "project": "acme/widgets"},
        ),
    ],
)
def test_print_shows_the_entry_of_a_known_host_and_writes_nothing(
    issue, git_project, url, settings
):
    remote("origin", url)
    found = detect_json(issue, "--print")
    assert found["type"] == "gitlab" and found["detected_by"] == "known host"
    assert found["settings"] == {**settings, "token_env": "GITLAB_TOKEN"}
    assert found["written"] is False and found["token_set"] is False
    assert not (git_project / ".issue-core").exists()
    human = issue("config", "detect", "--print")
    assert human.exit_code == 0
    assert "[backends.gitlab]" in human.stdout and 'project = "' in human.stdout
    assert "glpat-0123456789abcdefghij" not in human.output + json.dumps(found)


def test_detect_writes_the_default_backend_trusted_and_remembers_the_remote(
    issue, git_project, monkeypatch
):
    remote("origin", "git@gitlab.com:acme/widgets.git")
    remote("mirror", "https://gitlab.com/someone/else.git")
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-secretsecretsecret00")
    result = issue("config", "detect")
    assert result.exit_code == 0, result.output
    assert "wrote backend gitlab" in result.stdout and "as the default" in result.stdout
    written = repo_file(git_project)
    assert written["default_backend"] == "gitlab" and written["git_remote"] == "origin"
    assert written["backends"]["gitlab"] == {
        "type": "gitlab",
        "url": "https://gitlab.com",
        "project": "acme/widgets",
        "token_env": "GITLAB_TOKEN",
    }
    # you wrote it, so it is trusted for you (recorded in the user config, not the repo's)
    config = Config.load()
    assert config.resolve().name == "gitlab" and config.resolve().trust == "trusted"
    assert "warning" not in issue("backend", "list").output  # git_remote is a known key
    everything = "".join(p.read_text() for p in git_project.parent.rglob("*.toml"))
    assert "glpat-secretsecretsecret00" not in everything + result.output

    # the remembered remote wins over gh's order, and --remote changes it
    remote("upstream", "https://gitlab.com/acme/upstream-widgets.git")
    assert detect_json(issue, "--print")["remote"] == "origin"
    assert detect_json(issue, "--remote", "upstream")["settings"]["project"] == (
        "acme/upstream-widgets"
    )
    assert repo_file(git_project)["git_remote"] == "upstream"


def test_the_remote_is_chosen_as_gh_does(issue, git_project):
    remote("fork", "https://gitlab.com/me/widgets.git")
    assert detect_json(issue, "--print")["remote"] == "fork"  # the only one
    remote("mirror", "https://gitlab.com/mirror/widgets.git")
    ambiguous = issue("config", "detect", "--print")
    assert ambiguous.exit_code == 2 and "--remote NAME" in ambiguous.stderr
    remote("origin", "https://gitlab.com/acme/widgets.git")
    assert detect_json(issue, "--print")["remote"] == "origin"
    remote("upstream", "https://gitlab.com/up/widgets.git")
    assert detect_json(issue, "--print")["remote"] == "upstream"
    missing = issue("config", "detect", "--remote", "nope", "--print")
    assert missing.exit_code == 3 and "no git remote named 'nope'" in missing.stderr


def test_an_ssh_host_alias_resolves_through_ssh_config(issue, git_project, private_home):
    (private_home / ".ssh" / "config").write_text(
        "Host work\n  HostName gitlab.com\n  User git\n\nHost *\n  ServerAliveInterval 30\n"
    )
    remote("origin", "work:acme/sub/widgets.git")
    found = detect_json(issue, "--print")
    assert (found["host"], found["type"], found["settings"]["project"]) == (
        "gitlab.com",
        "gitlab",
        "acme/sub/widgets",
    )


def test_a_gitea_host_is_probed_without_a_token(
    issue, git_project, fake_gitea, monkeypatch, private_home
):
    monkeypatch.setenv("GITEA_TOKEN", "do-not-send-this")
    # nor any other credential the machine holds for the host
    netrc = private_home / ".netrc"
    netrc.write_text("machine 127.0.0.1\n  login someone\n  password do-not-send-either\n")
    netrc.chmod(0o600)
    remote("origin", f"{fake_gitea.base_url}/{fake_gitea.fake.owner}/{fake_gitea.fake.repo.name}")
    fake_gitea.reset_count()
    found = detect_json(issue)
    asked = fake_gitea.requests()
    assert [(r.method, r.path) for r in asked] == [("GET", "/api/v1/version")]
    assert not any(k in ("authorization", "cookie") for r in asked for k in r.request_headers)
    assert found["type"] == "gitea" and found["detected_by"] == "probed"
    assert found["server_version"] and found["token_env"] == "GITEA_TOKEN"
    assert found["settings"] == {
        "url": fake_gitea.base_url,
        "owner": fake_gitea.fake.owner,
        "repo": fake_gitea.fake.repo.name,
        "token_env": "GITEA_TOKEN",
    }
    # and the written backend works, with the token read from the variable it names
    from tests.fakes.gitea import WRITE_TOKEN

    monkeypatch.setenv("GITEA_TOKEN", WRITE_TOKEN)
    created = issue("create", "from the detected backend")
    assert created.exit_code == 0, created.output
    assert fake_gitea.fake.issue(1).title == "from the detected backend"


def test_a_host_known_from_the_user_config_is_not_probed(issue, git_project, fake_gitea):
    base = fake_gitea.base_url
    added = issue("backend", "add", "mine", "gitea", "--url", base, "--owner", "x",
                  "--repo", "y", "--user")  # fmt: skip
    assert added.exit_code == 0, added.output
    remote("origin", base.replace("http://", "ssh://git@") + "/acme/widgets.git")
    fake_gitea.reset_count()
    found = detect_json(issue, "--print")
    assert fake_gitea.requests() == []
    assert (found["type"], found["detected_by"], found["settings"]["url"]) == (
        "gitea",
        "user config",
        base,
    )


def _not_a_forge(scope, receive, send):  # a web server that is no forge: 404 pages
    async def answer():
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"text/html")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"<html>not here</html>"})

    return answer()


@pytest.mark.parametrize(
    ("make_url", "code", "says"),
    [
        (lambda _server: "/srv/git/widgets.git", 3, "is not on a forge"),
        (lambda _server: "file:///srv/git/widgets.git", 3, "is not on a forge"),
        (lambda server: f"{server.base_url}/acme/widgets.git", 3, "not as Gitea"),
        (lambda _server: f"http://127.0.0.1:{closed_port()}/acme/widgets", 6, "could not reach"),
    ],
)
def test_a_remote_that_is_not_a_forge_is_one_line_and_the_store_keeps_working(
    issue, git_project, make_url, code, says
):
    with LiveServer(_not_a_forge) as server:
        remote("origin", make_url(server))
        for args in (("--print",), ()):
            result = issue("config", "detect", *args)
            assert result.exit_code == code, result.output
            assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1
            assert "Traceback" not in result.output
    assert not (git_project / ".issue-core" / "config.toml").exists()
    assert issue("create", "still local").exit_code == 0
    assert issue("list", "--format", "json").stdout.count("still local") == 1


def test_outside_a_git_repository_and_without_remotes(issue, git_project, tmp_path, monkeypatch):
    none = issue("config", "detect")
    assert none.exit_code == 3 and "no git remote" in none.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    result = issue("config", "detect", "--format", "json")
    assert result.exit_code == 3 and result.stdout == ""
    assert json.loads(result.stderr)["error"]["message"].startswith("not inside a git repository")


def test_a_host_known_from_the_user_config_keeps_the_users_url(issue, git_project):
    # known from the user's config, so nothing is asked on the network
    added = issue("backend", "add", "corp", "gitlab", "--url", "https://git.corp.example",
                  "--project", "a/b", "--user")  # fmt: skip
    assert added.exit_code == 0, added.output
    remote("origin", "http://git.corp.example/team/app.git")
    found = detect_json(issue, "--print")
    assert found["settings"]["url"] == "https://git.corp.example"  # the user's own URL


@pytest.mark.parametrize(
    ("url", "tokens", "token_env"),
    [
        ("git@github.com:acme/widgets.git", {}, "GH_TOKEN"),
        ("https://github.com/acme/widgets", {"GITHUB_TOKEN": "x"}, "GITHUB_TOKEN"),
        ("ssh://git@ssh.github.com:443/acme/widgets.git", {"GH_TOKEN": "y", "GITHUB_TOKEN": "x"},
         "GH_TOKEN"),
    ],
)  # fmt: skip
def test_github_com_is_known_and_takes_owner_and_repo(
    issue, git_project, monkeypatch, url, tokens, token_env
):
    for name, value in tokens.items():
        monkeypatch.setenv(name, value)
    remote("origin", url)
    found = detect_json(issue)
    assert (found["type"], found["detected_by"]) == ("github", "known host")
    assert found["settings"] == {
        "url": "https://api.github.com",
        "owner": "acme",
        "repo": "widgets",
        "token_env": token_env,
    }
    assert repo_file(git_project)["backends"]["github"]["owner"] == "acme"
    assert Config.load().resolve().trust == "trusted"


def test_a_nested_path_on_an_owner_repo_forge_is_one_line(issue, git_project):
    remote("origin", "https://github.com/acme/widgets/tree")
    result = issue("config", "detect")
    assert result.exit_code == 2 and "must be owner/repo" in result.stderr
    assert not (git_project / ".issue-core").exists()


def test_a_github_enterprise_host_is_probed_without_a_token(issue, git_project, fake_github):
    # A GitHub Enterprise Server answers Gitea's and GitLab's questions with 404s, which its
    # API description does not list: asked on purpose, as of any unknown host.
    for path in ("/api/v1/version", "/api/v4/version"):
        fake_github.recorder.expect_violation(path)
    repo = fake_github.fake.repo
    remote("origin", f"{fake_github.base_url}/{repo.owner}/{repo.name}.git")
    fake_github.reset_count()
    found = detect_json(issue)
    asked = fake_github.requests()
    assert [r.path for r in asked] == ["/api/v1/version", "/api/v4/version", "/api/v3/meta"]
    assert not any(k in ("authorization", "cookie") for r in asked for k in r.request_headers)
    assert (found["type"], found["detected_by"]) == ("github", "probed")
    assert found["server_version"] == fake_github.fake.ghes_version
    assert found["settings"] == {
        "url": fake_github.base_url,
        "owner": repo.owner,
        "repo": repo.name,
        "token_env": "GH_TOKEN",
    }
    created = issue("create", "on the Enterprise Server")
    assert created.exit_code == 0, created.output
    listed = json.loads(issue("list", "--format", "json").stdout)
    assert [i["title"] for i in listed] == ["on the Enterprise Server"]


def test_a_self_hosted_gitlab_is_probed_without_a_token(issue, git_project, fake_gitlab):
    # GitLab answers Gitea's question with a 404 its API description does not list: asked on
    # purpose, as of any unknown host. Its /version wants a token: the JSON 401 says GitLab.
    fake_gitlab.recorder.expect_violation("/api/v1/version")
    project = fake_gitlab.fake.project.full_path
    remote("origin", f"{fake_gitlab.base_url}/{project}.git")
    fake_gitlab.reset_count()
    found = detect_json(issue)
    asked = fake_gitlab.requests()
    assert [r.path for r in asked] == ["/api/v1/version", "/api/v4/version"]
    assert not any(
        k in ("authorization", "private-token", "cookie") for r in asked for k in r.request_headers
    )
    assert (found["type"], found["detected_by"]) == ("gitlab", "probed")
    assert found["settings"] == {
        "url": fake_gitlab.base_url,
        "project": project,
        "token_env": "GITLAB_TOKEN",
    }
    created = issue("create", "on the self-hosted GitLab")
    assert created.exit_code == 0, created.output
    listed = json.loads(issue("list", "--format", "json").stdout)
    assert [i["title"] for i in listed] == ["on the self-hosted GitLab"]


def test_a_host_that_never_answers_is_given_up_on_after_one_request(issue, git_project):
    from tests.fakes.silent import silent_server

    with silent_server() as silent:  # takes connections, never answers
        remote("origin", f"{silent.url}/acme/widgets")
        result = issue("config", "detect", "--print")
    held = silent.held
    assert result.exit_code == 6 and "did not answer" in result.stderr
    assert len(held) == 1  # the first timeout ends it: not one wait per question
