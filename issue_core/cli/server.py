"""``issue serve`` (the ingestion API) and ``issue outbox list|retry``.

``serve`` needs the optional ``api`` extra (FastAPI, Uvicorn); it is imported only inside the
command, so the CLI's start-up never pays for it. ``outbox`` works on the server's state db with
the standard library alone, whether or not a server is running.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from issue_core.cli.groups import Group
from issue_core.cli.output import Outcome, Records, output_options
from issue_core.core.errors import (
    BackendUnavailable,
    Conflict,
    IssueCoreError,
    Unsupported,
    UsageError,
)

OUTBOX_FIELDS = (
    "tracking_id",
    "status",
    "phase",
    "backend",
    "idempotency_key",
    "issue_number",
    "attempts",
    "last_error",
    "next_attempt_at",
    "received_at",
    "delivered_at",
    "request_id",
    "title",
)
OUTBOX_COLUMNS = ("tracking_id", "status", "attempts", "issue_number", "title", "last_error")
INSTALL_HINT = "pip install 'issue-core[api]'"


def _require_api_extra() -> None:
    missing = []
    for module in ("fastapi", "uvicorn", "pydantic"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise Unsupported(
            f"`issue serve` needs the api extra ({', '.join(missing)} not installed)",
            hint=f"install it with: {INSTALL_HINT}",
        )


def _root_backend(ctx: click.Context) -> str | None:
    obj = ctx.find_root().obj
    return obj.get("backend_name") if isinstance(obj, dict) else None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: pick a free one, announced in the 'listening' log line).",
)
@click.option("--backend", "backend_name", metavar="NAME", help="Default backend for tasks.")
@click.option(
    "--route",
    "routes",
    multiple=True,
    metavar="REPO=BACKEND",
    help="Send tasks whose target_repo is REPO to BACKEND (repeatable; '*=BACKEND' is the"
    " default route). Adds to, and wins over, [server.routes] in config.toml. Once routes"
    " exist, an unrouted target_repo is refused (422) unless there is a default route.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of server.db (idempotency keys + outbox) [default: next to the local store,"
    " else .issue-core; env: ISSUE_CORE_STATE_DIR].",
)
@click.option(
    "--no-auth", is_flag=True, help="Serve without API keys (only on a loopback address)."
)
@click.option(
    "--body-limit",
    default="1m",
    show_default=True,
    metavar="SIZE",
    help="Largest accepted request body (413 above it), e.g. 512k, 2m.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option("--no-access-log", is_flag=True, help="Do not log one JSON line per request.")
@click.option(
    "--writer",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="Where backend writes run: a thread of the server process, or a child process"
    " (keeps the backend's Python work off the event loop's GIL; helps when a core is free).",
)
@click.option(
    "--synchronous",
    type=click.Choice(["full", "normal"]),
    default="full",
    show_default=True,
    help="How the server's commits reach the disk. full: each is fsynced before the answer,"
    " so an answered task survives a power cut. normal (opt-in, for lower latency): no fsync"
    " per commit; survives a killed server, but a power cut or OS crash may lose (or, on"
    " retry, repeat) the last tasks answered. See docs/ingestion.md, Durability.",
)
@click.option(
    "--graceful-timeout",
    type=float,
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="On SIGTERM/SIGINT/SIGHUP, how long to let in-flight requests finish.",
)
@click.option(
    "--header-limit",
    default="64k",
    show_default=True,
    metavar="SIZE",
    help="Largest request line + headers (414/431 and close above it).",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Time a client has to send a request's headers (408 and close after it).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Time a client has to send a request's body once its headers arrived.",
)
@click.option(
    "--keep-alive",
    type=click.FloatRange(min=1),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How long an idle keep-alive connection is kept open.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="Open connections at most; a connection above it is answered 503 and closed.",
)
@click.pass_context
def serve_cmd(
    ctx: click.Context,
    host: str,
    port: int,
    backend_name: str | None,
    routes: tuple[str, ...],
    state_dir: Path | None,
    no_auth: bool,
    body_limit: str,
    log_level: str,
    no_access_log: bool,
    writer: str,
    synchronous: str,
    graceful_timeout: float,
    header_limit: str,
    header_timeout: float,
    body_timeout: float,
    keep_alive: float,
    max_connections: int,
) -> None:
    """Serve the ingestion API: POST /issues/ turns upstream tasks into issues.

    Clients authenticate with a key from ISSUE_CORE_API_KEY (comma-separated to rotate),
    sent as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'. Docs live at /docs.

    \b
    Examples:
      export ISSUE_CORE_API_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')
      issue serve --port 8765
      curl -s -X POST localhost:8765/issues/ -H "Authorization: Bearer $ISSUE_CORE_API_KEY" \\
           -H 'Content-Type: application/json' -d '{"title": "Nightly build failed"}'
    """
    from issue_core.core.config_checks import is_loopback
    from issue_core.server.auth import API_KEY_ENV, ApiKeys
    from issue_core.server.limits import ConnectionLimits
    from issue_core.server.routing import Router, parse_route
    from issue_core.server.settings import (
        BENCH_ROUTES_ENV,
        ServerSettings,
        parse_size,
        resolve_backends,
        resolve_state_dir,
    )

    limit = parse_size(body_limit)
    flag_routes = dict(parse_route(text) for text in routes)
    keys = ApiKeys.parse(os.environ.get(API_KEY_ENV))
    if no_auth:
        if not is_loopback(host):
            raise UsageError(
                f"--no-auth is only allowed on a loopback address, not {host}",
                hint=f"set {API_KEY_ENV} instead",
            )
        if keys.enabled:
            raise UsageError(
                f"--no-auth while {API_KEY_ENV} is set: refusing to serve without the key",
                hint=f"unset {API_KEY_ENV}, or drop --no-auth",
            )
    elif not keys.enabled:
        raise UsageError(
            f"no API key: set {API_KEY_ENV} (comma-separated for several keys)",
            hint="or pass --no-auth to serve on 127.0.0.1 without authentication",
        )
    _require_api_extra()
    setup = resolve_backends(backend_name or _root_backend(ctx))
    route_table = {**setup.routes, **flag_routes}
    # Fail at start, not on every task: routes naming no configured backend, untrusted targets.
    router = Router(route_table, setup.backends, setup.default)
    for name in {setup.default, *router.routed_backends}:
        setup.backends[name].require_trusted()
    settings = ServerSettings(
        default_backend=setup.default,
        backends=setup.backends,
        identity=setup.identity,
        state_dir=resolve_state_dir(state_dir, setup),
        keys=keys,
        host=host,
        port=port,
        body_limit=limit,
        bench_routes=os.environ.get(BENCH_ROUTES_ENV, "") not in ("", "0"),
        writer_process=writer == "process",
        synchronous=synchronous,
        routes=route_table,
        limits=ConnectionLimits(
            header_limit=parse_size(header_limit),
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            keep_alive=keep_alive,
            max_connections=max_connections,
        ),
    )
    from issue_core.server.runner import run_server

    run_server(
        settings,
        log_level=log_level,
        access_log=not no_access_log,
        graceful_timeout=graceful_timeout,
    )


# --------------------------------------------------------------------------- outbox


@click.group("outbox", cls=Group)
def outbox_group() -> None:
    """Inspect and drive the ingestion server's outbox (works without the server running).

    \b
    Examples:
      issue outbox list --status pending
      issue outbox retry 3f2a9c...      # deliver one task now
      issue outbox retry                # deliver every pending or failed task now
    """


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the server's server.db [default: as `issue serve`].",
)


def _open_state(ctx: click.Context, state_dir: Path | None) -> tuple[Any, Any]:
    from issue_core.server.outbox import StateStore, state_db_path
    from issue_core.server.settings import resolve_backends, resolve_state_dir

    setup = resolve_backends(_root_backend(ctx))
    folder = resolve_state_dir(state_dir, setup)
    return StateStore.open_existing(state_db_path(folder)), setup


@outbox_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["all", "pending", "delivered", "failed"]),
    default="all",
    show_default=True,
)
@click.option("-L", "--limit", type=click.IntRange(1), default=50, show_default=True)
@state_dir_option
@output_options(OUTBOX_FIELDS, empty="the outbox is empty")
@click.pass_context
def outbox_list(ctx: click.Context, status: str, limit: int, state_dir: Path | None) -> Records:
    """List ingested tasks, newest first (pending = not yet on the backend)."""
    from issue_core.service import outbox

    store, _setup = _open_state(ctx, state_dir)
    try:
        rows = outbox.list_tasks(store, status, limit)
    finally:
        store.close()
    return Records([row.to_public() for row in rows], OUTBOX_COLUMNS)


@outbox_group.command("retry")
@click.argument("tracking_id", required=False)
@state_dir_option
@output_options(OUTBOX_FIELDS)
@click.pass_context
def outbox_retry(ctx: click.Context, tracking_id: str | None, state_dir: Path | None) -> Outcome:
    """Deliver pending or failed tasks now, ignoring their backoff (all, or TRACKING_ID).

    Prints every task it was about with its status after the attempt, and one line:
    'delivered N of T task(s); M still pending, K failed'. Exit 0 when every task was
    delivered (a task delivered before is reported as such: a repeated retry is harmless),
    6 when some are still pending (a backend is unavailable), 4 when some failed
    permanently or are being delivered by another worker right now.
    """
    from functools import partial

    from issue_core.server.delivery import BackendPool, deliver_due
    from issue_core.server.outbox import LeaseHolder, ServerLock
    from issue_core.service import outbox

    store, setup = _open_state(ctx, state_dir)
    pool = BackendPool(setup.backends, setup.identity)
    try:
        deliver = partial(deliver_due, store, pool)
        result = outbox.retry(
            store, tracking_id, lock=ServerLock, lease=LeaseHolder, deliver_due=deliver
        )
    finally:
        pool.close()
        store.close()
    if result.already is not None:
        return Outcome(
            Records([result.already.to_public()], OUTBOX_COLUMNS),
            message=f"task {tracking_id} was already delivered as #{result.already.issue_number}",
        )
    return _retry_outcome(result, tracking_id)


def _retry_outcome(result: Any, tracking_id: str | None) -> Outcome:
    """The real counts: every task the run was about, as it is now."""
    rows, counts = result.rows, result.counts()
    total = len(rows)
    message = (
        f"delivered {counts['delivered']} of {total} task(s); "
        f"{counts['pending']} still pending, {counts['failed']} failed"
    )
    if counts["elsewhere"]:
        message += f", {counts['elsewhere']} being delivered by another worker"
    details = {"total": total, **counts}
    failure: IssueCoreError | None = None
    if counts["pending"]:
        last = next((row.last_error for row in rows if row.status == "pending"), None)
        failure = BackendUnavailable(
            f"{counts['pending']} of {total} task(s) still pending"
            + (f" (last error: {last})" if last else ""),
            hint="they are retried with backoff; see `issue outbox list --status pending`",
            **details,
        )
    elif counts["failed"]:
        failure = Conflict(
            f"{counts['failed']} of {total} task(s) failed permanently",
            hint="see last_error in `issue outbox list --status failed`; fix the cause, then retry",
            **details,
        )
    elif counts["elsewhere"]:
        which = f"task {tracking_id} is" if tracking_id else f"{counts['elsewhere']} task(s) are"
        failure = Conflict(
            f"{which} being delivered by another worker right now",
            hint="see `issue outbox list` in a moment",
            **details,
        )
    public = [row.to_public() for row in rows]
    return Outcome(Records(public, OUTBOX_COLUMNS), message=message, failure=failure)
