"""`issue label ...`, `issue milestone ...`, `issue user list`, `issue whoami`."""

from __future__ import annotations

import json

import pytest


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- labels


def test_label_lifecycle(issue):
    assert issue("label", "list").stderr == "no labels yet\n"
    assert as_json(issue("label", "list", "--format", "json")) == []
    created = issue("label", "create", "bug", "--color", "#F00", "--description", "Broken")
    assert created.stdout == "created label bug\n"
    assert as_json(issue("label", "list", "--format", "json")) == [
        {"name": "bug", "color": "ff0000", "description": "Broken"}
    ]
    issue("create", "x", "--label", "bug")
    renamed = as_json(issue("label", "edit", "bug", "--name", "defect", "--format", "json"))
    assert renamed == {"name": "defect", "color": "ff0000", "description": "Broken"}
    assert as_json(issue("show", "1", "--json", "labels")) == {"labels": ["defect"]}
    deleted = issue("label", "delete", "defect")
    assert deleted.stdout == "deleted label defect\n"
    assert as_json(issue("show", "1", "--json", "labels")) == {"labels": []}
    table = issue("label", "create", "docs", "--color", "00f")
    assert table.exit_code == 0
    assert issue("label", "list").stdout.splitlines()[1].split() == ["docs", "#0000ff"]


def test_label_edit_keeps_the_stored_spelling_unless_renamed(issue):
    issue("label", "create", "api")
    edited = as_json(issue("label", "edit", "API", "--color", "f00", "--format", "json"))
    assert edited["name"] == "api" and edited["color"] == "ff0000"
    renamed = as_json(issue("label", "edit", "api", "--name", "API", "--format", "json"))
    assert renamed["name"] == "API"


def test_label_errors(issue):
    issue("label", "create", "bug")
    assert issue("label", "create", "bug").exit_code == 4
    assert issue("label", "create", "BUG").exit_code == 4
    assert issue("label", "create", "a,b").exit_code == 2
    assert issue("label", "create", "x", "--color", "nothex").exit_code == 2
    assert issue("label", "create", "x" * 51).exit_code == 2
    assert issue("label", "edit", "nope", "--name", "y").exit_code == 3
    assert issue("label", "edit", "bug").exit_code == 2
    assert issue("label", "delete", "nope").exit_code == 3
    deleted = as_json(issue("label", "delete", "bug", "--format", "json"))
    assert deleted == {"name": "bug", "deleted": True}


def test_labels_json_fields_and_jq(issue):
    issue("label", "create", "b")
    issue("label", "create", "a")
    assert issue("label", "list", "--jq", ".[].name").stdout == "a\nb\n"
    assert issue("label", "list", "--json").stdout.split() == ["name", "color", "description"]


# --------------------------------------------------------------------------- milestones


def test_milestone_lifecycle(issue):
    assert issue("milestone", "list").stderr == "no milestones match\n"
    created = as_json(
        issue(
            "milestone",
            "create",
            "v1",
            "--due",
            "2026-12-31",
            "--description",
            "First",
            "--format",
            "json",
        )
    )
    assert created["title"] == "v1" and created["due_on"] == "2026-12-31T00:00:00Z"
    issue("create", "x", "--milestone", "v1")
    listed = as_json(issue("milestone", "list", "--format", "json"))
    assert [(m["title"], m["open_issues"]) for m in listed] == [("v1", 1)]
    edited = as_json(
        issue("milestone", "edit", "v1", "--title", "v1.0", "--due", "", "--format", "json")
    )
    assert edited["title"] == "v1.0" and edited["due_on"] is None
    assert edited["description"] == "First"
    assert as_json(issue("show", "1", "--json", "milestone")) == {"milestone": "v1.0"}
    closed = issue("milestone", "close", "v1.0")
    assert closed.stdout == "closed milestone v1.0\n"
    assert as_json(issue("milestone", "list", "--format", "json")) == []
    all_ = as_json(issue("milestone", "list", "--state", "all", "--format", "json"))
    assert [(m["title"], m["state"]) for m in all_] == [("v1.0", "closed")]
    reopened = as_json(issue("milestone", "edit", "v1.0", "--state", "open", "--format", "json"))
    assert reopened["state"] == "open" and reopened["closed_at"] is None


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["milestone", "create", "v1"], 4),
        (["milestone", "create", ""], 2),
        (["milestone", "create", "v2", "--due", "soon"], 2),
        (["milestone", "edit", "v1"], 2),
        (["milestone", "edit", "nope", "--title", "x"], 3),
        (["milestone", "edit", "v1", "--due", "never"], 2),
        (["milestone", "edit", "v1", "--state", "done"], 2),
        (["milestone", "close", "nope"], 3),
        (["milestone", "list", "--state", "done"], 2),
    ],
)
def test_milestone_errors(issue, args, code):
    issue("milestone", "create", "v1")
    assert issue(*args).exit_code == code


# --------------------------------------------------------------------------- users


def test_user_list_and_whoami(issue):
    assert as_json(issue("user", "list", "--format", "json")) == [
        {"username": "tester", "name": None, "email": None}
    ]
    issue("create", "x", "--assignee", "ann")
    users = as_json(issue("user", "list", "--format", "json"))
    assert [u["username"] for u in users] == ["ann", "tester"]
    assert issue("user", "list").stdout.splitlines()[0].split() == ["USERNAME", "NAME", "EMAIL"]
    assert issue("whoami").stdout == "tester\n"
    assert issue("whoami", "--jq", ".username").stdout == "tester\n"
    other = issue("whoami", env={"ISSUE_CORE_USER": "agent-7"})
    assert other.stdout == "agent-7\n"
