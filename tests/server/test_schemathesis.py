"""Property-based tests generated from the server's own /openapi.json (schemathesis).

Every generated request, valid or not, must get a documented status and a body matching the
documented schema; none may be a 5xx; requests without a key must be refused. Example counts
are bounded so this stays a few seconds.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from tests.server.conftest import API_KEY, Project, make_settings

MAX_EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


def conformance_cases(app: Any) -> list[tuple[str, GenerationMode, Any]]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    strategies = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append((operation.label, mode, operation.as_strategy(mode)))
    return strategies


def exercise(name: str, strategy: Any, seen: set[str]) -> None:
    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {API_KEY}"}, checks=CHECKS
        )
        seen.add(f"{name} {response.status_code}")

    check()


def test_api_conforms_to_its_openapi(project: Project) -> None:
    from fastapi.testclient import TestClient

    from issue_core.server.app import create_app

    app = create_app(make_settings(project))
    seen: set[str] = set()
    with TestClient(app):  # runs the lifespan: the worker thread and the state db
        for label, mode, strategy in conformance_cases(app):
            try:
                exercise(f"{label} {mode.value}", strategy, seen)
            except Unsatisfiable:
                # An operation without inputs (GET /healthz) has no invalid request to make.
                assert mode is GenerationMode.NEGATIVE, label
    # The run exercised both acceptance and rejection of POST /issues/.
    assert any(s.startswith("POST /issues/ positive 201") for s in seen), seen
    assert any(s.startswith("POST /issues/ negative 4") for s in seen), seen
