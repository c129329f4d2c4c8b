"""The default idempotency key of a task that names its upstream event, and its older form.

``source.system`` + ``source.event_id`` make the key ``source:["<system>","<event_id>"]``: a JSON
array keeps the parts apart whatever they contain, as the activity-core key does
(``activity:[...]``, see ``ingest.py``). Earlier servers made it ``"<system>:<event_id>"``,
which made ``"ci:prod"`` + ``"42"`` and ``"ci"`` + ``"prod:42"`` one key: the second, distinct
event was answered as a duplicate and never created.

Tasks stored under that older form must still be found when their sender retries after the
upgrade. The older string alone cannot say which parts made it, so it is never rewritten; instead,
a task keyed by its source is also looked up under the older form, and a task stored there is
its original only if it recorded the same ``system`` and ``event_id`` (every task records its
``source``): a key that held another event (or an explicit key with another source) is not taken.
Then the task takes the stored key, and the claim answers it as the duplicate it is.
"""

from __future__ import annotations

import json
from typing import Protocol

from issue_core.server.outbox import TaskRow
from issue_core.server.schema import Source

SOURCE_PREFIX = "source:"


class KeyLookup(Protocol):
    def by_key(self, key: str) -> TaskRow | None: ...


def source_key(system: str, event_id: str) -> str:
    return SOURCE_PREFIX + json.dumps([system, event_id], ensure_ascii=False, separators=(",", ":"))


def legacy_source_key(system: str, event_id: str) -> str:
    """The ambiguous form stored before; only ever looked up, never claimed anew."""
    return f"{system}:{event_id}"


def stored_original_key(store: KeyLookup, source: Source | None) -> str | None:
    """The older-form key under which this task's original is stored, if it is."""
    if source is None or not source.system or not source.event_id:
        return None
    legacy = legacy_source_key(source.system, source.event_id)
    row = store.by_key(legacy)
    if row is None:
        return None
    recorded = row.issue_data.get("sync_metadata", {}).get("source") or {}
    if recorded.get("system") == source.system and recorded.get("event_id") == source.event_id:
        return legacy
    return None
