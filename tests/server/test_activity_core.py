"""activity-core's IssueSink (``IssueCoreRestSink``), exactly as it posts to ``POST /issues/``.

It sends the body below, stores only ``issue_id`` (and ``issue_url``/``backend`` when given) and
retries failures through its workflow engine, without an idempotency key of its own."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from issue_core.core.models import parse_ts
from tests.fakes.fixtures import (  # noqa: F401 - the fake Gitea's fixtures
    fake_gitea,
    gitea_contract,
    gitea_contract_session,
    gitea_options,
)
from tests.server.conftest import Project, issues_in, wait_for
from tests.server.flaky_backend import set_down

SINK_PAYLOAD: dict[str, Any] = {
    "title": "Run SBOM rescan for activity-core",
    "description": "",
    "target_repo": "activity-core",
    "priority": "medium",
    "labels": ["sbom", "security", "automated"],
    "due_in_days": None,
    "source_type": "rule",
    "source_id": "flag-stale-sbom",
    "triggering_event_id": "event-or-schedule-key",
    "activity_definition_id": "activity-definition-uuid",
}


def test_the_sinks_payload_creates_one_issue_with_every_field_understood(
    client: Any, project: Project
) -> None:
    response = client.post("/issues/", json=SINK_PAYLOAD)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["issue_id"] == f"main#{answer['issue_number']}"
    assert answer["backend"] == "main" and answer["issue_url"] is None  # the local store
    assert answer["warnings"] == []  # no "unknown field", no "retries would duplicate"
    [issue] = issues_in(project.store)
    assert issue["title"] == SINK_PAYLOAD["title"]
    assert issue["labels"] == ["automated", "priority:medium", "sbom", "security"]
    assert (issue["priority"], issue["priority_name"], issue["due_at"]) == (2, "medium", None)
    metadata = issue["sync_metadata"]
    assert metadata["target_repo"] == "activity-core"
    assert metadata["activity"] == {
        name: SINK_PAYLOAD[name]
        for name in ("source_type", "source_id", "triggering_event_id", "activity_definition_id")
    }
    assert "extra_fields" not in metadata


def test_a_retry_answers_with_the_same_issue_id_and_creates_nothing(
    client: Any, project: Project
) -> None:
    first = client.post("/issues/", json=SINK_PAYLOAD).json()
    for _ in range(3):
        again = client.post("/issues/", json=SINK_PAYLOAD)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "duplicate"
        assert again.json()["issue_id"] == first["issue_id"]
    assert len(issues_in(project.store)) == 1
    # Another triggering event of the same rule is another task.
    other = client.post("/issues/", json={**SINK_PAYLOAD, "triggering_event_id": "next-run"})
    assert other.status_code == 201 and other.json()["issue_id"] != first["issue_id"]
    assert len(issues_in(project.store)) == 2


def test_the_derived_key_keeps_its_parts_apart(client: Any, project: Project) -> None:
    one = {**SINK_PAYLOAD, "source_id": "a:b", "triggering_event_id": "c"}
    two = {**SINK_PAYLOAD, "source_id": "a", "triggering_event_id": "b:c"}
    assert client.post("/issues/", json=one).status_code == 201
    assert client.post("/issues/", json=two).status_code == 201
    missing = {**SINK_PAYLOAD, "activity_definition_id": None}
    empty = {**SINK_PAYLOAD, "activity_definition_id": ""}
    assert client.post("/issues/", json=missing).status_code == 201
    assert client.post("/issues/", json=empty).status_code in (201, 422)
    assert len(
        {i["sync_metadata"]["ingest"]["idempotency_key"] for i in issues_in(project.store)}
    ) == len(issues_in(project.store))


def test_due_in_days_becomes_the_issues_due_date(client: Any, project: Project) -> None:
    response = client.post("/issues/", json={**SINK_PAYLOAD, "due_in_days": 3})
    assert response.status_code == 201, response.text
    [issue] = issues_in(project.store)
    received = parse_ts(issue["sync_metadata"]["ingest"]["received_at"])
    assert parse_ts(issue["due_at"]) - received == timedelta(days=3)
    for bad in (-1, 1.5, "3", 10**9):
        refused = client.post("/issues/", json={**SINK_PAYLOAD, "due_in_days": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert "due_in_days" in refused.text


def test_priority_words_and_numbers_map_onto_one_scale(client: Any, project: Project) -> None:
    for n, priority in enumerate(("high", "low", 0, "p4", "urgent")):
        body = {**SINK_PAYLOAD, "triggering_event_id": f"e{n}", "priority": priority}
        assert client.post("/issues/", json=body).status_code == 201
    got = sorted((i["number"], i["priority"]) for i in issues_in(project.store))
    assert [p for _, p in got] == [1, 3, 0, 4, None]  # "urgent" stays a label only


def _route_flaky_to_activity_core(project: Project) -> None:
    config = Path(os.environ["ISSUE_CORE_CONFIG_DIR"]) / "config.toml"
    config.write_text(config.read_text() + 'repo = "activity-core"\n')  # ends [backends.flaky]


def test_target_repo_routes_to_the_backend_of_that_repository(
    app_factory: Any, project: Project
) -> None:
    _route_flaky_to_activity_core(project)
    client = app_factory()
    routed = client.post("/issues/", json=SINK_PAYLOAD)
    assert routed.status_code == 201 and routed.json()["backend"] == "flaky"
    elsewhere = client.post(
        "/issues/",
        json={**SINK_PAYLOAD, "target_repo": "other-repo", "triggering_event_id": "e2"},
    )
    assert elsewhere.status_code == 201 and elsewhere.json()["backend"] == "main"
    [stray] = issues_in(project.store)
    assert stray["sync_metadata"]["target_repo"] == "other-repo"  # recorded, default backend


def test_a_queued_task_gets_its_issue_id_once_delivered(app_factory: Any, project: Project) -> None:
    _route_flaky_to_activity_core(project)
    client = app_factory()
    set_down(project.fault_file)
    queued = client.post("/issues/", json=SINK_PAYLOAD)
    assert queued.status_code == 202, queued.text
    assert queued.json()["issue_id"] is None and queued.json()["backend"] == "flaky"
    status_url = queued.json()["status_url"]
    set_down(project.fault_file, None)
    retry = client.post("/issues/", json=SINK_PAYLOAD)  # the engine retries meanwhile
    assert retry.status_code in (200, 202)
    delivered = wait_for(lambda: (s := client.get(status_url).json())["issue_id"] and s)
    assert delivered["issue_id"] == f"flaky#{delivered['issue_number']}"
    late = client.post("/issues/", json=SINK_PAYLOAD)
    assert late.status_code == 200 and late.json()["issue_id"] == delivered["issue_id"]
    assert len(issues_in(project.flaky_store)) == 1


def test_on_a_forge_the_answer_carries_the_issues_url_and_the_due_date_is_native(
    project: Project,
    app_factory: Any,
    fake_gitea: Any,  # noqa: F811 - the fixture imported above
    monkeypatch: Any,
    tmp_path: Path,
) -> None:
    """The sink's task routed to the fake Gitea by its repository's name (no routes configured
    beyond the backend itself): ``issue_url`` is Gitea's page of the issue on the 201 and on every
    repeat, and ``due_in_days`` is Gitea's own due date."""
    fake = fake_gitea.fake
    config = Path(os.environ["ISSUE_CORE_CONFIG_DIR"]) / "config.toml"
    config.write_text(
        config.read_text() + '\n[backends.forge]\ntype = "gitea"\n'
        f'url = "{fake_gitea.base_url}"\nowner = "{fake.owner}"\nrepo = "{fake.repo.name}"\n'
        'token_env = "GITEA_API_TOKEN"\n'
    )
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    client = app_factory()
    body = {**SINK_PAYLOAD, "target_repo": fake.repo.name, "due_in_days": 3}
    created = client.post("/issues/", json=body)
    assert created.status_code == 201, created.text
    answer = created.json()
    number = answer["issue_number"]
    page = f"{fake_gitea.base_url}/{fake.owner}/{fake.repo.name}/issues/{number}"
    assert (answer["backend"], answer["issue_id"], answer["issue_url"]) == (
        "forge",
        f"forge#{number}",
        page,
    )
    again = client.post("/issues/", json=body)
    assert again.status_code == 200, again.text
    assert (again.json()["issue_id"], again.json()["issue_url"]) == (answer["issue_id"], page)
    stored = fake.issue(number)
    due_at = parse_ts(answer["issue"]["due_at"])
    assert stored.deadline == int(due_at.timestamp())  # Gitea's due date, not only the block
    received = parse_ts(answer["issue"]["sync_metadata"]["ingest"]["received_at"])
    assert due_at - received == timedelta(days=3)
    assert len(fake.repo.issues) == 1 and issues_in(project.store) == []
