"""Client text never reaches the server's log or its JSON answers as raw control characters.

The log is read by people on terminals (`tail -f`, `journalctl`): an ESC, C1 or bidi override
sent by a client must arrive there escaped, whatever path it took (URL, headers, body, an error
message that quotes it, a third-party library's warning).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from tests.server.conftest import API_KEY, Project
from tests.server.test_hostile_clients import exchange, stop
from tests.server.test_serve_process import start_server

HOSTILE = "\x1b]52;c;aGVsbG8=\x07\x1b[2J\x9b31m\u202eevil\u2066\x00\r\nforged"
ONE_LINE = HOSTILE.replace("\x00\r\n", " ")  # a title may hold it (kept as data)


def assert_plain_ascii(data: bytes) -> None:
    """Printable ASCII and line ends only: nothing a terminal would obey."""
    bad = sorted({byte for byte in data if not (32 <= byte < 127 or byte in b"\r\n")})
    assert not bad, f"raw bytes {bad} in {data[:300]!r}"


def request(method: str, path: str, body: bytes = b"", *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: x", f"Authorization: Bearer {API_KEY}"]
    lines += [*headers, f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def test_hostile_text_is_escaped_in_the_log_and_in_answers(
    project: Project, tmp_path: Path
) -> None:
    server = start_server(project, tmp_path / "server.log", access_log=True)
    quoted = "".join(f"%{byte:02x}" for byte in HOSTILE.encode())
    text = json.dumps(HOSTILE)
    try:
        answers = [
            exchange(server, request("GET", f"/issues/ingest/{quoted}")),
            exchange(server, request("GET", f"/nowhere/{quoted}")),
            exchange(server, request("POST", "/issues/", f'{{"title": {text}'.encode())),
            exchange(server, request("POST", "/issues/", HOSTILE.encode() + b"\xff")),
            exchange(
                server,
                request(
                    "POST", "/issues/", f'{{"title": "t", "metadata": {{{text}: 1}}}}'.encode()
                ),
            ),
            exchange(
                server,
                request("POST", "/issues/", f'{{"title": "t", "assignee": {text}}}'.encode()),
            ),
            exchange(server, request("POST", "/issues/", json.dumps({"title": ONE_LINE}).encode())),
            exchange(
                server,
                request("POST", "/issues/", b'{"title": "t"}', "X-Request-ID: id\x9b31m\xae"),
            ),
            exchange(server, request("GET", "/healthz", b"", "X-Hostile: \x9b31m\xe2\x80\xae")),
        ]
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(f"GET /{quoted} HTTP/1.1\r\n{HOSTILE}\r\n\r\n".encode())
    finally:
        stop(server)
    statuses = [answer[9:12] for answer in answers]
    assert statuses == [b"404", b"404", b"400", b"400", b"422", b"422", b"201", b"201", b"200"]
    for answer in answers:
        assert_plain_ascii(answer)
    log = server.log.read_bytes()
    assert_plain_ascii(log)
    # The hostile text is in the log, escaped (JSON), not dropped.
    assert b"\\u001b]52" in log and b"\\u202e" in log


def test_third_party_warnings_are_json_lines_too(tmp_path: Path) -> None:
    # A library logging through the root logger (asyncio's "Task exception was never
    # retrieved", say) would otherwise be printed raw by logging's last-resort handler.
    code = (
        "import logging; from issue_core.server.logs import configure_logging;"
        f" configure_logging('info'); logging.getLogger('asyncio').error({HOSTILE!r});"
        f" logging.getLogger('some.library').warning({HOSTILE!r})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=True
    )
    assert_plain_ascii(result.stderr)
    lines = [json.loads(line) for line in result.stderr.decode().splitlines()]
    assert [line["logger"] for line in lines] == ["asyncio", "some.library"]
    assert lines[0]["msg"] == HOSTILE
