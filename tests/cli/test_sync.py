"""`issue sync` between two local stores: the plan, the writes, the links, conflicts and their
resolution, the bulk guard and bad input (exit codes, nothing changed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

CONFIG = """
[backends.mine]
type = "local"
path = "mine.db"

[backends.team]
type = "local"
path = "team.db"
"""


@pytest.fixture
def pair(git_project: Path) -> Path:
    folder = git_project / ".issue-core"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text(CONFIG)
    return git_project


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def as_json(result):
    return json.loads(ok(result).stdout)


def issues_of(issue, name):
    return as_json(issue("--backend", name, "list", "-s", "all", "--sort", "number",
                         "--order", "asc", "--format", "json", "-L", "0"))  # fmt: skip


def shared(issue_dict):
    keep = ("title", "description", "state", "labels", "assignees", "milestone", "priority",
            "due_at", "close_reason")  # fmt: skip
    return {k: (sorted(v) if isinstance(v, list) else v) for k, v in issue_dict.items()
            if k in keep}  # fmt: skip


def comments_of(issue, name, number):
    shown = as_json(issue("--backend", name, "show", str(number), "-c", "--format", "json"))
    return [c["body"].split("\n\n<!-- issue-core:sync-comment")[0] for c in shown["comments"]]


def sync(issue, *args):
    return issue("sync", *args, "--format", "json")


def test_pull_copies_issues_with_their_comments_and_a_second_run_writes_nothing(issue, pair):
    ok(issue("--backend", "mine", "create", "Crash on start", "-l", "bug", "-a", "bob",
             "-b", "Seen on 1.4", "--priority", "high"))  # fmt: skip
    ok(issue("--backend", "mine", "create", "Docs"))
    ok(issue("--backend", "mine", "comment", "1", "Root cause found"))
    ok(issue("--backend", "mine", "close", "2", "-r", "not_planned"))
    report = as_json(sync(issue, "pull", "mine", "team"))
    assert report["summary"]["created"] == 2 and report["summary"]["comments_added"] == 1
    assert [shared(i) for i in issues_of(issue, "team")] == [
        shared(i) for i in issues_of(issue, "mine")
    ]
    assert comments_of(issue, "team", 1) == ["Root cause found"]
    again = as_json(sync(issue, "pull", "mine", "team"))
    assert again["actions"] == [] and again["summary"]["created"] == 0
    # the copy carries its link id, so a lost state cannot make it a second copy
    team = issues_of(issue, "team")
    assert all("mine:team" in i["sync_metadata"]["issue-core-sync"] for i in team)


def test_dry_run_prints_the_exact_plan_and_writes_nothing(issue, pair):
    ok(issue("--backend", "mine", "create", "One"))
    ok(issue("--backend", "mine", "comment", "1", "hello"))
    plan = as_json(sync(issue, "pull", "mine", "team", "--dry-run"))
    assert plan["dry_run"] is True
    assert [(a["action"], a["on"], a["from"], a["source"]) for a in plan["actions"]] == [
        ("create", "team", "mine", 1),
        ("comment", "team", "mine", 1),
    ]
    assert not (pair / "team.db").exists() or issues_of(issue, "team") == []
    table = ok(issue("sync", "pull", "mine", "team", "--dry-run")).stdout
    assert (
        "plan (dry run, nothing written)" in table
        and "create   team  (new)   mine #1  One" in table
    )
    real = as_json(sync(issue, "pull", "mine", "team"))
    assert [(a["action"], a["on"]) for a in real["actions"]] == [
        ("create", "team"),
        ("comment", "team"),
    ]


def test_bidirectional_merges_fields_and_labels_from_both_sides(issue, pair):
    ok(issue("--backend", "mine", "create", "Login", "-l", "bug"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "mine", "edit", "1", "-t", "Login fails", "--add-label", "ui"))
    ok(issue("--backend", "team", "edit", "1", "-b", "Steps", "--add-label", "backend"))
    ok(issue("--backend", "team", "comment", "1", "seen too"))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert report["conflicts"] == []
    mine, team = issues_of(issue, "mine")[0], issues_of(issue, "team")[0]
    assert shared(mine) == shared(team)
    assert mine["title"] == "Login fails" and mine["description"] == "Steps"
    assert sorted(mine["labels"]) == ["backend", "bug", "ui"]
    assert comments_of(issue, "mine", 1) == ["seen too"]
    assert as_json(sync(issue, "bidirectional", "mine", "team"))["actions"] == []


def test_a_pull_leaves_the_targets_own_edits_for_a_later_bidirectional_run(issue, pair):
    ok(issue("--backend", "mine", "create", "Thing"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "team", "edit", "1", "-b", "team's words"))
    ok(issue("--backend", "mine", "edit", "1", "-t", "Thing 2"))
    ok(sync(issue, "pull", "mine", "team"))
    assert issues_of(issue, "mine")[0]["description"] == ""
    assert issues_of(issue, "team")[0]["title"] == "Thing 2"
    ok(sync(issue, "bidirectional", "mine", "team"))
    assert issues_of(issue, "mine")[0]["description"] == "team's words"


def test_a_conflict_is_reported_kept_and_resolved(issue, pair):
    ok(issue("--backend", "mine", "create", "Old title"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "mine", "edit", "1", "-t", "Mine"))
    ok(issue("--backend", "team", "edit", "1", "-t", "Theirs"))
    result = sync(issue, "bidirectional", "mine", "team")
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert [(c["field"], c["a_value"], c["b_value"]) for c in report["conflicts"]] == [
        ("title", "Mine", "Theirs")
    ]
    # never overwritten, and still reported on the next run
    assert issues_of(issue, "mine")[0]["title"] == "Mine"
    assert issues_of(issue, "team")[0]["title"] == "Theirs"
    assert sync(issue, "bidirectional", "mine", "team").exit_code == 4
    listed = as_json(issue("sync", "conflicts", "mine:team", "--format", "json"))
    assert [(c["field"], c["a_number"], c["b_number"]) for c in listed] == [("title", 1, 1)]
    ok(issue("sync", "resolve", "1", "--pair", "team:mine", "--take", "source"))
    assert issues_of(issue, "mine")[0]["title"] == "Theirs"
    assert as_json(issue("sync", "conflicts", "--format", "json")) == []
    assert as_json(sync(issue, "bidirectional", "mine", "team"))["actions"] == []


def test_resolve_with_a_value_and_force_with_a_direction(issue, pair):
    ok(issue("--backend", "mine", "create", "T", "-l", "x"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "mine", "edit", "1", "-t", "A", "--priority", "low"))
    ok(issue("--backend", "team", "edit", "1", "-t", "B", "--priority", "high"))
    assert sync(issue, "bidirectional", "mine", "team").exit_code == 4
    ok(issue("sync", "resolve", "1", "--pair", "mine:team", "title=Agreed", "--take", "target"))
    for name in ("mine", "team"):
        got = issues_of(issue, name)[0]
        assert (got["title"], got["priority"]) == ("Agreed", 1)
    ok(issue("--backend", "mine", "edit", "1", "-t", "M"))
    ok(issue("--backend", "team", "edit", "1", "-t", "N"))
    ok(sync(issue, "bidirectional", "mine", "team", "--force", "team"))
    assert issues_of(issue, "mine")[0]["title"] == "N"
    ok(issue("--backend", "mine", "edit", "1", "-t", "P"))
    ok(issue("--backend", "team", "edit", "1", "-t", "Q"))
    ok(sync(issue, "pull", "mine", "team", "--force"))
    assert issues_of(issue, "team")[0]["title"] == "P"


def test_comment_edits_travel_and_deletions_are_reported_not_mirrored(issue, pair):
    ok(issue("--backend", "mine", "create", "T"))
    ok(issue("--backend", "mine", "comment", "1", "first words"))
    ok(sync(issue, "bidirectional", "mine", "team"))
    ok(issue("--backend", "mine", "comment", "1", "--edit-last", "-b", "better words"))
    ok(sync(issue, "bidirectional", "mine", "team"))
    assert comments_of(issue, "team", 1) == ["better words"]
    ok(issue("--backend", "team", "comment", "1", "--delete-last", "--yes"))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert [a["action"] for a in report["actions"]] == ["comment_deleted"]
    assert comments_of(issue, "mine", 1) == ["better words"]
    assert as_json(sync(issue, "bidirectional", "mine", "team"))["actions"] == []


def test_first_sync_links_issues_with_the_same_marker_instead_of_copying(issue, pair):
    for name in ("mine", "team"):
        ok(issue("--backend", name, "create", "Task", "-l", "ops"))
        ok(issue("--backend", name, "meta", "set", "1", 'marker="task-7"'))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert [a["action"] for a in report["actions"]] == ["link"]
    assert len(issues_of(issue, "team")) == 1 and len(issues_of(issue, "mine")) == 1


def test_a_deleted_issue_is_reported_and_closed_only_when_configured(issue, pair):
    ok(issue("--backend", "mine", "create", "Gone soon"))
    ok(issue("--backend", "mine", "create", "Also gone"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "mine", "delete", "1", "--yes"))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert [(a["action"], a["on"], a["number"]) for a in report["actions"]] == [
        ("deleted", "mine", 1)
    ]
    assert issues_of(issue, "team")[0]["state"] == "open"
    (pair / ".issue-core" / "config.toml").write_text(CONFIG + '\n[sync]\non_delete = "close"\n')
    ok(issue("--backend", "mine", "delete", "2", "--yes"))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert [a["action"] for a in report["actions"]] == ["deleted", "close"]
    assert [i["state"] for i in issues_of(issue, "team")] == ["open", "closed"]


def test_the_bulk_guard_refuses_off_a_terminal_without_yes(issue, pair):
    (pair / ".issue-core" / "config.toml").write_text(CONFIG + "\n[sync]\nbulk_threshold = 2\n")
    for title in ("a", "b", "c"):
        ok(issue("--backend", "mine", "create", title))
    refused = issue("sync", "pull", "mine", "team")
    assert refused.exit_code == 2
    assert "would create or change 3 issues on team (more than 2)" in refused.stderr
    assert not (pair / "team.db").exists() or issues_of(issue, "team") == []
    ok(issue("sync", "pull", "mine", "team", "--yes"))
    assert len(issues_of(issue, "team")) == 3


def test_status_shows_each_synced_pair(issue, pair):
    ok(issue("--backend", "mine", "create", "x"))
    assert issue("sync", "status").stderr.strip() == "no pair has been synced yet"
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "mine", "create", "y"))
    rows = as_json(issue("sync", "status", "--format", "json"))
    assert [(r["pair"], r["direction"], r["links"], r["conflicts"]) for r in rows] == [
        (["mine", "team"], "pull", 1, 0)
    ]
    assert rows[0]["pending"]["mine"] >= 1


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["pull", "mine", "nope"], 3, "no backend named 'nope'"),
        (["pull", "mine", "mine"], 2, "cannot sync backend 'mine' with itself"),
        (["bidirectional", "mine", "team", "--force", "mine", "--force", "team"], 2,
         "conflicting --force directions"),
        (["resolve", "1", "--pair", "mine:team", "--take", "source"], 3, "has no sync conflict"),
        (["resolve", "1", "--pair", "mine:team", "--take", "source", "--take", "target"], 2,
         "conflicting --take"),
        (["conflicts", "mine-team"], 2, "invalid pair"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_with_its_exit_code_and_writes_nothing(issue, pair, args, code,
                                                                     words):  # fmt: skip
    ok(issue("--backend", "mine", "create", "x"))
    before = issues_of(issue, "mine")
    result = issue("sync", *args)
    assert result.exit_code == code, result.output
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert issues_of(issue, "mine") == before


def test_a_foreign_or_corrupt_sync_state_db_is_refused(issue, git_project, monkeypatch):
    """Two stores that are not local (here: the state dir forced elsewhere has a foreign db)
    -- the sync state db's own checks, on the standalone file."""
    from issue_core.core.errors import NotAStore, StoreError
    from issue_core.service.sync.state import SyncState

    foreign = git_project / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAStore, match="not an issue-core sync state db"):
        SyncState(str(foreign), in_local_store=False)
    corrupt = git_project / "corrupt.db"
    corrupt.write_bytes(b"this is no database at all" * 100)
    with pytest.raises(StoreError, match="cannot be read"):
        SyncState(str(corrupt), in_local_store=False)
    fresh = SyncState(str(git_project / "state" / "sync.db"), in_local_store=False)
    fresh.close()
    again = SyncState(str(git_project / "state" / "sync.db"), in_local_store=False)
    again.conn.execute("UPDATE sync_schema SET version = 99")
    again.close()
    with pytest.raises(StoreError, match="newer than this"):
        SyncState(str(git_project / "state" / "sync.db"), in_local_store=False)


def test_what_a_pull_could_not_carry_back_is_carried_by_the_next_bidirectional_run(issue, pair):
    """The target's own new issue and edit, read by a pull that cannot write them back, are
    kept pending although the target's cursor moves on."""
    ok(issue("--backend", "mine", "create", "Shared"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "team", "create", "Team only"))
    ok(issue("--backend", "team", "edit", "1", "-b", "team's words"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(sync(issue, "pull", "mine", "team"))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert sorted(a["action"] for a in report["actions"]) == ["create", "update"]
    assert [i["title"] for i in issues_of(issue, "mine")] == ["Shared", "Team only"]
    assert issues_of(issue, "mine")[0]["description"] == "team's words"


def test_a_copied_comment_hides_its_marker_but_keeps_it_in_storage(issue, pair):
    ok(issue("--backend", "mine", "create", "One"))
    ok(issue("--backend", "mine", "comment", "1", "Root cause found"))
    ok(sync(issue, "pull", "mine", "team"))
    shown = as_json(issue("--backend", "team", "show", "1", "-c", "--format", "json"))
    [comment] = shown["comments"]
    assert comment["body"] == "Root cause found" and len(comment["marker"]) == 32
    human = ok(issue("--backend", "team", "show", "1", "-c")).stdout
    assert "Root cause found" in human and "issue-core:sync-comment" not in human
    with sqlite3.connect(pair / "team.db") as db:
        [(stored,)] = db.execute("SELECT body FROM comments").fetchall()
    assert stored.startswith("Root cause found\n\n<!-- issue-core:sync-comment ")
    # the marker still finds the copy: a second run writes nothing
    assert as_json(sync(issue, "pull", "mine", "team"))["actions"] == []


def test_the_report_names_an_updated_issue_by_its_new_title(issue, pair):
    ok(issue("--backend", "mine", "create", "Old name"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "mine", "edit", "1", "-t", "New name"))
    for extra in (("--dry-run",), ()):
        report = as_json(sync(issue, "pull", "mine", "team", *extra))
        assert [(a["action"], a["title"]) for a in report["actions"]] == [("update", "New name")]
    ok(issue("--backend", "mine", "edit", "1", "-t", "Newer name"))
    table = ok(issue("sync", "pull", "mine", "team")).stdout
    assert "Newer name" in table and "New name\n" not in table
