"""Untrusted text that tries to drive a terminal, and the check that none of it can.

Shared by the CLI and server tests: each test puts these strings where users' text goes and
asserts with :func:`assert_inert` that what reached the terminal obeys nothing.
"""

from __future__ import annotations

import re

# One of every kind of sequence a terminal acts on, each between plain letters.
SEQUENCES = {
    "osc52": "\x1b]52;c;aGVsbG8=\x07",  # write the clipboard
    "osc_title": "\x1b]0;owned\x1b\\",  # set the window title (ST-terminated)
    "dcs": "\x1bP1$qm\x1b\\",  # device control string
    "apc": "\x1b_payload\x1b\\",
    "pm": "\x1b^payload\x1b\\",
    "sos": "\x1bXpayload\x1b\\",
    "csi": "\x1b[2J\x1b[31m",  # clear screen, red
    "c1_csi": "\x9b31m",  # CSI as one C1 byte
    "c1_osc": "\x9d0;t\x9c",
    "bel": "\x07",
    "backspace": "ok\x08\x08no",
    "del": "\x7f",
    "vt_ff": "\x0b\x0c",
    "bidi_override": "\u202eevil\u202c",
    "bidi_embed": "\u202a\u202b\u202d",
    "bidi_isolate": "\u2066\u2067\u2068x\u2069",
    "marks": "\u200e\u200f\u061c",
    "nul_esc": "\x1b",
}
# A single line (titles, names): no newline, carriage return or NUL, which validation refuses.
HOSTILE_LINE = "T " + " ".join(f"<{seq}>" for seq in SEQUENCES.values())
# A body: lines, a Windows line end, and a lone carriage return that would overwrite a line.
HOSTILE_BODY = "first line\r\nsecond \x1b]52;c;eA==\x07 line\rOVERWRITE\n\tindented \u202e x"

# What we may print ourselves: colour (SGR) sequences of the human renderers.
_OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def assert_inert(text: str, *, colour: bool = False) -> None:
    """``text`` holds nothing a terminal would obey (newline and tab only, plus our own
    colour codes when ``colour``)."""
    checked = _OUR_SGR.sub("", text) if colour else text
    found = _UNSAFE.findall(checked)
    assert not found, f"terminal controls reached the output: {found!r} in {text!r}"
