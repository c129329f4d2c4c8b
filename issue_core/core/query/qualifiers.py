"""What each qualifier means: ``name:value`` -> a typed condition (``nodes``), with the value
checked here so that a bad one is reported at its own position.

Dates are UTC. A day (``2026-01-01``) is the whole day, so ``>2026-01-01`` starts the next
day and ``<=2026-01-01`` ends with it; a time (``2026-01-01T12:00:00Z``) is that instant; an
age (``7d``: minutes ``m``, hours ``h``, days ``d``, weeks ``w``) is that long before now, so
``updated:>7d`` is "updated in the last seven days". Ranges are ``low..high`` (both ends
included, ``*`` for an open end) or a comparison ``>``, ``>=``, ``<``, ``<=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from issue_core.core.errors import ValidationError
from issue_core.core.models import IssueState, parse_priority, validate_label_name
from issue_core.core.query.nodes import (
    ME,
    Bound,
    Everything,
    LabelAny,
    MilestoneIs,
    Missing,
    Node,
    Person,
    QueryError,
    StateIn,
    Within,
)

STATES = {
    "open": IssueState.OPEN,
    "closed": IssueState.CLOSED,
    "in_progress": IssueState.IN_PROGRESS,
    "in-progress": IssueState.IN_PROGRESS,
}
NO_FIELDS = ("assignee", "label", "milestone", "priority")
SORT_FIELDS = ("created", "updated", "priority", "number")
QUALIFIERS = (
    "is",
    "state",
    "label",
    "assignee",
    "author",
    "milestone",
    "priority",
    "number",
    "created",
    "updated",
    "closed",
    "no",
    "has",
    "sort",
)
_AGE = re.compile(r"(\d{1,6})([mhdw])")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MICRO = timedelta(microseconds=1)  # the store's resolution: an instant is [t, t + 1 µs)


class Value:
    """A qualifier's value and where it starts in the query (for errors)."""

    __slots__ = ("position", "query", "text")

    def __init__(self, text: str, position: int, query: str) -> None:
        self.text = text
        self.position = position
        self.query = query

    def error(self, message: str, hint: str | None = None, offset: int = 0) -> QueryError:
        return QueryError(message, self.query, self.position + offset, hint=hint)


def condition(name: str, value: Value, start: int, end: int, now: datetime) -> Node:
    """The condition ``name:value`` stands for (``sort:`` is the parser's)."""
    if name in ("is", "state"):
        return _state(name, value, start, end)
    if name == "label":
        return LabelAny(_labels(value), start, end)
    if name in ("assignee", "author"):
        return Person(name, _user(value), start, end)
    if name == "milestone":
        return MilestoneIs(value.text.strip().lower(), start, end)
    if name in ("no", "has"):
        field = value.text.lower()
        if field not in NO_FIELDS:
            raise value.error(
                f"unknown field {value.text!r} for {name}:", hint=f"use {', '.join(NO_FIELDS)}"
            )
        return Missing(field, start, end)  # the parser negates has:
    if name == "priority":
        return Within(name, *_range(value, _priority), start, end)
    if name == "number":
        return Within(name, *_range(value, _number), start, end)
    return Within(name, *_range(value, lambda v: _moment(v, now)), start, end)


def sort_order(value: Value) -> tuple[str, str]:
    """``sort:KEY[-asc|-desc]`` -> (key, direction). Newest, latest or biggest first, except
    ``priority``, which puts the most urgent (0) first, as ``issue ready`` orders."""
    key, _, direction = value.text.lower().partition("-")
    if key not in SORT_FIELDS or direction not in ("", "asc", "desc"):
        raise value.error(
            f"unknown sort {value.text!r}",
            hint=f"use {', '.join(SORT_FIELDS)}, optionally with -asc or -desc",
        )
    return key, direction or ("asc" if key == "priority" else "desc")


def _state(name: str, value: Value, start: int, end: int) -> Node:
    text = value.text.lower()
    if name == "is" and text == "issue":
        return Everything(start, end)
    if text not in STATES:
        known = "open, closed, in_progress" + (", issue" if name == "is" else "")
        raise value.error(f"unknown state {value.text!r}", hint=f"use {known}")
    return StateIn((STATES[text],), start, end)


def _labels(value: Value) -> tuple[str, ...]:
    keys: list[str] = []
    offset = 0
    for name in value.text.split(","):
        try:
            keys.append(validate_label_name(name))
        except ValidationError as exc:
            raise value.error(exc.message, hint=exc.hint, offset=offset) from None
        offset += len(name) + 1
    return tuple(dict.fromkeys(keys))


def _user(value: Value) -> str:
    text = value.text
    if text.lower() == ME:
        return ME
    return text[1:] if text.startswith("@") and len(text) > 1 else text


Point = tuple[Bound, Bound]  # the value as [first, after): a day, an instant, a number


def _range(value: Value, point: Callable[[Value], Point]) -> tuple[Bound, Bound]:
    """``low..high``, ``>x``, ``>=x``, ``<x``, ``<=x`` or ``x`` -> [low, high)."""
    text = value.text
    if ".." in text:
        left, _, right = text.partition("..")
        low = None if left == "*" else point(Value(left, value.position, value.query))[0]
        where = value.position + len(left) + 2
        high = None if right == "*" else point(Value(right, where, value.query))[1]
        return low, high
    for operator in (">=", "<=", ">", "<"):
        if text.startswith(operator):
            first, after = point(
                Value(text[len(operator) :], value.position + len(operator), value.query)
            )
            return {
                ">=": (first, None),
                "<=": (None, after),
                ">": (after, None),
                "<": (None, first),
            }[operator]
    return point(value)


def _number(value: Value) -> Point:
    text = value.text.lstrip("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise value.error(f"invalid number {value.text!r}", hint="use a whole number such as 12")
    number = int(text)
    return number, number + 1


def _priority(value: Value) -> Point:
    try:
        number = parse_priority(value.text)
    except ValidationError as exc:
        raise value.error(exc.message, hint=exc.hint) from None
    if number is None:
        raise value.error("a priority is needed here", hint="use 0-4 or a name such as high")
    return number, number + 1


def _moment(value: Value, now: datetime) -> Point:
    text = value.text
    try:
        age = _AGE.fullmatch(text)
        if age:
            instant = now - timedelta(**{_AGE_UNITS[age.group(2)]: int(age.group(1))})
            return instant, instant + _MICRO
        if _DAY.fullmatch(text):
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return day, day + timedelta(days=1)
        if "T" in text and _DAY.match(text):
            instant = datetime.fromisoformat(text.replace("z", "Z"))
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=UTC)
            instant = instant.astimezone(UTC)
            return instant, instant + _MICRO
    except (ValueError, OverflowError):
        pass
    raise value.error(
        f"invalid date {text!r}",
        hint="use YYYY-MM-DD, an ISO 8601 time such as 2026-01-01T12:00:00Z, "
        "or an age such as 7d (m, h, d, w)",
    )
