"""The Click group every ``issue`` group uses (the root, ``label``, ``milestone``, ...).

Two things gh users expect from every level of the command tree:

* the global options after the command (``issue label list --backend work``): each command a
  group hands out gets them (``cli/global_options.py``);
* a mistyped command named with its likely meaning: ``issue lsit`` says
  ``No such command 'lsit'. Did you mean "list"?`` (one line, exit 2, with the usage hint that
  every usage error has).
"""

from __future__ import annotations

from typing import Any

import click

from issue_core.cli.global_options import inherit_global_options


def closest_command(name: str, choices: list[str]) -> str | None:
    """The command ``name`` most likely meant, or None when none is close enough."""
    import difflib  # lazily: only a mistyped command pays for it

    lowered = name.lower()
    if lowered in choices:  # `issue List`
        return lowered
    matches = difflib.get_close_matches(lowered, choices, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    # A swap of two letters (`lsit`, `crate`) scores low on short words; a prefix (`cre`) too.
    for choice in choices:
        if sorted(choice) == sorted(lowered) or (len(lowered) >= 2 and choice.startswith(lowered)):
            return choice
    return None


class Group(click.Group):
    """A group whose commands accept the global options and whose typos get a suggestion."""

    def lookup(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Find a command by name (the root overrides this to import commands lazily)."""
        return super().get_command(ctx, cmd_name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.lookup(ctx, cmd_name)
        return inherit_global_options(command) if command is not None else None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            suggestion = closest_command(name, self.list_commands(ctx))
            if suggestion is not None and not ctx.resilient_parsing:
                ctx.fail(f'No such command {name!r}. Did you mean "{suggestion}"?')
        return super().resolve_command(ctx, args)

    def group(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Group)  # subgroups made with @group.group() are Groups too
        return super().group(*args, **kwargs)
