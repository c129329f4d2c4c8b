"""The wire format of the ingestion API: the TaskSpec request body and the responses.

These pydantic models are the single source of the OpenAPI document at ``/openapi.json`` and of
request validation. Limits mirror the domain model's (``issue_core.core.models``), so a task that
passes validation here is one every backend accepts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from issue_core.core.errors import IssueCoreError
from issue_core.core.models import (
    DESCRIPTION_MAX,
    LABEL_NAME_MAX,
    TITLE_MAX,
    IssueState,
    format_ts,
    validate_description,
    validate_label_name,
    validate_title,
    validate_username,
)
from issue_core.server.text import control_in, json_control_path
from issue_core.service.tasks import TaskInput

PRIORITY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
MAX_LABELS = 100
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _one_line(value: str) -> str:
    """Identifiers and short text (keys, names, ids, urls) carry no control characters: no
    NUL, line break or ESC can reach a backend's user table, a log line or a terminal."""
    found = control_in(value)
    if found is not None:
        raise ValueError(f"must not contain control characters (found U+{ord(found):04X})")
    return value


# What the validators accept, as JSON Schema patterns for the OpenAPI document (the validators
# stay the authority; these describe them, so generated clients and schemathesis see the same
# rules; tests/server/test_schema_patterns.py holds each to its validator). ECMA-262 syntax with
# explicit classes: `\s` differs between Python (which `str.strip` follows: \x1c-\x1f and \x85
# are blanks) and JavaScript.
_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f"  # what control_in finds: C0, DEL, C1
_PLAIN_WS = " \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"  # not controls
_BLANK = f"\\t\\x0b\\x0c\\x1c-\\x1f\\x85{_PLAIN_WS}"
_WS = f"{_BLANK}\\r\\n"  # what str.strip() removes


def _trimmed(forbidden: str) -> str:
    """Trimmed text that is not empty and holds none of ``forbidden`` (a class body)."""
    inner = f"[^{forbidden}]"
    edge = f"[^{_WS}{forbidden}]"
    return f"^[{_WS}]*{edge}(?:{inner}*{edge})?[{_WS}]*$"


# Python's (and so hypothesis' and jsonschema's) "$" also matches before a final newline, which
# ECMA-262's does not: "(?!\n)$" ends the text in both.
_END = "(?!\\n)$"
NO_CONTROLS_SCHEMA_PATTERN = f"^[^{_CONTROLS}]*{_END}"  # _one_line
TITLE_SCHEMA_PATTERN = _trimmed("\\r\\n\\x00")  # validate_title: one line once trimmed
LABEL_SCHEMA_PATTERN = _trimmed(",\\r\\n\\x00")  # validate_label_name
NO_NUL_SCHEMA_PATTERN = "^[^\\x00]*$"  # validate_description
PRIORITY_SCHEMA_PATTERN = f"^[{_WS}]*[A-Za-z0-9][A-Za-z0-9_.\\-]{{0,39}}[{_WS}]*$"
# A user name (_one_line, then validate_username): no control anywhere; trimmed, an optional
# leading "@", then at least one character and no blank or comma.
_NOT_IN_NAME = f"{_CONTROLS},{_BLANK}"
_USER = f"(?:@[^{_NOT_IN_NAME}]+|[^{_NOT_IN_NAME}@][^{_NOT_IN_NAME}]*)"
USERNAME_SCHEMA_PATTERN = f"^[{_PLAIN_WS}]*{_USER}[{_PLAIN_WS}]*{_END}"
PRIORITY_INT_MAX = 10**40 - 1  # 40 digits, like a word
# Free JSON without control characters in keys or strings (_no_controls_in), at any depth. A
# recursive schema: pydantic cannot carry the reference, so ``describe_free_json`` adds it to the
# document's schemas (app.py) once pydantic has made them.
CONTROL_FREE_JSON = "ControlFreeJSON"
_CONTROL_FREE_REF = {"$ref": f"#/components/schemas/{CONTROL_FREE_JSON}"}
_NO_CONTROLS = {"pattern": NO_CONTROLS_SCHEMA_PATTERN}
CONTROL_FREE_KEYS_AND_VALUES: dict[str, Any] = {
    "propertyNames": _NO_CONTROLS,
    "additionalProperties": _CONTROL_FREE_REF,
}
CONTROL_FREE_JSON_SCHEMA: dict[str, Any] = {
    "description": "Any JSON value without control characters in its object keys or strings.",
    "anyOf": [
        {"type": "string", **_NO_CONTROLS},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": _CONTROL_FREE_REF},
        {"type": "object", **CONTROL_FREE_KEYS_AND_VALUES},
    ],
}


def describe_free_json(schemas: dict[str, Any]) -> None:
    """State in the document's ``schemas`` that metadata and unknown fields (of the TaskSpec
    and of its source) carry no control characters."""
    schemas[CONTROL_FREE_JSON] = CONTROL_FREE_JSON_SCHEMA
    schemas["TaskSpec"]["properties"]["metadata"].update(CONTROL_FREE_KEYS_AND_VALUES)
    for name in ("TaskSpec", "Source"):
        schemas[name].update(CONTROL_FREE_KEYS_AND_VALUES)


ShortText = Annotated[
    str,
    StringConstraints(max_length=1000),
    AfterValidator(_one_line),
    Field(json_schema_extra=_NO_CONTROLS),
]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_one_line),
    Field(json_schema_extra=_NO_CONTROLS),
]
LabelName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=LABEL_NAME_MAX),
    Field(json_schema_extra={"pattern": LABEL_SCHEMA_PATTERN}),
]


def _no_controls_in(value: Any, what: str) -> None:
    """Refuse a control character anywhere in free JSON (object keys and string values).

    The error's ``path`` (e.g. ``.job["name"]`` or ``[2]``) is appended to the field's location
    in the answer (see ``app.validation_error_response``), so the client sees exactly where.
    """
    found = json_control_path(value)
    if found is not None:
        path, char = found
        raise PydanticCustomError(
            "control_character",
            "{what} must not contain control characters (found U+{code})",
            {"what": what, "code": f"{ord(char):04X}", "path": path},
        )


def _domain(check: Any, value: Any) -> Any:
    """Run a domain validator, turning its typed error into the ValueError pydantic expects."""
    try:
        return check(value)
    except IssueCoreError as exc:
        raise ValueError(exc.one_line()) from None


class Source(BaseModel):
    """Where a task came from. Recorded under ``sync_metadata.source`` of the created issue."""

    model_config = ConfigDict(extra="allow")

    system: Name | None = Field(
        default=None, description="Emitting system, e.g. `tracker`, `ci`, `scheduler`."
    )
    event_id: Name | None = Field(
        default=None,
        description="The event's id in that system; with `system` it forms the default"
        " idempotency key.",
    )
    emitted_at: datetime | None = Field(
        default=None, description="When the upstream emitted the event (ISO 8601)."
    )
    url: ShortText | None = Field(default=None, description="Link back to the upstream item.")
    actor: Name | None = Field(default=None, description="Who or what triggered the event.")
    trace_id: Name | None = Field(default=None, description="Distributed-tracing id to correlate.")

    @model_validator(mode="after")
    def _extras_are_text(self) -> Source:
        if self.model_extra:
            _no_controls_in(self.model_extra, "source fields")
        return self

    @field_validator("emitted_at", mode="before")
    @classmethod
    def _emitted_at_is_date_time(cls, value: Any) -> Any:
        # The schema says date-time: refuse numbers and date-only strings pydantic would coerce.
        if value is not None and not (isinstance(value, str) and _DATE_TIME.match(value)):
            raise ValueError("must be an RFC 3339 date-time, e.g. 2026-11-25T08:00:00Z")
        return value

    @field_validator("emitted_at")
    @classmethod
    def _emitted_at_in_range(cls, value: datetime | None) -> datetime | None:
        # An instant at the edge of time (0001-01-01T01:00+03:00) overflows when made UTC.
        if value is not None:
            try:
                value.astimezone(UTC)
            except (OverflowError, ValueError):
                raise ValueError("is outside the representable range of instants") from None
        return value


class TaskSpec(BaseModel):
    """A task emitted by an upstream system, to become one issue."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "title": "Flaky test: test_login times out",
                    "description": "Failed 3 of the last 10 runs on main.",
                    "labels": ["ci", "flaky"],
                    "priority": "high",
                    "metadata": {"pipeline": 4711, "job": "unit"},
                    "source": {
                        "system": "ci",
                        "event_id": "run-4711-job-3",
                        "emitted_at": "2026-11-25T08:00:00Z",
                        "url": "https://ci.example.com/runs/4711",
                        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    },
                }
            ],
        },
    )

    title: str = Field(
        min_length=1,
        max_length=TITLE_MAX,
        description="One line, 1-255 characters, not blank (trimmed).",
        json_schema_extra={"pattern": TITLE_SCHEMA_PATTERN},
    )
    description: str | None = Field(
        default=None,
        max_length=DESCRIPTION_MAX,
        description=f"Markdown body, at most {DESCRIPTION_MAX} characters, no NUL.",
        json_schema_extra={"pattern": NO_NUL_SCHEMA_PATTERN},
    )
    labels: list[LabelName] = Field(
        default_factory=list,
        max_length=MAX_LABELS,
        description="Label names; missing labels are created on the backend.",
    )
    assignee: Name | None = Field(
        default=None,
        description="Username to assign (`@bob` is `bob`): no blanks, commas or controls.",
        json_schema_extra={"pattern": USERNAME_SCHEMA_PATTERN},
    )
    priority: (
        Annotated[StrictStr, WithJsonSchema({"type": "string", "pattern": PRIORITY_SCHEMA_PATTERN})]
        | Annotated[
            StrictInt,
            WithJsonSchema({"type": "integer", "minimum": 0, "maximum": PRIORITY_INT_MAX}),
        ]
        | None
    ) = Field(
        default=None,
        description="Becomes the label `priority:<value>` (lower-cased) and"
        " `sync_metadata.priority`. Letters, digits, `_ . -`; at most 40 characters."
        " `critical|high|medium|low|backlog`, `0`-`4` and `p0`-`p4` also set the issue's"
        " `priority` (0 critical, 1 high, 2 medium, 3 low, 4 backlog).",
    )
    milestone: Name | None = Field(default=None, description="An existing milestone's title.")
    state: Literal["open", "in_progress", "closed"] = Field(
        default="open", description="Initial state."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Free JSON object, stored as `sync_metadata.metadata`. No control"
        " characters in its keys or strings.",
    )
    source: Source | None = None
    idempotency_key: Name | None = Field(
        default=None,
        description="Repeats with the same key never create a second issue. Default:"
        ' `source:["<source.system>","<source.event_id>"]` when both are given; else, when any of'
        " `source_type`, `source_id`, `triggering_event_id`, `activity_definition_id` is"
        " given, a key derived from all four; otherwise the `Idempotency-Key` header;"
        " otherwise none (every request creates an issue).",
    )
    backend: Name | None = Field(
        default=None,
        description="A configured backend to create the issue on instead of the server's"
        " default. An unknown name is answered 422.",
    )
    # activity-core's IssueSink (IssueCoreRestSink) posts these.
    target_repo: Name | None = Field(
        default=None,
        description="The repository the task is for. Without `backend`, the server's route for"
        " this name gets the task, else a configured backend whose `repo` (or `owner/repo`) is"
        " this name, else the default route; with no routes configured, otherwise the default"
        " backend; once routes exist, otherwise 422 `unknown_target_repo`. Recorded as"
        " `sync_metadata.target_repo`.",
    )
    due_in_days: Annotated[StrictInt, Field(ge=0, le=36500)] | None = Field(
        default=None,
        description="Due this many days after the server received the task: the issue's `due_at`.",
    )
    source_type: Name | None = Field(
        default=None, description="What kind of upstream object emitted it, e.g. `rule`."
    )
    source_id: Name | None = Field(default=None, description="That object's id.")
    triggering_event_id: Name | None = Field(
        default=None, description="The event or schedule key that triggered it."
    )
    activity_definition_id: Name | None = Field(
        default=None, description="The upstream activity definition."
    )

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return str(_domain(validate_title, value))

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, value: str | None) -> str | None:
        # The same rule as every front end's (a name, no blanks or controls), checked here so
        # the answer names the field rather than the backend refusing the user later.
        return None if value is None else str(_domain(validate_username, value))

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        _no_controls_in(value, "metadata keys and strings")
        return value

    @model_validator(mode="after")
    def _extras_are_text(self) -> TaskSpec:
        if self.model_extra:
            _no_controls_in(self.model_extra, "unknown fields")
        return self

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return None if value is None else str(_domain(validate_description, value))

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        return [str(_domain(validate_label_name, name)) for name in value]

    @field_validator("priority", "due_in_days", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        # JSON Schema's "integer" is any number with a zero fraction: 3.0 is the integer 3.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: str | int | None) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        # Checked before lower-casing: "\u212a" (the Kelvin sign) lower-cases to an ASCII "k".
        if not PRIORITY_PATTERN.match(text):
            raise ValueError(
                "priority must be 1-40 letters, digits, '_', '.' or '-', starting with a"
                " letter or digit"
            )
        return text.lower()

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return IssueState.parse(value).value
            except IssueCoreError:
                return value  # the Literal check reports it with the allowed values
        return value

    def to_input(self) -> TaskInput:
        """The validated task as the use case takes it (``service.tasks.TaskInput``)."""
        priority = self.priority
        return TaskInput(
            title=self.title,
            description=self.description,
            labels=self.labels,
            assignee=self.assignee,
            priority=None if priority is None else str(priority),
            milestone=self.milestone,
            state=self.state,
            metadata=self.metadata,
            source=self._source_record(),
            idempotency_key=self.idempotency_key,
            backend=self.backend,
            target_repo=self.target_repo,
            due_in_days=self.due_in_days,
            source_type=self.source_type,
            source_id=self.source_id,
            triggering_event_id=self.triggering_event_id,
            activity_definition_id=self.activity_definition_id,
            extra=self.model_extra or {},
        )

    def _source_record(self) -> dict[str, Any]:
        """``source`` as stored (``sync_metadata.source``): JSON values, ``emitted_at`` in the
        store's timestamp format; empty without a source."""
        source = self.source
        if source is None:
            return {}
        record = source.model_dump(mode="json", exclude_none=True)
        if source.emitted_at is not None:
            record["emitted_at"] = format_ts(source.emitted_at)
        return record


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code.")
    message: str = Field(description="What is wrong, in one line.")
    hint: str | None = None
    field_errors: list[dict[str, Any]] | None = Field(
        default=None, description="For validation errors: one entry per offending field."
    )
    tracking_id: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
    request_id: str


class IssueOut(BaseModel):
    """The issue as ``issue show N --format json`` prints it."""

    model_config = ConfigDict(extra="allow")

    number: int | None
    title: str
    description: str
    state: str
    labels: list[str]
    assignee: str | None
    assignees: list[str]
    milestone: str | None
    author: str | None
    comments_count: int
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    url: str | None
    id: str | None
    version: int | None
    sync_metadata: dict[str, Any]


class IngestResult(BaseModel):
    """Answer to ``POST /issues/``.

    ``status``: ``created`` (201), ``duplicate`` (200, the idempotency key was seen before;
    ``issue`` is the existing issue, or ``null`` while that earlier task is still queued),
    ``queued`` (202, the backend is unavailable; the task is in the durable outbox).
    """

    status: Literal["created", "duplicate", "queued"]
    tracking_id: str = Field(description="The task's id on this server (`status_url`).")
    idempotency_key: str | None = Field(description="The key the task was claimed under.")
    backend: str = Field(
        description="The configured backend the task went to: `backend`, else routed by"
        " `target_repo`, else the server's default."
    )
    issue_id: str | None = Field(
        description="`<backend>#<number>`: the same string on every repeat of the task; `null`"
        " only while the task is queued (follow `status_url`, which shows it once delivered)."
    )
    issue_url: str | None = Field(description="The issue's web page, where the backend has one.")
    issue_number: int | None = Field(description="The issue's number; `null` while queued.")
    issue: IssueOut | None = Field(description="The issue as stored; `null` while queued.")
    delivery: Literal["pending", "delivered", "failed"]
    status_url: str = Field(description="`GET` it for the task's delivery status.")
    request_id: str
    warnings: list[str]


class TrackingStatus(BaseModel):
    """Answer to ``GET /issues/ingest/{tracking_id}``."""

    tracking_id: str
    status: Literal["pending", "delivered", "failed"]
    phase: str = Field(
        description="Internal step: claimed, pending, delivering, delivered, failed."
    )
    backend: str
    idempotency_key: str | None
    issue_id: str | None
    issue_number: int | None
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    received_at: str
    delivered_at: str | None
    request_id: str | None
    title: str | None


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    backend: str
    detail: str
    outbox: dict[str, int]
