"""The rules of user metadata (``issue meta set N key=value``): keys and how a value is read.

Metadata lives in an issue's ``sync_metadata`` object, so it travels wherever the issue syncs
(the local store's column, a forge's hidden body block). Keys that start with ``issue-core:``
are issue-core's own (the forge block keeps the priority, the exact due instant, the agent
there): users may neither set nor unset them.

A value is JSON when it parses as JSON (``42``, ``true``, ``null``, ``[1,2]``,
``{"a":1}``, ``"quoted"``). Otherwise it is a string only when it clearly is one: a value
that *starts* like JSON (``{``, ``[`` or ``"``) but does not parse is an error, not the
string it happens to spell, so a mistyped object is never stored as text. ``key=`` is the
empty string.
"""

from __future__ import annotations

import json
from typing import Any

from issue_core.core.errors import ValidationError

RESERVED_PREFIX = "issue-core:"
MAX_KEY_LENGTH = 200
_JSON_STARTS = ("{", "[", '"')


def validate_key(key: str) -> str:
    """A metadata key: non-empty, printable, no ``=``, not issue-core's own."""
    if not key or not key.strip():
        raise ValidationError("a metadata key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"a metadata key is at most {MAX_KEY_LENGTH} characters")
    if any(not ch.isprintable() for ch in key):
        raise ValidationError(f"metadata key {key!r} holds a control character")
    if "=" in key:
        raise ValidationError(f"metadata key {key!r} must not contain '='")
    if key.startswith(RESERVED_PREFIX):
        raise ValidationError(
            f"metadata key {key!r} uses the reserved prefix {RESERVED_PREFIX!r}",
            hint="keys starting with issue-core: are issue-core's own",
        )
    return key


def parse_value(text: str) -> Any:
    """``text`` as JSON, or as the string it clearly is (see the module's rule)."""
    try:
        return json.loads(text)
    except ValueError as error:
        if text.lstrip().startswith(_JSON_STARTS):
            raise ValidationError(
                f"metadata value {text!r} is not valid JSON: {error.args[0].split(':')[0]}",
                hint=f"to store it as a string, write it as JSON: key={json.dumps(text)}",
            ) from None
        return text


def parse_assignment(assignment: str) -> tuple[str, Any]:
    """``key=value`` -> ``(key, value)``."""
    key, sep, raw = assignment.partition("=")
    if not sep:
        raise ValidationError(
            f"{assignment!r} is not key=value", hint="issue meta set 5 owner=alice size=3"
        )
    return validate_key(key), parse_value(raw)


def show_value(value: Any) -> str:
    """How a value prints on its own line: a string as itself, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
