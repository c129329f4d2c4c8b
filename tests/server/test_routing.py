"""``target_repo`` routing: ``[server.routes]`` / ``issue serve --route`` map repository names to
configured backends; a backend whose ``repo`` is the name is found without a map; without routes
every task goes to the default backend; once routes exist an unrouted name is a 422 unless a
default route (``"*"``) is configured."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issue_core.cli.main import cli
from issue_core.core.errors import ConfigError
from issue_core.server.routing import Router, parse_route
from tests.server.conftest import Project, error_of, issues_in
from tests.server.test_activity_core import SINK_PAYLOAD


def _config(project: Project) -> Path:
    return Path(os.environ["ISSUE_CORE_CONFIG_DIR"]) / "config.toml"


def _add_routes(project: Project, routes: dict[str, str]) -> None:
    lines = "".join(f'"{repo}" = "{backend}"\n' for repo, backend in routes.items())
    config = _config(project)
    config.write_text(config.read_text() + "\n[server.routes]\n" + lines)


def _sink(**fields: Any) -> dict[str, Any]:
    return {**SINK_PAYLOAD, **fields}


def test_without_routes_every_task_goes_to_the_default_backend_with_target_repo_recorded(
    client: Any, project: Project
) -> None:
    for n, repo in enumerate(("activity-core", "no-such-repo", "Acme/Widgets")):
        answer = client.post("/issues/", json=_sink(target_repo=repo, triggering_event_id=f"{n}"))
        assert answer.status_code == 201, answer.text
        assert answer.json()["backend"] == "main"
    stored = sorted(i["sync_metadata"]["target_repo"] for i in issues_in(project.store))
    assert stored == ["Acme/Widgets", "activity-core", "no-such-repo"]
    assert not project.flaky_store.exists() or issues_in(project.flaky_store) == []


def test_a_configured_route_sends_the_task_to_its_backend(
    app_factory: Any, project: Project
) -> None:
    _add_routes(project, {"activity-core": "flaky"})
    client = app_factory()
    answer = client.post("/issues/", json=SINK_PAYLOAD)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["backend"] == "flaky" and body["issue_id"] == f"flaky#{body['issue_number']}"
    [issue] = issues_in(project.flaky_store)
    assert issue["sync_metadata"]["ingest"]["backend"] == "flaky"
    assert issue["sync_metadata"]["target_repo"] == "activity-core"
    assert issues_in(project.store) == []
    # Names compare as forges compare them: case-insensitively.
    again = client.post("/issues/", json=_sink(target_repo="Activity-Core", source_id="x"))
    assert again.status_code == 201 and again.json()["backend"] == "flaky"


def test_once_routes_exist_an_unknown_target_repo_is_a_422_naming_the_known_ones(
    app_factory: Any, project: Project
) -> None:
    _add_routes(project, {"activity-core": "flaky", "acme/widgets": "main"})
    client = app_factory()
    refused = client.post("/issues/", json=_sink(target_repo="elsewhere"))
    assert refused.status_code == 422, refused.text
    error = error_of(refused)
    assert error["code"] == "unknown_target_repo"
    assert "'elsewhere'" in error["message"]
    assert "acme/widgets, activity-core" in error["message"]
    assert [f["field"] for f in error["field_errors"]] == ["target_repo"]
    assert issues_in(project.store) == []
    assert not project.flaky_store.exists() or issues_in(project.flaky_store) == []
    # A task without target_repo, or naming its backend, still goes where it always went.
    plain = client.post("/issues/", json={"title": "No repository named"})
    assert plain.status_code == 201 and plain.json()["backend"] == "main"
    named = client.post(
        "/issues/", json=_sink(target_repo="elsewhere", backend="flaky", source_id="named")
    )
    assert named.status_code == 201 and named.json()["backend"] == "flaky"


def test_a_default_route_takes_every_unrouted_target_repo(
    app_factory: Any, project: Project
) -> None:
    _add_routes(project, {"activity-core": "main", "*": "flaky"})
    client = app_factory()
    routed = client.post("/issues/", json=SINK_PAYLOAD)
    assert routed.status_code == 201 and routed.json()["backend"] == "main"
    other = client.post("/issues/", json=_sink(target_repo="elsewhere", source_id="other"))
    assert other.status_code == 201 and other.json()["backend"] == "flaky"
    # Without target_repo the server's default backend still applies.
    plain = client.post("/issues/", json={"title": "No repository named"})
    assert plain.status_code == 201 and plain.json()["backend"] == "main"


def test_a_backend_is_found_by_its_repository_beside_the_routes(
    app_factory: Any, project: Project
) -> None:
    config = _config(project)
    config.write_text(config.read_text() + 'owner = "acme"\nrepo = "activity-core"\n')
    _add_routes(project, {"widgets": "main"})
    client = app_factory()
    for n, repo in enumerate(("activity-core", "acme/activity-core", "widgets")):
        answer = client.post("/issues/", json=_sink(target_repo=repo, triggering_event_id=f"{n}"))
        assert answer.status_code == 201, answer.text
        assert answer.json()["backend"] == ("main" if repo == "widgets" else "flaky")
    refused = client.post("/issues/", json=_sink(target_repo="other/activity-core"))
    assert refused.status_code == 422
    assert "acme/activity-core, activity-core, widgets" in error_of(refused)["message"]


def test_a_retry_is_a_duplicate_of_the_routed_task_whatever_it_is_routed_to_now(
    app_factory: Any, project: Project
) -> None:
    _add_routes(project, {"activity-core": "flaky", "other-repo": "main"})
    client = app_factory()
    first = client.post("/issues/", json=SINK_PAYLOAD).json()
    assert first["backend"] == "flaky"
    for body in (SINK_PAYLOAD, _sink(target_repo="other-repo"), _sink(backend="main")):
        again = client.post("/issues/", json=body)
        assert again.status_code == 200, again.text
        answer = again.json()
        assert answer["status"] == "duplicate"
        assert (answer["issue_id"], answer["backend"]) == (first["issue_id"], "flaky")
    # The same explicit key across two routed backends is one issue too.
    keyed = {"title": "Keyed", "idempotency_key": "one-key"}
    one = client.post("/issues/", json={**keyed, "target_repo": "other-repo"})
    two = client.post("/issues/", json={**keyed, "target_repo": "activity-core"})
    assert (one.status_code, two.status_code) == (201, 200)
    assert two.json()["issue_id"] == one.json()["issue_id"] == f"main#{one.json()['issue_number']}"
    assert len(issues_in(project.flaky_store)) == 1 and len(issues_in(project.store)) == 1


def test_settings_routes_win_over_nothing_and_route_without_a_config(
    app_factory: Any, project: Project
) -> None:
    client = app_factory(routes={"activity-core": "flaky"})  # what --route builds
    assert client.post("/issues/", json=SINK_PAYLOAD).json()["backend"] == "flaky"
    assert client.post("/issues/", json=_sink(target_repo="x")).status_code == 422


# --------------------------------------------------------------------------- at start


def test_a_route_naming_an_unknown_backend_is_refused_at_start(project: Project) -> None:
    with pytest.raises(ConfigError) as caught:
        Router({"activity-core": "gitea-prod"}, {"main": object()}, "main")
    assert caught.value.one_line().startswith(
        "route 'activity-core' -> 'gitea-prod': no backend named 'gitea-prod' is configured"
        " (configured: main)"
    )
    _add_routes(project, {"activity-core": "gitea-prod"})
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert "'gitea-prod'" in line and "configured: flaky, local, main" in line
    assert "Traceback" not in line


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("activity-core=nope", "no backend named 'nope' is configured"),
        ("*=nope", "no backend named 'nope' is configured"),
        ("activity-core", "is not REPO=BACKEND"),
        ("=main", "is not REPO=BACKEND"),
    ],
)
def test_a_bad_route_option_is_one_line_exit_2(project: Project, option: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--route", option])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert message in line


def test_routes_in_config_must_name_backends_as_strings(project: Project) -> None:
    config = _config(project)
    config.write_text(config.read_text() + "\n[server.routes]\nactivity-core = 3\n")
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "'server.routes.activity-core'" in result.stderr and "string" in result.stderr


def test_parse_route() -> None:
    assert parse_route(" activity-core = gitea-prod ") == ("activity-core", "gitea-prod")
    assert parse_route("acme/widgets=work") == ("acme/widgets", "work")
    assert parse_route("*=main") == ("*", "main")


def test_an_unknown_key_under_server_is_a_warning(project: Project) -> None:
    from issue_core.core.config import Config

    config = _config(project)
    config.write_text(config.read_text() + "\n[server]\nrutes = {}\n")
    warnings: list[str] = []
    Config.load(project.root, warn=warnings.append)
    assert any("'server.rutes'" in w and "did you mean 'routes'" in w for w in warnings), warnings
