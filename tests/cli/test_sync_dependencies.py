"""Dependencies (blocks, parent, related) travel with `issue sync` between two local stores:
translated through the links, merged three-way as a set, never duplicated, deferred until
their other end is linked, a refused cycle reported as a conflict."""

from __future__ import annotations

import json

from tests.cli.test_sync import as_json, ok, pair, sync  # noqa: F401 - the fixture


def deps(issue, name, number):
    shown = as_json(issue("--backend", name, "dep", "list", str(number), "--format", "json"))
    return {
        relation: sorted(n["number"] for n in (v if isinstance(v, list) else [v]))
        for relation, v in shown.items()
        if v and relation in ("blocked_by", "blocks", "parent", "children", "related")
    }


def test_dependencies_travel_both_ways_and_a_second_run_writes_nothing(issue, pair):  # noqa: F811
    ok(issue("--backend", "team", "create", "team's own"))  # team numbers differ by one
    for title in ("epic", "task", "blocker"):
        ok(issue("--backend", "mine", "create", title))
    ok(issue("--backend", "mine", "dep", "add", "2", "--parent", "1"))
    ok(issue("--backend", "mine", "dep", "add", "3", "--blocks", "2"))
    ok(issue("--backend", "mine", "dep", "add", "1", "--related", "3"))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert report["summary"]["dependencies_added"] == 3
    assert deps(issue, "team", 3) == {"parent": [2], "blocked_by": [4]}
    assert deps(issue, "team", 2) == {"children": [3], "related": [4]}
    assert as_json(sync(issue, "bidirectional", "mine", "team"))["actions"] == []
    # removed on one side, added on the other: both carried (the set merge)
    ok(issue("--backend", "team", "dep", "remove", "4", "--blocks", "3"))
    ok(issue("--backend", "mine", "dep", "add", "3", "--blocks", "1"))
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert sorted((a["action"], a["on"]) for a in report["actions"]
                  if "dependency" in a["action"]) == [("add_dependency", "team"),
                                                      ("remove_dependency", "mine")]  # fmt: skip
    assert deps(issue, "mine", 3) == {"blocks": [1], "related": [1]}
    assert deps(issue, "team", 4) == {"blocks": [2], "related": [2]}
    assert as_json(sync(issue, "bidirectional", "mine", "team"))["actions"] == []


def test_a_dependency_on_an_issue_not_linked_yet_waits_for_the_run_that_links_it(issue, pair):  # noqa: F811
    ok(issue("--backend", "mine", "create", "shared"))
    ok(sync(issue, "pull", "mine", "team"))
    ok(issue("--backend", "team", "create", "team only"))  # team #2, not on mine
    ok(issue("--backend", "team", "dep", "add", "2", "--blocks", "1"))
    pulled = as_json(sync(issue, "pull", "mine", "team"))  # writes team only: must wait
    assert deps(issue, "mine", 1) == {}
    assert pulled["summary"]["dependencies_added"] == 0
    report = as_json(sync(issue, "bidirectional", "mine", "team"))
    assert report["summary"]["created"] == 1 and report["summary"]["dependencies_added"] == 1
    assert deps(issue, "mine", 1) == {"blocked_by": [2]}
    assert as_json(sync(issue, "bidirectional", "mine", "team"))["actions"] == []


def test_a_cycle_the_target_refuses_is_a_conflict_kept_for_the_next_run(issue, pair):  # noqa: F811
    for title in ("one", "two"):
        ok(issue("--backend", "mine", "create", title))
    ok(sync(issue, "bidirectional", "mine", "team"))
    ok(issue("--backend", "mine", "dep", "add", "1", "--blocks", "2"))
    ok(issue("--backend", "team", "dep", "add", "2", "--blocks", "1"))
    for _ in range(2):  # weighed again, never dropped, never half written
        result = sync(issue, "bidirectional", "mine", "team")
        assert result.exit_code == 4, result.output
        report = json.loads(result.stdout)
        assert [c["field"] for c in report["conflicts"]] == ["dependency", "dependency"]
        assert deps(issue, "mine", 1) == {"blocks": [2]}
        assert deps(issue, "team", 2) == {"blocks": [1]}
    ok(issue("--backend", "team", "dep", "remove", "2", "--blocks", "1"))
    ok(sync(issue, "bidirectional", "mine", "team"))
    assert deps(issue, "team", 1) == {"blocks": [2]}
