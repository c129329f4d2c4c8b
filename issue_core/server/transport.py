"""Where the ingestion pipeline runs: a thread of the server, or a child process.

With ``issue serve --writer process`` the pipeline (claims, backend writes, bookkeeping; see
``pipeline.py``) runs in a child process: its Python work then never competes with the event
loop for the GIL, and with a free core it runs beside it; that is the default. ``--writer
thread`` keeps it in the server process. Both speak the same messages; the server's side is
``worker.IngestWorker``.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issue_core.core.config import DEFAULT_DB_RELPATH, BackendConfig
from issue_core.core.errors import StoreError
from issue_core.server import timings
from issue_core.server.checkpointer import Checkpointer
from issue_core.server.delivery import BackendPool
from issue_core.server.messages import (
    Died,
    ErrorInfo,
    InMessage,
    OutMessage,
    Ready,
    StartFailed,
    Stop,
    Stopped,
)
from issue_core.server.outbox import LeaseHolder, StateStore
from issue_core.server.pipeline import Pipeline, pipeline_loop
from issue_core.server.writer import BackendStage

log = logging.getLogger("issue_core.server")

WRITER_LOCK = "writer.lock"


@dataclass
class StageConfig:
    """Everything the pipeline needs, picklable for a child process."""

    state_path: Path
    backends: Mapping[str, BackendConfig]
    identity: str
    builtin_backends: dict[str, str]  # BUILTIN_BACKENDS as the parent sees it
    synchronous: str = "full"  # issue serve --synchronous: server.db's and local stores' commits

    def open(self) -> Pipeline:
        """Open the state db, heal tasks an earlier stop left in flight, connect backends."""
        from issue_core.backends import BUILTIN_BACKENDS

        BUILTIN_BACKENDS.update(self.builtin_backends)
        store = StateStore(self.state_path, synchronous=self.synchronous)
        try:
            holder = LeaseHolder(self.state_path.parent)
        except BaseException:
            store.close()
            raise
        try:
            # The server holds ServerLock: claims left by an earlier run are nobody's; leases
            # of workers that died (a killed server's, a killed `outbox retry`'s) are healed.
            healed = store.heal(server_gone=True, me=holder.token)
        except BaseException:
            holder.release()
            store.close()
            raise
        if healed:
            log.warning("requeued %d task(s) interrupted by an earlier stop", healed)
        pool = BackendPool(dict(self.backends), self.identity, self.synchronous)
        checkpointer = None
        if self.synchronous == "normal":
            checkpointer = Checkpointer([str(self.state_path), *self._local_store_paths()])
            checkpointer.start()
        return Pipeline(store, BackendStage(store, pool, holder), checkpointer)

    def _local_store_paths(self) -> list[str]:
        """The files of the local-store backends (configuration resolves their paths)."""
        return [
            os.path.expanduser(config.settings.get("path") or DEFAULT_DB_RELPATH)
            for config in self.backends.values()
            if config.type == "local"
        ]


class ThreadTransport:
    """The pipeline on a thread of this process."""

    def __init__(self, config: StageConfig, on_message: Callable[[OutMessage], None]):
        self.config = config
        self.on_message = on_message
        self.inbox: queue.SimpleQueue[InMessage] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        pipeline = self.config.open()  # errors surface in the caller
        self._thread = threading.Thread(
            target=self._run, args=(pipeline,), name="issue-core-pipeline", daemon=True
        )
        self._thread.start()

    def _run(self, pipeline: Pipeline) -> None:
        try:
            pipeline_loop(self.inbox, self.on_message, pipeline)
        finally:
            pipeline.close()

    def send(self, message: InMessage) -> None:
        self.inbox.put(message)

    def stop(self, timeout: float) -> None:
        if self._thread is not None:
            self.inbox.put(Stop())
            self._thread.join(timeout)
            self._thread = None


class ProcessTransport:
    """The pipeline in a child process, talking over a pipe.

    The child holds ``writer.lock`` in the state folder while it runs. If the server is killed,
    its child finishes the write in hand and exits (its pipe closes); a restarted server's
    child waits for that lock before writing anything, so it never races a dying one when it
    checks markers of interrupted tasks.
    """

    def __init__(self, config: StageConfig, on_message: Callable[[OutMessage], None]):
        self.config = config
        self.on_message = on_message
        self._process: Any = None
        self._conn: Any = None
        self._receiver: threading.Thread | None = None
        self._send_lock = threading.Lock()
        self.stopping = False

    def start(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_child_main, args=(child, self.config), name="issue-core-writer", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        ready = parent.recv()  # Ready or StartFailed
        if not isinstance(ready, Ready):
            self._process.join(5)
            raise ready.error.as_error()
        self._receiver = threading.Thread(
            target=self._receive, name="issue-core-writer-pipe", daemon=True
        )
        self._receiver.start()

    def _receive(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                if not self.stopping:
                    self.on_message(Died())
                return
            if isinstance(message, Stopped):
                return
            self.on_message(message)

    def send(self, message: InMessage) -> None:
        with self._send_lock:
            self._conn.send(message)

    def stop(self, timeout: float) -> None:
        if self._process is None:
            return
        self.stopping = True
        try:
            self.send(Stop())
        except OSError:
            pass
        if self._receiver is not None:
            self._receiver.join(timeout)
        self._process.join(timeout)
        if self._process.is_alive():  # pragma: no cover - a stuck backend
            self._process.kill()
        self._process = None


def _child_main(conn: Any, config: StageConfig) -> None:
    import fcntl

    from issue_core.server.logs import configure_logging

    configure_logging(os.environ.get("ISSUE_CORE_LOG_LEVEL", "info"), access_log=False)
    folder = config.state_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(folder / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        error = StoreError(f"cannot create the server state folder {folder}: {exc.strerror}")
        conn.send(StartFailed(ErrorInfo.of(error)))
        return
    fcntl.flock(lock_fd, fcntl.LOCK_EX)  # wait for a dying predecessor to finish its write
    try:
        pipeline = config.open()
    except Exception as exc:
        conn.send(StartFailed(ErrorInfo.of(exc)))
        return
    gc.freeze()  # as the server does after start-up (app.py): shorter full collections
    recorder = timings.start("writer")
    conn.send(Ready())
    inbox: queue.SimpleQueue[InMessage] = queue.SimpleQueue()

    def pump() -> None:
        while True:
            try:
                message = conn.recv()
                if recorder is not None:
                    recorder.add(("pump", timings.clock(), len(getattr(message, "tasks", ()))))
                inbox.put(message)
            except (EOFError, OSError):
                inbox.put(Stop())  # the server is gone: finish and exit
                return

    threading.Thread(target=pump, daemon=True).start()
    try:
        pipeline_loop(inbox, _sender(conn), pipeline)
    finally:
        pipeline.close()
        timings.stop()
        try:
            conn.send(Stopped())
        except OSError:
            pass


def _sender(conn: Any) -> Callable[[OutMessage], None]:
    def emit(message: OutMessage) -> None:
        try:
            conn.send(message)
        except OSError:
            pass  # the server is gone; its tasks are healed from the state db at restart

    return emit
