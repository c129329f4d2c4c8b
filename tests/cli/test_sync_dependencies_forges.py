"""Dependencies travel between the local store and a forge (the fakes, held to their API
descriptions): Gitea keeps `blocks` natively and the rest in the hidden block; GitHub keeps
`blocks` and `parent` natively (dependencies, sub-issues); GitLab `related` (issue links).
Copied, removed, added on the forge, and never written twice."""

from __future__ import annotations

import pytest

from tests.cli.test_sync_dependencies import deps
from tests.cli.test_sync_github_gitlab import as_json, ok, write_config


def sync(issue, *args):
    return as_json(issue("sync", *args, "--format", "json"))


def dep_round_trip(issue, forge):
    for title in ("epic", "task", "blocker"):
        ok(issue("create", title))
    ok(issue("dep", "add", "2", "--parent", "1"))
    ok(issue("dep", "add", "3", "--blocks", "2"))
    ok(issue("dep", "add", "1", "--related", "3"))
    report = sync(issue, "push", "local", forge)
    assert report["summary"]["created"] == 3 and report["summary"]["dependencies_added"] == 3
    assert deps(issue, forge, 2) == {"parent": [1], "blocked_by": [3]}
    assert deps(issue, forge, 1) == {"children": [2], "related": [3]}
    sync(issue, "bidirectional", "local", forge)  # sync's own writes come back once
    assert sync(issue, "bidirectional", "local", forge)["actions"] == []
    ok(issue("dep", "remove", "3", "--blocks", "2"))
    report = sync(issue, "bidirectional", "local", forge)
    assert [(a["action"], a["on"]) for a in report["actions"]] == [("remove_dependency", forge)]
    assert deps(issue, forge, 2) == {"parent": [1]}
    ok(issue("--backend", forge, "dep", "add", "2", "--related", "3"))
    # a native dependency edit need not move the forge's issue feed: an edit of the issue does
    ok(issue("--backend", forge, "edit", "2", "--add-label", "ready"))
    report = sync(issue, "bidirectional", "local", forge)
    assert report["summary"]["dependencies_added"] == 1 and report["conflicts"] == []
    assert deps(issue, "local", 3) == {"related": [1, 2]}
    sync(issue, "bidirectional", "local", forge)
    assert sync(issue, "bidirectional", "local", forge)["actions"] == []
    assert deps(issue, forge, 2) == deps(issue, "local", 2)


@pytest.mark.parametrize("gitea_options", [{}])
def test_local_and_gitea(issue, git_project, fake_gitea):
    write_config(git_project, {"work": {"type": "gitea", **fake_gitea.backend_config()}})
    dep_round_trip(issue, "work")


def test_local_and_github(issue, git_project, fake_github):
    write_config(git_project, {"gh": fake_github.backend_config()})
    dep_round_trip(issue, "gh")


def test_local_and_gitlab(issue, git_project, fake_gitlab):
    write_config(git_project, {"lab": fake_gitlab.backend_config()})
    dep_round_trip(issue, "lab")
