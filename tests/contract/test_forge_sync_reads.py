"""Sync's reads on each forge, against its fake (every exchange contract-checked): what the
comment feed and the snapshot leave out (pull requests' comments), and what they cost in
requests -- the repository-wide comment lists of Gitea and GitHub, one request per changed
issue on GitLab -- and the snapshot's cursor, taken from the server's own clock."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

from issue_core.core.models import Issue

PAGE = 3  # small pages, so that every list here has several


@dataclass
class Forge:
    name: str
    running: Any
    backend: Any

    def requests(self, mark: Any, fragment: str = "") -> list[Any]:
        return [e for e in self.running.recorder.since(mark) if fragment in e.path]

    def pull_request_with_comment(self) -> None:
        fake = self.running.fake
        pull = fake.add_pull_request("a pull request")
        if self.name == "gitea":
            fake.state.new_comment(fake.repo, pull, fake.owner, "on the pull request")
        else:
            fake.add_comment(pull.number, "on the pull request")


def _connect(
    backend_class: Any, running: Any, tmp_path: Any, monkeypatch: Any, page: int = PAGE
) -> Any:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "http-cache"))
    backend = backend_class()
    backend.connect(running.backend_config(page_size=page, http_cache=False))
    return backend


@pytest.fixture(params=["gitea", "github", "gitlab"])
def forge(request, tmp_path, monkeypatch):
    if request.param == "gitea":
        from issue_core.backends.gitea import GiteaBackend

        request.getfixturevalue("gitea_options")
        running = request.getfixturevalue("fake_gitea")
        running.fake.max_response_items = PAGE
        backend = _connect(GiteaBackend, running, tmp_path, monkeypatch)
    elif request.param == "github":
        from issue_core.backends.github import GitHubBackend

        running = request.getfixturevalue("fake_github")
        backend = _connect(GitHubBackend, running, tmp_path, monkeypatch)
    else:
        from issue_core.backends.gitlab import GitLabBackend

        running = request.getfixturevalue("fake_gitlab")
        backend = _connect(GitLabBackend, running, tmp_path, monkeypatch)
    try:
        yield Forge(request.param, running, backend)
    finally:
        backend.close()


def _seed(forge: Forge, issues: int, comments_each: int) -> list[Issue]:
    made = [forge.backend.create_issue(Issue(title=f"issue {n}")) for n in range(issues)]
    for issue in made:
        for n in range(comments_each):
            forge.backend.add_comment(issue.number, f"comment {n} on #{issue.number}")
    return made


def test_comments_of_pull_requests_are_left_out(forge):
    if forge.name == "gitlab":
        pytest.skip("GitLab's merge requests have notes of their own, never in an issue's")
    (issue,) = _seed(forge, 1, 1)
    forge.pull_request_with_comment()
    changes, _ = forge.backend.comments_since(None)
    assert [(c.issue_number, c.comment.body) for c in changes] == [
        (issue.number, f"comment 0 on #{issue.number}")
    ]
    assert [c.body for c in forge.backend.iter_all_comments()] == [changes[0].comment.body]
    snap = forge.backend.snapshot()
    assert [i.number for i in snap.issues] == [issue.number]


def test_an_incremental_comment_read_after_the_issue_feed_costs_one_request_per_list(
    forge, tmp_path, monkeypatch
):
    forge.running.fake.max_response_items = 50  # Gitea's default pages: one page is enough
    backend = _connect(type(forge.backend), forge.running, tmp_path, monkeypatch, page=50)
    state = forge.running.fake.state
    state.clock = lambda: 1_800_000_000.0  # the fake's clock: the seeding, then later writes
    made = _seed(Forge(forge.name, forge.running, backend), 4, 1)
    state.clock = lambda: 1_800_000_050.0  # the cursors' second holds #1's last comment only
    backend.add_comment(made[0].number, "last seen")
    _, issue_cursor = backend.changes_since(None)
    _, comment_cursor = backend.comments_since(None)
    state.clock = lambda: 1_800_000_100.0
    backend.add_comment(made[1].number, "new")
    backend.add_comment(made[2].number, "newer")

    mark = forge.running.recorder.mark()
    issues, _ = backend.changes_since(issue_cursor)
    comments, _ = backend.comments_since(comment_cursor)
    assert {c.issue.number for c in issues} == {made[1].number, made[2].number}
    assert [(c.issue_number, c.comment.body) for c in comments] == [
        (made[1].number, "new"),
        (made[2].number, "newer"),
    ]
    assert [c.issue_id for c in comments] == [made[1].id, made[2].id]
    asked = [str(e) for e in forge.requests(mark) if e.method == "GET"]
    if forge.name == "gitlab":
        # No repository-wide notes: the issues changed since the cursor's second (one list:
        # the two, and #1 of the cursor's own second), then each one's notes.
        assert len(asked) == 1 + 1 + 3, asked
    else:
        # The issues since the cursor, then the repository's comments since it: one each.
        assert len(asked) == 2, asked
    backend.close()


def test_the_snapshot_reads_every_page_once_and_its_cursor_comes_from_the_server(forge):
    made = _seed(forge, 5, 2)  # 5 issues, 10 comments: 2 and 4 pages of 3
    mark = forge.running.recorder.mark()
    snap = forge.backend.snapshot()
    assert [len(i.comments) for i in sorted(snap.issues, key=lambda i: i.number)] == [2] * 5
    issue_pages = [e for e in forge.requests(mark, "/issues") if e.path.endswith("/issues")]
    assert len(issue_pages) == math.ceil(5 / PAGE)
    if forge.name == "gitlab":
        notes = [e for e in forge.requests(mark) if e.path.endswith("/notes")]
        assert len(notes) == 5  # one per issue with notes: GitLab has no repository-wide list
    else:
        comment_pages = forge.requests(mark, "/issues/comments")
        assert len(comment_pages) == math.ceil(10 / PAGE)
    # The cursor starts at the server's Date (less the overlap), not at this machine's clock:
    # the issues and comments of the last seconds come again, and nothing later is missed.
    assert snap.issue_cursor and snap.issue_cursor == snap.comment_cursor
    again, _ = forge.backend.changes_since(snap.issue_cursor)
    assert {c.issue.number for c in again} == {i.number for i in made}
    forge.backend.add_comment(made[0].number, "after")
    comments, _ = forge.backend.comments_since(snap.comment_cursor)
    assert "after" in [c.comment.body for c in comments]


def test_a_snapshot_rereads_an_issue_whose_comment_count_disagrees(forge):
    made = _seed(forge, 2, 1)
    reads = forge.backend._raw_comments_of

    def losing_one(issues: list[Issue]) -> Any:
        pairs = list(reads(issues))
        return iter(pairs[1:])  # a page that moved under the reader dropped one comment

    forge.backend._raw_comments_of = losing_one
    snap = forge.backend.snapshot()
    assert sorted(len(i.comments) for i in snap.issues) == [1, 1]
    assert {i.number for i in snap.issues} == {i.number for i in made}


def test_a_marked_comment_is_one_hidden_block_on_the_wire(forge):
    (issue,) = _seed(forge, 1, 0)
    forge.backend.agent = "worker-1"
    mark = forge.running.recorder.mark()
    added = forge.backend.add_comment(issue.number, "synced text", marker="sync-42")
    (post,) = [e for e in forge.requests(mark) if e.method == "POST"]
    sent = post.request_body.decode()
    assert "issue-core:comment-marker" in sent and "issue-core:agent" in sent
    assert (added.body, added.agent, added.marker) == ("synced text", "worker-1", "sync-42")
    (listed,) = forge.backend.list_comments(issue.number)
    assert (listed.body, listed.agent, listed.marker) == ("synced text", "worker-1", "sync-42")
