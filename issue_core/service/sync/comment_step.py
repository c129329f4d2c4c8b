"""One linked issue's comments in a run: copy new ones, carry edits, report deletions.

Runs after the issue itself is linked on both sides. Each side's comments are read whole
(``list_comments``); a comment is known by its id on each side (``sync_comments``), a copy also
by its marker (``comments.split_mark``). In order:

- a comment link still pending (its copy sent, the copy's id never recorded) is completed when
  the target holds a comment with its marker, else the copy is sent again under that marker;
- a linked comment whose text changed on one side since its base is edited on the other (where
  the backend can edit comments); changed differently on both, it is the conflict
  ``comment.MARK``; gone from one side, it is reported and never deleted on the other;
- a comment no link knows is copied to the other side, with a fresh marker recorded first.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from issue_core.core.interfaces import Capability
from issue_core.core.models import Comment
from issue_core.service.sync.comments import author_of, marked, split_mark
from issue_core.service.sync.state import CommentLink

if TYPE_CHECKING:
    from issue_core.service.sync.engine import Item, Run

OTHER = {"a": "b", "b": "a"}


def conflicts_of(item: Item) -> dict[str, tuple[Any, Any]]:
    return dict(item.comment_conflicts)


def sync(run: Run, item: Item) -> None:
    sides = run.sides
    if not all(side.backend.supports(Capability.COMMENTS) for side in sides.values()):
        lacking = [s.name for s in sides.values() if not s.backend.supports(Capability.COMMENTS)]
        run.report.note(f"comments are not synced: {', '.join(lacking)} has no comments")
        return
    link = item.link
    numbers = {key: link.number_on(key) for key in ("a", "b")}
    comments: dict[str, list[Comment]] = {}
    for key, side in sides.items():
        number = numbers[key]
        comments[key] = side.backend.list_comments(number) if number is not None else []
    by_id = {key: {str(c.id): c for c in comments[key]} for key in comments}
    marks = {key: {} for key in comments}  # type: dict[str, dict[str, Comment]]
    for key in comments:
        for comment in comments[key]:
            mark = split_mark(comment.body)[1] or comment.marker
            if mark is not None:
                marks[key][mark] = comment
    known = run.state.comment_links(run.pair_id, link.link_id)
    linked = {key: {cl.cid_on(key) for cl in known if cl.cid_on(key)} for key in ("a", "b")}
    known_marks = {cl.mark for cl in known}
    choices = run.options.choices.get(link.link_id, {})
    for cl in known:
        if cl.deleted:
            continue
        if cl.a_cid is None or cl.b_cid is None:
            _complete(run, item, cl, by_id, marks)
            continue
        _carry_edits(run, item, cl, by_id, choices.get(f"comment.{cl.mark}"))
    for key in ("a", "b"):
        target = OTHER[key]
        if target not in run.options.write:
            continue
        for comment in comments[key]:
            if str(comment.id) in linked[key]:
                continue
            text, mark = split_mark(comment.body)
            mark = mark or comment.marker
            if mark is not None and mark in known_marks:
                continue  # a copy of ours, completed above
            cl = CommentLink(uuid.uuid4().hex, link.link_id)
            cl.place(key, str(comment.id), text)
            _copy(run, item, cl, key, text, comment.author)


def _complete(
    run: Run,
    item: Item,
    cl: CommentLink,
    by_id: dict[str, dict[str, Comment]],
    marks: dict[str, dict[str, Comment]],
) -> None:
    origin = "a" if cl.a_cid is not None else "b"
    target = OTHER[origin]
    found = marks[target].get(cl.mark)
    if found is not None:
        cl.place(target, str(found.id), split_mark(found.body)[0])
        run.report.act(
            "recover",
            target,
            item.link.number_on(target),
            detail=f"comment {found.id}: a copy interrupted earlier, found by marker",
        )
        if not run.options.dry_run:
            with run.state.writing():
                run.state.save_comment(run.pair_id, cl)
                run.state.forget_intent(cl.mark)
        return
    source = by_id[origin].get(str(cl.cid_on(origin)))
    if source is None or target not in run.options.write:
        return
    _copy(run, item, cl, origin, split_mark(source.body)[0], source.author)


def _copy(
    run: Run, item: Item, cl: CommentLink, origin: str, text: str, author: str | None
) -> None:
    target = OTHER[origin]
    link = item.link
    number = link.number_on(target)

    def tell() -> None:
        run.report.act(
            "comment",
            target,
            number,
            source=(origin, link.number_on(origin)),
            detail=f"comment {cl.cid_on(origin)}",
        )

    if run.options.dry_run or number is None:
        tell()
        return
    cl.place(origin, str(cl.cid_on(origin)), text)
    with run.state.writing():
        run.state.save_comment(run.pair_id, cl)
        run.state.record_intent(
            cl.mark, run.pair_id, link.link_id, target, "comment", {"from": cl.cid_on(origin)}
        )
    backend = run.sides[target].backend
    written = run.applier.add_comment(backend, number, marked(text, cl.mark, author), cl.mark)
    cl.place(target, str(written.id), split_mark(written.body)[0])
    with run.state.writing():
        run.state.save_comment(run.pair_id, cl)
        run.state.forget_intent(cl.mark)
    tell()


def _carry_edits(
    run: Run,
    item: Item,
    cl: CommentLink,
    by_id: dict[str, dict[str, Comment]],
    choice: Any,
) -> None:
    link = item.link
    found = {key: by_id[key].get(str(cl.cid_on(key))) for key in ("a", "b")}
    for key in ("a", "b"):
        if found[key] is None:
            run.report.act(
                "comment_deleted",
                key,
                link.number_on(key),
                detail=f"comment {cl.cid_on(key)} deleted there; the copy on "
                f"{run.sides[OTHER[key]].name} is kept",
            )
            if not run.options.dry_run:
                cl.deleted = key
                with run.state.writing():
                    run.state.save_comment(run.pair_id, cl)
            return
    texts = {key: split_mark(found[key].body)[0] for key in ("a", "b")}  # type: ignore[union-attr]
    if texts["a"] == texts["b"]:
        if cl.base_a != texts["a"] or cl.base_b != texts["b"]:
            cl.base_a, cl.base_b = texts["a"], texts["b"]
            if not run.options.dry_run:
                with run.state.writing():
                    run.state.save_comment(run.pair_id, cl)
        return
    changed = {key: texts[key] != cl.base_on(key) for key in ("a", "b")}
    if choice in ("a", "b"):
        source = choice
    elif changed["a"] and changed["b"]:
        force = run.options.force
        if force is None or OTHER[force] not in run.options.write:
            item.comment_conflicts[f"comment.{cl.mark}"] = (texts["a"], texts["b"])
            return
        source = force
    elif changed["a"] or changed["b"]:
        source = "a" if changed["a"] else "b"
    else:
        return
    target = OTHER[source]
    if target not in run.options.write:
        return
    backend = run.sides[target].backend
    if not backend.supports(Capability.EDIT_COMMENTS):
        run.report.note(f"{run.sides[target].name} cannot edit comments: edits are not carried")
        return
    number = link.number_on(target)
    assert number is not None

    def tell() -> None:
        run.report.act(
            "edit_comment",
            target,
            number,
            source=(source, link.number_on(source)),
            detail=f"comment {cl.cid_on(target)}",
        )

    if run.options.dry_run:
        tell()
        return
    body = found[target].body  # type: ignore[union-attr]
    _, mark = split_mark(body)
    new_body = marked(texts[source], mark, author_of(body)) if mark else texts[source]
    intent = uuid.uuid4().hex
    run.applier.intend(intent, link.link_id, target, "edit_comment", {"comment": cl.cid_on(target)})
    run.applier.edit_comment(backend, number, str(cl.cid_on(target)), new_body)
    with run.state.writing():
        cl.base_a = cl.base_b = texts[source]
        run.state.save_comment(run.pair_id, cl)
        run.state.forget_intent(intent)
    tell()


def plan_copies(run: Run, item: Item) -> None:
    """A dry run's comments of an issue it would create: each one copied."""
    origin = item.origin
    number = item.link.number_on(origin) if origin else None
    if origin is None or number is None:
        return
    if not all(side.backend.supports(Capability.COMMENTS) for side in run.sides.values()):
        return
    for comment in run.sides[origin].backend.list_comments(number):
        run.report.act(
            "comment", OTHER[origin], None, source=(origin, number), detail=f"comment {comment.id}"
        )
