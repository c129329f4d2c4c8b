"""The fake GitHub's handlers: what each REST operation does to the state and answers.

GitHub semantics kept here (see ``tests.fakes.github`` for the request cycle):

* the issues list returns pull requests too (they carry a ``pull_request`` key); filters
  ``state`` (open by default), ``labels`` (comma-separated names, an issue must carry all),
  ``assignee``/``milestone`` (a login or milestone number, ``*`` any, ``none`` no value),
  ``creator``, ``mentioned`` (``@login`` in the body), ``since`` (``updated_at`` at or after);
  ``sort`` created/updated/comments, ``direction`` desc by default;
* creating or editing an issue with label names GitHub does not know creates those labels;
  labels, assignees and the milestone are silently dropped for users without push access,
  and logins that cannot be assigned are dropped silently too; an unknown milestone is 422;
* ``state_reason``: closing without one is ``completed``; ``not_planned`` and ``duplicate``
  close with that reason; reopening sets ``reopened``; ``closed_by`` is who closed it;
* labels are addressed by name, case-insensitively, and an issue's labels are listed by name
  (case-insensitively: the recorded lists are alphabetical, their case is not telling); a
  name that exists is 422 ``already_exists``; colours are six hex digits (a leading ``#`` is
  dropped); removing a label the issue does not carry is 404 "Label does not exist";
* milestones are addressed by ``number``; open/closed issue counts are derived;
* comments: per issue (oldest first, ``since``) and for the whole repository (by id, or
  ``sort`` created/updated with ``direction``); changed or deleted by their author or a user
  with push access; a locked issue takes comments from push users only.

Uncertain points, chosen and kept consistent: a user without enough access who edits someone
else's issue, or manages labels or milestones, gets 403 "Must have admin rights to
Repository." (GitHub's wording for several such refusals); an unknown milestone number in the
list filter is a 404; unknown users in ``assignee``/``creator``/``mentioned`` match nothing.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.github import Answer, GitHubError, Handler, Request, invalid, not_found
from tests.fakes.github_search import search_issues
from tests.fakes.github_state import Comment, Issue, Label, Milestone, Repo, parse_iso

ADMIN_RIGHTS = "Must have admin rights to Repository."
_COLOR = re.compile(r"^#?[0-9a-fA-F]{6}$")
_STATE_REASONS = ("completed", "not_planned", "duplicate", "reopened")


# --------------------------------------------------------------------------- helpers


def _issue(repo: Repo, raw: str) -> Issue:
    issue = repo.issues.get(int(raw)) if raw.isdigit() else None
    if issue is None:
        raise not_found()
    return issue


def _since(request: Request) -> int | None:
    raw = request.arg("since")
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid("Issue", "since", value=raw) from None


def _ensure_labels(request: Request, repo: Repo, items: Any) -> list[int]:
    """Label ids for names (or ``{"name": ...}`` objects); unknown names are created."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise invalid("Label", "labels")
    ids: list[int] = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise invalid("Label", "name", "missing_field")
        label = repo.label_named(name) or request.fake.state.new_label(repo, name)
        if label.id not in ids:
            ids.append(label.id)
    return ids


def _assignable(repo: Repo, logins: Any) -> list[str]:
    """Logins that may be assigned, in order; anything else is dropped without a word."""
    if not isinstance(logins, list):
        return []
    allowed = set(repo.assignable())
    found = [str(login).lower() for login in logins if str(login).lower() in allowed]
    return list(dict.fromkeys(found))


def _milestone_number(repo: Repo, raw: Any) -> int | None:
    if raw is None or raw == "":  # PyGithub clears a milestone with "" (recorded: GitHub agrees)
        return None
    number = int(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()) else -1
    if number not in repo.milestones:
        raise invalid("Issue", "milestone", value=raw)
    return number


def _state(request: Request, repo: Repo, issue: Issue, data: dict[str, Any]) -> None:
    state = data.get("state")
    reason = data.get("state_reason")
    if state is not None and state not in ("open", "closed"):
        raise invalid("Issue", "state", value=state)
    if reason is not None and reason not in _STATE_REASONS:
        raise invalid("Issue", "state_reason", value=reason)
    if state is None and reason is None:
        return
    target = state or issue.state
    if target == "closed" and reason == "reopened":
        raise invalid("Issue", "state_reason", value=reason)
    request.fake.state.set_state(
        issue, target, reason if target == "closed" else None, request.require_login()
    )


def _writer(request: Request, repo: Repo) -> bool:
    return repo.has_role(request.login, "push")


# --------------------------------------------------------------------------- users, meta


def get_authenticated_user(request: Request) -> Answer:
    login = request.require_login()
    request.accepted_scopes = ""
    return Answer(200, request.shapes.full_user(request.fake.state.users[login], private=True))


def get_user(request: Request) -> Answer:
    user = request.fake.state.user(request.params["username"])
    if user is None:
        raise not_found()
    return Answer(200, request.shapes.full_user(user, private=False))


def get_rate_limit(request: Request) -> Answer:
    fake = request.fake
    key = request.login or "address:127.0.0.1"
    limit = fake.rate_limit if request.login else fake.anonymous_rate_limit
    budget = fake._budget(key, limit)
    core = {
        "limit": budget.limit,
        "used": budget.used,
        "remaining": budget.remaining,
        "reset": budget.reset,
    }
    search = {"limit": 30, "used": 0, "remaining": 30, "reset": budget.reset}
    graphql = {**core, "used": 0, "remaining": budget.limit}
    return Answer(
        200, {"resources": {"core": core, "search": search, "graphql": graphql}, "rate": core}
    )


def get_meta(request: Request) -> Answer:
    body: dict[str, Any] = {"verifiable_password_authentication": True}
    if request.prefix:
        body["installed_version"] = request.fake.ghes_version
    else:
        body.update(
            ssh_key_fingerprints={"SHA256_ED25519": "+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"},
            hooks=["192.30.252.0/22"],
            web=["192.30.252.0/22"],
            api=["192.30.252.0/22"],
            git=["192.30.252.0/22"],
        )
    return Answer(200, body)


def get_repo(request: Request) -> Answer:
    repo = request.repo()
    return Answer(200, request.shapes.repository(repo, request.login))


# --------------------------------------------------------------------------- issues


def list_issues(request: Request) -> Answer:
    repo = request.repo()
    state = request.arg("state", "open")
    since = _since(request)
    wanted_labels = [n.strip().lower() for n in request.arg("labels").split(",") if n.strip()]
    milestone = request.arg("milestone")
    known = milestone.isdigit() and int(milestone) in repo.milestones
    if milestone not in ("", "*", "none") and not known:
        raise not_found()
    assignee = request.arg("assignee").lower()
    creator = request.arg("creator").lower()
    mentioned = request.arg("mentioned").lower()
    kind = request.arg("type")

    def keep(issue: Issue) -> bool:
        if state != "all" and issue.state != (state if state == "closed" else "open"):
            return False
        names = {repo.labels[i].name.lower() for i in issue.label_ids}
        if not set(wanted_labels) <= names:
            return False
        if milestone == "*" and issue.milestone_number is None:
            return False
        if milestone == "none" and issue.milestone_number is not None:
            return False
        if milestone.isdigit() and issue.milestone_number != int(milestone):
            return False
        if assignee == "none" and issue.assignees:
            return False
        if assignee == "*" and not issue.assignees:
            return False
        if assignee not in ("", "*", "none") and assignee not in issue.assignees:
            return False
        if creator and issue.user != creator:
            return False
        if mentioned and f"@{mentioned}" not in (issue.body or "").lower():
            return False
        if kind not in ("", "none"):
            return False  # no issue has an issue type here
        return since is None or issue.updated >= since

    found = [issue for issue in repo.issues.values() if keep(issue)]
    sort = request.arg("sort", "created")
    comments = {n: 0 for n in repo.issues}
    for comment in repo.comments.values():
        comments[comment.issue_number] = comments.get(comment.issue_number, 0) + 1

    def key(issue: Issue) -> tuple[int, int]:
        value = {"updated": issue.updated, "comments": comments[issue.number]}.get(
            sort, issue.created
        )
        return value, issue.number

    found.sort(key=key, reverse=request.arg("direction", "desc") != "asc")
    return request.page(found, lambda issue: request.shapes.issue(repo, issue))


def get_issue(request: Request) -> Answer:
    repo = request.repo()
    return Answer(200, request.shapes.issue(repo, _issue(repo, request.params["number"])))


def create_issue(request: Request) -> Answer:
    repo = request.repo()
    user = request.require_login()
    data = request.object()
    title = data.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        raise GitHubError(422, 'Invalid request.\n\n"title" wasn\'t supplied.')
    body = data.get("body")
    issue = request.fake.state.new_issue(repo, title=str(title), body=body, user=user)
    if _writer(request, repo):
        # "Only users with push access can set labels/assignees/milestone for new issues.
        # ... silently dropped otherwise."
        try:
            milestone = _milestone_number(repo, data.get("milestone"))
        except GitHubError:
            del repo.issues[issue.number]
            repo.next_number -= 1
            raise
        issue.milestone_number = milestone
        issue.label_ids = _ensure_labels(request, repo, data.get("labels") or [])
        logins = list(data.get("assignees") or [])
        if data.get("assignee"):
            logins.insert(0, data["assignee"])
        issue.assignees = _assignable(repo, logins)
    shaped = request.shapes.issue(repo, issue)
    return Answer(201, shaped, {"Location": shaped["url"]})


def update_issue(request: Request) -> Answer:
    repo = request.repo()
    user = request.require_login()
    issue = _issue(repo, request.params["number"])
    if issue.user != user and not repo.has_role(user, "triage"):
        raise GitHubError(403, ADMIN_RIGHTS)
    data = request.object()
    before = _fingerprint(issue)
    if "title" in data:
        if data["title"] is None or not str(data["title"]).strip():
            raise invalid("Issue", "title", "missing_field")
        issue.title = str(data["title"])
    if "body" in data:
        issue.body = data["body"]
    if _writer(request, repo):
        if "milestone" in data:
            issue.milestone_number = _milestone_number(repo, data["milestone"])
        if "labels" in data:
            issue.label_ids = _ensure_labels(request, repo, data["labels"] or [])
        if "assignees" in data:
            issue.assignees = _assignable(repo, data["assignees"] or [])
        elif "assignee" in data:
            issue.assignees = _assignable(repo, [data["assignee"]] if data["assignee"] else [])
    _state(request, repo, issue, data)
    if _fingerprint(issue) != before:
        issue.updated = request.fake.state.now()
    return Answer(200, request.shapes.issue(repo, issue))


def _fingerprint(issue: Issue) -> tuple[Any, ...]:
    return (
        issue.title,
        issue.body,
        issue.state,
        issue.state_reason,
        list(issue.label_ids),
        list(issue.assignees),
        issue.milestone_number,
    )


# -- assignees


def list_assignees(request: Request) -> Answer:
    repo = request.repo()
    users = [request.fake.state.users[login] for login in repo.assignable()]
    return request.page(users, request.shapes.user)


def check_assignee(request: Request) -> Answer:
    repo = request.repo()
    if request.params["login"].lower() not in repo.assignable():
        raise not_found()
    return Answer(204)


def add_assignees(request: Request) -> Answer:
    repo = request.repo()
    issue = _issue(repo, request.params["number"])
    if _writer(request, repo):
        wanted = _assignable(repo, request.object().get("assignees") or [])
        added = [login for login in wanted if login not in issue.assignees]
        if added:
            issue.assignees.extend(added)
            issue.updated = request.fake.state.now()
    return Answer(201, request.shapes.issue(repo, issue))


def remove_assignees(request: Request) -> Answer:
    repo = request.repo()
    issue = _issue(repo, request.params["number"])
    if _writer(request, repo):
        gone = {str(login).lower() for login in request.object().get("assignees") or []}
        kept = [login for login in issue.assignees if login not in gone]
        if kept != issue.assignees:
            issue.assignees = kept
            issue.updated = request.fake.state.now()
    return Answer(200, request.shapes.issue(repo, issue))


# -- issue labels


def _labels_body(request: Request) -> Any:
    data = request.json()
    if isinstance(data, dict):
        return data.get("labels") or []
    return data or []


def _push_issue(request: Request) -> tuple[Repo, Issue]:
    repo = request.repo()
    issue = _issue(repo, request.params["number"])
    if not _writer(request, repo):
        raise GitHubError(403, ADMIN_RIGHTS)
    return repo, issue


def _issue_labels(request: Request, repo: Repo, issue: Issue) -> Answer:
    return Answer(200, [request.shapes.label(repo, label) for label in repo.labels_of(issue)])


def list_issue_labels(request: Request) -> Answer:
    repo = request.repo()
    issue = _issue(repo, request.params["number"])
    labels = repo.labels_of(issue)
    return request.page(labels, lambda label: request.shapes.label(repo, label))


def add_issue_labels(request: Request) -> Answer:
    repo, issue = _push_issue(request)
    added = [
        i for i in _ensure_labels(request, repo, _labels_body(request)) if i not in issue.label_ids
    ]
    if added:
        issue.label_ids.extend(added)
        issue.updated = request.fake.state.now()
    return _issue_labels(request, repo, issue)


def set_issue_labels(request: Request) -> Answer:
    repo, issue = _push_issue(request)
    wanted = _ensure_labels(request, repo, _labels_body(request))
    if wanted != issue.label_ids:
        issue.label_ids = wanted
        issue.updated = request.fake.state.now()
    return _issue_labels(request, repo, issue)


def clear_issue_labels(request: Request) -> Answer:
    _, issue = _push_issue(request)
    if issue.label_ids:
        issue.label_ids = []
        issue.updated = request.fake.state.now()
    return Answer(204)


def remove_issue_label(request: Request) -> Answer:
    repo, issue = _push_issue(request)
    label = repo.label_named(request.params["name"])
    if label is None or label.id not in issue.label_ids:
        raise GitHubError(404, "Label does not exist")
    issue.label_ids.remove(label.id)
    issue.updated = request.fake.state.now()
    return _issue_labels(request, repo, issue)


# -- comments


def list_issue_comments(request: Request) -> Answer:
    repo = request.repo()
    issue = _issue(repo, request.params["number"])
    since = _since(request)
    found = [
        c
        for c in sorted(repo.comments.values(), key=lambda c: (c.created, c.id))
        if c.issue_number == issue.number and (since is None or c.updated >= since)
    ]
    return request.page(found, lambda c: request.shapes.comment(repo, c))


def list_repo_comments(request: Request) -> Answer:
    repo = request.repo()
    since = _since(request)
    found = [c for c in repo.comments.values() if since is None or c.updated >= since]
    sort = request.arg("sort")
    if sort:
        field = "updated" if sort == "updated" else "created"
        found.sort(
            key=lambda c: (getattr(c, field), c.id),
            reverse=request.arg("direction", "desc") != "asc",
        )
    else:
        found.sort(key=lambda c: c.id)  # "direction: ignored without the sort parameter"
    return request.page(found, lambda c: request.shapes.comment(repo, c))


def create_comment(request: Request) -> Answer:
    repo = request.repo()
    user = request.require_login()
    issue = _issue(repo, request.params["number"])
    body = request.object().get("body")
    if not isinstance(body, str) or not body.strip():
        raise invalid("IssueComment", "body", "missing_field")
    if issue.locked and not _writer(request, repo):
        raise GitHubError(403, "Unable to create comment because issue is locked.")
    comment = request.fake.state.new_comment(repo, issue, user, body)
    shaped = request.shapes.comment(repo, comment)
    return Answer(201, shaped, {"Location": shaped["url"]})


def _comment(repo: Repo, raw: str) -> Comment:
    comment = repo.comments.get(int(raw)) if raw.isdigit() else None
    if comment is None:
        raise not_found()
    return comment


def _own_comment(request: Request) -> tuple[Repo, Comment]:
    repo = request.repo()
    user = request.require_login()
    comment = _comment(repo, request.params["comment_id"])
    if comment.user != user and not _writer(request, repo):
        raise GitHubError(403, ADMIN_RIGHTS)
    return repo, comment


def get_comment(request: Request) -> Answer:
    repo = request.repo()
    return Answer(200, request.shapes.comment(repo, _comment(repo, request.params["comment_id"])))


def update_comment(request: Request) -> Answer:
    repo, comment = _own_comment(request)
    body = request.object().get("body")
    if not isinstance(body, str) or not body.strip():
        raise invalid("IssueComment", "body", "missing_field")
    if body != comment.body:
        comment.body = body
        comment.updated = request.fake.state.now()
    return Answer(200, request.shapes.comment(repo, comment))


def delete_comment(request: Request) -> Answer:
    repo, comment = _own_comment(request)
    del repo.comments[comment.id]
    return Answer(204)


# -- repository labels


def _push_repo(request: Request) -> Repo:
    repo = request.repo()
    request.require_login()
    if not _writer(request, repo):
        raise GitHubError(403, ADMIN_RIGHTS)
    return repo


def _label(repo: Repo, name: str) -> Label:
    label = repo.label_named(name)
    if label is None:
        raise not_found()
    return label


def _color(raw: Any) -> str:
    if not isinstance(raw, str) or not _COLOR.match(raw):
        raise invalid("Label", "color")
    return raw.lstrip("#").lower()


def list_labels(request: Request) -> Answer:
    repo = request.repo()
    labels = sorted(repo.labels.values(), key=lambda label: label.name.lower())
    return request.page(labels, lambda label: request.shapes.label(repo, label))


def get_label(request: Request) -> Answer:
    repo = request.repo()
    return Answer(200, request.shapes.label(repo, _label(repo, request.params["name"])))


def create_label(request: Request) -> Answer:
    repo = _push_repo(request)
    data = request.object()
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("Label", "name", "missing_field")
    if repo.label_named(name) is not None:
        raise invalid("Label", "name", "already_exists")
    color = _color(data["color"]) if data.get("color") is not None else "ededed"
    label = request.fake.state.new_label(repo, name, color, data.get("description"))
    shaped = request.shapes.label(repo, label)
    return Answer(201, shaped, {"Location": shaped["url"]})


def update_label(request: Request) -> Answer:
    repo = _push_repo(request)
    label = _label(repo, request.params["name"])
    data = request.object()
    new_name = data.get("new_name")
    if new_name is not None:
        other = repo.label_named(new_name)
        if other is not None and other is not label:
            raise invalid("Label", "name", "already_exists")
        label.name = new_name
    if data.get("color") is not None:
        label.color = _color(data["color"])
    if "description" in data:
        label.description = data["description"]
    return Answer(200, request.shapes.label(repo, label))


def delete_label(request: Request) -> Answer:
    repo = _push_repo(request)
    label = _label(repo, request.params["name"])
    del repo.labels[label.id]
    for issue in repo.issues.values():
        if label.id in issue.label_ids:
            issue.label_ids.remove(label.id)
    return Answer(204)


# -- milestones


def _milestone(repo: Repo, raw: str) -> Milestone:
    milestone = repo.milestones.get(int(raw)) if raw.isdigit() else None
    if milestone is None:
        raise not_found()
    return milestone


def list_milestones(request: Request) -> Answer:
    repo = request.repo()
    state = request.arg("state", "open")
    found = [m for m in repo.milestones.values() if state == "all" or m.state == state]
    if request.arg("sort") == "completeness":
        shaped = {m.number: request.shapes.milestone(repo, m) for m in found}

        def done(m: Milestone) -> tuple[float, int]:
            counts = shaped[m.number]
            total = counts["open_issues"] + counts["closed_issues"]
            return (counts["closed_issues"] / total if total else 0.0), m.number

        found.sort(key=done)
    else:
        found.sort(key=lambda m: (m.due_on is None, m.due_on or 0, m.number))
    if request.arg("direction", "asc") == "desc":
        found.reverse()
    return request.page(found, lambda m: request.shapes.milestone(repo, m))


def get_milestone(request: Request) -> Answer:
    repo = request.repo()
    return Answer(200, request.shapes.milestone(repo, _milestone(repo, request.params["number"])))


def _apply_milestone(
    request: Request, repo: Repo, milestone: Milestone, data: dict[str, Any]
) -> None:
    if "title" in data:
        title = data["title"]
        if not isinstance(title, str) or not title.strip():
            raise invalid("Milestone", "title", "missing_field")
        clash = next(
            (m for m in repo.milestones.values() if m.title == title and m is not milestone), None
        )
        if clash is not None:
            raise invalid("Milestone", "title", "already_exists")
        milestone.title = title
    if "description" in data:
        milestone.description = data["description"]
    if "due_on" in data:
        if data["due_on"] is None:
            milestone.due_on = None
        else:
            raw = str(data["due_on"])
            try:
                if "T" not in raw:
                    raise ValueError(raw)
                # GitHub keeps the date of a due date; the recorded answers show midnight UTC.
                moment = parse_iso(raw)
            except ValueError:
                raise GitHubError(
                    422, f"Invalid request.\n\n{raw} is not a valid date-time."
                ) from None
            milestone.due_on = moment - moment % 86400
    if "state" in data:
        state = data["state"]
        if state not in ("open", "closed"):
            raise invalid("Milestone", "state", value=state)
        if state != milestone.state:
            milestone.state = state
            milestone.closed_at = request.fake.state.now() if state == "closed" else None
    milestone.updated = request.fake.state.now()


def create_milestone(request: Request) -> Answer:
    repo = _push_repo(request)
    data = request.object()
    if not isinstance(data.get("title"), str) or not data["title"].strip():
        raise invalid("Milestone", "title", "missing_field")
    if any(m.title == data["title"] for m in repo.milestones.values()):
        raise invalid("Milestone", "title", "already_exists")
    milestone = request.fake.state.new_milestone(repo, data["title"], request.require_login())
    try:
        _apply_milestone(request, repo, milestone, data)
    except GitHubError:
        del repo.milestones[milestone.number]  # a refused create leaves nothing behind
        repo.next_milestone -= 1
        raise
    shaped = request.shapes.milestone(repo, milestone)
    return Answer(201, shaped, {"Location": shaped["url"]})


def update_milestone(request: Request) -> Answer:
    repo = _push_repo(request)
    milestone = _milestone(repo, request.params["number"])
    _apply_milestone(request, repo, milestone, request.object())
    return Answer(200, request.shapes.milestone(repo, milestone))


def delete_milestone(request: Request) -> Answer:
    repo = _push_repo(request)
    milestone = _milestone(repo, request.params["number"])
    del repo.milestones[milestone.number]
    for issue in repo.issues.values():
        if issue.milestone_number == milestone.number:
            issue.milestone_number = None
    return Answer(204)


# --------------------------------------------------------------------------- routes


def _dependency_routes() -> list[tuple[str, dict[str, Handler]]]:
    from tests.fakes.github_deps import ROUTES as DEPENDENCY_ROUTES

    return list(DEPENDENCY_ROUTES)


def _event_routes() -> list[tuple[str, dict[str, Handler]]]:
    from tests.fakes.github_events import ROUTES as EVENT_ROUTES

    return list(EVENT_ROUTES)


_R = "/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_N = "(?P<number>[^/]+)"
_ROUTE_TABLE: list[tuple[str, dict[str, Handler]]] = [
    ("/user", {"GET": get_authenticated_user}),
    ("/users/(?P<username>[^/]+)", {"GET": get_user}),
    ("/rate_limit", {"GET": get_rate_limit}),
    ("/meta", {"GET": get_meta}),
    ("/search/issues", {"GET": search_issues}),
    (_R, {"GET": get_repo}),
    (_R + "/assignees", {"GET": list_assignees}),
    (_R + "/assignees/(?P<login>[^/]+)", {"GET": check_assignee}),
    (_R + "/issues", {"GET": list_issues, "POST": create_issue}),
    (_R + "/issues/comments", {"GET": list_repo_comments}),
    *((_R + path, handlers) for path, handlers in _event_routes()),
    (
        _R + "/issues/comments/(?P<comment_id>[^/]+)",
        {"GET": get_comment, "PATCH": update_comment, "DELETE": delete_comment},
    ),
    (_R + f"/issues/{_N}", {"GET": get_issue, "PATCH": update_issue}),
    (_R + f"/issues/{_N}/assignees", {"POST": add_assignees, "DELETE": remove_assignees}),
    (
        _R + f"/issues/{_N}/labels",
        {
            "GET": list_issue_labels,
            "POST": add_issue_labels,
            "PUT": set_issue_labels,
            "DELETE": clear_issue_labels,
        },
    ),
    (_R + f"/issues/{_N}/labels/(?P<name>[^/]+)", {"DELETE": remove_issue_label}),
    (_R + f"/issues/{_N}/comments", {"GET": list_issue_comments, "POST": create_comment}),
    *((_R + path, handlers) for path, handlers in _dependency_routes()),
    (_R + "/labels", {"GET": list_labels, "POST": create_label}),
    (
        _R + "/labels/(?P<name>[^/]+)",
        {"GET": get_label, "PATCH": update_label, "DELETE": delete_label},
    ),
    (_R + "/milestones", {"GET": list_milestones, "POST": create_milestone}),
    (
        _R + f"/milestones/{_N}",
        {"GET": get_milestone, "PATCH": update_milestone, "DELETE": delete_milestone},
    ),
]
ROUTES = [(re.compile(path), handlers) for path, handlers in _ROUTE_TABLE]
