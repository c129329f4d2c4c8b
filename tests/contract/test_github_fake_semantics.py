"""The fake GitHub behaves like GitHub. Every exchange here is also checked against the OpenAPI
description (the ``fake_github`` fixture fails a test whose traffic breaks it)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.github import ARCHIVED_MESSAGE, OWNER_TOKEN
from tests.fakes.github_fixtures import RunningGitHub

REPO = "/repos/alice/tracker"


@pytest.fixture(params=["ghes", "root"])
def api(request: pytest.FixtureRequest, fake_github: RunningGitHub) -> Iterator[httpx.Client]:
    """A client on the Enterprise ``/api/v3`` prefix and on the api.github.com-style root."""
    base = fake_github.api_url if request.param == "ghes" else fake_github.base_url
    headers = {"Authorization": f"token {OWNER_TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
        yield client


def client_for(fake_github: RunningGitHub, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=fake_github.api_url, headers=headers, timeout=5)


def titles(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()]


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: str(link["url"]) for rel, link in response.links.items()}


# --------------------------------------------------------------------------- paging


def test_per_page_defaults_to_30_and_is_capped_at_100(
    fake_github: RunningGitHub, api: httpx.Client
) -> None:
    for index in range(130):
        fake_github.fake.add_issue(f"i{index}")
    assert len(api.get(f"{REPO}/issues").json()) == 30
    assert len(api.get(f"{REPO}/issues", params={"per_page": 500}).json()) == 100
    assert len(api.get(f"{REPO}/issues", params={"per_page": 100, "page": 2}).json()) == 30


def test_link_header_like_github(fake_github: RunningGitHub, api: httpx.Client) -> None:
    for index in range(5):
        fake_github.fake.add_issue(f"i{index}", created=1000 + index)
    repo_id = fake_github.fake.repo.id
    first = api.get(f"{REPO}/issues", params={"state": "all", "per_page": 2})
    assert titles(first) == ["i4", "i3"]  # newest first
    assert list(first.links) == ["next", "last"]
    # GitHub points its links at /repositories/{id}, keeps the query and appends page.
    root = str(api.base_url).rstrip("/")
    assert (
        links(first)["next"] == f"{root}/repositories/{repo_id}/issues?state=all&per_page=2&page=2"
    )
    middle = api.get(links(first)["next"])
    assert titles(middle) == ["i2", "i1"]
    assert list(middle.links) == ["prev", "next", "last", "first"]
    last = api.get(links(middle)["last"])
    assert titles(last) == ["i0"]
    assert list(last.links) == ["prev", "first"]
    beyond = api.get(f"{REPO}/issues", params={"state": "all", "per_page": 2, "page": 9})
    assert beyond.json() == [] and list(beyond.links) == ["prev", "last", "first"]
    assert "page=3" in links(beyond)["last"]
    single = api.get(f"{REPO}/issues", params={"per_page": 50})
    assert "link" not in single.headers


# --------------------------------------------------------------------------- listing


def test_pull_requests_are_in_the_issues_list(
    fake_github: RunningGitHub, api: httpx.Client
) -> None:
    fake_github.fake.add_issue("an issue")
    fake_github.fake.add_pull_request("a pull request")
    listed = api.get(f"{REPO}/issues").json()
    assert [("pull_request" in item) for item in listed] == [True, False]
    assert listed[0]["pull_request"]["html_url"].endswith("/pull/2")
    assert "pull_request" not in api.get(f"{REPO}/issues/1").json()


def test_list_filters(fake_github: RunningGitHub, api: httpx.Client) -> None:
    fake = fake_github.fake
    fake.add_collaborator("bob")
    milestone = fake.add_milestone("v1")
    fake.add_issue("plain")
    fake.add_issue("bug+ui", labels=["bug", "UI"], assignees=["bob"], milestone=milestone.number)
    fake.add_issue("bug", labels=["bug"], user="bob", body="cc @Alice")
    fake.add_issue("done", state="closed")

    def listed(**params: str) -> list[str]:
        return sorted(titles(api.get(f"{REPO}/issues", params=params)))

    assert listed() == ["bug", "bug+ui", "plain"]
    assert listed(state="closed") == ["done"]
    assert listed(state="all") == ["bug", "bug+ui", "done", "plain"]
    assert listed(labels="bug,ui") == ["bug+ui"]  # all of them, case-insensitively
    assert listed(labels="bug,nope") == []
    assert listed(milestone="*") == ["bug+ui"]
    assert listed(milestone="none") == ["bug", "plain"]
    assert listed(milestone=str(milestone.number)) == ["bug+ui"]
    assert listed(assignee="bob") == ["bug+ui"]
    assert listed(assignee="*") == ["bug+ui"]
    assert listed(assignee="none") == ["bug", "plain"]
    assert listed(creator="bob") == ["bug"]
    assert listed(mentioned="alice") == ["bug"]
    missing = api.get(f"{REPO}/issues", params={"milestone": "99"})
    assert missing.status_code == 404


def test_sort_direction_and_since(fake_github: RunningGitHub, api: httpx.Client) -> None:
    fake = fake_github.fake
    old = fake.add_issue("old", created=1000)
    fake.add_issue("new", created=2000)
    old.updated = 3000
    fake.add_comment(2, "one")
    fake.repo.comments[max(fake.repo.comments)].updated = 5000
    fake.repo.issues[2].updated = 2500

    def listed(**params: str) -> list[str]:
        return titles(api.get(f"{REPO}/issues", params=params))

    assert listed() == ["new", "old"]
    assert listed(direction="asc") == ["old", "new"]
    assert listed(sort="updated") == ["old", "new"]
    assert listed(sort="comments") == ["new", "old"]
    assert listed(since="1970-01-01T00:45:00Z") == ["old"]  # updated_at >= 2700 s


# --------------------------------------------------------------------------- writes


def test_create_makes_unknown_labels_and_drops_unassignable_users(
    fake_github: RunningGitHub, api: httpx.Client
) -> None:
    fake_github.fake.add_collaborator("reader", role="pull")
    created = api.post(
        f"{REPO}/issues",
        json={"title": "t", "labels": ["fresh", "bug"], "assignees": ["alice", "reader", "ghost"]},
    )
    assert created.status_code == 201
    assert created.headers["location"] == created.json()["url"]
    body = created.json()
    assert [label["name"] for label in body["labels"]] == ["bug", "fresh"]  # by name
    assert [user["login"] for user in body["assignees"]] == ["alice"]
    assert body["body"] is None and body["state_reason"] is None and body["closed_by"] is None
    assert api.get(f"{REPO}/labels/fresh").json()["color"] == "ededed"
    bad = api.post(f"{REPO}/issues", json={"title": "t", "milestone": 42})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "milestone"
    assert [i["title"] for i in api.get(f"{REPO}/issues").json()] == ["t"]  # nothing half-made


def test_users_without_push_access_lose_labels_assignees_and_milestone(
    fake_github: RunningGitHub,
) -> None:
    fake = fake_github.fake
    fake.add_collaborator("triager", role="triage")
    fake.add_token("triager", "ghp_triager")
    milestone = fake.add_milestone("v1")
    with client_for(fake_github, "ghp_triager") as client:
        created = client.post(
            f"{REPO}/issues",
            json={"title": "t", "labels": ["bug"], "assignees": ["alice"], "milestone": 1},
        ).json()
        assert created["labels"] == [] and created["assignees"] == []
        assert created["milestone"] is None and milestone.number == 1
        edited = client.patch(
            f"{REPO}/issues/1", json={"labels": ["bug"], "state": "closed"}
        ).json()
        assert edited["labels"] == [] and edited["state"] == "closed"
        assert client.post(f"{REPO}/labels", json={"name": "x"}).status_code == 403


def test_state_reason_closed_at_and_closed_by(
    fake_github: RunningGitHub, api: httpx.Client
) -> None:
    fake_github.fake.add_issue("t")
    closed = api.patch(f"{REPO}/issues/1", json={"state": "closed"}).json()
    assert closed["state_reason"] == "completed" and closed["closed_at"]
    assert closed["closed_by"]["login"] == "alice"
    reason = api.patch(f"{REPO}/issues/1", json={"state_reason": "not_planned"}).json()
    assert reason["state"] == "closed" and reason["state_reason"] == "not_planned"
    reopened = api.patch(f"{REPO}/issues/1", json={"state": "open"}).json()
    assert reopened["state_reason"] == "reopened" and reopened["closed_at"] is None
    duplicate = api.patch(
        f"{REPO}/issues/1", json={"state": "closed", "state_reason": "duplicate"}
    ).json()
    assert duplicate["state_reason"] == "duplicate"
    bad = api.patch(f"{REPO}/issues/1", json={"state": "closed", "state_reason": "reopened"})
    assert bad.status_code == 422


def test_issue_labels_add_set_remove(fake_github: RunningGitHub, api: httpx.Client) -> None:
    fake_github.fake.add_issue("t")
    names = lambda r: [label["name"] for label in r.json()]  # noqa: E731
    assert names(api.post(f"{REPO}/issues/1/labels", json={"labels": ["a", "b"]})) == ["a", "b"]
    assert names(api.post(f"{REPO}/issues/1/labels", json=["B", "c"])) == ["a", "b", "c"]
    assert names(api.put(f"{REPO}/issues/1/labels", json={"labels": ["c"]})) == ["c"]
    assert api.delete(f"{REPO}/issues/1/labels/C").json() == []
    missing = api.delete(f"{REPO}/issues/1/labels/c")
    assert missing.status_code == 404 and missing.json()["message"] == "Label does not exist"
    assert names(api.get(f"{REPO}/labels")) == ["a", "b", "c"]


def test_label_and_milestone_crud(fake_github: RunningGitHub, api: httpx.Client) -> None:
    created = api.post(f"{REPO}/labels", json={"name": "P1", "color": "#FF0000"})
    assert created.status_code == 201 and created.json()["color"] == "ff0000"
    again = api.post(f"{REPO}/labels", json={"name": "p1", "color": "00ff00"})
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "already_exists"
    bad = api.post(f"{REPO}/labels", json={"name": "x", "color": "red"})
    assert bad.status_code == 422
    renamed = api.patch(f"{REPO}/labels/p1", json={"new_name": "urgent", "description": "now"})
    assert renamed.json()["name"] == "urgent" and renamed.json()["url"].endswith("/labels/urgent")
    assert api.delete(f"{REPO}/labels/urgent").status_code == 204
    assert api.get(f"{REPO}/labels/urgent").status_code == 404

    first = api.post(f"{REPO}/milestones", json={"title": "v1", "due_on": "2026-12-24T15:00:00Z"})
    assert first.status_code == 201
    assert first.json()["number"] == 1 and first.json()["due_on"] == "2026-12-24T00:00:00Z"
    second = api.post(f"{REPO}/milestones", json={"title": "v2", "state": "closed"}).json()
    assert second["number"] == 2 and second["closed_at"]
    assert api.post(f"{REPO}/milestones", json={"title": "v1"}).status_code == 422
    fake_github.recorder.expect_violation("is not a 'date-time'")  # sent wrong on purpose
    date_only = api.post(f"{REPO}/milestones", json={"title": "v3", "due_on": "2026-12-24"})
    assert date_only.status_code == 422 and "not a valid date-time" in date_only.json()["message"]
    fake_github.fake.add_issue("in v1", milestone=1)
    fake_github.fake.add_issue("done in v1", milestone=1, state="closed")
    counted = api.get(f"{REPO}/milestones/1").json()
    assert (counted["open_issues"], counted["closed_issues"]) == (1, 1)
    assert [m["title"] for m in api.get(f"{REPO}/milestones").json()] == ["v1"]
    assert [m["title"] for m in api.get(f"{REPO}/milestones", params={"state": "all"}).json()] == [
        "v1",
        "v2",
    ]
    assert api.patch(f"{REPO}/milestones/1", json={"state": "closed"}).json()["state"] == "closed"
    assert api.delete(f"{REPO}/milestones/1").status_code == 204
    assert api.get(f"{REPO}/issues/1").json()["milestone"] is None


def test_comments_per_issue_and_repository_wide(
    fake_github: RunningGitHub, api: httpx.Client
) -> None:
    fake = fake_github.fake
    fake.add_issue("a")
    fake.add_issue("b")
    first = api.post(f"{REPO}/issues/1/comments", json={"body": "one"}).json()
    api.post(f"{REPO}/issues/2/comments", json={"body": "two"})
    api.post(f"{REPO}/issues/1/comments", json={"body": "three"})
    assert [c["body"] for c in api.get(f"{REPO}/issues/1/comments").json()] == ["one", "three"]
    everything = api.get(f"{REPO}/issues/comments").json()
    assert [c["body"] for c in everything] == ["one", "two", "three"]
    assert everything[1]["issue_url"].endswith("/issues/2")
    fake.repo.comments[first["id"]].updated = fake.state.now() + 100
    by_update = api.get(f"{REPO}/issues/comments", params={"sort": "updated"}).json()
    assert by_update[0]["body"] == "one"  # desc by default once sorted
    edited = api.patch(f"{REPO}/issues/comments/{first['id']}", json={"body": "uno"})
    assert edited.json()["body"] == "uno"
    assert api.delete(f"{REPO}/issues/comments/{first['id']}").status_code == 204
    assert api.get(f"{REPO}/issues/comments/{first['id']}").status_code == 404
    assert api.get(f"{REPO}/issues/1").json()["comments"] == 1


def test_assignees(fake_github: RunningGitHub, api: httpx.Client) -> None:
    fake = fake_github.fake
    fake.add_collaborator("bob")
    fake.add_collaborator("reader", role="pull")
    fake.add_issue("t")
    assert [u["login"] for u in api.get(f"{REPO}/assignees").json()] == ["alice", "bob"]
    assert api.get(f"{REPO}/assignees/bob").status_code == 204
    assert api.get(f"{REPO}/assignees/reader").status_code == 404
    added = api.post(f"{REPO}/issues/1/assignees", json={"assignees": ["bob", "reader"]})
    assert added.status_code == 201 and [u["login"] for u in added.json()["assignees"]] == ["bob"]
    removed = api.request("DELETE", f"{REPO}/issues/1/assignees", json={"assignees": ["bob"]})
    assert removed.json()["assignees"] == [] and removed.json()["assignee"] is None


# --------------------------------------------------------------------------- auth, ETags, limits


def test_user_rate_limit_and_meta(fake_github: RunningGitHub, api: httpx.Client) -> None:
    user = api.get("/user")
    assert user.json()["login"] == "alice" and user.json()["user_view_type"] == "private"
    assert user.headers["x-oauth-scopes"] == "repo"
    assert api.get("/users/alice").json()["user_view_type"] == "public"
    before = int(api.get(f"{REPO}").headers["x-ratelimit-remaining"])
    limits = api.get("/rate_limit")
    assert limits.json()["rate"]["remaining"] == before  # /rate_limit is free
    probe = api.get("/meta")
    meta = probe.json()
    assert api.get("/meta", headers={"If-None-Match": probe.headers["etag"]}).status_code == 304
    if str(api.base_url).rstrip("/").endswith("/api/v3"):
        assert meta["installed_version"] == fake_github.fake.ghes_version
        assert "x-github-enterprise-version" in api.get("/meta").headers
    else:
        assert "installed_version" not in meta


def test_etags_answer_304_without_spending_the_budget(
    fake_github: RunningGitHub, api: httpx.Client
) -> None:
    fake_github.fake.add_issue("t")
    first = api.get(f"{REPO}/issues")
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    remaining = int(first.headers["x-ratelimit-remaining"])
    again = api.get(f"{REPO}/issues", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-remaining"]) == remaining
    api.patch(f"{REPO}/issues/1", json={"title": "changed"})
    changed = api.get(f"{REPO}/issues", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert int(changed.headers["x-ratelimit-remaining"]) == remaining - 2
    for name in ("limit", "remaining", "used", "reset", "resource"):
        assert f"x-ratelimit-{name}" in changed.headers


def test_bad_credentials_private_repositories_and_anonymous_limits(
    fake_github: RunningGitHub,
) -> None:
    with client_for(fake_github, "ghp_wrong") as client:
        wrong = client.get(f"{REPO}/issues")
    assert wrong.status_code == 401 and wrong.json()["message"] == "Bad credentials"
    assert wrong.json()["status"] == "401" and "documentation_url" in wrong.json()
    with client_for(fake_github, None) as anonymous:
        assert anonymous.get(f"{REPO}/issues").status_code == 404  # private: not even there
        assert anonymous.get("/user").status_code == 401
        assert anonymous.get("/rate_limit").json()["rate"]["limit"] == 60
    with client_for(fake_github, OWNER_TOKEN) as owner:
        assert owner.get("/repos/alice/missing").status_code == 404


def test_classic_scopes_and_fine_grained_tokens(fake_github: RunningGitHub) -> None:
    fake = fake_github.fake
    fake.add_token("alice", "ghp_noscope", scopes=("read:user",))
    fake.add_fine_grained_token("alice", "github_pat_reader", issues="read")
    fake.add_fine_grained_token("alice", "github_pat_other", repositories=["alice/other"])
    fake.add_issue("t")
    with client_for(fake_github, "ghp_noscope") as client:
        hidden = client.get(f"{REPO}/issues")
        assert hidden.status_code == 404
        assert hidden.headers["x-oauth-scopes"] == "read:user"
        assert hidden.headers["x-accepted-oauth-scopes"] == "repo"
    with client_for(fake_github, "github_pat_reader") as client:
        read = client.get(f"{REPO}/issues")
        assert read.status_code == 200 and "x-oauth-scopes" not in read.headers
        write = client.patch(f"{REPO}/issues/1", json={"title": "x"})
        assert write.status_code == 403
        assert write.json()["message"] == "Resource not accessible by personal access token"
        assert write.headers["x-accepted-github-permissions"] == "issues=write"
    with client_for(fake_github, "github_pat_other") as client:
        assert client.get(f"{REPO}/issues").status_code == 404


def test_public_repository_writes_need_a_public_repo_scope(fake_github: RunningGitHub) -> None:
    fake = fake_github.fake
    fake.repo.private = False
    fake.add_token("alice", "ghp_readonly", scopes=())
    with client_for(fake_github, None) as anonymous:
        assert anonymous.get(f"{REPO}/issues").status_code == 200
    with client_for(fake_github, "ghp_readonly") as client:
        assert client.get(f"{REPO}/issues").status_code == 200
        assert client.post(f"{REPO}/issues", json={"title": "t"}).status_code == 404
    fake.add_token("alice", "ghp_public", scopes=("public_repo",))
    with client_for(fake_github, "ghp_public") as client:
        assert client.post(f"{REPO}/issues", json={"title": "t"}).status_code == 201


def test_renamed_repository_redirects(fake_github: RunningGitHub, api: httpx.Client) -> None:
    fake = fake_github.fake
    fake.add_issue("t")
    fake.rename("renamed")
    read = api.get(f"{REPO}/issues", params={"state": "all"})
    assert read.status_code == 301
    location = read.headers["location"]
    assert f"/repositories/{fake.repo.id}/issues?state=all" in location
    assert read.json()["message"] == "Moved Permanently" and read.json()["url"] == location
    assert titles(api.get(location)) == ["t"]
    write = api.patch(f"{REPO}/issues/1", json={"title": "x"})
    assert write.status_code == 307
    assert api.patch(write.headers["location"], json={"title": "x"}).json()["title"] == "x"
    assert api.get("/repos/alice/renamed").json()["full_name"] == "alice/renamed"


def test_archived_repository_refuses_writes(fake_github: RunningGitHub, api: httpx.Client) -> None:
    fake_github.fake.add_issue("t")
    fake_github.fake.archive()
    assert api.get(f"{REPO}/issues/1").status_code == 200
    assert api.get(REPO).json()["archived"] is True
    refused = api.post(f"{REPO}/issues/1/comments", json={"body": "x"})
    assert refused.status_code == 403 and refused.json()["message"] == ARCHIVED_MESSAGE


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_exhausted(
    fake_github: RunningGitHub, api: httpx.Client, status: int
) -> None:
    fake_github.fake.exhaust_rate_limit(status=status)
    limited = api.get(f"{REPO}/issues")
    assert limited.status_code == status
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.json()["message"].startswith("API rate limit exceeded for user ID")
    assert api.get("/rate_limit").status_code == 200  # still answers, and says so
    assert api.get("/rate_limit").json()["rate"]["remaining"] == 0


@pytest.mark.parametrize(("status", "retry_after"), [(403, 60), (429, 3), (403, None)])
def test_secondary_rate_limit(
    fake_github: RunningGitHub, api: httpx.Client, status: int, retry_after: int | None
) -> None:
    fake_github.fake.add_issue("t")
    fake_github.fake.secondary_limit(status=status, retry_after=retry_after, method="POST")
    hit = api.post(f"{REPO}/issues", json={"title": "burst"})
    assert hit.status_code == status
    assert hit.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert "secondary-rate-limits" in hit.json()["documentation_url"]
    assert hit.headers.get("retry-after") == (str(retry_after) if retry_after else None)
    assert int(hit.headers["x-ratelimit-remaining"]) > 0  # not the primary budget
    assert api.post(f"{REPO}/issues", json={"title": "burst"}).status_code == 201
    assert len(api.get(f"{REPO}/issues").json()) == 2  # the refused write did not happen


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def test_write_limits_are_githubs_documented_ones() -> None:
    """80 content-creating requests a minute, 500 an hour: the 81st is a secondary limit."""
    from tests.fakes.github_contract import GitHubContract
    from tests.fakes.github_fixtures import start_fake_github

    clock = Clock()
    running = start_fake_github(contract=GitHubContract.load(), write_limits=True, clock=clock)
    try:
        with client_for(running, OWNER_TOKEN) as client:
            running.fake.add_issue("t")
            for _ in range(80):
                assert (
                    client.post(f"{REPO}/issues/1/comments", json={"body": "b"}).status_code == 201
                )
                clock.now += 0.5
            refused = client.post(f"{REPO}/issues/1/comments", json={"body": "b"})
            assert refused.status_code == 403
            assert "secondary rate limit" in refused.json()["message"]
            assert int(refused.headers["retry-after"]) == 20  # until the oldest write is 60 s old
            assert client.patch(
                f"{REPO}/issues/1", json={"title": "edits are not counted"}
            ).is_success
            clock.now += 20
            assert client.post(f"{REPO}/issues/1/comments", json={"body": "b"}).status_code == 201
            for _ in range(419):  # 500 in the hour, spread so no minute holds 80
                clock.now += 1
                assert (
                    client.post(f"{REPO}/issues/1/comments", json={"body": "b"}).status_code == 201
                )
            clock.now += 60
            hourly = client.post(f"{REPO}/issues/1/comments", json={"body": "b"})
            assert hourly.status_code == 403 and int(hourly.headers["retry-after"]) > 60
        assert len(running.fake.repo.comments) == 500
    finally:
        running.stop()
    running.recorder.assert_clean()


def test_expiring_tokens_say_so_then_fail(fake_github: RunningGitHub) -> None:
    fake = fake_github.fake
    soon = fake.state.now() + 3600
    fake.add_token("alice", "ghp_expiring", expires=soon)
    with client_for(fake_github, "ghp_expiring") as client:
        ok = client.get("/user")
        assert ok.status_code == 200
        assert ok.headers["github-authentication-token-expiration"].endswith(" UTC")
        fake.state.tokens["ghp_expiring"].expires = fake.state.now() - 1
        assert client.get("/user").status_code == 401


def test_generic_faults_strike_the_github_fake(fake_github: RunningGitHub) -> None:
    fake = fake_github.fake
    fake.add_issue("t")
    fake.faults.server_errors(1, status=502, path="/issues$")
    fake.faults.drop(1, path="/issues/1$")
    with client_for(fake_github, OWNER_TOKEN) as client:
        assert client.get(f"{REPO}/issues").status_code == 502
        assert client.get(f"{REPO}/issues").status_code == 200
        with pytest.raises(httpx.HTTPError):
            client.get(f"{REPO}/issues/1")
        held = fake.faults.hold(1, method="POST")
        import threading

        answers: list[int] = []
        worker = threading.Thread(
            target=lambda: answers.append(
                client.post(f"{REPO}/issues", json={"title": "held"}).status_code
            )
        )
        worker.start()
        assert held.reached.wait(5)
        assert [i.title for i in fake.repo.issues.values()] == ["t", "held"]  # already applied
        held.released.set()
        worker.join(5)
        assert answers == [201]


def test_last_modified_and_if_modified_since(fake_github: RunningGitHub, api: httpx.Client) -> None:
    issue = fake_github.fake.add_issue("t")
    first = api.get(f"{REPO}/issues/1")
    stamp = first.headers["last-modified"]
    assert stamp.endswith(" GMT")
    assert "last-modified" not in api.get(f"{REPO}/issues").headers  # lists carry none
    same = api.get(f"{REPO}/issues/1", headers={"If-Modified-Since": stamp})
    assert same.status_code == 304 and same.content == b""
    issue.updated += 10
    assert api.get(f"{REPO}/issues/1", headers={"If-Modified-Since": stamp}).status_code == 200
