"""The ``issue`` CLI configured for each backend of the contract suite (``cli_backend``).

For every backend, a user configuration file (``ISSUE_CORE_CONFIG_DIR`` = a tmp folder) names a
backend ``under-test``; the fixture yields a runner that invokes the CLI in-process with Click's
``CliRunner`` as ``issue --backend under-test ARGS...`` and returns the exit code, stdout and
stderr. Backend-specific set-up lives here only; tests ask ``cli.supports(Capability.X)``, never
which backend they run on.

To run the CLI suite against another backend, add an entry to ``CLI_SETUPS`` (a function taking
pytest's ``request`` and ``tmp_path`` and returning a :class:`CliSetup`); every backend of the
Python-API contract must have one (``test_every_api_backend_runs_the_cli_suite``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from issue_core.core.interfaces import Capability, IssueBackend

CLI_BACKEND_NAME = "under-test"
LOCAL_IDENTITY = "tester"
# Variables that would make a run depend on the machine (or the caller's shell) it runs on.
_LEAKY_ENV = (
    "ISSUE_CORE_BACKEND",
    "ISSUE_CORE_DEBUG",
    "ISSUE_CORE_USER",
    "NO_COLOR",
    "COLUMNS",
    "XDG_CONFIG_HOME",
)


class CliSetup:
    """What a backend needs in the config file, and how to let a second pass on its clock."""

    def __init__(
        self,
        type_name: str,
        settings: dict[str, Any],
        let_time_pass: Callable[[], None] = lambda: None,
    ) -> None:
        self.type_name = type_name
        self.settings = settings
        self.let_time_pass = let_time_pass


class CliResult:
    """One CLI call: exit code, stdout and stderr kept apart."""

    def __init__(self, args: list[str], exit_code: int, stdout: str, stderr: str) -> None:
        self.args = args
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return (
            f"CliResult(issue {' '.join(self.args)!s} -> {self.exit_code}, "
            f"stdout={self.stdout[:400]!r}, stderr={self.stderr[:400]!r})"
        )

    @property
    def output(self) -> str:
        """stdout then stderr, as Click's ``Result.output`` (for messages in assertions)."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        assert self.exit_code == 0, self
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        """The JSON error object (JSON output was asked for): stdout empty, one line on stderr."""
        assert self.exit_code != 0, self
        assert self.stdout == "", self
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self
        payload = json.loads(lines[0])
        assert set(payload) == {"error"}, self
        error = payload["error"]
        assert isinstance(error, dict)
        assert error["exit_code"] == self.exit_code, self
        return error


class CliBackend:
    """``cli("list", "--state", "all")`` runs ``issue --backend under-test list --state all``."""

    def __init__(self, backend_class: type[IssueBackend], setup: CliSetup) -> None:
        from click.testing import CliRunner

        self._capabilities = backend_class().capabilities
        self._class = backend_class
        self._setup = setup
        self._runner = CliRunner()

    def supports(self, capability: Capability) -> bool:
        return capability in self._capabilities

    def api(self) -> IssueBackend:
        """A Python-API backend on the same repository: a second writer beside the CLI (the
        caller closes it)."""
        backend = self._class()
        identity = {"identity": LOCAL_IDENTITY} if self._setup.type_name == "local" else {}
        backend.connect({"type": self._setup.type_name, **self._setup.settings, **identity})
        return backend

    def let_time_pass(self) -> None:
        """Make the next write land at a later timestamp than every earlier one."""
        self._setup.let_time_pass()

    def __call__(self, *args: str | int, input: str | None = None) -> CliResult:
        from issue_core.cli.main import cli

        argv = ["--backend", CLI_BACKEND_NAME, *map(str, args)]
        result = self._runner.invoke(cli, argv, input=input, prog_name="issue")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a bug escaped the CLI's one error path
        return CliResult(argv, result.exit_code, result.stdout, result.stderr)

    def json(self, *args: str | int, input: str | None = None) -> Any:
        """Run with ``--format json``; the command must succeed. Returns the parsed stdout."""
        return self(*args, "--format", "json", input=input).json()


# --------------------------------------------------------------------------- backends


def _local(request: pytest.FixtureRequest, tmp_path: Path) -> CliSetup:
    # Microsecond timestamps: a later write already sorts later, nothing to advance.
    return CliSetup("local", {"path": str(tmp_path / "store" / "issues.db")})


class _SteppingClock:
    """Real time plus an offset the suite can advance (the fake Gitea's clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float = 1.0) -> None:
        self.offset += seconds


def _gitea(request: pytest.FixtureRequest, tmp_path: Path) -> CliSetup:
    """A fresh fake Gitea (every exchange checked against the Swagger), as in forge_backends."""
    from tests.contract.forge_backends import SUITE_USERS

    running = request.getfixturevalue("fake_gitea")
    for login in SUITE_USERS:  # people the suite assigns; Gitea assigns only collaborators
        running.fake.add_collaborator(login)
    # Gitea keeps whole seconds; this lets the suite separate writes without sleeping.
    clock = _SteppingClock()
    running.fake.state.clock = clock
    # The fake speaks plain HTTP: skip loading the CA bundle on every call (~35 ms each).
    settings = running.backend_config(verify_tls=False)
    return CliSetup("gitea", settings, let_time_pass=clock.advance)


def _github(
    request: pytest.FixtureRequest, tmp_path: Path, *, search_api: bool = False
) -> CliSetup:
    """A fresh fake GitHub (every exchange checked against the OpenAPI), as in forge_backends
    (``search_api``: the fake serves ``/search/issues``)."""
    from tests.contract.forge_backends import SUITE_USERS

    running = request.getfixturevalue("fake_github")
    running.fake.search_api = search_api
    for login in SUITE_USERS:
        running.fake.add_collaborator(login)
    # GitHub keeps whole seconds too; this lets the suite separate writes without sleeping.
    clock = _SteppingClock()
    running.fake.state.clock = clock
    settings = {k: v for k, v in running.backend_config(verify_tls=False).items() if k != "type"}
    return CliSetup("github", settings, let_time_pass=clock.advance)


def _gitlab(request: pytest.FixtureRequest, tmp_path: Path) -> CliSetup:
    """A fresh fake GitLab (owner token, project group/sub/repo), as in forge_backends."""
    from tests.contract.forge_backends import SUITE_USERS
    from tests.fakes.gitlab_state import DEVELOPER

    running = request.getfixturevalue("fake_gitlab")
    for login in ("alice", *SUITE_USERS):  # GitLab assigns project members
        running.fake.add_member(login, DEVELOPER)
    # GitLab keeps milliseconds; the stepping clock still lets the suite order writes at once.
    clock = _SteppingClock()
    running.fake.state.clock = clock
    settings = {k: v for k, v in running.backend_config(verify_tls=False).items() if k != "type"}
    return CliSetup("gitlab", settings, let_time_pass=clock.advance)


CLI_SETUPS: dict[str, Callable[[pytest.FixtureRequest, Path], CliSetup]] = {
    "local": _local,
    "gitlab": _gitlab,
}
try:
    import issue_core.backends.gitea
except ImportError:  # pragma: no cover - the Gitea backend is not there
    pass
else:
    CLI_SETUPS["gitea"] = _gitea
try:
    import issue_core.backends.github  # noqa: F401
except ImportError:  # pragma: no cover - the GitHub backend is not there
    pass
else:
    CLI_SETUPS["github"] = _github
    CLI_SETUPS["github_search_api"] = lambda request, tmp_path: _github(
        request, tmp_path, search_api=True
    )


def write_user_config(config_dir: Path, setup: CliSetup) -> Path:
    import tomli_w

    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    data = {
        "user": LOCAL_IDENTITY,  # identity on backends without accounts
        "backends": {CLI_BACKEND_NAME: {"type": setup.type_name, **setup.settings}},
    }
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(params=sorted(CLI_SETUPS))
def cli_backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliBackend]:
    from issue_core.backends import BackendFactory

    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ISSUE_CORE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ISSUE_CORE_CACHE_DIR", str(tmp_path / "cache"))
    # Outside any git repository, so no repository config file can join in.
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    setup = CLI_SETUPS[request.param](request, tmp_path)
    write_user_config(tmp_path / "config", setup)
    yield CliBackend(BackendFactory.backend_class(setup.type_name), setup)
