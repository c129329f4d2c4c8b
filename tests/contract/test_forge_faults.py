"""The faults listed for Gitea, on GitHub and GitLab too (issue "Remote backends II", *Bad input
and faults*), each against its contract-checked fake: a server down, a 5xx storm, an HTML page
instead of JSON, malformed JSON, a hung server, a wrong token, a missing repository and a label
that does not exist. Each is one line with the documented exit code, in bounded time, and
nothing written that the caller is not told about. (Gitea's are in
tests/integration/test_gitea_backend.py; GitHub's own faults in test_github_faults.py.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from issue_core.core.errors import AuthError, BackendUnavailable, IssueCoreError, NotFound
from issue_core.core.interfaces import IssueBackend
from issue_core.core.models import Issue, IssueFilter


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))


class Forge:
    """One fake forge and how to connect its backend (one attempt budget of 1 s)."""

    def __init__(self, running: Any, backend_class: type[IssueBackend], token_env: str) -> None:
        self.running = running
        self.backend_class = backend_class
        self.token_env = token_env
        self.opened: list[IssueBackend] = []

    @property
    def faults(self) -> Any:
        return self.running.fake.faults

    def connect(self, **settings: Any) -> IssueBackend:
        backend = self.backend_class(sleep=lambda seconds: None)  # type: ignore[call-arg]
        config = {**self.running.backend_config(http_cache=False, timeout=1), **settings}
        backend.connect(config)
        self.opened.append(backend)
        return backend

    def issue_count(self) -> int:
        fake = self.running.fake
        return len(fake.repo.issues if hasattr(fake, "repo") else fake.project.issues)


@pytest.fixture(params=["github", "gitlab"])
def forge(request: pytest.FixtureRequest) -> Any:
    if request.param == "github":
        from issue_core.backends.github import GitHubBackend

        made = Forge(request.getfixturevalue("fake_github"), GitHubBackend, "GH_TOKEN")
    else:
        from issue_core.backends.gitlab import GitLabBackend

        made = Forge(request.getfixturevalue("fake_gitlab"), GitLabBackend, "GITLAB_TOKEN")
    made.running.fake.add_issue("already there")
    yield made
    for backend in made.opened:
        backend.close()


def one_line(error: IssueCoreError) -> str:
    text = error.one_line()
    assert "\n" not in text and "Traceback" not in text, text
    return text


@pytest.mark.parametrize(
    ("arm", "says"),
    [
        (lambda faults: faults.server_errors(times=20), "HTTP 503"),
        (lambda faults: faults.html_page(times=20), "HTTP 502"),
        (lambda faults: faults.malformed_json(times=20), "malformed JSON"),
        (lambda faults: faults.hang(times=20, seconds=5), "timed out"),
    ],
    ids=["5xx-storm", "html-page", "malformed-json", "hung"],
)
def test_a_failing_server_is_one_line_exit_6_in_bounded_time(forge: Forge, arm: Any, says: str):
    backend = forge.connect()
    arm(forge.faults)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        backend.list_issues(IssueFilter(state="all"))
    assert caught.value.exit_code == 6 and says in one_line(caught.value), caught.value
    assert time.monotonic() - started < 4  # the 1 s budget, not attempts x timeout
    forge.faults.clear()
    with pytest.raises(BackendUnavailable):
        arm(forge.faults)
        backend.create_issue(Issue("during the storm"))
    forge.faults.clear()
    # A create that failed this way wrote nothing, or was found again by its create-once token.
    assert forge.issue_count() in (1, 2)
    titles = [i.title for i in backend.list_issues(IssueFilter(state="all"))]
    assert titles.count("during the storm") == forge.issue_count() - 1


def test_a_server_that_is_down_is_one_line_exit_6_naming_the_host(forge: Forge):
    backend = forge.connect()
    forge.running.server.stop()
    with pytest.raises(BackendUnavailable) as caught:
        backend.list_issues()
    assert caught.value.exit_code == 6 and "127.0.0.1" in one_line(caught.value)


def test_a_wrong_token_is_exit_5_naming_the_variable(forge: Forge, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(forge.token_env, "ghp_" + "0" * 36)
    with pytest.raises(AuthError) as caught:
        forge.connect().list_issues()
    error = caught.value
    assert error.exit_code == 5
    assert forge.token_env in one_line(error) + (error.hint or "")
    assert "0" * 36 not in one_line(error) + (error.hint or "")  # the token is never echoed


def test_a_missing_repository_is_exit_3(forge: Forge):
    where = {"repo": "no-such-repo"} if "repo" in forge.running.backend_config() else {}
    where = where or {"project": "group/no-such-project"}
    with pytest.raises(NotFound) as caught:
        forge.connect(**where).list_issues()
    assert caught.value.exit_code == 3 and "no-such" in one_line(caught.value)


def test_a_label_that_does_not_exist_is_exit_3_and_creates_nothing(forge: Forge):
    backend = forge.connect()
    with pytest.raises(NotFound) as caught:
        backend.create_issue(Issue("labelled", labels=["no-such-label"]))
    assert caught.value.exit_code == 3 and "no-such-label" in one_line(caught.value)
    assert forge.issue_count() == 1
