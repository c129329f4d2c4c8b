"""Hostile task bodies: repeated JSON keys, ambiguous default keys, control characters in
identifiers and metadata. Each is refused (or kept apart) before anything is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.conftest import Project, error_of, issues_in, task

JSON_HEADERS = {"Content-Type": "application/json"}


def post_raw(client: Any, body: bytes) -> Any:
    return client.post("/issues/", content=body, headers=JSON_HEADERS)


# --------------------------------------------------------------------------- repeated keys


@pytest.mark.parametrize(
    ("body", "key", "where"),
    [
        (b'{"title": "first", "title": "second"}', "title", None),
        (b'{"title": "t", "ti\\u0074le": "second"}', "title", None),
        (b'{"title": "t", "source": {"system": "ci", "system": "cd"}}', "system", "source"),
        (b'{"title": "t", "metadata": {"job": {"id": 1, "id": 2}}}', "id", "metadata.job"),
        (b'{"title": "t", "metadata": {"runs": [{"a": 1}, {"b": 1, "b": 2}]}}', "b", "runs[1]"),
        (b'{"title": "t", "labels": ["x"], "labels": ["y"]}', "labels", None),
    ],
)
def test_a_repeated_key_is_refused_naming_it(
    client: Any, project: Project, body: bytes, key: str, where: str | None
) -> None:
    response = post_raw(client, body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert f'the key "{key}" appears more than once' in error["message"]
    if where is not None:
        assert where in error["message"]
    assert issues_in(project.store) == []


def test_the_same_key_in_different_objects_is_fine(client: Any) -> None:
    body = {"title": "t", "metadata": {"title": "x", "source": {"system": "y"}}}
    response = post_raw(client, json.dumps({**body, "source": {"system": "ci"}}).encode())
    assert response.status_code == 201, response.text


def test_a_repeated_key_in_an_invalid_task_still_gets_a_clear_answer(client: Any) -> None:
    response = post_raw(client, b'{"title": "", "title": ""}')
    assert response.status_code in (400, 422)
    assert error_of(response)["message"]


# --------------------------------------------------------------------------- default keys


def test_source_parts_are_kept_apart_in_the_default_key(client: Any, project: Project) -> None:
    first = client.post("/issues/", json=task("a", source={"system": "ci:prod", "event_id": "42"}))
    second = client.post("/issues/", json=task("b", source={"system": "ci", "event_id": "prod:42"}))
    assert first.status_code == 201 and second.status_code == 201, second.text
    assert first.json()["idempotency_key"] == 'source:["ci:prod","42"]'
    assert second.json()["idempotency_key"] == 'source:["ci","prod:42"]'
    assert sorted(i["title"] for i in issues_in(project.store)) == ["a", "b"]
    # Each still de-duplicates its own retries.
    again = client.post("/issues/", json=task("b", source={"system": "ci", "event_id": "prod:42"}))
    assert again.status_code == 200
    assert again.json()["issue_id"] == second.json()["issue_id"]


def legacy_task(title: str, system: str, event_id: str) -> dict[str, Any]:
    """What an earlier server stored for a task keyed by its source: the key
    ``"<system>:<event_id>"`` beside the recorded source. Posting that key explicitly with the
    same source writes exactly such a row."""
    source = {"system": system, "event_id": event_id}
    return task(title, source=source, idempotency_key=f"{system}:{event_id}")


def test_a_task_stored_under_the_older_key_form_is_still_its_retry_s_original(
    client: Any, project: Project
) -> None:
    stored = client.post("/issues/", json=legacy_task("old", "ci", "run-7"))
    assert stored.status_code == 201
    retry = client.post("/issues/", json=task("old", source={"system": "ci", "event_id": "run-7"}))
    assert retry.status_code == 200, retry.text
    assert retry.json()["issue_id"] == stored.json()["issue_id"]
    assert retry.json()["idempotency_key"] == "ci:run-7"
    assert len(issues_in(project.store)) == 1


def test_an_older_key_is_taken_only_by_the_event_that_made_it(
    client: Any, project: Project
) -> None:
    # Stored before the upgrade: "ci:prod" + "42", under the ambiguous "ci:prod:42".
    stored = client.post("/issues/", json=legacy_task("prod 42", "ci:prod", "42"))
    assert stored.status_code == 201
    # Its own retry finds it ...
    retry = client.post(
        "/issues/", json=task("prod 42", source={"system": "ci:prod", "event_id": "42"})
    )
    assert retry.status_code == 200 and retry.json()["issue_id"] == stored.json()["issue_id"]
    # ... the other event with the same older key is created.
    other = client.post(
        "/issues/", json=task("other", source={"system": "ci", "event_id": "prod:42"})
    )
    assert other.status_code == 201, other.text
    assert other.json()["idempotency_key"] == 'source:["ci","prod:42"]'
    # An explicit key that merely looks like an older source key is not a source's original.
    client.post("/issues/", json=task("explicit", idempotency_key="cron:9"))
    sourced = client.post(
        "/issues/", json=task("sourced", source={"system": "cron", "event_id": "9"})
    )
    assert sourced.status_code == 201
    assert sorted(i["title"] for i in issues_in(project.store)) == [
        "explicit",
        "other",
        "prod 42",
        "sourced",
    ]


# --------------------------------------------------------------------------- control characters

CONTROLS = ["\x00", "\n", "\x1b[31m", "\x9b", "\x7f"]


@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (lambda c: {"assignee": f"bot{c}"}, "assignee"),
        (lambda c: {"idempotency_key": f"key{c}"}, "idempotency_key"),
        (lambda c: {"milestone": f"m{c}"}, "milestone"),
        (lambda c: {"target_repo": f"repo{c}"}, "target_repo"),
        (lambda c: {"source_id": f"rule{c}"}, "source_id"),
        (lambda c: {"source": {"system": f"ci{c}", "event_id": "1"}}, "source.system"),
        (lambda c: {"source": {"system": "ci", "event_id": f"1{c}"}}, "source.event_id"),
        (lambda c: {"source": {"actor": f"a{c}"}}, "source.actor"),
        (lambda c: {"source": {"url": f"https://x/{c}"}}, "source.url"),
        (lambda c: {"source": {"trace_id": f"t{c}"}}, "source.trace_id"),
        (lambda c: {"source": {"build": f"b{c}"}}, "source.build"),
        (lambda c: {"metadata": {f"k{c}": 1}}, "metadata[<json of k+c>]"),
        (lambda c: {"metadata": {"job": {"name": f"n{c}"}}}, "metadata.job.name"),
        (lambda c: {"metadata": {"tags": ["ok", f"t{c}"]}}, "metadata.tags[1]"),
        (lambda c: {"extra_thing": {"x": f"e{c}"}}, "extra_thing.x"),
    ],
)
def test_control_characters_in_identifiers_and_metadata_are_refused(
    client: Any, project: Project, char: str, fields: Any, field: str
) -> None:
    response = client.post("/issues/", json=task("t", **fields(char)))
    assert response.status_code == 422, response.text
    error = error_of(response)
    expected = field.replace("<json of k+c>", json.dumps(f"k{char}"))
    named = [item["field"] for item in error["field_errors"]]
    assert expected in named, named
    assert "control characters" in error["message"]
    assert issues_in(project.store) == []


def test_the_assignee_follows_the_user_name_rule(client: Any, project: Project) -> None:
    response = client.post("/issues/", json=task("t", assignee="two words"))
    assert response.status_code == 422
    assert [item["field"] for item in error_of(response)["field_errors"]] == ["assignee"]
    ok = client.post("/issues/", json=task("t", assignee="@bob", metadata={"note": "a b\u00e9"}))
    assert ok.status_code == 201, ok.text
    assert ok.json()["issue"]["assignees"] == ["bob"]
