"""Human output: aligned tables, issue cards and relative ages.

Only :mod:`issue_core.cli.output` calls this, and only in table mode, so JSON callers never
import it. Colour is applied after padding so escape codes never upset the alignment.

Every piece of issue text goes through :func:`one_line` (table cells, card fields) or
:func:`block` (descriptions, comment bodies) before it is measured or printed: both end in the
one terminal sanitiser (:mod:`issue_core.cli.sanitize`), so control sequences in untrusted text
are shown, never obeyed.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from issue_core.cli.output import Records
from issue_core.cli.sanitize import for_terminal
from issue_core.core.events import Event
from issue_core.core.interfaces import BackendInfo
from issue_core.core.models import (
    Comment,
    Issue,
    Label,
    Milestone,
    User,
    format_ts,
    priority_name,
)

GAP = "  "
ELLIPSIS = "…"
MIN_TITLE_WIDTH = 12
SHORT_COLUMN = 14  # columns this narrow (number, state, "11 months ago") are cut last
STATE_COLORS = {"open": "green", "in_progress": "yellow", "closed": "magenta"}


# --------------------------------------------------------------------------- text helpers


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide East Asian characters and emoji count twice;
    marks, joiners and other invisible format characters (a zero-width space, Hangul vowel and
    final jamo) take none; a variation selector 16 makes the narrow character before it an
    emoji, two columns wide, as terminals draw it."""
    width = 0
    previous = 0  # the columns of the last character that took any
    for char in text:
        if char == VARIATION_SELECTOR_16:
            width += 1 if previous == 1 else 0
            previous = 2 if previous else 0
            continue
        size = _char_width(char)
        width += size
        if size:
            previous = size
    return width


VARIATION_SELECTOR_16 = "\ufe0f"


def _char_width(char: str) -> int:
    if char == "\u00ad":  # the soft hyphen is a format character that terminals do show
        return 1
    if unicodedata.category(char) in ("Mn", "Me", "Cf") or "\u1160" <= char <= "\u11ff":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def truncate(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    end = 0
    # Measured as prefixes, not char by char: a variation selector widens what comes before it.
    while end < len(text) and display_width(text[: end + 1]) <= width - 1:
        end += 1
    if text[end : end + 1] == VARIATION_SELECTOR_16:
        end -= 1  # an emoji whose selector does not fit goes whole, not as its text form
    return text[:end] + ELLIPSIS


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def one_line(text: str | None) -> str:
    """``text`` as one safe line: runs of whitespace (newlines included) become one space."""
    return as_printed(for_terminal(" ".join((text or "").split())))


def block(text: str) -> str:
    """``text`` as safe lines (a description or comment body keeps its line breaks)."""
    return as_printed(for_terminal(text, multiline=True))


def as_printed(text: str) -> str:
    """``text`` as stdout will print it: what its encoding cannot hold (``PYTHONIOENCODING=
    latin-1``) as the ``\\uXXXX`` escapes the stream would write anyway, done here so that
    columns are measured by what the reader sees."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    # Click writes to an ASCII stdout (a C locale) as UTF-8, so nothing is escaped there.
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "ascii", "us-ascii"):
        return text
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text


def terminal_width() -> int | None:
    """Columns to fit into: $COLUMNS, else the terminal's width; None when piped (no limit)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if not sys.stdout.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    import shutil

    return shutil.get_terminal_size().columns


def relative_age(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "-"
    now = now or datetime.now(UTC)
    seconds = (now - when).total_seconds()
    if seconds <= -45:  # a due date ahead
        ahead = relative_age(now, now=when)
        return "in " + ahead.removesuffix(" ago")
    if seconds < 45:
        return "just now"
    minutes = seconds / 60
    hours = minutes / 60
    days = hours / 24
    if minutes < 90:
        return _ago(max(1, round(minutes)), "minute")
    if hours < 24:
        return _ago(round(hours), "hour")
    if days < 30:
        return _ago(int(days), "day")
    if days < 365:
        return _ago(max(1, int(days // 30)), "month")
    return _ago(int(days // 365), "year")


def _ago(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def _stamp(when: datetime | None) -> str:
    if when is None:
        return "-"
    return f"{format_ts(when)} ({relative_age(when)})"


# --------------------------------------------------------------------------- tables


Styler = Callable[[str, str], str]  # (cell text as padded, raw value) -> styled text


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    color: bool,
    flexible: int | None = None,
    stylers: dict[int, Styler] | None = None,
) -> str:
    """An aligned table that fits the terminal (see :func:`fit_widths`); never wraps."""
    cleaned = [tuple(one_line(cell) for cell in row) for row in rows]
    natural = [display_width(h) for h in headers]
    widths = list(natural)
    for row in cleaned:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], display_width(cell))
    limit = terminal_width()
    if limit is not None:
        widths = fit_widths(widths, natural, limit, flexible)
    stylers = stylers or {}
    last = len(headers) - 1
    titles = [truncate(header, widths[i]) for i, header in enumerate(headers)]
    lines = [_row(titles, widths, last, lambda i, text, raw: _bold(text, color))]

    def style_cell(index: int, text: str, raw: str) -> str:
        styler = stylers.get(index)
        return styler(text, raw) if color and styler else text

    for row in cleaned:
        cells = [truncate(cell, widths[i]) for i, cell in enumerate(row)]
        lines.append(_row(cells, widths, last, style_cell, raw=row))
    return "\n".join(line.rstrip() for line in lines)


def fit_widths(
    widths: Sequence[int], headers: Sequence[int], limit: int, flexible: int | None
) -> list[int]:
    """Column widths whose row (gaps included) fits ``limit`` columns, shrinking in order:

    the ``flexible`` column (the title) down to ``MIN_TITLE_WIDTH``; then the widest of the
    other columns, one character at a time, down to ``SHORT_COLUMN`` (long label and assignee
    lists give way, short columns such as the number, state and age stay whole); then those
    down to their header's width; then any column down to its header; and on a terminal
    narrower than all the headers, any column down to one character. Cut cells end in an
    ellipsis, so a line is never wider than the terminal and never wraps.
    """
    fitted = list(widths)
    excess = sum(fitted) + len(GAP) * (len(fitted) - 1) - limit
    if excess <= 0:
        return fitted
    if flexible is not None:
        cut = min(excess, fitted[flexible] - min(fitted[flexible], MIN_TITLE_WIDTH))
        fitted[flexible] -= cut
        excess -= cut
    others = [i for i in range(len(fitted)) if i != flexible]
    everyone = list(range(len(fitted)))
    short = [
        max(header, min(width, SHORT_COLUMN)) for header, width in zip(headers, widths, strict=True)
    ]
    stages = [
        (others, short),
        (others, list(headers)),
        (everyone, list(headers)),
        (everyone, [1] * len(fitted)),
    ]
    for columns, floors in stages:
        while excess > 0:
            shrinkable = [i for i in columns if fitted[i] > floors[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: fitted[i])
            fitted[widest] -= 1
            excess -= 1
    return fitted


def _row(
    cells: Sequence[str],
    widths: Sequence[int],
    last: int,
    style: Callable[[int, str, str], str],
    raw: Sequence[str] | None = None,
) -> str:
    parts = []
    for index, cell in enumerate(cells):
        text = cell if index == last else pad(cell, widths[index])
        parts.append(style(index, text, (raw or cells)[index]))
    return GAP.join(parts)


def _bold(text: str, color: bool) -> str:
    return click.style(text, bold=True) if color else text


def _style(fg: str, *, dim: bool = False) -> Styler:
    return lambda text, raw: click.style(text, fg=fg, dim=dim)


def _state_style(text: str, raw: str) -> str:
    return click.style(text, fg=STATE_COLORS.get(raw, "white"))


def issues_table(issues: Sequence[Issue], *, color: bool) -> str:
    headers = ("NUMBER", "STATE", "TITLE", "LABELS", "ASSIGNEE", "UPDATED")
    rows = [
        (
            f"#{issue.number}",
            issue.state.value,
            one_line(issue.title),
            ", ".join(issue.labels),
            ", ".join(issue.assignees),
            relative_age(issue.updated_at or issue.created_at),
        )
        for issue in issues
    ]
    stylers: dict[int, Styler] = {
        0: _style("cyan"),
        1: _state_style,
        3: _style("blue"),
        5: _style("white", dim=True),
    }
    return table(headers, rows, color=color, flexible=2, stylers=stylers)


def labels_table(labels: Sequence[Label], *, color: bool) -> str:
    rows = [
        (label.name, f"#{label.color}" if label.color else "", one_line(label.description))
        for label in labels
    ]
    return table(("NAME", "COLOR", "DESCRIPTION"), rows, color=color, flexible=2)


def milestones_table(milestones: Sequence[Milestone], *, color: bool) -> str:
    rows = [
        (
            m.title,
            str(m.state),
            m.due_on.date().isoformat() if m.due_on else "",
            str(m.open_issues),
            str(m.closed_issues),
            one_line(m.description),
        )
        for m in milestones
    ]
    headers = ("TITLE", "STATE", "DUE", "OPEN", "CLOSED", "DESCRIPTION")
    return table(headers, rows, color=color, flexible=5, stylers={1: _state_style})


def users_table(users: Sequence[User], *, color: bool) -> str:
    rows = [(u.username, u.name or "", u.email or "") for u in users]
    return table(("USERNAME", "NAME", "EMAIL"), rows, color=color)


def comments_table(comments: Sequence[Comment], *, color: bool) -> str:
    rows = [
        (one_line(c.id or "-"), c.author or "-", relative_age(c.created_at), one_line(c.shown_body))
        for c in comments
    ]
    return table(("ID", "AUTHOR", "CREATED", "BODY"), rows, color=color, flexible=3)


def events_table(events: Sequence[Any], *, color: bool) -> str:
    rows = [(e.cursor, f"#{e.issue}", e.kind, e.actor, e.at, _event_detail(e.data)) for e in events]
    headers = ("CURSOR", "ISSUE", "KIND", "ACTOR", "AT", "DETAIL")
    return table(headers, rows, color=color, flexible=5)


def _event_detail(data: dict[str, Any]) -> str:
    """One line of what an event holds: ``field: before -> after`` for edits, then the rest."""
    changes = data.get("changes")
    parts = [
        f"{k}: {v.get('before')} -> {v.get('after')}"
        for k, v in (changes.items() if isinstance(changes, dict) else ())
        if isinstance(v, dict)
    ]
    parts += [f"{k}={v}" for k, v in data.items() if k != "changes"]
    return one_line("; ".join(parts))


def records_table(records: Records, *, color: bool) -> str:
    rows = [tuple(_cell(row.get(column)) for column in records.columns) for row in records.rows]
    headers = tuple(column.upper() for column in records.columns)
    return table(headers, rows, color=color, flexible=len(headers) - 1)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list | tuple):
        return one_line(", ".join(str(v) for v in value))
    return one_line(str(value))


# --------------------------------------------------------------------------- cards


def _priority(value: int | None) -> str:
    return f"{value} ({priority_name(value)})" if value is not None else "-"


def issue_card(issue: Issue, *, color: bool) -> str:
    title = f"#{issue.number}  {one_line(issue.title)}"
    state = issue.state.value
    lines = [
        click.style(title, bold=True) if color else title,
        _field("State", state, style=_state_style if color else None),
        _field("Labels", ", ".join(issue.labels) or "-"),
        _field("Assignees", ", ".join(issue.assignees) or "-"),
        _field("Milestone", issue.milestone or "-"),
        _field("Priority", _priority(issue.priority)),
        _field("Due", _stamp(issue.due_at) if issue.due_at else "-"),
        _field("Author", issue.author or "-"),
        _field("Created", _stamp(issue.created_at)),
        _field("Updated", _stamp(issue.updated_at)),
    ]
    if issue.closed_at is not None:
        lines.append(_field("Closed", _stamp(issue.closed_at)))
    if issue.url:
        lines.append(_field("URL", issue.url))
    lines.append("")
    description = issue.description.rstrip()
    lines.append(block(description) if description.strip() else "(no description)")
    if issue.comments is not None:
        lines.append("")
        heading = f"Comments ({len(issue.comments)})"
        lines.append(click.style(heading, bold=True) if color else heading)
        for comment in issue.comments:
            lines.append("")
            lines.append(_comment_header(comment, color=color))
            lines.extend("  " + line for line in block(comment.shown_body.rstrip()).split("\n"))
    return "\n".join(lines)


def _comment_header(comment: Comment, *, color: bool) -> str:
    """``ann · 2 hours ago · comment 17 (edited)``: the id is what ``issue comment N --edit ID``
    and ``--delete ID`` take."""
    header = f"{one_line(comment.author) or '-'} · {relative_age(comment.created_at)}"
    if comment.id:
        header += f" · comment {one_line(comment.id)}"
    created, updated = comment.created_at, comment.updated_at
    if created is not None and updated is not None and updated > created:
        header += " (edited)"
    return click.style(header, fg="cyan") if color else header


def _field(name: str, value: str, *, style: Styler | None = None) -> str:
    text = one_line(value)
    return f"{name + ':':<11}{style(text, value) if style else text}"


def comment_card(comment: Comment, *, color: bool) -> str:
    return "\n".join([_comment_header(comment, color=color), block(comment.shown_body.rstrip())])


def backend_info_card(info: BackendInfo, *, color: bool) -> str:
    lines = [
        _field("Backend", f"{info.name or '-'} ({info.type})"),
        _field("Location", info.location or "-"),
        _field("User", info.user or "-"),
    ]
    if info.server_version:
        lines.append(_field("Server", info.server_version))
    if info.rate_limit_remaining is not None:
        lines.append(_field("Rate limit", f"{info.rate_limit_remaining} requests left"))
    for name, (ok, detail) in info.checks.items():
        mark = "ok  " if ok else "FAIL"
        if color:
            mark = click.style(mark, fg="green" if ok else "red", bold=not ok)
        lines.append(f"  {mark}  {one_line(name)}: {one_line(detail)}")
    return "\n".join(lines)


def mapping_card(data: dict[str, Any]) -> str:
    keys = [one_line(str(key)) for key in data]
    width = max((display_width(key) for key in keys), default=0) + 2
    return "\n".join(
        pad(key + ":", width) + _cell(value) for key, value in zip(keys, data.values(), strict=True)
    )


def format_human(data: Any, *, color: bool) -> str:
    if isinstance(data, Records):
        return records_table(data, color=color)
    if isinstance(data, list):
        first = data[0]
        if isinstance(first, Issue):
            return issues_table(data, color=color)
        if isinstance(first, Label):
            return labels_table(data, color=color)
        if isinstance(first, Milestone):
            return milestones_table(data, color=color)
        if isinstance(first, User):
            return users_table(data, color=color)
        if isinstance(first, Comment):
            return comments_table(data, color=color)
        if isinstance(first, Event):
            return events_table(data, color=color)
        if isinstance(first, dict):
            return records_table(Records(data, list(first)), color=color)
        return "\n".join(one_line(str(item)) for item in data)
    if isinstance(data, Issue):
        return issue_card(data, color=color)
    if isinstance(data, Comment):
        return comment_card(data, color=color)
    if isinstance(data, Label):
        return labels_table([data], color=color)
    if isinstance(data, Milestone):
        return milestones_table([data], color=color)
    if isinstance(data, User):
        return mapping_card(data.to_dict())
    if isinstance(data, BackendInfo):
        return backend_info_card(data, color=color)
    if isinstance(data, dict):
        return mapping_card(data)
    return block(str(data))
