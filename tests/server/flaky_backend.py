"""A local store whose availability a test switches from outside, across threads.

Registered for tests as backend type ``flaky`` (``BUILTIN_BACKENDS`` is patched). Config keys:
``path`` (the SQLite store) and ``fault_file``: while that file exists, every call raises the
error it names (``unavailable`` by default, or ``rate_limited``), or with ``slow``
every call takes half a second. With ``hold-bulk`` a bulk create commits, writes how many
issues it stored to ``<fault_file>.held`` and then waits while the file still says so: a
crash test kills the server at that moment (written, not yet answered or recorded). The server
opens backends in its own worker thread, so a file is the simplest switch every thread sees.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from issue_core.backends.local import LocalBackend
from issue_core.core.errors import BackendUnavailable, RateLimited
from issue_core.core.interfaces import BackendInfo
from issue_core.core.models import Issue


class FlakyBackend(LocalBackend):
    type_name = "flaky"

    def connect(self, config: Mapping[str, Any]) -> None:
        self.fault_file = Path(str(config["fault_file"]))
        self._check()
        super().connect(config)

    def _check(self) -> None:
        if not self.fault_file.exists():
            return
        kind = self.fault_file.read_text().strip()
        if kind == "hold-bulk":
            return
        if kind == "slow":
            time.sleep(0.5)
            return
        if kind == "rate_limited":
            raise RateLimited("rate limited by the fake backend", retry_after=0.2)
        raise BackendUnavailable("the fake backend is down")

    def create_issue(self, issue: Issue, *, create_labels: bool = False) -> Issue:
        self._check()
        return super().create_issue(issue, create_labels=create_labels)

    def bulk_create(self, issues: Any, *, create_labels: bool = False) -> list[Issue]:
        self._check()
        stored = super().bulk_create(issues, create_labels=create_labels)
        if self._mode() == "hold-bulk":
            held = self.fault_file.with_name(self.fault_file.name + ".held")
            held.write_text(str(len(stored)))
            deadline = time.monotonic() + 120
            while self._mode() == "hold-bulk" and time.monotonic() < deadline:
                time.sleep(0.01)
        return stored

    def _mode(self) -> str:
        try:
            return self.fault_file.read_text().strip()
        except FileNotFoundError:
            return ""

    def test_connection(self) -> BackendInfo:
        self._check()
        return super().test_connection()


def set_down(fault_file: Path, kind: str | None = "unavailable") -> None:
    if kind is None:
        fault_file.unlink(missing_ok=True)
    else:
        fault_file.write_text(kind)
