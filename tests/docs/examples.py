"""Find the examples in the documentation and in ``--help``, and say how to run each.

A fenced block in a Markdown file is an example when its language is ``bash``, ``sh``,
``console``, ``python`` or ``toml``. The line before it may say how it is run:

* ``<!-- example: not-run REASON -->`` for blocks that cannot run inside the suite (``make test``
  itself, installing from PyPI, a plug-in's own packaging); the reason is required;
* ``<!-- example: user-config -->`` for a TOML block that is the user's configuration file.

Everything else is run on a new store (see ``test_examples.py``). Placeholders that only a
reader can fill in are replaced by stand-ins from ``STAND_INS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (
    "README.md",
    "AGENT_INTEGRATION.md",
    "SCOPE.md",
    "INTENT.md",
    *sorted(
        str(p.relative_to(REPO_ROOT))
        for p in (REPO_ROOT / "docs").rglob("*.md")
        if p.name != "cli-reference.md"  # generated from --help: its examples are run from there
    ),
)
RUNNABLE = {"bash", "sh", "console", "python", "toml"}
_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"<!--\s*example:\s*([\w-]+)\s*(.*?)\s*-->")


@dataclass
class Block:
    document: str
    line: int
    language: str
    text: str
    directive: str = ""
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"


def blocks() -> list[Block]:
    found: list[Block] = []
    for document in DOCUMENTS:
        lines = (REPO_ROOT / document).read_text(encoding="utf-8").splitlines()
        n = 0
        while n < len(lines):
            match = _FENCE.match(lines[n])
            if not match:
                n += 1
                continue
            start, language = n, match.group(1)
            n += 1
            body: list[str] = []
            while n < len(lines) and not lines[n].startswith("```"):
                body.append(lines[n])
                n += 1
            n += 1
            if language not in RUNNABLE:
                continue
            previous = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
            directive = _DIRECTIVE.search(previous)
            found.append(
                Block(
                    document,
                    start + 1,
                    language,
                    "\n".join(body) + "\n",
                    directive.group(1) if directive else "",
                    directive.group(2) if directive else "",
                )
            )
    return found


def help_examples() -> list[tuple[str, list[str]]]:
    """(command, its example lines) for every command whose ``--help`` has examples."""
    from issue_core.cli import reference

    out = []
    for heading, text in reference.sections():
        lines = text.splitlines()
        if "Examples:" not in [line.strip() for line in lines]:
            continue
        start = [line.strip() for line in lines].index("Examples:") + 1
        examples: list[str] = []
        for line in lines[start:]:
            if not line.startswith("  ") or not line.strip():
                break
            text = re.sub(r"\s+#.*$", "", line.strip())
            if examples and examples[-1].endswith("\\"):
                examples[-1] = examples[-1][:-1] + text  # a continued line
            else:
                examples.append(text)
        out.append((heading, examples))
    return out
