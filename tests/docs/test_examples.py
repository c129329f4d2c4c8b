"""Every example in README.md, AGENT_INTEGRATION.md, docs/ and every command's ``--help`` runs, as
written, on a new store (forge examples against the fake Gitea and the fake GitLab, ingestion
examples against a real
``issue serve``), with the installed ``issue`` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.docs.examples import REPO_ROOT, Block, blocks, help_examples
from tests.fakes.fixtures import TOKEN_ENV, RunningGitea, start_fake_gitea
from tests.fakes.gitea import WRITE_TOKEN
from tests.fakes.gitlab import OWNER_TOKEN as GITLAB_TOKEN
from tests.fakes.gitlab_fixtures import RunningGitLab, start_fake_gitlab

# The project docs/backends/gitlab.md's examples name.
GITLAB_PROJECT = "platform/tools/widgets"

BIN = Path(sys.executable).parent
API_KEY = "docs-example-key-" + "7" * 32
# -e: a failing step fails the example. No pipefail: `pytest | tail | issue comment` is how
# people write it, and the example is about the last command of the pipe.
PRELUDE = """
set -e
generate-report() { printf 'report line 1\\nreport line 2\\n'; }
printf '# Design notes\\n\\nsome text\\n' > notes.md
# `issue serve` runs in the foreground; an example runs it in the background until healthy.
SERVE_PIDS=""
stop_servers() {
  for p in $SERVE_PIDS; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  SERVE_PIDS=""
}
trap 'status=$?; stop_servers; exit $status' EXIT
serve_bg() {
  stop_servers
  "$@" >>serve.log 2>&1 & SERVE_PIDS="$!"
  for _ in $(seq 300); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && return 0
    kill -0 "$SERVE_PIDS" 2>/dev/null || { cat serve.log >&2; return 1; }
    sleep 0.1
  done
  return 1
}
"""

ALL_BLOCKS = blocks()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def gitea(gitea_contract: Any) -> Iterator[RunningGitea]:
    running = start_fake_gitea(contract=gitea_contract, owner="acme", repo="widgets")
    try:
        yield running
    finally:
        running.stop()
    running.recorder.assert_clean()


@pytest.fixture(scope="module")
def gitlab(gitlab_contract: Any) -> Iterator[RunningGitLab]:
    running = start_fake_gitlab(contract=gitlab_contract, project=GITLAB_PROJECT)
    # `issue config detect` asks an unknown host Gitea's question first (GET /api/v1/version):
    # GitLab answers it 404, a path its contract rightly knows no endpoint for.
    running.recorder.expect_violation("/api/v1/version")
    try:
        yield running
    finally:
        running.stop()
    running.recorder.assert_clean()


class Project:
    """A new git repository with its own user configuration and environment."""

    def __init__(self, root: Path, gitea: RunningGitea, gitlab: RunningGitLab) -> None:
        self.root = root
        self.repo = root / "project"
        self.repo.mkdir()
        subprocess.run(["git", "init", "-q", str(self.repo)], check=True)
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q",
             "--allow-empty", "-m", "Initial commit"],
            cwd=self.repo, check=True,
        )  # fmt: skip
        self.gitea = gitea
        self.gitlab = gitlab
        self.server: subprocess.Popen[bytes] | None = None
        self.port = _free_port()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ISSUE_CORE_", "COV_CORE"))
            and key not in ("COLUMNS", "NO_COLOR")
        }
        self.env.update(
            PATH=f"{BIN}{os.pathsep}{self.env.get('PATH', '')}",
            HOME=str(root / "home"),
            ISSUE_CORE_CONFIG_DIR=str(root / "config"),
            ISSUE_CORE_USER="alice",
            ISSUE_CORE_API_KEY=API_KEY,
            PORT=str(self.port),
            AGENT_NAME="agent-coder",
            key=API_KEY,
            **{TOKEN_ENV: WRITE_TOKEN},
            GITLAB_TOKEN=GITLAB_TOKEN,
        )

    def localise(self, text: str) -> str:
        """Point the documented hosts at the ones running in this test."""
        text = text.replace("https://gitea.example.com", self.gitea.base_url)
        text = text.replace("https://gitlab.example.com", self.gitlab.base_url)
        text = text.replace("export GITLAB_TOKEN=...", f"export GITLAB_TOKEN={GITLAB_TOKEN}")
        # A path in /tmp would be shared by every run (and every test worker) on the machine.
        text = text.replace("/tmp/scratch.db", str(self.root / "scratch.db"))
        text = text.replace("export GITEA_API_TOKEN=...", f"export GITEA_API_TOKEN={WRITE_TOKEN}")
        for host in ("http://127.0.0.1:8765", "localhost:8765"):
            text = text.replace(host, f"http://127.0.0.1:{self.port}")
        text = re.sub(r"--port \d+", f"--port {self.port}", text)
        text = text.replace("--state-dir /var/lib/issue-core", "--state-dir ./server-state")
        lines = []
        for line in text.splitlines():
            if line.startswith("pip install"):
                line = ": the test environment has issue-core and its extras installed"
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command.startswith("issue serve"):
                if "--port" not in command:
                    command += f" --port {self.port}"
                line = "serve_bg " + command
            lines.append(line)
        return "\n".join(lines) + "\n"

    def run(self, script: str, *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", PRELUDE + self.localise(script)],
            cwd=self.repo,
            env=self.env,
            stdin=subprocess.DEVNULL,  # an example reads only what it pipes in (`issue mcp`: EOF)
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", self.localise(code)],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def add_work_backend_unless_added(self, text: str) -> None:
        """Examples that use the backend ``work`` of the README's configuration get it."""
        uses_work = re.search(r"(--backend|backend test|backend trust) work", text)
        if uses_work and "backend add work" not in text:
            added = self.run(
                f"issue backend add work gitea --url {self.gitea.base_url} --owner acme "
                "--repo widgets --token-env GITEA_API_TOKEN"
            )
            assert added.returncode == 0, added.stderr

    def seed(self, count: int = 12) -> None:
        script = "\n".join(f'issue create "Seeded issue {n}" >/dev/null' for n in range(count))
        result = self.run(script)
        assert result.returncode == 0, result.stderr

    def start_server(self) -> None:
        self.server = subprocess.Popen(
            [str(BIN / "issue"), "serve", "--port", str(self.port)],
            cwd=self.repo,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("issue serve did not start")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()


@pytest.fixture
def project(tmp_path: Path, gitea: RunningGitea, gitlab: RunningGitLab) -> Iterator[Project]:
    made = Project(tmp_path, gitea, gitlab)
    try:
        yield made
    finally:
        made.stop()


def _needs_server(text: str) -> bool:
    return "8765" in text or "issue outbox" in text or "issue serve" in text


def _tracking_id(project: Project) -> str:
    response = httpx.post(
        f"http://127.0.0.1:{project.port}/issues/",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={"title": "Seeded task", "source": {"system": "docs", "event_id": "seed-1"}},
        timeout=10,
    )
    assert response.status_code in (200, 201, 202), response.text
    return str(response.json()["tracking_id"])


_ELIDED_ID = re.compile(r"\b[0-9a-f]{4,6}(…|\.\.\.)")  # "9c1d…": a tracking id, shortened


def _fill_placeholders(text: str, project: Project) -> str:
    if project.server is not None and _ELIDED_ID.search(text):
        text = _ELIDED_ID.sub(_tracking_id(project), text)
    return text


# --------------------------------------------------------------------------- Markdown examples


def _run_console(block: Block, project: Project) -> None:
    """A transcript: each ``$ command`` runs in turn; its output must be what the block shows."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    for command, expected in steps:
        result = project.run(command)
        assert result.returncode == 0, (
            f"{block.id}: `{command}` exited {result.returncode}: {result.stderr}"
        )
        shown = (result.stdout + result.stderr).replace(str(project.repo), "/home/me/project")
        got = [re.sub(r"\s+", " ", line).strip() for line in shown.splitlines() if line.strip()]
        want = [re.sub(r"\s+", " ", line).strip() for line in expected if line.strip()]
        assert sorted(got) == sorted(want), (
            f"{block.id}: `{command}` printed {got}, documented {want}"
        )


@pytest.mark.e2e
@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.id for b in ALL_BLOCKS])
def test_documented_example_runs(block: Block, project: Project) -> None:
    if block.directive == "not-run":
        assert block.reason, f"{block.id}: say why the example is not run"
        pytest.skip(f"not run: {block.reason}")
    project.add_work_backend_unless_added(block.text)
    if _needs_server(block.text) and "issue serve" not in block.text:
        project.start_server()
    project.seed(3)
    text = _fill_placeholders(block.text, project)
    if block.language == "console":
        # A transcript starts on a store of its own (it shows "created local store").
        shutil.rmtree(project.repo / ".issue-core", ignore_errors=True)
        _run_console(block, project)
        return
    if block.language == "toml":
        import tomllib

        tomllib.loads(text)
        if block.directive == "user-config":
            config = Path(project.env["ISSUE_CORE_CONFIG_DIR"])
            config.mkdir(parents=True, exist_ok=True)
            (config / "config.toml").write_text(project.localise(text))
            result = project.run("issue backend list")
        else:
            return  # a fragment of another file (e.g. pyproject.toml): it must parse
    elif block.language == "python":
        result = project.python(text)
    else:
        result = project.run(text)
    assert result.returncode == 0, (
        f"{block.id} ({block.language}) exited {result.returncode}:\n"
        f"{result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr


def test_every_example_block_is_found() -> None:
    documents = {block.document for block in ALL_BLOCKS}
    assert {"README.md", "AGENT_INTEGRATION.md", "docs/ingestion.md"} <= documents
    assert len(ALL_BLOCKS) >= 15


# --------------------------------------------------------------------------- --help examples

HELP = help_examples()


@pytest.mark.e2e
@pytest.mark.parametrize(("command", "examples"), HELP, ids=[c for c, _ in HELP])
def test_help_examples_run(command: str, examples: list[str], project: Project) -> None:
    if command != "issue serve" and any(_needs_server(example) for example in examples):
        project.start_server()
    project.add_work_backend_unless_added("\n".join(examples))
    project.seed(12)
    script = _fill_placeholders("\n".join(examples), project)
    for example in [script] if command == "issue serve" else script.splitlines():
        result = project.run(example)
        assert result.returncode == 0, (
            f"{command}: `{example}` exited {result.returncode}: {result.stderr}"
        )
        assert "Traceback" not in result.stderr


def test_help_examples_are_found() -> None:
    commands = dict(HELP)
    assert "issue create" in commands and "issue list" in commands
    assert any("--jq" in line for line in commands["issue list"])


# --------------------------------------------------------------------------- the error pattern


def _error_pattern() -> str:
    text = (REPO_ROOT / "AGENT_INTEGRATION.md").read_text(encoding="utf-8")
    start = text.index("# Branch on the outcome")
    return text[start : text.index("\nfi\n", start) + 4]


@pytest.mark.e2e
@pytest.mark.parametrize(("number", "says"), [("999", "gone"), ("1", "")])
def test_documented_error_branching_sees_the_exit_code(
    number: str, says: str, project: Project
) -> None:
    project.seed(1)
    result = project.run(f"n={number}\n" + _error_pattern())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == says
    if number == "999":
        assert json.loads((project.repo / "err.json").read_text())["error"]["exit_code"] == 3
