"""The forge event cursor (``backends.forge.events``): resumable, never losing or repeating an
item, whatever the order in which the forge makes its history visible within ``OVERLAP``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issue_core.backends.forge.events import (
    OVERLAP,
    EventPosition,
    ForgeItem,
    new_events,
    scope_of,
)
from issue_core.core.errors import ValidationError
from issue_core.core.events import parse_since

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SCOPE = scope_of("gitea", "http://127.0.0.1/alice/tracker")


def item(key: str, second: int) -> ForgeItem:
    return ForgeItem(key, T0 + timedelta(seconds=second), 1, "commented", "ann", {"n": key})


def read_all(visible: list[ForgeItem], cursor: str | None, *, limit: int = 500) -> list:
    position = EventPosition.parse(cursor, scope=SCOPE, kind="gitea")
    return new_events(visible, position, limit=limit)


def test_resuming_from_each_cursor_gives_exactly_the_rest() -> None:
    items = [item(f"c{n}", n // 3) for n in range(20)]
    events = read_all(items, None)
    assert [e.data["n"] for e in events] == [i.key for i in sorted(items, key=lambda i: i.order)]
    for k, event in enumerate(events):
        rest = read_all(items, event.cursor)
        assert [e.data["n"] for e in rest] == [e.data["n"] for e in events[k + 1 :]]


def test_an_item_stamped_earlier_but_visible_later_is_delivered_once() -> None:
    first = [item("c1", 0), item("c3", 10)]
    cursor = read_all(first, None)[-1].cursor
    late = [*first, item("c2", 5)]  # stamped before c3, committed after it was read
    again = read_all(late, cursor)
    assert [e.data["n"] for e in again] == ["c2"]
    assert read_all(late, again[-1].cursor) == []


def test_the_seen_keys_are_kept_only_within_the_overlap() -> None:
    items = [item(f"c{n}", n * 30) for n in range(10)]
    cursor = read_all(items, None)[-1].cursor
    position = EventPosition.parse(cursor, scope=SCOPE, kind="gitea")
    assert position.floor == items[-1].at - OVERLAP
    assert [key for key, _ in position.seen] == ["c7", "c8", "c9"]


def test_limit_and_until_bound_a_read() -> None:
    items = [item(f"c{n}", n) for n in range(6)]
    head = EventPosition(SCOPE).covering(items[:4])
    found = new_events(items, EventPosition(SCOPE), limit=10, until=head)
    assert [e.data["n"] for e in found] == ["c0", "c1", "c2", "c3"]
    assert len(new_events(items, EventPosition(SCOPE), limit=2)) == 2


def test_a_time_starts_at_that_time() -> None:
    items = [item("c1", 0), item("c2", 5)]
    found = new_events(items, EventPosition.at_time(SCOPE, T0 + timedelta(seconds=5)), limit=9)
    assert [e.data["n"] for e in found] == ["c2"]


def test_zero_is_the_beginning_and_forge_cursors_are_cursors() -> None:
    assert EventPosition.parse("0", scope=SCOPE, kind="gitea") == EventPosition(SCOPE)
    cursor = read_all([item("c1", 0)], None)[0].cursor
    assert parse_since(cursor) == (cursor, None)


@pytest.mark.parametrize("bad", ["12", "fe1.", "fe1.!!!", "fe1.W10", "fe1.bm90IGpzb24"])
def test_a_garbled_or_local_cursor_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        EventPosition.parse(bad, scope=SCOPE, kind="gitea")


def test_a_cursor_of_another_repository_is_refused() -> None:
    cursor = read_all([item("c1", 0)], None)[0].cursor
    other = scope_of("gitea", "http://127.0.0.1/alice/other")
    with pytest.raises(ValidationError, match="another backend or repository"):
        EventPosition.parse(cursor, scope=other, kind="gitea")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 300), st.integers(0, OVERLAP.seconds - 1)),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.integers(1, 7), min_size=1, max_size=10),
)
def test_a_reader_polling_meanwhile_gets_every_item_once(
    stamps: list[tuple[int, int]], pages: list[int]
) -> None:
    """Item n is stamped at ``second`` and becomes visible ``delay`` later (under OVERLAP);
    a reader polls at every second with small pages, resuming from its last cursor."""
    items = [(item(f"k{n}", second), second + delay) for n, (second, delay) in enumerate(stamps)]
    delivered: list[str] = []
    cursor: str | None = None
    last = max(visible for _, visible in items)
    for now in range(last + 2):
        visible = [i for i, shown in items if shown <= now]
        limit = pages[now % len(pages)]
        while True:
            found = read_all(visible, cursor, limit=limit)
            delivered.extend(e.data["n"] for e in found)
            if found:
                cursor = found[-1].cursor
            if len(found) < limit:
                break
    assert sorted(delivered) == sorted(i.key for i, _ in items)
    assert len(delivered) == len(set(delivered))
