"""What a server (or ``issue outbox``) runs with, resolved from flags, environment and config.

Which backends a server may use and its default state folder are configuration, resolved by
``core.config.resolve_backends`` / ``default_state_dir`` (re-exported here).

No web framework is imported here: ``issue outbox`` resolves the same state folder and backends
without the ``api`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from issue_core.core.config import (
    STATE_DIR_ENV,
    BackendConfig,
    BackendSetup,
    default_state_dir,
    resolve_backends,
)
from issue_core.core.errors import UsageError
from issue_core.server.auth import ApiKeys
from issue_core.server.limits import ConnectionLimits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_BODY_LIMIT = 1024 * 1024
BENCH_ROUTES_ENV = "ISSUE_CORE_SERVER_BENCH"


@dataclass
class ServerSettings:
    default_backend: str
    backends: dict[str, BackendConfig]
    identity: str
    state_dir: Path
    keys: ApiKeys = field(default_factory=lambda: ApiKeys(()))
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    body_limit: int = DEFAULT_BODY_LIMIT
    bench_routes: bool = False
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    max_queue: int = 10_000
    # target_repo -> backend (``[server.routes]`` and ``--route``; see routing.py).
    routes: dict[str, str] = field(default_factory=dict)
    # Backend writes in a child process (``issue serve``'s default) or on a thread (tests).
    writer_process: bool = False
    # How the pipeline commits (``issue serve --synchronous``): "full" fsyncs every commit, so
    # an answered task survives a power cut; "normal" (opt-in) survives a killed process only.
    synchronous: str = "full"

    @property
    def state_db(self) -> Path:
        from issue_core.server.outbox import state_db_path

        return state_db_path(self.state_dir)


def resolve_state_dir(state_dir: str | Path | None, setup: BackendSetup) -> Path:
    if state_dir is not None:
        return Path(state_dir).expanduser().resolve()
    return default_state_dir(setup)


def parse_size(text: str) -> int:
    """``1048576``, ``512k``, ``2m``, ``1MiB`` ... -> bytes."""
    cleaned = text.strip().lower().replace("ib", "").replace("b", "")
    factor = 1
    if cleaned and cleaned[-1] in "km":
        factor = 1024 if cleaned[-1] == "k" else 1024 * 1024
        cleaned = cleaned[:-1]
    if not cleaned.isdigit() or int(cleaned) <= 0:
        raise UsageError(f"invalid size {text!r}", hint="use bytes, or a suffix: 512k, 2m")
    return int(cleaned) * factor


__all__ = [
    "STATE_DIR_ENV",
    "BackendSetup",
    "ServerSettings",
    "default_state_dir",
    "parse_size",
    "resolve_backends",
    "resolve_state_dir",
]
