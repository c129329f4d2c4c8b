"""No token ever reaches a tool result: the forge's token from the environment, a wrong one
from the environment, or one written by hand into the configuration file (which issue-core
never reads as a token), through successes and every kind of failure the fake Gitea can be
made to give (refused token, server errors, an HTML page, broken JSON, a dropped connection,
rate limiting, a forge that is down). Every answer's text, structured content and the
server's stderr are searched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from issue_core.core.models import ISSUE_FIELDS
from tests.fakes.fixtures import TOKEN_ENV, WRITE_TOKEN, RunningGitea
from tests.mcp.conftest import Mcp, configure_gitea, drive

IN_FILE = "ghp_secretwrittenintheconfigfile0123456789"
WRONG = "not-the-right-token-but-secret-all-the-same-42"


def test_no_token_in_any_result_or_error(project: Path, fake_gitea: RunningGitea, tmp_path,
                                         monkeypatch, capfd, recwarn):  # fmt: skip
    configure_gitea(tmp_path / "config", fake_gitea, max_retries=0, token=IN_FILE)
    faults = fake_gitea.fake.faults
    answers: list[Any] = []

    def recorded(mcp: Mcp) -> Any:
        async def call(tool: str, **args: Any) -> None:
            result = await mcp.result(tool, args)
            answers.append(result.model_dump(mode="json"))

        return call

    async def working(mcp: Mcp) -> None:
        call = recorded(mcp)
        await call("issue_write", method="create", title="one", body="a body")
        await call("issues_list", fields=["number", "title", "url"])
        await call("issue_read", number=1, fields=list(ISSUE_FIELDS))
        await call("catalog_read", method="whoami")
        await call("issue_read", number=99)  # not found
        await call("issue_write", method="edit", number=1, colour="red")  # bad argument
        for fault in ("server_errors", "html_page", "malformed_json", "drop", "rate_limit"):
            getattr(faults, fault)(1, **({"status": 500} if fault == "server_errors" else {}))
            await call("issues_list")

    async def refused_then_down(mcp: Mcp) -> None:
        call = recorded(mcp)
        await call("issues_list")
        await call("issue_write", method="comment", number=1, body="x")
        fake_gitea.stop()
        await call("issue_read", number=1)

    drive(working, backend="work", agent="bot-1")
    monkeypatch.setenv(TOKEN_ENV, WRONG)
    drive(refused_then_down, backend="work", agent="bot-1")

    errors = [a for a in answers if a["is_error"]]
    assert len(errors) >= 9, errors  # the failures did happen, and came back as tool errors
    codes = {a["structured_content"]["error"]["exit_code"] for a in errors}
    assert {2, 3, 5, 6} <= codes, codes
    warned = [str(w.message) for w in recwarn]
    assert any("'backends.work.token' is ignored" in text for text in warned)
    seen = json.dumps(answers) + "".join(capfd.readouterr()) + "".join(warned)
    assert "a body" in seen  # the answers are all there
    for secret in (WRITE_TOKEN, WRONG, IN_FILE):
        assert secret not in seen
