"""Load test of `issue serve`: accepted tasks per second and latency, on the local backend.

Starts a real `issue serve` (uvloop + httptools, one worker) on 127.0.0.1 with a scratch local
store, then drives it from a *separate process* with N concurrent keep-alive connections for a
fixed time: `wrk` (C, with ``bench/ingest_wrk.lua``) when it is on PATH, else a minimal raw
asyncio HTTP/1.1 client (``--client`` picks one; the report names the one used).

Four scenarios, each measured in the same run so they compare (the report gives each as a
ratio to the first, the floor, as well as in absolute figures):

* ``GET /healthz``          framework floor: routing, middleware, JSON answer
* ``POST /_bench/echo``     + auth + TaskSpec validation + traceability metadata, no storage
                            (a bench-only route, enabled by ISSUE_CORE_SERVER_BENCH=1)
* ``POST /issues/``         the real thing: claim in server.db, create in the local store,
                            answer 201 after both commits; with the current TaskSpec
                            (``idempotency_key``, ``source``, labels, priority) ...
* ``POST /issues/``         ... and with activity-core's IssueSink body exactly as it posts
                            (issue 9 §1), a new ``triggering_event_id`` per task so each is new:
                            its key is derived from the four activity ids, ``target_repo`` is
                            routed (``[server.routes] "activity-core" = "local"``), priority on
                            the one scale

Afterwards every task answered 201 is looked up in the store by the idempotency key its answer
gave (count check: each exactly once; with wrk, up to one more per connection and run may exist,
created by a request still in flight when wrk stopped, whose answer it did not read). Prints a
markdown table for docs/performance.md. ``--no-limits`` runs the server with uvicorn's own
protocol instead of the bounded one (``server/http_protocol.py``: header size, header/body
timeouts, connection cap), to show what the limits cost. Run with the venv's python:

    .venv/bin/python bench/ingest_load.py [--duration 10] [--clients 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

API_KEY = "bench-key-" + "0123456789abcdef" * 2
REPO = Path(__file__).resolve().parents[1]
GOAL_RPS = 1500.0
GOAL_P99_MS = 50.0
# activity-core's IssueSink body (issue 9 §1); triggering_event_id is set per task.
ACTIVITY_BODY: dict[str, Any] = {
    "title": "Run SBOM rescan for activity-core",
    "description": "",
    "target_repo": "activity-core",
    "priority": "medium",
    "labels": ["sbom", "security", "automated"],
    "due_in_days": None,
    "source_type": "rule",
    "source_id": "flag-stale-sbom",
    "triggering_event_id": "event-or-schedule-key",
    "activity_definition_id": "activity-definition-uuid",
}
# The server the bench starts with uvicorn's plain httptools protocol (--no-limits).
NO_LIMITS_SERVER = (
    "import sys\n"
    "from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol\n"
    "import issue_core.server.http_protocol as protocol\n"
    "protocol.bounded_protocol = lambda limits: HttpToolsProtocol\n"
    "from issue_core.cli.main import main\n"
    "sys.argv[0] = 'issue'\n"
    "main()\n"
)


def task_body(payload: str, key: str, worker: int, n: int) -> bytes:
    if payload == "activity":
        return json.dumps({**ACTIVITY_BODY, "triggering_event_id": key}).encode()
    return json.dumps(
        {
            "title": f"Load test task {worker}/{n}",
            "description": "Created by bench/ingest_load.py",
            "labels": ["bench"],
            "priority": "p2",
            "source": {"system": "bench", "event_id": key, "trace_id": key},
            "idempotency_key": key,
        }
    ).encode()


# --------------------------------------------------------------------------- the client


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams.

    httpx's async client costs ~1.5 ms of client CPU per request on this machine, so with the
    server on the other core it caps the measurement near 650 req/s (see ``--client httpx``);
    this client costs a few tens of microseconds and lets the server be the bottleneck.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {API_KEY}\r\n"
        )
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(headers[9:12])
        length = 0
        for line in headers.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class HttpxConnection:
    def __init__(self, host: str, port: int) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            headers={"Authorization": f"Bearer {API_KEY}"},
            limits=httpx.Limits(max_connections=1),
            timeout=30,
        )

    async def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else None
        response = await self.client.request(method, path, content=body, headers=headers)
        return response.status_code, response.content

    def close(self) -> None:
        pass


async def _drive(
    port: int,
    path: str,
    method: str,
    clients: int,
    duration: float,
    warmup: float,
    tag: str,
    kind: str,
    payload: str,
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    created: list[str] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    factory = RawConnection if kind == "raw" else HttpxConnection

    async def client(worker: int) -> None:
        nonlocal errors
        connection = factory("127.0.0.1", port)
        n = 0
        while True:
            sent = time.perf_counter()
            if sent >= stop_at:
                connection.close()
                return
            n += 1
            key = f"{tag}-{worker}-{n}"
            body = task_body(payload, key, worker, n) if method == "POST" else None
            try:
                status, answer = await connection.request(method, path, body)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                connection.close()
                connection = factory("127.0.0.1", port)
                continue
            except Exception:
                errors += 1
                continue
            done = time.perf_counter()
            if status == 201 and path == "/issues/":
                # Every 201 is checked against the store, warm-up included, by the key the
                # answer names (for activity-core's body, the server derived it).
                created.append(json.loads(answer)["idempotency_key"])
            if sent >= measure_from:
                latencies.append(done - sent)
                statuses[status] += 1

    await asyncio.gather(*(client(w) for w in range(clients)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else None,
        "statuses": dict(statuses),
        "errors": errors,
        "created_keys": created,
    }


def _client_process(args: tuple[Any, ...], queue: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - bench still works on asyncio
        pass
    queue.put(asyncio.run(_drive(*args)))


def run_client(
    port: int, path: str, method: str, clients: int, duration: float, kind: str, payload: str
) -> dict[str, Any]:
    """The client runs in its own process so it does not share a GIL with the server."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    tag = f"{path.strip('/').replace('/', '-') or 'root'}-{time.time_ns()}"
    process = ctx.Process(
        target=_client_process,
        args=((port, path, method, clients, duration, 1.0, tag, kind, payload), queue),
    )
    process.start()
    result: dict[str, Any] = queue.get(timeout=duration + 120)
    process.join(30)
    return result


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server process and its children so far (Linux /proc).

    Less sensitive to a shared machine's load than throughput: other processes slow the server
    down, but do not make it spend more CPU per request."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        pids.extend(int(child) for child in children)
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def run_wrk(
    port: int,
    path: str,
    method: str,
    clients: int,
    duration: float,
    payload: str,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """A one-second warm-up run, then the measured run; 201 keys of both are kept."""
    tag = f"{path.strip('/').replace('/', '-') or 'root'}-{payload}-{time.time_ns()}"
    warm_up = _wrk(port, path, method, clients, 1.0, f"{tag}-warm", payload)
    cpu_before = server_cpu_seconds(server_pid) if server_pid else None
    result = _wrk(port, path, method, clients, duration, tag, payload)
    if cpu_before is not None and server_pid and result["requests"]:
        cpu = server_cpu_seconds(server_pid) - cpu_before
        result["server_cpu_us_per_request"] = cpu / result["requests"] * 1e6
    result["created_keys"] = warm_up["created_keys"] + result["created_keys"]
    return result


def _wrk(
    port: int, path: str, method: str, clients: int, duration: float, tag: str, payload: str
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(prefix="ingest-wrk-", suffix=".out") as output:
        command = [
            "wrk",
            "--threads",
            "1",  # one C thread keeps up with 32 connections and leaves the core to the server
            "--connections",
            str(clients),
            "--duration",
            f"{max(1, round(duration))}s",
            "--timeout",
            "30s",
            "--script",
            str(REPO / "bench" / "ingest_wrk.lua"),
            f"http://127.0.0.1:{port}{path}",
            "--",
            tag,
            method,
            path,
            f"Bearer {API_KEY}",
            payload,
        ]
        env = {**os.environ, "WRK_OUTPUT": output.name}
        subprocess.run(
            command, env=env, check=True, stdout=subprocess.DEVNULL, timeout=duration + 60
        )
        lines = Path(output.name).read_text().splitlines()
    requests, duration_us, p50_us, p99_us, errors = (int(v) for v in lines[0].split())
    statuses: Counter[int] = Counter()
    keys: list[str] = []
    for line in lines[1:]:
        kind, _, rest = line.partition(" ")
        if kind == "status":
            status, count = rest.split()
            statuses[int(status)] += int(count)
        elif kind == "key":
            keys.append(json.loads(rest))
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50_us / 1000,
        "p99_ms": p99_us / 1000,
        "statuses": dict(statuses),
        "errors": errors,
        "created_keys": keys,
    }


def measure(
    port: int,
    path: str,
    method: str,
    clients: int,
    duration: float,
    kind: str,
    payload: str,
    server_pid: int,
) -> dict[str, Any]:
    if kind == "wrk":
        return run_wrk(port, path, method, clients, duration, payload, server_pid)
    return run_client(port, path, method, clients, duration, kind, payload)


# --------------------------------------------------------------------------- the server


def start_server(
    project: Path,
    env: dict[str, str],
    writer: str,
    access_log: bool,
    limits: bool,
    synchronous: str = "full",
) -> tuple[subprocess.Popen[bytes], int]:
    log = project / "server.log"
    command = ["serve", "--port", "0", "--writer", writer, "--synchronous", synchronous]
    if not access_log:
        command.append("--no-access-log")
    entry = ["-m", "issue_core.cli.main"] if limits else ["-c", NO_LIMITS_SERVER]
    process = subprocess.Popen(
        [sys.executable, *entry, *command],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()}")
        for line in log.read_text().splitlines():
            if '"msg":"listening"' in line:
                port = int(json.loads(line)["port"])
                _wait_healthy(port)
                return process, port
        time.sleep(0.05)
    process.kill()
    raise SystemExit("server did not start within 30 s")


def _wait_healthy(port: int) -> None:
    import httpx

    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit("server never became healthy")


def stored_keys(store: Path) -> Counter[str]:
    from issue_core.backends.local import LocalBackend
    from issue_core.core.models import IssueFilter

    backend = LocalBackend()
    backend.connect({"path": str(store), "identity": "bench"})
    try:
        issues = backend.list_issues(IssueFilter(state=None, limit=None))
    finally:
        backend.close()
    return Counter(str(i.sync_metadata["ingest"]["idempotency_key"]) for i in issues)


# --------------------------------------------------------------------------- report


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(rows: list[tuple[str, dict[str, Any]]], floor: float) -> str:
    lines = [
        "| scenario | requests | req/s | vs floor | p50 ms | p99 ms | server CPU us/req"
        " | statuses | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, result in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result["statuses"].items()))
        lines.append(
            f"| {name} | {result['requests']:,} | {_fmt(result['rps'], 0)} |"
            f" {result['rps'] / floor:.2f} | {_fmt(result['p50_ms'])} | {_fmt(result['p99_ms'])} |"
            f" {_fmt(result.get('server_cpu_us_per_request'), 0)} | {statuses} |"
            f" {result['errors']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    parser.add_argument(
        "--writer",
        choices=["process", "thread"],
        default="process",
        help="where the server runs backend writes (issue serve --writer)",
    )
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="run the server without its access log (default: on, as `issue serve` runs)",
    )
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "raw", "httpx"],
        default="auto",
        help="load generator: wrk (auto: when on PATH), raw asyncio HTTP/1.1, httpx.AsyncClient",
    )
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help="serve with uvicorn's plain protocol: no header limit, header/body timeouts or"
        " connection cap (to measure what they cost)",
    )
    parser.add_argument(
        "--activity-first",
        action="store_true",
        help="run activity-core's body before the current TaskSpec (the later scenario meets a"
        " larger store; swapping shows the order's effect)",
    )
    parser.add_argument(
        "--timings",
        type=Path,
        help="record the server's per-stage timings in this folder (ISSUE_CORE_SERVER_TIMINGS;"
        " read them with bench/ingest_timings.py)",
    )
    parser.add_argument(
        "--synchronous",
        choices=["full", "normal"],
        default="full",
        help="the server's commits (issue serve --synchronous): fsynced each (full, the"
        " default) or left to the checkpoints (normal, opt-in)",
    )
    parser.add_argument(
        "--only",
        choices=["spec", "activity"],
        help="run only this POST /issues/ scenario (after the floor and echo)",
    )
    args = parser.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "raw"
    if args.client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not on PATH (Debian: apt-get install wrk)")

    scenarios = [
        ("GET /healthz (framework floor)", "/healthz", "GET", "spec"),
        ("POST /_bench/echo (auth + validation, no storage)", "/_bench/echo", "POST", "spec"),
        ("POST /issues/ current TaskSpec (201 after commit)", "/issues/", "POST", "spec"),
        ("POST /issues/ activity-core's body (201 after commit)", "/issues/", "POST", "activity"),
    ]
    if args.activity_first:
        scenarios[2], scenarios[3] = scenarios[3], scenarios[2]
    if args.only:
        scenarios = [s for s in scenarios if s[1] != "/issues/" or s[3] == args.only]
    ingest_names = [name for name, path, _, _ in scenarios if path == "/issues/"]
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="issue-core-ingest-bench-") as scratch:
        project = Path(scratch) / "project"
        (project / ".git").mkdir(parents=True)
        config_dir = Path(scratch) / "config"
        config_dir.mkdir()
        # Routes configured: activity-core's target_repo is routed, anything else would be a 422.
        (config_dir / "config.toml").write_text('[server.routes]\n"activity-core" = "local"\n')
        env = {
            **os.environ,
            "ISSUE_CORE_CONFIG_DIR": str(config_dir),
            "ISSUE_CORE_API_KEY": API_KEY,
            "ISSUE_CORE_SERVER_BENCH": "1",
            "ISSUE_CORE_USER": "bench",
            "PYTHONPATH": str(REPO),
        }
        env.pop("ISSUE_CORE_BACKEND", None)
        env.pop("ISSUE_CORE_STATE_DIR", None)
        if args.timings:
            env["ISSUE_CORE_SERVER_TIMINGS"] = str(args.timings.resolve())
        server, port = start_server(
            project, env, args.writer, not args.no_access_log, not args.no_limits, args.synchronous
        )
        try:
            results = [
                (
                    name,
                    measure(
                        port,
                        path,
                        method,
                        args.clients,
                        args.duration,
                        args.client,
                        payload,
                        server.pid,
                    ),
                )
                for name, path, method, payload in scenarios
            ]
        finally:
            server.terminate()
            server.wait(60)
            if args.server_log:
                args.server_log.write_bytes((project / "server.log").read_bytes())
        found = stored_keys(project / ".issue-core" / "issues.db")
        created = [
            key
            for name, result in results
            if name in ingest_names
            for key in result["created_keys"]
        ]
        for _, result in results:
            result.pop("created_keys")
        missing = [key for key in created if found[key] != 1]
        doubled = [key for key, count in found.items() if count > 1]
        extra = sum(found.values()) - len(created)
        # wrk stops with requests in flight and never reads their answers: those tasks may
        # exist although no 201 was counted for them (one per connection and run at most:
        # a warm-up run and a measured run per scenario).
        in_flight_allowance = 2 * args.clients * len(ingest_names) if args.client == "wrk" else 0

    floor = results[0][1]["rps"]
    print(
        f"\n{args.clients} concurrent clients ({args.client} load generator, separate process),"
        f" {args.duration:.0f} s per scenario, one server worker, access log"
        f" {'off' if args.no_access_log else 'on (to a file)'}, connection limits"
        f" {'OFF (plain uvicorn protocol)' if args.no_limits else 'on'}, --synchronous"
        f" {args.synchronous}; load average"
        f" {load_before} before, {_load()} after\n"
    )
    print(table(results, floor))
    print(
        f"\ncount check: {len(created):,} tasks answered 201, {len(created) - len(missing):,}"
        f" found exactly once in the store, {len(missing)} missing, {len(doubled)} duplicated,"
        f" {extra} more in the store"
        + (f" (in flight when wrk stopped; allowed up to {in_flight_allowance})" if extra else "")
    )
    goals = []
    for name, result in results:
        if name in ingest_names:
            met = result["rps"] >= GOAL_RPS and (result["p99_ms"] or 1e9) <= GOAL_P99_MS
            goals.append(met)
            print(
                f"goal (>= {GOAL_RPS:,.0f} tasks/s, p99 <= {GOAL_P99_MS:.0f} ms), {name}:"
                f" {'met' if met else 'NOT met'}"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "clients": args.clients,
                    "duration": args.duration,
                    "limits": not args.no_limits,
                    "results": dict(results),
                    "ratios_to_floor": {name: r["rps"] / floor for name, r in results},
                    "load_generator": args.client,
                    "goals_met": all(goals),
                    "count_check": {
                        "created": len(created),
                        "missing": len(missing),
                        "duplicated": len(doubled),
                        "in_flight_extra": extra,
                    },
                },
                indent=2,
            )
        )
    return 0 if not missing and not doubled and 0 <= extra <= in_flight_allowance else 1


def _load() -> str:
    """The machine's load averages (it is shared: figures are read against them)."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:  # pragma: no cover - platform specific
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
