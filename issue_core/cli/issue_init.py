"""`issue init`: create the local store explicitly."""

from __future__ import annotations

import os
from typing import Any

import click

from issue_core.cli.issues import INIT_FIELDS
from issue_core.cli.output import Outcome, note, output_options
from issue_core.cli.session import get_session
from issue_core.core.errors import Unsupported
from issue_core.core.interfaces import Capability


@click.command("init")
@click.option(
    "--path",
    type=click.Path(dir_okay=False),
    help="Create the local store at this file instead of the configured one.",
)
@output_options(INIT_FIELDS)
def init_cmd(path: str | None) -> Outcome:
    """Create the local store (safe to repeat: an existing store is kept).

    Without --path, the store of the backend in use is created (by default
    .issue-core/issues.db at the top of the git repository). Other commands create it on
    their first write anyway; init makes it explicit.

    \b
    Examples:
      issue init
      issue init --path /tmp/scratch.db --format json
    """
    from issue_core.core.config import BackendConfig

    session = get_session()
    session.announce_created_store = False  # init says it itself
    if path is not None:
        chosen = BackendConfig("local", "local", {"path": os.path.abspath(path)}, "explicit")
    else:
        chosen = session.resolve()
    backend = session.connect(chosen)
    if not backend.supports(Capability.STORE_FILE):
        raise Unsupported(f"the {chosen.type} backend {chosen.name!r} has no local store to create")
    store_path = str(backend.init_store())
    created = bool(backend.created_store_path)
    if path is not None:
        _note_if_unused(session.resolve(), store_path)
    verb = "created local store at" if created else "found existing local store at"
    data = {"backend": chosen.name, "path": store_path, "created": created}
    return Outcome(data, message=f"{verb} {store_path}", committed=created)


def _note_if_unused(current: Any, store_path: str) -> None:
    in_use = current.settings.get("path") if current.type == "local" else None
    if in_use is None or os.path.abspath(in_use) != os.path.abspath(store_path):
        note(
            f"note: commands here use backend {current.name!r}; to use this store: "
            f"issue backend add NAME local --path {store_path} --default"
        )
