"""Dependencies kept on a forge survive `issue sync` writing the issues they join: sync
rewrites a body from the other side's issue, and the hidden block's links (and the forge's
native ones) stay as they were."""

from __future__ import annotations

from tests.cli.test_sync_gitea import as_json, ok, sync, work  # noqa: F401 - the fixture


def test_links_on_gitea_survive_a_sync_that_rewrites_their_issues(issue, work):  # noqa: F811
    for title in ("parent", "child"):
        ok(issue("--backend", "work", "create", title))
    ok(issue("--backend", "work", "dep", "add", "2", "--parent", "1"))  # the hidden block
    ok(issue("--backend", "work", "dep", "add", "1", "--blocks", "2"))  # Gitea's own
    before = as_json(issue("--backend", "work", "dep", "list", "2", "--format", "json"))
    ok(sync(issue, "pull", "work", "local"))
    for number in ("1", "2"):
        ok(issue("edit", number, "--body", f"edited locally {number}", "--priority", "1"))
    report = as_json(sync(issue, "push", "local", "work"))
    assert report["summary"]["updated"] == 2
    shown = as_json(issue("--backend", "work", "show", "2", "--format", "json"))
    assert shown["description"] == "edited locally 2"
    assert as_json(issue("--backend", "work", "dep", "list", "2", "--format", "json")) == before
    assert before["parent"]["number"] == 1 and before["blocked_by"][0]["number"] == 1
