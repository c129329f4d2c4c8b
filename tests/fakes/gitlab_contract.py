"""Check HTTP exchanges with a GitLab API v4 server against GitLab's own descriptions.

Responses: issue, label, milestone and user bodies (one object, or each item of a list) against
GitLab's CI-checked JSON Schemas (tests/contracts/gitlab/schemas, draft 7, formats not asserted
because ``milestone.json`` calls plain dates ``date-time``); every embedded user (author,
assignees, ``closed_by``, a note's author) against ``user/basic.json``; and every body against
the gitbeaker declaration of its entity (``IssueSchema``, ``LabelSchema``, ``MilestoneSchema``,
``NoteSchema``, ``SimpleUserSchema``/``UserSchema``, the resource events' ``StateEventSchema``,
``LabelEventSchema`` and ``MilestoneEventSchema``, whose ``user`` is checked as a basic user
too) for the types of the keys present. Errors
must be GitLab's ``{"message": ...}`` or ``{"error": ...}`` (a throttled request may answer
``Retry later`` as text); a ``202`` only GitLab's answer to a note of quick actions alone.

Requests: the parameters of issue list/create/edit against gitbeaker's ``AllIssuesOptions``,
``CreateIssueOptions`` and ``EditIssueOptions`` (camelCase there, snake_case on the wire) plus
the pagination options; notes, labels and milestones against the writable members of their
gitbeaker schemas. Names used by the docs examples' requests (``title`` on create, ``new_name``
on a label edit, ``with_counts``) are read from tests/contracts/gitlab/examples. What neither
holds is listed in ``DOCUMENTED`` below, each with the GitLab docs page that defines it.

Relaxations, each because real gitlab.com bodies (tests/contracts/gitlab/recorded) would fail
otherwise, and nothing more:
- gitbeaker types in responses accept ``null`` (it types ``due_date`` and ``priority`` as
  plain ``string``/``number``; gitlab.com sends ``null``) and ``closed_by`` is not checked
  (typed ``string``, sent as a user object), as the contracts README lists;
- ``issue.json`` closes ``assignee``/``assignees`` with ``additionalProperties: false`` over
  six keys, but gitlab.com's users carry more (``public_email``, ``locked``): the keys of the
  users embedded in the recorded issues are added to those two objects.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.contracts import contracts_dir
from tests.fakes.gitbeaker_types import Declarations, Type, load, snake

_EMPTY = object()
_P = r"/api/v4/projects/[^/]+"
_G = r"/api/v4/groups/[^/]+"
# (name, method, raw path pattern) -> what the endpoint is.
ENDPOINTS: list[tuple[str, str, re.Pattern[str]]] = [
    (name, method, re.compile(pattern))
    for name, method, pattern in [
        ("version", "GET", r"/api/v4/version"),
        ("current_user", "GET", r"/api/v4/user"),
        ("users", "GET", r"/api/v4/users"),
        ("token_self", "GET", r"/api/v4/personal_access_tokens/self"),
        ("project", "GET", _P),
        ("project_users", "GET", _P + r"/users"),
        ("search", "GET", _P + r"/search"),
        ("issues", "GET", _P + r"/issues"),
        ("issue_create", "POST", _P + r"/issues"),
        ("issues_statistics", "GET", _P + r"/issues_statistics"),
        ("issue", "GET", _P + r"/issues/\d+"),
        ("issue_edit", "PUT", _P + r"/issues/\d+"),
        ("issue_delete", "DELETE", _P + r"/issues/\d+"),
        ("notes", "GET", _P + r"/issues/\d+/notes"),
        ("note_create", "POST", _P + r"/issues/\d+/notes"),
        ("note", "GET", _P + r"/issues/\d+/notes/\d+"),
        ("note_edit", "PUT", _P + r"/issues/\d+/notes/\d+"),
        ("note_delete", "DELETE", _P + r"/issues/\d+/notes/\d+"),
        ("issue_links", "GET", _P + r"/issues/\d+/links"),
        *(
            (f"{table}_events", "GET", _P + rf"/issues/\d+/resource_{table}_events")
            for table in ("state", "label", "milestone")
        ),
        *(
            (f"{table}_event", "GET", _P + rf"/issues/\d+/resource_{table}_events/\d+")
            for table in ("state", "label", "milestone")
        ),
        ("issue_link_create", "POST", _P + r"/issues/\d+/links"),
        ("issue_link_delete", "DELETE", _P + r"/issues/\d+/links/\d+"),
        ("labels", "GET", _P + r"/labels"),
        ("label_create", "POST", _P + r"/labels"),
        ("label_edit", "PUT", _P + r"/labels"),
        ("label_delete", "DELETE", _P + r"/labels"),
        ("label", "GET", _P + r"/labels/[^/]+"),
        ("label_edit", "PUT", _P + r"/labels/[^/]+"),
        ("label_delete", "DELETE", _P + r"/labels/[^/]+"),
        ("milestones", "GET", _P + r"/milestones"),
        ("milestone_create", "POST", _P + r"/milestones"),
        ("milestone", "GET", _P + r"/milestones/\d+"),
        ("milestone_edit", "PUT", _P + r"/milestones/\d+"),
        ("milestone_delete", "DELETE", _P + r"/milestones/\d+"),
        ("milestones", "GET", _G + r"/milestones"),
        ("milestone_create", "POST", _G + r"/milestones"),
        ("milestone", "GET", _G + r"/milestones/\d+"),
        ("milestone_edit", "PUT", _G + r"/milestones/\d+"),
        ("milestone_delete", "DELETE", _G + r"/milestones/\d+"),
    ]
]

# The entity each endpoint answers with: (schema file or None, gitbeaker declaration).
ENTITY = {
    "issues": ("issue.json", "IssueSchema"),
    "issue": ("issue.json", "IssueSchema"),
    "issue_create": ("issue.json", "IssueSchema"),
    "issue_edit": ("issue.json", "IssueSchema"),
    "labels": ("labels/project_label.json", "LabelSchema"),
    "label": ("labels/project_label.json", "LabelSchema"),
    "label_create": ("labels/project_label.json", "LabelSchema"),
    "label_edit": ("labels/project_label.json", "LabelSchema"),
    "milestones": ("milestone.json", "MilestoneSchema"),
    "milestone": ("milestone.json", "MilestoneSchema"),
    "milestone_create": ("milestone.json", "MilestoneSchema"),
    "milestone_edit": ("milestone.json", "MilestoneSchema"),
    "notes": (None, "NoteSchema"),
    "note": (None, "NoteSchema"),
    "note_create": (None, "NoteSchema"),
    "note_edit": (None, "NoteSchema"),
    "users": ("user/basic.json", "SimpleUserSchema"),
    "project_users": ("user/basic.json", "SimpleUserSchema"),
    "current_user": ("user/basic.json", "UserSchema"),
    "issue_links": (None, "IssueLinkSchema"),
    "issue_link_create": ("issue_link.json", "ExpandedIssueLinkSchema"),
    "issue_link_delete": ("issue_link.json", "ExpandedIssueLinkSchema"),
    "state_events": (None, "StateEventSchema"),
    "state_event": (None, "StateEventSchema"),
    "label_events": (None, "LabelEventSchema"),
    "label_event": (None, "LabelEventSchema"),
    "milestone_events": (None, "MilestoneEventSchema"),
    "milestone_event": (None, "MilestoneEventSchema"),
}
# The lists among them (each item is checked as the entity).
LISTS = frozenset(
    {
        "issues",
        "labels",
        "milestones",
        "notes",
        "users",
        "project_users",
        "search",  # its scope=notes answer is a list of notes
        "issue_links",
        "state_events",
        "label_events",
        "milestone_events",
    }
)
# Request options: gitbeaker declarations whose members an endpoint takes.
OPTIONS = {
    "issues": (
        "AllIssuesOptions",
        "KeysetPaginationRequestOptions",
        "OffsetPaginationRequestOptions",
    ),
    "issues_statistics": ("AllIssuesOptions",),
    "issue_create": ("CreateIssueOptions",),
    "issue_edit": ("EditIssueOptions",),
}
# Writable members of an entity's gitbeaker schema an endpoint takes.
WRITABLE = {
    "note_create": ("NoteSchema", ("body",)),
    "note_edit": ("NoteSchema", ("body",)),
    "label_create": ("LabelSchema", ("name", "color", "description", "priority")),
    "label_edit": ("LabelSchema", ("color", "description", "priority")),
    "milestone_create": ("MilestoneSchema", ("title", "description", "due_date", "start_date")),
    "milestone_edit": ("MilestoneSchema", ("title", "description", "due_date", "start_date")),
}
# Docs examples whose request names an endpoint also takes.
EXAMPLES = {
    "issue_create": "projects.issues.create.json",
    "issue_edit": "projects.issues.edit.json",
    "notes": "projects.issues.notes.list.json",
    "label_create": "projects.labels.create.json",
    "label_edit": "projects.labels.edit.json",
    "labels": "projects.labels.list.json",
}
_TEXT = Type("prim", name="string")
_NUMBER = Type("prim", name="number")
_BOOL = Type("prim", name="boolean")
_PAGING = {"page": _NUMBER, "per_page": _NUMBER}
# Parameters in neither the gitbeaker subset nor the examples, from GitLab's REST docs
# (doc/api/*.md): name -> type, per endpoint; "*" applies to every list.
DOCUMENTED: dict[str, dict[str, Type]] = {
    # rest/_index.md "Pagination": per_page on every list; keyset with pagination=keyset,
    # and issues.md (GitLab 18.3, MR 199887) the cursor of the next page.
    "*": _PAGING,
    # GitLab's own Link URLs repeat the route's parameters in the query (``id=15578026`` in
    # recorded/), so a client following them sends the project ``id`` again.
    "*#route": {"id": Type("union", items=(_NUMBER, _TEXT))},
    "issues": {"pagination": Type("literal", name="keyset"), "cursor": _TEXT},
    # issues.md "List project issues": assignee_id also takes the keywords None and Any.
    "issues#assignee_id": {
        "assignee_id": Type(
            "union", items=(_NUMBER, Type("literal", name="None"), Type("literal", name="Any"))
        )
    },
    # lib/api/helpers/issues_helpers.rb: labels, add_labels and remove_labels are
    # ``Array[String]`` coerced from a comma-separated string: an array is taken too.
    "issue_create": {"labels": Type("union", items=(_TEXT, Type("array", items=(_TEXT,))))},
    "issue_edit": {
        name: Type("union", items=(_TEXT, Type("array", items=(_TEXT,))))
        for name in ("labels", "add_labels", "remove_labels")
    },
    # labels.md "Edit an existing label" / "Delete a label": the label by ``label_id`` in the
    # path, or (the older form python-gitlab uses) ``PUT/DELETE /labels`` with ``name``.
    "label_edit": {"name": _TEXT, "label_id": Type("union", items=(_NUMBER, _TEXT))},
    "label_delete": {"name": _TEXT, "label_id": Type("union", items=(_NUMBER, _TEXT))},
    # labels.md "List labels": include_ancestor_groups, search.
    "labels": {"include_ancestor_groups": _BOOL, "search": _TEXT},
    # milestones.md / group_milestones.md "List milestones".
    "milestones": {
        "state": Type(
            "union", items=(Type("literal", name="active"), Type("literal", name="closed"))
        ),
        "title": _TEXT,
        "search": _TEXT,
        "include_ancestors": _BOOL,
        "iids": Type("array", items=(_NUMBER,)),
    },
    # milestones.md "Edit milestone": state_event close or activate.
    "milestone_edit": {
        "state_event": Type(
            "union", items=(Type("literal", name="close"), Type("literal", name="activate"))
        )
    },
    # users.md "List users": username, search; members.md / projects.md "List project users".
    "users": {"username": _TEXT, "search": _TEXT},
    "project_users": {"search": _TEXT},
    # search.md "Project search": scope and search.
    "search": {"scope": _TEXT, "search": _TEXT},
    # issue_links.md "Create an issue link": the target's project and iid, and the type.
    "issue_link_create": {
        "target_project_id": Type("union", items=(_NUMBER, _TEXT)),
        "target_issue_iid": Type("union", items=(_NUMBER, _TEXT)),
        "link_type": Type(
            "union",
            items=tuple(Type("literal", name=t) for t in ("relates_to", "blocks", "is_blocked_by")),
        ),
    },
    # notes.md "List project issue notes": sort and order_by (also in the example).
    "notes": {"sort": _TEXT, "order_by": _TEXT},
    # resource_*_events.md: the issue is the route's ``eventable_id``, which GitLab's Link
    # URLs repeat in the query (recorded/ ...resource_state_events...: ``eventable_id=2``).
    **{
        f"{table}_events": {"eventable_id": Type("union", items=(_NUMBER, _TEXT))}
        for table in ("state", "label", "milestone")
    },
}
AUTH_QUERY = frozenset({"private_token", "access_token"})
USER_KEYS = ("author", "assignee", "closed_by", "user")  # "user": a resource event's


def gitlab_contracts_dir() -> Path:
    return contracts_dir() / "gitlab"


def classify(method: str, raw_path: str) -> str | None:
    path = raw_path.split("?", 1)[0]
    for name, verb, pattern in ENDPOINTS:
        if verb == method.upper() and pattern.fullmatch(path):
            return name
    return None


@cache
def load_schema(relative: str) -> dict[str, Any]:
    """A schema with its relative ``$ref``s (``label.json``) inlined from beside it."""
    path = gitlab_contracts_dir() / "schemas" / relative

    def inline(node: Any, folder: Path) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.endswith(".json"):
                target = folder / ref
                return inline(json.loads(target.read_text(encoding="utf-8")), target.parent)
            return {k: inline(v, folder) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v, folder) for v in node]
        return node

    data: dict[str, Any] = inline(json.loads(path.read_text(encoding="utf-8")), path.parent)
    if relative == "issue.json":
        data = _widen_embedded_users(data)
    return data


def _widen_embedded_users(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the keys gitlab.com's embedded users carry to ``assignee``/``assignees``."""
    from tests.fakes.gitlab_state import RECORDED_ISSUES, recorded_body

    recorded = set()
    for issue in recorded_body(RECORDED_ISSUES):
        for key in USER_KEYS:
            if isinstance(issue.get(key), dict):
                recorded |= set(issue[key])
    widened = copy.deepcopy(schema)
    for target in (widened["properties"]["assignee"], widened["properties"]["assignees"]["items"]):
        for key in sorted(recorded - set(target["properties"])):
            target["properties"][key] = {}
    return widened


class GitLabContract:
    """Request and response checks for the fake GitLab (plug into ``ContractRecorder``)."""

    wants_raw_path = True  # a project path is one %2F-encoded segment: route the raw path

    def __init__(self, declarations: Declarations | None = None) -> None:
        self.decls = declarations or load()
        self._validators: dict[str, Any] = {}

    # -- requests ----------------------------------------------------------------------

    def allowed(self, endpoint: str) -> dict[str, Type]:
        """Every parameter ``endpoint`` takes, by wire name, with its type."""
        names: dict[str, Type] = {**DOCUMENTED["*"], **DOCUMENTED["*#route"]}
        for decl in OPTIONS.get(endpoint, ()):
            names.update({snake(k): m.type for k, m in self.decls.members(decl).items()})
        if endpoint in WRITABLE:
            decl, keys = WRITABLE[endpoint]
            members = self.decls.members(decl)
            names.update({k: members[k].type for k in keys})
        if endpoint in EXAMPLES:
            for name in _example_names(EXAMPLES[endpoint]):
                names.setdefault(name, _TEXT)
        names.update(DOCUMENTED.get(endpoint, {}))
        names.update(DOCUMENTED.get(f"{endpoint}#assignee_id", {}) if endpoint == "issues" else {})
        if endpoint in ("issue_create", "issue_edit", "milestone_create", "milestone_edit"):
            # A due date is cleared with null (issues.md, milestones.md "due_date").
            for name in ("due_date", "start_date", "milestone_id"):
                if name in names:
                    names[name] = Type("union", items=(names[name], Type("prim", name="null")))
        if endpoint == "milestone_create":
            names.pop("state_event", None)
        return names

    def check_request(
        self, method: str, path: str, query: str, body: bytes, content_type: str | None
    ) -> list[str]:
        endpoint = classify(method, path)
        where = f"{method.upper()} {path.split('?', 1)[0]}"
        if endpoint is None:
            return [f"{where}: no GitLab endpoint of the fake's contract matches"]
        allowed = self.allowed(endpoint)
        problems: list[str] = []
        pairs: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            pairs.setdefault(name[:-2] if name.endswith("[]") else name, []).append(value)
        for name, values in pairs.items():
            if name in AUTH_QUERY:
                continue
            kind = allowed.get(name)
            if kind is None and not (name.startswith("not[") and "not" in allowed):
                problems.append(f"{where}: query parameter {name!r} is not declared")
            elif kind is not None:
                problems += self.decls.query_errors(kind, values, f"{where}: query {name!r}")
        if body:
            problems += self._check_body(where, allowed, body, content_type)
        return problems

    def _check_body(
        self, where: str, allowed: Mapping[str, Type], body: bytes, content_type: str | None
    ) -> list[str]:
        kind = (content_type or "").lower()
        if "json" in kind:
            try:
                data = json.loads(body)
            except ValueError as exc:
                return [f"{where}: request body is not JSON ({exc})"]
            if not isinstance(data, dict):
                return [f"{where}: request body is not a JSON object"]
            problems = []
            for name, value in data.items():
                declared = allowed.get(name)
                if declared is None:
                    problems.append(f"{where}: body parameter {name!r} is not declared")
                else:
                    problems += self.decls.errors(declared, value, f"{where}: body {name!r}")
            return problems
        if "x-www-form-urlencoded" in kind:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            return [
                f"{where}: form parameter {name!r} is not declared"
                for name, _ in pairs
                if name.removesuffix("[]") not in allowed
            ]
        return [f"{where}: request body sent as {content_type!r}"]

    # -- responses ---------------------------------------------------------------------

    def check_response(
        self, method: str, path: str, status: int, body: bytes, content_type: str | None
    ) -> list[str]:
        endpoint = classify(method, path)
        where = f"{method.upper()} {path.split('?', 1)[0]} -> {status}"
        if status == 304 or status == 204:
            return [] if not body else [f"{where}: a {status} must have no body"]
        if status == 429 and (content_type or "").startswith("text/plain"):
            return []  # Rack::Attack's "Retry later"
        if "application/json" not in (content_type or ""):
            return [f"{where}: Content-Type is {content_type!r}, expected application/json"]
        try:
            value = json.loads(body)
        except ValueError as exc:
            return [f"{where}: body is not valid JSON ({exc})"]
        if status >= 400:
            return _error_problems(where, value)
        if endpoint is None:
            return [f"{where}: answered {status} but no GitLab endpoint matches"]
        if endpoint.endswith("_delete") and endpoint not in ENTITY:
            # issue_links.md "Delete an issue link" answers the link it removed.
            return [f"{where}: a delete answers 204 without a body"]
        if status == 202:
            return _commands_only_problems(endpoint, value, where)
        return self.entity_problems(endpoint, value, where)

    def entity_problems(self, endpoint: str, value: Any, where: str) -> list[str]:
        """Problems with a success body of ``endpoint`` (one object or a list of them)."""
        schema_file, decl = ENTITY.get(endpoint, (None, None))
        listed = endpoint in LISTS
        if listed and not isinstance(value, list):
            return [f"{where}: expected a JSON array"]
        items = value if listed else [value]
        problems: list[str] = []
        for index, item in enumerate(items):
            at = f"{where} [{index}]" if listed else where
            if not isinstance(item, dict):
                problems.append(f"{at}: not a JSON object")
                continue
            if schema_file is not None:
                problems += [f"{at}: {p}" for p in self.schema_errors(schema_file, item)]
            for key, user in _embedded_users(item):
                problems += [
                    f"{at} {key}: {p}" for p in self.schema_errors("user/basic.json", user)
                ]
            if decl is not None:
                problems += self._typed(decl, item, at)
        return problems

    def _typed(self, decl: str, item: dict[str, Any], where: str) -> list[str]:
        members = self.decls.members(decl)
        problems: list[str] = []
        for name, member in members.items():
            if name not in item or item[name] is None or name == "closed_by":
                continue
            problems += self.decls.errors(
                member.type, item[name], f"{where}: {name}", nullable=True
            )
        return problems

    def schema_errors(self, relative: str, value: Any) -> list[str]:
        validator = self._validators.get(relative)
        if validator is None:
            import jsonschema

            validator = jsonschema.Draft7Validator(load_schema(relative))
            self._validators[relative] = validator
        errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))
        return [
            f"{relative} at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
            for e in errors[:10]
        ]


def _commands_only_problems(endpoint: str, value: Any, where: str) -> list[str]:
    """GitLab's answer to a note made of quick actions alone: no note is stored and the API
    answers 202 with what the commands changed (lib/api/notes.rb; as gitlab.com answers,
    gitlab4j/gitlab4j-api#1273): an object of ``commands_changes`` and ``summary``."""
    if endpoint != "note_create":
        return [f"{where}: only a note made of quick actions is answered with 202"]
    if not isinstance(value, dict) or set(value) != {"commands_changes", "summary"}:
        return [f"{where}: expected an object of commands_changes and summary"]
    problems = []
    if not isinstance(value["commands_changes"], dict):
        problems.append(f"{where}: commands_changes is not an object")
    summary = value["summary"]
    if not isinstance(summary, list) or not all(isinstance(s, str) for s in summary):
        problems.append(f"{where}: summary is not a list of strings")
    return problems


def _embedded_users(item: dict[str, Any]) -> list[tuple[str, Any]]:
    found = [(key, item[key]) for key in USER_KEYS if isinstance(item.get(key), dict)]
    for index, user in enumerate(item.get("assignees") or []):
        if isinstance(user, dict):
            found.append((f"assignees[{index}]", user))
    return found


def _error_problems(where: str, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: an error body must be a JSON object"]
    if isinstance(value.get("message"), str | dict) or isinstance(value.get("error"), str):
        return []
    return [f"{where}: an error body needs a 'message' or an 'error' ({value!r:.200})"]


@cache
def _example_names(file_name: str) -> tuple[str, ...]:
    path = gitlab_contracts_dir() / "examples" / file_name
    request = json.loads(path.read_text(encoding="utf-8")).get("request") or {}
    names: list[str] = []
    for part in ("query", "form", "body"):
        names += list((request.get(part) or {}).keys())
    return tuple(names)
