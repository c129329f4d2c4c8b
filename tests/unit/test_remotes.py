"""Git remote URLs as forge addresses (core/remotes.py): every form, round-tripped by hypothesis,
and the git/ssh config files they come from."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issue_core.core.remotes import (
    Remote,
    choose_remote,
    display_url,
    git_remotes,
    parse_remote_url,
    resolve_ssh_alias,
    ssh_host_settings,
    url_host,
)

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
hosts = st.builds(lambda parts, tld: ".".join([*parts, tld]), st.lists(_label, min_size=1,
                  max_size=3), st.sampled_from(["com", "org", "example", "internal"]))  # fmt: skip
segments = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}", fullmatch=True).filter(
    lambda s: s not in (".", "..") and not s.endswith(".git")
)
paths = st.lists(segments, min_size=2, max_size=4).map("/".join)
ports = st.none() | st.integers(1, 65535)
users = st.none() | st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
endings = st.sampled_from(["", ".git", "/", ".git/"])


@given(hosts, paths, ports, users, endings, st.sampled_from(["https", "http"]))
def test_http_remotes_round_trip(host, path, port, user, ending, scheme):
    at = f"{user}@" if user else ""
    colon = f":{port}" if port else ""
    parsed = parse_remote_url(f"{scheme}://{at}{host}{colon}/{path}{ending}")
    assert parsed == Remote(scheme, host, path, port, user)
    assert parsed.web_url == f"{scheme}://{host}{colon}"


@given(hosts, paths, ports, users, endings)
def test_ssh_urls_round_trip_and_point_the_web_at_https(host, path, port, user, ending):
    at = f"{user}@" if user else ""
    colon = f":{port}" if port else ""
    parsed = parse_remote_url(f"ssh://{at}{host}{colon}/{path}{ending}")
    assert parsed == Remote("ssh", host, path, port, user)
    assert parsed.web_url == f"https://{host}"  # the SSH port says nothing of the web's


@given(hosts, paths, users, endings)
def test_scp_like_remotes_round_trip(host, path, user, ending):
    at = f"{user}@" if user else ""
    assert parse_remote_url(f"{at}{host}:{path}{ending}") == Remote("ssh", host, path, None, user)


@given(hosts, paths, st.text(min_size=1, max_size=30).filter(lambda s: "@" not in s and
       "/" not in s and not any(c.isspace() for c in s)))  # fmt: skip
def test_a_password_in_the_url_never_survives_parsing_or_display(host, path, secret):
    secret = "!" + secret  # "!" is in no generated host or path
    url = f"https://user:{secret}@{host}/{path}.git"
    parsed = parse_remote_url(url)
    assert parsed is not None and parsed.user == "user"
    assert all(secret not in str(getattr(parsed, key)) for key in Remote.__slots__)
    assert secret not in parsed.web_url
    assert display_url(url) == f"https://user:***@{host}/{path}.git"


@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_without_raising(text):
    parsed = parse_remote_url(text)
    if parsed is not None:
        assert len(parsed.path.split("/")) >= 2 and not parsed.path.endswith(".git")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/widgets.git", Remote("https", "github.com", "acme/widgets")),
        ("https://GitHub.com/acme/widgets/", Remote("https", "github.com", "acme/widgets")),
        (
            "git@github.com:acme/widgets.git",
            Remote("ssh", "github.com", "acme/widgets", None, "git"),
        ),
        ("ssh://git@host:2222/owner/repo", Remote("ssh", "host", "owner/repo", 2222, "git")),
        ("git+ssh://git@host/owner/repo", Remote("ssh", "host", "owner/repo", None, "git")),
        (
            "git@gitlab.com:group/sub/repo.git",
            Remote("ssh", "gitlab.com", "group/sub/repo", None, "git"),
        ),
        ("https://[::1]:3000/a/b", Remote("https", "::1", "a/b", 3000)),
        ("git://host/a/b.git", Remote("git", "host", "a/b")),
    ],
)
def test_documented_forms(url, expected):
    assert parse_remote_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/widgets.git",
        "./widgets",
        "../widgets.git",
        "file:///srv/git/widgets.git",
        "C:\\repos\\widgets",
        "C:/repos/widgets",
        "https://github.com/widgets",  # no owner
        "https://github.com",
        "git@github.com:widgets.git",
        "ftp://host/a/b",
        "https://host:99999/a/b",
        "",
        "host:~user/repo.git",
    ],
)
def test_what_is_not_a_forge_address(url):
    assert parse_remote_url(url) is None


def test_known_hosts_and_the_web_of_ssh_only_hosts():
    assert parse_remote_url("git@github.com:a/b").known_type == "github"
    assert parse_remote_url("https://gitlab.com/a/b").known_type == "gitlab"
    over_443 = parse_remote_url("ssh://git@ssh.github.com:443/a/b.git")
    assert over_443.known_type == "github" and over_443.web_url == "https://github.com"
    assert parse_remote_url("git@git.example.com:a/b").known_type is None


def test_a_token_as_the_user_part_is_hidden_too():
    token = "ghp_" + "A1b2" * 9
    assert token not in display_url(f"https://{token}@github.com/a/b.git")
    assert display_url("https://alice@github.com/a/b") == "https://alice@github.com/a/b"
    assert display_url("git@github.com:a/b.git") == "git@github.com:a/b.git"


def test_url_host():
    assert url_host("https://Git.Example.com:3000/x") == "git.example.com"
    assert url_host("https://user@[::1]/") == "::1"
    assert url_host("gitea.example.com") is None


GIT_CONFIG = """\
[core]
\trepositoryformatversion = 0
[remote "origin"]
\turl = git@github.com:acme/widgets.git
\tfetch = +refs/heads/*:refs/remotes/origin/*
[remote "my fork"] ; a comment
\turl = "https://github.com/me/widgets.git" # trailing comment
\turl = https://second.example/ignored/x
[remote.legacy]
\turl = https://git.example.com/a/b
[branch "main"]
\tremote = origin
\turl = not-a-remote
"""


def test_git_remotes_reads_every_remote_with_its_first_url():
    assert git_remotes(GIT_CONFIG) == {
        "origin": "git@github.com:acme/widgets.git",
        "my fork": "https://github.com/me/widgets.git",
        "legacy": "https://git.example.com/a/b",
    }


@pytest.mark.parametrize(
    ("names", "chosen"),
    [
        (["origin", "upstream"], "upstream"),
        (["origin", "github", "gitlab"], "github"),
        (["origin", "gitlab"], "gitlab"),
        (["fork", "origin"], "origin"),
        (["fork"], "fork"),
        (["fork", "mirror"], None),
        ([], None),
    ],
)
def test_the_remote_is_chosen_as_gh_does(names, chosen):
    assert choose_remote(names) == chosen


SSH_CONFIG = """\
# aliases
Host work work-alt
    HostName github.com
    User git
Host *.corp !bastion.corp
    HostName %h.example.com
    Port 2222
Host bastion.corp
    Port 22
Host *
    User fallback
    HostName ignored-for-work.example
"""


def test_ssh_aliases_resolve_to_their_host_name_first_value_winning():
    assert ssh_host_settings(SSH_CONFIG, "work") == {"hostname": "github.com", "user": "git"}
    assert ssh_host_settings(SSH_CONFIG, "git.corp") == {
        "hostname": "git.corp.example.com",
        "port": "2222",
        "user": "fallback",
    }
    assert ssh_host_settings(SSH_CONFIG, "bastion.corp")["port"] == "22"
    alias = parse_remote_url("work:acme/widgets.git")
    resolved = resolve_ssh_alias(alias, SSH_CONFIG)
    assert resolved == Remote("ssh", "github.com", "acme/widgets", None, "git")
    assert resolved.known_type == "github"
    # https remotes are not ssh aliases
    https = parse_remote_url("https://work/acme/widgets")
    assert resolve_ssh_alias(https, SSH_CONFIG) == https
