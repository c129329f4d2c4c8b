"""`issue sync` between the local store and Gitea (the fake, every exchange held to Gitea's
API description): copies, edits both ways, comments, conflicts, and the server's faults --
5xx, a dropped connection, a create whose 201 is lost, a rate limit mid-run -- resumed by the
next run with nothing duplicated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def work(fake_gitea, git_project: Path):
    """``work``: the fake Gitea, in the user's configuration (which needs no trust)."""
    settings = fake_gitea.backend_config(max_retries=1, timeout=5)
    lines = ["[backends.work]", 'type = "gitea"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    lines += ["", "[sync]", "bulk_threshold = 500"]
    folder = git_project.parent / "config"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text("\n".join(lines) + "\n")
    return fake_gitea


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def as_json(result):
    return json.loads(ok(result).stdout)


def issues_of(issue, name):
    listed = issue("--backend", name, "list", "-s", "all", "--sort", "number", "--order", "asc",
                   "--format", "json", "-L", "0")  # fmt: skip
    return as_json(listed)


def shared(item):
    keep = ("title", "description", "state", "milestone", "priority", "due_at", "close_reason")
    view = {k: item[k] for k in keep}
    view["labels"], view["assignees"] = sorted(item["labels"]), sorted(item["assignees"])
    meta = dict(item["sync_metadata"])
    meta.pop("issue-core-sync", None)
    view["sync_metadata"] = meta
    return view


def comments_of(issue, name, number):
    shown = as_json(issue("--backend", name, "show", str(number), "-c", "--format", "json"))
    return [c["body"].split("\n\n<!-- issue-core:sync-comment")[0] for c in shown["comments"]]


def agree(issue):
    local, work = issues_of(issue, "local"), issues_of(issue, "work")
    assert sorted(map(json.dumps, map(shared, local))) == sorted(map(json.dumps, map(shared, work)))
    return local, work


def sync(issue, *args):
    return issue("sync", *args, "--format", "json")


def test_push_local_to_gitea_then_edits_both_ways_and_comments(issue, work):
    ok(issue("milestone", "create", "v1"))
    ok(issue("create", "Crash on start", "-l", "bug", "-b", "Seen on 1.4", "--priority", "high",
             "-m", "v1", "--due", "2027-01-15"))  # fmt: skip
    ok(issue("create", "In flight"))
    ok(issue("edit", "2", "-s", "in_progress"))
    ok(issue("comment", "1", "Root cause: the cookie"))
    ok(issue("meta", "set", "1", 'owner="agent-1"'))
    report = as_json(sync(issue, "push", "local", "work"))
    assert report["summary"]["created"] == 2 and report["summary"]["comments_added"] == 1
    local, work_issues = agree(issue)
    assert work_issues[0]["milestone"] == "v1" and work_issues[1]["state"] == "in_progress"
    assert comments_of(issue, "work", work_issues[0]["number"]) == ["Root cause: the cookie"]
    # a no-change run writes nothing
    work.reset_count()
    assert as_json(sync(issue, "push", "local", "work"))["actions"] == []
    assert all(request.method == "GET" for request in work.requests())
    # edits on both sides, different fields: both survive
    ok(issue("edit", "1", "-t", "Crash on start-up", "--add-label", "ui"))
    number = work_issues[0]["number"]
    ok(issue("--backend", "work", "edit", str(number), "-b", "Seen on 1.4 and 1.5",
             "--add-label", "backend"))  # fmt: skip
    ok(issue("--backend", "work", "comment", str(number), "Same here"))
    ok(issue("--backend", "work", "close", str(work_issues[1]["number"])))
    report = as_json(sync(issue, "bidirectional", "local", "work"))
    assert report["conflicts"] == []
    local, _ = agree(issue)
    assert local[0]["title"] == "Crash on start-up"
    assert local[0]["description"] == "Seen on 1.4 and 1.5"
    assert sorted(local[0]["labels"]) == ["backend", "bug", "ui"]
    assert local[1]["state"] == "closed"
    assert comments_of(issue, "local", 1) == ["Root cause: the cookie", "Same here"]
    assert as_json(sync(issue, "bidirectional", "local", "work"))["actions"] == []


def test_pull_from_gitea_into_the_local_store(issue, work):
    ok(issue("--backend", "work", "create", "Forge issue", "-l", "ops"))
    ok(issue("--backend", "work", "comment", "1", "first!"))
    as_json(sync(issue, "pull", "work", "local"))
    local, _ = agree(issue)
    assert [i["title"] for i in local] == ["Forge issue"]
    assert comments_of(issue, "local", local[0]["number"]) == ["first!"]


def test_a_conflict_with_gitea_is_kept_and_resolved(issue, work):
    ok(issue("create", "Title"))
    as_json(sync(issue, "push", "local", "work"))
    number = issues_of(issue, "work")[0]["number"]
    ok(issue("edit", "1", "-t", "Local title"))
    ok(issue("--backend", "work", "edit", str(number), "-t", "Forge title"))
    result = sync(issue, "bidirectional", "local", "work")
    assert result.exit_code == 4
    assert [c["field"] for c in json.loads(result.stdout)["conflicts"]] == ["title"]
    assert issues_of(issue, "work")[0]["title"] == "Forge title"
    ok(issue("sync", "resolve", str(number), "--pair", "work:local", "--take", "target"))
    _, work_issues = agree(issue)
    assert work_issues[0]["title"] == "Local title"


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        # the server keeps failing: the run stops (exit 6) with what it did recorded
        pytest.param(lambda f: f.server_errors(6, method="POST", path="/issues$"), 6, id="5xx"),
        # a comment's POST dropped again and again: the run stops, the next one resumes
        pytest.param(lambda f: f.drop(3, method="POST", path="/comments$"), 6, id="dropped"),
        # a comment applied but its answer lost: found again by its marker, never doubled
        pytest.param(
            lambda f: f.drop(1, method="POST", path="/comments$", after_processing=True),
            0,
            id="lost-comment-answer",
        ),
        # the forge's create-once finds the issue whose 201 was lost, within the run
        pytest.param(
            lambda f: f.drop(1, method="POST", path="/issues$", after_processing=True),
            0,
            id="lost-201",
        ),
        # waited out by the HTTP layer: the run goes on
        pytest.param(lambda f: f.rate_limit(2, retry_after=1), 0, id="rate-limit"),
    ],
)
def test_server_faults_mid_run_are_resumed_without_duplicates(issue, work, fault, code):
    for n in range(4):
        ok(issue("create", f"Task {n}"))
        ok(issue("comment", str(n + 1), f"note {n}"))
    fault(work.fake.faults)
    first = sync(issue, "push", "local", "work")
    assert first.exit_code == code, first.output
    assert "Traceback" not in first.output
    if code:
        assert "run the sync again to resume" in json.loads(first.stdout)["notes"][-1]
    work.fake.faults.clear()
    for _ in range(2):
        sync(issue, "push", "local", "work")
    final = as_json(sync(issue, "push", "local", "work"))
    assert final["actions"] == []
    _, work_issues = agree(issue)
    assert sorted(i["title"] for i in work_issues) == [f"Task {n}" for n in range(4)]
    for item in work_issues:
        assert comments_of(issue, "work", item["number"]) == [item["title"].replace("Task", "note")]


def test_a_comment_edited_on_gitea_is_carried_though_the_issue_did_not_move(issue, work):
    """Gitea leaves an issue's updated_at alone when one of its comments is edited: the comment
    feed (repository-wide comments since the cursor) is what tells sync to look."""
    ok(issue("create", "T"))
    ok(issue("comment", "1", "first words"))
    as_json(sync(issue, "bidirectional", "local", "work"))
    as_json(sync(issue, "bidirectional", "local", "work"))  # reads its own writes back once
    shown = as_json(issue("--backend", "work", "show", "1", "-c", "--format", "json"))
    before = as_json(issue("--backend", "work", "show", "1", "--format", "json"))["updated_at"]
    comment_id = shown["comments"][0]["id"]
    ok(issue("--backend", "work", "comment", "1", "--edit", str(comment_id), "-b", "better words"))
    after = as_json(issue("--backend", "work", "show", "1", "--format", "json"))["updated_at"]
    assert after == before  # the issue feed alone would not see the edit
    report = as_json(sync(issue, "bidirectional", "local", "work"))
    assert [a["action"] for a in report["actions"]] == ["edit_comment"]
    assert comments_of(issue, "local", 1) == ["better words"]
    assert as_json(sync(issue, "bidirectional", "local", "work"))["actions"] == []
