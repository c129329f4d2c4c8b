"""The fake GitHub answers the recorded requests as api.github.com did, value by value.

Seeded with the recorded ``go-gitea/test_repo`` (``tests.fakes.github_seed``), the fake is asked
each recorded ``GET`` (they went to an Enterprise-style ``/api/v3`` base) and its body and
``Link`` header are compared with the recording, live URLs pointed at the fake. Left out of the
comparison, because the fake cannot know them: avatar URLs (a separate host), reaction counts,
and ``author_association`` (organisation membership is not modelled).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.contracts import contracts_dir
from tests.fakes.github import OWNER_TOKEN
from tests.fakes.github_contract import GitHubContract
from tests.fakes.github_fixtures import RunningGitHub, start_fake_github
from tests.fakes.github_seed import (
    RECORDED_COMMENTS,
    RECORDED_ISSUES,
    RECORDED_LABELS,
    RECORDED_MILESTONES,
    seeded_test_repo,
)
from tests.fakes.github_shapes import LIVE_API, LIVE_WEB, github_recorded_dir
from tests.fakes.recorded import find_recorded

REPO = "/repos/alice/tracker"
UNKNOWABLE = frozenset({"avatar_url", "reactions", "author_association"})


@pytest.fixture
def seeded(github_contract: GitHubContract) -> Iterator[RunningGitHub]:
    running = start_fake_github(contract=github_contract, fake=seeded_test_repo())
    try:
        yield running
    finally:
        running.stop()
    running.recorder.assert_clean()


def _live_to_fake(text: str, running: RunningGitHub) -> str:
    return text.replace(LIVE_API, running.api_url).replace(LIVE_WEB, running.base_url)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in UNKNOWABLE}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


@pytest.mark.parametrize(
    "suffix", [RECORDED_ISSUES, RECORDED_COMMENTS, RECORDED_LABELS, RECORDED_MILESTONES]
)
def test_answers_like_api_github_com(seeded: RunningGitHub, suffix: str) -> None:
    recorded = find_recorded(suffix, github_recorded_dir())
    if suffix == RECORDED_COMMENTS:
        # go-github sends sort/direction to the per-issue comment list, which declares neither
        # (GitHub ignores them): the checker is right to flag them, so say they are expected.
        seeded.recorder.expect_violation("(issues/list-comments): query parameter")
    answer = httpx.get(
        seeded.base_url + recorded.target,
        headers={"Authorization": f"token {OWNER_TOKEN}"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    expected = json.loads(_live_to_fake(recorded.body.decode(), seeded))
    assert _strip(answer.json()) == _strip(expected)
    link = recorded.header("Link")
    assert answer.headers.get("link") == (_live_to_fake(link, seeded) if link else None)


def test_the_value_comparison_can_fail(seeded: RunningGitHub) -> None:
    seeded.fake.repo.issues[1].title = "drifted"
    seeded.fake.repo.issues[2].state_reason = "not_planned"
    recorded = find_recorded(RECORDED_ISSUES, github_recorded_dir())
    answer = httpx.get(
        seeded.base_url + recorded.target, headers={"Authorization": f"token {OWNER_TOKEN}"}
    )
    expected = json.loads(_live_to_fake(recorded.body.decode(), seeded))
    assert _strip(answer.json()) != _strip(expected)
    assert answer.json()[0]["title"] == "drifted"


# --------------------------------------------------------------------------- PyGithub's replays


def _replayed(name: str) -> list[tuple[str, str, Any, int, Any]]:
    """(method, path, request body, status, response body) of a PyGithub replay file."""
    lines = (contracts_dir() / "github" / "replay" / name).read_text().split("\n")
    exchanges = []
    for start in range(0, len(lines) - 10, 11):
        block = [line.strip() for line in lines[start : start + 11]]
        request = None if block[6] == "None" else json.loads(block[6])
        response = json.loads(block[9]) if block[9] else None
        exchanges.append((block[1], block[4], request, int(block[7]), response))
    return exchanges


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [item.get("name") or item["login"] for item in items]


@pytest.mark.parametrize(
    ("replay", "key"),
    [
        ("Issue.testAddAndRemoveLabels.txt", "labels"),
        ("Issue.testAddAndRemoveAssignees.txt", "assignees"),
    ],
)
def test_issue_writes_change_what_github_changed(
    fake_github: RunningGitHub, replay: str, key: str
) -> None:
    """PyGithub's recorded conversation with api.github.com, played against the fake: the
    labels (GitHub lists them by name) and assignees after each step are GitHub's."""
    exchanges = [e for e in _replayed(replay) if "/issues/28" in e[1]]
    fake = fake_github.fake
    for login in ("jacquev6", "jayfk", "jzelinskie"):
        fake.add_collaborator(login)
    first = exchanges[0][4]
    start = first if key == "labels" else [{"login": "jacquev6"}]
    fake.add_issue("28", labels=[] if key != "labels" else _names(start))
    if key == "assignees":
        fake.issue(1).assignees = ["jacquev6"]
    headers = {"Authorization": f"token {OWNER_TOKEN}"}
    with httpx.Client(base_url=fake_github.api_url, headers=headers, timeout=5) as api:
        for method, path, request, status, response in exchanges:
            target = path.replace("/repos/PyGithub/PyGithub/issues/28", f"{REPO}/issues/1")
            answer = api.request(method, target, json=request)
            assert answer.status_code == status, (method, path, answer.text)
            got = answer.json()
            assert _names(got[key] if isinstance(got, dict) else got) == _names(
                response[key] if isinstance(response, dict) else response
            ), (method, path)
