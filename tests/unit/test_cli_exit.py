"""Ending the process without the interpreter's teardown (issue_core/cli/exit.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from issue_core.cli import exit as fast_exit


@pytest.mark.parametrize(
    ("code", "status"),
    [(None, 0), (0, 0), (3, 3), (141, 141), (256 + 4, 4), (True, 1), (False, 0), ("bye", None)],
)
def test_exit_status_matches_system_exit(code, status):
    assert fast_exit.exit_status(code) == status


class Ended(Exception):
    pass


@pytest.fixture
def recorded(monkeypatch):
    calls: list[object] = []

    def fake_os_exit(status):
        calls.append(("os._exit", status))
        raise Ended

    monkeypatch.setattr(fast_exit.os, "_exit", fake_os_exit)
    monkeypatch.setattr(fast_exit.atexit, "_run_exitfuncs", lambda: calls.append("atexit"))
    return calls


def test_flushes_runs_atexit_then_ends(recorded):
    with pytest.raises(Ended):
        fast_exit.exit_process(3)
    assert recorded == ["atexit", ("os._exit", 3)]


def test_a_message_exits_normally(recorded):
    with pytest.raises(SystemExit) as ended:
        fast_exit.exit_process("fatal: bye")
    assert ended.value.code == "fatal: bye" and recorded == []


def test_a_running_non_daemon_thread_keeps_the_normal_exit(recorded):
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert not fast_exit.can_skip_teardown()
        with pytest.raises(SystemExit) as ended:
            fast_exit.exit_process(0)
        assert ended.value.code == 0 and recorded == []
    finally:
        release.set()
        worker.join()
    assert fast_exit.can_skip_teardown()


def test_a_failing_flush_exits_normally(recorded, monkeypatch):
    class Broken:
        def flush(self):
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", Broken())
    with pytest.raises(SystemExit) as ended:
        fast_exit.exit_process(0)
    assert ended.value.code == 0 and recorded == []


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_real_process_flushes_buffered_output_and_runs_atexit_handlers():
    done = run_python(
        """
        import atexit, sys
        from issue_core.cli.exit import exit_process
        atexit.register(lambda: print("atexit ran", file=sys.stderr))
        sys.stdout.write("x" * 100_000)  # still in the buffer when exit starts
        exit_process(4)
        """
    )
    assert (done.returncode, len(done.stdout)) == (4, 100_000)
    assert done.stderr == "atexit ran\n"


def test_development_mode_keeps_the_normal_exit():
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "dev",
            "-c",
            "from issue_core.cli.exit import can_skip_teardown;print(can_skip_teardown())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "False\n"
