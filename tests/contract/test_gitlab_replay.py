"""Replay real gitlab.com traffic (tests/contracts/gitlab/recorded) against ``GitLabBackend``.

The recordings are served by a local handler; the backend must send exactly the requests the
recordings answer (method, the raw path with the project's URL-encoded path, and every query
parameter, except those a test names as ignored by GitLab) and turn the real bodies into the
right domain objects. Responses built from the recordings ("derived") only re-cut recorded
data: one issue of the recorded list, the notes of the recorded discussions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.fakes.contracts import contracts_dir
from tests.fakes.recorded import load_recorded
from tests.fakes.replay import ReplayApp
from tests.fakes.server import LiveServer

gitlab_backend = pytest.importorskip("issue_core.backends.gitlab")

LIVE = "https://gitlab.com"
PROJECT = "/api/v4/projects/15578026"
ISSUES_PAGE = "/issues?page=1&per_page=2&sort=asc&state=all"


def _recorded() -> tuple[Any, ...]:
    return load_recorded(str(contracts_dir() / "gitlab" / "recorded"))


def _find(suffix: str) -> Any:
    matches = [ex for ex in _recorded() if ex.target.endswith(suffix)]
    assert len(matches) == 1, suffix
    return matches[0]


def _ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def replay(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ReplayApp, Any]]:
    def start(*ignored: str) -> tuple[ReplayApp, LiveServer]:
        app = ReplayApp(None, live_base_url=LIVE, ignored=ignored)
        app.add_recorded(_recorded())
        server = LiveServer(app).start()
        app.base_url = server.base_url
        servers.append(server)
        return app, server

    servers: list[LiveServer] = []
    monkeypatch.setenv("GITLAB_TOKEN", "replay-token-not-a-secret")
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    try:
        yield start  # type: ignore[misc]
    finally:
        for server in servers:
            server.stop()


def _backend(server: LiveServer, project: str = "15578026", **extra: Any) -> Any:
    backend = gitlab_backend.GitLabBackend()
    backend.connect(
        {
            "url": server.base_url,
            "project": project,
            "token_env": "GITLAB_TOKEN",
            "http_cache": False,
            **extra,
        }
    )
    return backend


def _issues() -> list[dict[str, Any]]:
    return list(_find(ISSUES_PAGE).json())


def _served(app: ReplayApp) -> set[str]:
    return {source for _, _, source in app.served}


def test_list_sends_the_recorded_request_and_parses_real_issues(replay: Any) -> None:
    from issue_core.core.models import IssueFilter

    app, server = replay()
    query = IssueFilter(state="all", sort="created", direction="asc", limit=2)
    with _backend(server, page_size=2) as backend:
        issues = backend.list_issues(query)
    assert app.unmatched == []
    assert _find(ISSUES_PAGE).file_name in _served(app)
    raw = _issues()
    assert [i.number for i in issues] == [r["iid"] for r in raw] == [1, 2]
    assert [i.id for i in issues] == [str(r["id"]) for r in raw]  # the global id, kept apart
    first = issues[0]
    assert first.title == "Please add an animated gif icon to the merge button"
    assert first.state.value == "closed" and first.closed_at == _ts(raw[0]["closed_at"])
    assert first.labels == ["bug", "discussion"] and first.milestone == "1.0.0"
    assert first.author == "lafriks" and first.assignees == []
    assert first.comments_count == raw[0]["user_notes_count"]
    assert first.url == f"{server.base_url}/gitea/test_repo/-/work_items/1"
    assert first.created_at == _ts(raw[0]["created_at"])
    assert first.version == int(_ts(raw[0]["updated_at"]).timestamp() * 1000)  # type: ignore[union-attr]


def test_labels_and_milestones_parse_from_real_bodies(replay: Any) -> None:
    # The recording asked for milestones with state=all (not a GitLab state: GitLab answers
    # every milestone, as without it); include_ancestors adds a parent group's milestones,
    # of which the recorded group has none.
    app, server = replay("state", "include_ancestors")
    with _backend(server) as backend:
        labels = backend.list_labels()
        milestones = backend.client.list_milestones()
    assert app.unmatched == []
    assert [(lab.name, lab.color) for lab in labels][:3] == [
        ("bug", "d9534f"),
        ("confirmed", "d9534f"),
        ("critical", "d9534f"),
    ]
    assert len(labels) == 9 and all(lab.description is None for lab in labels)
    from issue_core.backends.gitlab import mapping

    by_title = {m.title: m for m in map(mapping.milestone_from_wire, milestones)}
    assert set(by_title) == {"1.0.0", "1.1.0"}
    assert by_title["1.0.0"].state.value == "closed"
    assert by_title["1.0.0"].closed_at == _ts("2019-11-28T15:57:52.401Z")  # its updated_at
    assert by_title["1.1.0"].state.value == "open" and by_title["1.1.0"].closed_at is None
    assert by_title["1.1.0"].due_on is None and by_title["1.1.0"].description is None


def test_show_with_comments_leaves_out_system_notes(replay: Any) -> None:
    app, server = replay("sort", "order_by")
    raw = {r["iid"]: r for r in _issues()}
    app.add_derived("GET", f"{PROJECT}/issues/2", raw[2], source=f"issue 2 of {ISSUES_PAGE}")
    discussions = _find("/issues/2/discussions?page=1&per_page=100").json()
    notes = [note for thread in discussions for note in thread["notes"]]
    app.add_derived(
        "GET",
        f"{PROJECT}/issues/2/notes?page=1&per_page=100",
        notes,
        headers=[("X-Total", str(len(notes))), ("X-Total-Pages", "1")],
        source="the notes of the recorded discussions of issue 2",
    )
    with _backend(server) as backend:
        issue = backend.get_issue_by_number(2, with_comments=True)
    assert app.unmatched == []
    assert [n["system"] for n in notes] == [False, True, True, False]
    assert [(c.body, c.author) for c in issue.comments] == [
        ("This is a comment", "lafriks"),
        ("A second comment", "lafriks"),
    ]
    assert issue.comments[0].id == str(notes[0]["id"])
    assert issue.comments_count == raw[2]["user_notes_count"]


def test_connection_check_reads_the_project_by_its_encoded_path(replay: Any) -> None:
    app, server = replay()
    author = _issues()[0]["author"]
    app.add_derived("GET", "/api/v4/user", author, source=f"author of {ISSUES_PAGE}")
    with _backend(server, project="gitea/test_repo") as backend:
        info = backend.test_connection()
    assert app.unmatched == []
    served = _served(app)
    assert _find("/api/v4/projects/gitea%2Ftest_repo").file_name in served
    assert info.server_version == "19.0.0-pre"
    assert info.user == "lafriks" and info.name == "gitea/test_repo"
    assert info.checks["repository"][0] is True
    # The recorded token's user is no member of the project: GitLab says so (null access).
    assert info.checks["permissions"][0] is False
    # RateLimit-* headers of the recordings are read (2000 an hour on gitlab.com).
    assert info.rate_limit_remaining is not None and info.rate_limit_remaining > 0


def test_the_version_enables_keyset_pagination_and_is_remembered(replay: Any) -> None:
    app, server = replay()
    with _backend(server) as backend:
        assert backend.client.server_version() == (19, 0)
        assert backend.client.uses_keyset({"state": "all"})
        assert not backend.client.uses_keyset({"order_by": "priority"})
    with _backend(server) as again:  # a second process the same day: no /version request
        assert again.client.server_version() == (19, 0)
    versions = [path for _, path, _ in app.served if path.endswith("/version")]
    assert versions == ["/api/v4/version"]


def _recut(
    app: ReplayApp, query: str, body: Any, headers: list[tuple[str, str]], what: str
) -> None:
    app.add_derived("GET", f"{PROJECT}/issues?{query}", body, headers=headers, source=what)


def test_without_x_total_the_next_page_header_is_followed(replay: Any) -> None:
    """Above 10,000 issues GitLab sends no X-Total (nor X-Total-Pages, nor Link rel=last):
    the recorded issues re-cut into pages of one, with only X-Next-Page to go by."""
    from issue_core.core.models import IssueFilter

    app, server = replay()
    first, second = _issues()
    _recut(app, "page=1&per_page=1&sort=asc&state=all", [first], [("X-Next-Page", "2")], "p1")
    _recut(app, "page=2&per_page=1&sort=asc&state=all", [second], [("X-Next-Page", "")], "p2")
    query = IssueFilter(state="all", sort="created", direction="asc")
    with _backend(server, page_size=1, pagination="offset") as backend:
        issues = backend.list_issues(query)
    assert app.unmatched == []
    assert [i.number for i in issues] == [1, 2]


def test_keyset_pages_follow_the_cursor_the_server_names(replay: Any) -> None:
    """GitLab >= 18.3 (the recorded server is 19.0): project issues by keyset, the recorded
    issues re-cut into cursor pages of one; no page number is sent."""
    from issue_core.core.models import IssueFilter

    app, server = replay()
    first, second = _issues()
    keyset = "order_by=created_at&pagination=keyset&per_page=1&sort=asc&state=all"
    link = f'<{LIVE}{PROJECT}/issues?cursor=eyJpZCI6IjEifQ&{keyset}>; rel="next"'
    _recut(app, keyset, [first], [("Link", link)], "keyset page 1")
    _recut(app, f"cursor=eyJpZCI6IjEifQ&{keyset}", [second], [], "keyset page 2")
    query = IssueFilter(state="all", sort="created", direction="asc")
    with _backend(server, page_size=1, pagination="keyset") as backend:
        issues = backend.list_issues(query)
    assert app.unmatched == []
    assert [i.number for i in issues] == [1, 2]
    asked = [path for _, path, _ in app.served]
    assert asked.count(f"{PROJECT}/issues") == 2  # (asked for: no /version needed)


def test_a_list_too_long_to_count_continues_by_keyset(replay: Any) -> None:
    """By default offset pages come first (concurrent once X-Total is known); when page 1
    has no X-Total (over 10,000 issues) and the server offers keyset pages, the list goes on
    by keyset from the start, without the issues page 1 already gave."""
    from issue_core.core.models import IssueFilter

    app, server = replay()
    first, second = _issues()
    offset = "page=1&per_page=1&sort=asc&state=all"
    _recut(app, offset, [first], [("X-Next-Page", "2")], "offset page 1, uncounted")
    keyset = "order_by=created_at&pagination=keyset&per_page=1&sort=asc&state=all"
    link = f'<{LIVE}{PROJECT}/issues?cursor=eyJpZCI6IjEifQ&{keyset}>; rel="next"'
    _recut(app, keyset, [first], [("Link", link)], "keyset page 1")
    _recut(app, f"cursor=eyJpZCI6IjEifQ&{keyset}", [second], [], "keyset page 2")
    query = IssueFilter(state="all", sort="created", direction="asc")
    with _backend(server, page_size=1) as backend:
        issues = backend.list_issues(query)
    assert app.unmatched == []
    assert [i.number for i in issues] == [1, 2]  # issue 1 once, though two pages held it
    asked = [path for _, path, _ in app.served]
    assert asked.count(f"{PROJECT}/issues") == 3


def test_backend_add_and_test_from_the_cli(replay: Any, tmp_path: Any, monkeypatch: Any) -> None:
    """``issue backend add NAME gitlab`` writes the entry (defaults filled in, no secret) and
    ``issue backend test`` reports on the recorded server: reachable, authenticated, the
    project found by its encoded path, and read-only (the recorded user is no member)."""
    import tomllib

    from click.testing import CliRunner

    from issue_core.cli.main import cli

    app, server = replay()
    app.add_derived("GET", "/api/v4/user", _issues()[0]["author"], source="a recorded author")
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["backend", "add", "lab", "gitlab", "--url", server.base_url,
         "--project", "gitea/test_repo", "--user"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    entry = tomllib.loads((tmp_path / "config" / "config.toml").read_text())["backends"]["lab"]
    assert entry == {
        "type": "gitlab",
        "url": server.base_url,
        "project": "gitea/test_repo",
        "token_env": "GITLAB_TOKEN",
        "auth": "private-token",
        "in_progress_label": "status/in-progress",
    }
    tested = runner.invoke(cli, ["--backend", "lab", "backend", "test", "--format", "json"])
    assert app.unmatched == []
    report = json.loads(tested.stdout)
    checks = {name: check["ok"] for name, check in report["checks"].items()}
    assert checks["server"] and checks["authentication"] and checks["repository"]
    assert checks["permissions"] is False and tested.exit_code == 5
    assert "replay-token-not-a-secret" not in tested.output


# --------------------------------------------------------------------------- faults
#
# GitLab's answers to what goes wrong, served by the replay server in place of a recording: one
# line on stderr, the documented exit code, in bounded time, and nothing written unnoticed.

LIST = f"{PROJECT}/issues?page=1&per_page=100&sort=desc&state=opened"
SCOPE_BODY = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the access "
    "token.",
    "scope": "api",
}
HTML = b"<!DOCTYPE html><html><head><title>Sign in \xc2\xb7 GitLab</title></head></html>"


def _cli(
    server: LiveServer,
    tmp_path: Any,
    monkeypatch: Any,
    *args: str,
    labels: dict[str, str] | None = None,
    **extra: Any,
) -> Any:
    import tomli_w
    from click.testing import CliRunner

    from issue_core.cli.main import cli

    settings = {"type": "gitlab", "url": server.base_url, "project": "15578026", **extra}
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    data: dict[str, Any] = {"backends": {"lab": settings}}
    if labels is not None:
        data["labels"] = labels
    (config / "config.toml").write_text(tomli_w.dumps(data))
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(config))
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--backend", "lab", *args], prog_name="issue")
    result.seconds = time.monotonic() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _one_line(result: Any, code: int, *words: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "replay-token-not-a-secret" not in result.output
    return lines[0]


def _writes(app: ReplayApp) -> list[str]:
    return [f"{method} {path}" for method, path, _ in app.served if method != "GET"]


def test_a_read_only_token_is_told_which_scope_a_write_needs(replay, tmp_path, monkeypatch):
    app, server = replay()
    raw = {r["iid"]: r for r in _issues()}
    raw[2] = {**raw[2], "state": "opened", "closed_at": None}
    app.add_derived("GET", f"{PROJECT}/issues/2", raw[2], source="issue 2, reopened")
    app.add_derived("PUT", f"{PROJECT}/issues/2", SCOPE_BODY, status=403, source="read_api")
    result = _cli(server, tmp_path, monkeypatch, "close", "2")
    _one_line(result, 5, "lacks the 'api' scope")
    assert _writes(app) == [f"PUT {PROJECT}/issues/2"]  # refused: nothing was written


@pytest.mark.parametrize(
    ("status", "body", "code", "words"),
    [
        (401, {"error": "invalid_token", "error_description": "Token is expired."}, 5,
         ("expired or revoked", "Token is expired")),
        (401, {"message": "401 Unauthorized"}, 5, ("HTTP 401", "$GITLAB_TOKEN")),
        (404, {"message": "404 Project Not Found"}, 3, ("GitLab project 15578026 not found",)),
        (200, HTML, 6, ("non-JSON",)),
        (200, b'[{"id": 1, "iid": ', 6, ("malformed JSON",)),
        (502, HTML, 6, ("HTTP 502",)),
    ],
)  # fmt: skip
def test_a_failing_list_is_one_line_with_its_exit_code(
    replay, tmp_path, monkeypatch, status, body, code, words
):
    app, server = replay()
    kind = "text/html" if body is HTML else "application/json"
    app.add_derived("GET", LIST, body, status=status, source="a fault", content_type=kind)
    result = _cli(server, tmp_path, monkeypatch, "list", max_retries=1)
    _one_line(result, code, *words)
    assert result.seconds < 10  # a 502 storm: two attempts and a short backoff, no more


def test_a_429_without_retry_after_or_ratelimit_headers_is_bounded(replay, tmp_path, monkeypatch):
    """GitLab's 429 may say nothing about when to come back: issue-core assumes 5 s, and a wait
    longer than rate_limit_max_wait fails at once (exit 6) saying when to retry."""
    app, server = replay()
    app.add_derived("GET", LIST, {"message": "Retry later"}, status=429, source="throttled")
    result = _cli(server, tmp_path, monkeypatch, "list", rate_limit_max_wait=1)
    _one_line(result, 6, "rate limited", "retry after")
    assert result.seconds < 5


def test_an_unknown_label_is_refused_before_anything_is_written(replay, tmp_path, monkeypatch):
    """GitLab would create a label it does not know; with ``labels.create = "never"`` the
    recorded label list is read and the create (or edit) stops with exit 3 before any write."""
    app, server = replay()
    raw = {r["iid"]: r for r in _issues()}
    app.add_derived("GET", f"{PROJECT}/issues/2", raw[2], source="issue 2")
    for args in (("create", "x", "--label", "nope"), ("edit", "2", "--add-label", "nope")):
        result = _cli(server, tmp_path, monkeypatch, *args, labels={"create": "never"})
        _one_line(result, 3, "'nope'")
    assert _writes(app) == []


def test_a_server_that_is_down_is_one_line_and_exit_6(tmp_path, monkeypatch):
    import socket

    monkeypatch.setenv("GITLAB_TOKEN", "replay-token-not-a-secret")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the CLI runs: nothing listens

    class Down:
        base_url = f"http://127.0.0.1:{port}"

    result = _cli(Down(), tmp_path, monkeypatch, "list")  # type: ignore[arg-type]
    _one_line(result, 6, "connection refused")
