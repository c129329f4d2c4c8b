"""The local store on filesystems that refuse writes, met as real `issue` processes meet them.

* A read-only filesystem: a read-only bind mount in a private mount namespace (``unshare -m``),
  which refuses writes to root too (EROFS) and vanishes with the namespace.
* No write permission (``chmod -w``): run as root, the commands run without CAP_DAC_OVERRIDE
  (``setpriv``), so the permission bits bind them as they bind any user.
* A full disk: a small tmpfs in a private mount namespace, filled up with a file.

Each mechanism is probed first; a test skips, naming what the machine does not allow, only when
its probe fails. Nothing here mounts anything outside a namespace that dies with the test.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git_init, subprocess_env

pytestmark = pytest.mark.e2e

ISSUE = str(Path(sys.executable).parent / "issue")

# Runs inside the namespace: set-up shell steps and `issue` calls, results as JSON in a file
# outside the namespace's mounts.
DRIVER = """
import json, subprocess, sys
spec = json.load(open(sys.argv[1]))
results = []
for kind, arg, cwd in spec["steps"]:
    if kind == "sh":
        argv, env = ["sh", "-ec", arg], None
    else:
        argv, env = [spec["issue"], *arg], spec["env"]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    results.append({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr})
    if kind == "sh" and done.returncode:
        break
json.dump(results, open(spec["out"], "w"))
"""


# Root makes a mount namespace directly; anyone else through a user namespace (-r), where the
# machine allows those.
UNSHARE = ("unshare", "-m", "--") if os.geteuid() == 0 else ("unshare", "-r", "-m", "--")


@functools.cache
def _namespace_problem() -> str | None:
    """Why mount namespaces with tmpfs and read-only bind mounts cannot be used, or None."""
    if shutil.which("unshare") is None:
        return "no unshare(1)"
    probe = Path(os.environ.get("TMPDIR", "/tmp"))
    script = (
        'd=$(mktemp -d "$0/issue-core-probe.XXXXXX"); trap \'rmdir "$d"\' EXIT; '
        'mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && '
        'mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" "$d" && umount "$d"'
    )
    done = subprocess.run(
        [*UNSHARE, "sh", "-c", script, str(probe)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode:
        return f"mount namespaces are not available here: {done.stderr.strip()[:200]}"
    return None


@pytest.fixture
def namespaces() -> None:
    problem = _namespace_problem()
    if problem:
        pytest.skip(problem)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return subprocess_env(tmp_path / "config", "tester")


def run(*args: str, cwd: Path, env: dict[str, str], prefix: tuple[str, ...] = ()) -> Any:
    return subprocess.run(
        [*prefix, ISSUE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def in_namespace(tmp_path: Path, env: dict[str, str], steps: list[tuple]) -> list[dict]:
    """Run ``steps`` (("sh", script, cwd) or ("issue", [args], cwd)) in one private mount
    namespace, so mounts made by the first steps are seen by the later ones and by no one
    else."""
    spec = tmp_path / "spec.json"
    out = tmp_path / "results.json"
    normalised = [(kind, arg, str(cwd)) for kind, arg, cwd in steps]
    spec.write_text(
        json.dumps({"steps": normalised, "issue": ISSUE, "env": env, "out": str(out)}),
        encoding="utf-8",
    )
    done = subprocess.run(
        [*UNSHARE, sys.executable, "-c", DRIVER, str(spec)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    for (kind, arg, _), result in zip(steps, results, strict=False):
        if kind == "sh":
            assert result["rc"] == 0, f"set-up step {arg!r} failed: {result['stderr']}"
    assert len(results) == len(steps)
    return results


def assert_ok(result: dict) -> dict:
    assert result["rc"] == 0, result["stderr"]
    assert "Traceback" not in result["stderr"]
    return result


def assert_store_error(result: dict, *words: str, code: int = 8) -> str:
    """Exit 8, nothing on stdout, exactly one line on stderr containing ``words``."""
    assert result["rc"] == code, (result["rc"], result["stderr"])
    assert result["stdout"] == ""
    line = result["stderr"]
    assert line.startswith("issue: error: ") and line.count("\n") == 1, line
    for word in words:
        assert word in line, line
    return line


def seed(repo: Path, env: dict[str, str]) -> None:
    for args in (
        ("create", "First", "--label", "bug", "--description", "body text"),
        ("create", "Second"),
        ("comment", "1", "a comment"),
        ("milestone", "create", "v1"),
    ):
        assert run(*args, cwd=repo, env=env).returncode == 0


READS = [
    ["list", "--format", "json"],
    ["show", "1", "--format", "json"],
    ["label", "list", "--format", "json"],
    ["milestone", "list", "--format", "json"],
    ["list", "--search", "comment", "--format", "json"],
    ["next", "--format", "json"],
    ["ready", "--format", "json"],
    ["events", "--format", "json"],
]
WRITES = [
    ["create", "New"],
    ["edit", "1", "--title", "Changed"],
    ["comment", "1", "more"],
    ["close", "2"],
    ["label", "create", "new-label"],
]


def reads_before(repo: Path, env: dict[str, str]) -> list[str]:
    outputs = []
    for args in READS:
        result = run(*args, cwd=repo, env=env)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    return outputs


def store_files(repo: Path) -> dict[str, bytes]:
    folder = repo / ".issue-core"
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


# --------------------------------------------------------------------- read-only filesystem


def test_read_only_filesystem_reads_work_and_writes_exit_8(namespaces, tmp_path, env):
    repo = git_init(tmp_path / "repo")
    seed(repo, env)
    expected = reads_before(repo, env)
    before = store_files(repo)
    assert set(before) == {".gitignore", "issues.db"}  # closed cleanly: no -wal, no -shm

    remount = f'mount --bind "{repo}" "{repo}" && mount -o remount,bind,ro "{repo}" "{repo}"'
    steps: list[tuple] = [("sh", remount, tmp_path)]
    steps += [("issue", args, repo) for args in READS]
    steps += [("issue", args, repo) for args in WRITES]
    steps += [("issue", ["create", "New", "--format", "json"], repo)]
    steps += [("issue", ["backend", "test"], repo)]
    steps += [("sh", "! touch .issue-core/probe 2>/dev/null", repo)]  # really read-only
    results = in_namespace(tmp_path, env, steps)[1:]

    reads, writes = results[: len(READS)], results[len(READS) : -3]
    as_json, backend_test = results[-3], results[-2]
    assert "writable: read-only filesystem" in backend_test["stdout"]
    assert backend_test["rc"] == 6  # the store's state, not the credentials (5)
    assert [assert_ok(r)["stdout"] for r in reads] == expected
    for result in writes:
        assert_store_error(result, "is read-only (read-only filesystem)", "nothing was written")
    error = json.loads(as_json["stderr"])["error"]
    assert (error["code"], error["exit_code"]) == ("store_read_only", 8)
    assert store_files(repo) == before  # not a byte changed, no file added


def test_read_only_filesystem_without_a_store_reads_empty_and_cannot_create(
    namespaces, tmp_path, env
):
    repo = git_init(tmp_path / "repo")
    remount = f'mount --bind "{repo}" "{repo}" && mount -o remount,bind,ro "{repo}" "{repo}"'
    results = in_namespace(
        tmp_path,
        env,
        [
            ("sh", remount, tmp_path),
            ("issue", ["list", "--format", "json"], repo),
            ("issue", ["create", "x"], repo),
            ("issue", ["init"], repo),
        ],
    )[1:]
    assert assert_ok(results[0])["stdout"] == "[]\n"
    for result in results[1:]:
        assert_store_error(result, "cannot create the local store", "read-only filesystem")
    assert not (repo / ".issue-core").exists()


# --------------------------------------------------------------------- no write permission


@functools.cache
def _unprivileged_prefix() -> tuple[str, ...] | None:
    """A command prefix under which permission bits apply (None: none available)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        return None
    prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")
    done = subprocess.run([*prefix, sys.executable, "-c", "pass"], capture_output=True)
    return prefix if done.returncode == 0 else None


@pytest.mark.parametrize(
    ("locked", "reason"),
    [
        ("file", "no write permission on the file"),
        ("folder", "no write permission on its folder"),
        ("both", "no write permission on the file"),
    ],
)
def test_store_without_write_permission_reads_work_and_writes_exit_8(tmp_path, env, locked, reason):
    prefix = _unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE (no setpriv)")
    repo = git_init(tmp_path / "repo")
    seed(repo, env)
    expected = reads_before(repo, env)
    folder, db = repo / ".issue-core", repo / ".issue-core" / "issues.db"
    before = db.read_bytes()
    if locked in ("file", "both"):
        db.chmod(0o444)
    if locked in ("folder", "both"):
        folder.chmod(0o555)
    try:
        reads = [run(*args, cwd=repo, env=env, prefix=prefix) for args in READS]
        writes = [run(*args, cwd=repo, env=env, prefix=prefix) for args in WRITES]
    finally:
        folder.chmod(0o755)
        db.chmod(0o600)
    as_dicts = [
        {"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr} for r in reads + writes
    ]
    assert [assert_ok(r)["stdout"] for r in as_dicts[: len(READS)]] == expected
    for result in as_dicts[len(READS) :]:
        assert_store_error(result, "is read-only", reason, "nothing was written")
    assert db.read_bytes() == before


# --------------------------------------------------------------------- full disk


def test_full_disk_reads_work_writes_exit_8_and_nothing_is_half_written(namespaces, tmp_path, env):
    disk = tmp_path / "disk"
    disk.mkdir()
    work = disk / "project"  # outside a git repository: the store goes in the current folder
    fill = f'dd if=/dev/zero of="{disk}/filler" bs=4k 2>/dev/null || true; test -s "{disk}/filler"'
    big = "x" * 60_000  # with its search index entry, more than the space left below
    steps: list[tuple] = [
        ("sh", f'mount -t tmpfs -o size=2m tmpfs "{disk}" && mkdir "{work}"', tmp_path),
        ("issue", ["create", "First", "--label", "bug"], work),
        ("issue", ["comment", "1", "hello"], work),
        ("sh", f'dd if=/dev/zero of="{disk}/reserve" bs=4k count=16 2>/dev/null', work),
        ("sh", fill, work),
        # 1. No room at all: the WAL index cannot even be made.
        ("issue", ["list", "--format", "json"], work),
        ("issue", ["show", "1", "--format", "json"], work),
        ("issue", ["label", "list", "--format", "json"], work),
        ("issue", ["create", "Second"], work),
        ("issue", ["comment", "1", "again"], work),
        # 2. 64 KiB free: room for the WAL index, not for this write, which fails inside
        # SQLite's transaction.
        ("sh", f'rm "{disk}/reserve"', work),
        ("issue", ["create", "Big", "--description", big], work),
        ("issue", ["list", "--format", "json"], work),
        # 3. Space again: nothing of the failed writes is there, numbers were not used up.
        ("sh", f'rm "{disk}/filler"', work),
        ("issue", ["create", "Second"], work),
        ("issue", ["list", "--format", "json", "--state", "all"], work),
        ("issue", ["show", "1", "--format", "json"], work),
    ]
    results = in_namespace(tmp_path, env, steps)
    by_step = dict(enumerate(results))
    assert_ok(by_step[1])
    listed, shown, labels = (assert_ok(by_step[n]) for n in (5, 6, 7))
    assert [i["title"] for i in json.loads(listed["stdout"])] == ["First"]
    assert json.loads(shown["stdout"])["comments_count"] == 1
    assert [label["name"] for label in json.loads(labels["stdout"])] == ["bug"]
    for n in (8, 9):
        assert_store_error(by_step[n], "is full", "nothing was written")
    assert_store_error(by_step[11], "is full", "nothing was written")
    assert [i["title"] for i in json.loads(assert_ok(by_step[12])["stdout"])] == ["First"]
    assert assert_ok(by_step[14])["stdout"] == "created #2 Second\n"
    final = json.loads(assert_ok(by_step[15])["stdout"])
    assert sorted((i["number"], i["title"]) for i in final) == [(1, "First"), (2, "Second")]
    assert json.loads(assert_ok(by_step[16])["stdout"])["comments_count"] == 1


def test_creating_a_store_on_a_full_disk_leaves_nothing_behind(namespaces, tmp_path, env):
    disk = tmp_path / "disk"
    disk.mkdir()
    work = disk / "project"
    fill = f'dd if=/dev/zero of="{disk}/filler" bs=1k 2>/dev/null || true; test -s "{disk}/filler"'
    results = in_namespace(
        tmp_path,
        env,
        [
            ("sh", f'mount -t tmpfs -o size=1m tmpfs "{disk}" && mkdir "{work}"', tmp_path),
            ("sh", fill, work),
            ("issue", ["create", "x"], work),
            ("issue", ["init"], work),
            ("sh", "ls -A", work),
            ("issue", ["list"], work),
            ("sh", f'rm "{disk}/filler"', work),
            ("issue", ["init", "--format", "json"], work),
            ("issue", ["create", "x"], work),
        ],
    )
    for n in (2, 3):
        assert_store_error(results[n], "cannot create the local store", "the disk is full")
        assert "nothing was created" in results[n]["stderr"]
    assert results[4]["stdout"] == ""  # no store, no temporary file, no .issue-core folder
    listed = assert_ok(results[5])
    assert listed["stdout"] == "" and listed["stderr"] == "no issues match\n"
    created = json.loads(assert_ok(results[7])["stdout"])
    assert created["created"] is True  # created afresh, not "found existing"
    assert assert_ok(results[8])["stdout"] == "created #1 x\n"
