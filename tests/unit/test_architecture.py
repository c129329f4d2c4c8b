"""The import graph keeps its layers: checked statically over every module's imports, and at
run time for what ``issue list`` actually loads.

Rules (README "Layout"): front ends (CLI, server, Python API) import only ``service/``,
``core/``, their own modules and the backend registry (two named exceptions: the CLI's server
commands start the server, and the server's state db runs on ``storage/``); ``core/`` is the
domain and imports nothing of issue-core outside it;
``storage/`` (the SQL engine) imports only ``core/``; backends never import a front end (CLI,
server, Python API); the local store and the forge side (``_http``, ``forge`` and the
forges) never import each other, nor do two forges; the forge base imports no forge's own
modules (Gitea, GitHub and GitLab subclass it, never the reverse); the server never imports the
CLI; ``service/`` (the use cases) never imports a front end or Click, and opens backends only
through ``service.runtime``, which is the only module outside ``backends/`` that constructs one;
front ends and the service reach backends only through the registry (``issue_core.backends``);
nothing probes a backend with ``getattr``/``hasattr`` (capabilities say what it can do);
``issue list``/``show`` and the plain writes load neither the HTTP layer, the forges, the
server, pydantic nor the query language (in a fresh process); only ``feed.touch`` records that
an issue changed; only ``search.py`` keeps the full-text index, through the dialect.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "issue_core"
FORGE = (
    "issue_core.backends._http",
    "issue_core.backends.forge",
    "issue_core.backends.gitea",
    "issue_core.backends.github",
    "issue_core.backends.gitlab",
)
FRONT_ENDS = ("issue_core.cli", "issue_core.server", "issue_core.api", "issue_core.mcp")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute issue_core modules ``path`` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "issue_core" or name.startswith("issue_core.")}


def _under(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


GRAPH = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}
TREES = {
    _module_name(path): ast.parse(path.read_text(encoding="utf-8"))
    for path in PACKAGE.rglob("*.py")
}
RUNTIME = "issue_core.service.runtime"
# Classes defined under backends/ (LocalBackend, GiteaBackend ...): a call constructs a backend.
BACKEND_CLASSES = {
    node.name
    for module, tree in TREES.items()
    if _under(module, "issue_core.backends")
    for node in ast.walk(tree)
    if isinstance(node, ast.ClassDef) and node.name.endswith("Backend")
}


def _top_level_imports(tree: ast.AST) -> set[str]:
    """Every package a module imports (first dotted part), issue-core's own or third-party."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def _constructs_a_backend(tree: ast.AST) -> list[str]:
    """Calls that make a backend object: ``BackendFactory.create/open(...)``,
    ``X.backend_class(t)()`` and ``LocalBackend()`` / ``GiteaBackend()`` style names."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "BackendFactory"
            and func.attr in ("create", "open")
        ):
            found.append(f"BackendFactory.{func.attr}")
        elif (
            isinstance(func, ast.Call)
            and isinstance(func.func, ast.Attribute)
            and func.func.attr == "backend_class"
        ):
            found.append("backend_class(...)()")
        elif isinstance(func, ast.Name) and func.id in BACKEND_CLASSES:
            found.append(f"{func.id}()")
    return found


def _violations(sources: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _under(module, *sources)
        for target in targets
        if _under(target, *forbidden)
    )


def test_the_graph_was_read():
    assert {"LocalBackend", "GiteaBackend"} <= BACKEND_CLASSES
    assert "issue_core.core.models" in GRAPH and "issue_core.cli.main" in GRAPH
    assert "issue_core.core.models" in GRAPH["issue_core.backends.local.backend"]


def test_core_imports_only_core():
    outside = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _under(module, "issue_core.core")
        for target in targets
        if not _under(target, "issue_core.core", "issue_core._version")
    )
    assert outside == []


def test_storage_imports_only_core():
    assert "issue_core.storage.sqlite" in GRAPH
    outside = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _under(module, "issue_core.storage")
        for target in targets
        if not _under(target, "issue_core.storage", "issue_core.core")
    )
    assert outside == []


def test_both_databases_run_on_the_one_engine():
    assert "issue_core.storage.sqlite" in GRAPH["issue_core.backends.local.store"]
    assert "issue_core.storage" in GRAPH["issue_core.server.outbox"]


def test_the_store_repositories_never_name_an_engine():
    """Only store.py (opening the file) knows SQLite; the repositories and the query ask the
    connection for its dialect, so a PostgreSQL store can reuse them unchanged."""
    naming = sorted(
        f"{module}: {target}"
        for module, targets in GRAPH.items()
        if _under(module, "issue_core.backends.local")
        and module != "issue_core.backends.local.store"
        for target in targets
        if target == "issue_core.storage.sqlite"
    )
    assert naming == []
    for name in (
        "issues",
        "labels",
        "users",
        "query",
        "backend",
        "search",
        "comments",
        "comment_feed",
    ):
        source = (PACKAGE / "backends" / "local" / f"{name}.py").read_text(encoding="utf-8")
        assert "SQLITE" not in source, name


def test_the_full_text_index_is_kept_in_one_module_through_the_dialect():
    """The search index is named only by ``search.py`` (and the schema that creates it), and
    its upkeep and match are spelled by the dialect: FTS5's ``rowid``/``MATCH`` appear in no
    repository, so a PostgreSQL dialect can keep a ``tsvector`` instead."""
    spelling = sorted(
        f"{path.name}: {word}"
        for path in (PACKAGE / "backends" / "local").glob("*.py")
        if path.name not in ("search.py", "schema.py")
        for word in ("issues_fts", "fts5", "MATCH", "rowid =", "(rowid")
        if word in path.read_text(encoding="utf-8")
    )
    assert spelling == []
    search = (PACKAGE / "backends" / "local" / "search.py").read_text(encoding="utf-8")
    assert "rowid" not in search and "MATCH" not in search


def test_the_local_store_never_imports_the_server():
    assert _violations(("issue_core.backends.local",), ("issue_core.server",)) == []


def test_only_the_feed_records_that_an_issue_changed():
    """``feed.touch()`` is the one writer of "this issue changed" (version + 1, updated_at,
    change_seq), and the feed the one taker of the change_seq counter: a new writer elsewhere
    would bypass the event log that hooks in there."""

    def writes_a_change(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return "version + 1" in node.value
        return isinstance(node, ast.Call) and any(
            isinstance(arg, ast.Constant) and arg.value == "change_seq" for arg in node.args
        )

    writers = {
        path.name
        for path in (PACKAGE / "backends" / "local").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if writes_a_change(node)
    }
    assert writers == {"feed.py"}


def test_backends_never_import_a_front_end():
    assert _violations(("issue_core.backends",), FRONT_ENDS) == []


def test_the_local_store_and_the_forges_never_import_each_other():
    assert _violations(("issue_core.backends.local",), FORGE) == []
    assert _violations(FORGE, ("issue_core.backends.local",)) == []


def test_the_forge_base_imports_no_forge_of_its_own():
    assert "issue_core.backends.forge.feed" in GRAPH
    assert "issue_core.backends.forge.sync_reads" in GRAPH
    assert "issue_core.backends.forge.events" in GRAPH  # the event log's shared mapping
    assert "issue_core.backends.forge.event_stream" in GRAPH
    forges = (
        "issue_core.backends.gitea",
        "issue_core.backends.github",
        "issue_core.backends.gitlab",
    )
    assert _violations(("issue_core.backends.forge",), forges) == []


def test_the_forges_never_import_each_other():
    """A forge's quirks stay its own; what two forges share belongs in ``forge``."""
    assert "issue_core.backends.gitlab.backend" in GRAPH
    assert "issue_core.backends.github.backend" in GRAPH
    assert "issue_core.backends.gitea.events" in GRAPH
    assert "issue_core.backends.github.events" in GRAPH
    assert "issue_core.backends.gitlab.events" in GRAPH
    forges = (
        "issue_core.backends.gitea",
        "issue_core.backends.github",
        "issue_core.backends.gitlab",
    )
    for forge in forges:
        others = tuple(other for other in forges if other != forge)
        assert _violations((forge,), others) == [], forge


def test_the_server_never_imports_the_cli():
    assert _violations(("issue_core.server",), ("issue_core.cli",)) == []


def _probes(path: Path) -> list[str]:
    """``getattr``/``hasattr`` calls on a backend: capabilities and the interface say what a
    backend can do, so nothing needs to probe for a method."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and node.args
            and "backend" in ast.unparse(node.args[0]).lower()
        ):
            found.append(f"{_module_name(path)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_nothing_probes_a_backend_with_getattr_or_hasattr():
    assert [probe for path in sorted(PACKAGE.rglob("*.py")) for probe in _probes(path)] == []


def test_the_service_never_imports_a_front_end_or_click():
    assert _violations(("issue_core.service",), FRONT_ENDS) == []
    clicky = sorted(
        module
        for module, tree in TREES.items()
        if _under(module, "issue_core.service") and "click" in _top_level_imports(tree)
    )
    assert clicky == []


def test_the_service_opens_backends_only_through_runtime():
    assert RUNTIME in GRAPH
    opening = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _under(module, "issue_core.service") and module != RUNTIME
        for target in targets
        if _under(target, "issue_core.backends")
    )
    assert opening == []


# The two places a front end reaches past the service, each for a reason of its own:
FRONT_END_EXCEPTIONS = {
    # ``issue serve`` / ``issue outbox`` are the CLI face of the server: they start it and open
    # its state db (the outbox use cases take that store and its locks as arguments).
    ("issue_core.cli.server", "issue_core.server"),
    # ``issue mcp`` is the CLI face of the MCP server: it checks the tool names and starts it.
    ("issue_core.cli.mcp", "issue_core.mcp"),
    # The server's own database (claims, the outbox) runs on the one SQL engine.
    ("issue_core.server.outbox", "issue_core.storage"),
    ("issue_core.server.timings", "issue_core.storage"),
    # --synchronous normal: the server checkpoints its own databases' WALs on a thread.
    ("issue_core.server.checkpointer", "issue_core.storage"),
}


def test_front_ends_import_only_the_service_core_their_own_modules_and_the_registry():
    """A front end (CLI, server, Python API) is parse -> call the service -> render: what it
    imports of issue-core is ``service/``, ``core/``, its own package and the backend registry,
    so an MCP server or a web board gets every use case without copying one."""
    assert "issue_core.cli.server" in GRAPH and "issue_core.server.outbox" in GRAPH
    beyond = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for front_end in FRONT_ENDS
        if _under(module, front_end)
        for target in targets
        if not _under(target, front_end, "issue_core.service", "issue_core.core")
        and target not in ("issue_core.backends", "issue_core._version")
        and not any(
            module == allowed and _under(target, reached)
            for allowed, reached in FRONT_END_EXCEPTIONS
        )
    )
    assert beyond == []


def test_front_ends_and_the_service_see_backends_only_through_the_registry():
    """A front end names a backend by its configured type; the classes stay behind the
    registry (``issue_core.backends``), so a new backend needs no front-end change."""
    reaching = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _under(module, *FRONT_ENDS, "issue_core.service")
        for target in targets
        if _under(target, "issue_core.backends") and target != "issue_core.backends"
    )
    assert reaching == []


def test_only_runtime_constructs_backends_outside_the_backends_package():
    constructing = sorted(
        f"{module}: {call}"
        for module, tree in TREES.items()
        if not _under(module, "issue_core.backends") and module != RUNTIME
        for call in _constructs_a_backend(tree)
    )
    assert constructing == []
    assert _constructs_a_backend(TREES[RUNTIME]) == ["backend_class(...)()"]


NEVER_ON_THE_CLI_PATH = (
    "issue_core.backends._http",
    "issue_core.backends.forge",
    "issue_core.backends.gitea",
    "issue_core.backends.github",
    "issue_core.backends.gitlab",
    "issue_core.server",
    # the query language (``issue list -q``) loads only for a query
    "issue_core.core.query",
    # `issue config detect` only: the server probe (httpx) and the detection use case
    "issue_core.service.forge_probe",
    "issue_core.service.detect",
    "issue_core.cli.config_detect",
    "httpx",
    "pydantic",
    "fastapi",
    "uvicorn",
    "jq",
    "jsonschema",
    "difflib",
    # only a search needs the search rules; no plain command pays for dataclasses
    "issue_core.core.search",
    "dataclasses",
    # only `issue list -q` pays for the query language and its SQL
    "issue_core.core.query",
    "issue_core.backends.local.query_sql",
    # only `issue sync` loads the sync engine
    "issue_core.service.sync",
    "issue_core.cli.sync",
    # `issue mcp` only: the MCP SDK and the server over it
    "mcp",
    "mcp_types",
    "issue_core.mcp",
    "issue_core.cli.mcp",
)
QUERY_LANGUAGE = ("issue_core.core.query", "issue_core.backends.local.query_sql")
# reading issues needs no label, milestone, comment or search-index repository (loaded lazily)
NOT_FOR_READING = (
    "issue_core.backends.local.search",
    "issue_core.backends.local.labels",
    "issue_core.backends.local.milestones",
    "issue_core.backends.local.comments",
    "issue_core.backends.local.comment_feed",
)


def _loaded_by(
    tmp_path: Path, argv: list[str], unwanted: tuple[str, ...], before: Any = None
) -> tuple[str, str]:
    """Run ``issue ARGV`` in a fresh process on a store holding #1 (after ``before()``, if
    given); what of ``unwanted`` it imported (as a line ``LOADED [...]``), and its stdout."""
    code = (
        "import sys\n"
        "from issue_core.cli.main import cli\n"
        "try:\n"
        f"    cli.main({argv!r}, prog_name='issue')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"unwanted = {unwanted!r}\n"
        "loaded = sorted(m for m in sys.modules"
        " if any(m == u or m.startswith(u + '.') for u in unwanted))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("ISSUE_CORE_BACKEND", None)
    subprocess.run(
        [sys.executable, "-m", "issue_core.cli.main", "create", "one", "--label", "bug"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=True,
    )
    if before is not None:
        before()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    line = next((row for row in out.stderr.splitlines() if row.startswith("LOADED")), "")
    assert line, out.stderr
    return line, out.stdout


@pytest.mark.parametrize("argv", [["list"], ["list", "--format", "json"], ["show", "1"]])
def test_the_local_read_path_loads_no_http_server_or_validation(tmp_path, argv):
    """What ``issue list`` (and show) on the local store really imports, in a fresh process."""
    # tmp_path is no git repository: the forge note's check is not even imported
    outside_git = ("issue_core.cli.forge_hint", "issue_core.core.remotes")
    line, stdout = _loaded_by(tmp_path, argv, NEVER_ON_THE_CLI_PATH + NOT_FOR_READING + outside_git)
    assert "one" in stdout  # the command really ran
    assert line == "LOADED []"


def test_only_list_with_a_query_loads_the_query_language(tmp_path):
    """``issue list -q`` loads the language and its SQL, and still nothing of HTTP, the server
    or validation; the query's words load the search rules and index, as ``--search`` does."""
    query = 'is:open label:bug -label:wontfix priority:<=4 updated:>7d OR "one"'
    # Click tries every short flag as a long one first and builds its "no such option" error,
    # which imports difflib: that is any short flag's cost (-s, -l ...), not the query's.
    allowed = (*QUERY_LANGUAGE, "issue_core.core.search", "difflib")
    unwanted = tuple(m for m in NEVER_ON_THE_CLI_PATH if m not in allowed)
    reading = tuple(m for m in NOT_FOR_READING if m != "issue_core.backends.local.search")
    line, stdout = _loaded_by(tmp_path, ["list", "-q", query], unwanted + reading)
    assert "one" in stdout
    assert line == "LOADED []"
    line, _ = _loaded_by(tmp_path, ["list", "-q", query], QUERY_LANGUAGE)
    assert "issue_core.core.query.parser" in line and "query_sql" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "two", "--label", "bug", "--label", "new"],
        ["edit", "1", "--title", "renamed", "--add-label", "bug"],
        ["close", "1", "--comment", "done"],
        ["comment", "1", "a note"],
        ["meta", "set", "1", "owner=alice", "size=3"],
        ["meta", "get", "1"],
        ["dep", "list", "1"],
        ["ready"],
        ["events", "1"],
        ["watch", "--since", "0", "--no-follow"],
        ["watch", "--until-change", "--since", "0", "--json", "kind"],
    ],
)
def test_the_local_write_path_loads_no_http_server_or_dataclasses(tmp_path, argv):
    line, stdout = _loaded_by(tmp_path, argv, NEVER_ON_THE_CLI_PATH)
    assert stdout  # the command really ran (its confirmation line)
    assert line == "LOADED []"


def test_mcp_help_loads_neither_the_sdk_nor_the_server(tmp_path):
    """``issue mcp --help`` is a plain command's help: the SDK loads only when it serves."""
    unwanted = ("mcp", "mcp_types", "issue_core.mcp", "pydantic", "starlette", "anyio")
    line, stdout = _loaded_by(tmp_path, ["mcp", "--help"], unwanted)
    assert "--read-only" in stdout and line == "LOADED []"


MCP = "issue_core.mcp"
# The one place the MCP server touches a backend object itself: closing it when it stops.
MCP_BACKEND_CALLS = {("issue_core.mcp.session", "close")}


def _names_a_backend(node: ast.expr) -> bool:
    """``backend`` or ``something.backend``: a method called on it is a backend call."""
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return "backend" in name.lower()


def test_the_mcp_tools_reach_issue_core_only_through_the_service():
    """The MCP server is parse -> call a ``service/`` use case -> shape: of issue-core it
    imports the service, the domain (``core/``) and itself, not even the backend registry, and
    no module of it calls a backend's methods (the use cases do)."""
    assert "issue_core.mcp.reads" in GRAPH and "issue_core.mcp.writes" in GRAPH
    beyond = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _under(module, MCP)
        for target in targets
        if not _under(target, MCP, "issue_core.service", "issue_core.core", "issue_core._version")
    )
    assert beyond == []
    calls = sorted(
        f"{module}:{node.lineno} {ast.unparse(node.func)}"
        for module, tree in TREES.items()
        if _under(module, MCP)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and _names_a_backend(node.func.value)
        and (module, node.func.attr) not in MCP_BACKEND_CALLS
    )
    assert calls == []
    uses_the_service = {
        module for module, targets in GRAPH.items() if _under(module, MCP)
        and any(_under(t, "issue_core.service") for t in targets)
    }  # fmt: skip
    assert {"issue_core.mcp.reads", "issue_core.mcp.writes"} <= uses_the_service


def test_the_forge_hint_reads_git_config_and_loads_nothing_more(tmp_path):
    """In a repository on github.com with nothing configured, ``issue list`` says once how to
    connect it: that costs reading .git/config, not the detection, ssh config or HTTP."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    def add_remote() -> None:
        subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin",
                        "git@github.com:acme/widgets.git"], check=True)  # fmt: skip

    unwanted = (*NEVER_ON_THE_CLI_PATH, "fnmatch", "issue_core.core.environment")
    line, stdout = _loaded_by(tmp_path, ["list"], unwanted, before=add_remote)
    assert "one" in stdout and line == "LOADED []"
    assert (tmp_path / ".cache" / "issue-core" / "forge-hints").is_file()  # it was said


def test_only_detection_asks_a_server_what_it_is():
    """The forge probe (httpx, to a host not trusted yet) is reached only through
    ``service.detect``, and the remote parsing it starts from stays pure: it imports no more
    than ``os`` and ``fnmatch`` (so the start-up path can use it)."""
    probing = sorted(
        m for m, targets in GRAPH.items() if "issue_core.service.forge_probe" in targets
    )
    assert probing == ["issue_core.service.detect"]
    assert _top_level_imports(TREES["issue_core.core.remotes"]) <= {"__future__", "os", "fnmatch"}


def test_the_server_creates_a_batch_only_through_service_ingest():
    """The ingestion use case is in one place: no server module calls ``bulk_create`` (the
    pipeline's stage hands its batch to ``service.ingest.create_batch``), and the failure policy
    a first attempt and an outbox attempt share is ``service.failures``."""
    calls = sorted(
        module
        for module, tree in TREES.items()
        if _under(module, "issue_core.server")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "bulk_create"
    )
    assert calls == []
    assert "issue_core.service.ingest" in GRAPH["issue_core.server.writer"]
    assert "issue_core.service.failures" in GRAPH["issue_core.server.delivery"]


HTTP_AND_VALIDATION = ("pydantic", "pydantic_core", "fastapi", "starlette", "uvicorn")


def test_the_service_imports_no_web_framework_or_validation_library():
    """The use cases take plain data (``service.tasks.TaskInput``): a NATS consumer or another
    front end runs ingestion without the HTTP layer."""
    importing = sorted(
        f"{module} imports {name}"
        for module, tree in TREES.items()
        if _under(module, "issue_core.service")
        for name in _top_level_imports(tree) & set(HTTP_AND_VALIDATION)
    )
    assert importing == []


def test_the_ingestion_use_case_runs_without_the_http_layer():
    """In a fresh process: preparing a task and its row loads neither the server, pydantic nor
    the web framework."""
    code = (
        "import sys\n"
        "from issue_core.service.ingest import RequestContext, prepare\n"
        "from issue_core.service.tasks import TaskInput\n"
        "prepared = prepare(TaskInput(title='t', idempotency_key='k'), RequestContext('r', None),"
        " 'main')\n"
        "assert prepared.row.idempotency_key == 'k'\n"
        f"unwanted = {('issue_core.server', *HTTP_AND_VALIDATION)!r}\n"
        "print(sorted(m for m in sys.modules"
        " if any(m == u or m.startswith(u + '.') for u in unwanted)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_server_prepares_and_claims_only_through_service_ingest():
    """prepare → claim key → create batch → record is in ``service/ingest.py``: the endpoint
    prepares through it, the pipeline claims and records through it, and no other server module
    inserts claims (``claim_many``) or derives keys itself."""
    assert "issue_core.service.ingest" in GRAPH["issue_core.server.endpoint"]
    assert "issue_core.service.ingest" in GRAPH["issue_core.server.pipeline"]
    claiming = sorted(
        module
        for module, tree in TREES.items()
        if _under(module, "issue_core.server") and module != "issue_core.server.outbox"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("claim_many", "idempotency_key_for")
    )
    assert claiming == []


def test_the_ingest_endpoint_imports_no_web_framework():
    """``server/endpoint.py`` holds ingestion's pipeline, configuration and state apart from
    HTTP: a consumer of another transport calls it without FastAPI."""
    framework = _top_level_imports(TREES["issue_core.server.endpoint"])
    assert not framework & {"fastapi", "starlette", "uvicorn"}
    assert "issue_core.server.app" not in GRAPH["issue_core.server.endpoint"]


def test_the_sync_engine_is_a_use_case_that_opens_no_backend():
    """``service/sync`` gets connected backends from its front end: it reaches them only
    through the interface (no backend module, no registry, no runtime), and keeps its state on
    the one SQL engine."""
    sync_modules = [m for m in GRAPH if _under(m, "issue_core.service.sync")]
    assert "issue_core.service.sync.engine" in sync_modules
    reaching = sorted(
        f"{module} imports {target}"
        for module in sync_modules
        for target in GRAPH[module]
        if _under(target, "issue_core.backends", RUNTIME)
    )
    assert reaching == []
    assert "issue_core.storage" in GRAPH["issue_core.service.sync.state"] or (
        "issue_core.storage.sqlite" in GRAPH["issue_core.service.sync.state"]
    )
