"""The fake Gitea behaves like Gitea. Every exchange here is also checked against the Swagger."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.fixtures import RunningGitea
from tests.fakes.gitea import READ_TOKEN, WRITE_TOKEN
from tests.fakes.recorded import find_recorded
from tests.fakes.server import LiveServer

REPO = "/repos/alice/tracker"


@pytest.fixture
def api(fake_gitea: RunningGitea) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"token {WRITE_TOKEN}"}
    with httpx.Client(base_url=fake_gitea.api_url, headers=headers, timeout=5) as client:
        yield client


def titles(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()]


# --------------------------------------------------------------------------- shapes


def test_objects_have_the_recorded_shapes(fake_gitea: RunningGitea, api: httpx.Client) -> None:
    recorded_issue = find_recorded("/issues?limit=50&page=1&state=all&type=issues").json()[0]
    recorded_comment = find_recorded("/issues/4/comments?limit=50&page=1").json()[0]
    fake_gitea.fake.add_issue("shape", labels=["bug"])
    issue = api.get(f"{REPO}/issues/1").json()
    assert list(issue) == [*recorded_issue, "content_version"]
    assert list(issue["user"]) == list(recorded_issue["user"])
    assert list(issue["labels"][0]) == list(recorded_issue["labels"][0])
    assert issue["assignees"] is None and issue["milestone"] is None  # null, like Gitea
    assert issue["url"].startswith(fake_gitea.base_url)
    comment = api.post(f"{REPO}/issues/1/comments", json={"body": "hi"}).json()
    assert list(comment) == list(recorded_comment)
    response = api.get("/version")
    assert response.headers["content-type"] == "application/json;charset=utf-8"


# --------------------------------------------------------------------------- paging


def test_paging_headers_like_gitea(fake_gitea: RunningGitea, api: httpx.Client) -> None:
    for index in range(7):
        fake_gitea.fake.add_issue(f"i{index}", created=1000 + index)
    first = api.get(f"{REPO}/issues", params={"limit": 2, "page": 1, "state": "all"})
    assert titles(first) == ["i6", "i5"]  # newest first
    assert first.headers["x-total-count"] == "7"
    assert first.headers["access-control-expose-headers"] == "Link, X-Total-Count"
    base = f"<{fake_gitea.api_url}{REPO}/issues?limit=2"
    assert first.headers["link"] == (
        f'{base}&page=2&state=all>; rel="next",{base}&page=4&state=all>; rel="last"'
    )
    last = api.get(f"{REPO}/issues", params={"limit": 2, "page": 4, "state": "all"})
    assert titles(last) == ["i0"]
    assert last.headers["link"] == (
        f'{base}&page=1&state=all>; rel="first",{base}&page=3&state=all>; rel="prev"'
    )
    beyond = api.get(f"{REPO}/issues", params={"limit": 2, "page": 9, "state": "all"})
    assert beyond.json() == [] and 'rel="prev"' in beyond.headers["link"]
    single = api.get(f"{REPO}/issues", params={"state": "all"})
    assert "link" not in single.headers
    assert single.headers["access-control-expose-headers"] == "X-Total-Count"


def test_limit_is_capped_and_defaulted(fake_gitea: RunningGitea, api: httpx.Client) -> None:
    for index in range(60):
        fake_gitea.fake.add_issue(f"i{index}")
    assert len(api.get(f"{REPO}/issues", params={"limit": 500}).json()) == 50
    assert len(api.get(f"{REPO}/issues", params={"limit": 0}).json()) == 30
    assert len(api.get(f"{REPO}/issues").json()) == 30
    settings = api.get("/settings/api").json()
    assert (settings["max_response_items"], settings["default_paging_num"]) == (50, 30)


# --------------------------------------------------------------------------- filters


def test_pull_requests_are_in_the_list_unless_type_issues(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    fake_gitea.fake.add_issue("issue")
    fake_gitea.fake.add_pull_request("pull")
    assert sorted(titles(api.get(f"{REPO}/issues"))) == ["issue", "pull"]
    assert titles(api.get(f"{REPO}/issues", params={"type": "issues"})) == ["issue"]
    assert titles(api.get(f"{REPO}/issues", params={"type": "pulls"})) == ["pull"]
    assert api.get(f"{REPO}/issues/2").json()["pull_request"]["merged"] is False


def test_label_filter_semantics(fake_gitea: RunningGitea, api: httpx.Client) -> None:
    fake = fake_gitea.fake
    fake.add_issue("both", labels=["bug", "ui"])
    fake.add_issue("bug only", labels=["bug"])
    fake.add_issue("none")
    # Every named label must be on the issue (the database's count(*) = N rule).
    assert titles(api.get(f"{REPO}/issues", params={"labels": "bug,ui"})) == ["both"]
    assert sorted(titles(api.get(f"{REPO}/issues", params={"labels": "bug"}))) == [
        "both",
        "bug only",
    ]
    # Unknown names are dropped; with none left the filter is gone: everything comes back.
    assert titles(api.get(f"{REPO}/issues", params={"labels": "bug,nope"})) == titles(
        api.get(f"{REPO}/issues", params={"labels": "bug"})
    )
    assert len(api.get(f"{REPO}/issues", params={"labels": "nope"}).json()) == 3


def test_milestone_user_time_and_text_filters(fake_gitea: RunningGitea, api: httpx.Client) -> None:
    fake = fake_gitea.fake
    milestone = fake.add_milestone("v1")
    fake.add_collaborator("ann")
    old = fake.add_issue("old one", created=1_000_000)
    fake.state.new_comment(fake.repo, old, "alice", "mentions the parser")
    old.updated = 1_000_000
    new = fake.add_issue("new one", created=2_000_000, poster="ann")
    new.updated, new.milestone_id, new.assignees = 2_000_000, milestone.id, ["ann"]
    assert titles(api.get(f"{REPO}/issues", params={"milestones": "v1"})) == ["new one"]
    assert titles(api.get(f"{REPO}/issues", params={"milestones": str(milestone.id)})) == [
        "new one"
    ]
    assert len(api.get(f"{REPO}/issues", params={"milestones": "nope"}).json()) == 2
    assert titles(api.get(f"{REPO}/issues", params={"created_by": "ann"})) == ["new one"]
    assert titles(api.get(f"{REPO}/issues", params={"assigned_by": "ann"})) == ["new one"]
    assert api.get(f"{REPO}/issues", params={"created_by": "nobody"}).status_code == 404
    since = "1970-01-24T03:33:20Z"  # 2_000_000 seconds: "since" is inclusive
    assert titles(api.get(f"{REPO}/issues", params={"since": since})) == ["new one"]
    assert titles(api.get(f"{REPO}/issues", params={"before": since})) == ["new one", "old one"]
    assert titles(api.get(f"{REPO}/issues", params={"q": "PARSER"})) == ["old one"]
    fake_gitea.recorder.expect_violation("'since' must be an RFC 3339 date-time")
    assert api.get(f"{REPO}/issues", params={"since": "2026-13-45T00:00:00Z"}).status_code == 422
    assert len(fake_gitea.recorder.expected) == 1  # and the recorder did catch it


# --------------------------------------------------------------------------- writes


def test_create_drops_unknown_labels_and_milestone_but_not_assignees(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    label = fake_gitea.fake.add_label("bug")
    made = api.post(
        f"{REPO}/issues", json={"title": "t", "labels": [label.id, 99999], "milestone": 4242}
    )
    assert made.status_code == 201
    assert [lab["name"] for lab in made.json()["labels"]] == ["bug"]
    assert made.json()["milestone"] is None
    refused = api.post(f"{REPO}/issues", json={"title": "t", "assignees": ["ghost-user"]})
    assert refused.status_code == 422 and "Assignee does not exist" in refused.json()["message"]
    assert api.post(f"{REPO}/issues", json={"title": "  "}).status_code == 422
    closed = api.post(f"{REPO}/issues", json={"title": "done", "closed": True}).json()
    assert closed["state"] == "closed" and closed["closed_at"] is not None


def test_issue_labels_take_ids_or_names(fake_gitea: RunningGitea, api: httpx.Client) -> None:
    fake = fake_gitea.fake
    bug, ui = fake.add_label("bug"), fake.add_label("ui")
    fake.add_issue("x")
    by_name = api.post(f"{REPO}/issues/1/labels", json={"labels": ["bug", "unknown"]})
    assert [lab["name"] for lab in by_name.json()] == ["bug"]
    by_id = api.put(f"{REPO}/issues/1/labels", json={"labels": [ui.id]})
    assert [lab["name"] for lab in by_id.json()] == ["ui"]
    mixed = api.post(f"{REPO}/issues/1/labels", json={"labels": [bug.id, "ui"]})
    assert mixed.status_code == 400
    assert api.delete(f"{REPO}/issues/1/labels/{ui.id}").status_code == 204
    assert api.delete(f"{REPO}/issues/1/labels/999999").status_code == 422
    assert api.get(f"{REPO}/issues/1/labels").json() == []


def test_labels_may_share_a_name_and_milestones_go_by_id_or_title(api: httpx.Client) -> None:
    first = api.post(f"{REPO}/labels", json={"name": "dup", "color": "#abc"})
    second = api.post(f"{REPO}/labels", json={"name": "dup", "color": "00ff00"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["color"] == "aabbcc"
    assert api.post(f"{REPO}/labels", json={"name": "x", "color": "red"}).status_code == 422
    created = api.post(f"{REPO}/milestones", json={"title": "v2.0"}).json()
    assert api.get(f"{REPO}/milestones/v2.0").json()["id"] == created["id"]
    assert api.get(f"{REPO}/milestones/{created['id']}").json()["title"] == "v2.0"
    closed = api.patch(f"{REPO}/milestones/v2.0", json={"state": "closed"}).json()
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert api.get(f"{REPO}/milestones").json() == []  # "open" by default
    assert len(api.get(f"{REPO}/milestones", params={"state": "all"}).json()) == 1


def test_edit_with_a_stale_content_version_is_a_conflict(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    fake_gitea.fake.add_issue("x", body="v0")
    first = api.patch(f"{REPO}/issues/1", json={"body": "v1", "content_version": 0})
    assert first.status_code == 201 and first.json()["content_version"] == 1
    stale = api.patch(f"{REPO}/issues/1", json={"body": "v2", "content_version": 0})
    assert stale.status_code == 400 and "already changed" in stale.json()["message"]
    assert api.get(f"{REPO}/issues/1").json()["body"] == "v1"


# --------------------------------------------------------------------------- auth


def test_tokens_and_permissions(fake_gitea: RunningGitea) -> None:
    url = fake_gitea.api_url + REPO
    read = {"Authorization": f"Bearer {READ_TOKEN}"}
    assert httpx.get(f"{url}/issues", headers=read).status_code == 200
    refused = httpx.post(f"{url}/issues", headers=read, json={"title": "x"})
    assert refused.status_code == 403 and "required scope" in refused.json()["message"]
    # A private repository does not exist for anonymous callers, writes included.
    assert httpx.get(f"{url}/issues").status_code == 404
    assert httpx.post(f"{url}/issues", json={"title": "x"}).status_code == 404
    wrong = httpx.get(f"{url}/issues", headers={"Authorization": "token nope"})
    assert wrong.status_code == 401 and wrong.json()["url"]
    assert httpx.get(f"{fake_gitea.api_url}/user").status_code == 401
    assert httpx.get(f"{fake_gitea.api_url}/repos/alice/other").status_code == 404


def test_deleting_an_issue_needs_a_repository_admin(fake_gitea: RunningGitea) -> None:
    """Gitea: Delete(reqToken(), reqAdmin(), ...): the owner or an admin collaborator; the
    check comes before the issue is looked up, so a writer gets 403 even for #999."""
    fake = fake_gitea.fake
    fake.add_collaborator("bob", write=True)
    fake.add_token("bob", "bob-token")
    fake.add_collaborator("ada", admin=True)
    fake.add_token("ada", "ada-token")
    url = fake_gitea.api_url + REPO
    for number in (1, 2, 3):
        fake.add_issue(f"issue {number}")

    def delete(token: str, number: int) -> httpx.Response:
        return httpx.delete(f"{url}/issues/{number}", headers={"Authorization": f"token {token}"})

    for token in ("bob-token", READ_TOKEN):
        for number in (1, 999):
            refused = delete(token, number)
            assert refused.status_code == 403, (token, number)
    assert delete("bob-token", 1).json()["message"] == (
        "user should be an owner or a collaborator with admin write of a repository"
    )
    assert "required scope" in delete(READ_TOKEN, 1).json()["message"]
    assert delete("ada-token", 1).status_code == 204
    assert delete("ada-token", 2).status_code == 204
    assert delete(WRITE_TOKEN, 3).status_code == 204
    assert delete(WRITE_TOKEN, 3).status_code == 404
    repo = httpx.get(url, headers={"Authorization": "token ada-token"}).json()
    assert repo["permissions"] == {"admin": True, "push": True, "pull": True}


@pytest.mark.parametrize("gitea_options", [{"private": False}])
def test_public_repositories_are_readable_without_a_token(fake_gitea: RunningGitea) -> None:
    assert httpx.get(f"{fake_gitea.api_url}{REPO}/issues").status_code == 200
    refused = httpx.post(f"{fake_gitea.api_url}{REPO}/issues", json={"title": "x"})
    assert refused.status_code == 401 and refused.json()["message"] == "token is required"


# --------------------------------------------------------------------------- opt-in headers


def test_no_etag_unless_asked(api: httpx.Client) -> None:
    assert "etag" not in api.get(f"{REPO}/issues").headers


@pytest.mark.parametrize("gitea_options", [{"etags": True, "rate_limit_headers": True}])
def test_etags_and_rate_limit_headers_when_asked(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    fake_gitea.fake.add_issue("x")
    first = api.get(f"{REPO}/issues")
    etag = first.headers["etag"]
    again = api.get(f"{REPO}/issues", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    api.patch(f"{REPO}/issues/1", json={"title": "changed"})
    changed = api.get(f"{REPO}/issues", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    remaining = int(changed.headers["x-ratelimit-remaining"])
    assert remaining < int(first.headers["x-ratelimit-remaining"])


# --------------------------------------------------------------------------- faults


def test_fault_knobs(fake_gitea: RunningGitea, api: httpx.Client) -> None:
    faults = fake_gitea.fake.faults
    faults.server_errors(2, status=503, method="GET", path="/version$")
    assert [api.get("/version").status_code for _ in range(3)] == [503, 503, 200]
    assert api.get("/settings/api").status_code == 200
    faults.rate_limit(1, retry_after=7)
    limited = api.get("/version")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    faults.html_page(1, status=502)
    page = api.get("/version")
    assert page.status_code == 502 and page.headers["content-type"] == "text/html"
    faults.malformed_json(1)
    with pytest.raises(json.JSONDecodeError):
        api.get("/version").json()
    faults.drop(1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/version")
    faults.hang(1, seconds=5)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/version", timeout=0.3)
    assert api.get("/version").status_code == 200


def test_fault_after_processing_keeps_the_write(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    fake_gitea.fake.faults.drop(1, method="POST", after_processing=True)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"{REPO}/issues", json={"title": "written anyway"})
    assert [i.title for i in fake_gitea.fake.issues()] == ["written anyway"]


def test_hold_applies_the_write_and_answers_it_when_released(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    held = fake_gitea.fake.faults.hold(1, method="POST", path="/issues$")
    answers: list[httpx.Response] = []
    caller = threading.Thread(
        target=lambda: answers.append(api.post(f"{REPO}/issues", json={"title": "held"}))
    )
    caller.start()
    assert held.reached.wait(10)
    # Gitea has created it; the client has not heard so yet.
    assert [i.title for i in fake_gitea.fake.issues()] == ["held"] and not answers
    held.released.set()
    caller.join(10)
    [answer] = answers
    assert answer.status_code == 201 and answer.json()["title"] == "held"  # the real answer
    assert api.post(f"{REPO}/issues", json={"title": "next"}).status_code == 201  # once only


def test_server_stops_cleanly_with_a_request_in_flight(fake_gitea: RunningGitea) -> None:
    fake_gitea.fake.faults.hang(1, seconds=30)
    errors: list[Exception] = []

    def call() -> None:
        try:
            httpx.get(f"{fake_gitea.api_url}/version", timeout=20)
        except httpx.HTTPError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not fake_gitea.recorder.exchanges:
        threading.Event().wait(0.01)
    thread: Any = fake_gitea.server._thread
    fake_gitea.server.stop()
    caller.join(20)
    assert not thread.is_alive() and not caller.is_alive()


def test_live_server_gives_each_instance_its_own_port() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with LiveServer(app) as one, LiveServer(app) as two:
        assert one.port != two.port
        assert httpx.get(one.base_url).status_code == httpx.get(two.base_url).status_code == 204


# --------------------------------------------------------------------------- against gitea.com


def _without_counters(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Milestone counters count pull requests (not recorded); content_version is new in 1.27."""
    cleaned = []
    for item in items:
        item = {
            k: v
            for k, v in item.items()
            if k not in ("content_version", "open_issues", "closed_issues")
        }
        if isinstance(item.get("milestone"), dict):
            item["milestone"] = _without_counters([item["milestone"]])[0]
        cleaned.append(item)
    return cleaned


@pytest.mark.parametrize(
    "suffix",
    [
        "/issues?limit=50&page=1&state=all&type=issues",
        "/labels?limit=50&page=1",
        "/milestones?limit=50&page=1&state=all",
        "/issues/4/comments?limit=50&page=1",
    ],
)
def test_fake_answers_recorded_requests_like_gitea_com(
    fake_gitea: RunningGitea, suffix: str
) -> None:
    from tests.fakes.gitea_seed import seed_recorded_repo

    seed_recorded_repo(fake_gitea.fake)
    recorded = find_recorded(suffix)
    if suffix.startswith("/issues/4/comments"):
        fake_gitea.recorder.expect_violation("is not declared")  # gitea's migrator sends these
    response = httpx.get(fake_gitea.base_url + recorded.target)
    assert response.status_code == 200
    assert response.headers["x-total-count"] == recorded.header("X-Total-Count")
    assert response.headers.get("link") == recorded.header("Link")
    assert _without_counters(response.json()) == _without_counters(
        recorded.json(fake_gitea.base_url)
    )


def test_comment_label_and_milestone_lifecycles(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    fake_gitea.fake.add_issue("x")
    comment = api.post(f"{REPO}/issues/1/comments", json={"body": "first"}).json()
    edited = api.patch(f"{REPO}/issues/comments/{comment['id']}", json={"body": "second"})
    assert edited.status_code == 200 and edited.json()["body"] == "second"
    assert api.get(f"{REPO}/issues/comments/{comment['id']}").json()["body"] == "second"
    assert api.get(f"{REPO}/issues/1").json()["comments"] == 1
    assert api.delete(f"{REPO}/issues/comments/{comment['id']}").status_code == 204
    assert api.get(f"{REPO}/issues/comments/{comment['id']}").status_code == 404
    assert api.get(f"{REPO}/issues/1/comments").json() == []

    label = api.post(f"{REPO}/labels", json={"name": "bug", "color": "ff0000"}).json()
    api.post(f"{REPO}/issues/1/labels", json={"labels": [label["id"]]})
    renamed = api.patch(f"{REPO}/labels/{label['id']}", json={"name": "defect", "description": "d"})
    assert (renamed.json()["name"], renamed.json()["description"]) == ("defect", "d")
    assert api.get(f"{REPO}/issues/1").json()["labels"][0]["name"] == "defect"
    assert api.delete(f"{REPO}/labels/{label['id']}").status_code == 204
    assert api.get(f"{REPO}/issues/1").json()["labels"] == []
    assert api.get(f"{REPO}/labels/{label['id']}").status_code == 404

    milestone = api.post(f"{REPO}/milestones", json={"title": "v1"}).json()
    api.patch(f"{REPO}/issues/1", json={"milestone": milestone["id"]})
    counted = api.get(f"{REPO}/milestones/v1").json()
    assert (counted["open_issues"], counted["closed_issues"]) == (1, 0)
    assert api.delete(f"{REPO}/milestones/v1").status_code == 204
    assert api.get(f"{REPO}/issues/1").json()["milestone"] is None
    assert api.delete(f"{REPO}/issues/1").status_code == 204
    assert api.get(f"{REPO}/issues/1").status_code == 404


BOB_TOKEN = "fake-gitea-bob-token-3333333333333333333"


def test_comments_are_changed_only_by_their_poster_or_a_writer(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    """routers/api/v1/repo/issue_comment.go: poster, or CanWriteIssuesOrPulls; else 403."""
    fake = fake_gitea.fake
    fake.add_issue("x")
    fake.add_collaborator("bob", write=False)
    fake.add_token("bob", BOB_TOKEN)
    bob = {"Authorization": f"token {BOB_TOKEN}"}
    url = fake_gitea.api_url + REPO
    alices = api.post(f"{REPO}/issues/1/comments", json={"body": "by alice"}).json()
    bobs = httpx.post(f"{url}/issues/1/comments", headers=bob, json={"body": "by bob"}).json()
    refused = httpx.patch(
        f"{url}/issues/comments/{alices['id']}", headers=bob, json={"body": "edited by bob"}
    )
    assert (refused.status_code, refused.content) == (403, b"")  # ctx.Status: no body
    gone = httpx.delete(f"{url}/issues/comments/{alices['id']}", headers=bob)
    assert (gone.status_code, gone.content) == (403, b"")
    own = httpx.patch(f"{url}/issues/comments/{bobs['id']}", headers=bob, json={"body": "mine"})
    assert own.status_code == 200 and own.json()["body"] == "mine"
    # alice writes to the repository: she may change bob's comment too.
    assert api.patch(f"{REPO}/issues/comments/{bobs['id']}", json={"body": "tidied"}).is_success
    assert [c.body for c in fake.repo.comments.values()] == ["by alice", "tidied"]


def test_comment_urls_and_issue_times_as_gitea_sets_them(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    fake = fake_gitea.fake
    clock = [1_800_000_000.0]
    fake.state.clock = lambda: clock[0]
    issue = fake.add_issue("an issue")
    pull = fake.add_pull_request("a pull request")
    on_pull = api.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "lgtm"}).json()
    assert on_pull["issue_url"] == "" and on_pull["pull_request_url"].endswith(
        f"/pulls/{pull.number}"
    )
    on_issue = api.post(f"{REPO}/issues/{issue.number}/comments", json={"body": "hm"}).json()
    assert on_issue["issue_url"].endswith(f"/issues/{issue.number}")
    assert on_issue["pull_request_url"] == ""
    before = api.get(f"{REPO}/issues/{issue.number}").json()["updated_at"]
    clock[0] += 60
    api.patch(f"{REPO}/issues/comments/{on_issue['id']}", json={"body": "hmm"})
    assert api.get(f"{REPO}/issues/{issue.number}").json()["updated_at"] == before
    clock[0] += 60
    assert api.delete(f"{REPO}/issues/comments/{on_issue['id']}").status_code == 204
    after = api.get(f"{REPO}/issues/{issue.number}").json()
    assert after["updated_at"] > before and after["comments"] == 0


def test_a_comment_of_another_repository_is_a_bare_404(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    """Comment ids are global: Gitea finds it, sees another repository, ctx.Status(404)."""
    state = fake_gitea.fake.state
    other = state.add_repo("alice", "other")
    theirs = state.new_comment(
        other, state.new_issue(other, title="x", poster="alice"), "alice", "hi"
    )
    url = f"{REPO}/issues/comments/{theirs.id}"
    for answer in (api.patch(url, json={"body": "mine now"}), api.delete(url)):
        assert (answer.status_code, answer.content) == (404, b""), answer.request.method
    assert other.comments[theirs.id].body == "hi"
    unknown = api.patch(f"{REPO}/issues/comments/999999", json={"body": "x"})
    assert unknown.status_code == 404 and "comment does not exist" in unknown.json()["errors"][0]


def test_repository_comments_are_paged_in_creation_order_with_inclusive_since(
    fake_gitea: RunningGitea, api: httpx.Client
) -> None:
    fake = fake_gitea.fake
    issue, pull = fake.add_issue("issue"), fake.add_pull_request("pull")
    clock = iter(range(1_800_000_000, 1_800_000_100))
    fake.state.clock = lambda: float(next(clock))
    made = [
        fake.state.new_comment(fake.repo, target, fake.owner, f"c{n}")
        for n, target in enumerate([issue, pull, issue, issue])
    ]
    first = api.get(f"{REPO}/issues/comments", params={"limit": 3, "page": 1})
    assert [c["body"] for c in first.json()] == ["c0", "c1", "c2"]
    assert first.headers["x-total-count"] == "4" and "link" not in first.headers
    second = api.get(f"{REPO}/issues/comments", params={"limit": 3, "page": 2})
    assert [c["body"] for c in second.json()] == ["c3"]
    # A pull request's comment names no issue_url (the pull request's page is elsewhere).
    assert first.json()[1]["issue_url"] == "" and first.json()[1]["pull_request_url"]
    # since and before compare updated_at, both inclusive.
    since = first.json()[2]["updated_at"]
    window = api.get(f"{REPO}/issues/comments", params={"since": since, "before": since})
    assert [c["id"] for c in window.json()] == [made[2].id]
