"""The domain model: the only vocabulary above the backends.

Every model serialises to a stable JSON shape with ``to_dict()`` and reads it back with
``from_dict()``. Timestamps are timezone-aware UTC ``datetime`` objects and serialise as
ISO 8601 with a ``Z`` suffix (``2026-11-25T08:00:00Z``). Field names and their order in
``to_dict()`` are the documented JSON shapes (README "JSON shapes"): add fields, never rename.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from issue_core.core.query import Query

from issue_core.core.errors import ValidationError

TITLE_MAX = 255
DESCRIPTION_MAX = 65_536
LABEL_NAME_MAX = 50
COMMENT_MAX = 65_536

# The marker line sync appends to a comment copy (``service/sync/comments.py`` writes and
# reads it): kept in storage, so an interrupted copy is found again, but never shown -- a
# reader sees the text as written, as a forge hides its own block. ``by NAME``: the original
# author, kept as text.
SYNC_COMMENT_MARK = re.compile(
    r"(?:\r?\n)*<!-- issue-core:sync-comment ([0-9a-f]{32})(?: by ([^\s<>]{1,200}))? -->\s*\Z"
)


# --------------------------------------------------------------------------- timestamps


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_ts(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``; microseconds only when present (stable, sortable)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_ts(value: str | datetime | None) -> datetime | None:
    """Parse ISO 8601 (``Z`` or offset; a bare date means midnight UTC) into aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(
            f"invalid timestamp {value!r}",
            hint="use ISO 8601, e.g. 2026-11-25 or 2026-11-25T08:00:00Z",
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --------------------------------------------------------------------------- enums


def _word_key(value: object) -> str:
    """``In Progress``, ``in-progress`` -> ``in_progress``: how enum values are typed."""
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def _unknown(what: str, value: object, choices: type[StrEnum]) -> ValidationError:
    expected = ", ".join(c.value for c in choices)
    return ValidationError(f"unknown {what} {value!r}", hint=f"expected one of: {expected}")


class IssueState(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"

    @classmethod
    def parse(cls, value: str | IssueState) -> IssueState:
        """Accept ``open``, ``in_progress``, ``in-progress``, ``In Progress`` ..."""
        if isinstance(value, IssueState):
            return value
        try:
            return cls(_word_key(value))
        except ValueError:
            raise _unknown("state", value, cls) from None


class CloseReason(StrEnum):
    """Why a closed issue was closed (GitHub's ``state_reason``; kept by every backend)."""

    COMPLETED = "completed"
    NOT_PLANNED = "not_planned"
    DUPLICATE = "duplicate"

    @classmethod
    def parse(cls, value: str | CloseReason | None) -> CloseReason | None:
        """``completed``, ``not_planned``, ``not-planned``, ``Not planned`` ...; ``None``/``""``
        -> None."""
        if value is None or isinstance(value, CloseReason):
            return value
        key = _word_key(value)
        if not key:
            return None
        try:
            return cls(key)
        except ValueError:
            raise _unknown("close reason", value, cls) from None


def close_reason_for(state: IssueState, reason: CloseReason | str | None) -> CloseReason | None:
    """The reason a write stores: none unless closed; a close without one is ``completed``
    (what GitHub records for a plain close), so every backend answers alike."""
    if state is not IssueState.CLOSED:
        return None
    return CloseReason.parse(reason) or CloseReason.COMPLETED


class MilestoneState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @classmethod
    def parse(cls, value: str | MilestoneState) -> MilestoneState:
        if isinstance(value, MilestoneState):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValidationError(
                f"unknown milestone state {value!r}", hint="expected open or closed"
            ) from None


# --------------------------------------------------------------------------- priority

# One priority scale for every backend and front end: 0 is the most urgent. Later work (the
# ready queue, `issue next`) orders by it; the ingestion server maps activity-core's
# high/medium/low onto it. Names are accepted wherever a number is.
PRIORITY_NAMES = ("critical", "high", "medium", "low", "backlog")
PRIORITY_MIN, PRIORITY_MAX = 0, len(PRIORITY_NAMES) - 1


def parse_priority(value: int | str | None) -> int | None:
    """``0``-``4``, ``"2"``, ``"p2"`` or a name (``"high"``) -> 0..4; ``None``/``""`` -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError("priority must be a number 0-4 or a name")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower()
        if text in PRIORITY_NAMES:
            return PRIORITY_NAMES.index(text)
        digits = text[1:] if text[:1] == "p" else text
        if not (len(digits) == 1 and digits.isdigit()):
            raise ValidationError(
                f"unknown priority {value!r}",
                hint=f"use 0-4 or one of {', '.join(PRIORITY_NAMES)} (0 = critical)",
            )
        number = int(digits)
    if not PRIORITY_MIN <= number <= PRIORITY_MAX:
        raise ValidationError(
            f"priority {number} is out of range",
            hint=f"use 0-4 or one of {', '.join(PRIORITY_NAMES)} (0 = critical)",
        )
    return number


def priority_name(value: int | None) -> str | None:
    return PRIORITY_NAMES[value] if value is not None else None


# --------------------------------------------------------------------------- validation


def validate_title(title: str) -> str:
    if not isinstance(title, str):
        raise ValidationError("title must be text")
    cleaned = title.strip()
    if not cleaned:
        raise ValidationError("title must not be empty")
    if len(cleaned) > TITLE_MAX:
        raise ValidationError(f"title is {len(cleaned)} characters long; the limit is {TITLE_MAX}")
    if any(ch in cleaned for ch in "\r\n\x00"):
        raise ValidationError("title must be a single line")
    return cleaned


def validate_description(text: str | None) -> str:
    text = text or ""
    if "\x00" in text:
        raise ValidationError("description must not contain NUL characters")
    if len(text) > DESCRIPTION_MAX:
        raise ValidationError(
            f"description is {len(text)} characters long; the limit is {DESCRIPTION_MAX}"
        )
    return text


def validate_comment(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError("comment body must not be empty")
    if "\x00" in body:
        raise ValidationError("comment must not contain NUL characters")
    if len(body) > COMMENT_MAX:
        raise ValidationError(f"comment is {len(body)} characters long; the limit is {COMMENT_MAX}")
    return body


MARKER_MAX = 200


def validate_marker(marker: str) -> str:
    """A comment's marker: 1-200 printable characters without blanks (an id, not text)."""
    if (
        not isinstance(marker, str)
        or not 0 < len(marker) <= MARKER_MAX
        or not all(ch.isprintable() and not ch.isspace() for ch in marker)
    ):
        raise ValidationError(
            f"invalid comment marker {marker!r}: 1-{MARKER_MAX} printable characters, no blanks"
        )
    return marker


def validate_label_name(name: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise ValidationError("label name must not be empty")
    if len(cleaned) > LABEL_NAME_MAX:
        raise ValidationError(f"label name {cleaned!r} is longer than {LABEL_NAME_MAX} characters")
    if "," in cleaned or any(ch in cleaned for ch in "\r\n\x00"):
        raise ValidationError(f"label name {cleaned!r} must not contain commas or line breaks")
    return cleaned


USERNAME_MAX = 255


def _has_control(text: str) -> bool:
    """C0/C1 controls and DEL: never part of a name (a name is shown on one line)."""
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


def validate_username(name: str) -> str:
    """An assignee or author: ``@bob`` means ``bob`` (gh's spelling); no blanks or controls.

    ``@me`` is resolved by the front end before this (it needs the acting identity).
    """
    if not isinstance(name, str):
        raise ValidationError("a user name must be text")
    cleaned = name.strip()
    if cleaned.startswith("@"):
        cleaned = cleaned[1:]
    if not cleaned:
        raise ValidationError(f"user name {name!r} is empty")
    if len(cleaned) > USERNAME_MAX:
        raise ValidationError(f"user name is longer than {USERNAME_MAX} characters")
    if _has_control(cleaned) or any(ch.isspace() for ch in cleaned) or "," in cleaned:
        raise ValidationError(
            f"user name {cleaned!r} must not contain spaces, commas or control characters"
        )
    return cleaned


def validate_milestone_title(title: str) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("milestone title must not be empty")
    cleaned = title.strip()
    if len(cleaned) > TITLE_MAX:
        raise ValidationError(f"milestone title is longer than {TITLE_MAX} characters")
    if _has_control(cleaned):
        raise ValidationError(
            f"milestone title {cleaned!r} must be one line without control characters"
        )
    return cleaned


def validate_color(color: str | None) -> str | None:
    if color is None or color == "":
        return None
    text = color.strip().lstrip("#").lower()
    if len(text) not in (3, 6) or any(c not in "0123456789abcdef" for c in text):
        raise ValidationError(f"invalid colour {color!r}", hint="use hex like ff0000 or #f00")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return text


def _name_list(field: str, values: Any) -> list[str]:
    """A list of names; a bare string is refused (``list("bug")`` would make b, u, g)."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple, set, frozenset)):
        hint = f" (write {field}=[{values!r}])" if isinstance(values, str) else ""
        raise TypeError(f"Issue {field} must be a list of names, not {type(values).__name__}{hint}")
    if any(not isinstance(value, str) for value in values):
        raise TypeError(f"Issue {field} must be a list of names (strings)")
    return _unique(list(values))


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


# --------------------------------------------------------------------------- entities


class _Record:
    """Value-object basics (repr, equality) for the models.

    The models are plain classes rather than dataclasses on purpose: generating dataclass
    methods costs ~1 ms per class at import, and every ``issue`` call imports this module.
    ``_FIELDS`` lists the public attributes in declaration order.
    """

    _FIELDS: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable value objects

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)


class User(_Record):
    _FIELDS = ("username", "name", "email")

    def __init__(self, username: str, name: str | None = None, email: str | None = None) -> None:
        self.username = username
        self.name = name
        self.email = email

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "name": self.name, "email": self.email}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> User:
        return cls(username=data["username"], name=data.get("name"), email=data.get("email"))


class Label(_Record):
    _FIELDS = ("name", "color", "description", "id")

    def __init__(
        self,
        name: str,
        color: str | None = None,
        description: str | None = None,
        id: str | None = None,  # backend-native id (Gitea label id ...)
    ) -> None:
        self.name = name
        self.color = color
        self.description = description
        self.id = id

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "color": self.color,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Label:
        return cls(
            name=data["name"],
            color=data.get("color"),
            description=data.get("description"),
            id=data.get("id"),
        )


class Milestone(_Record):
    _FIELDS = (
        "title",
        "description",
        "state",
        "due_on",
        "id",
        "open_issues",
        "closed_issues",
        "created_at",
        "updated_at",
        "closed_at",
    )

    def __init__(
        self,
        title: str,
        description: str | None = None,
        state: MilestoneState | str = MilestoneState.OPEN,
        due_on: datetime | None = None,
        id: str | None = None,
        open_issues: int = 0,
        closed_issues: int = 0,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        closed_at: datetime | None = None,
    ) -> None:
        self.title = title
        self.description = description
        self.state = MilestoneState.parse(state)
        self.due_on = due_on
        self.id = id
        self.open_issues = open_issues
        self.closed_issues = closed_issues
        self.created_at = created_at
        self.updated_at = updated_at
        self.closed_at = closed_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "state": str(self.state),
            "due_on": format_ts(self.due_on),
            "open_issues": self.open_issues,
            "closed_issues": self.closed_issues,
            "created_at": format_ts(self.created_at),
            "updated_at": format_ts(self.updated_at),
            "closed_at": format_ts(self.closed_at),
            # Added later, so appended: the backend's id, which `milestone delete` also takes.
            "id": self.id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Milestone:
        return cls(
            title=data["title"],
            description=data.get("description"),
            state=MilestoneState.parse(data.get("state") or "open"),
            due_on=parse_ts(data.get("due_on")),
            id=data.get("id"),
            open_issues=int(data.get("open_issues") or 0),
            closed_issues=int(data.get("closed_issues") or 0),
            created_at=parse_ts(data.get("created_at")),
            updated_at=parse_ts(data.get("updated_at")),
            closed_at=parse_ts(data.get("closed_at")),
        )


class Comment(_Record):
    """A comment. ``agent``: on a forge, the named agent that wrote it through ``author``'s
    account (read from the comment's hidden agent block); None elsewhere or when unnamed.
    ``marker``: the client-generated id it was added with (``add_comment(marker=...)``: sync
    finds a comment an interrupted run wrote by it), or None."""

    _FIELDS = (
        "body",
        "author",
        "id",
        "issue_number",
        "created_at",
        "updated_at",
        "agent",
        "marker",
    )

    def __init__(
        self,
        body: str,
        author: str | None = None,
        id: str | None = None,
        issue_number: int | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        agent: str | None = None,
        marker: str | None = None,
    ) -> None:
        self.body = body
        self.author = author
        self.id = id
        self.issue_number = issue_number
        self.created_at = created_at
        self.updated_at = updated_at
        self.agent = agent
        self.marker = marker

    @property
    def shown_body(self) -> str:
        """The body as users and agents see it: without sync's marker line."""
        found = SYNC_COMMENT_MARK.search(self.body or "")
        return self.body if found is None else self.body[: found.start()]

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "issue_number": self.issue_number,
            "author": self.author,
            "body": self.shown_body,
            "created_at": format_ts(self.created_at),
            "updated_at": format_ts(self.updated_at),
        }
        if self.agent is not None:  # only forge comments an agent signed carry the key
            data["agent"] = self.agent
        if self.marker is not None:  # only comments added with a marker (sync's) carry it
            data["marker"] = self.marker
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comment:
        return cls(
            body=data["body"],
            author=data.get("author"),
            id=data.get("id"),
            issue_number=data.get("issue_number"),
            created_at=parse_ts(data.get("created_at")),
            updated_at=parse_ts(data.get("updated_at")),
            agent=data.get("agent"),
            marker=data.get("marker"),
        )


# Fields an edit can change; used for field-level merge of concurrent edits.
EDITABLE_FIELDS = (
    "title",
    "description",
    "state",
    "labels",
    "assignees",
    "milestone",
    "due_at",
    "priority",
    "sync_metadata",
    "close_reason",
)


class Issue(_Record):
    """An issue as every backend presents it.

    ``number`` is the human-facing number (``#12``); ``id`` is the backend's stable id (kept
    across renumbering, used by sync). ``version`` increases on every change and is what
    optimistic concurrency compares. ``sync_metadata`` is a free JSON object for traceability
    and agent state; backends round-trip it unchanged.
    """

    _FIELDS = (
        "title",
        "description",
        "state",
        "labels",
        "assignees",
        "milestone",
        "number",
        "id",
        "author",
        "comments_count",
        "url",
        "created_at",
        "updated_at",
        "closed_at",
        "version",
        "due_at",
        "priority",
        "sync_metadata",
        "comments",
        "close_reason",
        "node_id",
    )

    def __init__(
        self,
        title: str,
        description: str = "",
        state: IssueState | str = IssueState.OPEN,
        labels: list[str] | None = None,
        assignees: list[str] | None = None,
        milestone: str | None = None,
        number: int | None = None,
        id: str | None = None,
        author: str | None = None,
        comments_count: int = 0,
        url: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        closed_at: datetime | None = None,
        version: int | None = None,
        sync_metadata: dict[str, Any] | None = None,
        comments: list[Comment] | None = None,  # filled only when asked for (show --comments)
        due_at: datetime | None = None,
        priority: int | str | None = None,  # 0 (critical) .. 4 (backlog), see PRIORITY_NAMES
        close_reason: CloseReason | str | None = None,  # why it was closed (closed issues only)
        node_id: str | None = None,  # a forge's global node id (GitHub's GraphQL id), if any
    ) -> None:
        self.title = title
        self.description = description
        self.state = IssueState.parse(state)
        self.labels = _name_list("labels", labels)
        self.assignees = _name_list("assignees", assignees)
        self.milestone = milestone
        self.number = number
        self.id = id
        self.author = author
        self.comments_count = comments_count
        self.url = url
        self.created_at = created_at
        self.updated_at = updated_at
        self.closed_at = closed_at
        self.version = version
        self.sync_metadata: dict[str, Any] = sync_metadata if sync_metadata is not None else {}
        self.comments = comments
        self.due_at = due_at
        self.priority = priority
        self.close_reason = close_reason
        self.node_id = node_id
        # What the backend returned when this object was loaded: lets update_issue() send only
        # the fields the caller changed and merge with concurrent edits of other fields.
        self._loaded: dict[str, Any] | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Issue):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    # -- convenience -----------------------------------------------------------

    @property
    def assignee(self) -> str | None:
        return self.assignees[0] if self.assignees else None

    @assignee.setter
    def assignee(self, value: str | None) -> None:
        self.assignees = [value] if value else []

    @property
    def body(self) -> str:
        return self.description

    @property
    def state(self) -> IssueState:
        """Assigning a string (``"closed"``, ``"in-progress"``) is accepted and parsed."""
        return self._state

    @state.setter
    def state(self, value: IssueState | str) -> None:
        self._state = IssueState.parse(value)

    def refresh_from(self, other: Issue) -> Issue:
        """Take every field of ``other`` (the stored issue) and its loaded snapshot, in place.

        ``update_issue`` calls this on the caller's object, so reusing the object for a later
        update compares against the new version instead of raising a false ``Conflict``.
        """
        for name in self._FIELDS:
            setattr(self, name, getattr(other, name))
        self._loaded = other._loaded
        return self

    @property
    def priority(self) -> int | None:
        """0 (critical) .. 4 (backlog) or None; names and ``"p1"`` are accepted on assignment."""
        return self._priority

    @priority.setter
    def priority(self, value: int | str | None) -> None:
        self._priority = parse_priority(value)

    @property
    def close_reason(self) -> CloseReason | None:
        """Why it was closed; ``"not_planned"`` (or ``"not-planned"``) is accepted."""
        return self._close_reason

    @close_reason.setter
    def close_reason(self, value: CloseReason | str | None) -> None:
        self._close_reason = CloseReason.parse(value)

    @property
    def due_at(self) -> datetime | None:
        return self._due_at

    @due_at.setter
    def due_at(self, value: datetime | str | None) -> None:
        self._due_at = parse_ts(value)

    @property
    def is_closed(self) -> bool:
        return self.state is IssueState.CLOSED

    def editable_snapshot(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "state": self.state.value,
            "labels": sorted(self.labels),
            "assignees": sorted(self.assignees),
            "milestone": self.milestone,
            "due_at": format_ts(self.due_at),
            "priority": self.priority,
            # A JSON round trip is a deep copy of a JSON object, ~5x faster than copy.deepcopy.
            "sync_metadata": json.loads(json.dumps(self.sync_metadata, default=repr)),
            "close_reason": self.close_reason.value if self.close_reason else None,
        }

    def mark_loaded(self) -> Issue:
        """Record the current field values as the base for change detection."""
        self._loaded = self.editable_snapshot()
        return self

    def changed_fields(self) -> list[str]:
        """Fields changed since the backend returned this object (given ones, if never loaded)."""
        now = self.editable_snapshot()
        if self._loaded is None:
            # Built by the caller (``Issue("new title", number=2)``): a partial update. Only
            # the fields given a value are sent; the others are left as the store has them.
            return [name for name in EDITABLE_FIELDS if now[name] != _BLANK_SNAPSHOT[name]]
        return [name for name in EDITABLE_FIELDS if now[name] != self._loaded[name]]

    @property
    def loaded_snapshot(self) -> dict[str, Any] | None:
        return self._loaded

    # -- serialisation ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "title": self.title,
            "description": self.description,
            "state": self.state.value,
            "labels": list(self.labels),
            "assignee": self.assignee,
            "assignees": list(self.assignees),
            "milestone": self.milestone,
            "author": self.author,
            "comments_count": self.comments_count,
            "created_at": format_ts(self.created_at),
            "updated_at": format_ts(self.updated_at),
            "closed_at": format_ts(self.closed_at),
            "url": self.url,
            "id": self.id,
            "version": self.version,
            "sync_metadata": self.sync_metadata,
            # Added after the first release: appended, so the documented order only grows.
            "due_at": format_ts(self.due_at),
            "priority": self.priority,
            "priority_name": priority_name(self.priority),
            "close_reason": self.close_reason.value if self.close_reason else None,
            "node_id": self.node_id,
        }
        if self.comments is not None:
            data["comments"] = [c.to_dict() for c in self.comments]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issue:
        assignees = data.get("assignees")
        if assignees is None:
            assignees = [data["assignee"]] if data.get("assignee") else []
        comments = data.get("comments")
        return cls(
            number=data.get("number"),
            title=data["title"],
            description=data.get("description") or "",
            state=IssueState.parse(data.get("state") or "open"),
            labels=list(data.get("labels") or []),
            assignees=list(assignees),
            milestone=data.get("milestone"),
            author=data.get("author"),
            comments_count=int(data.get("comments_count") or 0),
            created_at=parse_ts(data.get("created_at")),
            updated_at=parse_ts(data.get("updated_at")),
            closed_at=parse_ts(data.get("closed_at")),
            url=data.get("url"),
            id=data.get("id"),
            version=data.get("version"),
            sync_metadata=dict(data.get("sync_metadata") or {}),
            comments=[Comment.from_dict(c) for c in comments] if comments is not None else None,
            due_at=parse_ts(data.get("due_at")),
            priority=data.get("priority"),
            close_reason=data.get("close_reason"),
            node_id=data.get("node_id"),
        )


class _Keep:
    """The value of an ``IssueChanges`` field that is not to change (``None`` clears)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


class IssueChanges(_Record):
    """An edit as ``issue edit`` states it: only the fields given change.

    ``assignees`` replaces the set; ``add_*``/``remove_*`` change the current set, whatever it
    is when the edit is applied. A backend applies the changes to the issue as stored *at write
    time* (``IssueBackend.edit_issue``), so an edit never conflicts with one that came before it.
    ``milestone``, ``priority`` and ``due_at`` are cleared with ``None``.
    """

    _FIELDS = (
        "title",
        "description",
        "state",
        "assignees",
        "add_assignees",
        "remove_assignees",
        "add_labels",
        "remove_labels",
        "milestone",
        "priority",
        "due_at",
    )

    def __init__(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        state: IssueState | str | None = None,
        assignees: list[str] | None = None,
        add_assignees: list[str] | tuple[str, ...] = (),
        remove_assignees: list[str] | tuple[str, ...] = (),
        add_labels: list[str] | tuple[str, ...] = (),
        remove_labels: list[str] | tuple[str, ...] = (),
        milestone: Any = KEEP,
        priority: Any = KEEP,
        due_at: Any = KEEP,
    ) -> None:
        self.title = validate_title(title) if title is not None else None
        self.description = validate_description(description) if description is not None else None
        self.state = IssueState.parse(state) if state is not None else None
        self.assignees = (
            None if assignees is None else _unique([validate_username(a) for a in assignees])
        )
        self.add_assignees = _unique([validate_username(a) for a in add_assignees])
        self.remove_assignees = _unique([validate_username(a) for a in remove_assignees])
        self.add_labels = _unique([validate_label_name(name) for name in add_labels])
        self.remove_labels = _unique([validate_label_name(name) for name in remove_labels])
        if milestone is not KEEP and milestone is not None:
            milestone = validate_milestone_title(milestone)
        self.milestone = milestone
        self.priority = priority if priority is KEEP else parse_priority(priority)
        self.due_at = due_at if due_at is KEEP else parse_ts(due_at)

    def is_empty(self) -> bool:
        # assignees=[] is a change (it clears them); an empty add/remove list is not. For
        # milestone, priority and due_at None is a change too (it clears them): KEEP is not.
        clearable = ("assignees", "milestone", "priority", "due_at")
        return (
            self.assignees is None
            and all(getattr(self, name) is KEEP for name in clearable[1:])
            and all(
                getattr(self, name) in (None, []) for name in self._FIELDS if name not in clearable
            )
        )

    def values_for(self, issue: Issue) -> dict[str, Any]:
        """The editable fields of ``issue`` that change, with their new values."""
        values: dict[str, Any] = {}
        if self.title is not None and self.title != issue.title:
            values["title"] = self.title
        if self.description is not None and self.description != issue.description:
            values["description"] = self.description
        if self.state is not None and self.state is not issue.state:
            values["state"] = self.state
        assignees = list(self.assignees if self.assignees is not None else issue.assignees)
        assignees = [a for a in assignees if a not in self.remove_assignees]
        assignees = _unique([*assignees, *self.add_assignees])
        if sorted(assignees) != sorted(issue.assignees):
            values["assignees"] = assignees
        removed = {name.lower() for name in self.remove_labels}
        kept = [name for name in issue.labels if name.lower() not in removed]
        known = {name.lower() for name in kept}
        labels = kept + [name for name in self.add_labels if name.lower() not in known]
        if labels != issue.labels:
            values["labels"] = labels
        if self.milestone is not KEEP and self.milestone != issue.milestone:
            values["milestone"] = self.milestone
        if self.priority is not KEEP and self.priority != issue.priority:
            values["priority"] = self.priority
        if self.due_at is not KEEP and self.due_at != issue.due_at:
            values["due_at"] = self.due_at
        return values

    def apply_to(self, issue: Issue) -> Issue:
        """Change ``issue`` in place as this edit asks (for read-then-write backends)."""
        for name, value in self.values_for(issue).items():
            setattr(issue, name, value)
        return issue


# What an Issue built with only a title holds: the fields a partial update leaves alone.
_BLANK_SNAPSHOT = Issue("").editable_snapshot()

# Issue fields selectable with ``--json FIELDS`` (README "JSON shapes").
ISSUE_FIELDS = (
    "number",
    "title",
    "description",
    "state",
    "labels",
    "assignee",
    "assignees",
    "milestone",
    "author",
    "comments_count",
    "created_at",
    "updated_at",
    "closed_at",
    "url",
    "id",
    "version",
    "sync_metadata",
    "due_at",
    "priority",
    "priority_name",
    "close_reason",
    "node_id",
    "comments",
)


# --------------------------------------------------------------------------- filter


def _parse_states(
    value: IssueState | str | list[IssueState | str] | tuple[IssueState | str, ...] | None,
) -> tuple[IssueState, ...] | None:
    """``None``/``"all"`` -> every state; ``"open,in_progress"`` or a list -> those states."""
    if value is None:
        return None
    items: list[IssueState | str]
    if isinstance(value, IssueState):
        items = [value]
    elif isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    else:
        items = list(value)
    if not items or any(isinstance(v, str) and v.strip().lower() == "all" for v in items):
        return None
    states = tuple(dict.fromkeys(IssueState.parse(item) for item in items))
    return None if len(states) == len(IssueState) else states


SORT_KEYS = ("created", "updated", "number", "priority")

# IssueFilter's default state, as the CLI's ``issue list``: everything that is not closed.
NOT_CLOSED = (IssueState.OPEN, IssueState.IN_PROGRESS)


class IssueFilter(_Record):
    """What ``list_issues`` returns. By default every issue that is not closed (open and
    in_progress, as ``issue list``), with no limit. ``state=None`` or ``"all"`` means every
    state; several
    states are given as a list or comma-separated (``"open,in_progress"``), see ``states``.

    ``labels`` must all be present (AND). ``text`` is a full-text query over titles,
    descriptions and comments. ``limit=None`` means no limit. ``no_assignee`` keeps only
    issues nobody is assigned to, ``no_milestone`` only those in no milestone (each excludes
    naming one: ``assignee`` / ``milestone``).

    ``query`` (a ``core.query.Query`` or its text, see docs/query-language.md) is ANDed with
    the rest; its ``sort:`` replaces ``sort``/``direction``. Backends with the
    ``QUERY_LANGUAGE`` capability run it themselves; ``service.issues.list_issues`` runs it on
    every backend.
    """

    _FIELDS = (
        "states",
        "labels",
        "assignee",
        "no_assignee",
        "milestone",
        "no_milestone",
        "author",
        "text",
        "updated_since",
        "limit",
        "sort",
        "direction",
        "query",
    )

    def __init__(
        self,
        state: IssueState
        | str
        | list[IssueState | str]
        | tuple[IssueState | str, ...]
        | None = NOT_CLOSED,
        labels: list[str] | str | None = None,
        assignee: str | None = None,
        milestone: str | None = None,
        author: str | None = None,
        text: str | None = None,
        updated_since: datetime | str | None = None,
        limit: int | None = None,
        sort: str = "created",
        direction: str = "desc",
        *,
        no_assignee: bool = False,
        no_milestone: bool = False,
        query: Query | str | None = None,
    ) -> None:
        self.states = _parse_states(state)
        if isinstance(labels, str):
            labels = [labels]
        self.labels = _unique([validate_label_name(name) for name in labels or ()])
        if no_assignee and assignee is not None:
            raise ValidationError("give assignee or no_assignee, not both")
        if no_milestone and milestone is not None:
            raise ValidationError("give milestone or no_milestone, not both")
        self.assignee = assignee
        self.no_assignee = bool(no_assignee)
        self.milestone = milestone
        self.no_milestone = bool(no_milestone)
        self.author = author
        self.text = text
        self.updated_since = (
            parse_ts(updated_since) if isinstance(updated_since, str) else updated_since
        )
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ValidationError(f"limit must be a positive whole number, not {limit!r}")
        self.limit = limit
        if sort not in SORT_KEYS:
            raise ValidationError(
                f"unknown sort key {sort!r}", hint=f"expected one of: {', '.join(SORT_KEYS)}"
            )
        self.sort = sort
        if direction not in ("asc", "desc"):
            raise ValidationError(f"unknown direction {direction!r}", hint="expected asc or desc")
        self.direction = direction
        if isinstance(query, str):
            from issue_core.core.query import parse  # only a query pays for the language

            query = parse(query)
        self.query = query
        if query is not None and query.sort is not None:
            self.sort, self.direction = query.sort  # the query's sort: wins over the default

    @property
    def state(self) -> IssueState | None:
        """The one state asked for, or None when several or all are (``states`` says which)."""
        return self.states[0] if self.states is not None and len(self.states) == 1 else None

    def without_query(self) -> IssueFilter:
        """The same filter with no ``query`` (and the query's sort kept)."""
        copy = IssueFilter.__new__(IssueFilter)
        for name in self._FIELDS:
            setattr(copy, name, getattr(self, name))
        copy.query = None
        return copy

    def with_query(self, query: Query | None) -> IssueFilter:
        copy = self.without_query()
        copy.query = query
        if query is not None and query.sort is not None:
            copy.sort, copy.direction = query.sort
        return copy

    @property
    def excludes_closed(self) -> bool:
        return self.states is not None and IssueState.CLOSED not in self.states

    def matches(self, issue: Issue) -> bool:
        """The filter's meaning, equal to the local store's SQL: used by backends that filter
        in Python and by tests. ``text`` is searched in the title, the description and the
        comments (those loaded on ``issue.comments``; ``core.search`` gives the rules)."""
        if not self.matches_fields(issue):
            return False
        if self.query is not None and not self.query.matches(issue):
            return False
        if not self.text:
            return True
        from issue_core.core.search import text_matches  # only where Python filters

        comments = "\n".join(comment.body for comment in issue.comments or ())
        return text_matches(self.text, (issue.title, issue.description, comments))

    def matches_fields(self, issue: Issue) -> bool:
        """Every condition but ``text`` (for a backend whose server searched the text)."""
        if self.states is not None and issue.state not in self.states:
            return False
        if any(label not in issue.labels for label in self.labels):
            return False
        if self.assignee is not None and self.assignee not in issue.assignees:
            return False
        if self.no_assignee and issue.assignees:
            return False
        if self.milestone is not None and (
            issue.milestone is None
            or issue.milestone.strip().lower() != self.milestone.strip().lower()
        ):
            return False  # milestone titles are matched without case, as the store keys them
        if self.no_milestone and issue.milestone is not None:
            return False
        if self.author is not None and issue.author != self.author:
            return False
        since = self.updated_since
        stale = issue.updated_at is None or (
            isinstance(since, datetime) and issue.updated_at < since
        )
        return not (isinstance(since, datetime) and stale)
