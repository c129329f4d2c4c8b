"""core.config.resolve_backends / default_state_dir: what `issue serve` and `issue outbox` may
open and where their state lives, resolved from configuration alone (no server imported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from issue_core.core.config import default_state_dir, resolve_backends


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    user = tmp_path / "user"
    user.mkdir()
    (user / "config.toml").write_text(
        'default_backend = "main"\nuser = "bot"\n'
        f'[backends.main]\ntype = "local"\npath = "{tmp_path / "main" / "issues.db"}"\n'
        '[backends.rel]\ntype = "local"\npath = "stores/rel.db"\n'
        '[backends.work]\ntype = "gitea"\nurl = "https://g.example"\nowner = "a"\nrepo = "b"\n'
        '[server.routes]\n"acme/widgets" = "rel"\n'
    )
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(user))
    monkeypatch.delenv("ISSUE_CORE_BACKEND", raising=False)
    monkeypatch.delenv("ISSUE_CORE_STATE_DIR", raising=False)
    monkeypatch.delenv("ISSUE_CORE_USER", raising=False)
    return root


def test_every_configured_backend_and_the_implicit_store_resolved(project, tmp_path):
    setup = resolve_backends(None, cwd=project)
    assert setup.default == "main" and setup.identity == "bot"
    assert sorted(setup.backends) == ["local", "main", "rel", "work"]
    assert setup.backends["rel"].settings["path"] == str(project / "stores" / "rel.db")
    assert setup.backends["local"].settings["path"] == str(project / ".issue-core" / "issues.db")
    assert setup.routes == {"acme/widgets": "rel"}
    assert default_state_dir(setup) == tmp_path / "main"
    assert resolve_backends("rel", cwd=project).default == "rel"


def test_the_state_folder_of_a_forge_default_and_the_override(project, monkeypatch, tmp_path):
    setup = resolve_backends("work", cwd=project)
    assert default_state_dir(setup) == Path(project) / ".issue-core"
    monkeypatch.setenv("ISSUE_CORE_STATE_DIR", str(tmp_path / "state"))
    assert default_state_dir(setup) == (tmp_path / "state").resolve()


def test_resolving_loads_no_server_module(project):
    code = (
        "import sys\n"
        "from issue_core.core.config import resolve_backends, default_state_dir\n"
        f"default_state_dir(resolve_backends(None, cwd={str(project)!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('issue_core.server')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
