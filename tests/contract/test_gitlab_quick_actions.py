"""GitLab quick actions: the fake GitLab runs them as GitLab does (a description's or a note's
line that starts with ``/close``, ``/label ~bug`` ... is a command, not text), and GitLabBackend
writes issue text so that none ever runs, reading it back exactly as it was written. Every
exchange is contract-checked by the ``fake_gitlab`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from issue_core.backends.forge.body import BLOCK_START
from issue_core.backends.gitlab import GitLabBackend
from issue_core.core.dependencies import Link
from issue_core.core.models import Issue, IssueState
from tests.fakes.gitlab_fixtures import RunningGitLab, owner_client
from tests.fakes.gitlab_state import DEVELOPER, GUEST

P = "/projects/group%2Fsub%2Frepo"
ZWSP = "\u200b"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def api(fake_gitlab: RunningGitLab) -> Iterator[httpx.Client]:
    with owner_client(fake_gitlab) as client:
        yield client


@pytest.fixture
def backend(fake_gitlab: RunningGitLab) -> Iterator[GitLabBackend]:
    fake_gitlab.fake.add_label("bug")
    fake_gitlab.fake.add_member("mallory", DEVELOPER)
    connected = GitLabBackend(sleep=lambda s: None)
    connected.connect(fake_gitlab.backend_config(http_cache=False))
    yield connected
    connected.close()


# --------------------------------------------------------------------------- the fake


def test_the_fake_runs_a_descriptions_commands_and_keeps_the_rest(fake_gitlab, api):
    fake_gitlab.fake.add_label("bug")
    fake_gitlab.fake.add_member("alice", DEVELOPER)
    text = "Steps:\n/close\n/label ~bug\n/assign @alice\n/spend 1h\n/nosuchcommand\nend"
    created = api.post(f"{P}/issues", json={"title": "t", "description": text}).json()
    assert created["description"] == "Steps:\n/nosuchcommand\nend"
    assert created["state"] == "closed" and created["labels"] == ["bug"]
    assert [a["username"] for a in created["assignees"]] == ["alice"]
    edited = api.put(f"{P}/issues/1", json={"description": "again\n/reopen"}).json()
    assert edited["state"] == "opened" and edited["description"] == "again"


def test_the_fake_leaves_commands_in_code_html_and_quote_blocks_and_off_the_first_column(api):
    text = (
        "```\n/close\n```\n<details>\n/close\n</details>\n>>>\n/close\n>>>\n /close\n\u200b/close"
    )
    created = api.post(f"{P}/issues", json={"title": "t", "description": text}).json()
    assert created["state"] == "opened" and created["description"] == text
    unclosed = api.post(f"{P}/issues", json={"title": "u", "description": "```\n/close"}).json()
    assert unclosed["state"] == "closed"  # a fence never closed is no block


def test_the_fake_stores_no_note_of_commands_alone_and_strips_them_from_others(fake_gitlab, api):
    fake_gitlab.fake.add_label("bug")
    api.post(f"{P}/issues", json={"title": "t"})
    only = api.post(f"{P}/issues/1/notes", json={"body": "/close"})
    assert only.status_code == 202
    assert only.json()["commands_changes"] == {"state_event": "close"}
    assert api.get(f"{P}/issues/1").json()["state"] == "closed"
    mixed = api.post(f"{P}/issues/1/notes", json={"body": "fixed\n/label ~bug"}).json()
    assert mixed["body"] == "fixed"
    users = [n for n in api.get(f"{P}/issues/1/notes").json() if not n["system"]]
    assert [n["body"] for n in users] == ["fixed"]  # the 202 stored nothing
    assert api.get(f"{P}/issues/1").json()["labels"] == ["bug"]
    # A note edited to commands alone runs them and is gone.
    api.put(f"{P}/issues/1/notes/{mixed['id']}", json={"body": "/reopen"})
    assert api.get(f"{P}/issues/1").json()["state"] == "opened"
    assert api.get(f"{P}/issues/1/notes/{mixed['id']}").status_code == 404


def test_a_command_the_writer_may_not_run_stays_text(fake_gitlab):
    fake_gitlab.fake.add_label("bug")
    fake_gitlab.fake.add_member("visitor", GUEST)
    fake_gitlab.fake.add_token("visitor", "glpat-fake-guest-4444444444", scopes=("api",))
    fake_gitlab.fake.add_issue("theirs")
    headers = {"PRIVATE-TOKEN": "glpat-fake-guest-4444444444"}
    with httpx.Client(base_url=fake_gitlab.api_url, headers=headers, timeout=10) as guest:
        note = guest.post(f"{P}/issues/1/notes", json={"body": "/label ~bug\n/close"}).json()
    assert note["body"] == "/label ~bug\n/close"
    assert fake_gitlab.fake.issue(1).labels == [] and fake_gitlab.fake.issue(1).state == "opened"


# --------------------------------------------------------------------------- the backend

COMMANDS = "/close\n/label ~bug\n/assign @mallory\n/spend 1h\n/title pwned"


def _stored(fake_gitlab: RunningGitLab, number: int) -> Any:
    return fake_gitlab.fake.issue(number)


def test_a_description_of_commands_creates_an_open_issue_that_reads_back_exactly(
    fake_gitlab, backend
):
    created = backend.create_issue(Issue(title="safe", description="/close"))
    assert created.state is IssueState.OPEN and created.description == "/close"
    again = backend.create_issue(Issue(title="safe too", description=COMMANDS))
    stored = _stored(fake_gitlab, again.number)
    assert stored.state == "opened" and stored.title == "safe too"
    assert stored.labels == [] and stored.assignee_ids == []
    read = backend.get_issue_by_number(again.number)
    assert read.description == COMMANDS and read.state is IssueState.OPEN
    assert read.labels == [] and read.assignees == []


def test_an_edited_description_of_commands_runs_none(fake_gitlab, backend):
    text = "done?\n/close\n  /label ~bug"
    issue = backend.create_issue(Issue(title="t", description="plain"))
    issue.description = text
    updated = backend.update_issue(issue)
    assert updated.state is IssueState.OPEN and updated.description == text
    assert _stored(fake_gitlab, issue.number).state == "opened"
    # Unchanged text is not written again: the neutralised form compares equal to it.
    issue.title = "t2"
    backend.update_issue(issue)
    notes = fake_gitlab.fake.project.notes.values()
    assert [n.body for n in notes if n.system and "description" in n.body] == [
        "changed the description"
    ]
    assert backend.get_issue_by_number(issue.number).description == text


def test_a_comment_of_commands_is_stored_as_text_and_reads_back_exactly(fake_gitlab, backend):
    issue = backend.create_issue(Issue(title="t"))
    comment = backend.add_comment(issue.number, "/close")
    assert comment.body == "/close" and comment.id
    assert [c.body for c in backend.list_comments(issue.number)] == ["/close"]
    assert _stored(fake_gitlab, issue.number).state == "opened"
    edited = backend.edit_comment(issue.number, comment.id, "/label ~bug\n/close")
    assert edited.body == "/label ~bug\n/close"
    assert [c.body for c in backend.list_comments(issue.number)] == ["/label ~bug\n/close"]
    stored = _stored(fake_gitlab, issue.number)
    assert stored.state == "opened" and stored.labels == []


def test_text_that_holds_the_invisible_prefix_itself_round_trips(backend):
    text = f"{ZWSP}/close\n{ZWSP}{ZWSP}/x\n{ZWSP}plain\n/"
    issue = backend.create_issue(Issue(title="t", description=text))
    assert backend.get_issue_by_number(issue.number).description == text
    assert backend.add_comment(issue.number, text).body == text


def test_the_hidden_metadata_block_is_left_as_it_is(fake_gitlab, backend):
    metadata = {"note": "x\n/close", "path": "/label ~bug"}
    issue = backend.create_issue(
        Issue(title="t", description="/close", sync_metadata=metadata, priority=1)
    )
    stored = _stored(fake_gitlab, issue.number).description
    block = stored[stored.index(BLOCK_START) :]
    assert ZWSP not in block and stored.startswith(f"{ZWSP}/close")
    read = backend.get_issue_by_number(issue.number)
    assert read.sync_metadata == metadata and read.priority == 1
    assert read.state is IssueState.OPEN


def test_a_body_rewritten_for_a_link_neutralises_a_line_gitlab_left_unrun(fake_gitlab, backend):
    """A Guest's ``/label ~bug`` stays text on GitLab (a Guest may not label): written back
    unchanged by a token that may, it would run. The backend's rewrite keeps it text."""
    for title in ("child", "parent"):
        fake_gitlab.fake.add_issue(title, description="please\n/label ~bug", author="visitor")
    assert backend.add_link(Link("parent", 1, 2))
    stored = [_stored(fake_gitlab, n) for n in (1, 2)]
    assert [s.labels for s in stored] == [[], []]
    assert any(s.description.startswith(f"please\n{ZWSP}/label ~bug") for s in stored)
    for number in (1, 2):
        assert backend.get_issue_by_number(number).description == "please\n/label ~bug"


def test_a_note_gitlab_still_ran_as_commands_is_one_line_not_a_traceback(
    fake_gitlab, backend, monkeypatch
):
    """Were a GitLab to run a neutralised line anyway, its 202 (no note) is said in one line."""
    from issue_core.backends.gitlab import backend as gitlab_backend
    from issue_core.core.errors import ValidationError

    monkeypatch.setattr(gitlab_backend, "neutralise", lambda text: text)
    issue = backend.create_issue(Issue(title="t"))
    with pytest.raises(ValidationError, match="ran the comment on #1 as quick actions") as caught:
        backend.add_comment(issue.number, "/close")
    assert caught.value.exit_code == 2 and "\n" not in caught.value.one_line()
