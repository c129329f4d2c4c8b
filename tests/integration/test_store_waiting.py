"""How ``issue watch`` waits on the local store (``backends/local/watching.py``): a commit by
another connection wakes the waiter, with inotify and with the stat fallback, and a wake is
never lost between two waits."""

from __future__ import annotations

import sys

import pytest

from issue_core.backends.local import LocalBackend, watching
from issue_core.core.models import Issue


@pytest.fixture
def stores(tmp_path):
    path = str(tmp_path / ".issue-core" / "issues.db")
    writer, watcher = LocalBackend(), LocalBackend()
    writer.connect({"path": path, "identity": "writer"})
    watcher.connect({"path": path, "identity": "watcher"})
    writer.create_issue(Issue(title="t"))
    yield writer, watcher
    writer.close()
    watcher.close()


@pytest.fixture(params=["inotify", "stat"])
def mode(request, monkeypatch):
    if request.param == "stat":
        monkeypatch.setattr(watching, "_inotify", lambda folder: None)
    elif not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux's")
    return request.param


def test_a_commit_wakes_the_waiter(stores, mode):
    writer, _ = stores
    waiter = watching.StoreWaiter(writer.store.path, interval=0.01)
    try:
        assert waiter.uses_inotify == (mode == "inotify")
        writer.add_comment(1, "between the waits")  # after the waiter exists: it must count
        assert waiter.wait(30) is True
    finally:
        waiter.close()


def test_wait_for_events_returns_once_the_log_grew_and_not_before(stores, mode):
    writer, watcher = stores
    head = watcher.event_cursor()
    assert watcher.wait_for_events(head, 0.2) is False  # nothing new: the time runs out
    writer.add_comment(1, "now")
    assert watcher.wait_for_events(head, 30) is True
    assert int(watcher.event_cursor()) == int(head) + 1
    found = watcher.list_events(since=head, until=watcher.event_cursor())
    assert [e.kind for e in found] == ["commented"]


def test_settle_looks_again_until_the_commit_is_visible():
    answers = iter([False, False, True])
    assert watching.settle(lambda: next(answers)) is True
    assert watching.settle(lambda: False) is False
