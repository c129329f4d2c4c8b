"""Text that arrived through ``POST /issues/`` is stored as sent and shown inert by the CLI.

The server must accept control characters in titles, bodies and labels (they are data); the
terminal of whoever lists the issues or the outbox later must not obey them.
"""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from issue_core.cli.main import cli
from tests.cli.hostile import HOSTILE_BODY, HOSTILE_LINE, SEQUENCES, assert_inert
from tests.server.conftest import Project, task
from tests.server.flaky_backend import set_down

LABEL = f"ci{SEQUENCES['osc52']}"


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def hostile_task(key: str) -> dict[str, Any]:
    return task(
        HOSTILE_LINE,
        description=HOSTILE_BODY,
        labels=[LABEL],
        assignee=f"bot{SEQUENCES['bidi_override']}",
        idempotency_key=key,
    )


def test_ingested_text_is_kept_and_shown_inert(client: Any, project: Project) -> None:
    response = client.post("/issues/", json=hostile_task("hostile-1"))
    assert response.status_code == 201, response.text
    number = response.json()["issue_number"]

    shown = json.loads(run_cli("show", str(number), "--format", "json").output)
    assert shown["title"] == HOSTILE_LINE and shown["description"] == HOSTILE_BODY
    assert LABEL in shown["labels"]

    for args in (
        ["list"],
        ["--color", "list"],
        ["show", str(number)],
        ["--color", "show", str(number), "--comments"],
        ["label", "list"],
        ["user", "list"],
        ["close", str(number)],
    ):
        result = run_cli(*args)
        assert result.exit_code == 0, result.output
        assert_inert(result.stdout, colour="--color" in args)
    card = run_cli("show", str(number)).stdout
    assert "T <\\x1b]52;c;aGVsbG8=\\x07>" in card
    assert "\\u202e" in card


def test_outbox_list_shows_queued_text_inert(app_factory: Any, project: Project) -> None:
    set_down(project.fault_file)
    client = app_factory(backend="flaky")
    response = client.post("/issues/", json=hostile_task("hostile-2"))
    assert response.status_code == 202, response.text
    client.__exit__(None, None, None)  # the server is gone; the outbox is on disk

    listed = run_cli("outbox", "list")
    assert listed.exit_code == 0, listed.output
    assert "T <\\x1b]52;" in listed.stdout
    assert_inert(listed.stdout)
    as_json = json.loads(run_cli("outbox", "list", "--format", "json").stdout)
    assert as_json[0]["title"] == HOSTILE_LINE
