"""Control characters in client text: found fast, and where.

A control character (C0, DEL, C1: Unicode category Cc) in an identifier or in free metadata is
never data an issue needs, and it is what turns stored text into a terminal escape, a forged log
line or a user named "bob\\n". Titles and descriptions keep their own rules (core/models.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def control_in(text: str) -> str | None:
    """The first control character in ``text``, or ``None``."""
    if text.isprintable():  # C fast path: true for nearly every real string
        return None
    for char in text:
        code = ord(char)
        if code < 0x20 or 0x7F <= code < 0xA0:
            return char
    return None  # not printable for another reason (a space other than U+0020, a format char)


def json_control_path(value: Any) -> tuple[str, str] | None:
    """``(path, char)`` of the first control character in an object key or string of ``value``
    (decoded JSON), or ``None``. The path reads ``.job.name``, ``["a b"]`` or ``[2]``."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            found = control_in(item)
            if found is not None:
                return path, found
        elif isinstance(item, dict):
            for key, child in item.items():
                step = path_step(str(key))
                found = control_in(str(key))
                if found is not None:
                    return path + step, found
                stack.append((path + step, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
    return None


def path_step(key: str) -> str:
    """One key of a path: `.name`, or `["any text"]` JSON-escaped."""
    # json.dumps escapes whatever the key holds, so the path itself is inert text.
    return f".{key}" if _PLAIN_KEY.fullmatch(key) else f"[{json.dumps(key)}]"
