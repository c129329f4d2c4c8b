"""The contract validator: it must catch what real Gitea would reject or never send."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.fakes.contracts import ContractViolation, GiteaContract
from tests.fakes.recorded import find_recorded
from tests.fakes.server import ContractRecorder, LiveServer

REPO = "/api/v1/repos/alice/tracker"


def _issue() -> dict[str, Any]:
    return dict(find_recorded("/issues?limit=50&page=1&state=all&type=issues").json()[0])


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", f"{REPO}/issues/5", "issueGetIssue"),
        ("GET", f"{REPO}/issues/comments/5", "issueGetComment"),
        ("PATCH", f"{REPO}/issues/5", "issueEditIssue"),
        ("DELETE", f"{REPO}/issues/5/labels/7", "issueRemoveLabel"),
        ("GET", f"{REPO}/milestones/v1.0", "issueGetMilestone"),
        ("GET", "/api/v1/settings/api", "getGeneralAPISettings"),
    ],
)
def test_finds_the_operation(
    gitea_contract: GiteaContract, method: str, path: str, operation: str
) -> None:
    op, _, reason = gitea_contract.find(method, path)
    assert op is not None, reason
    assert op.operation_id == operation


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "expected"),
    [
        ("GET", "/api/v1/nowhere", "", b"", "no operation matches"),
        ("PUT", f"{REPO}/issues", "", b"", "is not an operation"),
        ("GET", "/repos/alice/tracker/issues", "", b"", "outside basePath"),
        ("GET", f"{REPO}/issues", "state=bogus", b"", "must be one of"),
        ("GET", f"{REPO}/issues", "sort=created", b"", "'sort' is not declared"),
        ("GET", f"{REPO}/issues", "page=two", b"", "must be an integer"),
        ("GET", f"{REPO}/issues", "since=yesterday", b"", "RFC 3339"),
        ("GET", f"{REPO}/issues", "page=1&page=2", b"", "given 2 times"),
        ("GET", f"{REPO}/issues/abc", "", b"", "must be an integer"),
        ("POST", f"{REPO}/issues", "", b'{"body": "no title"}', "'title' is a required property"),
        ("POST", f"{REPO}/issues", "", b'{"title": 5}', "5 is not of type 'string'"),
        (
            "POST",
            f"{REPO}/issues",
            "",
            b'{"title": "t", "labels": ["bug"]}',
            "not of type 'integer'",
        ),
        ("POST", f"{REPO}/issues", "", b'{"title": "t", "assignees": null}', "None is not of type"),
        ("POST", f"{REPO}/issues", "", b"{not json", "not JSON"),
        ("GET", f"{REPO}/issues", "", b'{"title": "t"}', "takes no request body"),
        ("POST", f"{REPO}/milestones", "", b'{"title": "m", "state": "done"}', "is not one of"),
    ],
)
def test_request_violations_are_reported(
    gitea_contract: GiteaContract, method: str, path: str, query: str, body: bytes, expected: str
) -> None:
    problems = gitea_contract.check_request(method, path, query, body, "application/json")
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", f"{REPO}/issues", "state=all&type=issues&labels=a,b&limit=50&page=2", b""),
        ("GET", f"{REPO}/issues", "since=2026-11-25T08:00:00Z&milestones=v1,3", b""),
        ("POST", f"{REPO}/issues", "", b'{"title": "t", "labels": [1, 2], "closed": true}'),
        ("PUT", f"{REPO}/issues/3/labels", "", b'{"labels": ["bug", "ui"]}'),
        ("PATCH", f"{REPO}/issues/3", "", b'{"state": "closed", "content_version": 2}'),
        ("GET", f"{REPO}/issues", "access_token=x", b""),
    ],
)
def test_valid_requests_pass(
    gitea_contract: GiteaContract, method: str, path: str, query: str, body: bytes
) -> None:
    assert gitea_contract.check_request(method, path, query, body, "application/json") == []


def test_null_passes_for_objects_lists_and_times_only(gitea_contract: GiteaContract) -> None:
    issue = _issue()
    issue.update(assignee=None, assignees=None, milestone=None, closed_at=None, pull_request=None)
    assert gitea_contract.check_response("GET", f"{REPO}/issues/1", 200, json.dumps(issue)) == []
    for field, value in (
        ("title", None),
        ("number", None),
        ("is_locked", None),
        ("state", "in_progress"),
    ):
        broken = {**issue, field: value}
        problems = gitea_contract.check_response("GET", f"{REPO}/issues/1", 200, json.dumps(broken))
        assert problems and field in " ".join(problems), field
    bad_time = {**issue, "created_at": "yesterday"}
    assert gitea_contract.check_response("GET", f"{REPO}/issues/1", 200, json.dumps(bad_time))


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "content_type", "expected"),
    [
        ("POST", f"{REPO}/issues", 200, "{}", "application/json", "not a documented response"),
        (
            "GET",
            f"{REPO}/issues/1",
            404,
            "<html>nope</html>",
            "text/html",
            "expected application/json",
        ),
        ("GET", f"{REPO}/issues/1", 404, '{"message": 5}', "application/json", "error body"),
        ("GET", f"{REPO}/issues/1", 304, "{}", "application/json", "a 304 must have no body"),
        ("DELETE", f"{REPO}/issues/1", 204, "{}", "application/json", "documented as empty"),
        ("GET", f"{REPO}/issues", 200, "[{", "application/json", "not valid JSON"),
        ("GET", f"{REPO}/issues", 200, "{}", "application/json", "is not of type 'array'"),
        ("GET", "/api/v1/nowhere", 200, "{}", "application/json", "no operation matches"),
        ("GET", f"{REPO}/issues/1", 404, "", None, "expected a JSON body"),
        ("POST", f"{REPO}/issues", 403, "", None, "expected a JSON body"),
    ],
)
def test_response_violations_are_reported(
    gitea_contract: GiteaContract,
    method: str,
    path: str,
    status: int,
    body: str,
    content_type: str,
    expected: str,
) -> None:
    problems = gitea_contract.check_response(method, path, status, body.encode(), content_type)
    assert any(expected in p for p in problems), problems


def test_gitea_error_bodies_pass(gitea_contract: GiteaContract) -> None:
    not_found = {"errors": ["issue does not exist"], "message": "not found", "url": "x"}
    assert (
        gitea_contract.check_response("GET", f"{REPO}/issues/9", 404, json.dumps(not_found)) == []
    )
    forbidden = {"message": "token does not have at least one of required scope(s)", "url": "x"}
    assert gitea_contract.check_response("POST", f"{REPO}/issues", 403, json.dumps(forbidden)) == []
    assert gitea_contract.check_response("GET", "/api/v1/user", 401, json.dumps(forbidden)) == []


def test_raise_for_raises_with_every_problem(gitea_contract: GiteaContract) -> None:
    with pytest.raises(ContractViolation, match="state"):
        gitea_contract.raise_for(gitea_contract.check_request("GET", f"{REPO}/issues", "state=x"))
    gitea_contract.raise_for([])


def test_the_description_is_loaded_once_per_process() -> None:
    assert GiteaContract.load() is GiteaContract.load()


def test_recorder_fails_on_a_drifting_server(gitea_contract: GiteaContract) -> None:
    async def drifting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b'{"version": 1.27}'  # Gitea sends a string
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    recorder = ContractRecorder(drifting, gitea_contract)
    with LiveServer(recorder) as server:
        assert httpx.get(f"{server.base_url}/api/v1/version").status_code == 200
        assert httpx.get(f"{server.base_url}/api/v1/version", params={"x": "1"}).status_code == 200
    assert len(recorder.exchanges) == 2
    with pytest.raises(AssertionError, match="contract violation") as caught:
        recorder.assert_clean()
    assert "is not of type 'string'" in str(caught.value)
    assert "'x' is not declared" in str(caught.value)


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_a_comment_change_may_be_refused_without_a_body(
    gitea_contract: GiteaContract, method: str
) -> None:
    """Gitea's ctx.Status(403) for a comment of someone else's: no body, as Gitea sends it."""
    path = f"{REPO}/issues/comments/5"
    assert gitea_contract.check_response(method, path, 403, b"", None) == []
