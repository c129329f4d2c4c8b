"""Tokens never appear in debug logs or error messages, whatever path they take."""

from __future__ import annotations

import logging

import httpx
import pytest

from issue_core.backends._http import HttpClient, Redactor, RetryPolicy

TOKEN = "gta_5f2b9c1e0d7a4b3c"


def client_for(handler):
    return HttpClient(
        "https://gitea.example.com/api/v1",
        token=TOKEN,
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        retry=RetryPolicy(attempts=2, rand=lambda: 0.0),
    )


def test_debug_log_has_method_url_status_and_no_token(caplog):
    caplog.set_level(logging.DEBUG, logger="issue_core.http")
    client = client_for(lambda r: httpx.Response(200, json=[]))
    client.get("/repos/o/r/issues", params={"state": "open", "access_token": TOKEN})
    text = caplog.text
    assert "GET https://gitea.example.com/api/v1/repos/o/r/issues" in text
    assert "-> 200" in text and " ms" in text
    assert TOKEN not in text
    assert "access_token=***" in text


def test_server_echoing_the_token_is_masked_in_errors():
    def handler(request):
        return httpx.Response(401, json={"message": f"bad token {TOKEN}"})

    with pytest.raises(Exception) as caught:
        client_for(handler).get("/user")
    assert TOKEN not in str(caught.value) and TOKEN not in caught.value.one_line()
    assert "***" in caught.value.message


def test_transport_errors_mentioning_the_token_are_masked(caplog):
    caplog.set_level(logging.DEBUG, logger="issue_core.http")

    def handler(request):
        raise httpx.ConnectError(f"proxy refused Authorization: token {TOKEN}")

    with pytest.raises(Exception) as caught:
        client_for(handler).get("/user")
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text


def test_html_snippets_are_masked():
    def handler(request):
        return httpx.Response(
            200, text=f"<html>token={TOKEN}</html>", headers={"content-type": "text/html"}
        )

    with pytest.raises(Exception) as caught:
        client_for(handler).get("/x")
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: token {TOKEN}",
        f"Authorization: Bearer {TOKEN}",
        f"PRIVATE-TOKEN: {TOKEN}",
        f"https://h/api?private_token={TOKEN}&page=2",
        f"https://user:{TOKEN}@h/api",
    ],
)
def test_credential_shapes_are_masked_even_for_unknown_values(text):
    assert TOKEN not in Redactor().text(text)


def test_headers_are_masked():
    masked = Redactor([TOKEN]).headers({"Authorization": f"token {TOKEN}", "Accept": "json"})
    assert masked == {"Authorization": "***", "Accept": "json"}
