"""Replay real api.github.com traffic against ``GitHubBackend``'s wire layer.

Two sets of recordings (tests/contracts/github, see its README):

- ``replay/``: PyGithub's recorded conversations (``FORMAT.md``). Each request the backend sends
  must be one the recording holds -- same method, path, the query parameters GitHub's OpenAPI
  declares for that operation (paging aside: the backend reads 100 a page) and, for a write,
  the same JSON body -- and is answered with the recorded status, headers and body.
- ``recorded/``: Gitea's migration-test recordings of ``go-gitea/test_repo`` (GitHub Enterprise
  style ``/api/v3`` paths): listing, labels, milestones and comments parse from real bodies.

Nothing here is derived from the backend's own output: a request the recordings do not hold is
answered 404 and listed in ``unmatched``, which every test checks is empty.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

import httpx
import pytest

from issue_core.backends.github import GitHubBackend
from issue_core.core.errors import AuthError, BackendUnavailable, NotFound
from issue_core.core.models import CloseReason, IssueFilter, IssueState

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts" / "github"
REPLAY = CONTRACTS / "replay"
RECORDED = CONTRACTS / "recorded"
TOKEN = "replay-token-not-a-secret"
# Paging is the backend's choice (100 a page); the recordings used other sizes.
PAGING = {"per_page", "page"}


@dataclass
class Exchange:
    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any
    status: int
    headers: list[tuple[str, str]]
    response: str
    source: str
    used: bool = field(default=False)


def parse_replay(name: str) -> list[Exchange]:
    """A PyGithub replay file: 10 lines per exchange, then an empty line (FORMAT.md)."""
    lines = (REPLAY / name).read_text(encoding="utf-8").split("\n")
    exchanges, i = [], 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block = [line.strip() for line in lines[i : i + 10]]
        i += 11
        target = urlsplit(block[4])
        raw_body = block[6]
        exchanges.append(
            Exchange(
                method=block[1],
                path=unquote(target.path),
                query=parse_qsl(target.query, keep_blank_values=True),
                body=None if raw_body in ("None", "null", "") else json.loads(raw_body),
                status=int(block[7]),
                headers=list(ast.literal_eval(block[8])),
                response=block[9],
                source=name,
            )
        )
    return exchanges


def parse_recorded(name: str) -> Exchange:
    """One file of ``recorded/`` (its FORMAT.md): headers, an empty line, the body."""
    method, _, escaped = name.partition("_")
    target = urlsplit(unquote_plus(escaped))
    head, _, body = (RECORDED / name).read_text(encoding="utf-8").partition("\n\n")
    headers = [tuple(line.split(": ", 1)) for line in head.splitlines() if ": " in line]
    return Exchange(
        method=method,
        path=target.path,
        query=parse_qsl(target.query, keep_blank_values=True),
        body=None,
        status=200,
        headers=headers,  # type: ignore[arg-type]
        response=body,
        source=name,
    )


@cache
def declared_query() -> list[tuple[re.Pattern[str], str, frozenset[str]]]:
    """(path pattern, method, query parameters) of every operation in the OpenAPI subset."""
    document = json.loads((CONTRACTS / "openapi.issues.json").read_text(encoding="utf-8"))
    shared = document["components"]["parameters"]
    found = []
    for template, item in document["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        for method, op in item.items():
            if method == "parameters":
                continue
            names = set()
            for param in op.get("parameters", []):
                if "$ref" in param:
                    param = shared[param["$ref"].rsplit("/", 1)[-1]]
                if param.get("in") == "query":
                    names.add(param["name"])
            found.append((pattern, method.upper(), frozenset(names)))
    return found


def comparable(method: str, path: str, query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    api_path = path.removeprefix("/api/v3")
    for pattern, op_method, names in declared_query():
        if op_method == method and pattern.match(api_path):
            return sorted(p for p in query if p[0] in names and p[0] not in PAGING)
    return sorted(p for p in query if p[0] not in PAGING)


class Replayer:
    """An httpx transport answering from recorded exchanges (each used once, in order)."""

    def __init__(self, exchanges: list[Exchange], *, live: str = "https://api.github.com"):
        self.exchanges = exchanges
        self.live = live
        self.unmatched: list[str] = []
        self.served: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.path)
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        sent = json.loads(request.content) if request.content else None
        wanted = comparable(request.method, path, query)
        for ex in self.exchanges:
            if ex.used or ex.method != request.method or ex.path != path:
                continue
            if comparable(ex.method, ex.path, ex.query) != wanted:
                continue
            if ex.body is not None and sent != ex.body:
                continue
            ex.used = True
            self.served.append(f"{ex.source}: {ex.method} {ex.path}")
            text = ex.response.replace(self.live, "http://replay.test")
            headers = [(k, v) for k, v in ex.headers if k.lower() not in _DROPPED]
            return httpx.Response(ex.status, content=text.encode(), headers=headers)
        self.unmatched.append(f"{request.method} {request.url.raw_path.decode()} {sent!r}")
        return httpx.Response(404, json={"message": "not recorded"})


# Headers a replayed body no longer agrees with (it is re-encoded), or that change transport.
_DROPPED = {"content-length", "transfer-encoding", "content-encoding", "status"}


def backend_for(
    replayer: Replayer, owner: str, repo: str, *, url: str = "https://api.github.com", **extra: Any
) -> GitHubBackend:
    backend = GitHubBackend(
        transport=httpx.MockTransport(replayer.handle), sleep=lambda s: None, clock=lambda: 1e9
    )
    backend.connect({"url": url, "owner": owner, "repo": repo, "http_cache": False, **extra})
    return backend


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))


def replay(*names: str) -> Replayer:
    return Replayer([ex for name in names for ex in parse_replay(name)])


def recorded_body(exchanges: list[Exchange], method: str, path: str) -> Any:
    return next(
        json.loads(ex.response) for ex in exchanges if (ex.method, ex.path) == (method, path)
    )


# --------------------------------------------------------------------------- PyGithub


def test_a_new_close_reason_sends_the_recorded_patch():
    replayer = replay("Issue.setUp.txt", "Issue.testEditWithStateReasonNotPlanned.txt")
    with backend_for(replayer, "PyGithub", "PyGithub") as backend:
        issue = backend.get_issue_by_number(28)
        node_id = issue.node_id
        # Recorded closed with state_reason null (closed before reasons existed): completed.
        assert issue.state is IssueState.CLOSED and issue.close_reason is CloseReason.COMPLETED
        issue.close_reason = CloseReason.NOT_PLANNED
        closed = backend.update_issue(issue)
    assert replayer.unmatched == []
    assert (closed.state, closed.close_reason) == (IssueState.CLOSED, CloseReason.NOT_PLANNED)
    raw = recorded_body(replayer.exchanges, "GET", "/repos/PyGithub/PyGithub/issues/28")
    assert closed.number == 28 and closed.id == str(raw["id"]) and node_id == raw["node_id"]


def test_comments_parse_and_edit_and_delete_send_the_recorded_requests():
    replayer = replay(
        "Issue.setUp.txt",
        "Issue.testGetComments.txt",
        "IssueComment.setUp.txt",
        "IssueComment.testEdit.txt",
        "IssueComment.testDelete.txt",
    )
    with backend_for(replayer, "PyGithub", "PyGithub") as backend:
        comments = backend.get_issue_by_number(28, with_comments=True).comments
        edited = backend.edit_comment(28, "20227753", "Comment edited by PyGithub")
        backend.delete_comment(28, "20227753")
    assert replayer.unmatched == []
    listed = recorded_body(replayer.exchanges, "GET", "/repos/PyGithub/PyGithub/issues/28/comments")
    assert [(c.id, c.author, c.body) for c in comments or []] == [
        (str(r["id"]), r["user"]["login"], r["body"]) for r in listed
    ]
    assert edited.id == "20227753" and edited.body == "Comment edited by PyGithub"


def test_a_pull_request_number_is_not_an_issue():
    replayer = replay("Issue572.testIssueAsPullRequest.txt")
    with backend_for(replayer, "tmshn", "PyGithub") as backend, pytest.raises(NotFound) as caught:
        backend.get_issue_by_number(2)
    assert "pull request" in caught.value.message and replayer.unmatched == []


def test_bad_credentials_are_exit_5_in_one_line():
    replayer = replay("Exceptions.testBadAuthentication.txt")
    with backend_for(replayer, "o", "r") as backend, pytest.raises(AuthError) as caught:
        backend.whoami()
    assert caught.value.exit_code == 5 and "Bad credentials" in caught.value.message
    assert "\n" not in caught.value.one_line()


def _answer_user_with(name: str) -> Replayer:
    """The recorded answer of ``/users/jacquev6`` given to ``/user`` (same server failure)."""
    replayer = replay(name)
    for ex in replayer.exchanges:
        ex.path = "/user"
    return replayer


def test_an_html_503_is_exit_6_after_retries():
    replayer = _answer_user_with("Exceptions.testNonJsonDataReturnedByGithub.txt")
    replayer.exchanges *= 3  # the same failure each time it is asked again
    replayer.exchanges = [Exchange(**{**ex.__dict__, "used": False}) for ex in replayer.exchanges]
    with backend_for(replayer, "o", "r") as backend, pytest.raises(BackendUnavailable) as caught:
        backend.whoami()
    assert caught.value.exit_code == 6 and "HTTP 503" in caught.value.message


def test_truncated_json_is_exit_6():
    replayer = _answer_user_with("Exceptions.testJSONParseError.txt")
    with backend_for(replayer, "o", "r") as backend, pytest.raises(BackendUnavailable) as caught:
        backend.whoami()
    assert "malformed JSON" in caught.value.message


def test_a_500_is_retried_and_the_recorded_repository_read():
    replayer = replay("Retry.testReturnsRepoAfter1Retry.txt")
    with backend_for(replayer, "PyGithub", "PyGithub") as backend:
        name, _writable = backend._repository()
    assert name == "PyGithub/PyGithub" and replayer.unmatched == []
    assert backend.stats.retries == 1


# --------------------------------------------------------------------------- recorded/


def recorded() -> Replayer:
    index = json.loads((RECORDED / "index.json").read_text(encoding="utf-8"))
    return Replayer([parse_recorded(name) for name in sorted(index["files"])])


def test_recorded_issue_page_parses_from_the_real_request():
    replayer = recorded()
    with backend_for(
        replayer, "go-gitea", "test_repo", url="https://ghe.test", page_size=2
    ) as backend:
        issues = backend.list_issues(
            IssueFilter(state="all", sort="created", direction="asc", limit=2)
        )
    assert replayer.unmatched == []
    raw = recorded_body(replayer.exchanges, "GET", "/api/v3/repos/go-gitea/test_repo/issues")
    assert [i.number for i in issues] == [r["number"] for r in raw]
    first = issues[0]
    assert first.state is IssueState.CLOSED and first.close_reason is not None
    assert first.labels == sorted((lab["name"] for lab in raw[0]["labels"]), key=str.lower)
    assert first.milestone == raw[0]["milestone"]["title"] and first.node_id == raw[0]["node_id"]


def test_recorded_labels_milestones_and_comments_parse():
    replayer = recorded()
    with backend_for(replayer, "go-gitea", "test_repo", url="https://ghe.test") as backend:
        labels = backend.list_labels()
        milestones = backend.list_milestones()
        comments = backend._fetch_comments(2)
    assert replayer.unmatched == []
    raw_labels = recorded_body(replayer.exchanges, "GET", "/api/v3/repos/go-gitea/test_repo/labels")
    assert sorted(lab.name for lab in labels) == sorted(r["name"] for r in raw_labels)
    assert all(lab.color and len(lab.color) == 6 for lab in labels)
    raw_ms = recorded_body(replayer.exchanges, "GET", "/api/v3/repos/go-gitea/test_repo/milestones")
    assert {m.title: m.id for m in milestones} == {r["title"]: str(r["number"]) for r in raw_ms}
    assert len(comments) == len(
        recorded_body(
            replayer.exchanges, "GET", "/api/v3/repos/go-gitea/test_repo/issues/2/comments"
        )
    )
