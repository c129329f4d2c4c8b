"""The OpenAPI document at /openapi.json describes what POST /issues/ takes and answers: the
``Idempotency-Key`` header, activity-core's TaskSpec fields, ``issue_id``/``issue_url``/``backend``
in the answer, and the 202 (its ``Location`` header and null ``issue_id``). Real answers are
checked against the document's own schemas."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.server.conftest import Project, issues_in
from tests.server.flaky_backend import set_down
from tests.server.test_activity_core import SINK_PAYLOAD

SINK_FIELDS = (
    "target_repo",
    "due_in_days",
    "source_type",
    "source_id",
    "triggering_event_id",
    "activity_definition_id",
)


def _doc(client: Any) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<name>`` with the document's refs resolvable."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return Draft202012Validator(schema)


def _types(prop: dict[str, Any]) -> set[str]:
    return {str(one.get("type")) for one in prop.get("anyOf", [prop])}


def test_post_issues_declares_the_idempotency_key_header(client: Any) -> None:
    operation = _doc(client)["paths"]["/issues/"]["post"]
    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["required"] is False
    assert header["schema"] == {"type": "string", "maxLength": 200}
    # ... and the server does what it declares: a header-only key makes a retry a duplicate.
    first = client.post(
        "/issues/", json={"title": "Keyed by header"}, headers={"Idempotency-Key": "h-1"}
    )
    again = client.post(
        "/issues/", json={"title": "Keyed by header"}, headers={"Idempotency-Key": "h-1"}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["issue_id"] == first.json()["issue_id"]
    assert first.json()["idempotency_key"] == "h-1"
    long = client.post("/issues/", json={"title": "x"}, headers={"Idempotency-Key": "k" * 201})
    assert long.status_code == 422


def test_the_taskspec_schema_has_activity_cores_fields(client: Any) -> None:
    doc = _doc(client)
    properties = doc["components"]["schemas"]["TaskSpec"]["properties"]
    for name in SINK_FIELDS:
        assert name in properties, name
        assert properties[name].get("description"), name
    assert _types(properties["due_in_days"]) == {"integer", "null"}
    [integer] = [p for p in properties["due_in_days"]["anyOf"] if p["type"] == "integer"]
    assert (integer["minimum"], integer["maximum"]) == (0, 36500)
    for name in (*SINK_FIELDS[2:], "target_repo"):
        assert _types(properties[name]) == {"string", "null"}, name
    _validator(doc, "TaskSpec").validate(SINK_PAYLOAD)


def test_the_answer_schema_has_issue_id_url_and_backend(client: Any) -> None:
    doc = _doc(client)
    result = doc["components"]["schemas"]["IngestResult"]
    for name in ("issue_id", "issue_url", "backend"):
        assert name in result["required"], name
        assert result["properties"][name].get("description"), name
    responses = doc["paths"]["/issues/"]["post"]["responses"]
    for status in ("200", "201", "202"):
        content = responses[status]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/IngestResult"}
        for example in content["examples"].values():
            _validator(doc, "IngestResult").validate(example["value"])
        assert "X-Request-ID" in responses[status]["headers"]
    queued = responses["202"]
    assert queued["headers"]["Location"]["required"] is True
    [example] = queued["content"]["application/json"]["examples"].values()
    assert example["value"]["issue_id"] is None and example["value"]["delivery"] == "pending"
    assert "issue_id" in queued["description"] and "status_url" in queued["description"]
    assert "Retry-After" in responses["503"]["headers"]
    assert "WWW-Authenticate" in responses["401"]["headers"]


def test_real_answers_match_the_documented_schemas(app_factory: Any, project: Project) -> None:
    client = app_factory(routes={"activity-core": "flaky"})
    doc = _doc(client)
    validator = _validator(doc, "IngestResult")
    responses = doc["paths"]["/issues/"]["post"]["responses"]

    def check(response: Any, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        for name, header in responses[str(status)].get("headers", {}).items():
            assert not header["required"] or name in response.headers, name
        body = dict(response.json())
        validator.validate(body)
        return body

    created = check(client.post("/issues/", json=SINK_PAYLOAD), 201)
    assert created["issue_id"] == f"flaky#{created['issue_number']}"
    assert created["backend"] == "flaky"
    duplicate = check(client.post("/issues/", json=SINK_PAYLOAD), 200)
    assert duplicate["issue_id"] == created["issue_id"]
    set_down(project.fault_file)
    queued = check(client.post("/issues/", json={**SINK_PAYLOAD, "source_id": "other"}), 202)
    assert queued["issue_id"] is None and queued["backend"] == "flaky"
    assert queued["status_url"] == f"/issues/ingest/{queued['tracking_id']}"
    status = client.get(queued["status_url"])
    _validator(doc, "TrackingStatus").validate(status.json())
    assert len(issues_in(project.flaky_store)) == 1


def _string_branch(prop: dict[str, Any]) -> dict[str, Any]:
    [branch] = [one for one in prop["anyOf"] if one["type"] == "string"]
    return branch


def test_the_document_names_this_servers_backends_and_routed_repositories(
    app_factory: Any,
) -> None:
    plain = _doc(app_factory())["components"]["schemas"]["TaskSpec"]["properties"]
    assert _string_branch(plain["backend"])["enum"] == ["flaky", "local", "main"]
    assert "enum" not in _string_branch(plain["target_repo"])  # no routes: any name is taken
    routed = _doc(app_factory(routes={"activity-core": "flaky", "Acme/Widgets": "main"}))
    properties = routed["components"]["schemas"]["TaskSpec"]["properties"]
    assert _string_branch(properties["target_repo"])["enum"] == ["acme/widgets", "activity-core"]
    fallback = _doc(app_factory(routes={"activity-core": "flaky", "*": "main"}))
    properties = fallback["components"]["schemas"]["TaskSpec"]["properties"]
    assert "enum" not in _string_branch(properties["target_repo"])  # a default route takes any
