"""``IngestEndpoint`` without HTTP, as a NATS consumer would drive it: bytes parsed, tasks
prepared and handed to the real pipeline as one batch, answers and refusals as plain data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from issue_core.server.endpoint import Answer, IngestEndpoint, Refused
from issue_core.server.messages import OutcomeKind
from issue_core.server.worker import Outcome
from tests.server.conftest import Project, issues_in, make_settings


@pytest.fixture
def endpoint(project: Project) -> Any:
    endpoint = IngestEndpoint(make_settings(project))
    endpoint.start()
    yield endpoint
    endpoint.stop()


def _body(**fields: Any) -> bytes:
    return json.dumps({"title": "from a queue", **fields}).encode()


def test_a_batch_is_ingested_through_the_pipeline_and_answered(endpoint, project):
    async def consume() -> list[Outcome | Refused]:
        prepared = [
            endpoint.prepare(endpoint.parse(_body(idempotency_key=key)), request_id=f"m-{key}")
            for key in ("a", "b", "a")
        ]
        outcomes = await endpoint.ingest_many(prepared)
        answers = [
            endpoint.answer(outcome, task, "m")
            for outcome, task in zip(outcomes, prepared, strict=True)
            if isinstance(outcome, Outcome)
        ]
        assert all(isinstance(answer, Answer) for answer in answers)
        return outcomes

    outcomes = asyncio.run(consume())
    kinds = [o.kind for o in outcomes if isinstance(o, Outcome)]
    assert kinds == [OutcomeKind.CREATED, OutcomeKind.CREATED, OutcomeKind.DUPLICATE]
    assert sorted(
        i["sync_metadata"]["ingest"]["idempotency_key"] for i in issues_in(project.store)
    ) == [
        "a",
        "b",
    ]


def test_accept_answers_201_with_the_task_record(endpoint):
    answer = asyncio.run(endpoint.accept(_body(idempotency_key="one"), request_id="r-1"))
    assert answer.status == 201 and answer.headers is None
    assert answer.body["status"] == "created" and answer.body["idempotency_key"] == "one"
    assert answer.body["issue_id"] == f"main#{answer.body['issue_number']}"
    again = asyncio.run(endpoint.accept(_body(idempotency_key="one"), request_id="r-2"))
    assert again.status == 200 and again.body["issue_id"] == answer.body["issue_id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "bad_request"),
        (b'{"title": "a", "title": "b"}', 400, "bad_request"),
        (_body(labels="nope"), 422, "invalid"),
        (_body(backend="nowhere"), 422, "unknown_backend"),
    ],
)
def test_refusals_are_plain_data(endpoint, project, body, status, code):
    with pytest.raises(Refused) as refused:
        asyncio.run(endpoint.accept(body, request_id="r"))
    assert (refused.value.status, refused.value.code) == (status, code)
    assert issues_in(project.store) == []
