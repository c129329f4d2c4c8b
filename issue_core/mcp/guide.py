"""The workflow guide an agent reads first (the ``issue-core://guide/workflow`` resource).

The text is AGENT_INTEGRATION.md's *Workflow* section, word for word (a test holds them
together), so an agent gets the same advice from the docs and from the server, and no agent
instructions file has to be copied around.
"""

WORKFLOW = """\
## Workflow

How an agent picks, claims, reports and hands over work with issue-core. Each step names the
CLI command and the MCP tool call (`issue mcp`) that do it; both act as the same agent
(`--as NAME`, `$ISSUE_CORE_AGENT` or `agent` in the configuration).

1. **Look before you take.** `issue ready` or `issues_list` with `ready: true` lists open,
   unblocked, unclaimed issues, most important first. Read one whole with `issue show N
   --comments` or `issue_read` (`method`: `details`, `comments`, `dependencies`, `events`).
2. **Take one.** `issue next --claim` or `work` with `method: "next"` picks the most
   important ready issue and claims it in one step: of many workers exactly one gets it. To
   take a given issue: `issue claim N` or `work` with `method: "claim"`. Another agent's live
   claim is exit 10 (`claimed`): take another issue.
3. **Keep it.** A claim is a lease (2 hours unless `ttl` or `[claims] ttl` says otherwise).
   Renew it before it ends: `issue heartbeat N` or `work` with `method: "heartbeat"`. A lease
   that ran out is exit 10: claim again before going on.
4. **Report.** Comment as you go (`issue comment N TEXT`, `issue_write` with `method:
   "comment"`); keep structured results in metadata (`issue meta set`). Split work you find
   into new issues and link them (`issue dep add`, `dependency` with `method: "add"`).
5. **Hand over.** Done: close it (`issue close N --comment TEXT`, `issue_write` with
   `method: "close"`), which ends the claim. Not done: give it back (`issue release N`,
   `work` with `method: "release"`) with a comment saying where you stopped.
6. **On an error**, read its `exit_code` (the same in both): 2 fix the call, 3 not found,
   4 re-read then retry, 6 retry later, 7 the backend cannot do this, 10 someone else holds
   the issue. Deleting needs `confirm: true` (the CLI's `--yes`); never force a release you
   do not own unless a human asked.
"""
