"""The GitHub contract checker catches what GitHub would reject or never send, passes what it
really sends (the recorded api.github.com answers), and the fake carries GitHub's current
fields (its objects compared with the recorded ones, key by key and type by type)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from tests.fakes.contracts import ContractViolation
from tests.fakes.github import OWNER_TOKEN
from tests.fakes.github_contract import GitHubContract
from tests.fakes.github_fixtures import RunningGitHub
from tests.fakes.github_shapes import github_recorded_dir, recorded_github
from tests.fakes.recorded import load_recorded
from tests.fakes.server import ContractRecorder, LiveServer

REPO = "/repos/alice/tracker"
JSON = "application/json; charset=utf-8"


def _issue() -> dict[str, Any]:
    issues = recorded_github("/issues?direction=asc&page=1&per_page=2&sort=created&state=all")
    return copy.deepcopy(issues[0])


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", f"{REPO}/issues/5", "issues/get"),
        ("GET", f"/api/v3{REPO}/issues/5", "issues/get"),
        ("GET", "/repositories/42/issues", "issues/list-for-repo"),
        ("GET", "/api/v3/repositories/42/issues/comments/7", "issues/get-comment"),
        ("GET", f"{REPO}/issues/comments", "issues/list-comments-for-repo"),
        ("DELETE", f"{REPO}/issues/5/labels/good first issue", "issues/remove-label"),
        ("GET", "/user", "users/get-authenticated"),
    ],
)
def test_finds_the_operation(
    github_contract: GitHubContract, method: str, path: str, operation: str
) -> None:
    op, _, reason = github_contract.find(method, path)
    assert op is not None, reason
    assert op["spec"]["operationId"] == operation


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "expected"),
    [
        ("GET", "/nowhere", "", b"", "no operation matches"),
        ("PUT", f"{REPO}/issues", "", b"", "is not an operation"),
        ("GET", f"{REPO}/issues", "state=bogus", b"", "must be one of"),
        ("GET", f"{REPO}/issues", "limit=5", b"", "'limit' is not declared"),
        ("GET", f"{REPO}/issues", "per_page=many", b"", "must be an integer"),
        ("GET", f"{REPO}/issues", "since=yesterday", b"", "RFC 3339"),
        ("GET", f"{REPO}/issues", "page=1&page=2", b"", "given 2 times"),
        ("GET", f"{REPO}/issues/abc", "", b"", "must be an integer"),
        ("GET", f"{REPO}/issues/comments", "direction=up", b"", "must be one of"),
        ("POST", f"{REPO}/issues", "", b'{"body": "no title"}', "'title' is a required property"),
        ("POST", f"{REPO}/issues", "", b'{"title": "t", "labels": [5]}', "labels/0"),
        ("POST", f"{REPO}/issues", "", b'{"title": "t", "assignees": "bob"}', "not of type"),
        ("POST", f"{REPO}/issues", "", b"{not json", "not valid JSON"),
        ("POST", f"{REPO}/issues", "", b"", "request body is required"),
        ("GET", f"{REPO}/issues", "", b'{"title": "t"}', "takes no request body"),
        ("PATCH", f"{REPO}/issues/1", "", b'{"state_reason": "wontfix"}', "is not one of"),
        ("PATCH", f"{REPO}/issues/1", "", b'{"state": "done"}', "is not one of"),
        ("POST", f"{REPO}/milestones", "", b'{"title": "m", "state": "done"}', "is not one of"),
        ("POST", f"{REPO}/issues/1/labels", "", b"[1, 2]", "labels"),
    ],
)
def test_request_violations_are_reported(
    github_contract: GitHubContract, method: str, path: str, query: str, body: bytes, expected: str
) -> None:
    problems = github_contract.check_request(method, path, query, body, "application/json")
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", f"{REPO}/issues", "state=all&labels=a,b&milestone=*&per_page=100&page=2", b""),
        ("GET", f"{REPO}/issues", "since=2026-11-25T08:00:00Z&sort=updated&direction=asc", b""),
        ("GET", "/repositories/42/issues", "state=all&per_page=100&page=3", b""),
        ("POST", f"{REPO}/issues", "", b'{"title": "t", "labels": ["bug"], "milestone": null}'),
        ("PATCH", f"{REPO}/issues/1", "", b'{"state": "closed", "state_reason": "not_planned"}'),
        ("PATCH", f"{REPO}/issues/1", "", b'{"state_reason": null}'),
        # GitHub's own alternatives (the subset reverts Octokit's override): a bare array.
        ("POST", f"{REPO}/issues/1/labels", "", b'["bug", "ui"]'),
        ("PUT", f"{REPO}/issues/1/labels", "", b'{"labels": ["bug"]}'),
        ("DELETE", f"{REPO}/issues/1/assignees", "", b""),
        ("GET", "/api/v3/meta", "", b""),
    ],
)
def test_valid_requests_pass(
    github_contract: GitHubContract, method: str, path: str, query: str, body: bytes
) -> None:
    assert github_contract.check_request(method, path, query, body, "application/json") == []


def test_nullable_lets_null_through_an_enum_and_nothing_else(
    github_contract: GitHubContract,
) -> None:
    issue = _issue()
    issue["state_reason"] = None
    path = f"{REPO}/issues/1"
    assert github_contract.check_response("GET", path, 200, json.dumps(issue), JSON) == []
    issue["state_reason"] = "wontfix"
    problems = github_contract.check_response("GET", path, 200, json.dumps(issue), JSON)
    assert any("state_reason" in p for p in problems), problems
    issue["state_reason"] = None
    issue["number"] = None  # not nullable
    problems = github_contract.check_response("GET", path, 200, json.dumps(issue), JSON)
    assert any("at number" in p for p in problems), problems


def test_a_full_user_matches_both_branches_of_the_users_oneof(
    fake_github: RunningGitHub, github_contract: GitHubContract
) -> None:
    user = httpx.get(
        f"{fake_github.api_url}/users/alice", headers={"Authorization": f"token {OWNER_TOKEN}"}
    ).json()
    assert github_contract.check_response("GET", "/users/alice", 200, json.dumps(user), JSON) == []
    del user["login"]
    problems = github_contract.check_response("GET", "/users/alice", 200, json.dumps(user), JSON)
    assert any("'login' is a required property" in p for p in problems), problems


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"number": 1}, "is a required property"),
        (200, "mutate:labels", "not of type 'array'"),
        (200, "mutate:created_at", "is not a 'date-time'"),
        (202, "issue", "not a documented response"),
        (304, "issue", "a 304 must have no body"),
        (404, {"error": "gone"}, "no 'message' string"),
        (403, {"message": 5}, "not of type 'string'"),
        (301, {"message": "Moved Permanently"}, "no 'url' string"),
        (307, {"message": "Moved Permanently"}, "no 'url' string"),
        (422, {"message": "Validation Failed", "errors": [{"field": "x"}]}, "'code'"),
    ],
)
def test_response_violations_are_reported(
    github_contract: GitHubContract, status: int, body: Any, expected: str
) -> None:
    if body == "issue":
        body = _issue()
    elif isinstance(body, str) and body.startswith("mutate:"):
        key = body.split(":", 1)[1]
        body = _issue()
        body[key] = "not-a-time" if key == "created_at" else "bug"
    problems = github_contract.check_response(
        "GET", f"{REPO}/issues/1", status, json.dumps(body), JSON
    )
    assert any(expected in p for p in problems), problems


def test_the_error_shapes_github_sends_pass(github_contract: GitHubContract) -> None:
    path = f"{REPO}/issues"
    for status, body in [
        (401, {"message": "Bad credentials", "documentation_url": "x", "status": "401"}),
        (403, {"message": "API rate limit exceeded for user ID 1.", "documentation_url": "x"}),
        (429, {"message": "You have exceeded a secondary rate limit.", "documentation_url": "x"}),
        (301, {"message": "Moved Permanently", "url": "http://x/repositories/1/issues"}),
        (502, {"message": "Server Error"}),
    ]:
        assert github_contract.check_response("GET", path, status, json.dumps(body), JSON) == []
    assert github_contract.check_response("GET", path, 200, b"[]", "text/html") != []
    assert github_contract.check_response("GET", "/api/v3/meta", 304, b"", None) == []
    assert github_contract.check_response("GET", "/api/v3/meta", 304, b"{}", JSON) != []
    meta = json.dumps({"installed_version": "3.17.0"})
    assert github_contract.check_response("GET", "/api/v3/meta", 200, meta, JSON) != []


def test_every_recorded_github_answer_passes(github_contract: GitHubContract) -> None:
    """The checker is not stricter than GitHub: all 18 recorded api.github.com answers pass."""
    recorded = load_recorded(github_recorded_dir())
    assert len(recorded) == 18
    asked: list[str] = []
    for exchange in recorded:
        problems = github_contract.check_response(
            "GET", exchange.path, 200, exchange.body, exchange.header("Content-Type")
        )
        assert problems == [], (exchange.target, problems)
        query = exchange.target.partition("?")[2]
        asked += github_contract.check_request("GET", exchange.path, query)
    # The recording client (go-github, for Gitea) sends sort/direction to the per-issue comment
    # list, which declares neither; GitHub ignores them. The checker flags that, as it should.
    assert sorted(p.rsplit("parameter ", 1)[1] for p in asked) == [
        "'direction' is not declared",
        "'sort' is not declared",
    ]


def test_raise_for_raises_with_every_problem(github_contract: GitHubContract) -> None:
    problems = github_contract.check_request("GET", f"{REPO}/issues", "state=x&foo=1")
    with pytest.raises(ContractViolation) as caught:
        github_contract.raise_for(problems)
    assert "must be one of" in str(caught.value) and "'foo'" in str(caught.value)


def test_recorder_fails_on_a_drifting_server(github_contract: GitHubContract) -> None:
    async def drifting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        issue = _issue()
        issue["id"] = "520479843"  # GitHub sends an integer
        body = json.dumps(issue).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    recorder = ContractRecorder(drifting, github_contract)
    with LiveServer(recorder) as server:
        assert httpx.get(f"{server.base_url}/api/v3{REPO}/issues/1").status_code == 200
        assert httpx.get(f"{server.base_url}{REPO}/issues/1", params={"x": "1"}).status_code == 200
    assert len(recorder.exchanges) == 2
    with pytest.raises(AssertionError, match="contract violation") as caught:
        recorder.assert_clean()
    assert "is not of type 'integer'" in str(caught.value)
    assert "'x' is not declared" in str(caught.value)


# --------------------------------------------------------------------------- current fields


def _same_shape(fake: Any, real: Any, where: str) -> list[str]:
    """Keys present on both sides, and the same JSON type wherever both have a value."""
    problems: list[str] = []
    if isinstance(real, dict) and isinstance(fake, dict):
        if set(fake) != set(real):
            missing, extra = sorted(set(real) - set(fake)), sorted(set(fake) - set(real))
            problems.append(f"{where}: missing {missing}, not in GitHub's {extra}")
        for key in set(fake) & set(real):
            problems += _same_shape(fake[key], real[key], f"{where}.{key}")
    elif isinstance(real, list) and isinstance(fake, list):
        if real and fake:
            problems += _same_shape(fake[0], real[0], f"{where}[0]")
    elif real is not None and fake is not None and type(fake) is not type(real):
        problems.append(f"{where}: {type(fake).__name__}, GitHub sends {type(real).__name__}")
    return problems


def test_the_fake_sends_githubs_current_objects(fake_github: RunningGitHub) -> None:
    fake = fake_github.fake
    milestone = fake.add_milestone("1.0.0")
    fake.add_issue(
        "shape",
        body="text",
        labels=["bug"],
        assignees=["alice"],
        milestone=milestone.number,
        state="closed",
    )
    fake.add_comment(1, "a comment")
    headers = {"Authorization": f"token {OWNER_TOKEN}"}
    with httpx.Client(base_url=fake_github.api_url, headers=headers) as api:
        issue = api.get(f"{REPO}/issues/1").json()
        listed = api.get(f"{REPO}/issues", params={"state": "all"}).json()
        comment = api.get(f"{REPO}/issues/1/comments").json()[0]
        label = api.get(f"{REPO}/labels").json()[0]
        found_milestone = api.get(f"{REPO}/milestones/1").json()
        repository = api.get(REPO).json()
    real_issue = _issue()
    real_issue["assignees"] = [real_issue["user"]]
    real_issue["assignee"] = real_issue["user"]
    recorded_comment = recorded_github(
        "/issues/2/comments?direction=asc&per_page=100&sort=created"
    )[0]
    problems = _same_shape(issue, real_issue, "issue")
    problems += _same_shape(listed[0], real_issue, "listed issue")
    problems += _same_shape(comment, recorded_comment, "comment")
    problems += _same_shape(label, recorded_github("/labels?page=1&per_page=100")[0], "label")
    problems += _same_shape(
        found_milestone,
        recorded_github("/milestones?page=1&per_page=100&state=all")[0],
        "milestone",
    )
    real_repo = recorded_github("/repos/go-gitea/test_repo")
    real_repo.pop("organization")  # alice is a user, not an organisation
    real_repo["custom_properties"] = {}  # names an organisation defines for itself
    problems += _same_shape(repository, real_repo, "repository")
    assert problems == []


def test_the_shape_comparison_can_fail() -> None:
    real = _issue()
    fake = copy.deepcopy(real)
    del fake["state_reason"]
    fake["user"]["id"] = "1"
    fake["labels"][0]["default"] = "yes"
    problems = _same_shape(fake, real, "issue")
    assert any("missing ['state_reason']" in p for p in problems)
    assert any("issue.user.id: str" in p for p in problems)
    assert any("issue.labels.default" in p or "labels[0].default" in p for p in problems)
