"""Replay real gitea.com traffic (tests/contracts/gitea/recorded) against ``GiteaBackend``.

The recordings are served by a local handler; the backend must send exactly the requests the
recordings answer (method, path and the query parameters Gitea reads) and turn the real bodies,
``null`` lists included, into the right domain objects. The recorded responses themselves must
pass the contract validator with its ``null`` rule -- and fail without it, as the contracts
README reports (9 of 24 valid when ``null`` is not allowed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes.contracts import GiteaContract
from tests.fakes.gitea import Ctx, link_header
from tests.fakes.recorded import find_recorded, load_recorded, recorded_index
from tests.fakes.replay import ReplayApp
from tests.fakes.server import ContractRecorder, LiveServer

gitea_backend = pytest.importorskip("issue_core.backends.gitea")

ISSUES_ALL = "/issues?limit=50&page=1&state=all&type=issues"
ISSUES_PAGE3 = "/issues?limit=2&page=3&state=all&type=issues"
REPO_PATH = "/api/v1/repos/gitea/test_repo"


def _ts(text: str | None) -> datetime | None:
    return (
        None
        if text is None
        else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    )


# --------------------------------------------------------------------------- the recordings


def test_every_recorded_response_passes_the_contract(gitea_contract: GiteaContract) -> None:
    exchanges = load_recorded()
    assert len(exchanges) == len(recorded_index()["files"]) == 24
    for ex in exchanges:
        problems = gitea_contract.check_response(
            ex.method, ex.path, 200, ex.body, ex.header("Content-Type")
        )
        assert problems == [], ex.file_name


def test_recordings_fail_only_on_null_when_null_is_not_allowed(
    gitea_contract: GiteaContract,
) -> None:
    failing = []
    for ex in load_recorded():
        op, _, _ = gitea_contract.find(ex.method, ex.path)
        assert op is not None, ex.target
        schema = op.spec["responses"]["200"]
        if "$ref" in schema:
            schema = gitea_contract.document["responses"][schema["$ref"].rsplit("/", 1)[-1]]
        errors = gitea_contract.schema_errors(schema["schema"], json.loads(ex.body), nullable=False)
        if errors:
            failing.append(ex.file_name)
            assert all("None is not of type" in e for e in errors), errors
    assert len(failing) == 15  # the README's "9 of 24 valid"


def test_recorded_requests_are_valid_requests_except_undeclared_paging(
    gitea_contract: GiteaContract,
) -> None:
    for ex in load_recorded():
        problems = gitea_contract.check_request(ex.method, ex.path, ex.query)
        if ex.path.endswith("/comments"):
            # Gitea's migrator sends limit/page to the unpaged comments list; Gitea ignores them.
            assert problems and all("is not declared" in p for p in problems)
        else:
            assert problems == [], ex.target


def test_fake_link_header_matches_the_recorded_one(gitea_contract: GiteaContract) -> None:
    recorded = find_recorded(ISSUES_PAGE3)
    ctx = Ctx("GET", recorded.path, recorded.query, {}, b"")
    total = int(recorded.header("X-Total-Count") or 0)
    assert link_header("https://gitea.com", ctx, total, 2) == recorded.header("Link")


# --------------------------------------------------------------------------- replay server


@pytest.fixture
def replay(
    gitea_contract: GiteaContract, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ReplayApp, LiveServer, ContractRecorder]]:
    app = ReplayApp(gitea_contract)
    app.add_recorded(load_recorded())
    recorder = ContractRecorder(app, gitea_contract)
    server = LiveServer(recorder).start()
    app.base_url = server.base_url
    monkeypatch.setenv("GITEA_API_TOKEN", "replay-token-not-a-secret")
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    try:
        yield app, server, recorder
    finally:
        server.stop()
    recorder.assert_clean()


def _backend(server: LiveServer, **extra: Any) -> Any:
    backend = gitea_backend.GiteaBackend()
    backend.connect(
        {
            "url": server.base_url,
            "owner": "gitea",
            "repo": "test_repo",
            "token_env": "GITEA_API_TOKEN",
            "http_cache": False,
            **extra,
        }
    )
    return backend


def _recorded_issues() -> list[dict[str, Any]]:
    return list(find_recorded(ISSUES_ALL).json())


def _expected(raw: dict[str, Any]) -> dict[str, Any]:
    """What the domain issue must say, read straight from the wire JSON."""
    return {
        "number": raw["number"],
        "title": raw["title"],
        "description": raw["body"],
        "state": raw["state"],
        "labels": [label["name"] for label in raw["labels"] or []],
        "assignees": [user["login"] for user in raw["assignees"] or []],
        "milestone": raw["milestone"]["title"] if raw["milestone"] else None,
        "author": raw["user"]["login"],
        "comments_count": raw["comments"],
        "created_at": _ts(raw["created_at"]),
        "closed_at": _ts(raw["closed_at"]),
    }


def _actual(issue: Any) -> dict[str, Any]:
    return {
        "number": issue.number,
        "title": issue.title,
        "description": issue.description,
        "state": str(issue.state),
        "labels": issue.labels,
        "assignees": issue.assignees,
        "milestone": issue.milestone,
        "author": issue.author,
        "comments_count": issue.comments_count,
        "created_at": issue.created_at,
        "closed_at": issue.closed_at,
    }


def _served_files(app: ReplayApp) -> set[str]:
    return {source for _, _, source in app.served}


def test_list_issues_sends_the_recorded_request_and_parses_real_bodies(replay: Any) -> None:
    app, server, _ = replay
    from issue_core.core.models import IssueFilter

    with _backend(server) as backend:
        issues = backend.list_issues(IssueFilter(state="all", limit=None))
    assert app.unmatched == []
    assert find_recorded(ISSUES_ALL).file_name in _served_files(app)
    raw = _recorded_issues()
    assert [_actual(i) for i in issues] == [_expected(r) for r in raw]
    # Spot checks against the real data, including the `null` assignee lists.
    by_number = {i.number: i for i in issues}
    assert by_number[4].labels == ["Question"] and by_number[4].milestone == "V1"
    assert by_number[4].state.value == "closed" and by_number[4].comments_count == 2
    assert by_number[10].assignees == [] and by_number[10].milestone is None
    assert by_number[4].url == f"{server.base_url}/gitea/test_repo/issues/4"


def test_pagination_in_pages_of_two_matches_the_recorded_page(replay: Any) -> None:
    app, server, _ = replay
    from issue_core.core.models import IssueFilter

    raw = _recorded_issues()
    recorded_page3 = find_recorded(ISSUES_PAGE3)
    assert recorded_page3.json() == raw[4:6]  # the recordings agree with each other
    for page in (1, 2, 4):
        ctx = Ctx(
            "GET",
            REPO_PATH + "/issues",
            [("limit", "2"), ("page", str(page)), ("state", "all"), ("type", "issues")],
            {},
            b"",
        )
        headers = [
            ("X-Total-Count", str(len(raw))),
            ("Link", link_header("https://gitea.com", ctx, len(raw), 2)),
        ]
        app.add_derived(
            "GET",
            f"{REPO_PATH}/issues?limit=2&page={page}&state=all&type=issues",
            raw[(page - 1) * 2 : page * 2],
            headers=headers,
            source=f"page {page} of {ISSUES_ALL}",
        )
    with _backend(server, page_size=2) as backend:
        issues = backend.list_issues(IssueFilter(state="all", limit=None))
    assert app.unmatched == []
    assert recorded_page3.file_name in _served_files(app)
    pages = sorted(
        dict(q for q in _query(ex.query))["page"]
        for ex in replay[2].exchanges
        if ex.path.endswith("/issues")
    )
    assert pages == ["1", "2", "3", "4"]
    assert [i.number for i in issues] == [r["number"] for r in raw]


def _query(text: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(text)


def test_labels_and_milestones_parse_from_real_bodies(replay: Any) -> None:
    app, server, _ = replay
    with _backend(server) as backend:
        labels = backend.list_labels()
        milestones = backend.list_milestones()
    assert app.unmatched == []
    assert [(lab.name, lab.color, lab.description) for lab in labels] == [
        ("Bug", "e11d21", None),
        ("Enhancement", "207de5", None),
        ("Feature", "0052cc", "a feature request"),
        ("Invalid", "d4c5f9", None),
        ("Question", "fbca04", None),
        ("Valid", "53e917", None),
    ]
    by_title = {m.title: m for m in milestones}
    assert set(by_title) == {"V1", "V2 Finalize"}
    assert by_title["V1"].state.value == "closed" and by_title["V1"].due_on is None
    assert by_title["V1"].closed_at == _ts("2020-09-01T18:36:46Z")
    assert by_title["V2 Finalize"].state.value == "open"
    assert by_title["V2 Finalize"].due_on == _ts("2020-09-04T23:59:59Z")
    assert (by_title["V2 Finalize"].open_issues, by_title["V2 Finalize"].closed_issues) == (1, 2)


def test_show_with_comments_parses_real_comments(replay: Any) -> None:
    app, server, _ = replay
    raw = {r["number"]: r for r in _recorded_issues()}
    app.add_derived("GET", f"{REPO_PATH}/issues/4", raw[4], source=f"issue 4 of {ISSUES_ALL}")
    with _backend(server) as backend:
        issue = backend.get_issue_by_number(4, with_comments=True)
    assert app.unmatched == []
    assert find_recorded("/issues/4/comments?limit=50&page=1").file_name in _served_files(app)
    assert issue.title == "what is this repo about?"
    assert [(c.author, c.created_at) for c in issue.comments] == [
        ("6543", _ts("2020-09-01T15:49:30Z")),
        ("Ghost", _ts("2020-09-01T15:49:53Z")),
    ]
    assert issue.comments[0].body.startswith("a really good question!")
    assert issue.comments[1].body == "Oh!"


def test_connection_check_reads_recorded_version_and_repository(replay: Any) -> None:
    app, server, _ = replay
    user = _recorded_issues()[0]["user"]
    app.add_derived("GET", "/api/v1/user", user, source=f"user of {ISSUES_ALL}")
    with _backend(server) as backend:
        info = backend.test_connection()
    assert app.unmatched == []
    assert info.server_version == "1.26.0+dev-489-gc9a038bc4e"
    assert info.user == "6543"
    assert info.name == "gitea/test_repo"
    assert info.checks["repository"][0] is True
