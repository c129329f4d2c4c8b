"""Argument and option types shared by the commands.

Every bad value becomes a Click usage error (exit 2) naming the parameter, before any backend
is opened.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from issue_core.core.errors import ValidationError
from issue_core.core.models import IssueState, MilestoneState, parse_ts

F = TypeVar("F", bound=Callable[..., Any])

MAX_INT = 2**63 - 1  # the largest integer SQLite stores and the forges accept


class IssueNumberType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """A positive issue number; ``12`` and ``#12`` are the same."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip().removeprefix("#")
            if not (text.isascii() and text.isdigit()):  # ASCII digits only
                self.fail(f"{value!r} is not an issue number (use 12 or #12)", param, ctx)
            number = int(text)
        if number < 1:
            self.fail(f"{value!r} is not an issue number (numbers start at 1)", param, ctx)
        if number > MAX_INT:
            self.fail(f"{value!r} is too large for an issue number (at most 2^63-1)", param, ctx)
        return number


class CommentIdType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """A comment's id as ``issue show N --comments`` shows it: a positive whole number."""

    name = "comment id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            self.fail(f"{value!r} is not a comment id (see: issue show N --comments)", param, ctx)
        if int(text) > MAX_INT:
            self.fail(f"{value!r} is too large for a comment id", param, ctx)
        return str(int(text))


class CountType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """A whole number from 0 to 2^63-1 (a limit); larger ones are refused, not overflowed."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            if not (text.isascii() and text.isdigit()):  # ASCII digits only
                self.fail(f"{value!r} is not a whole number of 0 or more", param, ctx)
            number = int(text)
        if not 0 <= number <= MAX_INT:
            self.fail(f"{value!r} is out of range (0 to 2^63-1)", param, ctx)
        return number


class IssueStateType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """``open``, ``in_progress`` (or ``in-progress``), ``closed``; plus ``all`` when allowed."""

    name = "state"

    def __init__(self, *, allow_all: bool = False) -> None:
        self.allow_all = allow_all
        choices = [s.value for s in IssueState] + (["all"] if allow_all else [])
        self.metavar = "[" + "|".join(choices) + "]"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, IssueState):
            return value
        if self.allow_all and str(value).strip().lower() == "all":
            return "all"
        try:
            return IssueState.parse(str(value))
        except ValidationError as exc:
            self.fail(exc.one_line(), param, ctx)


class PriorityType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """0-4 or critical|high|medium|low|backlog (0 = critical); '' clears where allowed."""

    name = "priority"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "0-4|critical|high|medium|low|backlog"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from issue_core.core.models import parse_priority

        if isinstance(value, int) or value == "":
            return value
        try:
            return parse_priority(str(value))
        except ValidationError as exc:
            self.fail(exc.one_line(), param, ctx)


class DueType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """An ISO 8601 date or timestamp (a date means midnight UTC); '' clears where allowed."""

    name = "due"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from issue_core.core.models import parse_ts

        if not isinstance(value, str) or value == "":
            return value
        try:
            return parse_ts(value)
        except ValidationError as exc:
            self.fail(exc.one_line(), param, ctx)


class CloseReasonType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """``completed``, ``not_planned`` (``not-planned``, gh's ``"not planned"``), ``duplicate``."""

    name = "reason"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[completed|not_planned|duplicate]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from issue_core.core.models import CloseReason

        try:
            reason = CloseReason.parse(str(value))
        except ValidationError as exc:
            self.fail(exc.one_line(), param, ctx)
        if reason is None:
            self.fail("the reason must not be empty", param, ctx)
        return reason


class MilestoneStateType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    name = "state"

    def __init__(self, *, allow_all: bool = False) -> None:
        self.allow_all = allow_all
        self.metavar = "[open|closed|all]" if allow_all else "[open|closed]"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if self.allow_all and str(value).strip().lower() == "all":
            return "all"
        try:
            return MilestoneState.parse(str(value))
        except ValidationError as exc:
            self.fail(exc.one_line(), param, ctx)


class TimestampType(click.ParamType):  # type: ignore[type-arg]  # generic in newer Click
    """ISO 8601 date or timestamp (``2026-11-25``, ``2026-11-25T08:00:00Z``)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return parse_ts(str(value))
        except ValidationError as exc:
            self.fail(exc.one_line(), param, ctx)


ISSUE_NUMBER = IssueNumberType()
COMMENT_ID = CommentIdType()
COUNT = CountType()
TIMESTAMP = TimestampType()


def split_values(values: Any) -> list[str]:
    """``("a,b", "c")`` -> ``["a", "b", "c"]`` (empty pieces dropped, duplicates and order kept
    once)."""
    names: list[str] = []
    for value in values or ():
        names.extend(part.strip() for part in str(value).split(",") if part.strip())
    return list(dict.fromkeys(names))


def split_commas(_ctx: click.Context, _param: click.Parameter, values: Any) -> list[str]:
    """Option callback: ``--label a,b --label c`` -> ``["a", "b", "c"]``."""
    return split_values(values)


def split_states(ctx: click.Context, param: click.Parameter, values: Any) -> list[Any]:
    """Option callback: ``--state open,in-progress --state closed`` -> states (all kept)."""
    kind = IssueStateType(allow_all=True)
    return [kind.convert(value, param, ctx) for value in split_values(values)]


def read_text_source(source: str, what: str) -> str:
    """The text of a file, or of stdin for ``-``."""
    if source == "-":
        # Bytes, decoded here: the text layer's error handler depends on the locale, and an
        # undecodable byte must be a usage error, not a crash when the text is stored.
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise click.BadParameter(
                f"stdin is not UTF-8 text (byte {exc.start + 1})", param_hint=what
            ) from None
    try:
        with open(source, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {source}: {exc.strerror or exc}", param_hint=what
        ) from None
    except UnicodeDecodeError:
        raise click.BadParameter(f"{source} is not UTF-8 text", param_hint=what) from None


def label_filter_option() -> Callable[[F], F]:
    """``-l/--label`` of the commands that list issues (``list``, ``ready``)."""
    return click.option(
        "-l",
        "--label",
        "labels",
        multiple=True,
        callback=split_commas,
        metavar="LABEL",
        help="Only issues with this label (repeat or comma-separate; all must match).",
    )


def limit_option() -> Callable[[F], F]:
    """``-L/--limit`` of the commands that list issues (``list``, ``ready``)."""
    return click.option(
        "-L",
        "--limit",
        type=COUNT,
        metavar="N",
        default=30,
        show_default=True,
        help="At most N issues; 0 means no limit.",
    )
