"""Running the server: lock the state folder, bind, serve with uvicorn, shut down gracefully.

The listening socket is bound here (not by uvicorn) so that "address in use" or "permission
denied" become one clear error instead of a log line and ``sys.exit``; ``--port 0`` picks a free
port, announced in the ``listening`` log line.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

from issue_core._version import __version__
from issue_core.core.errors import Conflict, UsageError
from issue_core.server.outbox import ServerLock
from issue_core.server.settings import ServerSettings

log = logging.getLogger("issue_core.server")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="pick another --port, or stop the process using it",
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _fast_impls() -> dict[str, Any]:
    """uvloop and httptools when installed (``uvicorn[standard]``); asyncio and h11 otherwise."""
    choices: dict[str, Any] = {"loop": "asyncio", "http": "h11"}
    try:
        import uvloop  # noqa: F401

        choices["loop"] = "uvloop"
    except ImportError:  # pragma: no cover - depends on the install
        pass
    try:
        import httptools  # noqa: F401

        choices["http"] = "httptools"
    except ImportError:  # pragma: no cover - depends on the install
        pass
    return choices


def run_server(
    settings: ServerSettings,
    *,
    log_level: str = "info",
    access_log: bool = True,
    graceful_timeout: float = 10.0,
) -> None:
    import uvicorn

    from issue_core.server.app import create_app
    from issue_core.server.logs import configure_logging

    lock = ServerLock(settings.state_dir)
    if not lock.acquire():
        raise Conflict(
            f"another `issue serve` is already using {settings.state_dir}",
            hint="stop it, or pass a different --state-dir",
        )
    try:
        configure_logging(log_level, access_log=access_log)
        sock = bind(settings.host, settings.port)
        app = create_app(settings)
        # Heal and open the state db before accepting connections: errors surface here, cleanly.
        app.state.endpoint.start()
        impls = _fast_impls()
        limits = settings.limits
        protocol: dict[str, Any] = {"http": impls["http"]}
        if impls["http"] == "httptools":
            from issue_core.server.http_protocol import bounded_protocol

            protocol["http"] = bounded_protocol(limits)
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=max(1, round(graceful_timeout)),
            lifespan="on",
            log_level=log_level,
            loop=impls["loop"],
            timeout_keep_alive=max(1, round(limits.keep_alive)),
            h11_max_incomplete_event_size=limits.header_limit,
            **protocol,
        )
        host, port = sock.getsockname()[:2]
        if settings.synchronous != "full":
            # Weaker durability is asked for by name, and said at every start.
            log.warning(
                "commits are not fsynced (--synchronous %s): an answered task survives a killed"
                " server, not a power cut or an operating-system crash",
                settings.synchronous,
            )
        log.info(
            "listening",
            extra={
                "fields": {
                    "url": f"http://{_url_host(str(host))}:{port}",
                    "port": port,
                    "backend": settings.default_backend,
                    "routes": settings.routes,
                    "state_db": str(settings.state_db),
                    "auth": "api-key" if settings.keys.enabled else "none",
                    "key_fingerprints": settings.keys.fingerprints,
                    "body_limit": settings.body_limit,
                    "header_limit": limits.header_limit,
                    "header_timeout": limits.header_timeout,
                    "body_timeout": limits.body_timeout,
                    "keep_alive": limits.keep_alive,
                    "max_connections": limits.max_connections,
                    "synchronous": settings.synchronous,
                    "version": __version__,
                    **impls,
                }
            },
        )
        # On SIGTERM/SIGINT uvicorn stops accepting, lets in-flight requests finish (up to
        # graceful_timeout), runs the lifespan shutdown (the worker drains), then re-raises the
        # signal so the exit status says how the server ended.
        _server_class(uvicorn.Server)(config).run(sockets=[sock])
    finally:
        lock.release()


def _server_class(base: Any) -> Any:
    """uvicorn's server, with SIGHUP as a graceful stop (like SIGTERM) instead of death.

    A terminal closing or a supervisor's HUP then never drops in-flight requests or buffered
    access lines; the process ends as if it had received SIGTERM.
    """

    class Server(base):  # type: ignore[misc]
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                with super().capture_signals():
                    yield
                return
            previous = signal.signal(
                signal.SIGHUP, lambda _sig, frame: self.handle_exit(signal.SIGTERM, frame)
            )
            try:
                with super().capture_signals():
                    yield
            finally:
                signal.signal(signal.SIGHUP, previous)

    return Server


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
