"""Fixtures: a project folder with two configured backends (``main``: local, ``flaky``: a local
store a test can take down), the server app built on it, and an authenticated test client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from issue_core.backends import BUILTIN_BACKENDS

API_KEY = "test-key-0123456789abcdef"
OTHER_KEY = "rotated-key-abcdef0123456789"


@dataclass
class Project:
    root: Path
    store: Path
    flaky_store: Path
    fault_file: Path
    state_dir: Path

    @property
    def state_db(self) -> Path:
        return self.state_dir / "server.db"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    proj = Project(
        root=root,
        store=root / ".issue-core" / "issues.db",
        flaky_store=tmp_path / "flaky" / "issues.db",
        fault_file=tmp_path / "flaky-down",
        state_dir=root / ".issue-core",
    )
    (config_dir / "config.toml").write_text(
        'default_backend = "main"\nuser = "ingest-bot"\n\n'
        f'[backends.main]\ntype = "local"\npath = "{proj.store}"\n\n'
        f'[backends.flaky]\ntype = "flaky"\npath = "{proj.flaky_store}"\n'
        f'fault_file = "{proj.fault_file}"\n'
    )
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(config_dir))
    monkeypatch.delenv("ISSUE_CORE_BACKEND", raising=False)
    monkeypatch.delenv("ISSUE_CORE_STATE_DIR", raising=False)
    monkeypatch.delenv("ISSUE_CORE_USER", raising=False)
    monkeypatch.setenv("ISSUE_CORE_API_KEY", f"{API_KEY},{OTHER_KEY}")
    monkeypatch.setitem(BUILTIN_BACKENDS, "flaky", "tests.server.flaky_backend:FlakyBackend")
    monkeypatch.chdir(root)
    return proj


def make_settings(project: Project, **overrides: Any) -> Any:
    from issue_core.server.auth import ApiKeys
    from issue_core.server.settings import ServerSettings, resolve_backends, resolve_state_dir

    setup = resolve_backends(overrides.pop("backend", None), cwd=project.root)
    values: dict[str, Any] = {
        "default_backend": setup.default,
        "backends": setup.backends,
        "identity": setup.identity,
        "state_dir": resolve_state_dir(None, setup),
        "keys": ApiKeys.parse(f"{API_KEY},{OTHER_KEY}"),
        "routes": setup.routes,
    }
    values.update(overrides)
    return ServerSettings(**values)


@pytest.fixture
def app_factory(project: Project) -> Iterator[Callable[..., Any]]:
    from fastapi.testclient import TestClient

    from issue_core.server.app import create_app

    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        app = create_app(make_settings(project, **overrides))
        client = TestClient(app, headers={"Authorization": f"Bearer {API_KEY}"})
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(app_factory: Callable[..., Any]) -> Any:
    return app_factory()


def task(title: str = "Nightly build failed", **fields: Any) -> dict[str, Any]:
    return {"title": title, **fields}


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def issues_in(store: Path) -> list[dict[str, Any]]:
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import IssueFilter

    backend = LocalBackend()
    backend.connect({"path": str(store), "identity": "reader"})
    try:
        return [i.to_dict() for i in backend.list_issues(IssueFilter(state=None, limit=None))]
    finally:
        backend.close()


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error", "request_id"}, body
    assert body["error"]["message"], body
    assert "Traceback" not in json.dumps(body)
    return dict(body["error"])
