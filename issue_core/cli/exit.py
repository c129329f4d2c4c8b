"""Ending the ``issue`` process without the interpreter's teardown.

When a command has finished, its output is written and its store closed, what is left for the
interpreter to do at exit is tear down every module and collect every object: with Click and our
modules loaded that costs ~15 ms, more than half of a bare ``python -c pass`` (see
docs/performance.md). Agents pay it on every call, so the entry point ends the process with
``os._exit`` once the work that exit normally does and that anyone could observe is done:

* ``sys.stdout`` and ``sys.stderr`` are flushed (a failing flush falls back to a normal exit, so
  Python reports it exactly as before);
* the ``atexit`` handlers run (coverage measurement, logging, multiprocessing children, ...).

What is skipped is only the destruction of objects the process no longer needs. The normal exit
is kept when it could matter: while a non-daemon thread is still running (a normal exit waits
for it) and in Python's development mode (``-X dev``), whose teardown reports unclosed
resources.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_status(code: object) -> int | None:
    """The status ``SystemExit(code)`` gives the process, or None when Python must print it."""
    if code is None:
        return 0
    if isinstance(code, int):  # bool included, as sys.exit(True) exits 1
        return code & 0xFF
    return None  # a message: the interpreter prints it to stderr and exits 1


def can_skip_teardown() -> bool:
    if sys.flags.dev_mode:
        return False
    main = threading.main_thread()
    return not any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def exit_process(code: object) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, skipping the teardown when that is safe."""
    status = exit_status(code)
    if status is None or not can_skip_teardown():
        raise SystemExit(code)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None  # the interpreter reports the failed flush, as always
    atexit._run_exitfuncs()
    os._exit(status)
