"""GiteaBackend and the ``issue`` CLI against the fake Gitea (checked against Gitea's Swagger).

Every request and response in these tests is validated against the official API description
by the ``fake_gitea`` fixture; a violation fails the test that caused it. Request counts are
taken at the fake. No test asserts on wall-clock time: a hang is caught by subprocess timeouts,
and "bounded" is checked as a bounded number of requests.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import issue_core.backends.gitea as gitea_module
from issue_core.core.errors import AuthError, BackendUnavailable, Conflict, NotFound
from issue_core.core.models import Issue, IssueFilter, IssueState, Label, Milestone
from tests.fakes.fixtures import TOKEN_ENV, RunningGitea
from tests.fakes.gitea import READ_TOKEN, WRITE_TOKEN
from tests.fakes.server import closed_port

CLI_TIMEOUT = 60  # a guard against hangs, not a performance check
BACKEND_NAME = "forge"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ISSUE_CORE_BACKEND", raising=False)
    return tmp_path


@pytest.fixture
def backend(fake_gitea: RunningGitea, isolated: Path) -> Iterator[Any]:
    fake_gitea.fake.add_collaborator("ann")
    instance = gitea_module.GiteaBackend()
    instance.connect(fake_gitea.backend_config())
    try:
        yield instance
    finally:
        instance.close()


def connect(running: RunningGitea, **overrides: Any) -> Any:
    instance = gitea_module.GiteaBackend()
    instance.connect(running.backend_config(**overrides))
    return instance


class Cli:
    """Runs the installed CLI in a subprocess with a config pointing at the fake."""

    def __init__(self, running: RunningGitea, home: Path) -> None:
        self.running = running
        self.home = home
        self.settings: dict[str, Any] = {"timeout": 2, "max_retries": 2, "rate_limit_max_wait": 5}
        self.top_level: dict[str, Any] = {}  # other tables of the user config ([labels] ...)
        self.env = {
            **os.environ,
            "ISSUE_CORE_CONFIG_DIR": str(home / "config"),
            "ISSUE_CORE_CACHE_DIR": str(home / "cache"),
            TOKEN_ENV: WRITE_TOKEN,
        }
        self.env.pop("ISSUE_CORE_BACKEND", None)

    def write_config(self, **overrides: Any) -> None:
        import tomli_w

        settings = {"type": "gitea", **self.running.backend_config(), **self.settings, **overrides}
        folder = self.home / "config"
        folder.mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = {"backends": {BACKEND_NAME: settings}, **self.top_level}
        (folder / "config.toml").write_text(tomli_w.dumps(document))

    def run(self, *args: str, **overrides: Any) -> subprocess.CompletedProcess[str]:
        self.write_config(**overrides)
        command = [sys.executable, "-m", "issue_core.cli.main", "--backend", BACKEND_NAME, *args]
        result = subprocess.run(
            command,
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        for stream in (result.stdout, result.stderr):
            assert WRITE_TOKEN not in stream and READ_TOKEN not in stream
        return result

    def json(self, *args: str, **overrides: Any) -> Any:
        result = self.run(*args, "--format", "json", **overrides)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli(fake_gitea: RunningGitea, isolated: Path) -> Cli:
    fake_gitea.fake.add_collaborator("ann")
    return Cli(fake_gitea, isolated)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("issue: error:"), lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


# --------------------------------------------------------------------------- CRUD: Python API


def test_full_crud_through_the_backend(backend: Any, fake_gitea: RunningGitea) -> None:
    fake = fake_gitea.fake
    backend.create_label(Label(name="bug", color="ff0000", description="broken"))
    backend.create_milestone(Milestone(title="v1"))
    created = backend.create_issue(
        Issue(
            title="Crash on start",
            description="steps",
            labels=["bug"],
            assignees=["ann"],
            milestone="v1",
        )
    )
    stored = fake.issue(created.number)
    assert stored.title == "Crash on start" and stored.assignees == ["ann"]
    assert [fake.repo.labels[i].name for i in stored.label_ids] == ["bug"]
    assert fake.repo.milestones[stored.milestone_id].title == "v1"

    loaded = backend.get_issue_by_number(created.number)
    assert (loaded.title, loaded.description, loaded.labels, loaded.milestone) == (
        "Crash on start",
        "steps",
        ["bug"],
        "v1",
    )
    loaded.title = "Crash on start-up"
    loaded.state = IssueState.CLOSED
    updated = backend.update_issue(loaded)
    assert (
        updated.state is IssueState.CLOSED and stored.closed and stored.title == "Crash on start-up"
    )

    backend.add_comment(created.number, "fixed in main")
    assert [c.body for c in backend.list_comments(created.number)] == ["fixed in main"]

    renamed = backend.update_label("bug", Label(name="defect", color="00ff00"))
    assert renamed.name == "defect" and [lab.name for lab in fake.repo.labels.values()] == [
        "defect"
    ]
    closed_ms = backend.update_milestone("v1", Milestone(title="v1", state="closed"))
    assert closed_ms.state.value == "closed"
    backend.delete_label("defect")
    assert fake.repo.labels == {} and stored.label_ids == []

    backend.delete_issue(created.number)
    assert created.number not in fake.repo.issues
    with pytest.raises(NotFound):
        backend.get_issue_by_number(created.number)


def test_in_progress_is_open_plus_the_configured_label(
    fake_gitea: RunningGitea, isolated: Path
) -> None:
    fake = fake_gitea.fake
    with connect(fake_gitea, in_progress_label="doing") as backend:
        issue = backend.create_issue(Issue(title="Work", state="in_progress"))
        stored = fake.issue(issue.number)
        assert not stored.closed
        assert [fake.repo.labels[i].name for i in stored.label_ids] == ["doing"]
        assert issue.state is IssueState.IN_PROGRESS and issue.labels == []
        backend.create_issue(Issue(title="Idle"))
        in_progress = backend.list_issues(IssueFilter(state="in_progress"))
        assert [i.title for i in in_progress] == ["Work"]
        assert [i.title for i in backend.list_issues(IssueFilter(state="open"))] == ["Idle"]
        issue.state = IssueState.OPEN
        backend.update_issue(issue)
        assert stored.label_ids == [] and not stored.closed


def test_sync_metadata_round_trips_through_the_body(backend: Any, fake_gitea: RunningGitea) -> None:
    metadata = {
        "marker": "run-7:task-3",
        "source": {"system": "ci", "ids": [1, 2]},
        "note": "a --> b",
    }
    created = backend.create_issue(
        Issue(title="Synced", description="Human text", sync_metadata=metadata)
    )
    stored = fake_gitea.fake.issue(created.number)
    assert stored.body.startswith("Human text")  # the block is hidden at the end
    # A person edits the visible text on the server; the block survives.
    stored.body = "Edited by a human" + stored.body[len("Human text") :]
    again = backend.get_issue_by_number(created.number)
    assert again.description == "Edited by a human"
    assert again.sync_metadata == metadata
    assert backend.find_issue_by_marker("run-7:task-3").number == created.number


def test_pull_requests_are_never_listed_or_shown(backend: Any, fake_gitea: RunningGitea) -> None:
    import httpx

    fake = fake_gitea.fake
    fake.add_issue("an issue")
    pull = fake.add_pull_request("a pull request")
    fake.add_issue("a closed issue", closed=True)
    # A client that did not filter would see the pull request: it is in the data.
    raw = httpx.get(
        f"{fake_gitea.api_url}/repos/alice/tracker/issues",
        params={"state": "all"},
        headers={"Authorization": f"token {WRITE_TOKEN}"},
    ).json()
    assert "a pull request" in [item["title"] for item in raw]
    listed = backend.list_issues(IssueFilter(state=None, limit=None))
    assert sorted(i.title for i in listed) == ["a closed issue", "an issue"]
    assert all(
        i.title != "a pull request"
        for i in backend.iter_issues(IssueFilter(state=None, limit=None))
    )
    with pytest.raises(NotFound):
        backend.get_issue_by_number(pull.number)


def test_labels_are_created_only_when_asked(backend: Any, fake_gitea: RunningGitea) -> None:
    fake = fake_gitea.fake
    with pytest.raises(NotFound):
        backend.create_issue(Issue(title="Tagged", labels=["new-label"]))
    assert fake.repo.labels == {} and fake.issues() == []
    made = backend.create_issue(Issue(title="Tagged", labels=["new-label"]), create_labels=True)
    assert made.labels == ["new-label"]
    assert [lab.name for lab in fake.repo.labels.values()] == ["new-label"]


def test_filter_on_an_unknown_label_finds_nothing(backend: Any, fake_gitea: RunningGitea) -> None:
    # Gitea drops label names it does not know and would then return *every* issue.
    fake_gitea.fake.add_issue("one", labels=["bug"])
    assert backend.list_issues(IssueFilter(labels=["no-such-label"])) == []
    assert [i.title for i in backend.list_issues(IssueFilter(labels=["bug"]))] == ["one"]


# --------------------------------------------------------------------------- CRUD: CLI


def test_crud_through_the_cli(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake = fake_gitea.fake
    fake.add_label("bug")
    made = cli.json("create", "Login fails", "--description", "on Safari", "--label", "bug")
    number = made["number"]
    assert fake.issue(number).title == "Login fails"
    shown = cli.json("show", str(number))
    assert (shown["title"], shown["description"], shown["labels"]) == (
        "Login fails",
        "on Safari",
        ["bug"],
    )
    assert cli.run("edit", str(number), "--title", "Login fails on Safari").returncode == 0
    assert cli.run("comment", str(number), "seen it too").returncode == 0
    assert cli.run("close", str(number)).returncode == 0
    stored = fake.issue(number)
    assert stored.title == "Login fails on Safari" and stored.closed
    listed = cli.json("list", "--state", "all")
    assert [(i["number"], i["state"]) for i in listed] == [(number, "closed")]
    with_comments = cli.json("show", str(number), "--comments")
    assert [c["body"] for c in with_comments["comments"]] == ["seen it too"]
    assert cli.run("reopen", str(number)).returncode == 0
    assert not stored.closed


# --------------------------------------------------------------------------- request counts


def test_show_costs_one_request_and_comments_one_more(cli: Cli, fake_gitea: RunningGitea) -> None:
    issue = fake_gitea.fake.add_issue("Counted")
    fake_gitea.reset_count()
    assert cli.run("show", str(issue.number)).returncode == 0
    assert [str(e) for e in fake_gitea.requests()] == [
        f"GET /api/v1/repos/alice/tracker/issues/{issue.number} -> 200"
    ]
    fake_gitea.reset_count()
    assert cli.run("show", str(issue.number), "--comments").returncode == 0
    assert sorted(e.path for e in fake_gitea.requests()) == [
        f"/api/v1/repos/alice/tracker/issues/{issue.number}",
        f"/api/v1/repos/alice/tracker/issues/{issue.number}/comments",
    ]


def test_debug_logs_each_request_without_the_token(cli: Cli, fake_gitea: RunningGitea) -> None:
    issue = fake_gitea.fake.add_issue("Logged")
    result = cli.run("--debug", "show", str(issue.number))
    assert result.returncode == 0, result.stderr
    logged = [line for line in result.stderr.splitlines() if "issue_core.http" in line]
    assert any(f"/repos/alice/tracker/issues/{issue.number}" in line for line in logged), logged
    # run() has already checked that no token appears anywhere in stdout or stderr.


def test_debug_after_the_command_logs_each_request_once(cli: Cli, fake_gitea: RunningGitea) -> None:
    issue = fake_gitea.fake.add_issue("Logged later")
    for args in (
        ["show", str(issue.number), "--debug"],
        ["--debug", "show", str(issue.number), "--debug"],
    ):
        result = cli.run(*args)
        assert result.returncode == 0, result.stderr
        logged = [line for line in result.stderr.splitlines() if "issue_core.http" in line]
        wanted = [line for line in logged if f"/repos/alice/tracker/issues/{issue.number}" in line]
        assert wanted, (args, result.stderr)
        assert len(wanted) == len(set(wanted)), f"{args}: lines logged twice: {wanted}"


@pytest.mark.slow
@pytest.mark.parametrize("gitea_options", [{"etags": True}])
def test_listing_5000_issues_takes_one_request_per_page(
    fake_gitea: RunningGitea, isolated: Path
) -> None:
    fake = fake_gitea.fake
    for index in range(5000):
        fake.add_issue(f"issue {index}", created=1_700_000_000 + index)
    fake.add_pull_request("not an issue")
    max_page = fake.max_response_items
    with connect(fake_gitea) as backend:
        fake_gitea.reset_count()
        first = backend.list_issues(IssueFilter(state=None, limit=None))
        first_requests = fake_gitea.requests()
        fake_gitea.reset_count()
        second = backend.list_issues(IssueFilter(state=None, limit=None))
        second_requests = fake_gitea.requests()
    assert len(first) == 5000 and [i.number for i in first] == [i.number for i in second]
    assert len(first_requests) <= math.ceil(5000 / max_page) + 1  # pages + /settings/api
    # ETags are opt-in on the fake (Gitea sends none): with them, the re-read is all 304s.
    listing = [e for e in second_requests if e.path.endswith("/issues")]
    assert len(listing) == len([e for e in first_requests if e.path.endswith("/issues")])
    assert {e.status for e in listing} == {304}


# --------------------------------------------------------------------------- faults


def test_server_down_is_a_one_line_unavailable_error(cli: Cli) -> None:
    result = cli.run("list", url=f"http://127.0.0.1:{closed_port()}")
    assert result.returncode == 6
    assert "127.0.0.1" in one_line_error(result)


def test_read_timeout_is_unavailable_after_bounded_retries(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake_gitea.fake.faults.hang(times=10, seconds=5)
    fake_gitea.reset_count()
    result = cli.run("list", timeout=0.5, max_retries=1)
    assert result.returncode == 6
    assert "time" in one_line_error(result).lower()
    assert len(fake_gitea.requests()) <= 2


def test_5xx_storm_is_unavailable_after_bounded_retries(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake_gitea.fake.faults.server_errors(times=100, status=503)
    fake_gitea.reset_count()
    result = cli.run("list", max_retries=2)
    assert result.returncode == 6
    assert "503" in one_line_error(result)
    assert len(fake_gitea.requests()) <= 3


def test_a_few_5xx_are_retried_transparently(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake_gitea.fake.add_issue("survivor")
    fake_gitea.fake.faults.server_errors(times=2, status=502)
    listed = cli.json("list", max_retries=2)
    assert [i["title"] for i in listed] == ["survivor"]


def test_429_with_retry_after_is_waited_out(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake_gitea.fake.add_issue("patience")
    fake_gitea.fake.faults.rate_limit(times=1, retry_after=1)
    fake_gitea.reset_count()
    assert [i["title"] for i in cli.json("list")] == ["patience"]
    assert [e.status for e in fake_gitea.requests()][:2] == [429, 200]


def test_429_longer_than_allowed_is_rate_limited_error(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake_gitea.fake.faults.rate_limit(times=100, retry_after=3600)
    fake_gitea.reset_count()
    result = cli.run("list", rate_limit_max_wait=2)
    assert result.returncode == 6
    one_line_error(result)
    assert len(fake_gitea.requests()) == 1


@pytest.mark.parametrize("status", [200, 502])
def test_html_page_is_a_clear_error(cli: Cli, fake_gitea: RunningGitea, status: int) -> None:
    fake_gitea.fake.faults.html_page(times=100, status=status)
    result = cli.run("list")
    assert result.returncode == 6
    assert "html" in one_line_error(result).lower()


def test_malformed_json_is_a_clear_error(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake_gitea.fake.add_issue("x")
    fake_gitea.fake.faults.malformed_json(times=100, after_processing=True)
    result = cli.run("list")
    assert result.returncode == 6
    assert "json" in one_line_error(result).lower()


def test_wrong_token_is_an_auth_error(cli: Cli) -> None:
    cli.env[TOKEN_ENV] = "not-a-valid-token"
    result = cli.run("list")
    assert result.returncode == 5
    line = one_line_error(result)
    assert "not-a-valid-token" not in line and TOKEN_ENV in line


def test_read_only_token_cannot_write(cli: Cli, fake_gitea: RunningGitea) -> None:
    cli.env[TOKEN_ENV] = READ_TOKEN
    result = cli.run("create", "Nope")
    assert result.returncode == 5
    one_line_error(result)
    assert fake_gitea.fake.issues() == []


def test_missing_repository_is_not_found(cli: Cli) -> None:
    result = cli.run("list", repo="no-such-repo")
    assert result.returncode == 3
    one_line_error(result)


def test_unknown_label_on_create_is_not_found_when_labels_create_never(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    cli.top_level = {"labels": {"create": "never"}}
    result = cli.run("create", "Tagged", "--label", "nope")
    assert result.returncode == 3
    assert "nope" in one_line_error(result)
    assert fake_gitea.fake.issues() == [] and fake_gitea.fake.repo.labels == {}


def test_missing_token_variable_is_an_auth_error(cli: Cli) -> None:
    cli.env.pop(TOKEN_ENV)
    result = cli.run("list")
    assert result.returncode == 5
    assert TOKEN_ENV in one_line_error(result)


# --------------------------------------------------------------------------- ambiguous writes


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "drop"},
        {"kind": "status", "status": 502},
        {"kind": "hang", "seconds": 3},
    ],
    ids=["dropped-connection", "502-after-write", "timeout-after-write"],
)
def test_a_create_that_failed_ambiguously_is_not_duplicated(
    fake_gitea: RunningGitea, isolated: Path, fault: dict[str, Any]
) -> None:
    fake = fake_gitea.fake
    fake.faults.add(times=1, method="POST", path=r"/issues$", after_processing=True, **fault)
    with connect(fake_gitea, timeout=1) as backend:
        made = backend.create_issue(Issue(title="Exactly once", description="body"))
    assert [i.title for i in fake.issues()] == ["Exactly once"]
    assert made.number == fake.issues()[0].number
    posts = [e for e in fake_gitea.recorder.exchanges if e.method == "POST"]
    assert len(posts) == 1  # found by its marker, never sent again


def test_a_create_that_never_reached_the_server_is_sent_again(
    fake_gitea: RunningGitea, isolated: Path
) -> None:
    fake = fake_gitea.fake
    fake.faults.add("status", times=1, method="POST", path=r"/issues$", status=503)
    with connect(fake_gitea) as backend:
        backend.create_issue(Issue(title="Second try"))
    assert [i.title for i in fake.issues()] == ["Second try"]


def test_wrong_token_through_the_api_raises_auth_error(
    fake_gitea: RunningGitea, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "wrong")
    with connect(fake_gitea) as backend, pytest.raises(AuthError):
        backend.list_issues()


# --------------------------------------------------------------------------- change feed


def test_change_feed_keeps_an_edit_made_in_the_cursor_second(
    fake_gitea: RunningGitea, isolated: Path
) -> None:
    # Gitea's timestamps have whole seconds: freeze the fake's clock so that every write lands
    # in the cursor's second, deterministically.
    fake_gitea.fake.state.clock = lambda: 1_800_000_000
    with connect(fake_gitea) as backend:
        first = backend.create_issue(Issue(title="one"))
        backend.create_issue(Issue(title="two"))
        _, cursor = backend.changes_since(None)
        first.title = "one, edited"
        backend.update_issue(first)
        changes, cursor2 = backend.changes_since(cursor)
        assert backend.changes_since(cursor2)[0] == []
    assert [(c.issue.number, c.issue.title) for c in changes] == [(first.number, "one, edited")]


# --------------------------------------------------------------------------- issue 8 §5


def test_comment_on_a_missing_issue_is_not_found_without_retries(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake_gitea.reset_count()
    result = cli.run("comment", "9999", "hello")
    assert result.returncode == 3
    assert "#9999" in one_line_error(result)
    # Gitea would answer the comment POST with a 500 (retried, then exit 6): never sent.
    assert [e.method for e in fake_gitea.requests()] == ["GET"]


def test_comment_on_a_pull_request_is_refused(cli: Cli, fake_gitea: RunningGitea) -> None:
    pull = fake_gitea.fake.add_pull_request("a pull request")
    result = cli.run("comment", str(pull.number), "hello")
    assert result.returncode == 3
    assert "pull request" in one_line_error(result)
    assert fake_gitea.fake.repo.comments == {}


def test_the_in_progress_marker_label_cannot_be_deleted(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake = fake_gitea.fake
    made = cli.json("create", "Busy")
    assert cli.run("edit", str(made["number"]), "--state", "in_progress").returncode == 0
    result = cli.run("label", "delete", "status/in-progress")
    assert result.returncode == 2
    assert "in-progress marker" in one_line_error(result)
    assert [fake.repo.labels[i].name for i in fake.issue(made["number"]).label_ids] == [
        "status/in-progress"
    ]
    assert cli.json("show", str(made["number"]))["state"] == "in_progress"


def test_an_unassignable_user_on_edit_is_a_usage_error_and_writes_nothing(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    issue = fake_gitea.fake.add_issue("Original")
    fake_gitea.reset_count()
    result = cli.run("edit", str(issue.number), "--title", "Renamed", "--assignee", "nobody")
    assert result.returncode == 2
    assert "nobody" in one_line_error(result)
    assert fake_gitea.fake.issue(issue.number).title == "Original"
    assert all(e.method == "GET" for e in fake_gitea.requests())


def test_gitea_itself_applies_the_title_before_failing_on_an_assignee(
    fake_gitea: RunningGitea,
) -> None:
    """The fake is faithful to what the backend guards against: a 500 after a partial write."""
    import httpx

    issue = fake_gitea.fake.add_issue("Original")
    answer = httpx.patch(
        f"{fake_gitea.api_url}/repos/alice/tracker/issues/{issue.number}",
        json={"title": "Renamed", "assignees": ["nobody"]},
        headers={"Authorization": f"token {WRITE_TOKEN}"},
    )
    assert answer.status_code == 500
    assert fake_gitea.fake.issue(issue.number).title == "Renamed"


def test_a_failed_edit_sends_no_labels_and_says_nothing_was_changed(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake = fake_gitea.fake
    fake.add_label("bug")
    issue = fake.add_issue("Original")
    fake.faults.server_errors(times=10, status=503, method="PATCH")
    result = cli.run("edit", str(issue.number), "--title", "Renamed", "--add-label", "bug")
    assert result.returncode == 6
    assert "was not changed" in one_line_error(result)
    stored = fake.issue(issue.number)
    assert (stored.title, stored.label_ids) == ("Original", [])
    assert not [e for e in fake_gitea.recorder.exchanges if e.method == "PUT"]


def test_a_stale_body_puts_the_title_back(backend: Any, fake_gitea: RunningGitea) -> None:
    fake = fake_gitea.fake
    stored = fake.add_issue("Original", body="text")
    issue = backend.get_issue_by_number(stored.number)
    stored.content_version += 1  # someone edited the body right after our read
    issue.title, issue.description = "Renamed", "new text"
    with pytest.raises(Conflict) as caught:
        backend.update_issue(issue)
    assert "nothing was changed" in caught.value.message
    assert (stored.title, stored.body) == ("Original", "text")


READ_ONLY_USER_TOKEN = "fake-gitea-bob-token-2222222222222222222"


def test_a_user_without_push_access_is_told_what_gitea_dropped(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake = fake_gitea.fake
    fake.add_label("bug")
    fake.add_collaborator("bob", write=False)  # may open issues, not set their labels
    fake.add_token("bob", READ_ONLY_USER_TOKEN)
    cli.env[TOKEN_ENV] = READ_ONLY_USER_TOKEN
    result = cli.run("create", "From bob", "--label", "bug", "--assignee", "ann")
    assert result.returncode == 5
    line = one_line_error(result)
    assert "labels bug" in line and "assignees ann" in line and "created #" in line
    [made] = fake.issues()  # created (never lost), and the user is told so
    result = cli.run("edit", str(made.number), "--title", "Renamed", "--assignee", "ann")
    assert result.returncode == 5
    line = one_line_error(result)
    assert "assignees ann" in line and "applied: title" in line


def test_create_labels_creates_missing_labels_on_edit_too(
    backend: Any, fake_gitea: RunningGitea
) -> None:
    issue = backend.create_issue(Issue(title="Tagged"))
    issue.labels = ["brand-new"]
    updated = backend.update_issue(issue, create_labels=True)
    assert updated.labels == ["brand-new"]
    assert [lab.name for lab in fake_gitea.fake.repo.labels.values()] == ["brand-new"]


def test_due_date_is_gitea_native_and_priority_round_trips(
    backend: Any, fake_gitea: RunningGitea
) -> None:
    from datetime import UTC, datetime

    due = datetime(2026, 12, 24, 9, 30, tzinfo=UTC)
    made = backend.create_issue(Issue(title="Due", due_at=due, priority="high"))
    stored = fake_gitea.fake.issue(made.number)
    assert stored.deadline == int(due.timestamp())  # Gitea's own due date, seen in its UI
    assert "issue-core:priority" in stored.body
    again = backend.get_issue_by_number(made.number)
    assert (again.due_at, again.priority, again.sync_metadata) == (due, 1, {})
    # A person moves the due date in Gitea's UI: Gitea's date wins over the hidden copy.
    stored.deadline = int(datetime(2027, 1, 5, 23, 59, 59, tzinfo=UTC).timestamp())
    moved = backend.get_issue_by_number(made.number)
    assert moved.due_at == datetime(2027, 1, 5, 23, 59, 59, tzinfo=UTC)
    moved.due_at = None
    cleared = backend.update_issue(moved)
    assert cleared.due_at is None and stored.deadline is None


def _issue_pages(running: RunningGitea) -> list[str]:
    return [e.query for e in running.requests() if e.path.endswith("/tracker/issues")]


def test_limit_51_reads_two_pages(cli: Cli, fake_gitea: RunningGitea) -> None:
    for index in range(300):
        fake_gitea.fake.add_issue(f"issue {index}", created=1_700_000_000 + index)
    assert len(cli.json("list", "--limit", "51")) == 51  # the first run also reads settings
    fake_gitea.reset_count()
    assert len(cli.json("list", "--limit", "51")) == 51
    pages = _issue_pages(fake_gitea)
    assert len(pages) == 2 and all("limit=50" in q for q in pages), pages


def test_sort_by_number_is_right_when_creation_order_differs(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake = fake_gitea.fake
    # Migrated issues: #1..#60 were created long after #61..#120 (numbers do not follow time).
    for index in range(120):
        stamp = 1_700_000_000 + (index + 1000 if index < 60 else index)
        fake.add_issue(f"issue {index + 1}", created=stamp)
    listed = cli.json("list", "--sort", "number", "--limit", "5")
    assert [i["number"] for i in listed] == [120, 119, 118, 117, 116]
    ascending = cli.json("list", "--sort", "number", "--order", "asc", "--limit", "3")
    assert [i["number"] for i in ascending] == [1, 2, 3]


def test_search_does_not_match_the_hidden_metadata_block(
    backend: Any, fake_gitea: RunningGitea
) -> None:
    backend.create_issue(Issue(title="Synced", sync_metadata={"source": "zebra-pipeline"}))
    visible = backend.create_issue(Issue(title="About zebra-pipeline", description="x"))
    commented = backend.create_issue(Issue(title="Other", sync_metadata={"n": "zebra-pipeline"}))
    backend.add_comment(commented.number, "the zebra-pipeline failed")
    found = backend.list_issues(IssueFilter(text="zebra-pipeline"))
    assert sorted(i.number for i in found) == sorted([visible.number, commented.number])


def test_listing_while_others_create_and_close_has_no_duplicates_or_skips(
    fake_gitea: RunningGitea, isolated: Path
) -> None:
    fake = fake_gitea.fake
    for index in range(120):
        fake.add_issue(f"issue {index + 1}", created=1_700_000_000 + index)
    fired: list[bool] = []

    def another_user_writes(ctx: Any) -> None:
        if ctx.path.endswith("/issues") and ctx.arg("page") == "2" and not fired:
            fired.append(True)
            fake.add_issue("created meanwhile", created=1_800_000_000)
            for number in range(110, 116):  # six issues of page 1 closed meanwhile
                fake.state.set_closed(fake.issue(number), True)

    fake.before_handling.append(another_user_writes)
    with connect(fake_gitea) as backend:
        listed = backend.list_issues(IssueFilter(limit=None))
    numbers = [i.number for i in listed]
    assert fired and len(numbers) == len(set(numbers))  # no duplicates
    open_throughout = {n for n in range(1, 121) if not 110 <= n <= 115}
    assert open_throughout <= set(numbers)  # no skips
    assert 121 in numbers  # the one created meanwhile is seen on the re-read


ALICE_READ_SCOPE_TOKEN = "fake-gitea-alice-read-333333333333333333"


def test_backend_test_sees_a_read_only_scoped_token(
    fake_gitea: RunningGitea, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_gitea.fake
    with connect(fake_gitea) as backend:
        assert backend.test_connection().checks["permissions"] == (True, "write access")
    # The owner (push access) with a token limited to read scopes: the user may, the token not.
    fake.add_token("alice", ALICE_READ_SCOPE_TOKEN, write_scope=False)
    monkeypatch.setenv(TOKEN_ENV, ALICE_READ_SCOPE_TOKEN)
    with connect(fake_gitea) as backend:
        ok, text = backend.test_connection().checks["permissions"]
    assert not ok and "read-only" in text
    assert fake.issues() == []  # the probe wrote nothing


def test_a_hung_server_costs_one_request_budget_not_every_retry(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake_gitea.fake.faults.hang(times=10, seconds=4)
    fake_gitea.reset_count()
    result = cli.run("list", timeout=1, max_retries=5)
    assert result.returncode == 6
    assert "timed out after 1s" in one_line_error(result)
    assert len(fake_gitea.requests()) == 1  # the budget was spent: no retry after it


def test_the_default_request_budget_is_15_seconds(backend: Any) -> None:
    assert backend.client.http.timeouts.total == 15.0


def test_settings_are_read_once_a_day_per_server(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake_gitea.fake.add_label("bug")

    def settings_reads() -> int:
        return sum(1 for e in fake_gitea.requests() if e.path.endswith("/settings/api"))

    fake_gitea.reset_count()
    assert cli.run("label", "list").returncode == 0
    assert settings_reads() == 1
    fake_gitea.reset_count()
    assert cli.run("label", "list").returncode == 0
    assert cli.run("milestone", "list").returncode == 0
    assert settings_reads() == 0  # remembered in the user cache dir
    [cached] = (cli.home / "cache" / "gitea-settings").glob("*.json")
    data = json.loads(cached.read_text())
    assert set(data) == {"fetched_at", "max_response_items"}  # numbers only, never a secret
    assert oct(cached.stat().st_mode & 0o777) == "0o600"
    data["fetched_at"] -= 2 * 24 * 3600  # expired
    cached.write_text(json.dumps(data))
    fake_gitea.reset_count()
    assert cli.run("label", "list").returncode == 0
    assert settings_reads() == 1


def test_a_create_applied_after_the_client_gave_up_is_never_duplicated(
    fake_gitea: RunningGitea, isolated: Path
) -> None:
    import time

    fake = fake_gitea.fake
    # The server applies the create 2.5 s after it arrived; the client waits 1 s.
    fake.faults.add("delay", times=1, method="POST", path=r"/issues$", seconds=2.5)
    with connect(fake_gitea, timeout=1) as backend, pytest.raises(BackendUnavailable) as caught:
        backend.create_issue(Issue(title="Exactly once", description="body"))
    message = caught.value.message
    assert "POST /api/v1/repos/alice/tracker/issues" in message, message
    assert "may have been applied" in message and "GET" not in message
    guard = time.monotonic() + 20  # not a timing check: waits for the slow server to finish
    while not fake.issues() and time.monotonic() < guard:
        time.sleep(0.05)
    assert len(fake.issues()) == 1
    with connect(fake_gitea) as backend:  # the same command, run again
        again = backend.create_issue(Issue(title="Exactly once", description="body"))
    assert [i.number for i in fake.issues()] == [again.number]
    assert len([e for e in fake_gitea.recorder.exchanges if e.method == "POST"]) == 1


# --------------------------------------------------------------------------- client-side filters


def test_no_assignee_and_no_milestone_read_on_until_the_limit_is_filled(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    """Gitea cannot filter these: the matches sit behind two full pages of other issues."""
    fake = fake_gitea.fake
    milestone = fake.add_milestone("v1")
    loose = fake.add_issue("Nobody's, no milestone", created=1_700_000_000)
    for index in range(2 * fake.max_response_items):
        busy = fake.add_issue(f"assigned {index}", created=1_700_000_100 + index)
        busy.assignees.append("ann")
        busy.milestone_id = milestone.id
    fake_gitea.reset_count()
    for flag in ("--no-assignee", "--no-milestone"):
        result = cli.run("list", flag, "--limit", "1", "--json", "number")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == [{"number": loose.number}], flag
    pages = [e for e in fake_gitea.requests() if e.path.endswith("/issues")]
    assert len(pages) == 2 * 3  # three pages each: the limit is filled from the last one


# --------------------------------------------------------------------------- delete

BOB_TOKEN = "fake-gitea-bob-token-2222222222222222222"
ADA_TOKEN = "fake-gitea-ada-token-3333333333333333333"


def test_delete_needs_a_repository_admin(cli: Cli, fake_gitea: RunningGitea) -> None:
    """Gitea's reqAdmin: a collaborator who may write everything else gets 403 (exit 5)."""
    fake = fake_gitea.fake
    fake.add_collaborator("bob", write=True)
    fake.add_token("bob", BOB_TOKEN)
    issue = fake.add_issue("Not bob's to delete")
    cli.env[TOKEN_ENV] = BOB_TOKEN
    result = cli.run("delete", str(issue.number), "--yes")
    assert result.returncode == 5
    line = one_line_error(result)
    assert f"cannot delete #{issue.number} in alice/tracker" in line
    assert "user should be an owner or a collaborator with admin write of a repository" in line
    assert "only the repository's owner and admins delete issues" in line
    assert BOB_TOKEN not in result.stderr
    assert issue.number in fake.repo.issues
    closed = cli.run("close", str(issue.number))  # what bob may do instead
    assert closed.returncode == 0, closed.stderr


def test_delete_as_an_admin_collaborator(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake = fake_gitea.fake
    fake.add_collaborator("ada", admin=True)
    fake.add_token("ada", ADA_TOKEN)
    first, second = fake.add_issue("First"), fake.add_issue("Second")
    cli.env[TOKEN_ENV] = ADA_TOKEN
    deleted = cli.json("delete", str(first.number), str(second.number), "--yes")
    assert [row["deleted"] for row in deleted] == [True, True]
    assert first.number not in fake.repo.issues and second.number not in fake.repo.issues


def test_delete_with_a_read_only_token_is_exit_5(cli: Cli, fake_gitea: RunningGitea) -> None:
    issue = fake_gitea.fake.add_issue("Stays")
    cli.env[TOKEN_ENV] = READ_TOKEN
    result = cli.run("delete", str(issue.number), "--yes", "--format", "json")
    assert result.returncode == 5
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "permission_denied" and "required=[write:issue]" in error["message"]
    assert issue.number in fake_gitea.fake.repo.issues


def test_delete_of_a_pull_request_is_refused(cli: Cli, fake_gitea: RunningGitea) -> None:
    pull = fake_gitea.fake.add_pull_request("A pull request")
    result = cli.run("delete", str(pull.number), "--yes")
    assert result.returncode == 3
    assert "is a pull request, not an issue" in one_line_error(result)
    assert pull.number in fake_gitea.fake.repo.issues


def test_a_failed_delete_reports_what_was_deleted_before(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake = fake_gitea.fake
    first, second = fake.add_issue("First"), fake.add_issue("Second")
    fake.faults.server_errors(times=10, method="DELETE", path=f"/issues/{second.number}$")
    result = cli.run("delete", str(first.number), str(second.number), "--yes", "--format", "json")
    assert result.returncode == 6
    assert json.loads(result.stdout) == [
        {"number": first.number, "title": "First", "deleted": True},
        {"number": second.number, "title": "Second", "deleted": False},
    ]
    error = json.loads(result.stderr)["error"]
    assert f"(deleted before it: #{first.number})" in error["message"]
    assert first.number not in fake.repo.issues and second.number in fake.repo.issues


# --------------------------------------------------------------------------- issue 8 §6


COMMENTER_TOKEN = "fake-gitea-carl-token-444444444444444444"


def test_editing_someone_elses_comment_without_write_access_is_exit_5(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    """Gitea lets the poster or a writer change a comment; others get a 403, told clearly."""
    fake = fake_gitea.fake
    issue = fake.add_issue("Discussed")
    made = cli.json("comment", str(issue.number), "by alice")
    fake.add_collaborator("carl", write=False)
    fake.add_token("carl", COMMENTER_TOKEN)
    cli.env[TOKEN_ENV] = COMMENTER_TOKEN
    for args in (["--edit", made["id"], "-b", "by carl"], ["--delete", made["id"], "--yes"]):
        result = cli.run("comment", str(issue.number), *args)
        assert result.returncode == 5, result.stderr
        line = one_line_error(result)
        assert f"comment {made['id']} on #{issue.number}" in line and "author" in line, line
    assert [c.body for c in fake.repo.comments.values()] == ["by alice"]
    own = cli.json("comment", str(issue.number), "by carl")
    assert (
        cli.json("comment", str(issue.number), "--edit-last", "-b", "carl, edited")["id"]
        == (own["id"])
    )
    assert [c.body for c in fake.repo.comments.values()] == ["by alice", "carl, edited"]


def test_a_pull_request_comment_is_not_a_comment_of_an_issue(
    cli: Cli, fake_gitea: RunningGitea
) -> None:
    fake = fake_gitea.fake
    issue = fake.add_issue("An issue")
    pull = fake.add_pull_request("A pull request")
    on_pull = fake.state.new_comment(fake.repo, pull, "alice", "lgtm")
    result = cli.run("comment", str(issue.number), "--edit", str(on_pull.id), "-b", "hijack")
    assert result.returncode == 3
    assert "pull request" in one_line_error(result)
    assert fake.repo.comments[on_pull.id].body == "lgtm"


def test_milestone_delete_sends_one_delete(cli: Cli, fake_gitea: RunningGitea) -> None:
    fake = fake_gitea.fake
    milestone = fake.add_milestone("v1")
    issue = fake.add_issue("in v1")
    issue.milestone_id = milestone.id
    fake_gitea.reset_count()
    assert cli.json("milestone", "delete", "V1", "--yes")["title"] == "v1"  # any case, as edit
    writes = [e for e in fake_gitea.requests() if e.method != "GET"]
    assert [(e.method, e.path) for e in writes] == [
        ("DELETE", f"/api/v1/repos/alice/tracker/milestones/{milestone.id}")
    ]
    assert fake.repo.milestones == {} and fake.issue(issue.number).milestone_id == 0


def test_comment_edits_and_deletes_cost_what_docs_say(cli: Cli, fake_gitea: RunningGitea) -> None:
    """docs/backends/gitea.md, request table: the comment's issue is checked once."""
    issue = fake_gitea.fake.add_issue("x")
    made = cli.json("comment", str(issue.number), "one")
    expected = {
        ("--edit", made["id"], "-b", "two"): ["GET", "PATCH"],
        ("--edit-last", "-b", "three"): ["GET", "GET", "GET", "PATCH"],  # me, issue, comments
        ("--delete", made["id"], "--yes"): ["GET", "GET", "DELETE"],  # issue, comments
    }
    for args, methods in expected.items():
        fake_gitea.reset_count()
        assert cli.run("comment", str(issue.number), *args).returncode == 0
        assert [e.method for e in fake_gitea.requests()] == methods, args
