"""The server's opt-in timings (``server/timings.py``): off by default (no recorder, nothing
written); with ``ISSUE_CORE_SERVER_TIMINGS`` set, a real request through the app leaves each
stage's samples in the folder, and ``bench/ingest_timings.py`` reads them."""

from __future__ import annotations

import gc
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from issue_core.server import timings
from tests.server.conftest import API_KEY, Project, make_settings, task

REPO = Path(__file__).resolve().parents[2]


def _serve_one(project: Project) -> Any:
    from fastapi.testclient import TestClient

    from issue_core.server.app import create_app

    app = create_app(make_settings(project))
    with TestClient(app, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        gc.collect()  # one collection for certain, while recording
        response = client.post("/issues/", json=task(idempotency_key="timed-1"))
        assert response.status_code == 201, response.text
        return app


def test_off_by_default_records_nothing(project, monkeypatch, tmp_path):
    monkeypatch.delenv(timings.ENV, raising=False)
    _serve_one(project)
    assert timings.recorder is None
    assert timings.start("server") is None


def test_on_each_stage_is_recorded_and_read_back(project, monkeypatch, tmp_path):
    folder = tmp_path / "timings"
    monkeypatch.setenv(timings.ENV, str(folder))
    _serve_one(project)
    assert timings.recorder is None  # stopped with the server, samples written
    [path] = folder.glob("server-*.json")
    data = json.loads(path.read_text())
    kinds = {sample[0] for sample in data["samples"]}
    assert {"request", "send", "resolve", "cycle", "txn", "gc"} <= kinds
    [cycle] = [s for s in data["samples"] if s[0] == "cycle"]
    _, _, _waited, count, sql, commit, create, answer = cycle
    assert count == 1 and min(sql, commit, create, answer) >= 0
    files = {s[2] for s in data["samples"] if s[0] == "txn"}
    assert {"server.db", "issues.db"} <= files
    # The engine's transaction is itself again once recording stopped.
    from issue_core.storage import sqlite as engine

    assert not getattr(engine.write_transaction, "_timed", False)

    spec = importlib.util.spec_from_file_location(
        "ingest_timings", REPO / "bench/ingest_timings.py"
    )
    assert spec is not None and spec.loader is not None
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    report = reader.report(folder, 0.0, 0.99)
    assert "| request: wait for the pipeline | 1 |" in report
    assert "server issues.db: COMMIT" in report


@pytest.fixture(autouse=True)
def _no_recorder_left():
    yield
    timings.stop()
