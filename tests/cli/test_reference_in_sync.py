"""docs/cli-reference.md must hold every command's current `--help` text."""

from __future__ import annotations

from pathlib import Path

from issue_core.cli import reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "cli-reference.md"
REGENERATE = "regenerate it: .venv/bin/python -m issue_core.cli.reference > docs/cli-reference.md"


def test_every_command_is_documented_with_its_exact_help():
    assert REFERENCE.exists(), f"{REFERENCE} is missing; {REGENERATE}"
    document = REFERENCE.read_text(encoding="utf-8")
    stale = [
        heading
        for heading, text in reference.sections()
        if f"## `{heading}`\n\n```text\n{text.rstrip()}\n```\n" not in document
    ]
    assert not stale, f"docs/cli-reference.md is out of date for {', '.join(stale)}; {REGENERATE}"


def test_reference_covers_every_subcommand():
    headings = [heading for heading, _ in reference.sections()]
    for expected in (
        "issue list",
        "issue label edit",
        "issue milestone close",
        "issue user list",
        "issue backend set-default",
        "issue backend add NAME local",
    ):
        assert expected in headings
