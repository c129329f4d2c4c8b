"""`issue sync` with GitHub and GitLab (the fakes, held to their API descriptions): local to
each forge and Gitea to GitHub -- copies with comments, edits both ways, a no-change run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def write_config(git_project: Path, backends: dict[str, dict]) -> None:
    lines = []
    for name, settings in backends.items():
        lines.append(f"[backends.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
        lines.append("")
    folder = git_project.parent / "config"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text("\n".join(lines))


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def as_json(result):
    return json.loads(ok(result).stdout)


def view(issue, name):
    listed = as_json(issue("--backend", name, "list", "-s", "all", "--format", "json", "-L", "0"))
    return sorted(
        (i["title"], i["description"], i["state"], sorted(i["labels"])) for i in listed
    ), listed


def round_trip(issue, source, target):
    ok(issue("--backend", source, "create", "Crash", "-l", "bug", "-b", "Seen on 1.4"))
    ok(issue("--backend", source, "create", "Docs"))
    number = view(issue, source)[1][0]["number"]
    ok(issue("--backend", source, "comment", str(number), "a note"))
    report = as_json(issue("sync", "push", source, target, "--format", "json"))
    assert report["summary"]["created"] == 2 and report["summary"]["comments_added"] == 1
    assert view(issue, source)[0] == view(issue, target)[0]
    copy = next(i for i in view(issue, target)[1] if i["title"] == "Crash")
    ok(issue("--backend", target, "edit", str(copy["number"]), "-b", "Seen on 1.5",
             "--add-label", "ui"))  # fmt: skip
    ok(issue("--backend", source, "close", str(number)))
    report = as_json(issue("sync", "bidirectional", source, target, "--format", "json"))
    assert report["conflicts"] == []
    assert view(issue, source)[0] == view(issue, target)[0]
    as_json(issue("sync", "bidirectional", source, target, "--format", "json"))
    again = as_json(issue("sync", "bidirectional", source, target, "--format", "json"))
    assert again["actions"] == []


def test_local_and_github(issue, git_project, fake_github):
    write_config(git_project, {"gh": fake_github.backend_config()})
    round_trip(issue, "local", "gh")


def test_local_and_gitlab(issue, git_project, fake_gitlab):
    write_config(git_project, {"lab": fake_gitlab.backend_config()})
    round_trip(issue, "local", "lab")


@pytest.mark.parametrize("gitea_options", [{}])
def test_gitea_and_github(issue, git_project, fake_gitea, fake_github):
    write_config(
        git_project, {"work": {"type": "gitea", **fake_gitea.backend_config()},
                      "gh": fake_github.backend_config()},
    )  # fmt: skip
    round_trip(issue, "work", "gh")
