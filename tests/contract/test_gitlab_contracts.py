"""The GitLab contract checker (tests/fakes/gitlab_contract.py) is honest: real gitlab.com
bodies pass it, broken ones and undeclared request parameters fail it; and the fake GitLab's
objects have the keys and value types of the recorded gitlab.com objects."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from tests.fakes.gitlab import OWNER_TOKEN
from tests.fakes.gitlab_contract import GitLabContract, classify
from tests.fakes.gitlab_fixtures import RunningGitLab
from tests.fakes.gitlab_state import (
    RECORDED_DISCUSSIONS,
    RECORDED_ISSUES,
    RECORDED_LABELS,
    RECORDED_MILESTONES,
    recorded_body,
)

P = "/api/v4/projects/group%2Fsub%2Frepo"
JSON = "application/json"


@pytest.fixture(scope="module")
def contract() -> GitLabContract:
    return GitLabContract()


def _response(contract: GitLabContract, path: str, value: Any, method: str = "GET") -> list[str]:
    return contract.check_response(method, path, 200, json.dumps(value).encode(), JSON)


@pytest.mark.parametrize(
    ("suffix", "path"),
    [
        (RECORDED_ISSUES, "/api/v4/projects/15578026/issues"),
        (RECORDED_LABELS, "/api/v4/projects/15578026/labels"),
        (RECORDED_MILESTONES, "/api/v4/projects/15578026/milestones"),
    ],
)
def test_recorded_gitlab_com_bodies_pass(contract: GitLabContract, suffix: str, path: str) -> None:
    assert _response(contract, path, recorded_body(suffix)) == []


def test_recorded_notes_pass(contract: GitLabContract) -> None:
    notes = [n for d in recorded_body(RECORDED_DISCUSSIONS) for n in d["notes"]]
    assert _response(contract, "/api/v4/projects/1/issues/2/notes", notes) == []


@pytest.mark.parametrize(
    ("path", "mutate", "expected"),
    [
        ("/issues", lambda i: i.pop("iid"), "'iid' is a required property"),
        ("/issues", lambda i: i.update(labels="bug"), "labels"),
        ("/issues", lambda i: i["author"].pop("username"), "author"),
        ("/issues", lambda i: i["milestone"].update(colour="red"), "colour"),
        ("/issues", lambda i: i.update(upvotes="1"), "upvotes"),
        ("/issues", lambda i: i.update(has_tasks="yes"), "has_tasks: 'yes' is not boolean"),
        ("/labels", lambda lab: lab.update(id="12"), "is not of type 'integer'"),
        ("/milestones", lambda m: m.pop("expired"), "'expired' is a required property"),
        ("/issues/2/notes", lambda n: n.update(system="no"), "system: 'no' is not boolean"),
        ("/issues/2/notes", lambda n: n.update(noteable_type="Thing"), "noteable_type"),
    ],
)
def test_broken_bodies_fail(
    contract: GitLabContract, path: str, mutate: Any, expected: str
) -> None:
    source = {
        "/issues": RECORDED_ISSUES,
        "/labels": RECORDED_LABELS,
        "/milestones": RECORDED_MILESTONES,
    }.get(path)
    if source is None:
        items = [copy.deepcopy(recorded_body(RECORDED_DISCUSSIONS)[0]["notes"][0])]
    else:
        items = copy.deepcopy(recorded_body(source))
    mutate(items[0])
    problems = _response(contract, "/api/v4/projects/1" + path, items)
    assert any(expected in p for p in problems), problems


def test_errors_must_be_gitlab_shaped(contract: GitLabContract) -> None:
    ok = contract.check_response("GET", P, 404, b'{"message":"404 Project Not Found"}', JSON)
    assert ok == []
    bad = contract.check_response("GET", P, 404, b'{"detail":"nope"}', JSON)
    assert bad and "'message' or an 'error'" in bad[0]
    html = contract.check_response("GET", P, 502, b"<html></html>", "text/html")
    assert html and "expected application/json" in html[0]


def test_a_202_is_only_the_answer_to_a_note_of_quick_actions(contract: GitLabContract) -> None:
    notes = P + "/issues/1/notes"
    answer = {"commands_changes": {"state_event": "close"}, "summary": ["Closed this issue."]}
    body = json.dumps(answer).encode()
    assert contract.check_response("POST", notes, 202, body, JSON) == []
    note_like = json.dumps({"id": 1, "body": "x"}).encode()
    assert contract.check_response("POST", notes, 202, note_like, JSON)
    bad_summary = json.dumps({"commands_changes": {}, "summary": "Closed"}).encode()
    assert contract.check_response("POST", notes, 202, bad_summary, JSON)
    assert contract.check_response("POST", P + "/issues", 202, body, JSON)


def test_requests_are_held_to_the_gitbeaker_options(contract: GitLabContract) -> None:
    def request(method: str, path: str, query: str = "", body: Any = None) -> list[str]:
        raw = json.dumps(body).encode() if body is not None else b""
        return contract.check_request(method, path, query, raw, JSON if raw else None)

    assert request("GET", P + "/issues", "state=opened&labels=bug&per_page=100&page=2") == []
    assert request("GET", P + "/issues", "assignee_id=None&milestone=None") == []
    assert request("GET", P + "/issues", "pagination=keyset&order_by=id&sort=asc") == []
    assert request("POST", P + "/issues", body={"title": "t", "assignee_ids": [3]}) == []
    assert request("PUT", P + "/issues/4", body={"state_event": "close", "add_labels": "a"}) == []
    assert request("PUT", P + "/labels/7", body={"new_name": "docs", "color": "#fff"}) == []
    assert request("PUT", "/api/v4/groups/3/milestones/9", body={"state_event": "close"}) == []
    unknown = request("GET", P + "/issues", "colour=red")
    assert unknown == [f"GET {P}/issues: query parameter 'colour' is not declared"]
    typed = request("GET", P + "/issues", "author_id=bob")
    assert typed and "'bob' is not number" in typed[0]
    wrong_body = request("PUT", P + "/issues/4", body={"assignee_ids": "3", "stat": "x"})
    assert any("assignee_ids" in p for p in wrong_body)
    assert any("'stat' is not declared" in p for p in wrong_body)
    assert request("POST", P + "/issues/4/notes", body={"text": "hi"})
    assert request("POST", P + "/milestones", body={"title": "v", "state_event": "close"})
    raw_slash = request("GET", "/api/v4/projects/group/sub/repo/issues")
    assert raw_slash and "no GitLab endpoint" in raw_slash[0]


def test_endpoints_are_classified_on_the_raw_path() -> None:
    assert classify("GET", P + "/issues/12/notes/3") == "note"
    assert classify("PUT", "/api/v4/groups/group%2Fsub/milestones/3") == "milestone_edit"
    assert classify("PATCH", P + "/issues/12") is None


def _same_shape(fake: Any, real: Any, where: str) -> list[str]:
    """Same keys; same types where both are set (``null`` stands for an unset value)."""
    if isinstance(real, dict) and isinstance(fake, dict):
        problems = []
        if set(fake) != set(real):
            problems.append(
                f"{where}: keys differ: fake adds {sorted(set(fake) - set(real))}, "
                f"lacks {sorted(set(real) - set(fake))}"
            )
        for key in set(fake) & set(real):
            problems += _same_shape(fake[key], real[key], f"{where}.{key}")
        return problems
    if fake is None or real is None:
        return []
    if isinstance(real, list) and isinstance(fake, list):
        if real and fake:
            return _same_shape(fake[0], real[0], f"{where}[0]")
        return []
    if type(fake) is not type(real):
        return [f"{where}: fake sends {type(fake).__name__}, gitlab.com {type(real).__name__}"]
    return []


def test_fake_objects_have_the_recorded_shapes(fake_gitlab: RunningGitLab) -> None:
    fake = fake_gitlab.fake
    bob = fake.add_member("bob", 30)
    milestone = fake.add_milestone("1.0.0")
    with httpx.Client(base_url=fake_gitlab.api_url, headers={"PRIVATE-TOKEN": OWNER_TOKEN}) as api:
        base = "/projects/group%2Fsub%2Frepo"
        api.post(
            f"{base}/issues",
            json={
                "title": "t",
                "labels": "bug",
                "assignee_ids": [bob.id],
                "milestone_id": milestone.id,
                "due_date": "2026-12-24",
            },
        )
        api.put(f"{base}/issues/1", json={"state_event": "close", "title": "t2"})
        api.post(f"{base}/issues/1/notes", json={"body": "hi"})
        issue = api.get(f"{base}/issues/1").json()
        labels = api.get(f"{base}/labels").json()
        milestones = api.get(f"{base}/milestones").json()
        notes = api.get(f"{base}/issues/1/notes").json()
    real_issue = recorded_body(RECORDED_ISSUES)[0]
    real_note = recorded_body(RECORDED_DISCUSSIONS)[0]["notes"][0]
    problems = _same_shape(issue, real_issue, "issue")
    problems += _same_shape(issue["assignees"][0], real_issue["author"], "assignee")
    problems += _same_shape(labels[0], recorded_body(RECORDED_LABELS)[0], "label")
    problems += _same_shape(milestones[0], recorded_body(RECORDED_MILESTONES)[0], "milestone")
    problems += [p for n in notes for p in _same_shape(n, real_note, "note")]
    assert problems == []
    # And the values that say what the issue is.
    assert issue["closed_by"]["username"] == "owner" and issue["due_date"] == "2026-12-24"
    assert {n["system"] for n in notes} == {True, False}


def test_the_shape_comparison_can_fail() -> None:
    real = recorded_body(RECORDED_ISSUES)[0]
    drifted = copy.deepcopy(real)
    drifted.pop("severity")
    drifted["iid"] = "1"
    problems = _same_shape(drifted, real, "issue")
    assert any("lacks ['severity']" in p for p in problems)
    assert any("issue.iid: fake sends str" in p for p in problems)


def test_current_user_has_every_field_of_the_docs_example(fake_gitlab: RunningGitLab) -> None:
    """The docs example of ``GET /user`` is old (GitLab 13.x): the fake may add newer fields
    (gitbeaker's ``UserSchema``), and leaves out only ``bio_html``, which current gitbeaker
    (43.8) no longer declares; every other documented field is there with the same type."""
    from tests.fakes.gitlab_contract import gitlab_contracts_dir

    example = json.loads(
        (gitlab_contracts_dir() / "examples" / "user.get.json").read_text(encoding="utf-8")
    )["response"]
    with httpx.Client(base_url=fake_gitlab.api_url, headers={"PRIVATE-TOKEN": OWNER_TOKEN}) as api:
        me = api.get("/user").json()
    from tests.fakes.gitbeaker_types import load

    missing = set(example) - set(me)
    assert missing == {"bio_html"} and not missing & set(load().members("UserSchema"))
    kept = {k: v for k, v in example.items() if k in me}
    assert [p for p in _same_shape({k: me[k] for k in kept}, kept, "user") if "keys" not in p] == []


def test_resource_state_events_are_paged_as_gitlab_com_pages_them(
    fake_gitlab: RunningGitLab,
) -> None:
    """The one recorded resource-events answer (gitlab.com, an issue closed before GitLab
    recorded state events: an empty list) against the fake's for an issue without any: the
    same paging headers, a weak ETag, and ``Link`` URLs that carry ``eventable_id`` and ``id``."""
    from tests.fakes.gitlab_state import gitlab_recorded_dir
    from tests.fakes.recorded import find_recorded

    real = find_recorded(
        "/issues/2/resource_state_events?page=1&per_page=100", gitlab_recorded_dir()
    )
    real_headers = {k.lower(): v for k, v in real.headers}
    project = fake_gitlab.fake.project
    with httpx.Client(base_url=fake_gitlab.api_url, headers={"PRIVATE-TOKEN": OWNER_TOKEN}) as api:
        api.post(f"/projects/{project.id}/issues", json={"title": "quiet"})
        answer = api.get(
            f"/projects/{project.id}/issues/1/resource_state_events",
            params={"page": 1, "per_page": 100},
        )
    assert answer.json() == json.loads(real.body) == []
    for name in ("x-page", "x-per-page", "x-next-page", "x-prev-page", "x-total", "x-total-pages"):
        assert answer.headers[name] == real_headers[name], name
    assert answer.headers["etag"].startswith('W/"') and real_headers["etag"].startswith('W/"')
    ours = answer.headers["link"].replace(fake_gitlab.base_url, "https://gitlab.com")
    ours = ours.replace(f"projects/{project.id}/", "projects/15578026/")
    ours = ours.replace(f"id={project.id}&", "id=15578026&").replace("issues/1/", "issues/2/")
    assert ours == real_headers["link"].replace("eventable_id=2", "eventable_id=1")
