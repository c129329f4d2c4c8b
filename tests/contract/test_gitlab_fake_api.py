"""The fake GitLab behaves like GitLab on the wire: project paths, iids, labels, milestones,
notes, auth, paging (offset and keyset) and rate limits. Every exchange is contract-checked by
the ``fake_gitlab`` fixture."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.gitlab import OWNER_TOKEN, READ_TOKEN
from tests.fakes.gitlab_fixtures import RunningGitLab, owner_client
from tests.fakes.gitlab_state import DEVELOPER, GUEST

P = "/projects/group%2Fsub%2Frepo"


@pytest.fixture
def api(fake_gitlab: RunningGitLab) -> Iterator[httpx.Client]:
    with owner_client(fake_gitlab) as client:
        yield client


def test_project_by_encoded_path_or_id_and_not_by_a_raw_slash(
    fake_gitlab: RunningGitLab, api: httpx.Client
) -> None:
    by_path = api.get(P).json()
    assert by_path["path_with_namespace"] == "group/sub/repo"
    assert api.get(f"/projects/{by_path['id']}").json()["id"] == by_path["id"]
    assert by_path["namespace"]["full_path"] == "group/sub"
    assert by_path["permissions"]["group_access"]["access_level"] == 50
    # An unencoded path is no GitLab endpoint: the contract says so too.
    fake_gitlab.recorder.expect_violation("/api/v4/projects/group/sub/repo: no GitLab endpoint")
    raw = api.get("/projects/group/sub/repo")
    assert raw.status_code == 404
    missing = api.get("/projects/group%2Fnope")
    assert missing.status_code == 404 and missing.json() == {"message": "404 Project Not Found"}


def test_iid_is_the_number_and_the_global_id_differs(api: httpx.Client) -> None:
    first = api.post(f"{P}/issues", json={"title": "one"}).json()
    second = api.post(f"{P}/issues", json={"title": "two"}).json()
    assert (first["iid"], second["iid"]) == (1, 2)
    assert first["id"] != first["iid"]
    assert api.get(f"{P}/issues/2").json()["title"] == "two"
    assert api.get(f"{P}/issues/{second['id']}").status_code == 404


def test_labels_are_names_created_on_use_and_changed_by_add_and_remove(
    fake_gitlab: RunningGitLab, api: httpx.Client
) -> None:
    fake_gitlab.fake.add_label("Bug", "#d9534f")
    issue = api.post(f"{P}/issues", json={"title": "x", "labels": "bug,new one"}).json()
    assert issue["labels"] == ["Bug", "new one"]
    created = next(lab for lab in api.get(f"{P}/labels").json() if lab["name"] == "new one")
    assert created["color"] == "#6699cc"
    edited = api.put(f"{P}/issues/1", json={"add_labels": "extra", "remove_labels": "BUG"}).json()
    assert edited["labels"] == ["new one", "extra"]
    replaced = api.put(f"{P}/issues/1", json={"labels": ""}).json()
    assert replaced["labels"] == []


def test_state_event_closes_and_reopens_as_state_events(api: httpx.Client) -> None:
    api.post(f"{P}/issues", json={"title": "x"})
    closed = api.put(f"{P}/issues/1", json={"state_event": "close"}).json()
    assert closed["state"] == "closed" and closed["closed_by"]["username"] == "owner"
    assert closed["closed_at"] is not None
    reopened = api.put(f"{P}/issues/1", json={"state_event": "reopen"}).json()
    assert reopened["state"] == "opened" and reopened["closed_at"] is None
    api.post(f"{P}/issues/1/notes", json={"body": "a real comment"})
    notes = api.get(f"{P}/issues/1/notes", params={"sort": "asc"}).json()
    assert [(n["body"], n["system"]) for n in notes] == [("a real comment", False)]
    states = api.get(f"{P}/issues/1/resource_state_events").json()
    assert [e["state"] for e in states] == ["closed", "opened"]
    assert api.get(f"{P}/issues/1").json()["user_notes_count"] == 1


def test_saving_a_note_touches_its_issue(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    """Note's ``after_save :touch_noteable``: creating and editing a note move the issue's
    ``updated_at`` (what an ``updated_after`` read of changed notes relies on)."""
    clock = iter(range(1_800_000_000, 1_800_000_100, 10))
    fake_gitlab.fake.state.clock = lambda: float(next(clock))
    created = api.post(f"{P}/issues", json={"title": "x"}).json()["updated_at"]
    note = api.post(f"{P}/issues/1/notes", json={"body": "first"}).json()
    commented = api.get(f"{P}/issues/1").json()["updated_at"]
    api.put(f"{P}/issues/1/notes/{note['id']}", json={"body": "edited"})
    edited = api.get(f"{P}/issues/1").json()["updated_at"]
    assert created < commented < edited
    by_update = api.get(f"{P}/issues/1/notes", params={"order_by": "updated_at"}).json()
    assert by_update[0]["body"] == "edited"


def test_an_edit_without_parameters_is_refused(api: httpx.Client) -> None:
    api.post(f"{P}/issues", json={"title": "x"})
    answer = api.put(f"{P}/issues/1", json={})
    assert answer.status_code == 400 and "at least one parameter" in answer.json()["error"]


def test_project_and_group_milestones(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    group_ms = fake_gitlab.fake.add_group_milestone("Q1", group="group")
    project_ms = api.post(f"{P}/milestones", json={"title": "v1", "due_date": "2026-12-24"}).json()
    assert project_ms["project_id"] == fake_gitlab.fake.project.id
    listed = api.get(f"{P}/milestones", params={"include_ancestors": "true"}).json()
    assert {m["title"] for m in listed} == {"Q1", "v1"}
    assert [m["title"] for m in api.get(f"{P}/milestones").json()] == ["v1"]
    issue = api.post(f"{P}/issues", json={"title": "x", "milestone_id": group_ms.id}).json()
    assert issue["milestone"]["group_id"] == group_ms.group_id
    assert "project_id" not in issue["milestone"]
    only_q1 = api.get(f"{P}/issues", params={"milestone": "Q1"}).json()
    assert [i["iid"] for i in only_q1] == [issue["iid"]]
    closed = api.put(
        f"/groups/{group_ms.group_id}/milestones/{group_ms.id}", json={"state_event": "close"}
    ).json()
    assert closed["state"] == "closed"
    cleared = api.put(f"{P}/issues/1", json={"milestone_id": 0}).json()
    assert cleared["milestone"] is None


def test_list_filters(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    bob = fake_gitlab.fake.add_member("bob", DEVELOPER)
    api.post(f"{P}/issues", json={"title": "crash on start", "labels": "bug"})
    api.post(f"{P}/issues", json={"title": "docs", "assignee_ids": [bob.id]})
    api.post(f"{P}/issues", json={"title": "nothing", "description": "a crash"})
    api.put(f"{P}/issues/3", json={"state_event": "close"})

    def iids(**params: str) -> list[int]:
        return sorted(i["iid"] for i in api.get(f"{P}/issues", params=params).json())

    assert iids() == [1, 2, 3]  # project issues: every state by default
    assert iids(state="opened") == [1, 2]
    assert iids(labels="BUG") == [1]
    assert iids(labels="None") == [2, 3]
    assert iids(labels="Any") == [1]
    assert iids(assignee_username="bob") == [2]
    assert iids(assignee_id="None") == [1, 3]
    assert iids(search="crash") == [1, 3]
    assert iids(milestone="None") == [1, 2, 3]
    assert iids(author_username="owner") == [1, 2, 3]
    newest = api.get(f"{P}/issues", params={"order_by": "created_at", "sort": "asc"}).json()
    assert [i["iid"] for i in newest] == [1, 2, 3]
    bad = api.get(f"{P}/issues", params={"order_by": "colour"})
    assert bad.status_code == 400 and bad.json() == {
        "error": "order_by does not have a valid value"
    }


def test_offset_paging_headers_as_gitlab(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    for n in range(5):
        fake_gitlab.fake.add_issue(f"issue {n}")
    page = api.get(f"{P}/issues", params={"per_page": 2, "page": 2})
    h = page.headers
    assert (h["x-page"], h["x-per-page"], h["x-next-page"], h["x-prev-page"]) == (
        "2",
        "2",
        "3",
        "1",
    )
    assert (h["x-total"], h["x-total-pages"]) == ("5", "3")
    rels = [part.split('rel="')[1].rstrip('"') for part in h["link"].split(", ")]
    assert rels == ["prev", "next", "first", "last"]
    assert "id=group%2Fsub%2Frepo" in h["link"]
    past = api.get(f"{P}/issues", params={"per_page": 2, "page": 9})
    assert past.json() == [] and past.headers["x-prev-page"] == ""
    assert api.get(f"{P}/issues").headers["x-per-page"] == "20"
    assert api.get(f"{P}/issues", params={"per_page": 500}).headers["x-per-page"] == "100"


def test_no_totals_above_the_count_limit(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    fake_gitlab.fake.count_limit = 3
    for n in range(5):
        fake_gitlab.fake.add_issue(f"issue {n}")
    page = api.get(f"{P}/issues", params={"per_page": 2})
    assert "x-total" not in page.headers and "x-total-pages" not in page.headers
    assert page.headers["x-next-page"] == "2" and 'rel="last"' not in page.headers["link"]
    last = api.get(f"{P}/issues", params={"per_page": 2, "page": 3})
    assert len(last.json()) == 1 and last.headers["x-next-page"] == ""


def _keyset_walk(
    api: httpx.Client, params: dict[str, str]
) -> tuple[list[int], list[httpx.Response]]:
    answers = [api.get(f"{P}/issues", params=params)]
    while 'rel="next"' in answers[-1].headers.get("link", ""):
        url = answers[-1].headers["link"].split(">")[0].lstrip("<")
        answers.append(api.get(url))
    return [i["iid"] for a in answers for i in a.json()], answers


def test_keyset_pages_from_18_3(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    for n in range(5):
        fake_gitlab.fake.add_issue(f"issue {n}")
    params = {"pagination": "keyset", "order_by": "id", "sort": "asc", "per_page": "2"}
    iids, answers = _keyset_walk(api, params)
    assert iids == [1, 2, 3, 4, 5] and len(answers) == 3
    for answer in answers:
        assert "x-total" not in answer.headers and "x-page" not in answer.headers
    down, _ = _keyset_walk(api, {**params, "sort": "desc", "order_by": "created_at"})
    assert down == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("gitlab_options", [{"version": "18.2.4"}], indirect=True)
def test_before_18_3_keyset_falls_back_to_offset(
    fake_gitlab: RunningGitLab, api: httpx.Client
) -> None:
    fake_gitlab.fake.add_issue("one")
    answer = api.get(f"{P}/issues", params={"pagination": "keyset", "order_by": "id"})
    assert answer.headers["x-total"] == "1" and answer.headers["x-page"] == "1"


def test_auth_header_forms_and_gitlab_error_bodies(
    fake_gitlab: RunningGitLab, api: httpx.Client
) -> None:
    url = fake_gitlab.api_url + "/user"
    assert httpx.get(url, headers={"Authorization": f"Bearer {OWNER_TOKEN}"}).status_code == 200
    wrong = httpx.get(url, headers={"PRIVATE-TOKEN": "glpat-wrong"})
    assert wrong.status_code == 401 and wrong.json() == {"message": "401 Unauthorized"}
    fake_gitlab.fake.add_token("owner", "glpat-old", expired=True)
    old = httpx.get(url, headers={"PRIVATE-TOKEN": "glpat-old"})
    assert old.status_code == 401 and old.json()["error"] == "invalid_token"
    assert "invalid_token" in old.headers["www-authenticate"]
    read = httpx.post(
        fake_gitlab.api_url + f"{P}/issues",
        headers={"PRIVATE-TOKEN": READ_TOKEN},
        json={"title": "x"},
    )
    assert read.status_code == 403 and read.json()["error"] == "insufficient_scope"
    assert read.json()["scope"] == "api"
    anonymous = httpx.get(fake_gitlab.api_url + f"{P}/issues")
    assert anonymous.status_code == 404  # a private project is invisible without a token


def test_roles_guest_edits_are_dropped_and_others_notes_are_protected(
    fake_gitlab: RunningGitLab, api: httpx.Client
) -> None:
    fake_gitlab.fake.add_member("guest", GUEST)
    fake_gitlab.fake.add_token("guest", "glpat-guest")
    guest = {"PRIVATE-TOKEN": "glpat-guest"}
    url = fake_gitlab.api_url + f"{P}/issues"
    made = httpx.post(url, headers=guest, json={"title": "mine", "labels": "bug"}).json()
    assert made["labels"] == []  # labels need the Planner role: dropped without a word
    note = api.post(f"{P}/issues/1/notes", json={"body": "owner's"}).json()
    other = httpx.put(
        fake_gitlab.api_url + f"{P}/issues/1/notes/{note['id']}", headers=guest, json={"body": "x"}
    )
    assert other.status_code == 403 and other.json() == {"message": "403 Forbidden"}
    assert httpx.delete(url + "/1", headers=guest).status_code == 403


def test_rate_limit_headers_and_429(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    first = api.get("/version")
    assert int(first.headers["ratelimit-remaining"]) < int(first.headers["ratelimit-limit"])
    fake_gitlab.fake.throttle(1, retry_after=7)
    limited = api.get("/version")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert "ratelimit-remaining" in limited.headers
    fake_gitlab.fake.ratelimit_headers_on_429 = False
    fake_gitlab.fake.throttle(1)
    bare = api.get("/version")
    assert bare.status_code == 429 and "ratelimit-remaining" not in bare.headers
    assert api.get("/version").status_code == 200
    fake_gitlab.fake.ratelimit_headers_on_429 = True
    fake_gitlab.fake.rate_limit = fake_gitlab.fake.requests_seen + 1
    assert api.get("/version").headers["ratelimit-remaining"] == "0"
    spent = api.get("/version")
    assert spent.status_code == 429 and int(spent.headers["ratelimit-reset"]) > 0


def test_etag_answers_304(api: httpx.Client) -> None:
    first = api.get("/version")
    again = api.get("/version", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_users_by_username(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    fake_gitlab.fake.add_member("bob", DEVELOPER)
    found = api.get("/users", params={"username": "bob"}).json()
    assert [u["username"] for u in found] == ["bob"]
    assert api.get("/users", params={"username": "nobody"}).json() == []
    me = api.get("/user").json()
    assert me["username"] == "owner" and "email" in me


def test_generic_faults_apply(fake_gitlab: RunningGitLab, api: httpx.Client) -> None:
    faults = fake_gitlab.fake.faults
    faults.server_errors(1, status=502, path="/issues$")
    assert api.get(f"{P}/issues").status_code == 502
    assert api.get(f"{P}/issues").status_code == 200
    faults.drop(1, method="GET")
    with pytest.raises(httpx.HTTPError):
        api.get("/version")
    held = faults.hold(1, method="POST", path="/issues$")
    answers: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: answers.append(api.post(f"{P}/issues", json={"title": "held"}))
    )
    worker.start()
    assert held.reached.wait(10)
    assert [i.title for i in fake_gitlab.fake.project.issues.values()] == ["held"]  # applied
    assert answers == []  # ... but not answered yet
    held.released.set()
    worker.join(10)
    assert answers[0].status_code == 201 and answers[0].json()["title"] == "held"


def test_a_project_without_subgroups(fake_gitlab: RunningGitLab) -> None:
    from tests.fakes.gitlab import FakeGitLab

    fake = FakeGitLab(project="solo/repo")
    assert fake.state.access_level(fake.project, fake.owner.id) == 50
    assert fake.state.groups[fake.project.group_id].full_path == "solo"
