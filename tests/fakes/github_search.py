"""The fake GitHub's issue search, ``GET /search/issues`` (served when ``search_api`` is on;
without it the answer is a 404, as a GitHub Enterprise Server without its search index gives).

GitHub semantics kept (docs: "Searching issues and pull requests", the OpenAPI description):
``q`` is words, ``"quoted phrases"`` and qualifiers; ``repo:OWNER/NAME`` (a repository the
caller cannot see is a 422), ``is:issue``/``is:pr``, ``is:open``/``is:closed`` (and
``state:``), ``in:title``/``in:body``/``in:comments`` (default: all three); every word and
phrase must appear, case-insensitively; a qualifier the fake does not know is kept as a word.
The answer is ``total_count``, ``incomplete_results``, ``search_type`` and ``items`` (issue
shapes with a ``score``), paged like any list (``per_page``, ``page``, ``Link``).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.github import Answer, GitHubError, Request, not_found
from tests.fakes.github_state import Issue, Repo

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_FIELDS = ("title", "body", "comments")


def _parse(q: str) -> tuple[dict[str, list[str]], list[str]]:
    qualifiers: dict[str, list[str]] = {}
    words: list[str] = []
    for phrase, bare in _TOKEN.findall(q):
        if phrase:
            words.append(phrase.lower())
            continue
        key, colon, value = bare.partition(":")
        if colon and key.lower() in ("repo", "is", "in", "state") and value:
            qualifiers.setdefault(key.lower(), []).append(value.lower())
        else:
            words.append(bare.lower())
    return qualifiers, words


def _repos(request: Request, names: list[str]) -> list[Repo]:
    state = request.fake.state
    if not names:
        return [r for r in state.repos.values() if request._may_see(r)]
    found = []
    for name in names:
        owner, _, repo_name = name.partition("/")
        repo = state.repo(owner, repo_name)
        if repo is None or not request._may_see(repo):
            raise GitHubError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "message": "The listed users and repositories cannot be searched "
                        "either because the resources do not exist or you do not have "
                        "permission to view them.",
                        "resource": "Search",
                        "field": "q",
                        "code": "invalid",
                    }
                ],
            )
        found.append(repo)
    return found


def _text(repo: Repo, issue: Issue, where: list[str]) -> str:
    parts = []
    if "title" in where:
        parts.append(issue.title)
    if "body" in where:
        parts.append(issue.body or "")
    if "comments" in where:
        parts += [c.body for c in repo.comments.values() if c.issue_number == issue.number]
    return "\n".join(parts).lower()


def search_issues(request: Request) -> Answer:
    if not request.fake.search_api:
        raise not_found()
    q = request.arg("q")
    if not q.strip():
        raise GitHubError(
            422,
            "Validation Failed",
            errors=[{"resource": "Search", "field": "q", "code": "missing"}],
        )
    qualifiers, words = _parse(q)
    kinds = set(qualifiers.get("is", []))
    states = {k for k in kinds if k in ("open", "closed")} | set(qualifiers.get("state", []))
    where = [f for f in qualifiers.get("in", []) if f in _FIELDS] or list(_FIELDS)
    found: list[tuple[Repo, Issue]] = []
    for repo in _repos(request, qualifiers.get("repo", [])):
        for issue in repo.issues.values():
            if ("issue" in kinds and issue.is_pull) or ("pr" in kinds and not issue.is_pull):
                continue
            if states and issue.state not in states:
                continue
            text = _text(repo, issue, where)
            if all(word in text for word in words):
                found.append((repo, issue))
    found.sort(key=lambda pair: (pair[1].updated, pair[1].number), reverse=True)

    def render(pair: tuple[Repo, Issue]) -> dict[str, Any]:
        return {**request.shapes.issue(*pair), "score": 1.0}

    answer = request.page(found, render)
    answer.body = {
        "total_count": len(found),
        "incomplete_results": False,
        "search_type": "lexical",
        "items": answer.body,
    }
    return answer
