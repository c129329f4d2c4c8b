"""Every tool on the local store, through the SDK's client: answers, attribution, pages,
fields, and bad arguments as tool errors with the CLI's codes (the server keeps serving)."""

from __future__ import annotations

import json

from issue_core.mcp.shapes import PAGE_BYTES
from tests.mcp.conftest import Mcp, drive


def test_create_list_read_comment_close(project):
    async def steps(mcp: Mcp) -> None:
        made = await mcp.call("issue_write", method="create", title="Fix login", labels=["bug"],
                              priority=1, body="Steps")  # fmt: skip
        assert made["issue"]["number"] == 1 and made["created_labels"] == ["bug"]
        listed = await mcp.call("issues_list")
        assert listed == {"issues": [made["issue"]], "next_cursor": None}
        said = await mcp.call("issue_write", method="comment", number=1, body="on it")
        assert said["comment"]["author"] == "worker-1" and said["comment"]["body"] == "on it"
        read = await mcp.call("issue_read", number=1, fields=["description", "author", "comments"])
        assert read["issue"]["description"] == "Steps" and read["issue"]["author"] == "worker-1"
        assert [c["body"] for c in read["issue"]["comments"]] == ["on it"]
        closed = await mcp.call("issue_write", method="close", number=1, reason="not_planned")
        assert closed["issue"]["state"] == "closed" and closed["changed"] is True
        again = await mcp.call("issue_write", method="close", number=1)
        assert again["changed"] is False  # closing a closed issue changes nothing, as the CLI
        assert (await mcp.call("issues_list"))["issues"] == []
        every = await mcp.call("issues_list", state="all", fields=["number", "close_reason"])
        assert every["issues"] == [{"number": 1, "close_reason": "not_planned"}]

    drive(steps, agent="worker-1")


def test_edit_changes_only_what_is_named_and_clears_with_null(project):
    async def steps(mcp: Mcp) -> None:
        await mcp.call("issue_write", method="create", title="A", labels=["x"], milestone=None,
                       priority="high", due="2026-12-24")  # fmt: skip
        edited = await mcp.call("issue_write", method="edit", number=1, title="B",
                                labels=["y"], remove_labels=["x"], priority=None)  # fmt: skip
        assert edited["issue"]["title"] == "B" and edited["issue"]["labels"] == ["y"]
        assert edited["issue"]["priority"] is None
        read = await mcp.call("issue_read", number=1, fields=["due_at", "state"])
        assert read["issue"] == {"due_at": "2026-12-24T00:00:00Z", "state": "open"}
        error = await mcp.error("issue_write", method="edit", number=1)
        assert error["exit_code"] == 2 and "nothing to change" in error["message"]

    drive(steps)


def test_a_page_is_capped_and_the_cursor_walks_every_issue_once(project):
    async def steps(mcp: Mcp) -> None:
        for n in range(7):
            await mcp.call("issue_write", method="create", title=f"issue {n}")
        seen: list[int] = []
        cursor = None
        while True:
            args = {"limit": 3, "sort": "number", "fields": ["number"]}
            page = await mcp.call("issues_list", **args, **({"cursor": cursor} if cursor else {}))
            seen += [row["number"] for row in page["issues"]]
            assert len(page["issues"]) <= 3
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [7, 6, 5, 4, 3, 2, 1]
        first = await mcp.call("issues_list", limit=3)
        other = await mcp.error("issues_list", limit=3, state="closed", cursor=first["next_cursor"])
        assert other["exit_code"] == 2 and "cursor" in other["message"]
        capped = await mcp.error("issues_list", limit=101)
        assert capped["exit_code"] == 2 and "'limit'" in capped["message"]

    drive(steps)


def test_a_page_ends_before_it_outgrows_its_byte_budget(project):
    async def steps(mcp: Mcp) -> None:
        bodies = ["word " * 600] * 7 + ["漢" * 1500] * 4 + ["x" * 20_000]  # CJK: 3 bytes each
        for n, body in enumerate(bodies):
            await mcp.call("issue_write", method="create", title=f"long {n}", body=body)
        sizes: list[int] = []
        cursor = None
        while True:
            args = {"limit": 10, "sort": "number", "fields": ["number", "description"]}
            page = await mcp.call("issues_list", **args, **({"cursor": cursor} if cursor else {}))
            rows = page["issues"]
            sizes.append(len(rows))
            text = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
            assert len(rows) == 1 or len(text) <= PAGE_BYTES, [r["number"] for r in rows]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        # Newest first: the 20,000-byte issue alone, the CJK ones two by two (4,500 bytes
        # each, though 1,500 characters), the plain ones three by three; every issue once.
        assert sizes == [1, 2, 2, 3, 3, 1]
        small = await mcp.call("issues_list", limit=10, fields=["number"])
        assert len(small["issues"]) == 10  # a page of small issues holds as many as asked

    drive(steps)


def test_queries_ready_and_me(project):
    async def steps(mcp: Mcp) -> None:
        await mcp.call("issue_write", method="create", title="mine", assignees=["@me"])
        await mcp.call("issue_write", method="create", title="urgent", priority=0, labels=["bug"])
        await mcp.call("issue_write", method="create", title="later", priority=3)
        mine = await mcp.call("issues_list", assignee="@me", fields=["title", "assignee"])
        assert mine["issues"] == [{"title": "mine", "assignee": "worker-2"}]
        found = await mcp.call("issues_list", query="label:bug priority:<=1", fields=["title"])
        assert found["issues"] == [{"title": "urgent"}]
        ready = await mcp.call("issues_list", ready=True, fields=["title"])
        assert [row["title"] for row in ready["issues"]] == ["urgent", "later", "mine"]
        bad = await mcp.error("issues_list", query="label:")
        assert bad["exit_code"] == 2 and bad["code"] == "invalid_query"
        mixed = await mcp.error("issues_list", ready=True, state="closed")
        assert mixed["exit_code"] == 2

    drive(steps, agent="worker-2")


def test_bad_arguments_are_tool_errors_and_the_server_keeps_serving(project):
    async def steps(mcp: Mcp) -> None:
        cases = [
            ("issue_read", {}, "'number' is a required property"),
            ("issue_read", {"number": "one"}, "is not of type 'integer'"),
            ("issue_read", {"number": 1, "colour": "red"}, "'colour' was unexpected"),
            ("issue_read", {"number": 1, "method": "history"}, "is not one of"),
            ("issue_read", {"number": 1, "fields": ["titel"]}, "unknown field 'titel'"),
            ("issue_read", {"number": 1, "method": "comments", "fields": ["title"]},
             "comments does not take 'fields'"),
            ("issue_write", {"method": "create"}, "create needs 'title'"),
            ("issue_write", {"method": "create", "title": " "}, "title"),
            ("issue_write", {"method": "comment", "number": 1}, "comment needs 'body'"),
            ("issue_write", {"method": "close", "number": 1, "title": "x"},
             "close does not take 'title'"),
            ("issue_write", {"method": "create", "title": "x", "priority": "urgentest"},
             "priority"),
            ("issue_write", {"method": "delete", "number": 1}, "delete needs 'confirm'"),
            ("issue_write", {"method": "delete", "number": 1, "confirm": False}, "confirm: true"),
            ("issues_list", {"fields": ["number", "nope"]}, "unknown field 'nope'"),
            ("no_such_tool", {}, "unknown tool 'no_such_tool'"),
        ]  # fmt: skip
        for tool, args, words in cases:
            error = await mcp.error(tool, **args)
            assert error["exit_code"] == 2, (tool, args, error)
            assert words in error["message"] + error.get("hint", ""), (tool, args, error)
        missing = await mcp.error("issue_read", number=42)
        assert missing == {"code": "not_found", "message": "issue #42 not found", "exit_code": 3}
        assert (await mcp.call("issues_list"))["issues"] == []  # nothing was written

    drive(steps)


def test_delete_needs_confirm_and_then_deletes(project):
    async def steps(mcp: Mcp) -> None:
        await mcp.call("issue_write", method="create", title="scratch")
        gone = await mcp.call("issue_write", method="delete", number=1, confirm=True)
        assert gone["deleted"] is True and gone["issue"]["title"] == "scratch"
        assert (await mcp.error("issue_read", number=1))["exit_code"] == 3

    drive(steps)


def test_a_broken_store_is_exit_8_and_the_next_call_opens_it_afresh(project):
    store = project / ".issue-core" / "issues.db"

    async def steps(mcp: Mcp) -> None:
        broken = await mcp.error("issues_list")
        assert broken["exit_code"] == 8 and "corrupt" in broken["message"], broken
        assert (await mcp.error("issue_write", method="create", title="x"))["exit_code"] == 8
        store.rename(store.with_name("broken.db"))  # what the hint says: move it aside
        made = await mcp.call("issue_write", method="create", title="after")
        assert made["issue"]["number"] == 1

    store.parent.mkdir()
    store.write_bytes(b"not a database, but long enough to be read as one " * 4)
    drive(steps)
