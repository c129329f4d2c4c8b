"""The one sanitiser for text that reaches a terminal.

Issue text is untrusted: a title, body, label, user name or server answer can carry control
characters that a terminal obeys rather than shows — OSC sequences set the window title or write
the clipboard (OSC 52), DCS/APC/PM/SOS strings drive the terminal, BEL rings, backspace and
carriage return overwrite what was printed, C1 codes (``\\x9b`` is a CSI on its own) start
sequences without an ESC, and bidi overrides/isolates reorder what the reader sees. Every human
output path (tables, cards, confirmation lines, notes, error messages) passes user text through
:func:`for_terminal`, which renders each such character visibly (``\\x1b``, ``\\u202e``), so the
terminal shows the bytes and obeys none of them. JSON output never goes through here: it is data
for programs: in a pipe it is exactly what ``json.dumps`` gives, and on a terminal
:func:`json_for_terminal` writes the few controls JSON leaves raw (DEL, C1, bidi) as ``\\uXXXX``
escapes, which parse back to the same text.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, the Arabic letter mark, LRM/RLM, the bidi
# embeddings/overrides (U+202A-202E) and isolates (U+2066-2069), and the Unicode line and
# paragraph separators (some terminals and pagers break lines there).
_ALWAYS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_BLOCK_UNSAFE = re.compile(f"[{_ALWAYS}]")
_LINE_UNSAFE = re.compile(f"[\t\n{_ALWAYS}]")


# What json.dumps leaves unescaped but a terminal obeys (it already escapes C0 controls).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character a terminal would act on rendered as a visible escape.

    ``multiline`` keeps newlines and tabs (bodies and comments, which the card prints as
    blocks) and turns Windows line ends into plain newlines; a lone carriage return, which
    would let later text overwrite a line, is shown as ``\\r``.
    """
    if multiline:
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        unsafe = _BLOCK_UNSAFE
    else:
        unsafe = _LINE_UNSAFE
    if unsafe.search(text) is None:  # the common case: nothing to escape, no copy
        return text
    return unsafe.sub(_visible, text)


def json_for_terminal(document: str) -> str:
    """A JSON text safe to show on a terminal, parsing to the same value.

    Only strings can hold these characters, and ``\\uXXXX`` is their JSON spelling.
    """
    if _JSON_UNSAFE.search(document) is None:
        return document
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
