"""`issue comment`: add a comment, or edit or delete one (by id, or your last one as in gh).

One command with gh's shape rather than a ``comment`` group: ``issue comment 12 "text"`` keeps
working as it always has, and gh's own ``--edit-last``/``--delete-last`` sit beside ``--edit ID``
and ``--delete ID`` for the comments gh cannot name. The id is what ``issue show N --comments``
prints (``comment 17``) and what its JSON calls ``id``.
"""

from __future__ import annotations

import click

from issue_core.cli.confirm import confirm_deletion, require_yes_off_a_terminal, yes_option
from issue_core.cli.issues import COMMENT_FIELDS
from issue_core.cli.output import Outcome, output_options
from issue_core.cli.params import COMMENT_ID, ISSUE_NUMBER, read_text_source
from issue_core.cli.session import get_session
from issue_core.core.models import validate_comment
from issue_core.service.issues import find_comment, last_comment_of_mine

MODES = ("--edit", "--edit-last", "--delete", "--delete-last")


@click.command("comment")
@click.argument("number", type=ISSUE_NUMBER)
@click.argument("body", required=False)
@click.option("-b", "--body", "body_text", metavar="TEXT", help="The text (instead of BODY).")
@click.option("-F", "--body-file", metavar="FILE", help="Read the text from FILE ('-': stdin).")
@click.option(
    "--edit",
    "edit_id",
    type=COMMENT_ID,
    metavar="ID",
    help="Replace the text of comment ID instead of adding a comment.",
)
@click.option("--edit-last", is_flag=True, help="Replace the text of your last comment here.")
@click.option("--delete", "delete_id", type=COMMENT_ID, metavar="ID", help="Delete comment ID.")
@click.option("--delete-last", is_flag=True, help="Delete your last comment here.")
@yes_option
@output_options(COMMENT_FIELDS)
def comment_cmd(
    number: int,
    body: str | None,
    body_text: str | None,
    body_file: str | None,
    edit_id: str | None,
    edit_last: bool,
    delete_id: str | None,
    delete_last: bool,
    yes: bool,
) -> Outcome:
    """Add a comment to an issue, or edit or delete one; BODY '-' reads stdin.

    The comment ids are in `issue show N --comments`. --edit/--delete name a comment of
    issue NUMBER (exit 3 otherwise); --edit-last/--delete-last take your last one there.
    Deleting asks first on a terminal (no: nothing is deleted, exit 0); elsewhere --yes is
    required. The JSON output is the comment (as edited, or as it was before it was deleted).

    \b
    Examples:
      issue comment 12 "Reproduced on main"
      pytest -x 2>&1 | tail -20 | issue comment 12 -
      issue comment 12 --edit-last -b "Reproduced on main and v1.2"
      issue comment 12 --edit 1 --body-file notes.md
      issue comment 12 --delete 2 --yes
    """
    modes = [
        flag
        for flag, given in zip(MODES, (edit_id, edit_last, delete_id, delete_last), strict=True)
        if given
    ]
    if len(modes) > 1:
        raise click.UsageError(f"give one of {', '.join(MODES)}, not {' and '.join(modes)}")
    deleting = delete_id is not None or delete_last
    sources = [s for s in (body, body_text, body_file) if s is not None]
    if len(sources) > 1:
        raise click.UsageError("give the text once: BODY, --body or --body-file")
    if deleting:
        if sources:
            raise click.UsageError(f"{modes[0]} takes no text")
        return _delete(number, delete_id, yes=yes)
    if not sources:
        raise click.UsageError("give the comment's text: BODY, --body TEXT or --body-file FILE")
    text = validate_comment(_text(body, body_text, body_file))
    backend = get_session().backend
    if edit_id is not None or edit_last:
        target = edit_id if edit_id is not None else last_comment_of_mine(backend, number).id
        assert target is not None
        edited = backend.edit_comment(number, target, text)
        return Outcome(edited, message=f"edited comment {edited.id} on #{number}")
    added = backend.add_comment(number, text)
    return Outcome(added, message=f"commented on #{number}")


def _text(body: str | None, body_text: str | None, body_file: str | None) -> str:
    if body_file is not None:
        return read_text_source(body_file, "--body-file")
    if body == "-":
        return read_text_source("-", "BODY")
    return body if body is not None else body_text or ""


def _delete(number: int, comment_id: str | None, *, yes: bool) -> Outcome:
    require_yes_off_a_terminal(yes)  # before anything is read
    backend = get_session().backend
    if comment_id is None:
        doomed = last_comment_of_mine(backend, number)
    else:
        doomed = find_comment(backend, number, comment_id)
    excerpt = " ".join(doomed.body.split())
    excerpt = excerpt if len(excerpt) <= 40 else excerpt[:39] + "…"
    what = f"comment {doomed.id} on #{number} by {doomed.author or '-'} ({excerpt!r})"
    if not confirm_deletion(what, yes=yes):
        message = f"not deleted: comment {doomed.id} on #{number}"
        return Outcome(doomed, message=message, committed=False)
    assert doomed.id is not None
    backend.delete_comment(number, doomed.id)
    return Outcome(doomed, message=f"deleted comment {doomed.id} on #{number}")
