"""A fake forge served on 127.0.0.1 behind its contract recorder: what every fake's fixture shares.

``serve`` starts a fake's ASGI app behind a ``ContractRecorder`` and points the fake's URLs at the
port it got; ``RunningFake`` is the handle a test holds (request counting, stop);
``fail_on_violations`` is the end-of-session check over every recorder a fixture module started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fakes.server import Contract, ContractRecorder, Exchange, LiveServer, ServerDate


@dataclass
class RunningFake:
    """A fake served on 127.0.0.1, with its recorder."""

    fake: Any
    server: LiveServer
    recorder: ContractRecorder
    _mark: tuple[int, int] = field(default=(0, 0))

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def reset_count(self) -> None:
        self._mark = self.recorder.mark()

    def requests(self) -> list[Exchange]:
        """Requests served since the last ``reset_count()``."""
        return self.recorder.since(self._mark)

    def stop(self) -> None:
        self.server.stop()


def serve(
    fake: Any, contract: Contract | None, recorders: list[ContractRecorder]
) -> tuple[LiveServer, ContractRecorder]:
    """Serve ``fake.app`` behind a recorder (kept in ``recorders``); the caller stops it."""
    recorder = ContractRecorder(fake.app, contract)
    # The fake's clock dates its answers (a test may replace ``fake.state.clock``).
    dated = ServerDate(recorder, lambda: fake.state.clock())
    server = LiveServer(dated, date_header=False).start()
    fake.set_base_url(server.base_url)
    recorders.append(recorder)
    return server, recorder


def fail_on_violations(recorders: list[ContractRecorder], forge: str) -> None:
    problems = [v for recorder in recorders for v in recorder.violations]
    if problems:
        listed = "\n  ".join(problems[:30])
        pytest.fail(f"{len(problems)} {forge} contract violation(s) in this session:\n  {listed}")
