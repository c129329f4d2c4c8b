"""GiteaBackend against a small in-memory Gitea behind httpx.MockTransport.

The integration suite against the full fake server lives in tests/fakes; these tests pin the
backend's own decisions: label ids, in_progress, changed-field edits, conflicts, idempotent
creates, request counts, connection checks.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from issue_core.backends.gitea import GiteaBackend
from issue_core.core.errors import (
    AuthError,
    BackendUnavailable,
    Conflict,
    NotFound,
    ValidationError,
)
from issue_core.core.interfaces import Capability
from issue_core.core.models import Issue, IssueFilter, IssueState, Label, Milestone

TOKEN = "gitea-unit-token-9f8e7d"
IP = "status/in-progress"


class MiniGitea:
    """Just enough of Gitea 1.27's /api/v1 for one repository ``acme/widgets``."""

    def __init__(self) -> None:
        self.issues: dict[int, dict[str, Any]] = {}
        self.labels: dict[int, dict[str, Any]] = {}
        self.milestones: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[httpx.Request] = []
        self.next_id = 1000
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        self.fail_next: list[Any] = []  # exceptions or responses to answer before handling
        self.max_items = 50
        self.repo_status = 200
        self.permissions = {"admin": False, "push": True, "pull": True}

    # -- helpers ---------------------------------------------------------------------
    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def tick(self) -> str:
        self.now += timedelta(seconds=1)
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_label(self, name: str, color: str = "ee0701") -> dict[str, Any]:
        label = {"id": self._id(), "name": name, "color": color, "description": ""}
        self.labels[label["id"]] = label
        return label

    def add_milestone(self, title: str) -> dict[str, Any]:
        ms = {"id": self._id(), "title": title, "state": "open", "description": "", "due_on": None}
        self.milestones[ms["id"]] = ms
        return ms

    def add_issue(self, title: str, **fields: Any) -> dict[str, Any]:
        number = len(self.issues) + 1
        stamp = self.tick()
        issue = {
            "id": self._id(),
            "number": number,
            "title": title,
            "body": "",
            "state": "open",
            "labels": [],
            "milestone": None,
            "assignees": None,
            "assignee": None,
            "user": {"login": "alice"},
            "comments": 0,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
            "pull_request": None,
            "content_version": 0,
            "html_url": f"http://gitea.test/acme/widgets/issues/{number}",
        }
        issue.update(fields)
        self.issues[number] = issue
        return issue

    def page(self, request: httpx.Request, rows: list[Any]) -> httpx.Response:
        limit = min(int(request.url.params.get("limit", 30)), self.max_items)
        page = int(request.url.params.get("page", 1))
        chunk = rows[(page - 1) * limit : page * limit]
        return httpx.Response(200, json=chunk, headers={"X-Total-Count": str(len(rows))})

    # -- routing --------------------------------------------------------------------
    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"token {TOKEN}":
            return httpx.Response(401, json={"message": "token is required"})
        if self.fail_next:
            answer = self.fail_next.pop(0)
            if isinstance(answer, Exception):
                raise answer
            if callable(answer):
                answer = answer(request)
            if answer is not None:  # None: a hook that only looked, handle the request normally
                return answer
        path = request.url.path.removeprefix("/api/v1")
        body = json.loads(request.content) if request.content else None
        m = request.method
        if path == "/version":
            return httpx.Response(200, json={"version": "1.27.0"})
        if path == "/user":
            return httpx.Response(
                200, json={"login": "alice", "full_name": "Alice", "email": "a@x"}
            )
        if path == "/settings/api":
            return httpx.Response(200, json={"max_response_items": self.max_items})
        repo = "/repos/acme/widgets"
        if not path.startswith(repo):
            return httpx.Response(404, json={"message": "not found"})
        rest = path.removeprefix(repo)
        if rest == "":
            if self.repo_status != 200:
                return httpx.Response(self.repo_status, json={"message": "repo"})
            return httpx.Response(
                200, json={"full_name": "acme/widgets", "permissions": self.permissions}
            )
        if rest == "/issues" and m == "GET":
            return self.page(request, self.list_issues(request.url.params))
        if rest == "/issues" and m == "POST":
            return httpx.Response(201, json=self.create_issue(body))
        if match := re.fullmatch(r"/issues/(\d+)", rest):
            issue = self.issues.get(int(match[1]))
            if issue is None:
                return httpx.Response(404, json={"message": "issue does not exist"})
            if m == "GET":
                return httpx.Response(200, json=issue)
            if m == "DELETE":
                del self.issues[issue["number"]]
                return httpx.Response(204)
            return self.edit_issue(issue, body)
        if match := re.fullmatch(r"/issues/(\d+)/labels", rest):
            issue = self.issues[int(match[1])]
            issue["labels"] = [self.labels[i] for i in body["labels"]]
            issue["updated_at"] = self.tick()
            return httpx.Response(200, json=issue["labels"])
        if match := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(match[1])
            if number not in self.issues:
                return httpx.Response(404, json={"message": "issue does not exist"})
            if m == "GET":
                return httpx.Response(200, json=self.comments.get(number, []))
            comment = {
                "id": self._id(),
                "body": body["body"],
                "user": {"login": "alice"},
                "created_at": self.tick(),
                "updated_at": self.now.isoformat(),
            }
            self.comments.setdefault(number, []).append(comment)
            self.issues[number]["comments"] += 1
            return httpx.Response(201, json=comment)
        if rest == "/labels":
            if m == "GET":
                return self.page(request, list(self.labels.values()))
            label = self.add_label(body["name"], body["color"].lstrip("#"))
            label["description"] = body.get("description", "")
            return httpx.Response(201, json=label)
        if match := re.fullmatch(r"/labels/(\d+)", rest):
            label = self.labels[int(match[1])]
            if m == "DELETE":
                del self.labels[label["id"]]
                return httpx.Response(204)
            label.update({k: (v.lstrip("#") if k == "color" else v) for k, v in body.items()})
            return httpx.Response(200, json=label)
        if rest == "/milestones":
            if m == "GET":
                return self.page(request, list(self.milestones.values()))
            ms = self.add_milestone(body["title"])
            ms.update(body)
            return httpx.Response(201, json=ms)
        if match := re.fullmatch(r"/milestones/(\d+)", rest):
            ms = self.milestones[int(match[1])]
            ms.update(body)
            return httpx.Response(200, json=ms)
        if rest == "/assignees":
            return httpx.Response(
                200, json=[{"login": "bob"}, {"login": "alice", "full_name": "A"}]
            )
        return httpx.Response(404, json={"message": f"no route {m} {path}"})

    def list_issues(self, params: Any) -> list[dict[str, Any]]:
        rows = sorted(self.issues.values(), key=lambda i: i["number"], reverse=True)
        state = params.get("state", "open")
        if state != "all":
            rows = [i for i in rows if i["state"] == state]
        if params.get("labels"):
            wanted = set(params["labels"].split(","))
            rows = [i for i in rows if wanted & {lab["name"] for lab in i["labels"]}]
        if params.get("assigned_by"):
            rows = [
                i
                for i in rows
                if params["assigned_by"] in [a["login"] for a in i["assignees"] or []]
            ]
        if params.get("q"):
            rows = [i for i in rows if params["q"] in i["title"] + i["body"]]
        if params.get("since"):
            rows = [i for i in rows if i["updated_at"] >= params["since"]]
        return rows

    def create_issue(self, body: dict[str, Any]) -> dict[str, Any]:
        ms = self.milestones.get(body.get("milestone") or 0)
        return self.add_issue(
            body["title"],
            body=body.get("body", ""),
            labels=[self.labels[i] for i in body.get("labels", [])],
            assignees=[{"login": a} for a in body.get("assignees", [])] or None,
            milestone=ms,
            state="closed" if body.get("closed") else "open",
        )

    def edit_issue(self, issue: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
        if "content_version" in body and body["content_version"] != issue["content_version"]:
            return httpx.Response(400, json={"message": "the issue is already changed"})
        for key in ("title", "state"):
            if key in body:
                issue[key] = body[key]
        if "body" in body:
            issue["body"] = body["body"]
            issue["content_version"] += 1
        if "assignees" in body:
            issue["assignees"] = [{"login": a} for a in body["assignees"]] or None
        if "milestone" in body:
            issue["milestone"] = self.milestones.get(body["milestone"])
        issue["updated_at"] = self.tick()
        return httpx.Response(201, json=issue)

    def sent(self, method: str | None = None) -> list[str]:
        return [
            f"{r.method} {r.url.path.removeprefix('/api/v1/repos/acme/widgets')}"
            for r in self.requests
            if method is None or r.method == method
        ]


@pytest.fixture
def gitea(monkeypatch, tmp_path):
    monkeypatch.setenv("GITEA_API_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    server = MiniGitea()
    server.add_label("bug")
    server.add_label("priority:critical")
    server.add_milestone("v1")
    return server


@pytest.fixture
def backend(gitea):
    # The backend reads the fake's clock: recovery windows ("issues since start - 1h") are
    # relative to the server's time, and the fake's time is fixed.
    b = GiteaBackend(
        transport=httpx.MockTransport(gitea),
        sleep=lambda s: None,
        clock=lambda: gitea.now.timestamp(),
    )
    b.connect({"url": "http://gitea.test", "owner": "acme", "repo": "widgets"})
    yield b
    b.close()


# --------------------------------------------------------------------------- configuration


def test_declares_type_capabilities_and_config_options():
    assert GiteaBackend.type_name == "gitea"
    assert {o.key for o in GiteaBackend.config_options} == {
        "url",
        "owner",
        "repo",
        "token_env",
        "in_progress_label",
    }
    options = {o.key: o for o in GiteaBackend.config_options}
    assert options["url"].prompt == "Gitea URL"
    assert options["token_env"].default == "GITEA_API_TOKEN"
    assert options["in_progress_label"].default == IP and not options["in_progress_label"].required
    for cap in ("LABELS", "MILESTONES", "COMMENTS", "USERS", "FULL_TEXT_SEARCH", "CHANGE_FEED"):
        assert Capability[cap] in GiteaBackend.capabilities


def test_missing_token_names_the_variable(monkeypatch):
    monkeypatch.delenv("MY_GITEA_TOKEN", raising=False)
    with pytest.raises(AuthError) as caught:
        GiteaBackend().connect(
            {"url": "http://g", "owner": "o", "repo": "r", "token_env": "MY_GITEA_TOKEN"}
        )
    assert "MY_GITEA_TOKEN" in caught.value.one_line()


def test_missing_settings_are_a_config_error(monkeypatch):
    from issue_core.core.errors import ConfigError

    monkeypatch.setenv("GITEA_API_TOKEN", TOKEN)
    with pytest.raises(ConfigError) as caught:
        GiteaBackend().connect({"url": "http://g"})
    assert "owner, repo" in caught.value.message


def test_connect_makes_no_request_and_token_uses_the_gitea_scheme(gitea, backend):
    assert gitea.requests == []
    backend.whoami()
    assert gitea.requests[0].headers["authorization"] == f"token {TOKEN}"
    assert str(gitea.requests[0].url) == "http://gitea.test/api/v1/user"


# --------------------------------------------------------------------------- reading


def test_readme_example_works(gitea, backend):
    bug, crit = gitea.labels[1001], gitea.labels[1002]
    gitea.add_issue("match", labels=[bug, crit], assignees=[{"login": "agent-coder"}])
    gitea.add_issue("only bug", labels=[bug], assignees=[{"login": "agent-coder"}])
    gitea.add_issue("nobody", labels=[bug, crit])
    issues = backend.list_issues(
        IssueFilter(state="open", labels=["bug", "priority:critical"], assignee="agent-coder")
    )
    assert [i.title for i in issues] == ["match"]
    issue = issues[0]
    issue.state = IssueState.CLOSED
    closed = backend.update_issue(issue)
    assert closed.state is IssueState.CLOSED
    assert gitea.issues[issue.number]["state"] == "closed"
    patches = [json.loads(r.content) for r in gitea.requests if r.method == "PATCH"]
    assert patches == [{"state": "closed"}]  # only the changed field is sent


def test_list_sends_server_side_filters(gitea, backend):
    gitea.add_issue("a", labels=[gitea.labels[1001]])
    backend.list_issues(IssueFilter(state="closed", labels=["bug"], text="a", author="alice"))
    listing = [r for r in gitea.requests if r.url.path.endswith("/issues")][-1]
    params = listing.url.params
    assert params["type"] == "issues" and params["state"] == "closed"
    assert params["labels"] == "bug" and params["q"] == "a" and params["created_by"] == "alice"


def test_pull_requests_never_appear(gitea, backend):
    gitea.add_issue("real")
    gitea.add_issue("a PR", pull_request={"merged": False})
    assert [i.title for i in backend.list_issues(IssueFilter(state="all"))] == ["real"]
    with pytest.raises(NotFound):
        backend.get_issue_by_number(2)


def test_small_list_is_one_request(gitea, backend):
    for n in range(5):
        gitea.add_issue(f"i{n}")
    issues = backend.list_issues(IssueFilter(limit=3))
    assert [i.number for i in issues] == [5, 4, 3]
    assert backend.stats.requests == 1


def test_unlimited_list_reads_settings_once_and_pages_concurrently(gitea, backend):
    gitea.max_items = 10
    for n in range(35):
        gitea.add_issue(f"i{n}")
    issues = backend.list_issues(IssueFilter(state="all", limit=None))
    assert [i.number for i in issues] == list(range(35, 0, -1))
    assert gitea.sent("GET").count("GET /api/v1/settings/api") == 1
    assert backend.stats.requests == 1 + 4
    backend.list_issues(IssueFilter(state="all", limit=None))
    assert gitea.sent("GET").count("GET /api/v1/settings/api") == 1


def test_unknown_filter_label_returns_nothing_without_scanning(gitea, backend):
    gitea.add_issue("x")
    assert backend.list_issues(IssueFilter(labels=["nope"])) == []
    assert not any(r.url.path.endswith("/issues") for r in gitea.requests)


def test_sorting_other_than_newest_first_reads_everything(gitea, backend):
    for n in range(4):
        gitea.add_issue(f"i{n}")
    issues = backend.list_issues(IssueFilter(limit=2, sort="number", direction="asc"))
    assert [i.number for i in issues] == [1, 2]


def test_get_issue_by_number_is_one_request_and_comments_one_more(gitea, backend):
    gitea.add_issue("x")
    gitea.comments[1] = [
        {"id": 5, "body": "hi", "user": {"login": "bob"}, "created_at": "2026-11-25T08:00:00Z"}
    ]
    issue = backend.get_issue_by_number(1)
    assert backend.stats.requests == 1
    with_comments = backend.get_issue_by_number(1, with_comments=True)
    assert backend.stats.requests == 3
    assert [c.body for c in with_comments.comments] == ["hi"] and issue.title == "x"
    with pytest.raises(NotFound) as caught:
        backend.get_issue_by_number(99)
    assert "#99" in caught.value.message and "acme/widgets" in caught.value.message


# --------------------------------------------------------------------------- writing


def test_create_maps_label_names_to_ids_and_back(gitea, backend):
    created = backend.create_issue(
        Issue(
            title="New",
            description="Body",
            labels=["priority:critical", "bug"],
            milestone="v1",
            assignees=["bob"],
            sync_metadata={"marker": "m1"},
        )
    )
    post = json.loads(next(r.content for r in gitea.requests if r.method == "POST"))
    assert post["labels"] == [1002, 1001] and post["milestone"] == 1003
    assert post["assignees"] == ["bob"]
    assert "<!-- issue-core:sync-metadata " in post["body"]
    assert sorted(created.labels) == ["bug", "priority:critical"]
    assert created.description == "Body" and created.sync_metadata == {"marker": "m1"}
    assert created.milestone == "v1" and created.number == 1


def test_unknown_label_is_not_found_unless_create_labels(gitea, backend):
    with pytest.raises(NotFound) as caught:
        backend.create_issue(Issue(title="x", labels=["newlabel"]))
    assert "'newlabel'" in caught.value.message
    assert not gitea.issues
    created = backend.create_issue(Issue(title="x", labels=["newlabel"]), create_labels=True)
    assert created.labels == ["newlabel"]
    assert "newlabel" in [lab["name"] for lab in gitea.labels.values()]


def test_unknown_milestone_is_not_found(backend):
    with pytest.raises(NotFound) as caught:
        backend.create_issue(Issue(title="x", milestone="v9"))
    assert "'v9'" in caught.value.message


def test_labels_are_cached_per_backend(gitea, backend):
    backend.create_issue(Issue(title="a", labels=["bug"]))
    backend.create_issue(Issue(title="b", labels=["bug"]))
    assert gitea.sent("GET").count("GET /labels") == 1


def test_in_progress_round_trip(gitea, backend):
    issue = backend.create_issue(Issue(title="work", labels=["bug"]))
    issue.state = IssueState.IN_PROGRESS
    updated = backend.update_issue(issue)
    assert updated.state is IssueState.IN_PROGRESS and updated.labels == ["bug"]
    wire = gitea.issues[issue.number]
    assert wire["state"] == "open" and sorted(lab["name"] for lab in wire["labels"]) == ["bug", IP]
    assert [i.number for i in backend.list_issues(IssueFilter(state="in_progress"))] == [1]
    assert backend.list_issues(IssueFilter(state="open")) == []
    assert IP not in [lab.name for lab in backend.list_labels()]
    updated.state = IssueState.CLOSED
    closed = backend.update_issue(updated)
    assert closed.state is IssueState.CLOSED
    assert [lab["name"] for lab in gitea.issues[issue.number]["labels"]] == ["bug"]


def test_create_in_progress_and_closed(gitea, backend):
    created = backend.create_issue(Issue(title="w", state="in_progress"))
    assert created.state is IssueState.IN_PROGRESS and created.labels == []
    closed = backend.create_issue(Issue(title="c", state="closed"))
    assert closed.state is IssueState.CLOSED


def test_in_progress_label_is_configurable(gitea, monkeypatch):
    b = GiteaBackend(transport=httpx.MockTransport(gitea), sleep=lambda s: None)
    b.connect(
        {
            "url": "http://gitea.test",
            "owner": "acme",
            "repo": "widgets",
            "in_progress_label": "doing",
        }
    )
    b.create_issue(Issue(title="w", state="in_progress"))
    assert [lab["name"] for lab in gitea.issues[1]["labels"]] == ["doing"]


def test_update_sends_only_changed_fields(gitea, backend):
    gitea.add_issue("old", body="text", labels=[gitea.labels[1001]])
    issue = backend.get_issue_by_number(1)
    issue.title = "new"
    backend.update_issue(issue)
    assert [json.loads(r.content) for r in gitea.requests if r.method == "PATCH"] == [
        {"title": "new"}
    ]
    assert gitea.sent("PUT") == []


def test_label_change_uses_ids(gitea, backend):
    gitea.add_issue("x", labels=[gitea.labels[1001]])
    issue = backend.get_issue_by_number(1)
    issue.labels = ["priority:critical"]
    updated = backend.update_issue(issue)
    put = next(r for r in gitea.requests if r.method == "PUT")
    assert json.loads(put.content) == {"labels": [1002]}
    assert updated.labels == ["priority:critical"]


def test_concurrent_edit_of_the_same_field_is_a_conflict(gitea, backend):
    gitea.add_issue("original")
    issue = backend.get_issue_by_number(1)
    gitea.now += timedelta(seconds=30)  # an old read is checked again before the write
    gitea.issues[1]["title"] = "someone else's title"
    issue.title = "mine"
    with pytest.raises(Conflict) as caught:
        backend.update_issue(issue)
    assert "title" in caught.value.message
    assert gitea.issues[1]["title"] == "someone else's title"


def test_concurrent_edit_of_another_field_is_merged(gitea, backend):
    gitea.add_issue("original", body="desc")
    issue = backend.get_issue_by_number(1)
    gitea.issues[1]["title"] = "renamed elsewhere"
    issue.description = "new desc"
    updated = backend.update_issue(issue)
    assert updated.title == "renamed elsewhere" and updated.description == "new desc"


def test_content_version_guards_the_body(gitea, backend):
    gitea.add_issue("x", body="a")
    issue = backend.get_issue_by_number(1)
    gitea.now += timedelta(seconds=30)  # an old read is read again before the write
    issue.description = "b"

    def racing_edit(request):  # someone edits the body between our read and our write
        assert request.method == "PATCH"
        gitea.issues[1]["content_version"] += 1

    gitea.fail_next = [lambda request: None, racing_edit]
    with pytest.raises(Conflict):
        backend.update_issue(issue)


def test_sync_metadata_survives_a_human_editing_the_description(gitea, backend):
    created = backend.create_issue(
        Issue(title="x", description="first", sync_metadata={"marker": "k"})
    )
    wire = gitea.issues[created.number]
    wire["body"] = wire["body"].replace("first", "edited by a human")
    again = backend.get_issue_by_number(created.number)
    assert again.description == "edited by a human" and again.sync_metadata == {"marker": "k"}
    again.sync_metadata = {"marker": "k", "extra": 1}
    backend.update_issue(again)
    final = backend.get_issue_by_number(created.number)
    assert final.description == "edited by a human"
    assert final.sync_metadata == {"marker": "k", "extra": 1}


def test_ambiguous_create_is_not_duplicated(gitea, backend):
    def written_then_lost(request):
        gitea.create_issue(json.loads(request.content))  # the server stores it ...
        raise httpx.ReadTimeout("... but the answer never arrives")

    gitea.fail_next = [written_then_lost]
    created = backend.create_issue(Issue(title="once"))
    assert len(gitea.issues) == 1 and created.number == 1 and created.title == "once"
    assert gitea.sent("POST") == ["POST /issues"]


def test_create_that_was_not_written_is_sent_again(gitea, backend):
    # Gitea itself answered 503: it was done with the request, and the look-up found nothing.
    gitea.fail_next = [httpx.Response(503, json={"message": "busy"})]
    created = backend.create_issue(Issue(title="once"))
    assert len(gitea.issues) == 1 and created.title == "once"
    assert gitea.sent("POST") == ["POST /issues", "POST /issues"]


def test_create_behind_a_gateway_error_is_not_sent_again(gitea, backend):
    # A proxy's 502 says nothing of whether Gitea will still apply the create.
    gitea.fail_next = [httpx.Response(502, text="bad gateway")]
    with pytest.raises(BackendUnavailable) as caught:
        backend.create_issue(Issue(title="once"))
    assert "POST" in caught.value.message and "may have been applied" in caught.value.message
    assert gitea.sent("POST") == ["POST /issues"]


def test_update_without_changes_makes_no_request(gitea, backend):
    gitea.add_issue("x")
    issue = backend.get_issue_by_number(1)
    before = backend.stats.requests
    assert backend.update_issue(issue) is issue
    assert backend.stats.requests == before


def test_update_needs_a_number(backend):
    with pytest.raises(ValidationError):
        backend.update_issue(Issue(title="x"))


def test_delete_issue(gitea, backend):
    gitea.add_issue("x")
    backend.delete_issue(1)
    assert gitea.issues == {}
    with pytest.raises(NotFound):
        backend.delete_issue(1)


# ------------------------------------------------------------- labels, milestones, comments, users


def test_label_crud(gitea, backend):
    created = backend.create_label(Label(name="docs", color="#00F", description="d"))
    assert created.color == "0000ff" and created.id is not None
    with pytest.raises(Conflict):
        backend.create_label(Label(name="docs"))
    renamed = backend.update_label("docs", Label(name="documentation"))
    assert renamed.name == "documentation"
    backend.delete_label("documentation")
    assert "documentation" not in [lab.name for lab in backend.list_labels()]
    with pytest.raises(NotFound):
        backend.delete_label("documentation")


def test_milestone_crud(gitea, backend):
    created = backend.create_milestone(Milestone(title="v2", description="next"))
    assert created.title == "v2" and created.id is not None
    with pytest.raises(Conflict):
        backend.create_milestone(Milestone(title="v2"))
    closed = backend.update_milestone("v2", Milestone(title="v2", state="closed"))
    assert str(closed.state) == "closed"
    assert [m.title for m in backend.list_milestones("closed")] == ["v2"]


def test_comments(gitea, backend):
    gitea.add_issue("x")
    comment = backend.add_comment(1, "looks good")
    assert comment.body == "looks good" and comment.author == "alice" and comment.issue_number == 1
    assert [c.body for c in backend.list_comments(1)] == ["looks good"]
    with pytest.raises(NotFound):
        backend.add_comment(42, "nope")


def test_users(backend):
    assert [u.username for u in backend.list_users()] == ["alice", "bob"]
    assert backend.whoami().username == "alice"


# --------------------------------------------------------------------------- sync


def test_changes_since_is_ordered_and_resumable(gitea, backend):
    for n in range(5):
        gitea.add_issue(f"i{n}")
    changes, cursor = backend.changes_since(None, limit=3)
    assert [c.issue.number for c in changes] == [1, 2, 3]
    more, cursor2 = backend.changes_since(cursor)
    assert [c.issue.number for c in more] == [4, 5]
    gitea.issues[2]["title"] = "edited"
    gitea.issues[2]["updated_at"] = gitea.tick()
    latest, _ = backend.changes_since(cursor2)
    assert [c.issue.title for c in latest] == ["edited"]
    since = [r for r in gitea.requests if "since" in r.url.params]
    assert since, "the cursor must become a server-side 'since'"
    nothing, _ = backend.changes_since(cursor2.replace("08:00", "09:00"))
    assert nothing == []


def test_get_issue_by_id(gitea, backend):
    issue = gitea.add_issue("x")
    found = backend.get_issue_by_id(str(issue["id"]))
    assert found.number == 1
    with pytest.raises(NotFound):
        backend.get_issue_by_id("999999")


def test_find_issue_by_marker(gitea, backend):
    backend.create_issue(Issue(title="x", sync_metadata={"marker": "abc-123"}))
    backend.create_issue(Issue(title="y", sync_metadata={"marker": "other"}))
    assert backend.find_issue_by_marker("abc-123").title == "x"
    assert backend.find_issue_by_marker("missing") is None


# --------------------------------------------------------------------------- health


def test_test_connection_all_good(backend):
    info = backend.test_connection()
    assert info.ok and info.server_version == "1.27.0" and info.user == "alice"
    assert set(info.checks) == {
        "server",
        "authentication",
        "repository",
        "permissions",
        "rate_limit",
    }


def test_test_connection_bad_token(gitea, monkeypatch):
    monkeypatch.setenv("GITEA_API_TOKEN", "wrong-token-value")
    # The backend reads the fake's clock: recovery windows ("issues since start - 1h") are
    # relative to the server's time, and the fake's time is fixed.
    b = GiteaBackend(
        transport=httpx.MockTransport(gitea),
        sleep=lambda s: None,
        clock=lambda: gitea.now.timestamp(),
    )
    b.connect({"url": "http://gitea.test", "owner": "acme", "repo": "widgets"})
    info = b.test_connection()
    assert not info.ok
    assert info.checks["server"][0]
    ok, detail = info.checks["authentication"]
    assert not ok and "401" in detail and "GITEA_API_TOKEN" in detail
    assert info.failed == "auth"
    assert "wrong-token-value" not in json.dumps(info.to_dict())


def test_test_connection_missing_repo_and_no_permission(gitea, backend):
    gitea.repo_status = 404
    info = backend.test_connection()
    assert info.checks["repository"] == (
        False,
        "repository acme/widgets not found (or not visible to this token)",
    )
    assert info.failed == "repository"
    gitea.repo_status = 200
    gitea.permissions = {"admin": False, "push": False, "pull": True}
    info = backend.test_connection()
    assert info.checks["repository"][0] and not info.checks["permissions"][0]
    assert info.failed == "permission"


def test_test_connection_unreachable_never_raises(gitea, backend):
    gitea.fail_next = [httpx.ConnectError("[Errno 111] Connection refused")] * 3
    info = backend.test_connection()
    assert not info.ok
    assert "connection refused" in info.checks["server"][1]
    assert info.checks["repository"] == (False, "skipped: server not reachable")
    assert info.failed_check == ("server", info.checks["server"][1], "server")


def test_change_within_the_cursors_second_is_still_reported(gitea, backend):
    one = gitea.add_issue("one")
    two = gitea.add_issue("two", updated_at=one["updated_at"], created_at=one["created_at"])
    changes, cursor = backend.changes_since(None)
    assert [c.issue.number for c in changes] == [1, 2]
    one["title"] = "one, edited"  # same second: updated_at does not move
    again, cursor2 = backend.changes_since(cursor)
    assert [(c.issue.number, c.issue.title) for c in again] == [(1, "one, edited")]
    assert backend.changes_since(cursor2)[0] == []
    two["title"] = "two, edited"
    assert [c.issue.title for c in backend.changes_since(cursor2)[0]] == ["two, edited"]


def test_change_cursor_is_validated(backend):
    with pytest.raises(ValidationError):
        backend.changes_since("yesterday|1:abc")
