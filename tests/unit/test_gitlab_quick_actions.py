"""``gitlab.quick_actions``: whatever the text, no line of what is written to GitLab is a quick
action GitLab would run (as the fake GitLab reads them), and the text reads back as it was."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from issue_core.backends.gitlab.quick_actions import ZWSP, neutralise, restore, rewritten
from tests.fakes.gitlab_quick_actions import (
    AUTHOR_COMMANDS,
    PLANNER_COMMANDS,
    UNKEPT_COMMANDS,
    extract,
)

EVERY_COMMAND = AUTHOR_COMMANDS | PLANNER_COMMANDS | UNKEPT_COMMANDS
# Lines built from what matters here: slashes, blanks, zero-width spaces, commands, fences.
PIECES = st.sampled_from(["/", " ", "\t", ZWSP, "close", "label ~bug", "```", ">>>", "x", "\r"])
LINES = st.lists(PIECES, max_size=6).map("".join)
TEXTS = st.lists(LINES, max_size=8).map("\n".join) | st.text(max_size=80)


@given(TEXTS)
def test_what_is_written_runs_nothing_and_reads_back_exactly(text: str) -> None:
    written = neutralise(text)
    assert extract(written, EVERY_COMMAND)[1] == []
    assert restore(written) == text


@given(TEXTS)
def test_a_stored_body_rewritten_runs_nothing_and_keeps_what_it_reads_as(stored: str) -> None:
    again = rewritten(stored)
    assert extract(again, EVERY_COMMAND)[1] == []
    assert restore(again) == restore(stored)
    assert rewritten(again) == again  # neutralised lines are not neutralised twice


def test_the_prefix_goes_before_the_slash_and_only_there() -> None:
    assert neutralise("/close") == f"{ZWSP}/close"
    assert neutralise("  /close\nplain / text") == f"  {ZWSP}/close\nplain / text"
    assert neutralise(f"{ZWSP}/x") == f"{ZWSP}{ZWSP}/x"
    assert restore(f"{ZWSP}plain") == f"{ZWSP}plain"
