"""Never twice, also after a crash during delivery: real SIGKILLs while the forge holds a create.

The fake Gitea runs in this process (a thread on 127.0.0.1); `issue serve` and `issue outbox
retry` run as subprocesses. The fake's ``hold`` fault applies a create (Gitea really made the
issue) and holds its answer; the delivering process is killed at that moment, so the state db
never learns the outcome. After a restart the task must be delivered exactly once, found by its
marker, and reported with the issue that exists.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from issue_core.cli.main import cli
from issue_core.server.outbox import StateStore
from issue_core.service.tasks import issue_id_of, marker_for
from tests.fakes.faults import FaultRule
from tests.fakes.fixtures import (  # noqa: F401
    RunningGitea,
    fake_gitea,
    gitea_contract,
    gitea_contract_session,
    gitea_options,
)
from tests.fakes.server import LiveServer
from tests.server.conftest import API_KEY, Project, wait_for
from tests.server.flaky_backend import set_down
from tests.server.test_serve_process import LAUNCHER, REPO, ServerProcess, keys_in, start_server

pytestmark = pytest.mark.slow

CREATE_PATH = r"/repos/[^/]+/[^/]+/issues$"


@pytest.fixture
def forge(
    project: Project,
    fake_gitea: RunningGitea,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: Any,
) -> Any:
    """The fake Gitea configured as backend ``forge`` of the project (one attempt per call:
    the server's outbox does the retrying)."""
    config = project.root.parent / "config" / "config.toml"
    config.write_text(
        config.read_text() + '\n[backends.forge]\ntype = "gitea"\n'
        f'url = "{fake_gitea.base_url}"\nowner = "{fake_gitea.fake.owner}"\n'
        f'repo = "{fake_gitea.fake.repo.name}"\ntoken_env = "GITEA_API_TOKEN"\nmax_retries = 0\n'
    )
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    return Forge(fake_gitea)


class Forge:
    """Take the fake down (connection refused) and bring it back on the same port."""

    def __init__(self, running: RunningGitea) -> None:
        self.running = running

    def down(self) -> None:
        self.running.server.stop()

    def up(self) -> None:
        port = self.running.server.port
        self.running.server = LiveServer(self.running.recorder, port=port).start()

    def hold_next_create(self) -> FaultRule:
        return self.running.fake.faults.hold(method="POST", path=CREATE_PATH, seconds=120)

    def issues_with(self, marker: str) -> list[int]:
        fake = self.running.fake
        with fake.state.lock:
            return sorted(i.number for i in fake.repo.issues.values() if marker in i.body)


def post(server: ServerProcess, **body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.post(f"{server.url}/issues/", json=body, headers=headers, timeout=30)


def status_of(server: ServerProcess, tracking_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.get(f"{server.url}/issues/ingest/{tracking_id}", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it started (its writer child too)."""
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait(10) == -signal.SIGKILL


def stop(server: ServerProcess) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(10)


def retry_process(project: Project, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "outbox", "retry", *args],
        cwd=project.root,
        env=env,
        stdout=handle,
        stderr=handle,
        start_new_session=True,
    )


def row_of(project: Project, tracking_id: str) -> Any:
    store = StateStore(project.state_db)
    try:
        return store.get(tracking_id)
    finally:
        store.close()


def queued_task(project: Project, forge: Forge, tmp_path: Path, key: str) -> str:
    """A task answered 202 while the forge was down, left pending by a stopped server."""
    forge.down()
    server = start_server(project, tmp_path / "first.log", "--backend", "forge", session=True)
    try:
        answer = post(server, title=f"task {key}", idempotency_key=key)
        assert answer.status_code == 202, answer.text
        tracking = str(answer.json()["tracking_id"])
        wait_for(lambda: status_of(server, tracking)["attempts"] >= 1)
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(30)
    finally:
        stop(server)
    assert row_of(project, tracking).status == "pending"
    return tracking


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_a_server_killed_during_an_outbox_delivery_resumes_it_once(
    project: Project, forge: Forge, tmp_path: Path, writer: str
) -> None:
    forge.down()
    first = start_server(
        project, tmp_path / "first.log", "--backend", "forge", "--writer", writer, session=True
    )
    try:
        queued = post(first, title="Rotate the staging certificate", idempotency_key="crash-1")
        assert queued.status_code == 202, queued.text
        tracking = queued.json()["tracking_id"]
        held = forge.hold_next_create()
        forge.up()
        # The outbox worker retries; the forge applies the create and holds its answer.
        wait_for(held.reached.is_set, timeout=60)
        kill(first.process)
    finally:
        stop(first)
        held.released.set()  # the answer goes nowhere: the server is gone
    marker = marker_for(tracking)
    assert len(forge.issues_with(marker)) == 1
    assert row_of(project, tracking).status == "delivering"  # what the crash left

    second = start_server(
        project, tmp_path / "second.log", "--backend", "forge", "--writer", writer, session=True
    )
    try:
        # Resumed at once (not after the 5-minute lease), found by marker, not created again.
        done = wait_for(
            lambda: (s := status_of(second, tracking))["status"] == "delivered" and s, timeout=30
        )
        [number] = forge.issues_with(marker)
        assert done["issue_number"] == number
        assert done["issue_id"] == issue_id_of("forge", number)
        again = post(second, title="Rotate the staging certificate", idempotency_key="crash-1")
        assert again.status_code == 200, again.text
        assert again.json()["issue_id"] == issue_id_of("forge", number)
        assert forge.issues_with(marker) == [number]
    finally:
        stop(second)
    assert len(forge.running.fake.repo.issues) == 1


def test_a_killed_outbox_retry_is_resumed_once_and_a_live_one_is_left_alone(
    project: Project, forge: Forge, tmp_path: Path
) -> None:
    tracking = queued_task(project, forge, tmp_path, "retry-crash-1")
    marker = marker_for(tracking)
    held = forge.hold_next_create()
    forge.up()
    retry = retry_process(project, tmp_path / "retry.log")
    try:
        wait_for(held.reached.is_set, timeout=60)
        # While that retry is alive, another worker must not take its task.
        other = CliRunner().invoke(cli, ["outbox", "retry", tracking])
        assert other.exit_code == 4, other.output
        assert "being delivered by another worker" in other.output
        everything = CliRunner().invoke(cli, ["outbox", "retry"])
        assert everything.exit_code == 4, everything.output
        assert "delivered 0 of 1 task(s); 0 still pending, 0 failed, 1 being" in everything.output
        kill(retry)
    finally:
        if retry.poll() is None:
            os.killpg(retry.pid, signal.SIGKILL)
            retry.wait(10)
        held.released.set()
    assert len(forge.issues_with(marker)) == 1
    assert row_of(project, tracking).status == "delivering"

    # Run again: the dead retry's lease is healed at once and the marker is looked up first.
    rerun = CliRunner().invoke(cli, ["outbox", "retry", "--format", "json"])
    assert rerun.exit_code == 0, rerun.output
    [number] = forge.issues_with(marker)
    [row] = json.loads(rerun.output)
    assert row["tracking_id"] == tracking
    assert row["status"] == "delivered" and row["issue_number"] == number
    assert row["issue_id"] == issue_id_of("forge", number)
    assert len(forge.running.fake.repo.issues) == 1


def test_a_running_server_leaves_a_live_retry_alone_and_resumes_it_once_killed(
    project: Project, forge: Forge, tmp_path: Path
) -> None:
    tracking = queued_task(project, forge, tmp_path, "retry-crash-2")
    held = forge.hold_next_create()
    forge.up()
    retry = retry_process(project, tmp_path / "retry.log", tracking)
    server: ServerProcess | None = None
    try:
        wait_for(held.reached.is_set, timeout=60)
        leased = row_of(project, tracking)
        assert leased.status == "delivering" and leased.lease_owner
        # A server starting (it heals before it listens) must not take a live worker's task.
        server = start_server(project, tmp_path / "server.log", "--backend", "forge", session=True)
        assert status_of(server, tracking)["phase"] == "delivering"
        assert row_of(project, tracking).lease_owner == leased.lease_owner
        kill(retry)
        held.released.set()
        # The running server notices the dead worker in its outbox loop: no 5-minute wait.
        done = wait_for(
            lambda: (s := status_of(server, tracking))["status"] == "delivered" and s, timeout=30
        )
        [number] = forge.issues_with(marker_for(tracking))
        assert done["issue_id"] == issue_id_of("forge", number)
    finally:
        if retry.poll() is None:
            os.killpg(retry.pid, signal.SIGKILL)
            retry.wait(10)
        held.released.set()
        if server is not None:
            stop(server)
    assert len(forge.running.fake.repo.issues) == 1


def test_a_server_killed_during_a_first_attempt_resumes_it_once(
    project: Project, forge: Forge, tmp_path: Path
) -> None:
    """The pipeline path: a claimed task whose create the forge applied when the server died."""
    held = forge.hold_next_create()
    first = start_server(project, tmp_path / "first.log", "--backend", "forge", session=True)
    try:

        async def send() -> None:
            headers = {"Authorization": f"Bearer {API_KEY}"}
            async with httpx.AsyncClient(base_url=first.url, headers=headers, timeout=60) as http:
                request = asyncio.ensure_future(
                    http.post("/issues/", json={"title": "first try", "idempotency_key": "p-1"})
                )
                await asyncio.to_thread(wait_for, held.reached.is_set, 60)
                kill(first.process)
                with pytest.raises(httpx.HTTPError):
                    await request  # never answered: the sender retries

        asyncio.run(send())
    finally:
        stop(first)
        held.released.set()
    second = start_server(project, tmp_path / "second.log", "--backend", "forge", session=True)
    try:
        again = post(second, title="first try", idempotency_key="p-1")
        assert again.status_code in (200, 202), again.text
        tracking = again.json()["tracking_id"]
        done = wait_for(
            lambda: (s := status_of(second, tracking))["status"] == "delivered" and s, timeout=30
        )
        [number] = forge.issues_with(marker_for(tracking))
        assert done["issue_id"] == issue_id_of("forge", number)
        assert post(second, title="first try", idempotency_key="p-1").status_code == 200
    finally:
        stop(second)
    assert len(forge.running.fake.repo.issues) == 1


def test_a_server_killed_during_a_bulk_create_on_the_local_store_resumes_it_once(
    project: Project, tmp_path: Path
) -> None:
    """The pipeline's bulk path: one local-store transaction stored a batch of claimed tasks,
    and the server died before answering or recording it."""
    set_down(project.fault_file, "hold-bulk")
    held = project.fault_file.with_name(project.fault_file.name + ".held")
    first = start_server(project, tmp_path / "first.log", "--backend", "flaky", session=True)
    sent: list[str] = []
    acked: dict[str, int] = {}

    async def bursts() -> None:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        async with httpx.AsyncClient(base_url=first.url, headers=headers, timeout=60) as http:

            async def one(key: str) -> None:
                try:
                    response = await http.post(
                        "/issues/", json={"title": key, "idempotency_key": key}
                    )
                except httpx.HTTPError:
                    return
                acked[key] = response.status_code

            # Concurrent requests of one event-loop turn are claimed and created as one batch;
            # burst until a batch went through bulk_create (singles are created one by one).
            for burst in range(50):
                keys = [f"bulk-{burst}-{n}" for n in range(8)]
                sent.extend(keys)
                tasks = [asyncio.ensure_future(one(key)) for key in keys]
                while not held.exists() and not all(task.done() for task in tasks):
                    await asyncio.sleep(0.01)
                if held.exists():
                    kill(first.process)
                    await asyncio.gather(*tasks)
                    return
            raise AssertionError("no batch reached bulk_create")

    try:
        asyncio.run(bursts())
    finally:
        stop(first)
    assert int(held.read_text()) >= 2
    set_down(project.fault_file, None)
    second = start_server(project, tmp_path / "second.log", "--backend", "flaky", session=True)
    try:
        # Everything stored is recorded (found by marker), nothing twice.
        def settled() -> bool:
            store = StateStore(project.state_db)
            try:
                counts = store.counts()
            finally:
                store.close()
            return not counts.get("claimed") and not counts.get("pending")

        wait_for(settled, timeout=60)
        found = keys_in(project.flaky_store)
        assert max(found.values()) == 1
        assert all(found[key] == 1 for key, status in acked.items() if status in (200, 201))
        # The upstream re-sends what it never heard back about: nothing is created twice.
        for key in sent:
            response = post(second, title=key, idempotency_key=key)
            assert response.status_code in (200, 201), response.text
            if key in found:
                assert response.status_code == 200, key
        found = keys_in(project.flaky_store)
        assert set(found) == set(sent) and max(found.values()) == 1
    finally:
        stop(second)
