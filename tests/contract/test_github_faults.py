"""The faults GitHub users meet, against the fake GitHub (every exchange contract-checked):
a renamed repository, an archived one, a token missing a scope, a fine-grained token without
access, a user without push access, secondary rate limits mid-listing, a spent primary limit.
Each is one line with the documented exit code, in bounded time, and no unreported write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from issue_core.backends.github import GitHubBackend
from issue_core.core.errors import PermissionDenied, RateLimited
from issue_core.core.models import Issue, IssueFilter


class FakeTime:
    """Sleeps are recorded and skipped (the fake's clock is real time)."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def waits() -> FakeTime:
    return FakeTime()


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))


def connect(running: Any, waits: FakeTime | None = None, **settings: Any) -> GitHubBackend:
    backend = GitHubBackend(**({"sleep": waits.sleep} if waits else {}))
    backend.connect(running.backend_config(**settings))
    return backend


def test_a_renamed_repository_is_followed_and_said_once(fake_github):
    fake_github.fake.add_issue("Before the move")
    config = fake_github.backend_config()  # the old name, as the user configured it
    fake_github.fake.rename("tracker-2")
    backend = GitHubBackend()
    backend.connect(config)
    assert [i.title for i in backend.list_issues()] == ["Before the move"]
    backend.add_comment(1, "after the move")
    assert len(backend.notices) == 1 and "tracker-2" in backend.notices[0]
    assert backend.get_issue_by_number(1).comments_count == 1


def test_an_archived_repository_refuses_writes_in_one_line(fake_github):
    fake_github.fake.add_issue("Frozen")
    fake_github.fake.archive()
    backend = connect(fake_github)
    assert backend.get_issue_by_number(1).title == "Frozen"  # reads still work
    with pytest.raises(PermissionDenied) as caught:
        backend.create_issue(Issue("New"))
    assert caught.value.exit_code == 5 and "archived" in caught.value.message
    assert backend.list_issues(IssueFilter(state="all"))[0].title == "Frozen"  # nothing new
    assert len(backend.list_issues(IssueFilter(state="all"))) == 1


def test_a_classic_token_without_repo_scope_is_named(fake_github, monkeypatch):
    fake_github.fake.add_token(fake_github.fake.owner, "ghp_" + "r" * 36, scopes=("read:user",))
    monkeypatch.setenv("GH_TOKEN", "ghp_" + "r" * 36)
    backend = connect(fake_github)
    info = backend.test_connection()
    assert info.checks["permissions"][0] is False, info.checks
    assert "scope" in info.checks["permissions"][1] or "scope" in info.checks["repository"][1]


def test_a_fine_grained_token_with_read_access_cannot_write(fake_github, monkeypatch):
    token = "github_pat_" + "f" * 40
    fake_github.fake.add_fine_grained_token(fake_github.fake.owner, token, issues="read")
    monkeypatch.setenv("GH_TOKEN", token)
    fake_github.fake.add_issue("Readable")
    backend = connect(fake_github)
    assert backend.get_issue_by_number(1).title == "Readable"
    with pytest.raises(PermissionDenied) as caught:
        backend.add_comment(1, "no")
    assert "Issues permission" in caught.value.message


def test_labels_dropped_for_a_user_without_push_access_are_exit_5(fake_github, monkeypatch):
    fake = fake_github.fake
    fake.add_label("bug")
    fake.add_collaborator("reader", role="pull")
    fake.add_token("reader", "ghp_" + "p" * 36, scopes=("repo",))
    monkeypatch.setenv("GH_TOKEN", "ghp_" + "p" * 36)
    backend = connect(fake_github)
    with pytest.raises(PermissionDenied) as caught:
        backend.create_issue(Issue("From a reader", labels=["bug"]))
    assert caught.value.exit_code == 5 and "dropped labels bug" in caught.value.message
    assert "created #" in caught.value.message  # the issue exists, and its number is told


def test_secondary_limits_mid_listing_are_waited_out(fake_github, waits):
    for n in range(250):
        fake_github.fake.add_issue(f"issue {n}")
    # The first page is answered; the next two requests (pages 2 and 3) hit the limit.
    rule = fake_github.fake.secondary_limit(times=2, retry_after=3, path="/issues$", after=1)
    issues = connect(fake_github, waits).list_issues(IssueFilter(state="all"))
    assert (rule.passed, rule.fired) == (1, 2)
    assert sorted(i.number for i in issues) == list(range(1, 251))  # each once, none lost
    assert waits.slept.count(3.0) == 2


def test_a_secondary_limit_too_long_to_wait_mid_listing_is_one_line_exit_6(fake_github, waits):
    for n in range(250):
        fake_github.fake.add_issue(f"issue {n}")
    fake_github.fake.secondary_limit(times=5, retry_after=3600, path="/issues$", after=1)
    with pytest.raises(RateLimited) as caught:
        connect(fake_github, waits).list_issues(IssueFilter(state="all"))
    assert caught.value.exit_code == 6 and "retry after" in caught.value.message
    assert "\n" not in caught.value.one_line()
    assert sum(waits.slept) <= 60  # an hour is never waited out


def test_a_spent_primary_limit_says_when_to_retry(fake_github, waits):
    fake_github.fake.exhaust_rate_limit()
    with pytest.raises(RateLimited) as caught:
        connect(fake_github, waits).list_issues()
    assert caught.value.exit_code == 6 and "retry after" in caught.value.message
    assert sum(waits.slept) <= 60


def test_the_cli_says_the_new_name_once_on_stderr(fake_github, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from issue_core.cli.main import cli
    from tests.contract.cli_backends import CliSetup, write_user_config

    fake_github.fake.add_issue("Moved")
    settings = {k: v for k, v in fake_github.backend_config().items() if k != "type"}
    fake_github.fake.rename("tracker-2")
    write_user_config(tmp_path / "config", CliSetup("github", settings))
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--backend", "under-test", "show", "1", "--comments"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "renamed or moved" in line]
    assert len(notes) == 1 and "alice/tracker-2" in notes[0]


def test_generic_faults_are_one_line_exit_6_in_bounded_time(fake_github, waits):
    import time as _time

    from issue_core.core.errors import BackendUnavailable

    fake_github.fake.add_issue("x")
    faults = fake_github.fake.faults
    cases = [
        (lambda: faults.server_errors(times=10), "HTTP 503"),
        (lambda: faults.html_page(times=10), "HTTP 502"),
        (lambda: faults.malformed_json(times=10), "malformed JSON"),
        (lambda: faults.hang(times=10, seconds=5), "timed out"),
    ]
    for arm, says in cases:
        faults.clear()
        arm()
        backend = connect(fake_github, waits, timeout=1, http_cache=False)
        started = _time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            backend.get_issue_by_number(1)
        assert caught.value.exit_code == 6 and says in caught.value.message, says
        assert "\n" not in caught.value.one_line()
        assert _time.monotonic() - started < 4  # the 1 s budget, not attempts x timeout
        backend.close()
    faults.clear()
