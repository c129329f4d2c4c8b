"""The installed `issue` command in real processes, in temporary git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git_init, subprocess_env

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
ISSUE = str(BIN / "issue")
STORE_NOTE = "issue-core: created local store at"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return subprocess_env(tmp_path / "config", "e2e")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_init(tmp_path / "repo")


def run(*args: str, cwd: Path, env: dict[str, str], input: str | None = None):
    return subprocess.run(
        [ISSUE, *args], cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=60
    )


def test_zero_config_create_then_list_as_json(repo, env):
    first = run("create", "x", cwd=repo, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "created #1 x\n"
    store = repo / ".issue-core" / "issues.db"
    assert first.stderr == f"{STORE_NOTE} {store}\n"
    second = run("create", "y", "--label", "bug", cwd=repo, env=env)
    assert second.returncode == 0 and second.stderr == "issue-core: created label(s) bug\n"
    listed = run("list", "--format=json", cwd=repo, env=env)
    assert listed.returncode == 0
    data = json.loads(listed.stdout)
    assert [(i["number"], i["title"], i["labels"]) for i in data] == [
        (2, "y", ["bug"]),
        (1, "x", []),
    ]
    assert listed.stderr == ""


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs the jq binary")
def test_list_json_pipes_into_jq(repo, env):
    run("create", "first", cwd=repo, env=env)
    env = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    piped = subprocess.run(
        "issue list --format=json | jq -r '.[0].number'",
        shell=True,
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.stdout == "1\n"


def test_subdirectory_finds_the_same_store(repo, env):
    run("create", "top", cwd=repo, env=env)
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    created = run("create", "from below", cwd=sub, env=env)
    assert created.stdout == "created #2 from below\n" and created.stderr == ""
    titles = run("list", "--jq", ".[].title", cwd=sub, env=env)
    assert titles.stdout == "from below\ntop\n"
    assert not (sub / ".issue-core").exists()


def test_backend_flag_and_environment_variable(repo, env, tmp_path):
    other = tmp_path / "other.db"
    added = run("backend", "add", "other", "local", "--path", str(other), cwd=repo, env=env)
    assert added.returncode == 0, added.stderr
    made = run("--backend", "other", "create", "elsewhere", cwd=repo, env=env)
    assert made.stderr == f"{STORE_NOTE} {other}\n"
    assert json.loads(run("list", "--format", "json", cwd=repo, env=env).stdout) == []
    via_env = run("list", "--json", "title", cwd=repo, env={**env, "ISSUE_CORE_BACKEND": "other"})
    assert json.loads(via_env.stdout) == [{"title": "elsewhere"}]


def test_errors_in_a_real_process(repo, env):
    missing = run("show", "5", cwd=repo, env=env)
    assert (missing.returncode, missing.stdout) == (3, "")
    assert missing.stderr == "issue: error: issue #5 not found\n"
    as_json = run("show", "x", "--format", "json", cwd=repo, env=env)
    assert (as_json.returncode, as_json.stdout) == (2, "")
    assert json.loads(as_json.stderr)["error"]["code"] == "usage"
    empty = run("create", "", cwd=repo, env=env)
    assert empty.returncode == 2 and "Traceback" not in empty.stderr


@pytest.mark.parametrize("output", ["json", "jsonl", "table"])
def test_closed_stdout_pipe_is_silent(repo, env, output):
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import Issue

    backend = LocalBackend()
    backend.connect({"path": str(repo / ".issue-core" / "issues.db"), "identity": "e2e"})
    # Several MB of output: more than any pipe buffer holds.
    backend.bulk_create(
        Issue(title=f"issue {n} " + "x" * 200, description="d" * 4000) for n in range(800)
    )
    backend.close()
    # PYTHONUNBUFFERED makes CPython drop the unwritable rest of a write silently (exit 0);
    # users' shells do not set it.
    env = {k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen(
        [ISSUE, "list", "--limit", "0", "--format", output],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)
    proc.stdout.close()  # like `| head -c 10`
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert stderr == b""


@pytest.mark.parametrize("output", ["json", "table"])
def test_large_output_arrives_whole(repo, env, output):
    """The process ends without the interpreter's teardown (cli/exit.py): everything it wrote,
    megabytes of it, still reaches the reader, and the exit status is kept."""
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import Issue

    backend = LocalBackend()
    backend.connect({"path": str(repo / ".issue-core" / "issues.db"), "identity": "e2e"})
    backend.bulk_create(Issue(title=f"issue {n}", description="d" * 3000) for n in range(600))
    backend.close()
    env = {k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"}
    listed = run("list", "--limit", "0", "--format", output, cwd=repo, env=env)
    assert listed.returncode == 0 and listed.stderr == ""
    if output == "json":
        assert [i["number"] for i in json.loads(listed.stdout)] == list(range(600, 0, -1))
    else:
        assert len(listed.stdout.splitlines()) == 601 and listed.stdout.endswith("\n")


def test_list_json_imports_no_heavy_modules(repo, env):
    run("create", "x", cwd=repo, env=env)
    traced = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "issue_core.cli.main",
            "list",
            "--format",
            "json",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert traced.returncode == 0
    modules = {line.rsplit("|", 1)[-1].strip() for line in traced.stderr.splitlines()}
    assert "sqlite3" in modules and "click" in modules
    for heavy in (
        "httpx",
        "jq",
        "tomli_w",
        "platformdirs",
        "fastapi",
        "pydantic",
        "issue_core.cli.human",
        "shutil",
    ):
        assert heavy not in modules, f"{heavy} imported by `issue list --format json`"


def test_concurrent_processes_on_a_fresh_store(repo, env):
    """Eight `issue create` processes race to create the store and allocate numbers; then eight
    `issue edit` processes add a label each to one issue. Nothing is lost or duplicated, and no
    process reports a locked database."""
    creators = [
        subprocess.Popen(
            [ISSUE, "create", f"racer {i}", "--json", "number", "--jq", ".number"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outputs = [p.communicate(timeout=60) for p in creators]
    assert all(p.returncode == 0 for p in creators), outputs
    assert sorted(int(out) for out, _ in outputs) == list(range(1, 9))
    assert not any("locked" in err for _, err in outputs)
    assert sum(STORE_NOTE in err for _, err in outputs) == 1  # said once, by the creator

    editors = [
        subprocess.Popen(
            [ISSUE, "edit", "1", "--add-label", f"l{i}", "--create-labels"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    results = [p.communicate(timeout=60) for p in editors]
    assert all(p.returncode == 0 for p in editors), results
    shown = json.loads(run("show", "1", "--format", "json", cwd=repo, env=env).stdout)
    assert sorted(shown["labels"]) == [f"l{i}" for i in range(8)]
