"""``issue watch`` as people and agents run it: real ``issue`` processes against a store that
other processes write (issue 12, item 5). No timing is asserted: a line that never comes fails
after a generous guard, so a watcher that misses a change fails, and one that waits fails
nothing but the clock."""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git_init, subprocess_env

pytestmark = pytest.mark.e2e

ISSUE = str(Path(sys.executable).parent / "issue")
GUARD_S = 60  # a line that takes longer than this is taken as never coming


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return subprocess_env(tmp_path / "config", "watcher")


@pytest.fixture
def repo(tmp_path: Path, env: dict[str, str]) -> Path:
    folder = git_init(tmp_path / "repo")
    assert run("create", "watched", "--label", "bug", cwd=folder, env=env).returncode == 0
    return folder


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ISSUE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=GUARD_S
    )


def start(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ISSUE, "watch", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def next_line(process: subprocess.Popen[str]) -> dict:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], GUARD_S)
    assert ready, "the watcher printed nothing"
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else "no output"
    return json.loads(line)


def all_events(cwd: Path, env: dict[str, str]) -> list[dict]:
    out = run("events", "--since", "0", "--limit", "100000", "--format", "jsonl", cwd=cwd, env=env)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def newest_cursor(cwd: Path, env: dict[str, str]) -> str:
    return str(all_events(cwd, env)[-1]["cursor"])


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=GUARD_S)
    return process.returncode, err


def test_follow_prints_each_change_of_another_process_as_a_json_line(repo, env):
    watcher = start("--follow", "--since", newest_cursor(repo, env), cwd=repo, env=env)
    try:
        run("comment", "1", "first look", cwd=repo, env=env)
        first = next_line(watcher)
        run("--as", "reviewer", "edit", "1", "--title", "watched closely", cwd=repo, env=env)
        second = next_line(watcher)
    finally:
        code, err = stop(watcher)
    assert (first["kind"], first["data"]["body"], first["actor"]) == (
        "commented",
        "first look",
        "watcher",
    )
    assert second["kind"] == "edited" and second["actor"] == "reviewer"
    assert second["data"]["changes"]["title"] == {"before": "watched", "after": "watched closely"}
    assert int(second["cursor"]) > int(first["cursor"])
    assert set(first) == {"cursor", "issue", "issue_id", "kind", "actor", "at", "data"}
    # Ctrl-C: 130, one line, no traceback
    assert code == 130 and "Traceback" not in err and err.strip() == "issue: interrupted"


def test_until_change_waits_for_the_first_matching_event_prints_it_and_exits_0(repo, env):
    since = newest_cursor(repo, env)
    watcher = start(
        "1", "--until-change", "--kind", "commented", "--since", since, cwd=repo, env=env
    )
    run("edit", "1", "--add-label", "later", cwd=repo, env=env)
    run("create", "another", cwd=repo, env=env)
    run("comment", "2", "not this issue", cwd=repo, env=env)
    run("comment", "1", "this one", cwd=repo, env=env)
    out, err = watcher.communicate(timeout=GUARD_S)
    assert watcher.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(e["issue"], e["kind"], e["data"]["body"]) for e in lines] == [
        (1, "commented", "this one")
    ]


def test_until_change_from_a_cursor_returns_the_next_event_at_once(repo, env):
    run("comment", "1", "already there", cwd=repo, env=env)
    out = run("watch", "--until-change", "--since", "1", "--jq", ".data.body", cwd=repo, env=env)
    assert (out.returncode, out.stdout) == (0, "already there\n")


def test_until_change_timeout_exits_124_with_one_line_and_no_output(repo, env):
    # Without --since the watcher starts now: #1's created event is not for it.
    out = run("watch", "--until-change", "--timeout", "1s", cwd=repo, env=env)
    assert out.returncode == 124 and out.stdout == ""
    assert out.stderr == "issue: error: no matching event within 1s (nothing was printed)\n"
    as_json = run("watch", "--until-change", "--timeout", "1", "--json", "kind", cwd=repo, env=env)
    assert as_json.returncode == 124
    assert json.loads(as_json.stderr)["error"]["code"] == "timed_out"


def writer(folder: str, name: str, count: int, env: dict[str, str]) -> None:
    os.chdir(folder)
    os.environ.update(env)
    from issue_core.backends.local import LocalBackend

    backend = LocalBackend()
    backend.connect({"path": ".issue-core/issues.db", "identity": name})
    for n in range(count):
        backend.add_comment(1, f"{name} {n}")
    backend.close()


def test_resuming_from_a_cursor_under_concurrent_writers_loses_and_repeats_nothing(repo, env):
    """Three processes write 40 comments each while a watcher is stopped midway and resumed
    twice: once a --follow from its last cursor, then --until-change loops: the lines read are
    exactly the log, in order."""
    start_cursor = newest_cursor(repo, env)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=writer, args=(str(repo), f"w{n}", 40, env)) for n in range(3)]
    seen: list[dict] = []
    watcher = start("--follow", "--since", start_cursor, cwd=repo, env=env)
    for process in writers:
        process.start()
    try:
        while len(seen) < 30:
            seen.append(next_line(watcher))
    finally:
        watcher.kill()  # not even a clean stop: what was printed is what counts
        watcher.communicate(timeout=GUARD_S)
    watcher = start("--follow", "--since", seen[-1]["cursor"], cwd=repo, env=env)
    try:
        while len(seen) < 80:
            seen.append(next_line(watcher))
    finally:
        stop(watcher)
    while len(seen) < 120:
        out = run("watch", "--until-change", "--since", seen[-1]["cursor"], cwd=repo, env=env)
        assert out.returncode == 0, out.stderr
        seen.append(json.loads(out.stdout))
    for process in writers:
        process.join(timeout=GUARD_S)
        assert process.exitcode == 0
    log = [e for e in all_events(repo, env) if int(e["cursor"]) > int(start_cursor)]
    assert len(log) == 120
    assert [e["cursor"] for e in seen] == [e["cursor"] for e in log]
    assert seen == log
    bodies = sorted(e["data"]["body"] for e in seen)
    assert bodies == sorted(f"w{w} {n}" for w in range(3) for n in range(40))


def test_filters_select_by_issue_kind_actor_label_and_assignee(repo, env):
    run("create", "second", "--assignee", "bob", cwd=repo, env=env)  # 2
    run("--as", "agent-7", "comment", "2", "by an agent", cwd=repo, env=env)
    run("comment", "1", "on the bug", cwd=repo, env=env)

    def picked(*args: str) -> list[tuple[int, str]]:
        out = run("watch", "--since", "0", "--no-follow", *args, cwd=repo, env=env)
        assert out.returncode == 0, out.stderr
        return [(e["issue"], e["kind"]) for e in map(json.loads, out.stdout.splitlines())]

    assert picked("2") == [(2, "created"), (2, "commented")]
    assert picked("1", "2", "--kind", "commented") == [(2, "commented"), (1, "commented")]
    assert picked("--kind", "created,commented", "--actor", "agent-7") == [(2, "commented")]
    assert picked("--label", "BUG") == [(1, "created"), (1, "commented")]  # as labels: any case
    assert picked("--label", "bug", "--label", "none-such") == []
    assert picked("--assignee", "bob,carol") == [(2, "created"), (2, "commented")]
    assert picked("--actor", "@me", "--kind", "commented") == [(1, "commented")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "not-a-cursor"], "--since 'not-a-cursor' is neither a cursor nor a time"),
        (["--since", "99"], "cursor 99 is past the newest event (1)"),
        (["--kind", "commented,bogus"], "unknown event kind 'bogus'"),
        (["--timeout", "0"], "--timeout '0' is not a duration from 1s to 366d"),
        (["--interval", "0"], "Invalid value for '--interval'"),
        (["--json", "cursor,nope"], "unknown JSON field 'nope'"),
        (["0"], "Invalid value for '[NUMBERS]...'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_printed(repo, env, args, message):
    out = run("watch", "--until-change", *args, cwd=repo, env=env)
    assert out.returncode == 2, out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr


def test_a_closed_pipe_ends_the_watcher_quietly_with_141(repo, env):
    watcher = start("--follow", "--since", "0", cwd=repo, env=env)
    assert next_line(watcher)["kind"] == "created"
    assert watcher.stdout is not None
    watcher.stdout.close()  # the reader went away (`issue watch --follow | head -1`)
    run("comment", "1", "nobody reads this", cwd=repo, env=env)
    watcher.wait(timeout=GUARD_S)
    assert watcher.returncode == 141
    assert watcher.stderr is not None and watcher.stderr.read() == ""
