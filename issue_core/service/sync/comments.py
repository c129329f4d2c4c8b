"""Comments across a pair: append-only, matched by id, never duplicated.

A comment sync copies ends with a marker line, kept in storage on every backend and never
shown (``Comment.shown_body``: JSON and terminal output leave it out)::

    The text as written on the other side.

    <!-- issue-core:sync-comment 3f2a...c9 by alice -->

The marker's id is recorded (``sync_comments``, with an intent) *before* the copy is sent, so a
crash between the write and its record leaves a copy the next run recognises by its marker
instead of writing a second one. ``by NAME`` keeps the original author as text (the copy is
written by whoever sync acts as). Edits of a synced comment travel like a field (three-way,
against each side's base text); a comment deleted on one side is reported, not mirrored.
"""

from __future__ import annotations

import re

from issue_core.core.models import SYNC_COMMENT_MARK as _MARK

MARK_PREFIX = "<!-- issue-core:sync-comment "
_PLAIN_NAME = re.compile(r"^[^\s<>]{1,200}$")


def marked(text: str, mark: str, author: str | None) -> str:
    """``text`` as the copy is written: with the marker (and author) appended."""
    by = f" by {author}" if author and _PLAIN_NAME.match(author) else ""
    return f"{text}\n\n{MARK_PREFIX}{mark}{by} -->"


def split_mark(body: str) -> tuple[str, str | None]:
    """``(text, mark)`` of a comment as stored: the text without a trailing marker."""
    found = _MARK.search(body or "")
    if found is None:
        return body or "", None
    return body[: found.start()], found.group(1)


def author_of(body: str) -> str | None:
    """The original author a copy's marker names, if any."""
    found = _MARK.search(body or "")
    return found.group(2) if found else None
