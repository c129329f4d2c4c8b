"""What the installed ``issue`` command does when its output cannot be written, or its input
is not what it can take: a clear one-line error and a documented exit code, never a traceback.

Run in subprocesses, as users and agents run it: closed pipes, closed stdout and /dev/full
only behave like this in a real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ISSUE = str(Path(sys.executable).with_name("issue"))
HUGE = str(2**63)


@pytest.fixture
def env(git_project: Path) -> dict[str, str]:
    environ = dict(os.environ)
    environ.pop("PYTHONIOENCODING", None)
    # The store exists up front, so no "created local store" note joins the stderr checked here.
    subprocess.run([ISSUE, "init"], env=environ, check=True, capture_output=True)
    return environ


def run(
    args: list[str | bytes], env: dict[str, str], *, stdin: bytes = b"", **kw: object
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [ISSUE, *args], input=stdin, capture_output="stdout" not in kw, env=env, **kw
    )


def titles(env: dict[str, str]) -> list[str]:
    out = run(["list", "--state", "all", "--format", "json"], env).stdout
    return [item["title"] for item in json.loads(out)]


# --------------------------------------------------------------------------- before any write

WRITES = [
    ["create", "new issue"],
    ["edit", "1", "--title", "changed"],
    ["close", "1"],
    ["comment", "1", "hello"],
    ["label", "create", "fresh"],
    ["milestone", "create", "m9"],
]


@pytest.mark.parametrize("args", WRITES, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize(
    "bad", [["--jq", ".["], ["--json", "nope"], ["--format", "yaml"]], ids=lambda b: b[0]
)
def test_bad_output_options_fail_before_anything_is_written(env, args, bad):
    assert run(["create", "first"], env).returncode == 0
    before = run(["show", "1", "--comments", "--format", "json"], env).stdout
    labels = run(["label", "list", "--format", "json"], env).stdout
    result = run([*args, *bad], env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == b""
    assert titles(env) == ["first"]
    assert run(["show", "1", "--comments", "--format", "json"], env).stdout == before
    assert run(["label", "list", "--format", "json"], env).stdout == labels


# --------------------------------------------------------------------------- after a write


def test_jq_failing_on_a_created_issue_says_it_was_created(env):
    result = run(["create", "made", "--jq", ".title.x"], env)
    assert result.returncode == 9
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "output_failed" and error["details"] == {"committed": True}
    assert "committed (created #1 made)" in error["message"]
    assert "do not repeat" in error["hint"]
    assert titles(env) == ["made"]


def test_full_disk_on_stdout_after_a_write_says_it_was_committed(env):
    with open("/dev/full", "wb") as full:
        result = run(["create", "on a full disk"], env, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 9
    line = result.stderr.decode()
    assert line.count("\n") == 1 and "Traceback" not in line
    assert "the change was committed (created #1 on a full disk)" in line
    assert "No space left on device" in line
    assert titles(env) == ["on a full disk"]


def closed_pipe() -> int:
    """A pipe whose reader is already gone: every write gets EPIPE."""
    reader, writer = os.pipe()
    os.close(reader)
    return writer


def test_closed_pipe_after_a_write_says_it_was_committed(env):
    writer = closed_pipe()
    try:
        result = run(["create", "piped"], env, stdout=writer, stderr=subprocess.PIPE)
    finally:
        os.close(writer)
    assert result.returncode == 9
    assert "the change was committed (created #1 piped)" in result.stderr.decode()
    assert titles(env) == ["piped"]


def test_closed_pipe_on_a_read_is_quiet(env):
    run(["create", "x"], env)
    writer = closed_pipe()
    try:
        result = run(["list"], env, stdout=writer, stderr=subprocess.PIPE)
    finally:
        os.close(writer)
    assert result.returncode == 141
    assert result.stderr == b""


def test_head_closing_the_pipe_is_quiet(env):
    for n in range(3):
        run(["create", f"issue {n}"], env)
    result = subprocess.run(
        f"'{ISSUE}' list | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        env=env,
    )
    assert result.returncode in (0, 141)
    assert result.stderr == b""
    assert result.stdout.startswith(b"NUMBER")


def test_full_disk_on_a_read_is_a_clean_error(env):
    run(["create", "x"], env)
    with open("/dev/full", "wb") as full:
        result = run(["list"], env, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 9
    assert (
        result.stderr.decode() == "issue: error: cannot write the output: No space left on device\n"
    )


@pytest.mark.parametrize("args", [["list"], ["create", "never written"]])
def test_closed_stdout_is_refused_before_anything_runs(env, args):
    result = subprocess.run(
        [ISSUE, *args],
        stdout=subprocess.DEVNULL,
        capture_output=False,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 2
    assert result.stderr.decode().startswith("issue: error: stdout is closed; nothing was done")
    assert titles(env) == []


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args",
    [
        ["show", HUGE],
        ["edit", HUGE, "--title", "t"],
        ["close", HUGE],
        ["comment", HUGE, "x"],
        ["list", "--limit", HUGE],
        ["list", "--limit", "1" + "0" * 40],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_numbers_too_large_are_usage_errors(env, args):
    result = run(args, env)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert message.startswith("issue: error: ") and "internal" not in message
    assert "2^63-1" in message


def test_largest_number_is_a_clean_not_found(env):
    result = run(["show", str(2**63 - 1)], env)
    assert result.returncode == 3, result.stderr


def test_non_utf8_argument_is_a_usage_error(env):
    result = run([b"create", b"caf\xe9"], env)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "issue: error: argument 2 is not valid UTF-8: caf\\udce9 "
        "(issue text, names and options must be UTF-8)\n"
    )
    assert titles(env) == []


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_non_utf8_stdin_for_a_comment_is_a_usage_error(env, locale):
    run(["create", "x"], env)
    result = run(["comment", "1", "-"], {**env, "LC_ALL": locale}, stdin=b"bad \xff\xfe byte")
    assert result.returncode == 2
    assert "stdin is not UTF-8 text (byte 5)" in result.stderr.decode()
    shown = json.loads(run(["show", "1", "--format", "json"], env).stdout)
    assert shown["comments_count"] == 0


def test_text_the_stdout_encoding_cannot_hold_still_prints_escaped(env):
    title = "日本語 \u202e Ωmega"
    run(["create", title], env)
    latin = {**env, "PYTHONIOENCODING": "latin-1"}
    table = run(["list"], latin)
    assert table.returncode == 0, table.stderr
    assert b"\\u65e5\\u672c\\u8a9e \\u202e \\u03a9mega" in table.stdout
    card = run(["show", "1"], latin)
    assert card.returncode == 0 and b"\\u65e5" in card.stdout
    created = run(["create", "é ü 日"], latin)
    assert created.returncode == 0 and created.stdout == "created #2 é ü \\u65e5\n".encode(
        "latin-1"
    )
    as_json = run(["show", "1", "--format", "json"], latin)
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout)["title"] == title  # \\u escapes: the same text
    raw = run(["show", "1", "--jq", ".title"], latin)
    assert raw.returncode == 0 and raw.stdout == b"\\u65e5\\u672c\\u8a9e \\u202e \\u03a9mega\n"


def test_a_table_stays_aligned_when_its_text_prints_as_escapes(env):
    """The escapes are what the terminal shows, so they are what the columns are measured by."""
    run(["create", "日本 title", "--label", "one"], env)
    run(["create", "plain title", "--label", "two"], env)
    table = run(["list"], {**env, "PYTHONIOENCODING": "latin-1"})
    assert table.returncode == 0, table.stderr
    lines = table.stdout.decode("latin-1").splitlines()
    assert "\\u65e5\\u672c title" in lines[2]  # 18 columns as printed, not 10
    assert [line.index(label) for line, label in zip(lines[1:], ["two", "one"], strict=True)] == [
        lines[0].index("LABELS")
    ] * 2, lines
