"""POST /issues/ and friends, through the ASGI app with an httpx-based client."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from tests.server.conftest import (
    API_KEY,
    OTHER_KEY,
    Project,
    error_of,
    issues_in,
    make_settings,
    task,
)

# --------------------------------------------------------------------------- creating


def test_created_issue_carries_full_traceability(client: Any, project: Project) -> None:
    body = task(
        "Flaky test: test_login",
        description="Failed 3 of 10 runs",
        labels=["ci"],
        assignee="agent-1",
        priority="High",
        state="in_progress",
        metadata={"pipeline": 4711, "tags": ["a"]},
        source={
            "system": "ci",
            "event_id": "run-4711",
            "emitted_at": "2026-11-25T08:00:00+01:00",
            "url": "https://ci.example.com/4711",
            "actor": "scheduler",
            "trace_id": "trace-abc",
        },
    )
    response = client.post("/issues/", json=body, headers={"X-Request-ID": "req-123"})
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "req-123"
    answer = response.json()
    assert answer["status"] == "created"
    assert answer["delivery"] == "delivered"
    assert answer["idempotency_key"] == 'source:["ci","run-4711"]'
    number = answer["issue_number"]
    assert answer["issue"]["number"] == number

    # What `issue show N --format json` prints is what the upstream can trace.
    from issue_core.cli.main import cli

    result = CliRunner().invoke(cli, ["show", str(number), "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["title"] == "Flaky test: test_login"
    assert shown["state"] == "in_progress"
    assert shown["assignees"] == ["agent-1"]
    assert sorted(shown["labels"]) == ["ci", "priority:high"]
    meta = shown["sync_metadata"]
    assert meta["source"] == {
        "system": "ci",
        "event_id": "run-4711",
        "emitted_at": "2026-11-25T07:00:00Z",
        "url": "https://ci.example.com/4711",
        "actor": "scheduler",
        "trace_id": "trace-abc",
    }
    ingest = meta["ingest"]
    assert ingest["request_id"] == "req-123"
    assert ingest["tracking_id"] == answer["tracking_id"]
    assert ingest["idempotency_key"] == 'source:["ci","run-4711"]'
    assert ingest["received_at"].endswith("Z")
    assert ingest["server_version"]
    assert ingest["backend"] == "main"
    from issue_core.server.auth import fingerprint

    assert ingest["key_fingerprint"] == fingerprint(API_KEY)
    assert meta["priority"] == "high"
    assert meta["metadata"] == {"pipeline": 4711, "tags": ["a"]}
    assert meta["marker"] == f"issue-core-ingest:{answer['tracking_id']}"
    assert API_KEY not in result.output


def test_minimal_task_warns_that_retries_would_duplicate(client: Any, project: Project) -> None:
    response = client.post("/issues/", json={"title": "  Only a title  "})
    assert response.status_code == 201
    answer = response.json()
    assert answer["issue"]["title"] == "Only a title"
    assert answer["idempotency_key"] is None
    assert any("no idempotency key" in w for w in answer["warnings"])


def test_unknown_fields_are_kept_and_named(client: Any, project: Project) -> None:
    response = client.post(
        "/issues/", json=task(component="auth", severity=3, source={"system": "x", "zone": "eu"})
    )
    assert response.status_code == 201
    answer = response.json()
    assert any("component, severity" in w for w in answer["warnings"])
    meta = answer["issue"]["sync_metadata"]
    assert meta["extra_fields"] == {"component": "auth", "severity": 3}
    assert meta["source"]["zone"] == "eu"


def test_x_api_key_header_and_rotated_keys_are_accepted(client: Any, project: Project) -> None:
    from issue_core.server.auth import fingerprint

    for headers in (
        {"Authorization": "", "X-API-Key": OTHER_KEY},
        {"Authorization": f"bearer {OTHER_KEY}"},
    ):
        response = client.post("/issues/", json=task(), headers=headers)
        assert response.status_code == 201, response.text
        ingest = response.json()["issue"]["sync_metadata"]["ingest"]
        assert ingest["key_fingerprint"] == fingerprint(OTHER_KEY)


def test_backend_override_and_unknown_backend(client: Any, project: Project) -> None:
    response = client.post("/issues/", json=task(backend="flaky"))
    assert response.status_code == 201
    assert response.json()["backend"] == "flaky"
    assert len(issues_in(project.flaky_store)) == 1
    assert issues_in(project.store) == []

    response = client.post("/issues/", json=task(backend="/etc/passwd"))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "unknown_backend"
    assert "flaky" in error["hint"] and "main" in error["hint"]


# --------------------------------------------------------------------------- idempotency


def test_same_key_never_creates_a_second_issue(client: Any, project: Project) -> None:
    first = client.post("/issues/", json=task(idempotency_key="evt-1"))
    again = client.post("/issues/", json=task("a different title", idempotency_key="evt-1"))
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["issue"]["number"] == first.json()["issue_number"]
    assert again.json()["tracking_id"] == first.json()["tracking_id"]
    assert [i["title"] for i in issues_in(project.store)] == ["Nightly build failed"]


def test_default_key_is_source_system_and_event_id(client: Any, project: Project) -> None:
    source = {"system": "tracker", "event_id": "42"}
    assert client.post("/issues/", json=task(source=source)).status_code == 201
    assert client.post("/issues/", json=task(source=source)).status_code == 200
    other = {"system": "tracker", "event_id": "43"}
    assert client.post("/issues/", json=task(source=other)).status_code == 201
    assert len(issues_in(project.store)) == 2


def test_idempotency_key_header(client: Any, project: Project) -> None:
    headers = {"Idempotency-Key": "hdr-1"}
    assert client.post("/issues/", json=task(), headers=headers).status_code == 201
    assert client.post("/issues/", json=task(), headers=headers).status_code == 200
    assert len(issues_in(project.store)) == 1


def test_duplicates_across_restarts(app_factory: Any, project: Project) -> None:
    server = app_factory()
    first = server.post("/issues/", json=task(idempotency_key="k"))
    server.__exit__(None, None, None)  # graceful stop
    restarted = app_factory()
    again = restarted.post("/issues/", json=task(idempotency_key="k"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["issue_number"] == first.json()["issue_number"]
    assert len(issues_in(project.store)) == 1


async def _burst(app: Any, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with app.api.router.lifespan_context(app.api):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://test",
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as http:
            return await asyncio.gather(*(http.post("/issues/", json=b) for b in bodies))


def test_concurrent_duplicates_create_one_issue(project: Project) -> None:
    from issue_core.server.app import create_app

    app = create_app(make_settings(project))
    bodies = [task(f"dup {n}", idempotency_key=f"key-{n % 5}") for n in range(60)]
    responses = asyncio.run(_burst(app, bodies))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 5
    assert codes.count(200) == 55
    numbers: dict[str, set[int]] = {}
    for body, response in zip(bodies, responses, strict=True):
        numbers.setdefault(body["idempotency_key"], set()).add(response.json()["issue_number"])
    assert all(len(found) == 1 for found in numbers.values())
    stored = issues_in(project.store)
    assert len(stored) == 5
    assert sorted(i["sync_metadata"]["ingest"]["idempotency_key"] for i in stored) == [
        f"key-{n}" for n in range(5)
    ]


def test_a_rejected_task_does_not_burn_its_key(client: Any, project: Project) -> None:
    bad = client.post("/issues/", json=task(milestone="v9", idempotency_key="m-1"))
    assert bad.status_code == 422
    assert error_of(bad)["code"] == "not_found"
    assert "v9" in error_of(bad)["message"]
    good = client.post("/issues/", json=task(idempotency_key="m-1"))
    assert good.status_code == 201


def test_one_bad_task_in_a_batch_does_not_sink_the_others(project: Project) -> None:
    from issue_core.server.app import create_app

    app = create_app(make_settings(project))
    bodies = [task(f"ok {n}") for n in range(20)]
    bodies[7] = task("needs a missing milestone", milestone="nope")
    responses = asyncio.run(_burst(app, bodies))
    codes = [r.status_code for r in responses]
    assert codes[7] == 422
    assert codes.count(201) == 19
    assert len(issues_in(project.store)) == 19


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "status", "code", "words"),
    [
        (b'{"title": "x"', 400, "bad_request", "not valid UTF-8 JSON"),
        (b"not json at all", 400, "bad_request", "not valid UTF-8 JSON"),
        (b'{"title": "caf\xe9"}', 400, "bad_request", "UTF-8"),
        (b"", 400, "bad_request", "JSON"),
        (b"[1, 2]", 422, "invalid", "object"),
        (b'{"title": ""}', 422, "invalid", "title: String should have at least 1 character"),
        (b'{"title": "   "}', 422, "invalid", "title must not be empty"),
        (b'{"title": 12}', 422, "invalid", "title"),
        (b'{"description": "no title"}', 422, "invalid", "title: Field required"),
        (b'{"title": "a\\nb"}', 422, "invalid", "single line"),
        (b'{"title": "x", "labels": "bug"}', 422, "invalid", "labels"),
        (b'{"title": "x", "labels": ["a,b"]}', 422, "invalid", "commas"),
        (b'{"title": "x", "state": "done"}', 422, "invalid", "state"),
        (b'{"title": "x", "priority": "very high!"}', 422, "invalid", "priority"),
        (b'{"title": "x", "priority": true}', 422, "invalid", "priority"),
        (b'{"title": "x", "metadata": [1]}', 422, "invalid", "metadata"),
        (b'{"title": "x", "metadata": {"a": NaN}}', 422, "invalid", "NaN"),
        (b'{"title": "x", "source": {"emitted_at": "yesterday"}}', 422, "invalid", "emitted_at"),
        (b'{"title": "x", "idempotency_key": ""}', 422, "invalid", "idempotency_key"),
    ],
)
def test_bad_input_gets_a_clear_json_error(
    client: Any, project: Project, content: bytes, status: int, code: str, words: str
) -> None:
    response = client.post(
        "/issues/", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == code
    assert words in error["message"], error
    assert issues_in(project.store) == []


def test_field_errors_name_every_offending_field(client: Any, project: Project) -> None:
    response = client.post("/issues/", json={"title": "", "labels": [1], "state": "nope"})
    assert response.status_code == 422
    fields = {item["field"] for item in error_of(response)["field_errors"]}
    assert {"title", "labels.0", "state"} <= fields


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key-wrong-key-wrong"},
        {"Authorization": f"Basic {API_KEY}"},
        {"X-API-Key": API_KEY[:-1]},
        {"X-API-Key": ""},
    ],
)
def test_missing_or_wrong_key_is_401(project: Project, headers: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    from issue_core.server.app import create_app

    with TestClient(create_app(make_settings(project))) as anonymous:
        for method, path in (("POST", "/issues/"), ("GET", "/issues/ingest/abc")):
            response = anonymous.request(method, path, json=task(), headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            error = error_of(response)
            assert error["code"] == "unauthorized"
            assert API_KEY not in response.text
    assert issues_in(project.store) == []


def test_body_limit_is_413(app_factory: Any, project: Project) -> None:
    client = app_factory(body_limit=2048)
    big = task(description="x" * 4000)
    response = client.post("/issues/", json=big)
    assert response.status_code == 413
    assert "2048" in error_of(response)["message"]

    def chunks() -> Any:
        payload = json.dumps(big).encode()
        for start in range(0, len(payload), 500):
            yield payload[start : start + 500]

    chunked = client.post("/issues/", content=chunks())
    assert chunked.status_code == 413
    small = client.post("/issues/", content=iter([json.dumps(task()).encode()]))
    assert small.status_code == 201
    assert len(issues_in(project.store)) == 1


def test_unknown_routes_and_methods_get_json_errors(client: Any) -> None:
    assert error_of(client.get("/nowhere"))["code"] == "not_found"
    response = client.put("/issues/", json=task())
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_a_post_to_issues_without_the_slash_is_taken_not_redirected(
    client: Any, project: Project
) -> None:
    """httpx (the Python example's client) does not follow a redirect, and a POST redirected
    loses its answer's JSON: `/issues` is the same route as `/issues/`."""
    body = task("no trailing slash", idempotency_key="noslash-1")
    response = client.post("/issues", json=body, follow_redirects=False)
    assert response.status_code == 201, response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]
    again = client.post("/issues/", json=body, follow_redirects=False)
    assert again.status_code == 200
    assert again.json()["issue_number"] == response.json()["issue_number"]
    assert len(issues_in(project.store)) == 1


# --------------------------------------------------------------------------- operations


def test_health_readiness_and_docs(client: Any, project: Project) -> None:
    from fastapi.testclient import TestClient

    from issue_core.server.app import create_app

    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "TaskSpec" in spec["components"]["schemas"]
    assert spec["paths"]["/issues/"]["post"]["security"]

    project.fault_file.write_text("unavailable")
    with TestClient(create_app(make_settings(project, backend="flaky"))) as down:
        response = down.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert "down" in response.json()["detail"]


def test_request_ids_are_generated_and_bad_ones_replaced(client: Any) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


def test_access_log_is_json_with_request_id_and_no_key(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from issue_core.server.logs import ACCESS_LOGGER, JsonFormatter

    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.post("/issues/", json=task(), headers={"X-Request-ID": "trace-me"})
        client.post("/issues/", json=task(), headers={"Authorization": "Bearer not-the-key-xx"})
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == ACCESS_LOGGER]
    records = [json.loads(line) for line in lines]
    mine = next(r for r in records if r["request_id"] == "trace-me")
    assert mine["status"] == 201 and mine["method"] == "POST" and mine["path"] == "/issues/"
    assert isinstance(mine["duration_ms"], float)
    assert len(mine["key_fingerprint"]) == 8
    assert any(r["status"] == 401 for r in records)
    joined = "\n".join(lines)
    assert API_KEY not in joined and "not-the-key-xx" not in joined


def test_overload_answers_503_with_retry_after(app_factory: Any) -> None:
    client = app_factory(max_queue=0)
    response = client.post("/issues/", json=task())
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert error_of(response)["code"] == "busy"


# --------------------------------------------------------------------------- the direct lane


def test_an_internal_error_on_the_hot_path_is_a_one_line_json_500(
    client: Any, project: Project, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """POST /issues/ is answered by the middleware's direct route, past the router: a bug there
    still gets the JSON error shape, with the details in the server log only."""
    import issue_core.server.endpoint as endpoint_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(endpoint_module, "prepare", broken)
    with caplog.at_level(logging.ERROR, logger="issue_core.server"):
        response = client.post("/issues/", json=task(), headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    error = error_of(response)
    assert error["code"] == "internal"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)
    assert issues_in(project.store) == []


def test_the_documented_route_answers_like_the_direct_lane(client: Any, project: Project) -> None:
    """The FastAPI route that documents POST /issues/ in /openapi.json runs the same code."""
    from starlette.requests import Request
    from starlette.routing import Route

    route = next(r for r in client.app.api.routes if isinstance(r, Route) and r.path == "/issues/")
    body = json.dumps(task("through the router", idempotency_key="router-1")).encode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def call() -> Any:
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/issues/",
            "headers": [(b"content-type", b"application/json")],
            "query_string": b"",
            "state": {"request_id": "via-router", "key_fingerprint": "abcd1234"},
        }
        return await route.endpoint(Request(scope, receive))

    response = client.portal.call(call)
    assert response.status_code == 201
    answer = json.loads(response.body)
    assert (answer["request_id"], answer["idempotency_key"]) == ("via-router", "router-1")
    repeat = client.post("/issues/", json=task("through the router", idempotency_key="router-1"))
    assert repeat.status_code == 200
    assert repeat.json()["issue_number"] == answer["issue_number"]
    assert len(issues_in(project.store)) == 1


@pytest.mark.parametrize(
    "emitted_at", ["0001-01-01T01:00:00+03:00", 0, "2026-11-25", "2026-11-25T08:00:00"]
)
def test_emitted_at_outside_date_time_is_422_naming_the_field(client: Any, emitted_at: Any) -> None:
    body = {"title": "Edge of time", "source": {"system": "ci", "emitted_at": emitted_at}}
    response = client.post("/issues/", json=body)
    assert response.status_code == 422, response.text
    assert "emitted_at" in response.text
