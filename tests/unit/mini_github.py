"""Just enough of GitHub's REST API for one repository ``acme/widgets``, behind
``httpx.MockTransport``: the unit tests of ``GitHubBackend`` pin the backend's own decisions
(request shapes and counts, pull requests dropped, labels by name, one PATCH, state_reason,
dropped fields, scopes, redirects, limits). The contract suites run against the full fake.

Semantics follow GitHub's documentation: pull requests are in the issue lists (with
``pull_request``), labels filter with AND, ``assignee=none``/``milestone=none``, ``Link``
headers with ``next`` and ``last``, a user without push access has labels, assignees and
milestone dropped silently, an archived repository refuses writes with 403.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import httpx

from tests.fakes.contracts import _EMPTY
from tests.fakes.github_contract import GitHubContract

OWNER, REPO = "acme", "widgets"
REPO_ID = 4242
API = "https://api.github.com"


class MiniGitHub:
    def __init__(self) -> None:
        self.issues: dict[int, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {}  # by lower-case name
        self.milestones: dict[int, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.assignable = {"octo", "ann", "bob"}
        self.requests: list[httpx.Request] = []
        self.next_id = 9000
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        self.push = True
        self.archived = False
        self.scopes: str | None = "repo, read:org"  # None: a fine-grained token
        self.full_name = f"{OWNER}/{REPO}"  # renamed when it differs from acme/widgets
        self.fail_next: list[httpx.Response] = []
        self.remaining = 4999
        self.search = True
        # Every exchange is held to GitHub's OpenAPI description (tests/fakes/github_contract):
        # a unit fake that drifts from GitHub is a test failure, as for the full fake.
        self.violations: list[str] = []
        self.check_responses = False

    # -- helpers ---------------------------------------------------------------------------

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def tick(self) -> str:
        self.now += timedelta(seconds=1)
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def repo_url(self) -> str:
        return f"{API}/repos/{self.full_name}"

    def add_label(self, name: str, color: str = "d73a4a") -> dict[str, Any]:
        label = {
            "id": self._id(),
            "node_id": f"LA_{name}",
            "url": f"{self.repo_url}/labels/{quote(name)}",
            "name": name,
            "color": color,
            "default": False,
            "description": None,
        }
        self.labels[name.lower()] = label
        return label

    def add_milestone(self, title: str) -> dict[str, Any]:
        number = len(self.milestones) + 1
        ms = {
            "id": self._id(),
            "number": number,
            "title": title,
            "state": "open",
            "description": None,
            "due_on": None,
            "open_issues": 0,
            "closed_issues": 0,
            "url": f"{self.repo_url}/milestones/{number}",
            "created_at": self.tick(),
            "updated_at": self.tick(),
            "closed_at": None,
        }
        self.milestones[number] = ms
        return ms

    def add_issue(self, title: str, *, pull: bool = False, **fields: Any) -> dict[str, Any]:
        number = len(self.issues) + 1
        stamp = self.tick()
        issue = {
            "id": self._id(),
            "node_id": f"I_kwDO{number}",
            "number": number,
            "title": title,
            "body": None,
            "state": "open",
            "state_reason": None,
            "labels": [],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "user": {"login": "octo", "id": 1},
            "comments": 0,
            "html_url": f"https://github.com/{self.full_name}/issues/{number}",
            "url": f"{self.repo_url}/issues/{number}",
            "repository_url": self.repo_url,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
        }
        if pull:
            issue["pull_request"] = {"url": f"{self.repo_url}/pulls/{number}"}
        issue.update(fields)
        self.issues[number] = issue
        return issue

    def paths(self, method: str | None = None) -> list[str]:
        return [
            r.url.path + (f"?{r.url.query.decode()}" if r.url.query else "")
            for r in self.requests
            if method is None or r.method == method
        ]

    # -- the transport -----------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _json(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        base = {
            "content-type": "application/json; charset=utf-8",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": "1900000000",
        }
        if self.scopes is not None:
            base["x-oauth-scopes"] = self.scopes
        base.update(headers or {})
        return httpx.Response(status, content=json.dumps(body).encode(), headers=base)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request``, after holding it to GitHub's description."""
        self.violations += GitHubContract.load().check_request(
            request.method,
            request.url.path,
            request.url.query.decode(),
            request.content if request.content else _EMPTY,
            request.headers.get("content-type"),
        )
        return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_next:
            return self.fail_next.pop(0)
        path = unquote(request.url.path)
        query = dict(parse_qsl(request.url.query.decode()))
        body = json.loads(request.content) if request.content else None
        old = f"/repos/{OWNER}/{REPO}"
        if self.full_name != f"{OWNER}/{REPO}" and (path == old or path.startswith(old + "/")):
            target = f"{API}/repositories/{REPO_ID}{path[len(old) :]}"
            if request.url.query:
                target += f"?{request.url.query.decode()}"
            status = 301 if request.method == "GET" else 307
            return self._json(
                status, {"message": "Moved Permanently", "url": target}, {"location": target}
            )
        prefix = f"/repositories/{REPO_ID}"
        if path.startswith(prefix):
            path = f"/repos/{self.full_name}{path[len(prefix) :]}"
        if path == "/search/issues":
            if not self.search:  # an Enterprise Server without its search index
                return self._json(404, {"message": "Not Found"})
            return self._search(query.get("q", ""))
        if path == "/user":
            return self._json(200, {"login": "octo", "id": 1, "name": "Octo Cat", "email": None})
        repo = f"/repos/{self.full_name}"
        if not path.startswith(repo):
            return self._json(404, {"message": "Not Found"})
        rest = path[len(repo) :]
        if request.method != "GET" and self.archived:
            return self._json(403, {"message": "Repository was archived so is read-only."})
        return self._route(request.method, rest, query, body, request)

    def _route(
        self, method: str, rest: str, query: dict[str, str], body: Any, request: httpx.Request
    ) -> httpx.Response:
        if rest == "" and method == "GET":
            perms = {
                "admin": False,
                "maintain": False,
                "push": self.push,
                "triage": self.push,
                "pull": True,
            }
            return self._json(
                200,
                {
                    "id": REPO_ID,
                    "full_name": self.full_name,
                    "owner": {"login": self.full_name.split("/")[0]},
                    "archived": self.archived,
                    "permissions": perms,
                },
            )
        if rest == "/issues" and method == "GET":
            return self._list_issues(query, request)
        if rest == "/issues" and method == "POST":
            return self._create_issue(body)
        if rest.startswith("/issues/comments/"):
            return self._comment(method, int(rest.rsplit("/", 1)[1]), body)
        if rest == "/issues/comments":
            since = query.get("since")
            items = [c for c in self.comments if not since or c["updated_at"] >= since]
            return self._page(items, query, request)
        if rest.startswith("/issues/"):
            parts = rest.split("/")
            number = int(parts[2])
            issue = self.issues.get(number)
            if issue is None:
                return self._json(404, {"message": "Not Found"})
            if len(parts) == 3 and method == "GET":
                return self._json(200, issue)
            if len(parts) == 3 and method == "PATCH":
                return self._edit_issue(issue, body)
            if parts[3:] == ["comments"] and method == "GET":
                items = [c for c in self.comments if c["issue_url"].endswith(f"/issues/{number}")]
                since = query.get("since")
                items = [c for c in items if not since or c["updated_at"] >= since]
                return self._page(items, query, request)
            if parts[3:] == ["comments"] and method == "POST":
                stamp = self.tick()
                comment = {
                    "id": self._id(),
                    "body": body["body"],
                    "user": {"login": "octo"},
                    "issue_url": issue["url"],
                    "created_at": stamp,
                    "updated_at": stamp,
                    "url": f"{self.repo_url}/issues/comments/{self.next_id}",
                }
                self.comments.append(comment)
                issue["comments"] += 1
                issue["updated_at"] = stamp
                return self._json(201, comment)
        if rest == "/labels" and method == "GET":
            return self._page(list(self.labels.values()), query, request)
        if rest == "/labels" and method == "POST":
            if body["name"].lower() in self.labels:
                return self._json(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [
                            {"resource": "Label", "code": "already_exists", "field": "name"}
                        ],
                    },
                )
            label = self.add_label(body["name"], body.get("color", "ededed"))
            label["description"] = body.get("description")
            return self._json(201, label)
        if rest.startswith("/labels/"):
            name = rest.split("/", 2)[2].lower()
            label = self.labels.get(name)
            if label is None:
                return self._json(404, {"message": "Not Found"})
            if method == "DELETE":
                del self.labels[name]
                for issue in self.issues.values():
                    issue["labels"] = [lab for lab in issue["labels"] if lab["id"] != label["id"]]
                return httpx.Response(204)
            if method == "PATCH":
                if "new_name" in body:
                    del self.labels[name]
                    label["name"] = body["new_name"]
                    self.labels[label["name"].lower()] = label
                for key in ("color", "description"):
                    if key in body:
                        label[key] = body[key]
                return self._json(200, label)
        if rest == "/milestones" and method == "GET":
            state = query.get("state", "open")
            items = [m for m in self.milestones.values() if state == "all" or m["state"] == state]
            return self._page(items, query, request)
        if rest == "/milestones" and method == "POST":
            ms = self.add_milestone(body["title"])
            ms.update({k: v for k, v in body.items() if k != "title"})
            return self._json(201, ms)
        if rest.startswith("/milestones/"):
            number = int(rest.rsplit("/", 1)[1])
            ms = self.milestones.get(number)
            if ms is None:
                return self._json(404, {"message": "Not Found"})
            if method == "PATCH":
                ms.update(body)
                return self._json(200, ms)
            if method == "DELETE":
                del self.milestones[number]
                for issue in self.issues.values():
                    if issue["milestone"] and issue["milestone"]["number"] == number:
                        issue["milestone"] = None
                return httpx.Response(204)
        if rest == "/assignees" and method == "GET":
            return self._page([{"login": name} for name in sorted(self.assignable)], query, request)
        return self._json(404, {"message": "Not Found"})

    def _page(
        self, items: list[Any], query: dict[str, str], request: httpx.Request
    ) -> httpx.Response:
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        if page < last:
            base = str(request.url.copy_remove_param("page"))
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        return self._json(200, chunk, {"link": ", ".join(links)} if links else None)

    def _list_issues(self, query: dict[str, str], request: httpx.Request) -> httpx.Response:
        state = query.get("state", "open")
        items = [i for i in self.issues.values() if state == "all" or i["state"] == state]
        for name in filter(None, query.get("labels", "").split(",")):
            items = [i for i in items if name.lower() in {x["name"].lower() for x in i["labels"]}]
        if "assignee" in query:
            who = query["assignee"]
            items = [
                i
                for i in items
                if (not i["assignees"]) == (who == "none")
                and (who == "none" or who in {a["login"] for a in i["assignees"]})
            ]
        if "milestone" in query:
            ms = query["milestone"]
            items = [
                i
                for i in items
                if (i["milestone"] is None) == (ms == "none")
                and (ms == "none" or str(i["milestone"]["number"]) == ms)
            ]
        if "creator" in query:
            items = [i for i in items if i["user"]["login"] == query["creator"]]
        if "since" in query:
            items = [i for i in items if i["updated_at"] >= query["since"]]
        key = "updated_at" if query.get("sort") == "updated" else "created_at"
        items.sort(key=lambda i: (i[key], i["number"]), reverse=query.get("direction") != "asc")
        return self._page(items, query, request)

    def _search(self, q: str) -> httpx.Response:
        """``repo:O/R is:issue [is:open|is:closed] "phrase"...`` over titles and bodies."""
        import shlex

        words = shlex.split(q)
        repo = next((w[5:] for w in words if w.startswith("repo:")), None)
        state = next((w[3:] for w in words if w in ("is:open", "is:closed")), None)
        phrases = [w.lower() for w in words if ":" not in w]
        items = []
        for issue in self.issues.values() if repo == self.full_name else []:
            text = f"{issue['title']}\n{issue['body'] or ''}".lower()
            if "pull_request" in issue or (state and issue["state"] != state):
                continue
            if all(p in text for p in phrases):
                items.append(issue)
        return self._json(
            200, {"total_count": len(items), "incomplete_results": False, "items": items}
        )

    def _labels_named(self, names: list[str]) -> list[dict[str, Any]]:
        found = []
        for name in names:
            label = self.labels.get(name.lower()) or self.add_label(name, "ededed")
            found.append(label)  # GitHub creates a label it does not know
        return found

    def _create_issue(self, body: dict[str, Any]) -> httpx.Response:
        issue = self.add_issue(body["title"], body=body.get("body"))
        if self.push:  # silently dropped for users without push access
            issue["labels"] = self._labels_named(body.get("labels") or [])
            issue["assignees"] = [{"login": a} for a in body.get("assignees") or []]
            if body.get("milestone"):
                issue["milestone"] = self.milestones[int(body["milestone"])]
        return self._json(201, issue)

    def _edit_issue(self, issue: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
        for key in ("title", "body"):
            if key in body:
                issue[key] = body[key]
        if "state" in body:
            closing = body["state"] == "closed"
            if closing and issue["state"] != "closed":
                issue["closed_at"] = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
            if not closing:
                issue["closed_at"] = None
            issue["state"] = body["state"]
            reason = body.get("state_reason")
            issue["state_reason"] = (
                (reason or "completed")
                if closing
                else ("reopened" if issue.get("state_reason") else None)
            )
        if self.push:
            if "labels" in body:
                issue["labels"] = self._labels_named(body["labels"])
            if "assignees" in body:
                issue["assignees"] = [{"login": a} for a in body["assignees"]]
            if "milestone" in body:
                ms = body["milestone"]
                issue["milestone"] = self.milestones[int(ms)] if ms is not None else None
        issue["updated_at"] = self.tick()
        return self._json(200, issue)

    def _comment(self, method: str, comment_id: int, body: Any) -> httpx.Response:
        comment = next((c for c in self.comments if c["id"] == comment_id), None)
        if comment is None:
            return self._json(404, {"message": "Not Found"})
        if method == "GET":
            return self._json(200, comment)
        if method == "PATCH":
            comment["body"] = body["body"]
            comment["updated_at"] = self.tick()
            return self._json(200, comment)
        self.comments.remove(comment)
        return httpx.Response(204)
