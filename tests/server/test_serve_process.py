"""`issue serve` as a real process: start-up errors, SIGKILL mid-burst, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from issue_core.cli.main import cli
from tests.server.conftest import API_KEY, Project, issues_in, wait_for
from tests.server.flaky_backend import set_down

REPO = Path(__file__).resolve().parents[2]
# Runs the real CLI with the test-only `flaky` backend type registered.
LAUNCHER = (
    "import sys; from issue_core.backends import BUILTIN_BACKENDS;"
    " BUILTIN_BACKENDS['flaky'] = 'tests.server.flaky_backend:FlakyBackend';"
    " from issue_core.cli.main import main; sys.argv[0] = 'issue'; main()"
)


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(
    project: Project, log: Path, *extra: str, access_log: bool = False, session: bool = False
) -> ServerProcess:
    """``session``: in a process group of its own, so that ``os.killpg`` kills the server with
    its writer child, as a machine's crash (or an OOM kill of the service) would."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    handle = log.open("wb")
    quiet = [] if access_log else ["--no-access-log"]
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "serve", "--port", "0", *quiet, *extra],
        cwd=project.root,
        env=env,
        stdout=handle,
        stderr=handle,
        start_new_session=session,
    )

    def listening() -> int | None:
        if process.poll() is not None:
            raise AssertionError(f"server exited {process.returncode}: {log.read_text()}")
        for line in log.read_text().splitlines():
            if '"msg":"listening"' in line:
                return int(json.loads(line)["port"])
        return None

    port = wait_for(listening, timeout=30)
    wait_for(lambda: _healthy(port), timeout=30)
    return ServerProcess(process, port, log)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Burst:
    acked: dict[str, int] = field(default_factory=dict)  # idempotency key -> status
    sent: list[dict[str, Any]] = field(default_factory=list)


async def burst_until_killed(server: ServerProcess, kill_after: int, clients: int = 16) -> Burst:
    """POST unique tasks from ``clients`` concurrent clients; SIGKILL the server once
    ``kill_after`` tasks were acknowledged; keep sending until the connection dies."""
    burst = Burst()
    counter = iter(range(1_000_000))
    killed = asyncio.Event()

    async def client(http: httpx.AsyncClient) -> None:
        while True:
            n = next(counter)
            body = {
                "title": f"burst task {n}",
                "idempotency_key": f"burst-{n}",
                "backend": "flaky" if n % 4 == 0 else "main",
                "labels": ["burst"],
            }
            burst.sent.append(body)
            try:
                response = await http.post("/issues/", json=body)
            except httpx.HTTPError:
                if killed.is_set():
                    return
                continue
            if response.status_code in (200, 201, 202):
                burst.acked[body["idempotency_key"]] = response.status_code
            if len(burst.acked) >= kill_after and not killed.is_set():
                server.process.send_signal(signal.SIGKILL)
                killed.set()

    headers = {"Authorization": f"Bearer {API_KEY}"}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, limits=limits, timeout=10
    ) as http:
        await asyncio.wait_for(asyncio.gather(*(client(http) for _ in range(clients))), 120)
    return burst


def keys_in(store: Path) -> Counter[str]:
    return Counter(
        issue["sync_metadata"]["ingest"]["idempotency_key"] for issue in issues_in(store)
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("writer", "synchronous"), [("thread", "full"), ("process", "full"), ("process", "normal")]
)
def test_sigkill_during_a_burst_loses_no_acknowledged_task(
    project: Project, tmp_path: Path, writer: str, synchronous: str
) -> None:
    """Also with ``--synchronous normal``: without an fsync per commit, a killed server still
    loses and repeats nothing (its commits are in the operating system's cache)."""
    set_down(project.fault_file)  # a quarter of the tasks go to a backend that is down: 202s
    log = tmp_path / "server.log"
    options = ("--writer", writer, "--synchronous", synchronous)
    first = start_server(project, log, *options)
    burst = asyncio.run(burst_until_killed(first, kill_after=400))
    assert first.process.wait(10) == -signal.SIGKILL
    assert 202 in burst.acked.values() and 201 in burst.acked.values()
    said = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    listening = next(line for line in said if line["msg"] == "listening")
    assert listening["synchronous"] == synchronous
    warned = [line for line in said if "not fsynced" in line["msg"]]
    assert len(warned) == (synchronous == "normal")

    set_down(project.fault_file, None)
    second = start_server(project, tmp_path / "restarted.log", *options)
    try:
        # Every acknowledged task is (or, for 202s, becomes) an issue, exactly once.
        def all_delivered() -> bool:
            found = keys_in(project.store) + keys_in(project.flaky_store)
            return all(found[key] == 1 for key in burst.acked)

        wait_for(all_delivered, timeout=60)
        found = keys_in(project.store) + keys_in(project.flaky_store)
        assert max(found.values()) == 1, [k for k, v in found.items() if v > 1]

        # Re-sending everything (what an upstream does after a crash) creates nothing twice.
        with httpx.Client(
            base_url=second.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        ) as http:
            for body in burst.sent:
                response = http.post("/issues/", json=body)
                assert response.status_code in (200, 201, 202), response.text
                if body["idempotency_key"] in burst.acked:
                    assert response.status_code == 200, response.text
        wait_for(
            lambda: (
                sum((keys_in(project.store) + keys_in(project.flaky_store)).values())
                == len(burst.sent)
            ),
            timeout=60,
        )
        found = keys_in(project.store) + keys_in(project.flaky_store)
        assert set(found) == {body["idempotency_key"] for body in burst.sent}
        assert max(found.values()) == 1
    finally:
        second.process.kill()
        second.process.wait(10)


@pytest.mark.slow
def test_sigterm_finishes_in_flight_requests(project: Project, tmp_path: Path) -> None:
    from issue_core.server.outbox import StateStore

    set_down(project.fault_file, "slow")  # each backend write takes 0.5 s: requests pile up
    server = start_server(
        project,
        tmp_path / "server.log",
        "--backend",
        "flaky",
        "--writer",
        "process",
        access_log=True,
    )

    def in_flight() -> bool:
        if not project.state_db.exists():
            return False
        store = StateStore(project.state_db)
        try:
            return store.counts().get("claimed", 0) > 0
        finally:
            store.close()

    async def burst_then_term() -> list[int | str]:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            requests = [
                asyncio.ensure_future(
                    http.post("/issues/", json={"title": f"t{n}", "idempotency_key": f"g{n}"})
                )
                for n in range(20)
            ]
            await asyncio.to_thread(wait_for, in_flight)
            server.process.send_signal(signal.SIGTERM)
            results = await asyncio.gather(*requests, return_exceptions=True)
        return [
            r.status_code if isinstance(r, httpx.Response) else type(r).__name__ for r in results
        ]

    outcomes = asyncio.run(burst_then_term())
    server.process.wait(30)
    # Requests the server had taken in were answered, not cut off; late ones were refused.
    assert outcomes.count(201) >= 1, outcomes
    assert all(o in (201, "ConnectError") for o in outcomes), outcomes
    assert sorted(keys_in(project.flaky_store).values()) == [1] * outcomes.count(201)
    # Access lines are written in batches; the ones still buffered are written at shutdown.
    # (Under `make test-cov`, coverage adds plain-text warnings of its own to the log.)
    text = server.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "issue_core.server.access"]
    answered = [line for line in access if line["path"] == "/issues/"]
    assert sorted(line["status"] for line in answered) == [201] * outcomes.count(201)
    assert access and all(API_KEY not in json.dumps(line) for line in access)
    store = StateStore(project.state_db)
    try:
        assert store.counts().get("claimed", 0) == 0
    finally:
        store.close()


# --------------------------------------------------------------------------- start-up errors


def test_serve_refuses_to_start_without_a_key(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ISSUE_CORE_API_KEY")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "ISSUE_CORE_API_KEY" in result.output and "--no-auth" in result.output


def test_no_auth_only_on_loopback(project: Project) -> None:
    result = CliRunner().invoke(cli, ["serve", "--no-auth", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output


def test_short_keys_are_refused_without_echoing_them(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUE_CORE_API_KEY", "short-secret")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "short-secret" not in result.output and "16 characters" in result.output


def test_serve_without_the_api_extra_says_what_to_install(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # makes `import fastapi` fail
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 7
    assert "pip install 'issue-core[api]'" in result.output
    assert "Traceback" not in result.output


def test_port_in_use_is_a_clear_error(project: Project) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--no-access-log"])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_one_server_per_state_dir(project: Project) -> None:
    from issue_core.server.outbox import ServerLock

    lock = ServerLock(project.state_dir)
    assert lock.acquire()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    finally:
        lock.release()
    assert result.exit_code == 4
    assert "already using" in result.output


def test_the_web_stack_stays_off_the_cli_start_up_path() -> None:
    code = (
        "import sys\n"
        "from issue_core.cli.main import cli\n"
        "import issue_core.cli.server\n"
        "from click.testing import CliRunner\n"
        "CliRunner().invoke(cli, ['serve', '--help'])\n"
        "CliRunner().invoke(cli, ['outbox', '--help'])\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'pydantic', 'starlette')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
