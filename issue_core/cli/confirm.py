"""Confirming a deletion, with the rule ``issue delete`` follows (gh's): ask at a terminal,
otherwise demand ``--yes``.

* ``--yes``: delete without asking;
* stdin and stdout are a terminal: ask ``Delete ...? [y/N]`` on stderr (stdout is for the
  result); anything but yes deletes nothing, says ``not deleted: ...`` and exits 0, as a
  declined ``issue delete`` does;
* otherwise (a script, an agent, a pipe): delete nothing and exit 2 with the same line as
  ``issue delete``. A script never hangs on a prompt nobody sees, and never deletes by accident.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from issue_core.core.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def yes_option(command: F) -> F:
    """The ``--yes`` flag of a deleting command (spelt as ``issue delete`` spells it)."""
    option = click.option(
        "--yes", is_flag=True, help="Delete without asking (required when not on a terminal)."
    )
    return option(command)


def interactive() -> bool:
    """Whether someone can answer a prompt: stdin and stdout are a terminal (gh's rule)."""
    try:
        return bool(sys.stdin and sys.stdin.isatty() and sys.stdout and sys.stdout.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def require_yes_off_a_terminal(yes: bool) -> None:
    """Refuse (exit 2) before anything is read or written when no one can be asked."""
    if not yes and not interactive():
        raise UsageError(
            "--yes required when not running interactively",
            hint="deleting cannot be undone; pass --yes to delete without being asked",
        )


def confirm_deletion(what: str, *, yes: bool) -> bool:
    """Whether ``what`` ("milestone 'v1' (2 issues ...)") may be deleted now: True with
    ``--yes`` or a yes at the prompt. ``what`` is made terminal-safe."""
    require_yes_off_a_terminal(yes)
    if yes:
        return True
    from issue_core.cli.sanitize import for_terminal

    return bool(click.confirm(f"Delete {for_terminal(what)}?", default=False, err=True))
