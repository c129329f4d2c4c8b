"""Hostile clients against the real `issue serve` process: sizes, timeouts, connection cap, keys."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from issue_core.cli.main import cli
from issue_core.service.ids import new_id
from tests.server.conftest import API_KEY, OTHER_KEY, Project, error_of, issues_in, task, wait_for
from tests.server.test_serve_process import ServerProcess, start_server


def exchange(server: ServerProcess, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a fresh connection; everything answered until the server closes it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            chunks.append(b"<not closed>")
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def stop(server: ServerProcess) -> None:
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(30)


def test_oversized_request_lines_and_headers_are_refused(project: Project, tmp_path: Path) -> None:
    server = start_server(project, tmp_path / "server.log", "--header-limit", "8k")
    try:
        long_url = b"GET /healthz?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert exchange(server, long_url).startswith(b"HTTP/1.1 414 ")
        big_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n"
        assert exchange(server, big_header).startswith(b"HTTP/1.1 431 ")
        many = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(200))
        answer = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431 ")
        # Under the limit, the same server answers as usual.
        fine = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ok: " + b"c" * 4000 + b"\r\n"
        assert exchange(server, fine + b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 200 ")
    finally:
        stop(server)


def test_a_64_mib_header_is_cut_off_at_the_default_64_kib_while_others_are_served(
    project: Project, tmp_path: Path
) -> None:
    """With the defaults, a header streamed without end is answered 431 once the head passes
    64 KiB and the connection is closed: the client cannot push its 64 MiB, and meanwhile the
    server keeps answering everyone else."""
    server = start_server(project, tmp_path / "server.log")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as attacker:
            attacker.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
            chunk, sent, refused = b"b" * 65536, 0, False
            try:
                while sent < 64 * 1024 * 1024:
                    attacker.sendall(chunk)
                    sent += len(chunk)
                    if sent == 1024 * 1024:  # well past the limit: others are still served
                        ok = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        assert exchange(server, ok).startswith(b"HTTP/1.1 200 ")
            except (BrokenPipeError, ConnectionResetError):
                refused = True
            assert refused, "the server read a 64 MiB header to its end"
            try:
                answer = read_until_closed(attacker)
            except OSError:
                answer = b""  # a reset may have discarded the 431 on its way
            assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        bigger_than_default = b"X-Big: " + b"b" * (65 * 1024) + b"\r\n"
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        assert exchange(server, head + bigger_than_default + b"\r\n").startswith(b"HTTP/1.1 431 ")
        under = b"X-Ok: " + b"c" * (60 * 1024) + b"\r\nConnection: close\r\n\r\n"
        assert exchange(server, head + under).startswith(b"HTTP/1.1 200 ")
    finally:
        stop(server)


def test_slow_headers_short_bodies_and_idle_connections_are_closed(
    project: Project, tmp_path: Path
) -> None:
    server = start_server(
        project,
        tmp_path / "server.log",
        *("--header-timeout", "0.5", "--body-timeout", "0.5", "--keep-alive", "1"),
        access_log=True,
    )
    try:
        # Slowloris: headers never finish.
        assert exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ").startswith(
            b"HTTP/1.1 408 "
        )
        # Connected, nothing sent.
        assert exchange(server, b"").startswith(b"HTTP/1.1 408 ")
        # A body shorter than its Content-Length.
        head = (
            f"POST /issues/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        ).encode()
        assert exchange(server, head + b'{"title": "t') == b""
        # An idle keep-alive connection is closed after its answer.
        answer = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 ") and b"<not closed>" not in answer

        def client_closed_logged() -> bool:
            for line in server.log.read_text().splitlines():
                if line.startswith("{") and '"path":"/issues/"' in line:
                    return json.loads(line)["status"] == 499
            return False

        stop(server)
        assert client_closed_logged(), server.log.read_text()
    finally:
        if server.process.poll() is None:
            stop(server)


def test_connections_above_the_cap_are_refused_with_503(project: Project, tmp_path: Path) -> None:
    server = start_server(project, tmp_path / "server.log", "--max-connections", "3")
    idle = []
    try:
        for _ in range(3):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))

        # The server takes the idle ones in before the next: retry until it has (bounded).
        def refused() -> bool:
            return exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
                b"HTTP/1.1 503 "
            )

        wait_for(refused, timeout=10)
        for sock in idle:
            sock.close()
        idle.clear()

        def served() -> bool:
            request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            return exchange(server, request).startswith(b"HTTP/1.1 200 ")

        wait_for(served, timeout=10)
    finally:
        for sock in idle:
            sock.close()
        stop(server)


def test_sighup_stops_gracefully_like_sigterm(project: Project, tmp_path: Path) -> None:
    server = start_server(project, tmp_path / "server.log", access_log=True)
    server.process.send_signal(signal.SIGHUP)
    assert server.process.wait(30) == -signal.SIGTERM
    assert '"msg":"listening"' in server.log.read_text()


@pytest.mark.parametrize(
    "headers",
    [
        [("Authorization", f"Bearer {API_KEY}"), ("X-API-Key", OTHER_KEY)],
        [("Authorization", f"Bearer {API_KEY}"), ("Authorization", f"Bearer {API_KEY}")],
        [("X-API-Key", API_KEY), ("X-API-Key", "not-a-configured-key-at-all")],
    ],
)
def test_conflicting_or_repeated_key_headers_are_refused(
    app_factory: object, headers: list[tuple[str, str]]
) -> None:
    client = app_factory()  # type: ignore[operator]
    response = client.post("/issues/", json=task(), headers=headers)
    assert response.status_code == 401
    assert "conflicting" in error_of(response)["message"]


def test_agreeing_key_headers_are_accepted(app_factory: object) -> None:
    client = app_factory()  # type: ignore[operator]
    headers = [("Authorization", f"Bearer {API_KEY}"), ("X-API-Key", API_KEY)]
    assert client.post("/issues/", json=task(), headers=headers).status_code == 201


def test_no_auth_while_a_key_is_configured_is_refused(project: Project) -> None:
    result = CliRunner().invoke(cli, ["serve", "--no-auth"])
    assert result.exit_code == 2
    assert "--no-auth while ISSUE_CORE_API_KEY is set" in result.output


def test_non_ascii_key_is_refused_at_start(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISSUE_CORE_API_KEY", f"{API_KEY}\u00a0")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "non-ASCII" in result.output and API_KEY not in result.output


def test_ids_are_unguessable() -> None:
    ids = [new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000 and all(len(i) == 32 for i in ids)
    assert all(int(i, 16) >= 0 for i in ids)
    # After the millisecond prefix, 80 random bits: no counter a client could learn from one id
    # and walk (ids made in the same millisecond share only the time).
    random_parts = [i[12:] for i in ids]
    assert len(set(random_parts)) == 1000
    assert len({part[:10] for part in random_parts}) == 1000
    assert len({part[10:] for part in random_parts}) == 1000


def test_ids_are_time_ordered() -> None:
    """Later ids sort after earlier ones (by the millisecond), so the state db's primary-key
    index grows at its end instead of touching a random page per new task."""
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    assert first[:12] < second[:12]
    now_ms = time.time_ns() // 1_000_000
    assert abs(int(second[:12], 16) - now_ms) < 5_000


def post_request(title: str, key: str) -> bytes:
    body = json.dumps(task(title, idempotency_key=key)).encode()
    head = (
        f"POST /issues/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def statuses(answer: bytes) -> list[int]:
    """The status of every response in ``answer``, in order."""
    return [int(part[:3]) for part in answer.split(b"HTTP/1.1 ")[1:]]


GARBAGE = [b"GARBAGE\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"\r\n\x00\x00\x00"]


@pytest.mark.parametrize(
    ("count", "garbage"), [(1, GARBAGE[0]), (1, GARBAGE[1]), (1, GARBAGE[2]), (2, GARBAGE[0])]
)
def test_garbage_after_valid_requests_gets_their_answers_first(
    project: Project, tmp_path: Path, count: int, garbage: bytes
) -> None:
    server = start_server(project, tmp_path / "server.log", access_log=True)
    names = ["first", "second"][:count]
    try:
        # One write: the valid request(s), pipelined, then bytes that are no HTTP request.
        data = b"".join(post_request(name, f"garbage-{name}") for name in names) + garbage
        answer = exchange(server, data)
    finally:
        stop(server)
    titles = sorted(issue["title"] for issue in issues_in(project.store))
    # What was created was answered as created, in order; then the garbage got its 400.
    assert (statuses(answer), titles) == ([201] * count + [400], names), answer
    logged = [
        json.loads(line)["status"]
        for line in server.log.read_text().splitlines()
        if line.startswith("{") and '"path":"/issues/"' in line
    ]
    assert logged == [201] * count


def test_a_malformed_body_framing_creates_nothing(project: Project, tmp_path: Path) -> None:
    server = start_server(project, tmp_path / "server.log")
    try:
        head = (
            f"POST /issues/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        # A first chunk of the body, then a chunk size that is not hex: the request is broken.
        answer = exchange(server, head + b'5\r\n{"tit\r\nZZ\r\nle": "x"}\r\n0\r\n\r\n')
    finally:
        stop(server)
    assert statuses(answer) == [400], answer
    assert issues_in(project.store) == []


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_stop_with_slow_clients_ends_after_the_graceful_timeout_one_line_each(
    project: Project, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    """Slow clients (headers sent, body trickling) are in-flight requests: SIGTERM (and SIGHUP,
    the same graceful stop) lets them finish for ``--graceful-timeout`` only, then cancels each
    with one warning line (never a traceback) and its own access line; the process then ends."""
    server = start_server(
        project,
        tmp_path / "server.log",
        *("--graceful-timeout", "1", "--body-timeout", "60"),
        access_log=True,
    )
    head = (
        f"POST /issues/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    slow: list[socket.socket] = []
    try:
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(head + b'{"title": "t')  # and never the rest
            slow.append(sock)
        # A request on a fresh connection is answered once the server has read the earlier ones.
        ok = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        assert exchange(server, ok).startswith(b"HTTP/1.1 200 ")
        server.process.send_signal(stop_signal)
        # Bounded by the graceful timeout (1 s) plus the drain, not the 60 s body timeout.
        assert server.process.wait(20) == -signal.SIGTERM
        # Each slow client is told, not cut off: a 503 it may retry (the key makes it safe).
        answers = [read_until_closed(sock) for sock in slow]
        assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers), answers
    finally:
        for sock in slow:
            sock.close()
        if server.process.poll() is None:
            stop(server)
    text = server.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    cancelled = [line for line in lines if line["msg"] == "request cancelled at shutdown"]
    assert len(cancelled) == 3, text
    assert len({line["request_id"] for line in cancelled}) == 3
    assert all(line["level"] == "warning" for line in cancelled)
    assert "Traceback" not in text
    # Besides them, only uvicorn's one summary line ("Cancel 3 running task(s) ...").
    errors = [line["msg"] for line in lines if line["level"] in ("error", "critical")]
    assert len(errors) == 1 and errors[0].startswith("Cancel 3 running task"), errors
    access = [line for line in lines if line.get("path") == "/issues/" and "status" in line]
    assert sorted(line["status"] for line in access) == [503, 503, 503], text
    assert issues_in(project.store) == []
