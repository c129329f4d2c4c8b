"""Run the real ``issue`` command on a pseudo-terminal, as a person meets it.

One helper for every test that needs a terminal (colour and width decisions, confirmation
prompts): which of stdin/stdout/stderr sit on the terminal, what is typed ahead, and what is
typed once a prompt appears. A guard against a hang (not a performance check) bounds each read.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ISSUE = str(Path(sys.executable).with_name("issue"))
GUARD_SECONDS = 60


@dataclass
class TerminalRun:
    code: int
    screen: str  # what the terminal showed ("\r\n" folded to "\n")
    err: str  # stderr, when it was a pipe rather than the terminal


def run_on_terminal(
    args: list[str],
    *,
    stdin: bool = False,
    stderr: bool = False,
    typed: str = "",
    answer: tuple[bytes, str] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> TerminalRun:
    """``issue ARGS`` with stdout (and optionally stdin, stderr) on a pty. ``typed`` is written
    ahead (the terminal holds it until the command reads); ``answer=(PROMPT, TEXT)`` types
    ``TEXT`` and Enter once ``PROMPT`` has appeared."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [ISSUE, *args],
            stdin=follower if stdin else subprocess.DEVNULL,
            stdout=follower,
            stderr=follower if stderr else subprocess.PIPE,
            cwd=cwd,
            env=env,
            close_fds=True,
        )
        os.close(follower)
        if typed:
            os.write(leader, typed.encode())
        seen = b""
        while True:
            ready, _, _ = select.select([leader], [], [], GUARD_SECONDS)
            assert ready, f"no output for {GUARD_SECONDS}s; so far: {seen!r}"
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed its side
                break
            if not chunk:
                break
            seen += chunk
            if answer is not None and answer[0] in seen:
                os.write(leader, answer[1].encode() + b"\n")
                answer = None
        _, err = process.communicate(timeout=GUARD_SECONDS)
    finally:
        os.close(leader)
    screen = seen.decode("utf-8", "replace").replace("\r\n", "\n")
    return TerminalRun(process.returncode, screen, err.decode() if err else "")
