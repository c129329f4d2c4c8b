"""The coordination tools on the local store: the agent loop (next -> comment -> close) end to
end, claims held by one agent only (exit 10 for another, named by number, no server state),
dependencies and the ready queue, labels and milestones, and ``as`` where configured."""

from __future__ import annotations

from tests.mcp.conftest import Mcp, drive


def test_the_agent_loop_next_claim_comment_close(project):
    async def planner(mcp: Mcp) -> None:
        for title, priority in (("docs", 3), ("crash", 0), ("tests", 1)):
            await mcp.call("issue_write", method="create", title=title, priority=priority)

    drive(planner, agent="planner")
    done: list[str] = []

    async def worker(mcp: Mcp) -> None:
        while True:
            taken = await mcp.call("work", method="next", ttl="30m")
            if taken["issue"] is None:
                assert taken["claim"] is None
                break
            number = taken["issue"]["number"]
            assert taken["issue"]["state"] == "in_progress"
            assert taken["claim"]["holder"] == "worker-1" and taken["claim"]["number"] == number
            renewed = await mcp.call("work", method="heartbeat", number=number)
            assert renewed["claim"]["holder"] == "worker-1"
            await mcp.call("issue_write", method="comment", number=number, body="fixed")
            closed = await mcp.call("issue_write", method="close", number=number)
            assert closed["issue"]["state"] == "closed"
            done.append(taken["issue"]["title"])
        events = await mcp.call("issue_read", number=2, method="events")
        kinds = [(e["kind"], e["actor"]) for e in events["events"]]
        assert ("claimed", "worker-1") in kinds and ("commented", "worker-1") in kinds
        assert kinds[0] == ("created", "planner") and kinds[-1][0] == "state"
        since = await mcp.call("issue_read", number=2, method="events",
                               since=events["events"][-2]["cursor"])  # fmt: skip
        assert [e["kind"] for e in since["events"]] == ["state"]

    drive(worker, agent="worker-1")
    assert done == ["crash", "tests", "docs"]  # by priority, each once


def test_a_claim_is_the_holders_alone(project):
    async def first(mcp: Mcp) -> None:
        await mcp.call("issue_write", method="create", title="contested")
        claimed = await mcp.call("work", method="claim", number=1, ttl="2h")
        assert claimed["claim"]["holder"] == "worker-1" and claimed["claim"]["extended"] is False

    drive(first, agent="worker-1")

    async def second(mcp: Mcp) -> None:
        taken = await mcp.error("work", method="claim", number=1)
        assert taken["exit_code"] == 10 and taken["code"] == "claimed"
        assert taken["details"]["holder"] == "worker-1"
        assert (await mcp.error("work", method="heartbeat", number=1))["exit_code"] == 10
        assert (await mcp.error("work", method="release", number=1))["exit_code"] == 10
        edit = await mcp.error("issue_write", method="edit", number=1, state="open")
        assert edit["exit_code"] == 10
        assert (await mcp.call("work", method="next"))["issue"] is None  # nothing else ready
        forced = await mcp.call("work", method="release", number=1, force=True)
        assert forced["claim"]["holder"] == "worker-1"
        mine = await mcp.call("work", method="claim", number=1)
        assert mine["claim"]["holder"] == "worker-2"

    drive(second, agent="worker-2")


def test_work_arguments_are_checked_before_anything_changes(project):
    async def steps(mcp: Mcp) -> None:
        await mcp.call("issue_write", method="create", title="x")
        for args, words in [
            ({"method": "claim"}, "claim needs 'number'"),
            ({"method": "claim", "number": 1, "ttl": "forever"}, "ttl"),
            ({"method": "claim", "number": 1, "force": True}, "claim does not take 'force'"),
            ({"method": "next", "number": 1}, "next does not take 'number'"),
        ]:
            error = await mcp.error("work", **args)
            assert error["exit_code"] == 2 and words in error["message"], (args, error)
        issue = await mcp.call("issue_read", number=1, fields=["state", "assignees"])
        assert issue["issue"] == {"state": "open", "assignees": []}
        missing = await mcp.error("work", method="claim", number=9)
        assert missing["exit_code"] == 3

    drive(steps, agent="worker-1")


def test_dependencies_decide_what_is_ready(project):
    async def steps(mcp: Mcp) -> None:
        await mcp.call("issue_write", method="create", title="API", priority=1)
        await mcp.call("issue_write", method="create", title="UI", priority=0)
        added = await mcp.call("dependency", method="add", number=1, relation="blocks", other=2)
        assert added == {"link": "#1 blocks #2", "changed": True}
        again = await mcp.call("dependency", method="add", number=2, relation="blocked_by",
                               other=1)  # fmt: skip
        assert again["changed"] is False
        ready = await mcp.call("issues_list", ready=True, fields=["title"])
        assert ready["issues"] == [{"title": "API"}]
        links = await mcp.call("issue_read", number=2, method="dependencies")
        assert [b["number"] for b in links["dependencies"]["blocked_by"]] == [1]
        cycle = await mcp.error("dependency", method="add", number=2, relation="blocks", other=1)
        assert cycle["exit_code"] == 4
        self_link = await mcp.error("dependency", method="add", number=1, relation="parent",
                                    other=1)  # fmt: skip
        assert self_link["exit_code"] == 2
        await mcp.call("dependency", method="remove", number=1, relation="blocks", other=2)
        ready = await mcp.call("issues_list", ready=True, fields=["title"])
        assert [row["title"] for row in ready["issues"]] == ["UI", "API"]
        gone = await mcp.error("dependency", method="remove", number=1, relation="blocks", other=2)
        assert gone["exit_code"] == 3

    drive(steps)


def test_labels_milestones_users_and_whoami(project):
    async def steps(mcp: Mcp) -> None:
        label = await mcp.call("catalog_write", method="create_label", name="bug",
                               color="d73a4a", description="broken")  # fmt: skip
        assert label["label"] == {"name": "bug", "color": "d73a4a", "description": "broken"}
        dup = await mcp.error("catalog_write", method="create_label", name="bug")
        assert dup["exit_code"] == 4
        made = await mcp.call("catalog_write", method="create_milestone", name="v1",
                              due="2026-12-24")  # fmt: skip
        assert made["milestone"]["title"] == "v1"
        assert made["milestone"]["due_on"] == "2026-12-24T00:00:00Z"
        wrong = await mcp.error("catalog_write", method="create_milestone", name="v2",
                                color="fff")  # fmt: skip
        assert wrong["exit_code"] == 2
        await mcp.call("issue_write", method="create", title="t", milestone="v1")
        labels = await mcp.call("catalog_read", method="labels")
        assert [lb["name"] for lb in labels["labels"]] == ["bug"]
        milestones = await mcp.call("catalog_read", method="milestones")
        assert milestones["milestones"][0]["open_issues"] == 1
        assert (await mcp.call("catalog_read", method="whoami"))["whoami"]["agent"] == "lead"
        users = await mcp.call("catalog_read", method="users")
        assert "lead" in [user["username"] for user in users["users"]]

    drive(steps, agent="lead")


def test_as_acts_as_a_configured_agent_and_no_other(project):
    async def steps(mcp: Mcp) -> None:
        tools = {t.name: t for t in (await mcp.client.list_tools()).tools}
        assert tools["issue_write"].input_schema["properties"]["as"]["enum"] == ["w1", "w2"]
        assert "as" not in tools["issues_list"].input_schema["properties"]
        made = await mcp.call("issue_write", method="create", title="t", **{"as": "w1"})
        await mcp.call("work", method="claim", number=made["issue"]["number"], **{"as": "w2"})
        read = await mcp.call("issue_read", number=1, fields=["author", "assignee"])
        assert read["issue"] == {"author": "w1", "assignee": "w2"}
        await mcp.call("issue_write", method="comment", number=1, body="plain")
        said = await mcp.call("issue_read", number=1, method="comments")
        assert said["comments"][0]["author"] == "lead"  # no `as`: the server's own agent
        other = await mcp.error("issue_write", method="comment", number=1, body="x",
                                **{"as": "intruder"})  # fmt: skip
        assert other["exit_code"] == 2 and "w1, w2" in other["hint"]

    drive(steps, agent="lead", agents=("w1", "w2"))


def test_as_is_refused_where_it_is_not_configured(project):
    async def steps(mcp: Mcp) -> None:
        error = await mcp.error("issue_write", method="create", title="t", **{"as": "w1"})
        assert error["exit_code"] == 2 and "--agents" in error["hint"]
        assert (await mcp.call("issues_list"))["issues"] == []

    drive(steps, agent="lead")
