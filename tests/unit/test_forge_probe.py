"""The forge probe against what gitlab.com really answered (its recorded ``/api/v4/version``):
the Gitea question first, then GitLab's, never a token, redirects not followed. (The live
probes against the fake Gitea are in tests/cli/test_config_detect.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from issue_core.core.errors import NotFound
from issue_core.service.forge_probe import probe
from tests.fakes.recorded import parse_recorded_file

RECORDED = Path(__file__).resolve().parents[1] / "contracts" / "gitlab" / "recorded"
GITLAB_VERSION = parse_recorded_file(RECORDED / "GET_%2Fapi%2Fv4%2Fversion")
GITLAB_404 = httpx.Response(404, json={"error": "404 Not Found"})  # GitLab's unknown API route


def _replaying(answers: dict[str, httpx.Response], asked: list[httpx.Request]):
    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return answers.get(request.url.path, GITLAB_404)

    return httpx.MockTransport(handle)


def _recorded(exchange) -> httpx.Response:
    headers = [(k, v) for k, v in exchange.headers if k.lower() != "content-encoding"]
    return httpx.Response(200, headers=headers, content=exchange.body)


def test_gitlab_is_recognised_from_its_recorded_version_answer(monkeypatch):
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-never-sent-anywhere0")
    asked: list[httpx.Request] = []
    transport = _replaying({"/api/v4/version": _recorded(GITLAB_VERSION)}, asked)
    found = probe("https://gitlab.example.com/", transport=transport)
    assert (found.type, found.version) == ("gitlab", "19.0.0-pre")
    assert [r.url.path for r in asked] == ["/api/v1/version", "/api/v4/version"]
    assert not any("authorization" in r.headers or "private-token" in r.headers for r in asked)


def test_a_gitlab_that_wants_a_token_for_its_version_is_still_gitlab():
    asked: list[httpx.Request] = []
    answers = {"/api/v4/version": httpx.Response(401, json={"message": "401 Unauthorized"})}
    found = probe("https://gitlab.example.com", transport=_replaying(answers, asked))
    assert (found.type, found.version) == ("gitlab", None)


def test_a_redirect_is_not_followed_and_is_no_forge():
    asked: list[httpx.Request] = []
    elsewhere = httpx.Response(302, headers={"location": "https://login.example.com/"})
    answers = dict.fromkeys(("/api/v1/version", "/api/v4/version", "/api/v3/meta"), elsewhere)
    with pytest.raises(NotFound, match="not as Gitea"):
        probe("https://sso.example.com", transport=_replaying(answers, asked))
    assert {r.url.host for r in asked} == {"sso.example.com"} and len(asked) == 3
