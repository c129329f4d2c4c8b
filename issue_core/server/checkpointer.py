"""WAL checkpoints off the request path, for a server run with ``--synchronous normal``.

With ``synchronous=NORMAL`` a commit does not fsync; the disk is flushed only when the WAL is
checkpointed (the WAL, then the database file). SQLite runs that checkpoint inside whichever
commit crosses ``wal_autocheckpoint`` pages, so one task cycle in ~20 would still wait on two
fsyncs, and on a shared disk an fsync can stall for hundreds of milliseconds
(docs/performance.md). So the pipeline's connections in that mode do not checkpoint
(``storage.sqlite.use_wal`` sets ``wal_autocheckpoint = 0`` for "normal"), and this thread, with
connections of its own, runs a PASSIVE checkpoint of each database every ``interval`` seconds:
it copies what no reader still needs and never waits for the pipeline's writes, which go on
appending to the WAL meanwhile.

Durability is the setting's, unchanged: a commit survives a killed process at once, and a power
cut once a checkpoint has flushed it. A database that does not exist yet (a local store no task
has reached) is left alone until it does: opening it here would create an empty file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable

from issue_core.storage import sqlite as engine

log = logging.getLogger("issue_core.server")

CHECKPOINT_INTERVAL_S = 0.25


class Checkpointer:
    """A daemon thread checkpointing ``paths`` every ``interval`` seconds until ``stop()``."""

    def __init__(self, paths: Iterable[str], interval: float = CHECKPOINT_INTERVAL_S) -> None:
        self.paths = list(dict.fromkeys(os.path.abspath(path) for path in paths))
        self.interval = interval
        self._conns: dict[str, sqlite3.Connection] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (after the round it is in) and close its connections."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.run_once()

    def run_once(self) -> None:
        """One PASSIVE checkpoint of every database that exists (errors are logged: the next
        round tries again, and the server's closing connections checkpoint at a clean stop)."""
        for path in self.paths:
            try:
                conn = self._conns.get(path)
                if conn is None:
                    if not os.path.exists(path):
                        continue
                    conn = self._conns[path] = engine.connect(path)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                log.warning("WAL checkpoint of %s failed; retrying", path, exc_info=True)
