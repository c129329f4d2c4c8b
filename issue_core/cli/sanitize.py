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


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# C0 controls but tab and newline, DEL, C1 controls, the Arabic letter mark, LRM/RLM, the Unicode
# line and paragraph separators (some terminals and pagers break lines there), the bidi
# embeddings/overrides (U+202A-202E) and isolates (U+2066-2069). str.translate tables rather
# than a regular expression: compiling one costs start-up time on every human output.
_ALWAYS = [
    *range(0x00, 0x09),
    *range(0x0B, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x2028, 0x202F),
    *range(0x2066, 0x206A),
]
_BLOCK_TABLE = {code: _escape(code) for code in _ALWAYS}
_LINE_TABLE = {**_BLOCK_TABLE, 0x09: _escape(0x09), 0x0A: _escape(0x0A)}
# What json.dumps leaves unescaped but a terminal obeys (it already escapes C0 controls).
_JSON_TABLE = {code: f"\\u{code:04x}" for code in _ALWAYS if code >= 0x7F}


def for_terminal(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character a terminal would act on rendered as a visible escape.

    ``multiline`` keeps newlines and tabs (bodies and comments, which the card prints as
    blocks) and turns Windows line ends into plain newlines; a lone carriage return, which
    would let later text overwrite a line, is shown as ``\\r``.
    """
    if multiline:
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        return text.translate(_BLOCK_TABLE)
    return text.translate(_LINE_TABLE)


def json_for_terminal(document: str) -> str:
    """A JSON text safe to show on a terminal, parsing to the same value.

    Only strings can hold these characters, and ``\\uXXXX`` is their JSON spelling.
    """
    return document.translate(_JSON_TABLE)
