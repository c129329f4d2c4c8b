"""Every tool on the fake Gitea (each exchange checked against Gitea's API description): the
same answers as on the local store, capability errors as the CLI's exit 7, no token in any
result, an unreachable forge as exit 6 while the server keeps serving."""

from __future__ import annotations

import json

from issue_core.core.config import Config
from issue_core.core.interfaces import Capability
from issue_core.service import runtime
from tests.fakes.fixtures import TOKEN_ENV, WRITE_TOKEN
from tests.mcp.conftest import Mcp, drive


def _supports(capability: Capability) -> bool:
    backend = runtime.open(Config.load(), "work")
    try:
        return backend.supports(capability)
    finally:
        backend.close()


def test_every_tool_on_gitea(gitea_project):
    texts: list[str] = []

    async def steps(mcp: Mcp) -> None:
        original = mcp.client.call_tool

        async def recording(name, arguments=None, **kw):  # every answer, to look for the token
            result = await original(name, arguments, **kw)
            texts.append(result.content[0].text)
            return result

        mcp.client.call_tool = recording  # type: ignore[method-assign]
        tools = (await mcp.client.list_tools()).tools
        assert all(tool.annotations.open_world_hint for tool in tools)  # a forge
        made = await mcp.call("issue_write", method="create", title="On Gitea", labels=["bug"],
                              body="steps", priority=1)  # fmt: skip
        number = made["issue"]["number"]
        assert "bug" in made["issue"]["labels"] and made["issue"]["priority"] == 1
        await mcp.call("issue_write", method="create", title="Second")
        page = await mcp.call("issues_list", limit=1, fields=["title"])
        assert page["issues"] == [{"title": "Second"}] and page["next_cursor"]
        rest = await mcp.call("issues_list", limit=1, fields=["title"], cursor=page["next_cursor"])
        assert rest == {"issues": [{"title": "On Gitea"}], "next_cursor": None}
        found = await mcp.call("issues_list", query="label:bug", fields=["number"])
        assert found["issues"] == [{"number": number}]
        edited = await mcp.call("issue_write", method="edit", number=number, title="Renamed",
                                state="in_progress")  # fmt: skip
        assert edited["issue"]["state"] == "in_progress" and edited["issue"]["title"] == "Renamed"
        said = await mcp.call("issue_write", method="comment", number=number, body="looking")
        assert said["comment"]["agent"] == "bot-1"  # signed by the server's agent
        comments = await mcp.call("issue_read", number=number, method="comments")
        assert [c["body"] for c in comments["comments"]] == ["looking"]
        details = await mcp.call("issue_read", number=number, fields=["description", "url"])
        assert details["issue"]["description"] == "steps" and details["issue"]["url"]
        linked = await mcp.call("dependency", method="add", number=number, relation="blocks",
                                other=number + 1)  # fmt: skip
        assert linked["changed"] is True
        deps = await mcp.call("issue_read", number=number + 1, method="dependencies")
        assert [b["number"] for b in deps["dependencies"]["blocked_by"]] == [number]
        await mcp.call("dependency", method="remove", number=number, relation="blocks",
                       other=number + 1)  # fmt: skip
        await mcp.call("catalog_write", method="create_label", name="triage", color="ededed")
        await mcp.call("catalog_write", method="create_milestone", name="v1")
        labels = await mcp.call("catalog_read", method="labels")
        assert {"bug", "triage"} <= {label["name"] for label in labels["labels"]}
        assert (await mcp.call("catalog_read", method="milestones"))["milestones"][0][
            "title"
        ] == "v1"
        me = await mcp.call("catalog_read", method="whoami")
        assert me["whoami"]["agent"] == "bot-1"
        await mcp.call("catalog_read", method="users")
        closed = await mcp.call("issue_write", method="close", number=number, comment="done")
        assert closed["issue"]["state"] == "closed"
        reopened = await mcp.call("issue_write", method="reopen", number=number)
        assert reopened["issue"]["state"] == "open"
        if _supports(Capability.CLAIMS):
            claim = await mcp.call("work", method="claim", number=number + 1)
            assert claim["claim"]["holder"] == "bot-1"
            renewed = await mcp.call("work", method="heartbeat", number=number + 1)
            assert renewed["claim"]["holder"] == "bot-1"
            released = await mcp.call("work", method="release", number=number + 1)
            assert released["claim"]["number"] == number + 1
        else:
            refused = await mcp.error("work", method="claim", number=number + 1)
            assert refused["exit_code"] == 7 and refused["code"] == "unsupported"
        # No capability names a forge's event log (one is being built): a log or exit 7.
        events = await mcp.result("issue_read", {"number": number, "method": "events"})
        if events.is_error:
            assert events.structured_content["error"]["exit_code"] == 7
        else:
            assert isinstance(events.structured_content["events"], list)
        gone = await mcp.call("issue_write", method="delete", number=number, confirm=True)
        assert gone["deleted"] is True
        assert (await mcp.error("issue_read", number=number))["exit_code"] == 3

    drive(steps, backend="work", agent="bot-1")
    assert texts and not [text for text in texts if WRITE_TOKEN in text]


def test_a_bad_token_is_exit_5_without_the_token_and_the_server_goes_on(gitea_project, monkeypatch):
    secret = "not-the-right-token-0123456789abcdef01"
    monkeypatch.setenv(TOKEN_ENV, secret)

    async def steps(mcp: Mcp) -> None:
        for _ in range(2):
            denied = await mcp.error("issues_list")
            assert denied["exit_code"] == 5 and secret not in json.dumps(denied)
        created = await mcp.error("issue_write", method="create", title="x")
        assert created["exit_code"] == 5 and secret not in json.dumps(created)

    drive(steps, backend="work")


def test_a_forge_that_is_down_is_exit_6_and_the_server_goes_on(gitea_project):
    async def steps(mcp: Mcp) -> None:
        assert (await mcp.call("issues_list"))["issues"] == []
        gitea_project.stop()
        down = await mcp.error("issue_write", method="create", title="lost?")
        assert down["exit_code"] == 6 and WRITE_TOKEN not in json.dumps(down)
        assert (await mcp.error("issues_list"))["exit_code"] == 6
        assert (await mcp.client.list_tools()).tools  # still serving

    drive(steps, backend="work")
