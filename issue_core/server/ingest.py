"""From a validated TaskSpec to the issue to create and its outbox row.

This is where traceability is written: the created issue's ``sync_metadata`` records where the
task came from (``source``), how it arrived (``ingest``) and a ``marker`` that lets a retry find
an issue an interrupted attempt already created.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from issue_core._version import __version__
from issue_core.core.errors import ValidationError
from issue_core.core.models import Issue, IssueState, format_ts, parse_priority, utcnow
from issue_core.server.ids import new_id
from issue_core.server.keys import source_key
from issue_core.server.outbox import TaskRow
from issue_core.server.schema import TaskSpec

MARKER_PREFIX = "issue-core-ingest:"


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    key_fingerprint: str | None
    header_idempotency_key: str | None = None
    # The older-form key this task's original is stored under (keys.stored_original_key).
    stored_key: str | None = None


@dataclass
class PreparedTask:
    row: TaskRow
    issue: Issue
    warnings: list[str] = field(default_factory=list)


def marker_for(tracking_id: str) -> str:
    return f"{MARKER_PREFIX}{tracking_id}"


ACTIVITY_FIELDS = ("source_type", "source_id", "triggering_event_id", "activity_definition_id")


def idempotency_key_for(task: TaskSpec, header_key: str | None) -> str | None:
    if task.idempotency_key:
        return task.idempotency_key
    source = task.source
    if source is not None and source.system and source.event_id:
        return source_key(source.system, source.event_id)
    activity = [getattr(task, name) for name in ACTIVITY_FIELDS]
    if any(part is not None for part in activity):
        # activity-core retries through its workflow engine without a key of its own: these
        # four name the emission. A JSON array keeps the parts apart whatever they contain
        # ("a:b" + "c" is not "a" + "b:c"), and null stays distinct from "".
        return "activity:" + json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    return header_key or None


def prepare_task(task: TaskSpec, context: RequestContext, backend: str) -> PreparedTask:
    """The outbox row for ``task``: the issue to create, with its traceability metadata."""
    tracking_id = new_id()
    received = utcnow()
    warnings: list[str] = []
    key = context.stored_key or idempotency_key_for(task, context.header_idempotency_key)
    if key is None:
        warnings.append(
            "no idempotency key: a retry of this request would create a second issue"
            " (send idempotency_key, or source.system and source.event_id)"
        )
    if task.model_extra:
        names = ", ".join(sorted(task.model_extra))
        warnings.append(f"unknown fields kept under sync_metadata.extra_fields: {names}")

    labels = list(task.labels)
    if task.priority is not None:
        labels.append(f"priority:{task.priority}")

    sync_metadata: dict[str, Any] = {
        "marker": marker_for(tracking_id),
        "source": _source_record(task),
        "ingest": {
            "tracking_id": tracking_id,
            "request_id": context.request_id,
            "received_at": format_ts(received),
            "idempotency_key": key,
            "key_fingerprint": context.key_fingerprint,
            "backend": backend,
            "server_version": __version__,
        },
    }
    if task.priority is not None:
        sync_metadata["priority"] = task.priority
    if task.metadata:
        sync_metadata["metadata"] = task.metadata
    if task.target_repo is not None:
        sync_metadata["target_repo"] = task.target_repo
    activity = {name: getattr(task, name) for name in ACTIVITY_FIELDS}
    if any(value is not None for value in activity.values()):
        sync_metadata["activity"] = {k: v for k, v in activity.items() if v is not None}
    if task.model_extra:
        sync_metadata["extra_fields"] = dict(task.model_extra)

    issue = Issue(
        title=task.title,
        description=task.description or "",
        state=IssueState.parse(task.state),
        labels=labels,
        assignees=[task.assignee] if task.assignee else [],
        milestone=task.milestone,
        sync_metadata=sync_metadata,
        priority=_scale(task.priority),
        due_at=received + timedelta(days=task.due_in_days)
        if task.due_in_days is not None
        else None,
    )
    now = time.time()
    row = TaskRow(
        tracking_id=tracking_id,
        idempotency_key=key,
        backend=backend,
        status="claimed",
        marker=sync_metadata["marker"],
        issue_json=_issue_json(issue),
        request_id=context.request_id,
        received_at=sync_metadata["ingest"]["received_at"],
        created_at=now,
        updated_at=now,
    )
    return PreparedTask(row=row, issue=issue, warnings=warnings)


def _scale(priority: str | int | None) -> int | None:
    """activity-core's high/medium/low (and 0-4, p0-p4, critical, backlog) on the one
    priority scale; other priority words stay labels only."""
    try:
        return parse_priority(priority)
    except ValidationError:
        return None


def _issue_json(issue: Issue) -> str:
    try:
        return json.dumps(issue.to_dict(), separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise ValidationError(
            "the task contains NaN or Infinity, which JSON does not allow"
        ) from None


def _source_record(task: TaskSpec) -> dict[str, Any]:
    source = task.source
    if source is None:
        return {}
    record = source.model_dump(mode="json", exclude_none=True)
    if source.emitted_at is not None:
        record["emitted_at"] = format_ts(source.emitted_at)
    return record
