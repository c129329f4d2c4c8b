"""The global options (``--backend``, ``--as``, ``--debug``, ``--color/--no-color``), defined once.

The root group takes them before the command (``issue --backend work list``); every command
and group also accepts them after its name (``issue list --backend work``), as gh accepts
``-R/--repo`` on each command. Both places are made from :data:`GLOBAL_OPTIONS`, so a global
option is declared in one place only: :func:`root_options` decorates the root group, and
:func:`inherit_global_options` (called by ``cli/groups.py`` when a command is looked up) gives
a command hidden copies whose value is written where the root's would be (the root context's
``obj``), so the rest of the CLI reads one place whichever position was used.

A command keeps its own option of the same name (``serve --backend``, ``label create
--color HEX``): there the global one is not added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

F = TypeVar("F", bound=Callable[..., Any])

# (declarations, attributes): exactly what the root group's options are.
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("--backend", "backend_name"),
        {
            "metavar": "NAME",
            "envvar": "ISSUE_CORE_BACKEND",
            "help": "Configured backend to use for this call [env: ISSUE_CORE_BACKEND].",
        },
    ),
    (
        ("--as", "agent"),
        {
            "metavar": "NAME",
            "envvar": "ISSUE_CORE_AGENT",
            "help": "Act as the agent NAME: its claims, its events, its name on forge comments "
            "[env: ISSUE_CORE_AGENT; config: agent; default: the backend's user].",
        },
    ),
    (
        ("--debug",),
        {
            "is_flag": True,
            "envvar": "ISSUE_CORE_DEBUG",
            "help": "Show tracebacks of internal errors; log requests and timings to stderr "
            "(secrets redacted) [env: ISSUE_CORE_DEBUG].",
        },
    ),
    (
        ("--color/--no-color", "color"),
        {
            "default": None,
            "help": "Colour tables [default: when stdout is a terminal and NO_COLOR is unset].",
        },
    ),
)

INHERITED = "issue_core_inherits_globals"  # marks a command that has the copies already


def root_options(command: F) -> F:
    """Decorate the root group with the global options (their values reach its callback)."""
    for declarations, attributes in reversed(GLOBAL_OPTIONS):
        command = click.option(*declarations, **attributes)(command)
    return command


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after a command: record it as if given before the command."""
    if ctx.resilient_parsing or ctx.get_parameter_source(str(param.name)) not in (
        ParameterSource.COMMANDLINE,
    ):
        return value
    root = ctx.find_root()
    if not isinstance(root.obj, dict):
        root.obj = {}
    root.obj[str(param.name)] = value
    if param.name == "debug" and value:
        enable_debug_logging()
    return value


def _own_options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def inherit_global_options(command: click.Command) -> click.Command:
    """Give ``command`` hidden copies of the global options it does not define itself."""
    if getattr(command, INHERITED, False):
        return command
    taken = _own_options(command)
    for declarations, attributes in GLOBAL_OPTIONS:
        option = click.Option(
            list(declarations),
            **{**attributes, "envvar": None},  # the environment is the root's to read
            hidden=True,  # one description, in `issue --help`, not one per command
            expose_value=False,  # the callbacks' signatures stay their own
            callback=_store,
        )
        if not (set(option.opts) | set(option.secondary_opts)) & taken:
            command.params.append(option)
    setattr(command, INHERITED, True)
    return command


def enable_debug_logging() -> None:
    """Send issue-core's own loggers (HTTP requests, store, server) to stderr, once.

    Tokens never reach these records: the HTTP layer redacts before it logs.
    """
    import logging

    logger = logging.getLogger("issue_core")
    if any(getattr(h, "issue_core_debug", False) for h in logger.handlers):
        return  # `issue --debug list --debug`: one handler, not two copies of every line
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("issue-core: debug: %(name)s: %(message)s"))
    handler.issue_core_debug = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
