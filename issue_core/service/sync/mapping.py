"""An explicit mapping import: issues already present on both sides of a pair, named by their
numbers, are linked before the first sync so that it merges them instead of copying them.

The whole mapping is checked before anything is written (both issues exist, neither is linked
to another issue, no number twice); one bad row refuses all of it, each bad row said on its own
line. A linked pair has no common past (like a match by marker): the next sync weighs every
field that differs as a conflict to resolve (an issue the feeds' cursors have passed is weighed
when either side changes next).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

from issue_core.core.errors import NotFound, UsageError
from issue_core.core.interfaces import IssueBackend
from issue_core.core.models import Issue
from issue_core.service.sync.state import Link, SyncState

Row = tuple[str, Any, Any]  # where (e.g. "line 3"; "" for one link), source, target


def read_rows(path: Path) -> list[Row]:
    """The mapping file's rows: CSV (``SOURCE,TARGET`` per line, an optional header line, ``#``
    comments) or JSON (a list of ``[SOURCE, TARGET]`` or ``{"source": S, "target": T}``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read the mapping file {path}: {reason}") from None
    if text.lstrip().startswith(("[", "{")):
        return _json_rows(path, text)
    rows: list[Row] = []
    for line_no, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not rows and [cell.lower() for cell in cells] == ["source", "target"]:
            continue  # the header
        if len(cells) != 2:
            rows.append((f"line {line_no}", cells, None))
        else:
            rows.append((f"line {line_no}", cells[0], cells[1]))
    return rows


def _json_rows(path: Path, text: str) -> list[Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the mapping file {path} is not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise UsageError(
            f"the mapping file {path} must hold a list",
            hint='e.g. [{"source": 1, "target": 7}] or [[1, 7]]',
        )
    rows: list[Row] = []
    for index, entry in enumerate(data, start=1):
        where = f"item {index}"
        if isinstance(entry, dict) and set(entry) == {"source", "target"}:
            rows.append((where, entry["source"], entry["target"]))
        elif isinstance(entry, list) and len(entry) == 2:
            rows.append((where, entry[0], entry[1]))
        else:
            rows.append((where, entry, None))
    return rows


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    return value if isinstance(value, int) and 0 < value < 2**63 else None


def import_map(
    state: SyncState,
    pair_id: str,
    source: tuple[str, str, IssueBackend],
    target: tuple[str, str, IssueBackend],
    rows: list[Row],
    *,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Link each row's source issue to its target issue. ``source``/``target``: the backend
    name, its side key in the pair's state (``a``/``b``) and the backend. Returns one entry per
    row (``action``: ``link`` or ``already_linked``); raises ``UsageError`` (details
    ``problems``: one line per bad row) with nothing written when any row is bad."""
    (s_name, s_key, s_backend), (t_name, t_key, t_backend) = source, target
    linked: dict[str, dict[str, Link]] = {"a": {}, "b": {}}
    for link in state.links(pair_id):
        for key in ("a", "b"):
            if link.id_of(key) is not None:
                linked[key][str(link.id_of(key))] = link
    problems: list[str] = []
    seen: dict[str, dict[int, str]] = {"source": {}, "target": {}}
    planned: list[tuple[Issue, Issue, bool]] = []
    for where, s_raw, t_raw in rows:
        s_n, t_n = _number(s_raw), _number(t_raw)
        if s_n is None or t_n is None:
            problems.append(f"{where}: expected two issue numbers (SOURCE,TARGET)")
            continue
        twice = [
            f"{role} #{n} is also on {seen[role][n]}"
            for role, n in (("source", s_n), ("target", t_n))
            if n in seen[role]
        ]
        seen["source"].setdefault(s_n, where)
        seen["target"].setdefault(t_n, where)
        if twice:
            problems.append(f"{where}: {'; '.join(twice)}")
            continue
        found = [_get(backend, n, name) for backend, n, name in
                 ((s_backend, s_n, s_name), (t_backend, t_n, t_name))]  # fmt: skip
        missing = [text for text in found if isinstance(text, str)]
        if missing:
            problems.append(f"{where}: {'; '.join(missing)}")
            continue
        s_issue, t_issue = found
        assert isinstance(s_issue, Issue) and isinstance(t_issue, Issue)
        s_link = linked[s_key].get(str(s_issue.id))
        t_link = linked[t_key].get(str(t_issue.id))
        if s_link is not None and s_link is t_link:
            planned.append((s_issue, t_issue, True))
            continue
        taken = [
            _taken_by(link, key, other, name, n, other_name)
            for link, key, other, name, n, other_name in (
                (s_link, s_key, t_key, s_name, s_n, t_name),
                (t_link, t_key, s_key, t_name, t_n, s_name),
            )
            if link is not None
        ]
        if taken:
            problems.append(f"{where}: {'; '.join(taken)}")
            continue
        planned.append((s_issue, t_issue, False))
    if len(problems) == 1:
        raise UsageError(f"{problems[0]}; nothing was linked".lstrip(": "))
    if problems:
        raise UsageError(
            f"the mapping has {len(problems)} bad rows; nothing was linked",
            hint="each is listed below",
            problems=problems,
        )
    results = [
        {
            "action": "already_linked" if done else "link",
            "source": s_issue.number,
            "target": t_issue.number,
            "title": s_issue.title,
        }
        for s_issue, t_issue, done in planned
    ]
    if dry_run:
        return results
    with state.writing():
        for s_issue, t_issue, done in planned:
            if done:
                continue
            link = Link(uuid.uuid4().hex)
            link.place(s_key, str(s_issue.id), s_issue.number)
            link.place(t_key, str(t_issue.id), t_issue.number)
            state.save_link(pair_id, link)
    return results


def _get(backend: IssueBackend, number: int, name: str) -> Issue | str:
    try:
        return backend.get_issue_by_number(number)
    except NotFound:
        return f"{name} has no issue #{number}"


def _taken_by(link: Link, key: str, other: str, name: str, number: int, other_name: str) -> str:
    if link.id_of(other) is None:
        return f"{name} #{number} is being copied to {other_name} by an unfinished sync"
    return f"{name} #{number} is already linked to {other_name} #{link.number_on(other)}"
