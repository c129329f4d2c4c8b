"""`issue sync link` and `issue sync import-map`: issues already on both sides, named by
number, are linked before a sync so that it merges them and copies neither; a bad mapping is
refused whole, one line per bad row, exit 2, nothing linked."""

from __future__ import annotations

import json

from tests.cli.test_sync import as_json, issues_of, ok, pair, sync  # noqa: F401 - the fixture


def both_have(issue, *titles):
    for name in ("mine", "team"):
        for title in titles:
            ok(issue("--backend", name, "create", title))


def links_of(issue):
    status = as_json(issue("sync", "status", "--format", "json"))
    return status[0]["links"] if status else 0


def test_a_linked_pair_is_merged_not_copied_and_a_second_run_writes_nothing(issue, pair):  # noqa: F811
    both_have(issue, "Flaky test", "Slow build")
    ok(issue("--backend", "team", "edit", "2", "-t", "Slow CI build"))
    shown = as_json(issue("sync", "link", "mine:team", "1", "1", "--format", "json"))
    assert shown == [{"action": "link", "source": 1, "target": 1, "title": "Flaky test"}]
    ok(issue("sync", "link", "mine:team", "2", "2"))
    result = sync(issue, "bidirectional", "mine", "team")
    assert result.exit_code == 4, result.output  # the linked pair's differing title
    report = json.loads(result.stdout)
    assert report["summary"]["created"] == 0
    assert [(c["field"], c["a_value"], c["b_value"]) for c in report["conflicts"]] == [
        ("title", "Slow build", "Slow CI build")
    ]
    assert len(issues_of(issue, "mine")) == 2 and len(issues_of(issue, "team")) == 2
    ok(issue("sync", "resolve", "2", "--pair", "mine:team", "--take", "target"))
    ok(issue("--backend", "mine", "edit", "1", "--add-label", "ci"))
    again = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert [(a["action"], a["on"], a["number"]) for a in again["actions"]] == [
        ("update", "team", 1)
    ]
    assert issues_of(issue, "team")[0]["labels"] == ["ci"]
    assert as_json(sync(issue, "bidirectional", "mine", "team"))["actions"] == []
    # linking it again is no change; linking it to another issue is refused
    assert (
        as_json(issue("sync", "link", "mine:team", "1", "1", "--format", "json"))[0]["action"]
        == "already_linked"
    )
    refused = issue("sync", "link", "team:mine", "2", "1")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        "issue: error: team #2 is already linked to mine #2; mine #1 is already linked to "
        "team #1; nothing was linked"
    ]


def test_import_map_links_a_csv_or_json_file_and_the_sync_creates_no_duplicates(issue, pair):  # noqa: F811
    both_have(issue, "One", "Two", "Three")
    (pair / "map.csv").write_text("source,target\n# the first two\n1,2\n2,1\n")
    (pair / "map.json").write_text(json.dumps([{"source": 3, "target": 3}]))
    plan = as_json(issue("sync", "import-map", "mine:team", "map.csv", "--dry-run",
                         "--format", "json"))  # fmt: skip
    assert [(r["source"], r["target"]) for r in plan] == [(1, 2), (2, 1)]
    assert links_of(issue) == 0
    ok(issue("sync", "import-map", "mine:team", "map.csv"))
    ok(issue("sync", "import-map", "mine:team", "map.json"))
    report = sync(issue, "bidirectional", "mine", "team")
    data = json.loads(report.stdout)
    assert data["summary"]["created"] == 0
    assert {(c["a_number"], c["b_number"]) for c in data["conflicts"]} == {(1, 2), (2, 1)}
    assert len(issues_of(issue, "team")) == 3 and links_of(issue) == 3


def test_a_bad_mapping_is_refused_whole_one_line_per_bad_row(issue, pair):  # noqa: F811
    both_have(issue, "One", "Two")
    ok(issue("--backend", "mine", "create", "Copied"))
    ok(sync(issue, "pull", "mine", "team"))  # mine #1..#3 now linked to team #3..#5
    ok(issue("--backend", "mine", "create", "Fresh"))  # mine #4
    ok(issue("--backend", "team", "create", "Fresh"))  # team #6
    (pair / "map.csv").write_text("4,6\n4,1\n9,6\nx,1\n1,6\n")
    result = issue("sync", "import-map", "mine:team", "map.csv")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        "issue: error: the mapping has 4 bad rows; nothing was linked (each is listed below)",
        "issue: error: line 2: source #4 is also on line 1",
        "issue: error: line 3: target #6 is also on line 1",
        "issue: error: line 4: expected two issue numbers (SOURCE,TARGET)",
        "issue: error: line 5: target #6 is also on line 1",
    ]
    (pair / "map.csv").write_text("4,6\n5,1\n1,2\n")  # team #3: the copy of mine #1
    result = issue("sync", "import-map", "mine:team", "map.csv")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[1:] == [
        "issue: error: line 2: mine has no issue #5",
        "issue: error: line 3: mine #1 is already linked to team #3",
    ]
    assert links_of(issue) == 3  # nothing of the file was linked, not even its good row
    for text, words in (("[1, 2]", "expected two issue numbers"), ("{bad", "not valid JSON")):
        (pair / "map.json").write_text(text)
        result = issue("sync", "import-map", "mine:team", "map.json")
        assert result.exit_code == 2 and words in result.stderr, result.output
    result = issue("sync", "import-map", "mine:team", "missing.csv")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
