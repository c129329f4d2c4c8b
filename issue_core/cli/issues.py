"""What the issue commands share: field lists, ``@me`` (via service.issues), description sources.

The commands live one module per command (or per small family) and are imported only when
invoked: building a command's Click options costs start-up time, so `issue show` does not pay
for `edit`'s twenty options.
Each command parses its flags, calls a use case in ``issue_core.service``, and returns domain
objects; printing is the output module's job and failures travel to the one error path.
"""

from __future__ import annotations

import click

from issue_core.cli.params import read_text_source
from issue_core.cli.session import backend
from issue_core.core.models import (
    ISSUE_FIELDS,
    Comment,
    validate_description,
)

LIST_FIELDS = tuple(name for name in ISSUE_FIELDS if name != "comments")
COMMENT_FIELDS = tuple(Comment(body="").to_dict())
INIT_FIELDS = ("backend", "path", "created")


def resolve_me(value: str | None) -> str | None:
    """``@me`` is the acting identity (the backend is opened only if it is used)."""
    from issue_core.service import issues

    return issues.resolve_me(value, backend)


def description_from(text: str | None, source: str | None) -> str | None:
    """The description from ``-b/--body`` (alias ``--description``) or ``-F/--body-file``
    (alias ``--description-file``; '-' is stdin), given one way at most."""
    if text is not None and source is not None:
        raise click.UsageError("give --body (--description) or --body-file, not both")
    if source is not None:
        text = read_text_source(source, "--body-file")
    return None if text is None else validate_description(text)
