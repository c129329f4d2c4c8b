"""The coordination tools: ``work`` (``issue next --claim``, ``claim``, ``heartbeat``,
``release``) and ``dependency`` (``issue dep add|remove``), over ``service.claims`` and
``service.dependencies``.

A claim is held by the agent the server acts as and named by the issue's number in every
call: the server keeps no claim state of its own, so a restarted server (or the CLI) carries
on with the same leases. A backend without claims or dependencies answers the CLI's exit 7.
"""

from __future__ import annotations

from typing import Any

from issue_core.core.claims import parse_duration
from issue_core.core.errors import UsageError
from issue_core.mcp import shapes
from issue_core.mcp.arguments import for_method
from issue_core.mcp.session import McpSession

WORK_NEEDS: dict[str, tuple[str, ...]] = {
    "next": (),
    "claim": ("number",),
    "heartbeat": ("number",),
    "release": ("number",),
}
WORK_TAKES: dict[str, tuple[str, ...]] = {
    "next": ("labels", "ttl"),
    "claim": ("ttl",),
    "heartbeat": ("ttl",),
    "release": ("force",),
}


def _ttl(session: McpSession, args: dict[str, Any]) -> int:
    given = args.get("ttl")
    return parse_duration(given, "ttl") if given is not None else session.config.claim_ttl_s()


def work(session: McpSession, args: dict[str, Any]) -> dict[str, Any]:
    from issue_core.service import claims

    method = args["method"]
    for_method("work", method, args, needs=WORK_NEEDS[method], takes=WORK_TAKES[method])
    if method == "release":
        released = claims.release(
            session.backend, int(args["number"]), force=bool(args.get("force"))
        )
        return {"claim": released.to_dict()}
    seconds = _ttl(session, args)  # checked before anything is opened: a bad ttl changes nothing
    if method == "next":
        issue, claim = claims.next_ready(
            session.backend, labels=list(args.get("labels", ())), claim_ttl_s=seconds
        )
        return {
            "issue": None if issue is None else shapes.issue_shape(issue, shapes.COMPACT_FIELDS),
            "claim": None if claim is None else claim.to_dict(),
        }
    verb = claims.claim if method == "claim" else claims.heartbeat
    return {"claim": verb(session.backend, int(args["number"]), ttl_s=seconds).to_dict()}


def dependency(session: McpSession, args: dict[str, Any]) -> dict[str, Any]:
    from issue_core.service import dependencies

    method = args["method"]
    for_method("dependency", method, args, needs=("number", "relation", "other"))
    link = dependencies.link_for(int(args["number"]), args["relation"], int(args["other"]))
    if method == "add":
        changed = dependencies.add(session.backend, link)
    else:
        dependencies.remove(session.backend, link)
        changed = True
    return {"link": link.describe(), "changed": changed}


# -- labels, milestones, users --------------------------------------------------------------


def catalog_read(session: McpSession, args: dict[str, Any]) -> dict[str, Any]:
    from issue_core.service import catalog

    what = args["method"]
    if what == "labels":
        return {"labels": [label.to_dict() for label in catalog.list_labels(session.backend)]}
    if what == "milestones":
        found = catalog.list_milestones(session.backend)
        return {"milestones": [milestone.to_dict() for milestone in found]}
    if what == "users":
        return {"users": [user.to_dict() for user in catalog.list_users(session.backend)]}
    return {"whoami": catalog.identity(session.backend)}


def catalog_write(session: McpSession, args: dict[str, Any]) -> dict[str, Any]:
    from issue_core.core.models import Label, Milestone, parse_ts, validate_label_name
    from issue_core.service import catalog

    method = args["method"]
    if method == "create_label":
        for_method("catalog_write", method, args, needs=("name",), takes=("color", "description"))
        label = Label(validate_label_name(args["name"]), args.get("color"), args.get("description"))
        return {"label": catalog.create_label(session.backend, label).to_dict()}
    for_method("catalog_write", method, args, needs=("name",), takes=("description", "due"))
    title = args["name"].strip()
    if not title:
        raise UsageError("create_milestone: the name is empty")
    milestone = Milestone(title, args.get("description"), due_on=parse_ts(args.get("due")))
    return {"milestone": catalog.create_milestone(session.backend, milestone).to_dict()}
