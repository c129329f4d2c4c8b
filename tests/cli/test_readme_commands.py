"""The README's command table names every command the CLI has (and no command it lacks)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from issue_core.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def command_paths(group: click.Group, ctx: click.Context, prefix: str = "") -> list[str]:
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, ctx, f"{prefix}{name} "))
        else:
            paths.append(f"{prefix}{name}")
    return paths


def readme_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    return [
        line.replace("\\|", "|") for line in section.splitlines() if line.startswith("| `issue")
    ]


def documented(path: str, rows: list[str]) -> bool:
    head, _, leaf = path.rpartition(" ")
    if not head:
        return any(re.search(rf"`issue {re.escape(leaf)}\b", row) for row in rows)
    pattern = rf"`issue {re.escape(head)} [^`]*\b{re.escape(leaf)}\b"
    return any(re.search(pattern, row) for row in rows)


def test_every_command_is_in_the_readme_table():
    with click.Context(cli) as ctx:
        paths = command_paths(cli, ctx)
    rows = readme_rows()
    missing = [path for path in paths if not documented(path, rows)]
    assert not missing, f"add these commands to README.md's command table: {missing}"
    assert len(paths) > 20


def test_readme_names_no_command_that_does_not_exist():
    with click.Context(cli) as ctx:
        top = set(cli.list_commands(ctx))
    named = {re.match(r"\| `issue ([\w-]+)", row).group(1) for row in readme_rows()}
    assert named <= top, named - top
