"""Text written to GitLab never runs as a quick action, and reads back as it was written.

GitLab runs a line of a description or a note that starts with a slash and a command it knows
(``/close``, ``/assign @x``, ``/label ~y``, ``/spend 1h`` ...) as that command, with the rights
of the token's user, and removes the line from the text; a note made of commands alone is not
stored at all. Issue text is untrusted here (it comes from upstream tasks, from agents, from
another forge through sync), so a description or comment that holds such a line must stay text.

``neutralise`` puts a zero-width space (U+200B) before the slash of every line that starts with
one (after any blanks): GitLab looks for the slash as the line's first character, and U+200B is
no Markdown syntax that any parser could take away (as a backslash escape ``\\/`` would be), so
the line is plain text that renders exactly as written, the space invisible. ``restore`` takes
one such space away again. So that a text which itself holds ``U+200B /`` at the start of a line
reads back unchanged too, a line that starts with such spaces and a slash gets one more: the two
are inverse, and ``restore(neutralise(text)) == text`` for every text.

Only GitLab runs commands written through its API: Gitea has no such commands, and GitHub's
slash commands are a feature of its web editor that inserts text there, never run on a write.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
# A line whose first characters, after blanks and zero-width spaces, are a slash.
_AT_RISK = re.compile(r"^([ \t]*)(\u200b*)/", re.MULTILINE)
# A line neutralised: blanks, at least one zero-width space, the slash.
_NEUTRALISED = re.compile(r"^([ \t]*)\u200b(\u200b*)/", re.MULTILINE)


def neutralise(text: str) -> str:
    """``text`` as written to GitLab: no line of it can run as a quick action."""
    if "/" not in text:
        return text
    return _AT_RISK.sub(lambda m: f"{m.group(1)}{m.group(2)}{ZWSP}/", text)


def restore(text: str) -> str:
    """What ``neutralise`` was given, from what GitLab stores."""
    if ZWSP not in text:
        return text
    return _NEUTRALISED.sub(lambda m: f"{m.group(1)}{m.group(2)}/", text)


def rewritten(stored: str) -> str:
    """A body as GitLab holds it, made safe to write back (``neutralise`` of what it reads as):
    lines neutralised before stay as they are; one that is not (written on GitLab by a user
    whose rights did not run it) is neutralised now, so the token's rights never run it."""
    return neutralise(restore(stored))
