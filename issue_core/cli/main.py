"""The ``issue`` command: a Click group whose subcommands are imported only when invoked.

Start-up time is the product (agents call this hundreds of times per task), so this module
imports nothing heavy: each command lives in its own module, listed in ``LAZY_COMMANDS`` and
imported on first use.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from click.core import ParameterSource

from issue_core._version import __version__
from issue_core.cli.global_options import enable_debug_logging, root_options
from issue_core.cli.groups import Group

# command name -> "module:attribute". Order here is the order in `issue --help`.
LAZY_COMMANDS: dict[str, str] = {
    "init": "issue_core.cli.issue_init:init_cmd",
    "list": "issue_core.cli.issue_list:list_cmd",
    "show": "issue_core.cli.issue_show:show_cmd",
    "view": "issue_core.cli.issue_show:show_cmd",  # gh's name for show
    "create": "issue_core.cli.issue_write:create_cmd",
    "edit": "issue_core.cli.issue_write:edit_cmd",
    "delete": "issue_core.cli.issue_delete:delete_cmd",
    "close": "issue_core.cli.issue_state:close_cmd",
    "reopen": "issue_core.cli.issue_state:reopen_cmd",
    "comment": "issue_core.cli.issue_comment:comment_cmd",
    "ready": "issue_core.cli.issue_ready:ready_cmd",
    "dep": "issue_core.cli.dependencies:dep_group",
    "meta": "issue_core.cli.metadata:meta_group",
    "label": "issue_core.cli.labels:label_group",
    "milestone": "issue_core.cli.milestones:milestone_group",
    "user": "issue_core.cli.users:user_group",
    "whoami": "issue_core.cli.users:whoami_cmd",
    "events": "issue_core.cli.events:events_cmd",
    "watch": "issue_core.cli.watch:watch_cmd",
    "claim": "issue_core.cli.claims:claim_cmd",
    "heartbeat": "issue_core.cli.claims:heartbeat_cmd",
    "release": "issue_core.cli.claims:release_cmd",
    "next": "issue_core.cli.claims:next_cmd",
    "sync": "issue_core.cli.sync:sync_group",
    "backend": "issue_core.cli.backends:backend_group",
    "config": "issue_core.cli.config_detect:config_group",
    "serve": "issue_core.cli.server:serve_cmd",
    "mcp": "issue_core.cli.mcp:mcp_cmd",
    "outbox": "issue_core.cli.server:outbox_group",
}


class LazyGroup(Group):
    """A group that resolves subcommands from ``LAZY_COMMANDS`` on demand."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(n for n in super().list_commands(ctx) if n not in self.lazy)]

    def lookup(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().lookup(ctx, cmd_name)
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


class EscapedPipeError(Exception):
    """Carries a ``BrokenPipeError`` past Click's ``main``, which would end the process with
    status 0 and no word; ``cli/errors.py`` decides what it means."""


class IssueCLI(LazyGroup):
    """The root group: runs every command through the one error path (``cli/errors.py``).

    Overriding ``main`` (rather than wrapping ``main()`` below) means tests that invoke ``cli``
    through Click's test runner see exactly the exit codes and messages users see.
    """

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        escape_unencodable_output()
        try:
            reject_undecodable(argv)
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except SystemExit:
            raise
        except BaseException as error:  # the one place every error ends up
            from issue_core.cli.errors import handle

            code = handle(error, argv)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            if sys.stdout is not None:  # None: started with stdout closed (`>&-`)
                sys.stdout.flush()  # a closed pipe must fail here, inside the error path
            return result
        except BrokenPipeError as error:
            raise EscapedPipeError() from error


def escape_unencodable_output() -> None:
    """Print what stdout's encoding cannot hold as ``\\uXXXX`` instead of failing.

    With ``PYTHONIOENCODING=latin-1`` (or an ASCII locale) a title in another script must still
    print; stderr already does this by default.
    """
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) != "backslashreplace":
        try:
            reconfigure(errors="backslashreplace")
        except (OSError, ValueError):
            pass


def reject_undecodable(argv: list[str]) -> None:
    """Arguments must be UTF-8 text: Python hands undecodable bytes over as lone surrogates,
    which no store or forge can hold, so refuse them before any command runs."""
    for position, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            from issue_core.core.errors import UsageError

            shown = arg.encode("utf-8", "backslashreplace").decode("utf-8")
            raise UsageError(
                f"argument {position} is not valid UTF-8: {shown}",
                hint="issue text, names and options must be UTF-8",
            ) from None


@click.group(
    cls=IssueCLI,
    lazy=LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    __version__,
    "-V",
    "--version",
    prog_name="issue-core",
    # Explicit texts: Click's default ones go through gettext, which imports `locale` and
    # searches for translation files on every start.
    message="%(prog)s %(version)s",
    help="Show the version and exit.",
)
@root_options
@click.pass_context
def cli(
    ctx: click.Context,
    backend_name: str | None,
    agent: str | None,
    debug: bool,
    color: bool | None,
) -> None:
    """issue-core: one issue tracker for coding agents and humans.

    The options below may also follow the command: `issue list --backend work` is `issue
    --backend work list`.

    \b
    Examples:
      issue create "Fix the login bug" --label bug
      issue list --state open --format json
      issue edit 12 --state in_progress --assignee agent-1
    """
    if ctx.get_parameter_source("agent") is ParameterSource.ENVIRONMENT:
        agent = None  # the runtime reads $ISSUE_CORE_AGENT itself, and names it in an error
    ctx.obj = {"backend_name": backend_name, "agent": agent, "debug": debug, "color": color}
    if debug:
        enable_debug_logging()


def main() -> None:
    """The console scripts' entry point."""
    from issue_core.cli.exit import exit_process

    try:
        code: object = cli(prog_name="issue")
    except SystemExit as done:
        code = done.code
    exit_process(code)


if __name__ == "__main__":  # pragma: no cover
    main()
